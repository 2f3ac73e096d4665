/**
 * The SQL of a PostgreSQL password change that never sends the password: `ALTER ROLE … PASSWORD` with a
 * SCRAM-SHA-256 verifier computed here. Utility statements take no bind parameters (node-postgres#1004),
 * so the role and the verifier are quoted as PostgreSQL quotes them; the server stores the verifier as
 * given and can neither log nor echo a password it never saw (even with `log_statement = 'all'`).
 *
 * @module
 */
import { scramVerifier } from '#shared/scram';

/** PostgreSQL's identifier limit (NAMEDATALEN − 1 bytes). */
const MAX_IDENTIFIER_BYTES = 63;

export class PostgresSqlError extends Error {
  override readonly name = 'PostgresSqlError';
}

/** An identifier quoted as `quote_ident` would: in double quotes, each `"` doubled. */
export function quoteIdent(name: string): string {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > MAX_IDENTIFIER_BYTES || name.includes('\0')) {
    throw new PostgresSqlError(
      `role: ${JSON.stringify(name.slice(0, 80))} is not a PostgreSQL identifier (1-63 bytes, no NUL)`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A string literal as `quote_literal` writes it: in single quotes, each `'` doubled, and, when it holds a
 * backslash, as an escape string (`E'…'`) with each `\` doubled too, so that it reads the same whatever
 * `standard_conforming_strings` is (an app owning its database may turn it off for every session there).
 */
export function quoteLiteral(text: string): string {
  if (text.includes('\0')) throw new PostgresSqlError('a literal may not hold NUL');
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

/** `ALTER ROLE "<role>" PASSWORD 'SCRAM-SHA-256$…'`: the statement holds a verifier, never `password`. */
export async function alterRolePasswordSql(role: string, password: string): Promise<string> {
  return `ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(await scramVerifier(password))}`;
}
