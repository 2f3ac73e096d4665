import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alterRolePasswordSql,
  PostgresSqlError,
  quoteIdent,
  quoteLiteral,
} from '../../../lambdas/rotation/postgres-sql.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import type { PostgresServer } from '../../../local/postgres/server.ts';

const MASTER = 'app_owner';
const MASTER_PASSWORD = 'master-Pass-1';
let fleet: PostgresFleet;
let server: PostgresServer;
const logged: string[] = [];

const client = (user: string, password: string) => {
  const c = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user,
    password,
    database: 'orders',
    ssl: { ca: fleet.caPem, rejectUnauthorized: true },
    connectionTimeoutMillis: 5_000,
  });
  c.on('error', () => undefined);
  return c;
};
async function run(user: string, password: string, sql: string) {
  const c = client(user, password);
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  fleet = await PostgresFleet.start({ onLog: (_, line) => logged.push(line) });
  // A server that logs every statement, as a careless production setting would.
  server = await fleet.create('orders-db', {
    master: { username: MASTER, password: MASTER_PASSWORD },
    database: 'orders',
    logStatements: true,
  });
  await run(MASTER, MASTER_PASSWORD, 'CREATE ROLE app_user LOGIN');
}, 120_000);
afterAll(() => fleet?.close());

describe('a password change that never sends the password', () => {
  it("with log_statement = 'all' the statement is logged, the password is not; the new password logs in", async () => {
    const password = 'n3w-Secret-VALUE_that-must-not-leak';
    const sql = await alterRolePasswordSql('app_user', password);
    expect(sql).toMatch(/^ALTER ROLE "app_user" PASSWORD 'SCRAM-SHA-256\$4096:[^']+'$/);
    await run(MASTER, MASTER_PASSWORD, sql);
    expect(await run('app_user', password, 'SELECT current_user AS who')).toEqual([{ who: 'app_user' }]);
    const log = logged.join('\n');
    expect(log).toContain('ALTER ROLE "app_user" PASSWORD');
    expect(log).not.toContain(password);
  });

  it('the control: a password interpolated into ALTER ROLE does land in that log (what the verifier avoids)', async () => {
    const careless = 'careless-Plain-text-9';
    await run(MASTER, MASTER_PASSWORD, `ALTER ROLE app_user PASSWORD ${quoteLiteral(careless)}`);
    expect(logged.join('\n')).toContain(careless);
  });

  it('identifiers and literals are quoted as PostgreSQL quotes them; a bad role is refused, naming it', () => {
    expect(quoteIdent('app"blue')).toBe('"app""blue"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent('')).toThrow(PostgresSqlError);
    expect(() => quoteIdent('x'.repeat(64))).toThrow(/^role: "x{64}" is not a PostgreSQL identifier/);
  });
});
