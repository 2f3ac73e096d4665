import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/define-config.ts';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';
import { Rotation } from '../../lib/rotation.ts';
import { evaluate } from '../../local/iam/evaluate.ts';
import { exampleAlerts, exampleAppConfig } from '../../local/sandbox/example-config.ts';
import { resolveIntrinsics } from '../../local/template/resolve.ts';
import { asList, granting, roleStatements } from './role-statements.ts';
import { ACCOUNT, buildStack, REGION } from './stack-fixture.ts';

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const withRotation: NightshiftConfigInput = {
  ...exampleAppConfig,
  rotation: {
    secrets: [
      { parameter: '/webhooks/api-key', kind: 'generated', kmsKeyArn: KEY },
      { parameter: '/webhooks/signing-secret', kind: 'generated', cadenceDays: 30, generate: { length: 64 } },
    ],
  },
};
const { app, template } = buildStack(withRotation);
const t = template();
/** The synth warnings on a stack's constructs, as text. */
const warningsOf = (stack: Construct) =>
  stack.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === 'aws:cdk:warning')
    .map((m) => String(m.data));
const param = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${name}`;

describe('Rotation construct', () => {
  it('is nag clean', () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('puts and labels only the configured parameters, and manages only their .pending companions', () => {
    const statements = roleStatements(t, 'RotationHandler');
    const on = (action: string) =>
      granting(statements, action)
        .flatMap((s) => asList(s.Resource))
        .map(String)
        .filter((r) => !r.includes('kill-switch'))
        .sort();
    const main = [param('webhooks/api-key'), param('webhooks/signing-secret')];
    const pending = [param('webhooks/api-key.pending'), param('webhooks/signing-secret.pending')];
    expect(on('ssm:PutParameter')).toEqual([...main, ...pending].sort());
    expect(on('ssm:LabelParameterVersion')).toEqual(main);
    expect(on('ssm:UnlabelParameterVersion')).toEqual(main);
    expect(on('ssm:DeleteParameter')).toEqual(pending);
    expect(on('ssm:GetParameterHistory')).toEqual([...main, ...pending].sort());
  });

  it('uses only the configured KMS key, and only through SSM', () => {
    const kms = granting(roleStatements(t, 'RotationHandler'), 'kms:Decrypt');
    expect(kms.flatMap((s) => asList(s.Resource))).toEqual([KEY]);
    expect(JSON.stringify(kms[0]?.Condition)).toContain('kms:ViaService');
    expect(JSON.stringify(kms[0]?.Condition)).toContain('ssm.');
  });

  it('writes only its own rotation#* state items', () => {
    const own = roleStatements(t, 'RotationHandler').find((s) => s.Sid === 'StateOwnItems');
    expect(own?.Condition?.['ForAllValues:StringLike']).toEqual({ 'dynamodb:LeadingKeys': ['rotation#*'] });
  });

  it('runs on its schedule (hourly by default), cadences defaulted by kind', () => {
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    const fn = Object.entries(
      t.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find(([id, r]) => id.startsWith('NightshiftRotationHandler') && r.Type === 'AWS::Lambda::Function');
    const env = JSON.stringify(fn?.[1].Properties.Environment);
    expect(env).toContain('\\"cadenceDays\\":90');
    expect(env).toContain('\\"cadenceDays\\":30');
  });

  it('a staleness alarm per secret: its smallest age over 6 hours past cadence + 7 days, unmeasured breaching; routed as a warning', () => {
    const alarms = Object.values(
      t.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === 'SecretAgeDays');
    expect(
      alarms.map((a) => [
        (a.Properties.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'parameter')
          ?.Value,
        a.Properties.Threshold,
        a.Properties.Statistic,
        a.Properties.Period,
        a.Properties.ComparisonOperator,
        a.Properties.TreatMissingData,
        String(a.Properties.AlarmName),
      ]),
    ).toEqual([
      [
        '/webhooks/api-key',
        97,
        'Minimum',
        21_600,
        'GreaterThanThreshold',
        'breaching',
        expect.stringMatching(/-stale-1-webhooks-api-key$/),
      ],
      [
        '/webhooks/signing-secret',
        37,
        'Minimum',
        21_600,
        'GreaterThanThreshold',
        'breaching',
        expect.stringMatching(/-stale-2-webhooks-signing-secret$/),
      ],
    ]);
    // The router knows them as Nightshift's own alarms, warning.
    const routed = buildStack({ ...withRotation, alerts: exampleAlerts() }).template();
    const router = Object.entries(
      routed.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find(([id, r]) => id.startsWith('NightshiftAlertRoutingRouter') && r.Type === 'AWS::Lambda::Function');
    const env = JSON.stringify(router?.[1].Properties.Environment);
    expect(env).toMatch(/-stale-1-webhooks-api-key\\",\\"severity\\":\\"warning/);
  });

  describe('redeploying the consumers that read at start', () => {
    const svc = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${name}`;
    const consumed = buildStack({
      ...exampleAppConfig,
      rotation: {
        secrets: [
          {
            parameter: '/webhooks/api-key',
            kind: 'generated',
            consumers: [
              { cluster: 'prod', service: 'api', readsAt: 'start' },
              { cluster: 'prod', service: 'worker', readsAt: 'run-time' },
            ],
          },
          {
            parameter: '/webhooks/signing-secret',
            kind: 'generated',
            consumers: [
              { cluster: 'prod', service: 'api', readsAt: 'start' },
              { cluster: 'jobs', service: 'billing', readsAt: 'start' },
            ],
          },
        ],
      },
    });
    const ct = consumed.template();
    const statements = roleStatements(ct, 'RotationHandler');

    it('may UpdateService only the start readers (each once), nothing else of ECS', () => {
      const ecs = statements.filter((s) => asList(s.Action).some((a) => a.startsWith('ecs:')));
      expect(ecs.map((s) => [s.Sid, asList(s.Action), asList(s.Resource).map(String).sort()])).toEqual([
        ['RedeployStartReaders', ['ecs:UpdateService'], [svc('jobs/billing'), svc('prod/api')]],
      ]);
      expect(ecs[0]?.Condition).toBeUndefined();
    });

    it("writes its own rotation#* items and exactly the start readers' claims (claim#<service ARN>, never claim#*)", () => {
      const own = statements.find((s) => s.Sid === 'StateOwnItems');
      expect(own?.Condition?.['ForAllValues:StringLike']).toEqual({
        'dynamodb:LeadingKeys': ['rotation#*', `claim#${svc('prod/api')}`, `claim#${svc('jobs/billing')}`],
      });
      expect(own?.Condition?.Null).toEqual({ 'dynamodb:LeadingKeys': 'false' });
    });

    it('passes each secret its start readers only (run-time readers are never redeployed)', () => {
      const fn = Object.entries(
        ct.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      ).find(([id, r]) => id.startsWith('NightshiftRotationHandler') && r.Type === 'AWS::Lambda::Function');
      const raw = (fn?.[1].Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables?.NIGHTSHIFT_RUNBOOK_CONFIG;
      const config = JSON.parse(
        typeof raw === 'string'
          ? raw
          : String(resolveIntrinsics(raw, { region: REGION, accountId: ACCOUNT, refs: {}, attributes: {} })),
      );
      expect(config.secrets.map((x: { startReaders?: unknown }) => x.startReaders)).toEqual([
        [{ cluster: 'prod', service: 'api', serviceArn: svc('prod/api') }],
        [
          { cluster: 'prod', service: 'api', serviceArn: svc('prod/api') },
          { cluster: 'jobs', service: 'billing', serviceArn: svc('jobs/billing') },
        ],
      ]);
    });

    it('as IAM evaluates the policy: UpdateService and the claim item of a start reader allowed, of any other service refused', () => {
      const policies = [{ Version: '2012-10-17', Statement: statements }];
      const ask = (action: string, resources: string[], context: Record<string, string | string[]> = {}) =>
        evaluate(policies as never, { action, resources, context }).allowed;
      const table = String(asList(statements.find((x) => x.Sid === 'StateOwnItems')?.Resource)[0]);
      const claim = (arn: string) =>
        ask('dynamodb:PutItem', [table], { 'dynamodb:LeadingKeys': [`claim#${arn}`] });
      expect(ask('ecs:UpdateService', [svc('prod/api')])).toBe(true);
      expect(ask('ecs:UpdateService', [svc('jobs/billing')])).toBe(true);
      expect(ask('ecs:UpdateService', [svc('prod/worker')])).toBe(false); // reads at run time
      expect(ask('ecs:UpdateService', [svc('staging/api')])).toBe(false);
      expect(ask('ecs:DescribeServices', [svc('prod/api')])).toBe(false);
      expect(claim(svc('prod/api'))).toBe(true);
      expect(claim(svc('prod/worker'))).toBe(false);
      expect(ask('dynamodb:PutItem', [table], { 'dynamodb:LeadingKeys': ['ecs-rollback#x'] })).toBe(false);
    });

    it('no start readers: no ECS action and no claim key', () => {
      expect(granting(roleStatements(t, 'RotationHandler'), 'ecs:UpdateService')).toEqual([]);
      expect(
        roleStatements(t, 'RotationHandler').find((x) => x.Sid === 'StateOwnItems')?.Condition?.[
          'ForAllValues:StringLike'
        ],
      ).toEqual({ 'dynamodb:LeadingKeys': ['rotation#*'] });
    });

    it('is nag clean', () => {
      expect(() => consumed.app.synth({ force: true })).not.toThrow();
    });

    it('no longer warns that start readers are not redeployed; says at synth that they are, naming the window', () => {
      const warnings = warningsOf(consumed.stack);
      expect(warnings.filter((w) => /not redeploy|does not redeploy/.test(w))).toEqual([]);
      const infos = consumed.stack.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === 'aws:cdk:info')
        .map((m) => String(m.data));
      expect(infos.filter((i) => i.includes('/webhooks/api-key'))).toEqual([
        expect.stringMatching(
          /prod\/api read it only at start: Nightshift redeploys them.*never during a rollback.*7-day grace period/s,
        ),
      ]);
    });
  });

  it('external secrets and HTTPS checks reach the function as configured', () => {
    const { template: ext } = buildStack({
      ...exampleAppConfig,
      rotation: {
        secrets: [
          {
            parameter: '/webhooks/clio-client-secret',
            kind: 'external',
            noticeDays: 45,
            test: {
              https: {
                url: 'https://app.clio.com/oauth/token',
                method: 'POST',
                present: { scheme: 'basic', username: 'clio-client-id' },
                form: 'grant_type=client_credentials',
              },
            },
          },
        ],
      },
    });
    const fn = Object.entries(
      ext().toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find(([id, r]) => id.startsWith('NightshiftRotationHandler') && r.Type === 'AWS::Lambda::Function');
    const config = JSON.parse(
      (fn?.[1].Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables
        ?.NIGHTSHIFT_RUNBOOK_CONFIG ?? '{}',
    );
    expect(config.secrets[0]).toEqual({
      parameter: '/webhooks/clio-client-secret',
      policy: { kind: 'external', cadenceDays: 365, graceDays: 7, noticeDays: 45 },
      test: {
        https: {
          url: 'https://app.clio.com/oauth/token',
          method: 'POST',
          present: { scheme: 'basic', username: 'clio-client-id' },
          form: 'grant_type=client_credentials',
          timeoutMs: 5000,
        },
      },
    });
  });

  it('a Lambda test: the function resolved to its ARN, invoke on exactly the configured functions, nag clean', () => {
    const { app: withTest, template: lt } = buildStack({
      ...exampleAppConfig,
      rotation: {
        secrets: [
          {
            parameter: '/webhooks/api-key',
            kind: 'generated',
            test: { lambda: { function: 'api-key-check' } },
          },
          {
            parameter: '/webhooks/partner-key',
            kind: 'generated',
            test: { lambda: { function: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:partner-check:live` } },
          },
          { parameter: '/webhooks/signing-secret', kind: 'generated' },
        ],
      },
    });
    expect(() => withTest.synth({ force: true })).not.toThrow();
    const statements = roleStatements(lt(), 'Rotation');
    expect(
      granting(statements, 'lambda:InvokeFunction')
        .flatMap((st) => asList(st.Resource))
        .sort(),
    ).toEqual([
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:api-key-check`,
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:partner-check:live`,
    ]);
    const fn = Object.entries(
      lt().toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find(([id, r]) => id.startsWith('NightshiftRotationHandler') && r.Type === 'AWS::Lambda::Function');
    const raw = (fn?.[1].Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables?.NIGHTSHIFT_RUNBOOK_CONFIG;
    const config = JSON.parse(
      typeof raw === 'string'
        ? raw
        : String(resolveIntrinsics(raw, { region: REGION, accountId: ACCOUNT, refs: {}, attributes: {} })),
    );
    expect(config.secrets[0].test).toEqual({
      lambda: {
        functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:api-key-check`,
        timeoutMs: 30_000,
      },
    });
    expect(config.secrets[1].test).toEqual({
      lambda: {
        functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:partner-check:live`,
        timeoutMs: 30_000,
      },
    });
    expect(config.secrets[2].test).toBeUndefined();
    expect(() =>
      validateConfig({
        ...exampleAppConfig,
        rotation: {
          secrets: [{ parameter: '/a', kind: 'generated', test: { lambda: { function: 'no spaces' } } }],
        },
      } as NightshiftConfigInput),
    ).toThrow(/rotation\.secrets\.0\.test\.lambda\.function.*Lambda function name or ARN/s);
    expect(() =>
      buildStack({
        ...exampleAppConfig,
        rotation: {
          secrets: [
            {
              parameter: '/a',
              kind: 'generated',
              test: { lambda: { function: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:elsewhere` } },
            },
          ],
        },
      }),
    ).toThrow(/test\.lambda\.function .* is in us-east-1, the stack in eu-west-1/);
  });

  it('bad config names the field: a .pending name, a duplicate, a weak alphabet, a check that is not https or not for the kind', () => {
    const bad = (secrets: unknown[]) => () =>
      validateConfig({ ...exampleAppConfig, rotation: { secrets } } as NightshiftConfigInput);
    expect(
      bad([
        { parameter: '/oauth/client', kind: 'external', test: { https: { url: 'http://issuer/token' } } },
      ]),
    ).toThrow(/rotation\.secrets\.0\.test\.https\.url.*must be an https:\/\/ URL/s);
    expect(
      bad([
        {
          parameter: '/a',
          kind: 'generated',
          test: { https: { url: 'https://x', present: { scheme: 'header', header: 'bad header' } } },
        },
      ]),
    ).toThrow(/test\.https\.present\.header.*HTTP header name/s);
    // Headers HTTP reads itself: host would go out as the TLS server name, in clear.
    for (const header of ['host', 'Cookie', 'content-length', 'connection']) {
      expect(
        bad([
          {
            parameter: '/a',
            kind: 'generated',
            test: { https: { url: 'https://x', present: { scheme: 'header', header } } },
          },
        ]),
      ).toThrow(/present\.header.*x-… or api-key/s);
    }
    expect(
      bad([
        {
          parameter: '/a',
          kind: 'external',
          test: { https: { url: 'https://x', present: { scheme: 'basic', username: 'a:b' } } },
        },
      ]),
    ).toThrow(/present\.username.*cannot contain ":"/s);
    expect(
      bad([
        {
          parameter: '/a',
          kind: 'external',
          test: { https: { url: 'https://user:pw@issuer.example/token' } },
        },
      ]),
    ).toThrow(/test\.https\.url.*must not carry credentials/s);
    expect(
      bad([{ parameter: '/a', kind: 'postgres-single', test: { https: { url: 'https://x' } } }]),
    ).toThrow(/rotation\.secrets\.0\.test.*tested by logging in with it/s);
    expect(bad([{ parameter: '/a', kind: 'generated', noticeDays: 10 }])).toThrow(
      /rotation\.secrets\.0\.noticeDays.*for external secrets/s,
    );
    expect(bad([{ parameter: '/a', kind: 'external', cadenceDays: 20 }])).toThrow(
      /rotation\.secrets\.0\.noticeDays.*notice of 30 days is not shorter than the cadence \(20 days\)/s,
    );
    expect(bad([{ parameter: '/x.pending', kind: 'generated' }])).toThrow(/rotation\.secrets\.0\.parameter/);
    expect(
      bad([
        { parameter: '/a', kind: 'generated' },
        { parameter: '/a', kind: 'generated' },
      ]),
    ).toThrow(/listed twice/);
    expect(bad([{ parameter: '/a', kind: 'generated', generate: { alphabet: 'abc' } }])).toThrow(
      /generate.*alphabet: 3 usable/s,
    );
  });

  describe('the database kinds', () => {
    const ADMIN_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab`;
    const vpc = {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0'],
      securityGroupId: 'sg-0123456789abcdef0',
    };
    const databases: NightshiftConfigInput = {
      ...exampleAppConfig,
      rotation: {
        vpc,
        secrets: [
          {
            parameter: '/webhooks/db-single',
            kind: 'postgres-single',
            kmsKeyArn: KEY,
            consumers: [{ cluster: 'prod', service: 'worker', readsAt: 'start' }],
          },
          {
            parameter: '/webhooks/db',
            kind: 'postgres-alternating',
            alternating: {
              users: ['app_blue', 'app_green'],
              ownerRole: 'app_owner',
              adminParameter: '/webhooks/db-admin',
              adminKmsKeyArn: ADMIN_KEY,
            },
            consumers: [{ cluster: 'prod', service: 'api', readsAt: 'run-time' }],
          },
        ],
      },
    };
    const built = buildStack(databases);
    const dt = built.template();
    const statements = roleStatements(dt, 'RotationHandler');
    const fn = () =>
      Object.entries(
        dt.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      ).find(
        ([id, r]) => id.startsWith('NightshiftRotationHandler') && r.Type === 'AWS::Lambda::Function',
      )?.[1].Properties;

    it('are nag clean, run in the configured VPC and verify TLS against the RDS CA bundle shipped beside the code', () => {
      expect(() => built.app.synth({ force: true })).not.toThrow();
      expect(fn()?.VpcConfig).toEqual({ SubnetIds: vpc.subnetIds, SecurityGroupIds: [vpc.securityGroupId] });
      expect(JSON.stringify(fn()?.Environment)).toContain(
        '"NIGHTSHIFT_RDS_CA_BUNDLE":"/var/task/rds-ca-bundle.pem"',
      );
    });

    it('read the administrator credential (recovery only) and nothing else of it; its key only to decrypt, only via SSM', () => {
      const admin = param('webhooks/db-admin');
      const onAdmin = statements.filter((s) => asList(s.Resource).includes(admin));
      expect(onAdmin.flatMap((s) => asList(s.Action))).toEqual(['ssm:GetParameter']);
      const adminKey = statements.filter((s) => asList(s.Resource).includes(ADMIN_KEY));
      expect(adminKey.flatMap((s) => asList(s.Action))).toEqual(['kms:Decrypt']);
      expect(JSON.stringify(adminKey[0]?.Condition)).toContain('ssm.');
      expect(granting(statements, 'ssm:PutParameter').flatMap((s) => asList(s.Resource))).not.toContain(
        admin,
      );
    });

    it('grant a consumer what the helper reads: the parameter (and so :previous), .pending, the key only via SSM', () => {
      // A stack of its own: the one above has been synthesized and may not change.
      const fresh = buildStack(databases);
      const rotation = fresh.stack.node.findAll().find((c) => c instanceof Rotation) as Rotation;
      const role = new iam.Role(fresh.stack, 'ConsumerRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });
      rotation.grantConsumerRead(role, '/webhooks/db-single');
      const statements = roleStatements(fresh.template(), 'ConsumerRole');
      expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
        ['ssm:GetParameter', [param('webhooks/db-single'), param('webhooks/db-single.pending')]],
        ['kms:Decrypt', KEY],
      ]);
      expect(JSON.stringify(statements[1]?.Condition)).toContain('ssm.');
      expect(() => rotation.grantConsumerRead(role, '/not/rotated')).toThrow(/not a rotated parameter/);
      // Consumers of the other kinds never read the next value before it is live.
      const third = buildStack(databases);
      const r3 = third.stack.node.findAll().find((c) => c instanceof Rotation) as Rotation;
      const role3 = new iam.Role(third.stack, 'ConsumerRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });
      r3.grantConsumerRead(role3, '/webhooks/db');
      const all = roleStatements(third.template(), 'ConsumerRole').flatMap((s) => asList(s.Resource));
      expect(all).toContain(param('webhooks/db'));
      expect(all).not.toContain(param('webhooks/db.pending'));
    });

    it('pass the alternating layout to the function', () => {
      const env = JSON.stringify(fn()?.Environment);
      expect(env).toContain('\\"users\\":[\\"app_blue\\",\\"app_green\\"]');
      expect(env).toContain('\\"ownerRole\\":\\"app_owner\\"');
    });

    it('warn at synth when a single-user credential is read only at start, naming the consumer and the better kind', () => {
      const warnings = warningsOf(built.stack);
      expect(warnings.filter((w) => w.includes('prod/worker'))).toEqual([
        expect.stringMatching(
          /db-single.*read the credential only at start.*Nightshift redeploys them.*cannot log in.*postgres-alternating/s,
        ),
      ]);
      expect(warnings.some((w) => w.includes('prod/api'))).toBe(false);
    });

    it('warn at synth when an HTTPS check would run from inside the VPC (it needs a route out)', () => {
      const { stack } = buildStack({
        ...databases,
        rotation: {
          ...(databases.rotation as object),
          secrets: [
            ...((databases.rotation as { secrets: unknown[] }).secrets as never[]),
            {
              parameter: '/webhooks/clio',
              kind: 'external',
              test: { https: { url: 'https://issuer.example/token' } },
            },
          ],
        },
      } as NightshiftConfigInput);
      const warnings = warningsOf(stack);
      expect(warnings.filter((w) => w.includes('HTTPS or Lambda check'))).toEqual([
        expect.stringMatching(/\/webhooks\/clio: .*VPC.*NAT gateway/s),
      ]);
      expect(
        built.stack.node
          .findAll()
          .some((c) => c.node.metadata.some((m) => String(m.data).includes('HTTPS or Lambda check'))),
      ).toBe(false);
    });

    it('refuse bad config naming the field: no VPC, alternating without users, owner among the users, RDS Proxy consumers', () => {
      const bad = (rotation: unknown) => () =>
        validateConfig({ ...exampleAppConfig, rotation } as NightshiftConfigInput);
      expect(bad({ secrets: [{ parameter: '/db', kind: 'postgres-single' }] })).toThrow(
        /rotation\.vpc.*vpc/s,
      );
      expect(bad({ vpc, secrets: [{ parameter: '/db', kind: 'postgres-alternating' }] })).toThrow(
        /rotation\.secrets\.0\.alternating.*users/s,
      );
      expect(
        bad({
          vpc,
          secrets: [
            {
              parameter: '/db',
              kind: 'postgres-alternating',
              alternating: { users: ['a', 'b'], ownerRole: 'a' },
            },
          ],
        }),
      ).toThrow(/alternating\.ownerRole.*NOLOGIN/s);
      expect(
        bad({
          vpc,
          secrets: [
            {
              parameter: '/db',
              kind: 'postgres-single',
              consumers: [{ cluster: 'prod', service: 'api', readsAt: 'start', viaRdsProxy: true }],
            },
          ],
        }),
      ).toThrow(/consumers\.0\.viaRdsProxy.*RDS Proxy.*Secrets Manager.*lock it out/s);
    });
  });
});
