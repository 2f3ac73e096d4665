import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../local/events/pattern.ts';
import type { PolicyStatement } from '../../local/iam/policy.ts';
import { exampleAppConfig as exampleConfig } from '../../local/sandbox/example-config.ts';
import { resolveIntrinsics } from '../../local/template/resolve.ts';
import { granting, roleStatements } from './role-statements.ts';
import { ACCOUNT, buildStack, REGION } from './stack-fixture.ts';

const { app, template: templateOf } = buildStack();
const template = templateOf();
const json = template.toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
const ids = Object.keys(json.Resources);
const resolve = <T>(v: unknown) =>
  resolveIntrinsics(v, {
    region: REGION,
    accountId: ACCOUNT,
    refs: Object.fromEntries(ids.map((id) => [id, id])),
    attributes: Object.fromEntries(ids.map((id) => [id, { Arn: `arn:test:${id}` }])),
  }) as T;

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  > & { detail: Record<string, unknown> };

function ofType(type: string) {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

function rolloutStatements(): PolicyStatement[] {
  const role = ofType('AWS::IAM::Role').find(([id]) => id.includes('EcsRollback'));
  expect(role).toBeDefined();
  const roleId = role?.[0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap(([, p]) => resolve<{ Statement: PolicyStatement[] }>(p.Properties.PolicyDocument).Statement);
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const statementsFor = (action: string) =>
  rolloutStatements().filter((s) => asList(s.Action).includes(action));
const serviceArn = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/webhooks-prod/${name}`;

describe('NightshiftStack', () => {
  describe('cdk-nag AwsSolutions', () => {
    it('has no unacknowledged finding', () => {
      expect(() => app.synth({ force: true })).not.toThrow();
    });

    it('fails synth when a finding is not acknowledged', () => {
      const { app: bad, stack } = buildStack();
      stack.nightshift.ecsRollback?.handler.function.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
      );
      expect(() => bad.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    });
  });

  describe('house Lambda', () => {
    it('runs Node.js 24 on ARM64 with JSON logs, a timeout and kept logs', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: 60,
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    });

    it('sends failed async invocations to the DLQ after two retries, and rule deliveries too', () => {
      const [queueId] = ofType('AWS::SQS::Queue')[0] ?? [''];
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      });
      for (const [, rule] of ofType('AWS::Events::Rule')) {
        expect(rule.Properties.Targets).toEqual([
          expect.objectContaining({
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
            RetryPolicy: expect.any(Object),
          }),
        ]);
      }
    });

    it('alarms on function errors and on dead letters', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Threshold: 1,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
      });
    });
  });

  describe('IAM of the snapshot function', () => {
    const statements = () => {
      const role = ofType('AWS::IAM::Role').find(([id]) => id.includes('RdsSnapshots'));
      return ofType('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${role?.[0]}"`))
        .flatMap(([, p]) => resolve<{ Statement: PolicyStatement[] }>(p.Properties.PolicyDocument).Statement);
    };
    const resourcesFor = (action: string) =>
      statements()
        .filter((s) => asList(s.Action).includes(action))
        .flatMap((s) => asList(s.Resource));

    it('deletes only nightshift-* snapshots', () => {
      expect(resourcesFor('rds:DeleteDBSnapshot')).toEqual([
        `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:nightshift-*`,
      ]);
      expect(resourcesFor('rds:DeleteDBClusterSnapshot')).toEqual([
        `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:nightshift-*`,
      ]);
      expect(resourcesFor('rds:AddTagsToResource').every((r) => r.endsWith(':nightshift-*'))).toBe(true);
    });

    it('creates snapshots only under nightshift-* names, and modifies no database', () => {
      expect(resourcesFor('rds:CreateDBSnapshot')).toContain(
        `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:nightshift-*`,
      );
      const actions = statements().flatMap((s) => asList(s.Action));
      const rds = actions.filter((a) => a.startsWith('rds:'));
      expect(
        rds.filter((a) => /Modify|Restore|Reboot|Stop|Start|Create(?!DB(Cluster)?Snapshot)/.test(a)),
      ).toEqual([]);
      expect(actions.filter((a) => a.startsWith('rds:Delete')).sort()).toEqual([
        'rds:DeleteDBClusterSnapshot',
        'rds:DeleteDBSnapshot',
      ]);
    });

    it('pages when no snapshot run succeeded in 26 hours', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'SnapshotRunSucceeded',
        Namespace: 'Nightshift',
        Period: 3600,
        EvaluationPeriods: 26,
        DatapointsToAlarm: 26,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it('runs on the configured schedule', () => {
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    });
  });

  describe('snapshot capacity', () => {
    it('warns at synth when 5 databases at default tiers exceed the manual snapshot quota', () => {
      const { stack } = buildStack({
        ...exampleConfig,
        snapshots: { targets: { instances: ['a', 'b', 'c', 'd', 'e'] } },
      });
      Annotations.fromStack(stack).hasWarning(
        '*',
        Match.stringLikeRegexp('= 120, over the Region.s quota of 100 manual DB snapshots'),
      );
    });

    it('stays quiet within the quota', () => {
      const { stack } = buildStack({ ...exampleConfig, snapshots: { targets: { instances: ['a', 'b'] } } });
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('quota'));
    });
  });

  describe('state table', () => {
    it('is on-demand with point-in-time recovery and TTL', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      });
    });

    it('never creates the kill-switch parameter', () => {
      expect(ofType('AWS::SSM::Parameter')).toEqual([]);
    });
  });

  describe('IAM of the rollback function', () => {
    it('updates and describes only the configured services', () => {
      for (const action of ['ecs:UpdateService', 'ecs:DescribeServices']) {
        const resources = statementsFor(action).flatMap((s) => asList(s.Resource));
        expect(resources.sort()).toEqual([serviceArn('webhooks-api'), serviceArn('webhooks-worker')]);
      }
    });

    it('registers only in the configured families, and tags only when registering', () => {
      const families = [
        `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/webhooks-api:*`,
        `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/webhooks-worker:*`,
      ];
      expect(
        statementsFor('ecs:RegisterTaskDefinition')
          .flatMap((s) => asList(s.Resource))
          .sort(),
      ).toEqual(families);
      const [tag] = statementsFor('ecs:TagResource');
      expect(asList(tag?.Resource).sort()).toEqual(families);
      expect(tag?.Condition).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
    });

    it('passes only the configured roles, only to ECS tasks', () => {
      const [pass] = statementsFor('iam:PassRole');
      expect(asList(pass?.Resource).sort()).toEqual([
        'arn:aws:iam::123456789012:role/webhooks-api-task',
        'arn:aws:iam::123456789012:role/webhooks-execution',
        'arn:aws:iam::123456789012:role/webhooks-worker-task',
      ]);
      expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    });

    it('reads and writes back only the configured config parameters, and never touches KMS', () => {
      const param = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/webhooks/api/WEBHOOK_TIMEOUT_MS`;
      for (const action of ['ssm:GetParameterHistory', 'ssm:PutParameter', 'ssm:LabelParameterVersion']) {
        expect(statementsFor(action).flatMap((s) => asList(s.Resource))).toEqual([param]);
      }
      expect(rolloutStatements().filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([]);
      expect(statementsFor('ssm:GetParametersByPath')).toEqual([]);
    });

    it('a config path grants the parameters below it (acknowledged narrowly) and lists only that path', () => {
      const [api, worker] = exampleConfig.ecsRollback?.services ?? [];
      const { app: withPath, template } = buildStack({
        ...exampleConfig,
        ecsRollback: {
          ...exampleConfig.ecsRollback,
          services: [
            api,
            { ...worker, config: [{ path: '/webhooks/worker/', readsAt: 'run-time', cacheTtlSeconds: 60 }] },
          ],
        },
      } as typeof exampleConfig);
      expect(() => withPath.synth({ force: true })).not.toThrow();
      const statements = roleStatements(template(), 'EcsRollback');
      const put = granting(statements, 'ssm:PutParameter').flatMap((s) => asList(s.Resource));
      expect(put.sort()).toEqual([
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/webhooks/api/WEBHOOK_TIMEOUT_MS`,
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/webhooks/worker/*`,
      ]);
      expect(granting(statements, 'ssm:GetParametersByPath').flatMap((s) => asList(s.Resource))).toEqual([
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/webhooks/worker`,
      ]);
      // Changes of the configured names and of everything below the paths reach the function (audit log).
      const rules = template().findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { source: ['aws.ssm'] } },
      });
      expect(Object.values(rules).map((r) => r.Properties.EventPattern)).toEqual([
        {
          source: ['aws.ssm'],
          'detail-type': ['Parameter Store Change'],
          account: [ACCOUNT],
          region: [REGION],
          detail: { name: ['/webhooks/api/WEBHOOK_TIMEOUT_MS', { prefix: '/webhooks/worker/' }] },
        },
      ]);
    });

    const services = exampleConfig.ecsRollback?.services ?? [];
    const withServices = (list: unknown[]) =>
      ({
        ...exampleConfig,
        ecsRollback: { ...exampleConfig.ecsRollback, services: list },
      }) as typeof exampleConfig;

    it.each(['taskRoleArn', 'executionRoleArn'])('fails synth naming %s when a service omits it', (field) => {
      const [api, worker] = services;
      const { [field as 'taskRoleArn']: _omitted, ...withoutRole } = worker ?? ({} as never);
      expect(() => buildStack(withServices([api, withoutRole]))).toThrow(
        new RegExp(`ecsRollback\\.services\\.1\\.${field}: required: the ARN of the (task|execution) role`),
      );
    });

    it('passes no role for a family without a task role (null), and never "*"', () => {
      const { template: t } = buildStack(withServices(services.map((s) => ({ ...s, taskRoleArn: null }))));
      const passRole = JSON.stringify(t().toJSON()).match(/"iam:PassRole"[^}]*\}/g) ?? [];
      expect(passRole.join()).not.toContain('"Resource":"*"');
      t().hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'iam:PassRole',
              Resource: 'arn:aws:iam::123456789012:role/webhooks-execution',
              Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
            }),
          ]),
        },
      });
    });

    it('uses "*" as a resource only for DescribeTaskDefinition, and never a wildcard action', () => {
      const statements = rolloutStatements();
      for (const s of statements) {
        for (const action of asList(s.Action)) expect(action).not.toContain('*');
      }
      const star = statements.filter((s) => asList(s.Resource).includes('*'));
      expect(star.flatMap((s) => asList(s.Action))).toEqual(['ecs:DescribeTaskDefinition']);
    });

    it('describes only the alarms that guard configured services, to confirm their state changes', () => {
      const alarm = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
      for (const action of ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory']) {
        // The example selects alarms by the service tag too, and any alarm name may carry it.
        expect(statementsFor(action).flatMap((s) => asList(s.Resource))).toEqual([alarm('*')]);
      }
      const { serviceTagKey: _tag, ...byName } = exampleConfig.ecsRollback ?? { services: [] };
      const { template: t } = buildStack({ ...exampleConfig, ecsRollback: byName });
      const resolved = resolve<{ Statement: PolicyStatement[] }[]>(
        Object.values(t().toJSON().Resources as typeof json.Resources)
          .filter((r) => r.Type === 'AWS::IAM::Policy')
          .map((r) => r.Properties.PolicyDocument),
      );
      const describe = resolved
        .flatMap((d) => d.Statement)
        .filter((st) => asList(st.Action).includes('cloudwatch:DescribeAlarms'));
      expect(describe.flatMap((st) => asList(st.Resource)).sort()).toEqual([
        alarm('webhooks-api-5xx-rate-high'),
        alarm('webhooks-api-unhealthy-hosts*'),
        alarm('webhooks-api-webhook-success-rate-below-95'),
        alarm('webhooks-worker-*'),
      ]);
    });

    it('reads only the kill-switch parameter', () => {
      expect(statementsFor('ssm:GetParameter').flatMap((s) => asList(s.Resource))).toEqual([
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/nightshift/kill-switch`,
      ]);
    });
  });

  describe('rules', () => {
    const rules = ofType('AWS::Events::Rule')
      .filter(([, r]) => r.Properties.EventPattern !== undefined)
      .map(([, r]) => resolve<Record<string, unknown>>(r.Properties.EventPattern));
    const matchesAny = (event: unknown) => rules.some((p) => matchesPattern(p, event));
    // The documentation's samples, moved into the stack's account and Region (the rules match only those).
    const own = (event: ReturnType<typeof fixture>) => ({ ...event, account: ACCOUNT, region: REGION });
    const alarm = own(fixture('cloudwatch-alarm-state-change-single-metric.json'));
    const tagged = own(
      fixture('cloudwatch-alarm-state-change-single-metric-with-alarm-tags.constructed.json'),
    );
    const completed = own(fixture('ecs-deployment-state-change-completed.json'));
    const withName = (name: string) => ({ ...alarm, detail: { ...alarm.detail, alarmName: name } });
    const forService = (event: typeof completed, name: string) => ({
      ...event,
      resources: [serviceArn(name)],
    });

    it.each([
      ['an exact configured alarm name', true, withName('webhooks-api-5xx-rate-high')],
      ['a configured alarm prefix', true, withName('webhooks-api-unhealthy-hosts-2min')],
      [
        'an alarm tagged with a configured service',
        true,
        { ...tagged, detail: { ...tagged.detail, alarmTags: { 'nightshift:service': 'worker' } } },
      ],
      ["the documentation's unrelated alarm", false, alarm],
      [
        'an alarm tagged with another service',
        false,
        { ...tagged, detail: { ...tagged.detail, alarmTags: { 'nightshift:service': 'billing' } } },
      ],
      ['a completed deployment of a configured service', true, forService(completed, 'webhooks-api')],
      [
        'an in-progress deployment of a configured service',
        true,
        forService(own(fixture('ecs-deployment-state-change-in-progress.json')), 'webhooks-worker'),
      ],
      [
        'a failed deployment of a configured service',
        true,
        forService(own(fixture('ecs-deployment-state-change-failed.json')), 'webhooks-worker'),
      ],
      ["the documentation's deployment of an unconfigured service", false, completed],
      [
        'a service action event of a configured service',
        false,
        forService(own(fixture('ecs-service-action-service-steady-state.json')), 'webhooks-api'),
      ],
      ['a task state change', false, own(fixture('ecs-task-state-change.json'))],
      [
        'a configured alarm from account 999999999999',
        false,
        { ...withName('webhooks-api-5xx-rate-high'), account: '999999999999' },
      ],
      [
        'a configured alarm from another Region',
        false,
        { ...withName('webhooks-api-5xx-rate-high'), region: 'us-east-1' },
      ],
      [
        'a deployment of a configured service from account 999999999999',
        false,
        { ...forService(completed, 'webhooks-api'), account: '999999999999' },
      ],
      [
        'a deployment of a configured service from another Region',
        false,
        { ...forService(completed, 'webhooks-api'), region: 'us-east-1' },
      ],
    ])('routes %s: %s', (_what, expected, event) => {
      expect(matchesAny(event)).toBe(expected);
    });
  });
});

describe('RestoreVerify', () => {
  const caDir = mkdtempSync(join(tmpdir(), 'nightshift-ca-'));
  const caFile = join(caDir, 'bundle.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  const { app: verifyApp, template: verifyTemplate } = buildStack({
    ...exampleConfig,
    restoreVerify: {
      ...exampleConfig.restoreVerify,
      enabled: true,
      caBundleFile: caFile,
    } as typeof exampleConfig.restoreVerify,
  });
  const t = verifyTemplate().toJSON() as typeof json;
  const ids = Object.keys(t.Resources);
  const role = Object.entries(t.Resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Role' && id.includes('RestoreVerify'),
  )?.[0];
  const statements = Object.values(t.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${role}"`))
    .flatMap(
      (r) =>
        (
          resolveIntrinsics(r.Properties.PolicyDocument, {
            region: REGION,
            accountId: ACCOUNT,
            refs: Object.fromEntries(ids.map((id) => [id, id])),
            attributes: Object.fromEntries(ids.map((id) => [id, { Arn: `arn:test:${id}` }])),
          }) as { Statement: PolicyStatement[] }
        ).Statement,
    );
  const on = (action: string) =>
    statements.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));
  const copies = `arn:aws:rds:${REGION}:${ACCOUNT}:db:nightshift-verify-*`;

  it('restores, modifies and deletes only nightshift-verify-* instances', () => {
    expect(on('rds:ModifyDBInstance')).toEqual([copies]);
    expect(on('rds:DeleteDBInstance')).toEqual([copies]);
    const restore = on('rds:RestoreDBInstanceFromDBSnapshot');
    expect(restore.filter((r) => r.includes(':db:'))).toEqual([copies]);
    expect(restore.filter((r) => r.includes(':snapshot:'))).toEqual([
      `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:nightshift-*`,
    ]);
    expect(restore).toContain(`arn:aws:rds:${REGION}:${ACCOUNT}:subgrp:webhooks-private`);
    const clusterCopies = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:nightshift-verify-*`;
    expect(on('rds:ModifyDBCluster')).toEqual([clusterCopies]);
    expect(on('rds:DeleteDBCluster')).toEqual([clusterCopies]);
    expect(on('rds:RestoreDBClusterFromSnapshot').filter((r) => r.includes(':cluster:'))).toEqual([
      clusterCopies,
    ]);
    expect(on('rds:CreateDBInstance').filter((r) => r.includes(':db:') || r.includes(':cluster:'))).toEqual([
      copies,
      clusterCopies,
    ]);
  });

  it('keeps one-time passwords under its own SSM path only', () => {
    expect(on('ssm:PutParameter')).toEqual([
      `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/nightshift/restore-verify/*`,
    ]);
    expect(on('ssm:DeleteParameter')).toEqual([
      `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/nightshift/restore-verify/*`,
    ]);
    // The janitor lists that path (authorized against the path itself), and nothing above it.
    expect(on('ssm:GetParametersByPath')).toEqual([
      `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/nightshift/restore-verify`,
    ]);
  });

  it('runs in the application VPC on a reconciler tick, nag clean', () => {
    verifyTemplate().hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
        SecurityGroupIds: ['sg-0fedcba9876543210'],
      },
    });
    verifyTemplate().hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    expect(() => verifyApp.synth({ force: true })).not.toThrow();
  });
});
