/**
 * The bootstrap against an app user that attacks it (see `bootstrap-fixture.ts` for the app): the app user's
 * own text — a role setting, its database's settings, a role name — reaches the administrator's session,
 * and none of it may run there, in the dry run or in apply. Each attack has its control: the same text,
 * interpolated as it was before, does run.
 */
import { describe, expect, it } from 'vitest';
import type { BootstrapOutcome } from '../../../lambdas/rotation/bootstrap.ts';
import { withSession } from '../../../lambdas/rotation/postgres.ts';
import { quoteLiteral } from '../../../lambdas/rotation/postgres-sql.ts';
import { apps, as, bootstrap, caPem, singleUserApp, sqlOf } from './bootstrap-fixture.ts';

const settingsOf = async (app: { master: Parameters<typeof as>[0] }, role: string) =>
  ((
    await as(
      app.master,
      `SELECT setconfig FROM pg_db_role_setting WHERE setrole = '${role}'::regrole AND setdatabase = 0`,
    )
  )[0]?.setconfig ?? []) as string[];
const exists = async (app: { master: Parameters<typeof as>[0] }, sql: string) =>
  ((await as(app.master, `SELECT (${sql}) AS yes`))[0] as { yes: boolean }).yes;

describe('bootstrap › an app user attacking the administrator’s session', () => {
  it('a role setting that opens a dollar quote ($$, "$$; COMMIT; … --") is copied as its text: nothing of it runs, dry run or apply', async () => {
    // A superuser administrator: what the payload asks (SUPERUSER) would be granted if it ran.
    const app = await singleUserApp({ admin: 'superuser' });
    const { blue, green } = app;
    const canary = `public.canary_${apps.n}`;
    const payload = `$$, "$$; COMMIT; ALTER ROLE ${blue.username} SUPERUSER; CREATE TABLE ${canary} (); --"`;
    // The app user's own settings: ALTER ROLE … SET of its own role needs no privilege.
    await as(blue, `ALTER ROLE ${blue.username} SET default_tablespace = ${quoteLiteral(payload)}`);
    await as(
      blue,
      `ALTER ROLE ${blue.username} SET search_path = shop, public, '$$; CREATE TABLE ${canary} (); --'`,
    );
    const theirs = await settingsOf(app, blue.username);
    expect(theirs).toContain(`default_tablespace=${payload}`);
    const before = await app.catalog();
    const unharmed = async () => {
      expect(await exists(app, `to_regclass('${canary}') IS NOT NULL`)).toBe(false);
      expect(await exists(app, `SELECT rolsuper FROM pg_roles WHERE rolname = '${blue.username}'`)).toBe(
        false,
      );
    };

    const planned = sqlOf(await bootstrap(app));
    await unharmed();
    expect(await app.catalog()).toBe(before);
    const applied = await bootstrap(app, true).catch((e: Error) => e);
    await unharmed();
    expect(applied).toMatchObject({ outcome: 'applied' });
    // Each value one literal (a list of names one literal per name): the server stores what it was given.
    expect(planned).toContain(`ALTER ROLE "${green}" SET "default_tablespace" = ${quoteLiteral(payload)}`);
    expect(planned).toContain(
      `ALTER ROLE "${green}" SET "search_path" = 'shop', 'public', '$$; CREATE TABLE ${canary} (); --'`,
    );

    const copied = (await settingsOf(app, green)).filter((s) => !s.startsWith('role='));
    expect(copied.sort()).toEqual(theirs.filter((s) => !s.startsWith('role=')).sort());

    // The control: written back as the list it looks like (as the bootstrap did), it runs.
    await as(app.master, `ALTER ROLE "${green}" SET default_tablespace = ${payload}`);
    expect(await exists(app, `to_regclass('${canary}') IS NOT NULL`)).toBe(true);
    expect(await exists(app, `SELECT rolsuper FROM pg_roles WHERE rolname = '${blue.username}'`)).toBe(true);
    await as(app.master, `ALTER ROLE ${blue.username} NOSUPERUSER`);
  });

  it('a setting holding quotes and a backslash is copied exactly, as an escape string', async () => {
    const app = await singleUserApp();
    await as(app.master, `ALTER ROLE ${app.blue.username} SET application_name = 'a''b\\c'`);
    const out = await bootstrap(app);
    expect(sqlOf(out)).toContain(`ALTER ROLE "${app.green}" SET "application_name" = E'a''b\\\\c'`);
    expect((await bootstrap(app, true)).outcome).toBe('applied');
    expect(await settingsOf(app, app.green)).toContain(`application_name=a'b\\c`);
  });

  it('one statement per query: a text holding two is refused by the session, and the second never runs', async () => {
    const app = await singleUserApp();
    const canary = `canary_role_${apps.n}`;
    await expect(
      withSession(app.admin, caPem(), (query) => query(`SELECT 1; CREATE ROLE ${canary}`)),
    ).rejects.toThrow(/cannot insert multiple commands into a prepared statement/);
    await expect(
      withSession(app.admin, caPem(), (query) =>
        query(`ALTER ROLE ${app.blue.username} SET work_mem = 1000; CREATE ROLE ${canary}`, []),
      ),
    ).rejects.toThrow(/cannot insert multiple commands into a prepared statement/);
    expect(await exists(app, `EXISTS (SELECT FROM pg_roles WHERE rolname = '${canary}')`)).toBe(false);
  });
});

