/**
 * The consumer helper against the local SSM, and on a real PostgreSQL through a single-user rotation's
 * window (password changed, not yet finished): the helper's one retry recovers the consumer.
 */
import { LabelParameterVersionCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCache, isAuthFailure } from '../../consumer/credential.ts';
import { type KindSteps, kindSteps } from '../../lambdas/rotation/kinds.ts';
import { alterRolePasswordSql } from '../../lambdas/rotation/postgres-sql.ts';
import { rotateSecret } from '../../lambdas/rotation/rotate.ts';
import { PostgresFleet } from '../../local/postgres/fleet.ts';
import type { PostgresServer } from '../../local/postgres/server.ts';
import { clock, DAY, deps, operatorSsm, T0 } from '../lambdas/rotation/rotation-fixture.ts';

let n = 0;
const put = (name: string, value: string) =>
  operatorSsm().send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true }),
  );
/** The operator's client, counting GetParameter calls. */
function counting(): { ssm: SSMClient; gets: () => number } {
  let gets = 0;
  const ssm = new Proxy(operatorSsm(), {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (cmd: { constructor: { name: string } }) => {
        if (cmd.constructor.name === 'GetParameterCommand') gets++;
        return target.send(cmd as never);
      };
    },
  });
  return { ssm, gets: () => gets };
}
const refused = () => Object.assign(new Error('password authentication failed'), { code: '28P01' });

describe('withCredential', () => {
  it('on an authentication failure reads the value again and retries once; a second failure, or any other error, is thrown', async () => {
    const name = `/consumer/key-${++n}`;
    await put(name, 'one');
    const c = counting();
    const cache = new CredentialCache({ ssm: c.ssm, clock: () => clock.now() });
    expect(await cache.withCredential(name, async (v) => v)).toBe('one');
    await put(name, 'two');
    const seen: string[] = [];
    const out = await cache.withCredential(name, async (v) => {
      seen.push(v);
      if (v === 'one') throw refused();
      return v;
    });
    expect(out).toBe('two');
    expect(seen).toEqual(['one', 'two']);
    await expect(
      cache.withCredential(name, async () => {
        throw refused();
      }),
    ).rejects.toMatchObject({ code: '28P01' });
    const before = c.gets();
    await expect(
      cache.withCredential(name, async () => {
        throw new Error('connection reset');
      }),
    ).rejects.toThrow('connection reset');
    expect(c.gets()).toBe(before);
  });

  it('50 concurrent readers make one GetParameter; the cache serves until its TTL', async () => {
    const name = `/consumer/key-${++n}`;
    await put(name, 'value');
    const c = counting();
    clock.set(T0);
    const cache = new CredentialCache({ ssm: c.ssm, ttlMs: 60_000, clock: () => clock.now() });
    await Promise.all(Array.from({ length: 50 }, () => cache.get(name)));
    expect(c.gets()).toBe(1);
    clock.set(T0 + 59_000);
    await cache.get(name);
    expect(c.gets()).toBe(1);
    clock.set(T0 + 61_000);
    await cache.get(name);
    expect(c.gets()).toBe(2);
  });

  it('knows PostgreSQL and HTTP refusals', () => {
    expect(isAuthFailure({ code: '28P01' })).toBe(true);
    expect(isAuthFailure({ status: 401 })).toBe(true);
    expect(isAuthFailure({ code: 'ECONNREFUSED' })).toBe(false);
    expect(isAuthFailure(undefined)).toBe(false);
  });
});

describe('accepts (verifiers)', () => {
  it('the current value; the previous one only during the grace period; anything else never', async () => {
    const name = `/consumer/signing-${++n}`;
    clock.set(T0);
    await put(name, 'old-secret');
    await put(name, 'new-secret');
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['previous'] }),
    );
    const since = Date.now();
    const cache = new CredentialCache({ ssm: operatorSsm(), clock: () => since + 60_000 });
    const grace = 7 * DAY;
    expect(await cache.accepts(name, 'new-secret', grace)).toBe(true);
    expect(await cache.accepts(name, 'old-secret', grace)).toBe(true);
    expect(await cache.accepts(name, 'forged', grace)).toBe(false);
    const later = new CredentialCache({ ssm: operatorSsm(), clock: () => since + 8 * DAY });
    expect(await later.accepts(name, 'old-secret', grace)).toBe(false);
    expect(await later.accepts(name, 'new-secret', grace)).toBe(true);
  });
});

