import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../lib/config/define-config.ts';
import { NightshiftStack } from '../../../lib/nightshift-stack.ts';
import { type PolicyStatement, policyStatements } from '../../../local/iam/policy.ts';
import { exampleAppConfig as exampleConfig } from '../../../local/sandbox/example-config.ts';
import {
  CircularNameReferenceError,
  type DeployedApp,
  FunctionAssetError,
  loadDeployedApp,
  StackEnvironmentMismatchError,
  StackSelectionError,
  UnsupportedTemplateFeatureError,
} from '../../../local/template/deployed-app.ts';
import { UnknownAttributeError } from '../../../local/template/physical-names.ts';
import { resolveIntrinsics } from '../../../local/template/resolve.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const env = { account: ACCOUNT, region: REGION };

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deployed-app-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; Condition?: string }>;

interface HandwrittenStack {
  id?: string;
  environment?: string;
  resources: Resources;
  /** Asset hash → directory (relative to the assembly) and the files to put in it. */
  assets?: Record<string, { path: string; files: Record<string, string> }>;
}

/** Writes a minimal cloud assembly, shaped like `cdk synth` output, holding the given stacks. */
function writeAssembly(...stacks: HandwrittenStack[]): string {
  const dir = tempDir();
  const artifacts: Record<string, unknown> = {};
  for (const stack of stacks) {
    const id = stack.id ?? 'Tiny';
    writeFileSync(join(dir, `${id}.template.json`), JSON.stringify({ Resources: stack.resources }));
    const files: Record<string, unknown> = {};
    for (const [hash, asset] of Object.entries(stack.assets ?? {})) {
      for (const [name, text] of Object.entries(asset.files)) {
        const file = join(dir, asset.path, name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
      files[hash] = {
        source: { path: asset.path, packaging: 'zip' },
        destinations: { current: { bucketName: 'assets', objectKey: `${hash}.zip` } },
      };
    }
    writeFileSync(join(dir, `${id}.assets.json`), JSON.stringify({ version: '55.0.0', files }));
    artifacts[`${id}.assets`] = { type: 'cdk:asset-manifest', properties: { file: `${id}.assets.json` } };
    artifacts[id] = {
      type: 'aws:cloudformation:stack',
      environment: stack.environment ?? `aws://${ACCOUNT}/${REGION}`,
      properties: { templateFile: `${id}.template.json` },
      dependencies: [`${id}.assets`],
    };
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }));
  return dir;
}

const lambdaRole = {
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ],
    },
  },
};

function lambdaFunction(properties: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Code: { S3Bucket: 'assets', S3Key: 'abc123.zip' },
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
      Runtime: 'nodejs24.x',
      ...properties,
    },
  };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function statements(fn: { policies: DeployedApp['functions'][number]['policies'] }): PolicyStatement[] {
  return fn.policies.flatMap(policyStatements);
}

