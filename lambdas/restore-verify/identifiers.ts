import { createHash } from 'node:crypto';
import type { DatabaseKind } from '#shared/rds-inventory';

export const VERIFY_PREFIX = 'nightshift-verify-';
/**
 * RDS DB instance and cluster identifiers are at most 63 characters; a cluster copy leaves room for its
 * member instance, `<copy>-1`.
 */
const COPY_ID_LIMIT: Record<DatabaseKind, number> = { instance: 63, cluster: 61 };
/** What ends a copy's name: instance copies end in the day, cluster copies in `-c`, so the two never collide. */
const SUFFIX: Record<DatabaseKind, (day: string) => string> = {
  instance: (day) => day,
  cluster: (day) => `${day}-c`,
};

/**
 * The temporary copy a verification restores into: `nightshift-verify-<db>-<yyyymmdd>` for a DB instance,
 * `nightshift-verify-<db>-<yyyymmdd>-c` for an Aurora cluster, shortened with a hash of the database name when
 * it would pass RDS's limit; always a valid identifier, never the same for an instance and a cluster.
 */
export function verifyCopyId(database: string, kind: DatabaseKind, ms: number): string {
  const day = new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
  const suffix = SUFFIX[kind](day);
  const limit = COPY_ID_LIMIT[kind];
  const full = `${VERIFY_PREFIX}${database.toLowerCase()}-${suffix}`;
  if (full.length <= limit) return full;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  const room = limit - VERIFY_PREFIX.length - suffix.length - hash.length - 2;
  const head = database.toLowerCase().slice(0, room).replace(/-+$/, '');
  return `${VERIFY_PREFIX}${head}-${hash}-${suffix}`;
}

/** The member instance added to a restored cluster copy (RDS serves a cluster through its instances). */
export const clusterMemberId = (copyId: string) => `${copyId}-1`;