describe('accepts, just after a rotation', () => {
  it('a value rotated in right after a fresh read is accepted (read again); wrong values read SSM at most once a second', async () => {
    const name = `/consumer/key-${++n}`;
    clock.set(T0);
    await put(name, 'old-key');
    let now = Date.now();
    const { ssm, gets } = counting();
    const cache = new CredentialCache({ ssm, ttlMs: 60_000, clock: () => now });
    expect(await cache.accepts(name, 'old-key', 7 * DAY)).toBe(true);
    now += 200; // the rotation finishes 0.2 s after the verifier's read; a caller presents the new key at once
    await put(name, 'new-key');
    expect(await cache.accepts(name, 'new-key', 7 * DAY)).toBe(true);
    const before = gets();
    for (let i = 0; i < 50; i++) {
      now += 10;
      expect(await cache.accepts(name, `forged-${i}`, 7 * DAY)).toBe(false);
    }
    // 0.5 s of forged keys: one read again (plus the previous value's read), never one per request.
    expect(gets() - before).toBeLessThanOrEqual(2);
  });

  it('previous labelled a moment after the new value (a finish in progress): the old value is refused at most a second', async () => {
    const name = `/consumer/key-${++n}`;
    clock.set(T0);
    await put(name, 'first-key');
    let now = Date.now();
    const cache = new CredentialCache({ ssm: operatorSsm(), ttlMs: 300_000, clock: () => now });
    expect(await cache.accepts(name, 'first-key', 7 * DAY)).toBe(true);
    await put(name, 'second-key'); // the finish's put; its previous label comes next
    now += 2_000;
    expect(await cache.accepts(name, 'second-key', 7 * DAY)).toBe(true); // read again: the new value
    expect(await cache.accepts(name, 'first-key', 7 * DAY)).toBe(false); // between the put and the label
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['previous'] }),
    );
    now += 1_001;
    expect(await cache.accepts(name, 'first-key', 7 * DAY)).toBe(true);
  });

  it('two callers with the new value at once right after a rotation: both accepted (one read)', async () => {
    const name = `/consumer/key-${++n}`;
    clock.set(T0);
    await put(name, 'old-key');
    let now = Date.now();
    const { ssm, gets } = counting();
    const cache = new CredentialCache({ ssm, ttlMs: 60_000, clock: () => now });
    expect(await cache.accepts(name, 'old-key', 7 * DAY)).toBe(true);
    await put(name, 'new-key');
    now += 2_000;
    const before = gets();
    const both = await Promise.all([
      cache.accepts(name, 'new-key', 7 * DAY),
      cache.accepts(name, 'new-key', 7 * DAY),
    ]);
    expect(both).toEqual([true, true]);
    expect(gets() - before).toBe(1);
  });

  it('after a second rotation the previous value read before it is not believed', async () => {
    const name = `/consumer/key-${++n}`;
    clock.set(T0);
    await put(name, 'k1');
    await put(name, 'k2');
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['previous'] }),
    );
    let now = Date.now();
    const cache = new CredentialCache({ ssm: operatorSsm(), ttlMs: 60_000, clock: () => now });
    expect(await cache.accepts(name, 'k1', 7 * DAY)).toBe(true); // previous k1 cached
    await put(name, 'k3');
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['previous'] }),
    );
    now += 61_000; // the cache's TTL: the plain name read again (k3)
    expect(await cache.accepts(name, 'k3', 7 * DAY)).toBe(true);
    expect(await cache.accepts(name, 'k2', 7 * DAY)).toBe(true); // the new previous, not the cached k1
    expect(await cache.accepts(name, 'k1', 7 * DAY)).toBe(false);
  });

  it('the old value, held by a consumer that read it at start, is accepted as previous right after the rotation', async () => {
    const name = `/consumer/key-${++n}`;
    clock.set(T0);
    await put(name, 'first-key');
    let now = Date.now();
    const cache = new CredentialCache({ ssm: operatorSsm(), ttlMs: 60_000, clock: () => now });
    expect(await cache.accepts(name, 'forged', 7 * DAY)).toBe(false); // :previous found missing
    now += 2_000;
    await put(name, 'second-key');
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['previous'] }),
    );
    expect(await cache.accepts(name, 'second-key', 7 * DAY)).toBe(true);
    expect(await cache.accepts(name, 'first-key', 7 * DAY)).toBe(true);
  });
});

