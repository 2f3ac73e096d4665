import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { pendingName } from '../../../lambdas/rotation/model.ts';
import { rotateSecret, type SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { rotationSchema } from '../../../lib/config/rotation.ts';
import {
  clock,
  crashing,
  DAY,
  deps,
  events,
  made,
  operatorSsm,
  plain,
  secret,
  T0,
} from './rotation-fixture.ts';

describe('rotation under hostile and faulty conditions', () => {
  it('a person deletes .pending after test was recorded (finish then fails): abandoned, never recorded as done; a real rotation follows', async () => {
    clock.set(T0);
    const s = await secret();
    const old = `old-value-${made.n}`;
    clock.set(T0 + 91 * DAY);
    // Dies before finish's put: create, set, test are recorded in the lock.
    await expect(
      rotateSecret(s, deps({ ssm: crashing('PutParameterCommand', 2, 'before') })),
    ).rejects.toMatchObject({ name: 'Crash' });
    // A person removes the pending value (to cancel, or by mistake).
    await operatorSsm().send(new DeleteParameterCommand({ Name: pendingName(s.parameter) }));
    clock.set(T0 + 91 * DAY + 120_000);
    events.resetHistory();
    const out = await rotateSecret(s, deps());
    const kinds = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.[0]?.DetailType);
    // The given-up rotation is said so; the one that follows is a real one: a new version, labelled.
    expect(kinds).toEqual(['Rotation Abandoned', 'Rotation Started', 'Rotation Succeeded']);
    expect(out).toMatchObject({ outcome: 'rotated', version: 2 });
    expect(await plain(s.parameter)).not.toBe(old);
    expect(await plain(`${s.parameter}:previous`)).toBe(old);
  });

  it('a run outliving its lease creates .pending after the run that took over finished: every later run is busy forever', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 91 * DAY);
    let taken = false;
    const slow = new Proxy(operatorSsm(), {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (cmd: { constructor: { name: string } }) => {
          if (!taken && cmd.constructor.name === 'PutParameterCommand') {
            taken = true;
            // A stalls just before its create; its lease passes; B takes over and rotates all the way.
            clock.set(T0 + 91 * DAY + 120_000);
            expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
          }
          return target.send(cmd as never);
        };
      },
    });
    expect(await rotateSecret(s, deps({ ssm: slow }))).toMatchObject({ outcome: 'busy' });
    // A's pending value (untested, the id B just finished) is left behind.
    expect(await plain(pendingName(s.parameter))).toBeDefined();
    // Runs long after, even past the next due date: all busy, silently; nothing converges.
    const outs = [];
    for (const at of [T0 + 92 * DAY, T0 + 200 * DAY]) {
      clock.set(at);
      outs.push((await rotateSecret(s, deps())).outcome);
    }
    // Was a bug: ['busy', 'busy'] forever, no event, and the pending companion never cleaned up.
    expect(outs).not.toEqual(['busy', 'busy']);
    expect(outs[0]).toBe('not-due'); // the leftover removed, then nothing due
    await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('a forged .pending whose description names the last rotation id: busy forever, no event', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 91 * DAY);
    const first = await rotateSecret(s, deps());
    expect(first).toMatchObject({ outcome: 'rotated' });
    const id = (first as { rotationId: string }).rotationId;
    await operatorSsm().send(
      new PutParameterCommand({
        Name: pendingName(s.parameter),
        Value: 'x'.repeat(40),
        Type: 'SecureString',
        Description: `nightshift rotation ${id}`,
      }),
    );
    events.reset();
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    clock.set(T0 + 300 * DAY);
    const out = await rotateSecret(s, deps());
    // Was a bug: 'busy' (no lock exists), no event at all; the secret is 209 days overdue.
    expect(out.outcome).not.toBe('busy');
  });

  it('a String (not SecureString) parameter: refused before any pending value is created', async () => {
    clock.set(T0);
    made.n += 1;
    const parameter = `/webhooks/plain-${made.n}`;
    await operatorSsm().send(new PutParameterCommand({ Name: parameter, Value: 'plain', Type: 'String' }));
    const s: SecretConfig = { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
    clock.set(T0 + 91 * DAY);
    const out = await rotateSecret(s, deps()).catch((e: Error) => e);
    const pending = await plain(pendingName(parameter)).catch(() => undefined);
    expect(out).toMatchObject({
      name: 'RotationError',
      message: expect.stringContaining('not a SecureString'),
    });
    expect(pending).toBeUndefined();
  });
  it('a generated secret, not due: a .pending a person put (no Nightshift description) is promoted to the plain name untested', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 10 * DAY);
    await operatorSsm().send(
      new PutParameterCommand({ Name: pendingName(s.parameter), Value: 'typo', Type: 'String' }),
    );
    const out = await rotateSecret(s, deps());
    // Was a bug: outcome rotated; the plain name is now 'typo' (4 chars, not from the generate spec, never tested).
    expect(out.outcome).not.toBe('rotated');
    expect(await plain(s.parameter)).toBe(`old-value-${made.n}`);
  });
  it('parameter names are capped at 400 characters (events and the pending description name them twice); 400 rotates', async () => {
    expect(
      rotationSchema.shape.secrets.safeParse([
        { parameter: `/webhooks/${'k'.repeat(500)}`, kind: 'generated' },
      ]).success,
    ).toBe(false);
    clock.set(T0);
    const parameter = `/webhooks/${'k'.repeat(390)}`;
    await operatorSsm().send(
      new PutParameterCommand({ Name: parameter, Value: 'old', Type: 'SecureString' }),
    );
    const s: SecretConfig = { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
    clock.set(T0 + 91 * DAY);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
  });

  it('config: graceDays longer than cadenceDays, and a window shorter than the schedule, are accepted', () => {
    const base = {
      secrets: [{ parameter: '/a', kind: 'generated' as const, cadenceDays: 7, graceDays: 30 }],
    };
    // Was a bug: previous is moved on after 7 days although it should stay readable for 30.
    expect(rotationSchema.safeParse(base).success).toBe(false);
    // Was a bug: a 1-hour window with a daily rate() schedule may never be hit: the rotation waits forever, silently.
    expect(
      rotationSchema.safeParse({
        scheduleMinutes: 1440,
        secrets: [
          { parameter: '/a', kind: 'generated', window: { days: ['mon'], startHour: 10, endHour: 11 } },
        ],
      }).success,
    ).toBe(false);
  });
});
