import { describe, expect, it } from 'vitest';
import { UnconfirmedAlarmError } from '../../../lambdas/shared/alarm-state.ts';
import { SERVICE_ARN, td } from './fake-ecs.ts';
import {
  alarmEvent,
  deploymentEvent,
  fire,
  freshHistory,
  h,
  itemCount,
  MIN,
  performed,
  run,
  T0,
  useRollbackHarness,
} from './harness.ts';

useRollbackHarness();

const ALARM = 'webhooks-api-5xx-rate-high';
const OTHER = 'webhooks-api-unhealthy-hosts';

describe('ecs-rollback runbook', () => {
  describe('acts on an alarm only when CloudWatch confirms it', () => {
    it.each([
      [
        'CloudWatch says the alarm is OK',
        () => h.cw.transition(ALARM, 'OK', T0 - 60 * MIN),
        /it is OK since 2026-11-20T09:00:00.000Z/,
      ],
      [
        'the alarm is in ALARM since another time',
        () => h.cw.transition(ALARM, 'ALARM', T0 - 60 * MIN),
        /it is ALARM since 2026-11-20T09:00:00.000Z/,
      ],
      ['CloudWatch has no such alarm', () => undefined, /CloudWatch has no such alarm/],
    ])('refuses a forged ALARM when %s, and changes nothing', async (_what, arrange, message) => {
      arrange();
      const before = await itemCount();
      const forged = alarmEvent(ALARM, T0 - MIN);
      await expect(run(forged)).rejects.toThrow(UnconfirmedAlarmError);
      await expect(run(forged)).rejects.toThrow(message);
      await expect(run(forged)).rejects.toThrow(
        `alarm ${ALARM}: CloudWatch does not confirm it entered ALARM at 2026-11-20T09:59:00.000Z`,
      );
      expect(await itemCount()).toBe(before);
      expect(h.world.state.updates).toHaveLength(0);
      expect(h.bus.published).toHaveLength(0);
    });

    it('acts on a late delivery once the alarm has moved on, when its history shows the transition', async () => {
      const event = fire(ALARM, T0 - MIN);
      h.cw.transition(ALARM, 'OK', T0 - 30_000);
      const result = await run(event);
      expect(result.result.outcome).toBe('performed');
      expect(h.world.state.updates).toHaveLength(1);
    });

    it('acts on an alarm deleted since it fired, as CloudWatch keeps its history', async () => {
      const event = fire(ALARM, T0 - MIN);
      h.cw.remove(ALARM);
      expect((await run(event)).result.outcome).toBe('performed');
      expect(performed()).toHaveLength(1);
    });

    it('refuses an ALARM whose history has no such transition once the alarm has moved on', async () => {
      h.cw.transition(ALARM, 'ALARM', T0 - 10 * MIN);
      h.cw.transition(ALARM, 'OK', T0 - 5 * MIN);
      await expect(run(alarmEvent(ALARM, T0 - MIN))).rejects.toThrow(UnconfirmedAlarmError);
      expect(h.world.state.updates).toHaveLength(0);
    });
  });

  describe('closes alarm windows from what CloudWatch shows, not from the OKs that arrive', () => {
    /** An alarm fires just before rev 1 is deployed and its window is opened (no rollback: too early). */
    const alarmBeforeRev1 = async () => {
      const at = h.now;
      h.world.state.primary = td(1);
      h.world.state.primaryCreatedAt = new Date(at + 5 * MIN);
      await run(fire(OTHER, at));
    };

    it('lets rev 1 earn known-good when the OK of an alarm in its bake window was lost', async () => {
      await freshHistory(async () => {
        await alarmBeforeRev1();
        h.cw.transition(OTHER, 'OK', h.now + 2 * MIN); // its OK event never arrives
      });
      const result = await run(fire(ALARM, T0 - MIN));
      expect(result.plan).toMatchObject({ kind: 'rollback', from: td(2), to: td(1) });
      expect(h.world.state.updates.map((u) => u.taskDefinition)).toEqual([td(1)]);
    });

    it('lets rev 1 earn known-good when an alarm in ALARM was deleted before its bake window', async () => {
      await freshHistory(async () => {
        await alarmBeforeRev1();
        h.cw.remove(OTHER); // deleted while in ALARM: no OK ever
      });
      const result = await run(fire(ALARM, T0 - MIN));
      expect(result.plan).toMatchObject({ kind: 'rollback', to: td(1) });
      expect(h.world.state.updates).toHaveLength(1);
    });

    it('still keeps a revision from known-good while CloudWatch shows its alarm in ALARM', async () => {
      await freshHistory(alarmBeforeRev1);
      const result = await run(fire(ALARM, T0 - MIN));
      expect(result.plan).toMatchObject({
        kind: 'no-action',
        reason: 'no known-good revision to roll back webhooks-api:2 to',
      });
      expect(h.world.state.updates).toHaveLength(0);
    });

    it('closes a window on an OK event at the time CloudWatch says the alarm left ALARM', async () => {
      await run(fire(OTHER, T0 - 20 * MIN));
      h.cw.transition(OTHER, 'OK', T0 - 10 * MIN);
      // The OK event claims another time: the window ends when CloudWatch says, not when the event says.
      const result = await run(alarmEvent(OTHER, T0 - 2 * MIN, 'OK'));
      expect(result.result.reason).toContain('closed 1 window(s)');
      const { alarmWindows } = await h.store.load(SERVICE_ARN);
      expect(alarmWindows).toEqual([
        expect.objectContaining({ alarmName: OTHER, start: T0 - 20 * MIN, end: T0 - 10 * MIN }),
      ]);
    });

    it('closes windows on a deployment event too, so a new revision bakes on what CloudWatch shows', async () => {
      await run(fire(OTHER, T0 - 20 * MIN));
      h.cw.transition(OTHER, 'OK', T0 - 15 * MIN);
      h.now = T0;
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', T0));
      const { alarmWindows } = await h.store.load(SERVICE_ARN);
      expect(alarmWindows[0]?.end).toBe(T0 - 15 * MIN);
    });
  });
});