describe('a single-user rotation on a real PostgreSQL', () => {
  let fleet: PostgresFleet;
  let server: PostgresServer;
  beforeAll(async () => {
    fleet = await PostgresFleet.start();
    server = await fleet.create('webhooks-db', {
      master: { username: 'master_user', password: 'master-Pass-1' },
      database: 'webhooks',
    });
  }, 120_000);
  afterAll(() => fleet?.close());

  it('between the password change and the finish, the helper’s one retry takes the new password from .pending', async () => {
    const admin = await server.connect('webhooks');
    const user = {
      username: 'app_consumer',
      password: 'first-Pass-1',
      host: '127.0.0.1',
      port: server.port,
      dbname: 'webhooks',
    };
    await admin.query('CREATE ROLE app_consumer LOGIN');
    await admin.query(await alterRolePasswordSql(user.username, user.password));
    await admin.end();
    const name = `/consumer/db-${++n}`;
    await put(name, JSON.stringify(user));
    const query = (json: string) => async () => {
      const c = JSON.parse(json) as typeof user;
      const client = new pg.Client({
        ...c,
        user: c.username,
        database: c.dbname,
        ssl: { ca: fleet.caPem, rejectUnauthorized: true },
      });
      await client.connect();
      try {
        return (await client.query('SELECT 1 AS ok')).rows;
      } finally {
        await client.end();
      }
    };
    const cache = new CredentialCache({ ssm: operatorSsm(), clock: () => clock.now() });
    clock.set(T0);
    expect(await cache.withCredential(name, (v) => query(v)())).toEqual([{ ok: 1 }]);

    // The rotation dies right after ALTER ROLE: the plain name holds a password that no longer works.
    const base = kindSteps({ caBundle: fleet.caPem });
    const single = base['postgres-single'] as KindSteps;
    const dying = {
      ...base,
      'postgres-single': {
        ...single,
        set: async (...args: Parameters<NonNullable<KindSteps['set']>>) => {
          await single.set?.(...args);
          throw Object.assign(new Error('crash'), { name: 'Crash' });
        },
      },
    };
    const secret = {
      parameter: name,
      policy: { kind: 'postgres-single', cadenceDays: 90, graceDays: 7 },
    } as const;
    clock.set(T0 + 91 * DAY);
    await expect(rotateSecret(secret, deps({ kinds: dying }))).rejects.toThrow('crash');
    let failures = 0;
    const counted = (v: string) =>
      query(v)().catch((error) => {
        failures++;
        throw error;
      });
    // The cached value is refused once; the retry with .pending works, and the next call uses it directly.
    expect(await cache.withCredential(name, counted)).toEqual([{ ok: 1 }]);
    expect(await cache.withCredential(name, counted)).toEqual([{ ok: 1 }]);
    expect(failures).toBe(1);

    // A .pending naming another server is never followed, whatever its password.
    const other = `/consumer/db-${++n}`;
    await put(other, JSON.stringify({ ...user, password: 'stale-Pass-1' }));
    await put(`${other}.pending`, JSON.stringify({ ...user, host: '203.0.113.9', password: 'x-Pass-1' }));
    await expect(cache.withCredential(other, counted)).rejects.toMatchObject({ code: '28P01' });
    failures = 1;

    // The next run finishes; once the TTL has passed, the helper reads the plain name, which now works.
    clock.set(T0 + 91 * DAY + 120_000);
    expect(await rotateSecret(secret, deps({ kinds: base }))).toMatchObject({ outcome: 'rotated' });
    clock.set(T0 + 91 * DAY + 120_000 + 301_000);
    expect(await cache.withCredential(name, counted)).toEqual([{ ok: 1 }]);
    expect(failures).toBe(1);
  });
});
