/**
 * A `pg` client logged in as a credential over TLS verified against a CA, as the tests and benches log in
 * to the local world's PostgreSQL servers.
 */
import pg from 'pg';
import type { PgCredential } from '../../lambdas/rotation/postgres.ts';

/** A connected client as `c` (the caller ends it); errors of an idle client are dropped. */
export async function pgClient(c: PgCredential, ca: string, applicationName?: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    user: c.username,
    password: c.password,
    database: c.dbname,
    ssl: { ca, rejectUnauthorized: true },
    ...(applicationName ? { application_name: applicationName } : {}),
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs `work` in a session as `c`; its result. */
export async function pgSession<T>(
  c: PgCredential,
  ca: string,
  work: (client: pg.Client) => Promise<T>,
  applicationName?: string,
): Promise<T> {
  const client = await pgClient(c, ca, applicationName);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
