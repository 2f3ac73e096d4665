import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { pendingName } from '../../../lambdas/rotation/model.ts';
import { rotateSecret } from '../../../lambdas/rotation/rotate.ts';
import {
  clock,
  crashing,
  DAY,
  deps,
  events,
  labelled,
  made,
  operatorSsm,
  plain,
  published,
  secret,
  ssm,
  T0,
} from './rotation-fixture.ts';

describe('rotateSecret: generated', () => {
  it('a due secret: a new value under the plain name, current on it, previous on the old, the pending place gone', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 91 * DAY);
    const out = await rotateSecret(s, deps());
    expect(out).toMatchObject({ outcome: 'rotated', version: 2, steps: ['create', 'set', 'test', 'finish'] });
    const fresh = await plain(s.parameter);
    expect(fresh).not.toBe(`old-value-${made.n}`);
    expect(fresh).toMatch(/^[A-Za-z0-9._-]{40}$/);
    expect(await labelled(s.parameter, 'current')).toBe(fresh);
    expect(await labelled(s.parameter, 'previous')).toBe(`old-value-${made.n}`);
    await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect(published()).toEqual(['Rotation Started', 'Rotation Succeeded']);
    // Not due again for 90 days.
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'not-due', plan: { kind: 'idle' } });
    expect(JSON.stringify(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input))).not.toContain(
      fresh,
    );
  });

  // Each step boundary, before and after the call: the plain name always returns the old or the new value
  // (never anything else), and the next run converges on one rotation.
  const boundaries = [
    ['PutParameterCommand', 1, 'before'],
    ['PutParameterCommand', 1, 'after'], // the pending value written
    ['PutParameterCommand', 2, 'before'],
    ['PutParameterCommand', 2, 'after'], // the plain name written
    ['LabelParameterVersionCommand', 1, 'before'],
    ['LabelParameterVersionCommand', 1, 'after'], // current moved
    ['LabelParameterVersionCommand', 2, 'before'],
    ['LabelParameterVersionCommand', 2, 'after'], // previous moved
    ['DeleteParameterCommand', 1, 'before'],
    ['DeleteParameterCommand', 1, 'after'], // the pending place gone
  ] as const;
  it.each(boundaries)(
    'a crash at %s #%i (%s): a working value throughout; the next run converges',
    async (command, at, when) => {
      clock.set(T0);
      const s = await secret();
      const old = `old-value-${made.n}`;
      clock.set(T0 + 91 * DAY);
      await expect(rotateSecret(s, deps({ ssm: crashing(command, at, when) }))).rejects.toMatchObject({
        name: 'Crash',
      });
      const between = await plain(s.parameter);
      expect(between).toBeDefined(); // the old or the new value: checked once the new one is known
      // The next run: at once (a lease of 60 s has passed), not at the next cadence.
      clock.set(T0 + 91 * DAY + 120_000);
      const out = await rotateSecret(s, deps());
      expect(out).toMatchObject({ outcome: 'rotated' });
      const fresh = await plain(s.parameter);
      expect([old, fresh]).toContain(between);
      expect(fresh).not.toBe(old);
      expect(await labelled(s.parameter, 'current')).toBe(fresh);
      expect(await labelled(s.parameter, 'previous')).toBe(old);
      await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
      // One rotation: the plain name has exactly one new version.
      expect(ssm.history(s.parameter).map((v) => v.version)).toEqual([1, 2]);
    },
  );

  it('100 concurrent runs for one secret: one rotation', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 91 * DAY);
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => rotateSecret(s, deps())));
    const rotated = outcomes.filter((o) => o.status === 'fulfilled' && o.value.outcome === 'rotated');
    expect(rotated.length).toBeGreaterThanOrEqual(1);
    expect(ssm.history(s.parameter).map((v) => v.version)).toEqual([1, 2]);
    expect(published().filter((t) => t === 'Rotation Succeeded').length).toBeGreaterThanOrEqual(1);
  });

  it('the kill switch on, or a dry run: planned and audited, nothing written (an unreadable switch fails closed: #shared/kill-switch)', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 91 * DAY);
    await operatorSsm().send(
      new PutParameterCommand({
        Name: '/nightshift/kill-switch',
        Value: 'on',
        Type: 'String',
        Overwrite: true,
      }),
    );
    try {
      expect(await rotateSecret(s, deps())).toMatchObject({
        outcome: 'planned',
        reason: expect.stringContaining('kill switch'),
      });
    } finally {
      await operatorSsm().send(
        new PutParameterCommand({
          Name: '/nightshift/kill-switch',
          Value: 'off',
          Type: 'String',
          Overwrite: true,
        }),
      );
    }
    expect(await rotateSecret(s, deps({ dryRun: true }))).toMatchObject({
      outcome: 'planned',
      reason: expect.stringContaining('dry run'),
    });
    expect(ssm.history(s.parameter).map((v) => v.version)).toEqual([1]);
    await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    expect(published()).toEqual([]);
  });
});
