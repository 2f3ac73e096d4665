import { createHash } from 'node:crypto';

export const VERIFY_PREFIX = 'nightshift-verify-';
/** RDS DB instance identifiers are at most 63 characters. */
const INSTANCE_ID_LIMIT = 63;

/**
 * The temporary instance a verification restores into: `nightshift-verify-<db>-<yyyymmdd>`, shortened with a
 * hash of the database name when it would pass RDS's 63-character limit; always a valid identifier.
 */
export function verifyInstanceId(database: string, ms: number): string {
  const day = new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
  const full = `${VERIFY_PREFIX}${database.toLowerCase()}-${day}`;
  if (full.length <= INSTANCE_ID_LIMIT) return full;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  const room = INSTANCE_ID_LIMIT - VERIFY_PREFIX.length - day.length - hash.length - 2;
  const head = database.toLowerCase().slice(0, room).replace(/-+$/, '');
  return `${VERIFY_PREFIX}${head}-${hash}-${day}`;
}
