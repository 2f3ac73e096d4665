import { describe, expect, it } from 'vitest';
import { InvalidConfigError, validateConfig } from '../../../lib/config/define-config.ts';
import exampleConfig from '../../../nightshift.config.ts';

const service = {
  name: 'api',
  cluster: 'prod',
  service: 'api',
  taskDefinitionFamily: 'api',
  taskRoleArn: 'arn:aws:iam::123456789012:role/api-task',
  executionRoleArn: null,
  alarms: [{ prefix: 'api-' }],
};

describe('validateConfig', () => {
  describe('accepts', () => {
    it('accepts the example configuration and applies the defaults', () => {
      const config = validateConfig(exampleConfig);
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
  });

  describe('rejects', () => {
    it.each([
      [
        'a bad value',
        { ecsRollback: { bakeWindowMinutes: 2, services: [service] } },
        'ecsRollback.bakeWindowMinutes',
        '(got 2)',
      ],
      [
        'a misspelled field',
        { ecsRollback: { services: [service], bakeWindow: 60 } },
        'ecsRollback',
        'bakeWindow',
      ],
      [
        'a bad role ARN',
        { ecsRollback: { services: [{ ...service, taskRoleArn: 'api-role' }] } },
        'ecsRollback.services.0.taskRoleArn',
        '"api-role"',
      ],
      [
        'a service with no trigger',
        { ecsRollback: { services: [{ ...service, alarms: [] }] } },
        'ecsRollback.services.0.alarms',
        'nothing could trigger',
      ],
      [
        'a duplicate service',
        { ecsRollback: { services: [service, service] } },
        'ecsRollback.services.1.name',
        'duplicate service name "api"',
      ],
      [
        'a kill switch that is not a parameter name',
        { killSwitchParameter: 'kill' },
        'killSwitchParameter',
        '(got "kill")',
      ],
    ])('names the field and the value for %s', (_what, input, path, text) => {
      let error: unknown;
      try {
        validateConfig(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidConfigError);
      const message = (error as Error).message;
      expect(message).toContain(`${path}:`);
      expect(message).toContain(text);
    });
  });
});