function allows(statement: PolicyStatement, action: string, resource: string): boolean {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return (
    statement.Effect === 'Allow' &&
    list(statement.Action).includes(action) &&
    list(statement.Resource).includes(resource)
  );
}

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
      // The default policy (PassRole on the named roles included) plus DescribeAnyTaskDefinition of its own.
      expect(fn.policies).toHaveLength(2);
      expect(all.some((s) => allows(s, 'ecs:DescribeTaskDefinition', '*'))).toBe(true);
      expect(fn.managedPolicyArns).toEqual([]);
      expect(fn.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${fn.roleName}`);
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

    it('resolves both rule patterns to plain JSON, targeting the function with a dead-letter queue', () => {
      const fn = onlyFunction();
      const patterned = app.rules.filter((r) => r.pattern !== undefined);
      expect(patterned).toHaveLength(2);
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

  describe('physical names and policy attachment', () => {
    const dir = () =>
      writeAssembly({
        resources: {
          Role: lambdaRole,
          Policy: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              PolicyName: 'RolePolicy',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
                  },
                ],
              },
              Roles: [{ Ref: 'Role' }],
            },
          },
          OtherRole: lambdaRole,
          OtherPolicy: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              PolicyName: 'OtherPolicy',
              PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
              Roles: [{ Ref: 'OtherRole' }],
            },
          },
          Queue: { Type: 'AWS::SQS::Queue' },
          Function: lambdaFunction({
            FunctionName: {
              'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, { 'Fn::GetAtt': ['Queue', 'QueueName'] }, 'fn']],
            },
          }),
        },
      });

    it('names a resource <stack>-<logicalId> when the template gives no name', () => {
      const app = loadDeployedApp(dir(), env);
      expect(app.queues[0]).toEqual({
        logicalId: 'Queue',
        queueName: 'Tiny-Queue',
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:Tiny-Queue`,
        url: `http://sqs.${REGION}.localhost/${ACCOUNT}/Tiny-Queue`,
      });
      expect(app.functions[0]).toMatchObject({
        roleLogicalId: 'Role',
        roleName: 'Tiny-Role',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/Tiny-Role`,
      });
    });

    it('uses an explicit name, resolved after the names it references', () => {
      const fn = loadDeployedApp(dir(), env).functions[0]!;
      expect(fn.functionName).toBe('Tiny-Tiny-Queue-fn');
      expect(fn.arn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:Tiny-Tiny-Queue-fn`);
    });

    it('attaches a Policy to the role its Roles reference, and no other', () => {
      const fn = loadDeployedApp(dir(), env).functions[0]!;
      expect(fn.policies).toEqual([
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:Tiny-Queue`,
            },
          ],
        },
      ]);
    });

    it('applies the defaults of a function without EventInvokeConfig, timeout or memory size', () => {
      const fn = loadDeployedApp(dir(), env).functions[0]!;
      expect(fn).toMatchObject({
        maxRetryAttempts: 2,
        maxEventAgeSeconds: 21600,
        timeoutSeconds: 3,
        memoryMb: 128,
        architectures: ['x86_64'],
        environment: {},
      });
      expect(fn.onFailureArn).toBeUndefined();
    });

    it('adds inline policies and managed policy ARNs of the role', () => {
      const app = loadDeployedApp(
        writeAssembly({
          resources: {
            Role: {
              Type: 'AWS::IAM::Role',
              Properties: {
                Policies: [
                  {
                    PolicyName: 'inline',
                    PolicyDocument: {
                      Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }],
                    },
                  },
                ],
                ManagedPolicyArns: [
                  {
                    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/ReadOnlyAccess']],
                  },
                ],
              },
            },
            Function: lambdaFunction(),
          },
        }),
        env,
      );
      expect(app.functions[0]?.policies).toEqual([
        { Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] },
      ]);
      expect(app.functions[0]?.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    });

    it('truncates a generated name to the limit of its type', () => {
      const longId = `Function${'X'.repeat(70)}`;
      const app = loadDeployedApp(
        writeAssembly({ resources: { Role: lambdaRole, [longId]: lambdaFunction() } }),
        env,
      );
      expect(app.functions[0]?.functionName).toBe(`Tiny-${longId}`.slice(0, 64));
    });

    it('throws CircularNameReferenceError when names reference each other', () => {
      const error = thrown(() =>
        loadDeployedApp(
          writeAssembly({
            resources: {
              A: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['B', 'TopicName'] } } },
              B: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::GetAtt': ['A', 'QueueName'] } } },
            },
          }),
          env,
        ),
      );
      expect(error).toBeInstanceOf(CircularNameReferenceError);
      expect(error.message).toContain('A → B → A');
    });
  });

  describe('attributes', () => {
    it('throws UnknownAttributeError naming the type and attribute of an unknown resource type', () => {
      const error = thrown(() =>
        loadDeployedApp(
          writeAssembly({
            resources: {
              Role: lambdaRole,
              Widget: { Type: 'Custom::Widget', Properties: { ServiceToken: 'arn:aws:lambda:x' } },
              Function: lambdaFunction({
                Environment: { Variables: { WIDGET: { 'Fn::GetAtt': ['Widget', 'Endpoint'] } } },
              }),
            },
          }),
          env,
        ),
      );
      expect(error).toBeInstanceOf(UnknownAttributeError);
      expect(error.message).toContain('Custom::Widget');
      expect(error.message).toContain('Endpoint');
    });

    it('throws UnknownAttributeError when a known type lacks the attribute asked for', () => {
      const error = thrown(() =>
        loadDeployedApp(
          writeAssembly({
            resources: {
              Role: lambdaRole,
              // biome-ignore lint/suspicious/noTemplateCurlyInString: an Fn::Sub template, not a JS template.
              Function: lambdaFunction({ Environment: { Variables: { X: { 'Fn::Sub': '${Role.Nope}' } } } }),
            },
          }),
          env,
        ),
      );
      expect(error).toBeInstanceOf(UnknownAttributeError);
      expect(error.message).toContain('AWS::IAM::Role');
      expect(error.message).toContain('Nope');
    });

    it('gives an unknown resource type Ref = logical id', () => {
      const app = loadDeployedApp(
        writeAssembly({
          resources: {
            Role: lambdaRole,
            Widget: { Type: 'Custom::Widget' },
            Function: lambdaFunction({ Environment: { Variables: { WIDGET: { Ref: 'Widget' } } } }),
          },
        }),
        env,
      );
      expect(app.functions[0]?.environment).toEqual({ WIDGET: 'Widget' });
    });
  });

  describe('function assets', () => {
    it('picks the handler module the bundled asset holds', () => {
      const dir = writeAssembly({
        resources: { Role: lambdaRole, Function: lambdaFunction({ Handler: 'lib/main.run' }) },
        assets: { abc123: { path: 'asset.abc123', files: { 'index.mjs': '', 'lib/main.cjs': '' } } },
      });
      const fn = loadDeployedApp(dir, { ...env, requireAssets: true }).functions[0]!;
      expect(fn.assetDir).toBe(join(dir, 'asset.abc123'));
      expect(fn.entryFile).toBe(join(dir, 'asset.abc123', 'lib', 'main.cjs'));
      expect(fn.exportName).toBe('run');
    });

    it('throws FunctionAssetError naming the files looked for when a bundled asset lacks the module', () => {
      const dir = writeAssembly({
        resources: { Role: lambdaRole, Function: lambdaFunction() },
        assets: { abc123: { path: 'asset.abc123', files: { 'other.mjs': '' } } },
      });
      const error = thrown(() => loadDeployedApp(dir, env));
      expect(error).toBeInstanceOf(FunctionAssetError);
      expect((error as FunctionAssetError).lookedFor).toEqual(
        ['index.js', 'index.mjs', 'index.cjs'].map((f) => join(dir, 'asset.abc123', f)),
      );
    });
  });

  describe('stack selection', () => {
    const twoStacks = () =>
      writeAssembly(
        { id: 'First', resources: { Queue: { Type: 'AWS::SQS::Queue' } } },
        { id: 'Second', resources: { Topic: { Type: 'AWS::SNS::Topic' } } },
      );

    it('throws StackSelectionError naming the stacks when several exist and none is named', () => {
      const error = thrown(() => loadDeployedApp(twoStacks(), env));
      expect(error).toBeInstanceOf(StackSelectionError);
      expect(error.message).toContain('First, Second');
    });

    it('loads the stack named by stackName', () => {
      const app = loadDeployedApp(twoStacks(), { ...env, stackName: 'Second' });
      expect(app.topics.map((t) => t.topicName)).toEqual(['Second-Topic']);
    });

    it('throws StackEnvironmentMismatchError when the stack was synthesized for another account', () => {
      const dir = writeAssembly({ environment: `aws://999999999999/${REGION}`, resources: {} });
      expect(() => loadDeployedApp(dir, env)).toThrow(StackEnvironmentMismatchError);
    });
  });

  describe('conditions', () => {
    it('throws UnsupportedTemplateFeatureError for a resource with a Condition', () => {
      const dir = writeAssembly({ resources: { Queue: { Type: 'AWS::SQS::Queue', Condition: 'IsProd' } } });
      expect(() => loadDeployedApp(dir, env)).toThrow(UnsupportedTemplateFeatureError);
    });

    it('throws UnsupportedTemplateFeatureError naming the path of an Fn::If', () => {
      const dir = writeAssembly({
        resources: {
          Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: { 'Fn::If': ['C', 1, 2] } } },
        },
      });
      expect(() => loadDeployedApp(dir, env)).toThrow(/Queue uses Fn::If at \$\.Properties\.DelaySeconds/);
    });
  });
});
