import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../lib/config/define-config.ts';
import { NightshiftStack } from '../../../lib/nightshift-stack.ts';
import { exampleAppConfig as exampleConfig } from '../../../local/sandbox/example-config.ts';
import {
  type DeployedApp,
  FunctionAssetError,
  loadDeployedApp,
} from '../../../local/template/deployed-app.ts';
import { resolveIntrinsics } from '../../../local/template/resolve.ts';
import {
  ACCOUNT,
  allows,
  env,
  REGION,
  removeTempDirs,
  statements,
  tempDir,
  thrown,
} from './handwritten-assembly.ts';

afterAll(removeTempDirs);

describe('loadDeployedApp', () => {
  describe('the Nightshift stack synthesized without bundling', () => {
    let app: DeployedApp;
    let assemblyDir: string;

    beforeAll(() => {
      assemblyDir = tempDir();
      const cdkApp = new App({ outdir: assemblyDir, context: { 'aws:cdk:bundling-stacks': [] } });
      new NightshiftStack(cdkApp, 'Nightshift', { config: validateConfig(exampleConfig), env });
      cdkApp.synth();
      app = loadDeployedApp(assemblyDir, env);
    });

    // The example config deploys the rollback and snapshot runbooks; these tests look at the rollback one.
    const onlyFunction = () => {
      expect(app.functions).toHaveLength(2);
      const fn = app.functions.find(
        (f) => f.environment.POWERTOOLS_SERVICE_NAME === 'nightshift-ecs-rollback',
      );
      expect(fn).toBeDefined();
      return fn!;
    };
    const onlyTable = () => {
      expect(app.tables).toHaveLength(1);
      return app.tables[0]!;
    };
    const deadLetterQueue = () => {
      expect(app.queues).toHaveLength(1);
      return app.queues[0]!;
    };

    it('selects the only stack and its environment when no stack is named', () => {
      expect(app).toMatchObject({ stackName: 'Nightshift', account: ACCOUNT, region: REGION });
    });

    it('resolves the function environment to the table name and the runbook config JSON', () => {
      const fn = onlyFunction();
      expect(fn.environment.NIGHTSHIFT_STATE_TABLE).toBe(onlyTable().tableName);
      const config = JSON.parse(fn.environment.NIGHTSHIFT_RUNBOOK_CONFIG ?? 'null') as {
        services: { serviceArn: string }[];
      };
      expect(config.services[0]?.serviceArn).toBe(
        `arn:aws:ecs:${REGION}:${ACCOUNT}:service/webhooks-prod/webhooks-api`,
      );
      expect(fn).toMatchObject({
        handler: 'index.handler',
        exportName: 'handler',
        runtime: 'nodejs24.x',
        architectures: ['arm64'],
        timeoutSeconds: 60,
        memoryMb: 256,
      });
    });

    it('attaches every policy of the role: ecs:UpdateService on the api service, dynamodb:Query on the table', () => {
      const fn = onlyFunction();
      const all = statements(fn);
      const serviceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/webhooks-prod/webhooks-api`;
      expect(all.some((s) => allows(s, 'ecs:UpdateService', serviceArn))).toBe(true);
      expect(all.some((s) => allows(s, 'dynamodb:Query', onlyTable().arn))).toBe(true);
      // The default policy (iam:PassRole is there, on the configured roles only) plus the one policy of its
      // own, DescribeAnyTaskDefinition, whose "*" is acknowledged alone.
      expect(fn.policies).toHaveLength(2);
      expect(
        all.some((s) => allows(s, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/webhooks-api-task`)),
      ).toBe(true);
      expect(all.some((s) => allows(s, 'iam:PassRole', '*'))).toBe(false);
      expect(all.some((s) => allows(s, 'ecs:DescribeTaskDefinition', '*'))).toBe(true);
      expect(fn.managedPolicyArns).toEqual([]);
      // Nightshift's roles live under /nightshift/ (the path the bus policy exempts).
      expect(fn.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/nightshift/${fn.roleName}`);
    });

    it('takes retries and the on-failure destination from the EventInvokeConfig', () => {
      const fn = onlyFunction();
      expect(fn.onFailureArn).toBe(deadLetterQueue().arn);
      expect(fn.maxRetryAttempts).toBe(2);
      expect(fn.maxEventAgeSeconds).toBe(3600);
    });

    it('leaves entryFile empty when bundling was skipped', () => {
      expect(onlyFunction().entryFile).toBe('');
    });

    it('throws FunctionAssetError naming the files looked for when requireAssets and bundling was skipped', () => {
      const error = thrown(() => loadDeployedApp(assemblyDir, { ...env, requireAssets: true }));
      expect(error).toBeInstanceOf(FunctionAssetError);
      expect(error.message).toMatch(/index\.js.*index\.mjs.*index\.cjs/);
    });

    it('resolves the rule patterns (alarms, deployments, config changes) to plain JSON, targeting the function with a dead-letter queue', () => {
      const fn = onlyFunction();
      const patterned = app.rules.filter((r) => r.pattern !== undefined);
      expect(patterned).toHaveLength(3);
      expect(app.rules.filter((r) => r.scheduleExpression === 'cron(0 3 * * ? *)')).toHaveLength(1);
      for (const rule of patterned) {
        const pattern = JSON.stringify(rule.pattern);
        expect(pattern).not.toContain('Fn::');
        expect(pattern).not.toContain('Ref');
        expect(rule).toMatchObject({ eventBusName: 'default', enabled: true });
        expect(rule.arn).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule.name}`);
        expect(rule.targets).toEqual([
          {
            id: 'Target0',
            arn: fn.arn,
            functionLogicalId: fn.logicalId,
            deadLetterArn: deadLetterQueue().arn,
            maxRetryAttempts: 8,
            maxEventAgeSeconds: 3600,
          },
        ]);
      }
      const deployments = app.rules.find((r) => r.logicalId.includes('DeploymentStateChange'));
      expect(deployments?.pattern?.resources).toContain(
        `arn:aws:ecs:${REGION}:${ACCOUNT}:service/webhooks-prod/webhooks-api`,
      );
      const changes = app.rules.find((r) => r.logicalId.includes('ConfigChange'));
      expect(changes?.pattern).toMatchObject({
        source: ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
      });
    });

    it('reads the key schema and TTL of the table', () => {
      const table = onlyTable();
      expect(table.keySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(table.attributeDefinitions).toEqual([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]);
      expect(table.ttlAttribute).toBe('expiresAt');
      expect(table.arn).toBe(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table.tableName}`);
    });

    it('resolves the alarms to the topic ARN and the names they watch', () => {
      expect(app.topics).toHaveLength(1);
      const topicArn = app.topics[0]!.arn;
      // One error alarm per function, the dead-letter alarm, the snapshots' dead-man's switch.
      expect(app.alarms).toHaveLength(4);
      for (const alarm of app.alarms) expect(alarm.properties.AlarmActions).toEqual([topicArn]);
      const dimensions = app.alarms.flatMap((a) => a.properties.Dimensions as { Value: string }[]);
      expect(dimensions.map((d) => d.Value).sort()).toEqual(
        [deadLetterQueue().queueName, ...app.functions.map((f) => f.functionName), 'rds-snapshots'].sort(),
      );
    });

    it('returns a context that resolves the rest of the template', () => {
      const queue = deadLetterQueue();
      expect(resolveIntrinsics({ 'Fn::GetAtt': [queue.logicalId, 'Arn'] }, app.context)).toBe(queue.arn);
      expect(resolveIntrinsics({ Ref: queue.logicalId }, app.context)).toBe(queue.url);
    });
  });
});
