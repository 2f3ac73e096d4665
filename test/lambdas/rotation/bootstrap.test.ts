/**
 * The alternating users' bootstrap on a real server (see `bootstrap-fixture.ts` for the app it starts from),
 * bootstrapped by an RDS-like administrator or by a superuser: the dry run changes nothing and declares the
 * locks PostgreSQL takes; apply leaves the layout the rotation expects, converges, and the first rotation
 * after it switches users with the app working throughout. A partly bootstrapped database gets only what is
 * left. Refusals are in `bootstrap-refusals.test.ts`, the plan's own checks in `bootstrap-plan.test.ts`.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import type { BootstrapChange } from '../../../lambdas/rotation/bootstrap.ts';
import { kindSteps } from '../../../lambdas/rotation/kinds.ts';
import { parseCredential } from '../../../lambdas/rotation/postgres.ts';
import { rotateSecret } from '../../../lambdas/rotation/rotate.ts';
import {
  ADMIN,
  apps,
  as,
  bootstrap,
  bootstrapDeps,
  caPem,
  changesOf,
  connect,
  held,
  logged,
  MASTER,
  named,
  singleUserApp,
  sqlOf,
} from './bootstrap-fixture.ts';
import { clock, DAY, deps, events, labelled, plain, ssm, T0 } from './rotation-fixture.ts';

describe('bootstrap › a single app user, an RDS-like administrator', () => {
  it('the dry run lists every change with its reason and locks, in order, and changes nothing', async () => {
    const app = await singleUserApp();
    const before = await app.catalog();
    const out = await bootstrap(app);
    expect(await app.catalog()).toBe(before);
    expect(out.outcome).toBe('planned');
    if (out.outcome !== 'planned') return;
    const { plan } = out;
    expect(plan).toMatchObject({ admin: ADMIN.username, appUser: app.blue.username, otherUser: app.green });
    const [blue, green, owner, admin] = [app.blue.username, app.green, app.owner, ADMIN.username].map(
      (r) => `"${r}"`,
    );
    const expected = [
      `CREATE ROLE ${owner} NOLOGIN`,
      `CREATE ROLE ${green} LOGIN`,
      `GRANT ${blue} TO ${admin} WITH INHERIT TRUE, SET TRUE`,
      `GRANT ${owner} TO ${blue} WITH INHERIT TRUE, SET TRUE`,
      `GRANT ${owner} TO ${green} WITH INHERIT TRUE, SET TRUE`,
      `ALTER ROLE ${green} SET "search_path" = 'shop', 'public'`,
      `GRANT "${app.auditWriter}" TO ${owner} WITH ADMIN FALSE, INHERIT TRUE, SET TRUE`,
      `REVOKE "${app.auditWriter}" FROM ${blue} GRANTED BY ${admin}`,
      `GRANT CREATE ON DATABASE ${app.database} TO ${owner}`,
      `REVOKE CREATE ON DATABASE ${app.database} FROM ${blue}`,
      `GRANT USAGE, CREATE ON SCHEMA public TO ${owner}`,
      `REVOKE USAGE, CREATE ON SCHEMA public FROM ${blue}`,
      `SET ROLE "${app.reporting}"`,
      `GRANT SELECT ON TABLE public.countries TO ${owner}`,
      `REVOKE SELECT ON TABLE public.countries FROM ${blue}`,
      'SET ROLE NONE',
      `ALTER SCHEMA shop OWNER TO ${owner}`,
      `ALTER TABLE shop.items OWNER TO ${owner}`,
      `ALTER SEQUENCE shop.invoice_no OWNER TO ${owner}`,
      `ALTER TABLE shop.orders OWNER TO ${owner}`,
      `ALTER VIEW public.order_summary OWNER TO ${owner}`,
      `ALTER FUNCTION shop.next_invoice() OWNER TO ${owner}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${blue} GRANT EXECUTE ON FUNCTIONS TO PUBLIC`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA shop GRANT SELECT ON TABLES TO "${app.reporting}"`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${blue} IN SCHEMA shop REVOKE SELECT ON TABLES FROM "${app.reporting}"`,
      `ALTER ROLE ${blue} SET role = ${owner}`,
      `ALTER ROLE ${green} SET role = ${owner}`,
    ];
    const sql = plan.changes.map((c) => c.sql);
    for (const statement of expected) expect(sql).toContain(statement);
    // The administrator's temporary memberships come after the roles exist and are revoked last.
    for (const r of [blue, owner, `"${app.reporting}"`]) {
      expect(sql.indexOf(`GRANT ${r} TO ${admin} WITH INHERIT TRUE, SET TRUE`)).toBeGreaterThan(1);
      expect(sql.indexOf(`REVOKE ${r} FROM ${admin}`)).toBeGreaterThan(
        sql.indexOf(`ALTER ROLE ${green} SET role = ${owner}`),
      );
    }
    // Besides those: the other two temporary memberships (the owner role, reporting) and the three revokes.
    expect(sql.length).toBe(expected.length + 5);
    // Objects go to the owner role after it may create in their schemas.
    expect(sql.indexOf(`ALTER SCHEMA shop OWNER TO ${owner}`)).toBeLessThan(
      sql.indexOf(`ALTER TABLE shop.orders OWNER TO ${owner}`),
    );
    const orders = plan.changes.find((c) => c.sql === `ALTER TABLE shop.orders OWNER TO ${owner}`);
    expect(orders?.locks.map((l) => [l.object, l.mode])).toEqual(
      expect.arrayContaining([
        ['table shop.orders', 'ACCESS EXCLUSIVE'],
        ['index shop.orders_pkey', 'ACCESS EXCLUSIVE'],
        ['sequence shop.orders_id_seq', 'ACCESS EXCLUSIVE'],
      ]),
    );
    expect(orders?.locks[0]).toMatchObject({
      until: 'the bootstrap transaction ends',
      blocks: expect.stringMatching(/reads included/),
    });
    const countries = plan.changes.find((c) => c.sql.includes('public.countries'));
    expect(countries?.locks).toEqual([
      expect.objectContaining({ object: 'table public.countries', mode: 'ACCESS SHARE' }),
    ]);
    expect(plan.changes.find((c) => c.sql.startsWith('ALTER ROLE'))?.locks).toEqual([]);
    for (const c of plan.changes) expect(c.why.length).toBeGreaterThan(20);
    expect(JSON.stringify(plan)).not.toMatch(/Pass-/);
    process.stdout.write(
      `\nbootstrap dry run (${plan.summary}):\n${plan.changes.map((c) => `${c.sql}\n    why: ${c.why}\n    locks: ${c.locks.map((l) => `${l.mode} ${l.object}`).join(', ') || 'none'}`).join('\n')}\nnotes: ${plan.notes.join(' | ')}\n`,
    );
  });

  it('the locks each change declares are the locks PostgreSQL takes for it', async () => {
    const app = await singleUserApp();
    const out = await bootstrap(app);
    const client = await connect(app.admin);
    const mismatches: string[] = [];
    try {
      await client.query('BEGIN');
      let before = await held(client);
      for (const change of changesOf(out) as BootstrapChange[]) {
        await client.query(change.sql);
        const now = await held(client);
        const declared = new Set(change.locks.map(named));
        for (const l of now)
          if (!before.has(l) && !declared.has(l)) mismatches.push(`${change.sql}: takes ${l}`);
        for (const l of declared) if (!now.has(l)) mismatches.push(`${change.sql}: declares ${l}, not held`);
        before = now;
      }
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
    expect(mismatches).toEqual([]);
    expect(changesOf(out).some((c) => c.locks.some((l) => l.mode === 'ACCESS EXCLUSIVE'))).toBe(true);
  });

  it('apply: the layout; the app (new sessions and one open before) keeps working; what came meanwhile is picked up; then nothing to do', async () => {
    const app = await singleUserApp();
    const { blue, green, owner, reporting, master } = app;
    const open = await connect(blue);
    try {
      const out = await bootstrap(app, true);
      expect(out).toMatchObject({ outcome: 'applied' });
      expect(sqlOf(out)).toContain(`CREATE ROLE "${green}" LOGIN`);
      // Roles and memberships: the new user has no password; the administrator's memberships are gone.
      expect(
        await as(
          master,
          `SELECT rolname, rolcanlogin, rolpassword IS NULL AS nopw FROM pg_authid
          WHERE rolname IN ('${green}', '${owner}') ORDER BY rolname`,
        ),
      ).toEqual([
        { rolname: green, rolcanlogin: true, nopw: true },
        { rolname: owner, rolcanlogin: false, nopw: true },
      ]);
      const members = (await as(
        master,
        `SELECT roleid::regrole::text AS r, member::regrole::text AS m FROM pg_auth_members
          WHERE member::regrole::text IN ('${blue.username}', '${green}', '${owner}', '${ADMIN.username}')
            AND roleid::regrole::text LIKE 'shop\\_%\\_${apps.n}'`,
      )) as { r: string; m: string }[];
      const pair = (x: { r: string; m: string }) => `${x.r} > ${x.m}`;
      expect(members.map(pair).sort()).toEqual(
        [
          { r: app.auditWriter, m: owner },
          { r: owner, m: blue.username },
          { r: owner, m: green },
          // The ADMIN OPTION a CREATEROLE role gets on the roles it creates (PostgreSQL 16+).
          ...[blue.username, green, owner, app.reporting, app.auditWriter].map((r) => ({
            r,
            m: ADMIN.username,
          })),
        ]
          .map(pair)
          .sort(),
      );
      expect(
        await as(
          master,
          `SELECT count(*)::int AS c FROM pg_auth_members WHERE member = '${ADMIN.username}'::regrole
          AND (inherit_option OR set_option)`,
        ),
      ).toEqual([{ c: 0 }]);
      // Everything the app user made is the owner role's; nothing is left to it.
      expect(
        await as(
          master,
          `SELECT count(*)::int AS c FROM pg_shdepend WHERE refobjid = '${blue.username}'::regrole
          AND deptype = 'o' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        ),
      ).toEqual([{ c: 0 }]);
      expect(
        await as(
          master,
          `SELECT DISTINCT relowner::regrole::text AS o FROM pg_class WHERE relnamespace = 'shop'::regnamespace
          UNION SELECT relowner::regrole::text FROM pg_class WHERE oid = 'public.order_summary'::regclass
          UNION SELECT proowner::regrole::text FROM pg_proc WHERE oid = 'shop.next_invoice()'::regprocedure
          UNION SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'shop'`,
        ),
      ).toEqual([{ o: owner }]);
      // New sessions act as the owner role, with the app's search_path; the moved grant and membership work.
      const work = `SELECT current_user AS me, (SELECT name FROM countries) AS country, next_invoice() AS invoice,
        (SELECT count(*)::int FROM order_summary) AS orders`;
      expect(await as(blue, work)).toEqual([{ me: owner, country: 'Netherlands', invoice: '1', orders: 1 }]);
      await as(
        blue,
        `INSERT INTO audit_log (what) VALUES ('after'); INSERT INTO orders (country) VALUES ('NL')`,
      );
      // What a login user creates now is the owner role's, and default privileges follow it.
      await as(
        blue,
        'CREATE TABLE shop.refunds (id int); CREATE FUNCTION shop.refund() RETURNS int LANGUAGE sql AS $$SELECT 1$$',
      );
      expect(
        await as(
          master,
          `SELECT relowner::regrole::text AS o, has_table_privilege('${reporting}', 'shop.refunds', 'SELECT') AS r,
          has_function_privilege('${reporting}', 'shop.refund()', 'EXECUTE') AS x FROM pg_class WHERE oid = 'shop.refunds'::regclass`,
        ),
      ).toEqual([{ o: owner, r: true, x: false }]);
      // A session opened before the bootstrap inherits the owner role's privileges: it keeps working.
      const old = async (sql: string) => (await open.query(sql)).rows;
      expect(await old('SELECT current_user AS me, (SELECT name FROM countries) AS country')).toEqual([
        { me: blue.username, country: 'Netherlands' },
      ]);
      await old(
        `INSERT INTO audit_log (what) VALUES ('old session'); INSERT INTO shop.items (order_id, sku) VALUES (1, 'x')`,
      );
      // ... but what it creates is its own: the next bootstrap picks it up, and only that.
      await old('CREATE TABLE shop.late (id int)');
      const next = await bootstrap(app);
      expect(sqlOf(next).filter((s) => !s.includes(ADMIN.username))).toEqual([
        `ALTER TABLE shop.late OWNER TO "${owner}"`,
      ]);
      expect(changesOf(await bootstrap(app, true)).length).toBeGreaterThan(0);
      const again = await bootstrap(app, true);
      expect(again).toMatchObject({
        outcome: 'applied',
        applied: [],
        plan: { summary: 'nothing to do: the layout is in place' },
      });
      expect(await bootstrap(app)).toMatchObject({ plan: { changes: [] } });
    } finally {
      await open.end();
    }
    // Audited (the statements, never a value) and announced once per apply that changed something.
    const entries = (await bootstrapDeps().audit.list('rotation')).filter(
      (e) => e.action === 'bootstrap' && e.subject === app.secret.parameter,
    );
    // One clock tick for all three: compared as a set.
    expect(entries.map((e) => `${e.outcome}: ${e.reason}`).sort()).toEqual([
      expect.stringMatching(/^performed: applied \d+ changes$/),
      expect.stringMatching(/^performed: applied \d+ changes$/),
      'performed: nothing to do: the layout is in place',
    ]);
    expect(JSON.stringify(entries)).not.toMatch(/Pass-/);
    const bootstrapped = events
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .filter((e) => e.DetailType === 'Rotation Bootstrapped');
    expect(bootstrapped).toHaveLength(2);
    expect(JSON.parse(bootstrapped[0]?.Detail ?? '{}')).toMatchObject({
      parameter: app.secret.parameter,
      appUser: blue.username,
      otherUser: green,
      ownerRole: owner,
      severity: 'info',
    });
  });

  it('the first rotation after it switches to the other user (the administrator sets its first password); both users work; no password in the server log', async () => {
    clock.set(T0);
    const app = await singleUserApp();
    await bootstrap(app, true);
    clock.set(T0 + 91 * DAY);
    const rotated = await rotateSecret(app.secret, deps({ kinds: kindSteps({ caBundle: caPem() }) }));
    expect(rotated).toMatchObject({ outcome: 'rotated', steps: ['create', 'set', 'test', 'finish'] });
    const green = parseCredential((await plain(app.secret.parameter)) ?? '', 'green');
    expect(green.username).toBe(app.green);
    expect(parseCredential((await labelled(app.secret.parameter, 'previous')) ?? '', 'blue')).toEqual(
      app.blue,
    );
    // The app, now as green: its search_path, the moved grant and membership, blue's objects.
    expect(
      await as(
        green,
        `SELECT current_user AS me, (SELECT name FROM countries) AS country, next_invoice() AS invoice,
        (SELECT count(*)::int FROM orders) AS orders`,
      ),
    ).toEqual([{ me: app.owner, country: 'Netherlands', invoice: '1', orders: 1 }]);
    await as(
      green,
      `INSERT INTO audit_log (what) VALUES ('green'); INSERT INTO items (order_id, sku) VALUES (1, 'g')`,
    );
    await as(green, 'CREATE TABLE shop.shipments (id int); INSERT INTO shop.shipments VALUES (1)');
    await as(app.blue, 'INSERT INTO shipments VALUES (2)');
    expect(await as(app.blue, 'SELECT count(*)::int AS c FROM shipments')).toEqual([{ c: 2 }]);
    // No password of any kind reached the server, whatever it logged.
    const passwords = new Set([MASTER.password, ADMIN.password, app.blue.password, green.password]);
    for (const name of [app.secret.parameter, `${app.secret.parameter}.pending`]) {
      for (const v of ssm.history(name))
        passwords.add((JSON.parse(v.value) as { password: string }).password);
    }
    expect(logged.some((l) => l.includes(`CREATE ROLE "${app.green}" LOGIN`))).toBe(true);
    expect(logged.some((l) => l.includes(`ALTER ROLE "${app.green}" PASSWORD 'SCRAM-SHA-256$`))).toBe(true);
    for (const password of passwords) expect(logged.filter((l) => l.includes(password))).toEqual([]);
  });
});

describe('bootstrap › a superuser administrator, a partly bootstrapped database', () => {
  it('plans only what is left, acts as object owners without SET ROLE, and converges', async () => {
    const app = await singleUserApp({ admin: 'superuser' });
    const { master, owner, blue } = app;
    await as(
      master,
      `CREATE ROLE ${owner} NOLOGIN; GRANT USAGE, CREATE ON SCHEMA shop TO ${owner};
      GRANT ${owner} TO ${blue.username} WITH INHERIT TRUE, SET TRUE; ALTER TABLE shop.orders OWNER TO ${owner}`,
    );
    const out = await bootstrap(app);
    const sql = sqlOf(out);
    for (const done of [
      `CREATE ROLE "${owner}"`,
      `TO "${blue.username}" WITH INHERIT`,
      'ALTER TABLE shop.orders ',
    ]) {
      expect(sql.filter((s) => s.includes(done))).toEqual([]);
    }
    expect(sql).toContain(`ALTER TABLE shop.items OWNER TO "${owner}"`);
    expect(sql.filter((s) => s.includes(MASTER.username) || s.startsWith('SET ROLE'))).toEqual([]);
    expect(sql).toContain(`GRANT SELECT ON TABLE public.countries TO "${owner}"`);
    expect(sql).toContain(`REVOKE SELECT ON TABLE public.countries FROM "${blue.username}"`);
    expect((await bootstrap(app, true)).outcome).toBe('applied');
    expect(await bootstrap(app)).toMatchObject({ plan: { changes: [] } });
    expect(await as(blue, 'SELECT current_user AS me, (SELECT name FROM countries) AS c')).toEqual([
      { me: owner, c: 'Netherlands' },
    ]);
  });
});
