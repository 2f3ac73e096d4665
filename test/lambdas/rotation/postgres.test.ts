import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logsIn,
  type PgCredential,
  parseCredential,
  setOwnPassword,
  testCredential,
} from '../../../lambdas/rotation/postgres.ts';
import {
  alterRolePasswordSql,
  PostgresSqlError,
  quoteIdent,
  quoteLiteral,
} from '../../../lambdas/rotation/postgres-sql.ts';
import { RotationError } from '../../../lambdas/rotation/ssm-protocol.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import type { PostgresServer } from '../../../local/postgres/server.ts';

const MASTER = 'app_owner';
const MASTER_PASSWORD = 'master-Pass-1';
let fleet: PostgresFleet;
let server: PostgresServer;
const logged: string[] = [];
let n = 0;

const credential = (username: string, password: string): PgCredential => ({
  username,
  password,
  host: '127.0.0.1',
  port: server.port,
  dbname: 'orders',
});
/** Runs `sql` as `user` over verified TLS; its rows. */
async function run(user: string, password: string, sql: string) {
  const c = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user,
    password,
    database: 'orders',
    ssl: { ca: fleet.caPem, rejectUnauthorized: true },
  });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}
const asMaster = (sql: string) => run(MASTER, MASTER_PASSWORD, sql);
/** A fresh login role with a first password (set by verifier). */
async function role(): Promise<PgCredential> {
  n += 1;
  const current = credential(`app_user_${n}`, `first-Pass-${n}`);
  await asMaster(`CREATE ROLE ${current.username} LOGIN`);
  await asMaster(await alterRolePasswordSql(current.username, current.password));
  return current;
}

beforeAll(async () => {
  fleet = await PostgresFleet.start({ onLog: (_, line) => logged.push(line) });
  server = await fleet.create('orders-db', {
    master: { username: MASTER, password: MASTER_PASSWORD },
    database: 'orders',
    logStatements: true,
  });
  await asMaster('CREATE ROLE app_user LOGIN');
}, 120_000);
afterAll(() => fleet?.close());

describe('postgres single user: set and test on a real server', () => {
  it('the role sets its own password to the new one; the old stops working, the new logs in; no password in the log', async () => {
    const current = await role();
    const pending = { ...current, password: 'second-Pass-xyz_123' };
    expect(await setOwnPassword({ current, pending, caBundle: fleet.caPem })).toBe('set');
    expect(await logsIn(pending, fleet.caPem)).toBe(true);
    expect(await logsIn(current, fleet.caPem)).toBe(false);
    await testCredential(pending, fleet.caPem);
    const log = logged.join('\n');
    expect(log).toContain(`ALTER ROLE "${current.username}" PASSWORD`);
    for (const p of [current.password, pending.password]) expect(log).not.toContain(p);
  });

  it('a rerun after a crash past the ALTER ROLE: the new password already works, nothing is changed', async () => {
    const current = await role();
    const pending = { ...current, password: 'second-Pass-rerun_1' };
    await setOwnPassword({ current, pending, caBundle: fleet.caPem });
    expect(await setOwnPassword({ current, pending, caBundle: fleet.caPem })).toBe('already-set');
  });

  it('the current credential no longer logs in (a crash left it behind): the previous one sets it', async () => {
    const previous = await role();
    const current = { ...previous, password: 'never-applied-Pass-1' };
    const pending = { ...previous, password: 'third-Pass-recover_1' };
    expect(await setOwnPassword({ current, previous, pending, caBundle: fleet.caPem })).toBe('set');
    expect(await logsIn(pending, fleet.caPem)).toBe(true);
  });

  it('neither current nor previous logs in: a clear error naming the user, no password; nothing changed', async () => {
    const real = await role();
    const current = { ...real, password: 'wrong-1-Pass' };
    const previous = { ...real, password: 'wrong-2-Pass' };
    const pending = { ...real, password: 'would-be-Pass-1' };
    const error = await setOwnPassword({ current, previous, pending, caBundle: fleet.caPem }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(RotationError);
    expect((error as Error).message).toMatch(
      new RegExp(`neither the current nor the previous credential of ${real.username}`),
    );
    for (const p of [current.password, previous.password, pending.password, real.password]) {
      expect((error as Error).message).not.toContain(p);
    }
    expect(await logsIn(real, fleet.caPem)).toBe(true);
  });

  it('a pending credential for another user or server is refused before anything is sent', async () => {
    const current = await role();
    await expect(
      setOwnPassword({
        current,
        pending: { ...current, username: 'postgres', password: 'x-Pass-1' },
        caBundle: fleet.caPem,
      }),
    ).rejects.toThrow(/a single-user rotation keeps the user and the server/);
  });

  it('a stored value that is not a credential names the parameter and the field, never the value', () => {
    expect(() => parseCredential('not json', '/db/app')).toThrow(
      /^\/db\/app does not hold a JSON credential/,
    );
    const error = (() => {
      try {
        parseCredential(
          JSON.stringify({ username: 'a', password: 'topsecret-value', host: 'h', port: 'x', dbname: 'd' }),
          '/db/app',
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/^\/db\/app is not a credential: port:/);
    expect(error?.message).not.toContain('topsecret-value');
  });
});

describe('a password change that never sends the password', () => {
  it("with log_statement = 'all' the statement is logged, the password is not; the new password logs in", async () => {
    const password = 'n3w-Secret-VALUE_that-must-not-leak';
    const sql = await alterRolePasswordSql('app_user', password);
    expect(sql).toMatch(/^ALTER ROLE "app_user" PASSWORD 'SCRAM-SHA-256\$4096:[^']+'$/);
    await asMaster(sql);
    expect(await run('app_user', password, 'SELECT current_user AS who')).toEqual([{ who: 'app_user' }]);
    const log = logged.join('\n');
    expect(log).toContain('ALTER ROLE "app_user" PASSWORD');
    expect(log).not.toContain(password);
  });

  it('the control: a password interpolated into ALTER ROLE does land in that log (what the verifier avoids)', async () => {
    const careless = 'careless-Plain-text-9';
    await asMaster(`ALTER ROLE app_user PASSWORD ${quoteLiteral(careless)}`);
    expect(logged.join('\n')).toContain(careless);
  });

  it('identifiers and literals are quoted as PostgreSQL quotes them; a bad role is refused, naming it', () => {
    expect(quoteIdent('app"blue')).toBe('"app""blue"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent('')).toThrow(PostgresSqlError);
    expect(() => quoteIdent('x'.repeat(64))).toThrow(/^role: "x{64}" is not a PostgreSQL identifier/);
  });
});
