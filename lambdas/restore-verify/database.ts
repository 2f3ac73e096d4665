import type { Check } from './checks.ts';

/** Where and how to reach a restored copy; the password never leaves this call. */
export interface CopyConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** PEM of the CA bundle that signs RDS's server certificates; TLS is required and verified. */
  readonly caBundle: string;
}

/**
 * Runs each check's SQL on the copy over verified TLS with short timeouts, returning each first value (or
 * the error, as a value that fails the check). Nothing is logged; the password is not in any error text.
 */
export async function runChecks(connection: CopyConnection, checks: readonly Check[]): Promise<unknown[]> {
  // Loaded on first use: only the check step of a verification needs a PostgreSQL driver, not every tick's
  // cold start.
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    ssl: { ca: connection.caBundle, rejectUnauthorized: true },
    connectionTimeoutMillis: 10_000,
    statement_timeout: 60_000,
    query_timeout: 65_000,
    application_name: 'nightshift-restore-verify',
  });
  await client.connect();
  try {
    const values: unknown[] = [];
    for (const check of checks) {
      try {
        const result = await client.query({ text: check.sql, rowMode: 'array' });
        values.push((result.rows[0] as unknown[] | undefined)?.[0] ?? null);
      } catch (error) {
        values.push(new CheckQueryError((error as Error).message));
      }
    }
    return values;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A check whose query failed; judged as a failure that names the database's error. */
export class CheckQueryError extends Error {
  override readonly name = 'CheckQueryError';
}
