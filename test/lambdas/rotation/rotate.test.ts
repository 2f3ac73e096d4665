import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RotationLocks } from '../../../lambdas/rotation/lock.ts';
import { pendingName } from '../../../lambdas/rotation/model.ts';
import { type RotateDeps, rotateSecret, type SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { startStateTable } from '../../support/dynamo.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-02T12:00:00Z');
/** A clock the test sets by hand (forward and back: each case starts at T0). */
let now = T0;
const clock = {
  now: () => now,
  set: (ms: number) => {
    now = ms;
  },
};
const ssm = new SsmWorld({
  account: '123456789012',
  region: 'eu-west-1',
  clock: clock as never,
  emit: () => undefined,
});
const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted',
};
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [ssm],
  callerFor: (key) => (key === operator.accessKeyId ? operator : undefined),
});
const events = mockClient(EventBridgeClient);
let table: Awaited<ReturnType<typeof startStateTable>>;
let client: SSMClient;

beforeAll(async () => {
  await endpoint.listen();
  table = await startStateTable();
  client = new SSMClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  await endpoint.close();
  await table.stop();
});
beforeEach(() => {
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

let n = 0;
/** A fresh secret rotated quarterly, its one version 91 days old (due). */
async function secret(): Promise<SecretConfig> {
  n += 1;
  const parameter = `/webhooks/api-key-${n}`;
  await client.send(
    new PutParameterCommand({ Name: parameter, Value: `old-value-${n}`, Type: 'SecureString' }),
  );
  return { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
}

const deps = (o: Partial<RotateDeps> = {}): RotateDeps => ({
  ssm: client,
  locks: new RotationLocks(table.documents, table.tableName),
  events: new EventPublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'default'),
  audit: new AuditLog(table.documents, table.tableName, 400),
  clock: () => clock.now(),
  killSwitchParameter: '/nightshift/kill-switch',
  dryRun: false,
  owner: `run-${crypto.randomUUID()}`,
  leaseMs: 60_000,
  ...o,
});
const plain = async (name: string) =>
  (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
const labelled = async (name: string, label: string) =>
  (await client.send(new GetParameterCommand({ Name: `${name}:${label}`, WithDecryption: true }))).Parameter
    ?.Value;
const published = () =>
  events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.[0]?.DetailType);

/** An SSM client that dies (as the function would) at the `at`-th call of `command`, before or after it runs. */
function crashing(command: string, at: number, when: 'before' | 'after'): SSMClient {
  let seen = 0;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: { constructor: { name: string } }) => {
        const hit = cmd.constructor.name === command && ++seen === at;
        if (hit && when === 'before') throw Object.assign(new Error('crash'), { name: 'Crash' });
        const out = await target.send(cmd as never);
        if (hit) throw Object.assign(new Error('crash'), { name: 'Crash' });
        return out;
      };
    },
  });
}

describe('rotateSecret: generated', () => {
  it('a due secret: a new value under the plain name, current on it, previous on the old, the pending place gone', async () => {
    clock.set(T0);
    const s = await secret();
    clock.set(T0 + 91 * DAY);
    const out = await rotateSecret(s, deps());
    expect(out).toMatchObject({ outcome: 'rotated', version: 2, steps: ['create', 'set', 'test', 'finish'] });
    const fresh = await plain(s.parameter);
    expect(fresh).not.toBe(`old-value-${n}`);
    expect(fresh).toMatch(/^[A-Za-z0-9._-]{40}$/);
    expect(await labelled(s.parameter, 'current')).toBe(fresh);
    expect(await labelled(s.parameter, 'previous')).toBe(`old-value-${n}`);
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
    ['LabelParameterVersionCommand', 1, 'after'], // current moved
    ['LabelParameterVersionCommand', 2, 'after'], // previous moved
    ['DeleteParameterCommand', 1, 'after'], // the pending place gone
  ] as const;
  it.each(boundaries)(
    'a crash at %s #%i (%s): a working value throughout; the next run converges',
    async (command, at, when) => {
      clock.set(T0);
      const s = await secret();
      const old = `old-value-${n}`;
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
    await client.send(
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
      await client.send(
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
