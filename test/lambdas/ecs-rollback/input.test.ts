import { describe, expect, it } from 'vitest';
import { parseRollbackEvent } from '../../../lambdas/ecs-rollback/events.ts';
import { ForeignEventError, InvalidEventError } from '../../../lambdas/shared/errors.ts';
import { ACCOUNT, REGION } from './fake-ecs.ts';
import {
  alarmEvent,
  BOUNDS,
  deploymentEvent,
  h,
  itemCount,
  MIN,
  run,
  T0,
  useRollbackHarness,
} from './harness.ts';

useRollbackHarness();

describe('ecs-rollback runbook', () => {
  describe('rejects bad input and changes nothing', () => {
    it.each([
      [
        'an event of another type',
        { 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
        /unsupported event: detail-type "EC2 Instance State-change Notification"/,
      ],
      [
        'an alarm event without a state',
        (() => {
          const e = alarmEvent('webhooks-api-5xx-rate-high', T0);
          delete e.detail.state;
          return e;
        })(),
        /malformed CloudWatch Alarm State Change event: detail.state/,
      ],
      [
        'a timestamp that is not a time',
        (() => {
          const e = alarmEvent('webhooks-api-5xx-rate-high', T0);
          e.detail.state.timestamp = 'yesterday';
          return e;
        })(),
        /detail.state.timestamp: not an ISO-8601 timestamp/,
      ],
    ])('rejects %s with a clear error', async (_what, event, message) => {
      const before = await itemCount();
      await expect(run(event)).rejects.toThrow(InvalidEventError);
      await expect(run(event)).rejects.toThrow(message);
      expect(await itemCount()).toBe(before);
      expect(h.world.state.updates).toHaveLength(0);
    });

    const alarm = () => alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
    const deployment = () => deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/2', T0 - MIN);
    const MB = 'x'.repeat(1024 * 1024);
    it.each([
      [
        'an alarm from account 999999999999',
        { ...alarm(), account: '999999999999' },
        ForeignEventError,
        /account "999999999999" is not this stack's account 123456789012/,
      ],
      [
        'an alarm from another Region',
        { ...alarm(), region: 'us-east-1' },
        ForeignEventError,
        /region "us-east-1" is not this stack's Region eu-west-1/,
      ],
      [
        'a deployment from account 999999999999',
        { ...deployment(), account: '999999999999' },
        ForeignEventError,
        /account "999999999999"/,
      ],
      [
        'a deployment from another Region',
        { ...deployment(), region: 'ap-south-2' },
        ForeignEventError,
        /region "ap-south-2"/,
      ],
      [
        'a 1 MB alarm name',
        { ...alarm(), detail: { ...alarm().detail, alarmName: MB } },
        InvalidEventError,
        /detail\.alarmName: Too big: expected string to have <=255 characters/,
      ],
      [
        'a 1 MB deploymentId',
        { ...deployment(), detail: { ...deployment().detail, deploymentId: MB } },
        InvalidEventError,
        /detail\.deploymentId: Too big: expected string to have <=256 characters/,
      ],
      [
        'a 1 MB state reason',
        { ...alarm(), detail: { ...alarm().detail, state: { ...alarm().detail.state, reason: MB } } },
        InvalidEventError,
        /detail\.state\.reason: Too big/,
      ],
      [
        'a 1 MB alarm tag',
        { ...alarm(), detail: { ...alarm().detail, alarmTags: { 'nightshift:service': MB } } },
        InvalidEventError,
        /detail\.alarmTags\.nightshift:service: Too big/,
      ],
      ['a 1 MB resource', { ...alarm(), resources: [MB] }, InvalidEventError, /resources\.0: Too big/],
      [
        'an alarm that entered ALARM in 2099',
        {
          ...alarm(),
          detail: {
            ...alarm().detail,
            state: { ...alarm().detail.state, timestamp: '2099-01-01T00:00:00.000+0000' },
          },
        },
        InvalidEventError,
        /detail\.state\.timestamp: 2099-01-01T00:00:00\.000\+0000 is .* after now/,
      ],
      [
        'an alarm that entered ALARM in 1970',
        {
          ...alarm(),
          detail: {
            ...alarm().detail,
            state: { ...alarm().detail.state, timestamp: '1970-01-01T00:00:00.000+0000' },
          },
        },
        InvalidEventError,
        /detail\.state\.timestamp: 1970-01-01T00:00:00\.000\+0000 is .* before now/,
      ],
      [
        'an alarm event sent in 2099',
        { ...alarm(), time: '2099-01-01T00:00:00Z' },
        InvalidEventError,
        /^time: 2099-01-01T00:00:00Z is/,
      ],
      [
        'an alarm that left ALARM in 1970',
        (() => {
          const e = alarmEvent('webhooks-api-5xx-rate-high', T0, 'OK');
          e.detail.state.timestamp = '1970-01-01T00:00:00.000+0000';
          return e;
        })(),
        InvalidEventError,
        /detail\.state\.timestamp: 1970/,
      ],
      [
        'a deployment completed in 2099',
        { ...deployment(), detail: { ...deployment().detail, updatedAt: '2099-01-01T00:00:00Z' } },
        InvalidEventError,
        /detail\.updatedAt: 2099-01-01T00:00:00Z is/,
      ],
      [
        'a deployment completed in 1970',
        { ...deployment(), detail: { ...deployment().detail, updatedAt: '1970-01-01T00:00:00Z' } },
        InvalidEventError,
        /detail\.updatedAt: 1970-01-01T00:00:00Z is/,
      ],
      [
        'a deployment event sent in 1970',
        { ...deployment(), time: '1970-01-01T00:00:00Z' },
        InvalidEventError,
        /^time: 1970-01-01T00:00:00Z is/,
      ],
    ])('refuses %s, naming the field, and changes nothing', async (_what, event, type, message) => {
      const before = await itemCount();
      await expect(run(event)).rejects.toThrow(type);
      await expect(run(event)).rejects.toThrow(message);
      expect(await itemCount()).toBe(before);
      expect(h.world.state.updates).toHaveLength(0);
      expect(h.bus.published).toHaveLength(0);
    });

    it('takes an alarm older than a delivery can be only through an operator redrive', async () => {
      const old = alarmEvent('webhooks-api-5xx-rate-high', T0 - 3 * 60 * MIN);
      const context = (redrive?: { reason: string }) => ({
        now: h.now,
        bounds: BOUNDS,
        origin: { account: ACCOUNT, region: REGION },
        redrive,
      });
      expect(() => parseRollbackEvent(old, context())).toThrow(/before now/);
      expect(parseRollbackEvent(old, context({ reason: 'DLQ after outage' }))).toMatchObject({
        type: 'alarm',
        stateAt: T0 - 3 * 60 * MIN,
      });
    });

    it('rejects an alarm that guards no configured service, naming it', async () => {
      await expect(run(alarmEvent('billing-5xx', T0))).rejects.toThrow(
        'alarm billing-5xx guards no configured service',
      );
    });
  });
});
