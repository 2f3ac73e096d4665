/**
 * SSM's 100 versions and its label answers, end to end: the local SSM refuses the 101st version while the
 * oldest carries a label (ParameterMaxVersionLimitExceeded) and answers a bad label in `InvalidLabels` of a
 * successful response, as AWS does; the rotation moves or drops the labels it owns, is blocked (critical,
 * naming the label) by someone else's, and fails a step on `InvalidLabels` instead of taking it as done.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LabelParameterVersionCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { rotateSecret, type SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { clock, DAY, deps, events, operatorSsm, plain, ssm, T0 } from './rotation-fixture.ts';

let n = 0;
/** A generated secret with 100 versions written at T0 (the oldest labelled as given), due 91 days on. */
async function hundredVersions(oldestLabels: string[]): Promise<SecretConfig> {
  clock.set(T0);
  const parameter = `/webhooks/hundred-${++n}`;
  for (let i = 1; i <= 100; i++) {
    await operatorSsm().send(
      new PutParameterCommand({
        Name: parameter,
        Value: `v${i}-${n}`,
        Type: 'SecureString',
        Overwrite: i > 1,
      }),
    );
  }
  if (oldestLabels.length > 0) {
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: parameter, ParameterVersion: 1, Labels: oldestLabels }),
    );
  }
  clock.set(T0 + 91 * DAY);
  return { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
}
const eventsOf = () =>
  events.commandCalls(PutEventsCommand).map((c) => {
    const e = c.args[0].input.Entries?.[0];
    return { type: e?.DetailType, detail: JSON.parse(e?.Detail ?? '{}') as Record<string, unknown> };
  });
const versionsOf = (name: string) => ssm.history(name).map((v) => v.version);

describe('SSM’s 100 versions, end to end', () => {
  it('the oldest unlabelled: SSM drops it and the rotation puts the 101st', async () => {
    const s = await hundredVersions([]);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
    expect(versionsOf(s.parameter).at(0)).toBe(2);
    expect(versionsOf(s.parameter).at(-1)).toBe(101);
  });

  it('someone else’s label on the oldest: Rotation Blocked (critical, naming the label), nothing finished', async () => {
    const s = await hundredVersions(['release-2026-01']);
    const before = await plain(s.parameter);
    await rotateSecret(s, deps()).catch(() => undefined);
    expect(await plain(s.parameter)).toBe(before);
    expect(versionsOf(s.parameter)).toHaveLength(100);
    const blocked = eventsOf().find(
      (e) => e.type === 'Rotation Blocked' && e.detail.parameter === s.parameter,
    );
    expect(blocked?.detail).toMatchObject({ severity: 'critical' });
    expect(String(blocked?.detail.reason)).toContain('release-2026-01');
    // Once the person moves their label, the next run finishes.
    await operatorSsm().send(
      new LabelParameterVersionCommand({
        Name: s.parameter,
        ParameterVersion: 50,
        Labels: ['release-2026-01'],
      }),
    );
    clock.set(T0 + 91 * DAY + 3_600_000);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
    expect(versionsOf(s.parameter).at(-1)).toBe(101);
  });

  it('an InvalidLabels answer (a successful response) fails the step; the next run converges', async () => {
    const s = await hundredVersions([]);
    let refused = 0;
    const refusing = new Proxy(operatorSsm(), {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (cmd: { constructor: { name: string }; input: { Labels?: string[] } }) => {
          const out = await target.send(cmd as never);
          if (cmd.constructor.name === 'LabelParameterVersionCommand' && refused++ === 0) {
            return { ...(out as object), InvalidLabels: cmd.input.Labels };
          }
          return out;
        };
      },
    }) as SSMClient;
    await expect(rotateSecret(s, deps({ ssm: refusing }))).rejects.toThrow(/SSM refused label\(s\) current/);
    const failed = eventsOf().find((e) => e.type === 'Rotation Failed' && e.detail.parameter === s.parameter);
    expect(failed).toBeDefined();
    clock.set(T0 + 91 * DAY + 120_000);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
    expect(ssm.labelsOf(s.parameter).current).toBe(versionsOf(s.parameter).at(-1));
  });
});
