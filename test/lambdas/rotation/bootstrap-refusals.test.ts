/**
 * The bootstrap's refusals on a real server (see `bootstrap-fixture.ts`): a malformed request, an unknown or
 * unsuitable secret, apply under the kill switch or the runbook dry run, an app transaction holding a table
 * past lock_timeout or past the transaction's deadline, an administrator credential that does not log in,
 * a rotation holding the lock or unfinished. Each changes nothing; apply holds the rotation lock.
 */
import { describe, expect, it } from 'vitest';
import { applyBootstrap, type BootstrapDeps, runBootstrap } from '../../../lambdas/rotation/bootstrap.ts';
import type { SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import {
  ADMIN,
  as,
  bootstrap,
  bootstrapDeps,
  caPem,
  changesOf,
  connect,
  KILL_SWITCH,
  put,
  singleUserApp,
} from './bootstrap-fixture.ts';
import { clock, deps, T0 } from './rotation-fixture.ts';

describe('bootstrap › bad requests change nothing', () => {
  const single: SecretConfig = {
    parameter: '/shop/single',
    policy: { kind: 'postgres-single', cadenceDays: 90, graceDays: 7 },
  };
  it.each([
    [{ bootstrap: { parameter: 42 } }, /bootstrap\.parameter: .*expected string.*\(got 42\)/],
    [
      { bootstrap: { parameter: '/shop/db-1', apply: 'yes' } },
      /bootstrap\.apply: .*expected boolean.*\(got "yes"\)/,
    ],
    [{ bootstrap: { parameter: '/shop/db-1', aply: true } }, /bootstrap: .*"aply"/],
    [{ bootstrap: {} }, /bootstrap\.parameter: .*\(got undefined\)/],
  ])('a malformed request %j is refused naming the field and value', async (request, message) => {
    await expect(runBootstrap(request, [], bootstrapDeps())).rejects.toThrow(message);
  });

  it('an unknown parameter, a secret that is not alternating, one without adminParameter: refused by name', async () => {
    const app = await singleUserApp();
    const before = await app.catalog();
    const layout = app.secret.alternating as NonNullable<SecretConfig['alternating']>;
    const noAdmin = { ...app.secret, alternating: { ...layout, adminParameter: undefined } };
    const ask = (parameter: string, secrets: SecretConfig[]) =>
      runBootstrap({ bootstrap: { parameter, apply: true } }, secrets, bootstrapDeps());
    await expect(ask('/shop/nope', [app.secret])).rejects.toMatchObject({
      name: 'UnknownResourceError',
      message: expect.stringMatching(
        /bootstrap\.parameter "\/shop\/nope" is not a configured secret \(configured: \/shop\/db-/,
      ),
    });
    await expect(ask(single.parameter, [single])).rejects.toThrow(
      'bootstrap.parameter "/shop/single" is postgres-single: only postgres-alternating secrets bootstrap',
    );
    await expect(ask(app.secret.parameter, [noAdmin])).rejects.toThrow(
      `bootstrap.parameter "${app.secret.parameter}" has no alternating.adminParameter`,
    );
    expect(await app.catalog()).toBe(before);
  });

  it('apply under the kill switch, the runbook dry run, or redriven from the dead-letter queue is refused (audited); the dry run still plans', async () => {
    const app = await singleUserApp();
    const before = await app.catalog();
    await put(KILL_SWITCH, 'on', 'String');
    try {
      await expect(bootstrap(app, true)).rejects.toMatchObject({
        name: 'BootstrapError',
        message: `bootstrap.apply true refused: kill switch ${KILL_SWITCH} is on; nothing changed (apply false plans)`,
      });
      expect(changesOf(await bootstrap(app, false)).length).toBeGreaterThan(10);
    } finally {
      await put(KILL_SWITCH, 'off', 'String');
    }
    await expect(bootstrap(app, true, { dryRun: true })).rejects.toThrow(
      /refused: the rotation runbook is in dry run/,
    );
    // A failed async apply redriven from the dead-letter queue is not replayed; its dry run still answers.
    await expect(bootstrap(app, true, { redriven: true })).rejects.toThrow(
      /refused: it came back in a redrive of a failed invocation/,
    );
    expect(changesOf(await bootstrap(app, false, { redriven: true })).length).toBeGreaterThan(10);
    expect(await app.catalog()).toBe(before);
    const entries = (await bootstrapDeps().audit.list('rotation')).filter(
      (e) => e.subject === app.secret.parameter,
    );
    expect(entries.map((e) => e.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
  });

  it('a transaction of the app holding a table: the apply gives up after lock_timeout, rolled back', async () => {
    const app = await singleUserApp();
    const before = await app.catalog();
    const busy = await connect(app.blue);
    try {
      await busy.query('BEGIN; SELECT count(*) FROM shop.orders');
      const started = Date.now();
      await expect(bootstrap(app, true)).rejects.toThrow(
        /ALTER TABLE shop\.orders OWNER .*: 55P03 canceling statement due to lock timeout; rolled back, nothing changed/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await busy.end();
    }
    expect(await app.catalog()).toBe(before);
  });

  it('an administrator credential that does not log in: refused naming it, nothing changed', async () => {
    const app = await singleUserApp();
    const before = await app.catalog();
    await put(
      app.secret.alternating?.adminParameter ?? '',
      JSON.stringify({ ...ADMIN, password: 'wrong-Pass-b9' }),
    );
    await expect(bootstrap(app, true)).rejects.toThrow(
      new RegExp(`as ${ADMIN.username} \\(adminParameter\\): 28P01: .*nothing changed`),
    );
    expect(await app.catalog()).toBe(before);
  });

  it('past the transaction deadline (whatever the server version: no transaction_timeout needed) the apply gives up, its session closed, rolled back', async () => {
    const app = await singleUserApp();
    const before = await app.catalog();
    const busy = await connect(app.blue);
    const layout = app.secret.alternating as NonNullable<SecretConfig['alternating']>;
    try {
      await busy.query('BEGIN; SELECT count(*) FROM shop.orders');
      const started = Date.now();
      // The ALTER TABLE waits for the app's lock; lock_timeout (3 s) would end it later than the deadline.
      await expect(
        applyBootstrap({ current: app.blue, admin: app.admin, layout, caBundle: caPem(), deadlineMs: 1_000 }),
      ).rejects.toThrow(
        /^the bootstrap transaction passed its deadline \(1000 ms, TRANSACTION_MS\) at ALTER TABLE shop\.orders OWNER TO "[^"]+": its session was closed without COMMIT, so the server rolled it back; nothing changed$/,
      );
      expect(Date.now() - started).toBeLessThan(2_900);
      // The server ends the closed session at once (client_connection_check_interval, PostgreSQL 14+; else
      // when its statement ends: lock_timeout, statement_timeout), its lock wait with it.
      let left = -1;
      for (let i = 0; i < 50 && left !== 0; i++) {
        const [row] = await as(
          app.master,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${ADMIN.username}' AND datname = current_database()`,
        );
        left = (row as { n: number }).n;
        if (left !== 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(left).toBe(0);
      // Before lock_timeout would have ended the ALTER TABLE (3 s after it began).
      expect(Date.now() - started).toBeLessThan(2_900);
    } finally {
      await busy.end();
    }
    expect(await app.catalog()).toBe(before);
  });
});

describe('bootstrap › the rotation lock', () => {
  it('a rotation holding the lock, or one unfinished (its lease over, its .pending left): apply refused naming it, its lock as it was', async () => {
    clock.set(T0);
    const app = await singleUserApp();
    const before = await app.catalog();
    const { locks } = deps();
    const name = app.secret.parameter;
    await locks.acquire(name, 'rotation-running', 'other-run', T0, 60_000);
    await expect(bootstrap(app, true)).rejects.toThrow(
      `bootstrap.apply true refused: rotation rotation-running of ${name} is in progress; nothing changed (apply false plans)`,
    );
    // Crashed after its create: the lease lapsed, the step and the pending value remain.
    await locks.release(name, 'other-run');
    await locks.acquire(name, 'rotation-crashed', 'crashed-run', T0 - 600_000, 60_000);
    await locks.advance(name, 'crashed-run', 'create', T0 - 590_000, 60_000);
    await put(`${name}.pending`, JSON.stringify({ ...app.blue, password: 'pending-Pass-9' }));
    await expect(bootstrap(app, true)).rejects.toThrow(
      `bootstrap.apply true refused: ${name}.pending exists: a rotation (rotation-crashed) has not finished`,
    );
    expect((await locks.read(name)).lock).toMatchObject({
      rotationId: 'rotation-crashed',
      owner: 'crashed-run',
      step: 'create',
    });
    // The dry run still plans.
    expect(changesOf(await bootstrap(app)).length).toBeGreaterThan(10);
    expect(await app.catalog()).toBe(before);
  });

  it('apply holds it as bootstrap@<time> (a rotation meanwhile cannot take it) and lets it go, also when it fails', async () => {
    clock.set(T0);
    const app = await singleUserApp();
    const name = app.secret.parameter;
    const real = deps().locks;
    const seen: string[] = [];
    const locks: BootstrapDeps['locks'] = {
      read: (n) => real.read(n),
      acquire: async (...a) => {
        seen.push(`acquire ${a[1]} by ${a[2]}`);
        return real.acquire(...a);
      },
      release: async (n, owner) => {
        const held = (await real.read(n)).lock;
        const rotation = await real.acquire(n, 'rotation-meanwhile', 'rotation-run', clock.now(), 60_000);
        seen.push(`release: held by ${held?.rotationId} (${held?.owner}); a rotation takes it: ${rotation}`);
        return real.release(n, owner);
      },
    };
    const out = await bootstrap(app, true, { locks, owner: 'request-1' });
    expect(out.outcome).toBe('applied');
    const at = new Date(T0).toISOString();
    expect(seen).toEqual([
      `acquire bootstrap@${at} by request-1`,
      `release: held by bootstrap@${at} (request-1); a rotation takes it: false`,
    ]);
    expect((await real.read(name)).lock).toBeUndefined();
    // A failing apply lets it go too.
    seen.length = 0;
    await put(
      app.secret.alternating?.adminParameter ?? '',
      JSON.stringify({ ...ADMIN, password: 'wrong-Pass-b9' }),
    );
    await expect(bootstrap(app, true, { locks, owner: 'request-2' })).rejects.toThrow(/28P01/);
    expect(seen[1]).toBe(`release: held by bootstrap@${at} (request-2); a rotation takes it: false`);
    expect((await real.read(name)).lock).toBeUndefined();
  });
});