/** The app user owns its database (so it may ALTER DATABASE … SET), as many apps do. */
async function ownDatabase(app: Awaited<ReturnType<typeof singleUserApp>>) {
  await as(app.master, `ALTER DATABASE ${app.database} OWNER TO ${app.blue.username}`);
}

describe('bootstrap › an app user that owns its database', () => {
  it('quote_all_identifiers on there: every object still moves to the owner role (no "applied" that moved nothing)', async () => {
    const app = await singleUserApp();
    await ownDatabase(app);
    await as(app.blue, `ALTER DATABASE ${app.database} SET quote_all_identifiers = on`);
    const owned = async () =>
      Number(
        (
          (
            await as(
              app.master,
              `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                WHERE c.relowner = '${app.blue.username}'::regrole AND s.nspname NOT IN ('pg_catalog', 'information_schema')`,
            )
          )[0] as { n: string }
        ).n,
      );
    expect(await owned()).toBeGreaterThan(0);
    expect(await bootstrap(app, true)).toMatchObject({ outcome: 'applied' });
    expect(await owned()).toBe(0);
    expect(await bootstrap(app)).toMatchObject({ plan: { changes: [] } });
  });

  it('standard_conforming_strings off there, and a role named to close a literal: nothing of it runs, dry run or apply', async () => {
    const app = await singleUserApp();
    await ownDatabase(app);
    const canary = `canary_${apps.n}`;
    const evil = `x\\']);COMMIT;CREATE ROLE ${canary};--`;
    // A role the plan reads (its default privileges name the app user), made by the administrator as any.
    await as(app.admin, `CREATE ROLE "${evil.replaceAll('"', '""')}" NOLOGIN`);
    await as(
      app.master,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "${evil}" GRANT SELECT ON TABLES TO ${app.blue.username}`,
    );
    await as(app.blue, `ALTER DATABASE ${app.database} SET standard_conforming_strings = off`);
    await as(app.blue, `ALTER ROLE ${app.blue.username} SET standard_conforming_strings = off`);
    const noCanary = async () =>
      expect(await exists(app, `EXISTS (SELECT FROM pg_roles WHERE rolname = '${canary}')`)).toBe(false);
    const before = await app.catalog();

    const dryRun = await bootstrap(app).catch((e: Error) => e);
    await noCanary();
    expect(await app.catalog()).toBe(before);
    expect(dryRun).toMatchObject({ outcome: 'planned' });
    expect(sqlOf(dryRun as BootstrapOutcome)).toContain(
      `ALTER DEFAULT PRIVILEGES FOR ROLE "${evil}" GRANT SELECT ON TABLES TO "${app.owner}"`,
    );

    const applied = await bootstrap(app, true).catch((e: Error) => e);
    await noCanary();
    expect(applied).toMatchObject({ outcome: 'applied' });
    expect(await bootstrap(app)).toMatchObject({ plan: { changes: [] } });

    // A literal of ours reads the same with the setting off.
    const [read] = await as(app.admin, `SELECT ${quoteLiteral(evil)} AS v`);
    expect(read).toEqual({ v: evil });
    // The control: quoted as before (quotes doubled only) in a session there, the name runs its SQL.
    await as(
      app.admin,
      `SELECT count(*) FROM pg_roles WHERE rolname = ANY(ARRAY['${evil.replaceAll("'", "''")}']::text[])`,
    );
    expect(await exists(app, `EXISTS (SELECT FROM pg_roles WHERE rolname = '${canary}')`)).toBe(true);
  });

  it('an RDS-like administrator: privileges pg_database_owner granted move as it (through the owner), never GRANT pg_database_owner', async () => {
    const app = await singleUserApp();
    await ownDatabase(app);
    const planned = sqlOf(await bootstrap(app));
    expect(planned.filter((s) => s.includes('"pg_database_owner" TO'))).toEqual([]);
    expect(planned).toEqual(
      expect.arrayContaining([
        `GRANT "${app.blue.username}" TO "${app.admin.username}" WITH INHERIT TRUE, SET TRUE`,
        'SET ROLE "pg_database_owner"',
        `GRANT USAGE, CREATE ON SCHEMA public TO "${app.owner}"`,
        `ALTER DATABASE ${app.database} OWNER TO "${app.owner}"`,
      ]),
    );
    expect((await bootstrap(app, true)).outcome).toBe('applied');
    expect(await bootstrap(app)).toMatchObject({ plan: { changes: [] } });
    expect(
      await as(
        app.master,
        `SELECT datdba::regrole::text AS owner, has_schema_privilege('${app.owner}', 'public', 'CREATE') AS c,
          (SELECT count(*)::int FROM pg_auth_members WHERE member = '${app.admin.username}'::regrole AND (inherit_option OR set_option)) AS temporary
        FROM pg_database WHERE datname = current_database()`,
      ),
    ).toEqual([{ owner: app.owner, c: true, temporary: 0 }]);
    await as(app.blue, 'CREATE TABLE public.after_bootstrap (id int)');
  });
});
