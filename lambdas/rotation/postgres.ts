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
import { alterRolePasswordSql } from './postgres-sql.ts';
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

/** Runs `work` in a session logged in with `credential` over verified TLS. */
async function withSession<T>(
  credential: PgCredential,
  caBundle: string,
  work: (query: (sql: string) => Promise<unknown[]>) => Promise<T>,
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
    return await work(async (sql) => (await client.query(sql)).rows);
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
  const sql = await alterRolePasswordSql(pending.username, pending.password);
  await withSession(session, caBundle, (query) => query(sql));
  return 'set';
}

/** `test`: the new credential logs in and can query. */
export async function testCredential(pending: PgCredential, caBundle: string): Promise<void> {
  if (!(await logsIn(pending, caBundle))) {
    throw new RotationError(
      `the new credential of ${pending.username} does not log in to ${pending.host}:${pending.port}`,
    );
  }
}
