/**
 * The `postgres` single-user kind's `set` and `test`: the role changes its own password, logged in with its
 * current credential (or the previous one, when a crash left the current one behind), with a verifier
 * computed here; `test` logs in with the new one. Verified TLS, short connect, statement and lock
 * timeouts; no password in any error, log or statement the server sees.
 *
 * A credential is a JSON value `{ username, password, host, port, dbname }`.
 *
 * @module
 */
import * as z from 'zod/mini';
import { describeIssues } from '#shared/parse';
import { alterRolePasswordSql, quoteIdent } from './postgres-sql.ts';
import { RotationError } from './ssm-protocol.ts';

export const credentialSchema = z.object({
  username: z.string().check(z.minLength(1), z.maxLength(63)),
  password: z.string().check(z.minLength(1), z.maxLength(1024)),
  host: z.string().check(z.minLength(1), z.maxLength(253)),
  port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
  dbname: z.string().check(z.minLength(1), z.maxLength(63)),
});
export type PgCredential = z.infer<typeof credentialSchema>;

/** Parses a stored credential; the error names the parameter and the fields, never the value. */
export function parseCredential(json: string, parameter: string): PgCredential {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new RotationError(
      `${parameter} does not hold a JSON credential ({ username, password, host, port, dbname })`,
    );
  }
  const parsed = z.safeParse(credentialSchema, value);
  if (!parsed.success) {
    // Issues name paths and expectations; the password's value is never part of them.
    throw new RotationError(`${parameter} is not a credential: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** How long connecting and each statement may take: a rotation never hangs on a busy database. */
export const PG_TIMEOUTS = { connectMs: 5_000, statementMs: 10_000, lockMs: 3_000 } as const;

/** PostgreSQL's "password authentication failed" (and invalid_authorization_specification). */
const AUTH_FAILED = new Set(['28P01', '28000']);
const authFailed = (error: unknown) => AUTH_FAILED.has(String((error as { code?: unknown }).code));

/**
 * Set first in every session, over what the database's or role's settings say (an app that owns its
 * database may `ALTER DATABASE … SET` them for everyone logging in there): text in UTF-8, literals read as
 * `quoteLiteral` writes them, names resolved in `pg_catalog` only (never in a schema the app may create
 * objects in), catalog names printed unquoted as the code compares them (`quote_all_identifiers` on made
 * the bootstrap see no object it owns), and writable transactions. A constant, the one statement list sent
 * with the simple protocol: one round trip. (`role` is left alone here: a login user's sessions act as the
 * owner role on purpose; the administrator's sessions `SET ROLE NONE` themselves.)
 */
const SESSION_SETUP =
  "SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; SET search_path = pg_catalog, pg_temp; SET quote_all_identifiers = off; SET default_transaction_read_only = off";

/**
 * Runs `work` in a session logged in with `credential` over verified TLS. Each `query` runs ONE statement
 * with the extended protocol, which refuses a text holding more than one (`cannot insert multiple commands
 * into a prepared statement`), with `values` as bind parameters (`$1`, …).
 */
export async function withSession<T>(
  credential: PgCredential,
  caBundle: string,
  work: (query: (sql: string, values?: readonly unknown[]) => Promise<unknown[]>) => Promise<T>,
): Promise<T> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: credential.host,
    port: credential.port,
    user: credential.username,
    password: credential.password,
    database: credential.dbname,
    ssl: { ca: caBundle, rejectUnauthorized: true },
    connectionTimeoutMillis: PG_TIMEOUTS.connectMs,
    statement_timeout: PG_TIMEOUTS.statementMs,
    lock_timeout: PG_TIMEOUTS.lockMs,
    query_timeout: PG_TIMEOUTS.statementMs + 1_000,
    application_name: 'nightshift-rotation',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(SESSION_SETUP);
    return await work(async (sql, values = []) => {
      // node-postgres's `queryMode`: the extended protocol even without parameters (not in @types/pg).
      const config = { text: sql, values: [...values], queryMode: 'extended' as const };
      return (await client.query(config)).rows;
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether `credential` logs in; any other failure (unreachable, TLS) is thrown, named, without the value. */
export async function logsIn(credential: PgCredential, caBundle: string): Promise<boolean> {
  try {
    await withSession(credential, caBundle, (query) => query('SELECT 1'));
    return true;
  } catch (error) {
    if (authFailed(error)) return false;
    throw new RotationError(
      `could not reach ${credential.dbname} on ${credential.host}:${credential.port} as ${credential.username}: ${(error as { code?: string }).code ?? (error as Error).name}: ${(error as Error).message.slice(0, 200)}`,
    );
  }
}

/**
 * `set` for a single user: nothing when the new password already works (a rerun after a crash); else, in a
 * session of the current credential — or the previous one when the current no longer logs in — the role
 * sets its own password to the new one's verifier.
 */
export async function setOwnPassword(o: {
  readonly current: PgCredential;
  readonly previous?: PgCredential;
  readonly pending: PgCredential;
  readonly caBundle: string;
}): Promise<'already-set' | 'set'> {
  const { current, previous, pending, caBundle } = o;
  if (
    pending.username !== current.username ||
    pending.host !== current.host ||
    pending.port !== current.port
  ) {
    throw new RotationError(
      `the pending credential names ${pending.username}@${pending.host}:${pending.port}, the current one ${current.username}@${current.host}:${current.port}: a single-user rotation keeps the user and the server`,
    );
  }
  if (await logsIn(pending, caBundle)) return 'already-set';
  const session = (await logsIn(current, caBundle))
    ? current
    : previous && previous.username === current.username && (await logsIn(previous, caBundle))
      ? previous
      : undefined;
  if (!session) {
    throw new RotationError(
      `neither the current nor the previous credential of ${current.username} logs in to ${current.host}:${current.port}: recovery needs an administrator`,
    );
  }
  await changeOwnPassword(session, pending, caBundle);
  return 'set';
}

/**
 * In a session of `session` (the role itself), the role sets its own password to `pending`'s verifier.
 * `SET ROLE NONE` first: under `ALTER ROLE … SET role = <owner>` the session acts as the owner role, which
 * may not alter a login role; a role may always alter its own password.
 */
async function changeOwnPassword(session: PgCredential, pending: PgCredential, caBundle: string) {
  const sql = await alterRolePasswordSql(pending.username, pending.password);
  await withSession(session, caBundle, async (query) => {
    await query('SET ROLE NONE');
    return query(sql);
  });
}

/**
 * `set` for alternating users: the inactive role (`pending`'s) changes its own password, logged in with its
 * still-valid credential (`previous`: it was the active one before the last switch). When that one is lost
 * too (a rotation abandoned after its set), the administrator's credential, if configured, sets it: the only
 * use of a privileged login outside the bootstrap. Nothing when the new password already works.
 */
export async function setInactivePassword(o: {
  readonly current: PgCredential;
  readonly previous?: PgCredential;
  readonly pending: PgCredential;
  readonly admin?: () => Promise<PgCredential | undefined>;
  readonly caBundle: string;
}): Promise<'already-set' | 'set' | 'recovered'> {
  const { current, previous, pending, caBundle } = o;
  if (
    pending.username === current.username ||
    pending.host !== current.host ||
    pending.port !== current.port
  ) {
    throw new RotationError(
      `the pending credential names ${pending.username}@${pending.host}:${pending.port}, the current one ${current.username}@${current.host}:${current.port}: alternating users switch to the other user on the same server`,
    );
  }
  if (await logsIn(pending, caBundle)) return 'already-set';
  if (previous && previous.username === pending.username && (await logsIn(previous, caBundle))) {
    await changeOwnPassword(previous, pending, caBundle);
    return 'set';
  }
  const admin = await o.admin?.();
  if (!admin) {
    throw new RotationError(
      `the stored credential of ${pending.username} no longer logs in to ${pending.host}:${pending.port} and no adminParameter is configured: set one for recovery, or set its password by hand`,
    );
  }
  if (!(await logsIn(admin, caBundle))) {
    throw new RotationError(`the administrator credential (${admin.username}) does not log in either`);
  }
  const sql = await alterRolePasswordSql(pending.username, pending.password);
  // As the administrator itself, whatever a database's `role` setting says.
  await withSession(admin, caBundle, async (query) => {
    await query('SET ROLE NONE');
    return query(sql);
  });
  return 'recovered';
}

/**
 * `test`: the new credential logs in and can query; for alternating users, its sessions act as the owner
 * role (`ALTER ROLE … SET role = <owner>`), so what it creates belongs to the owner and the other user can
 * use it.
 */
export async function testCredential(
  pending: PgCredential,
  caBundle: string,
  ownerRole?: string,
): Promise<void> {
  if (!(await logsIn(pending, caBundle))) {
    throw new RotationError(
      `the new credential of ${pending.username} does not log in to ${pending.host}:${pending.port}`,
    );
  }
  if (ownerRole === undefined) return;
  const rows = (await withSession(pending, caBundle, (query) => query('SELECT current_user AS role'))) as {
    role: string;
  }[];
  if (rows[0]?.role !== ownerRole) {
    throw new RotationError(
      `sessions of ${pending.username} act as ${JSON.stringify(String(rows[0]?.role ?? 'nobody').slice(0, 63))}, not the owner role ${ownerRole}: run ALTER ROLE ${quoteIdent(pending.username)} SET role = ${quoteIdent(ownerRole)} (the bootstrap does), or objects it creates would be unreadable by the other user`,
    );
  }
}
