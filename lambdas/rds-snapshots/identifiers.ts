import { createHash } from 'node:crypto';

import { type DatabaseKind, SNAPSHOT_PREFIX } from '#shared/rds-inventory';

/** RDS's identifier limits: DB snapshots up to 255 characters, DB cluster snapshots up to 63. */
export const SNAPSHOT_ID_LIMIT: Record<DatabaseKind, number> = { instance: 255, cluster: 63 };

/**
 * RDS identifier rules: letters, digits and hyphens; first a letter; no two consecutive hyphens; not ending in
 * a hyphen; at most `limit` characters.
 */
export function isValidIdentifier(id: string, limit: number): boolean {
  return (
    id.length >= 1 && id.length <= limit && /^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$/.test(id) && !id.endsWith('-')
  );
}

/** `20261122-0300` for a UTC instant. */
export function stamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 16).replace(':', '')}`;
}

/**
 * The identifier of a Nightshift snapshot of `database` taken at `ms`: `nightshift-<db>-<yyyymmdd>-<hhmm>`,
 * unique per database and minute, valid for RDS. When it would exceed the kind's limit, the database part is
 * shortened and a hash of the full name keeps it unique.
 */
export function snapshotIdentifier(database: string, kind: DatabaseKind, ms: number): string {
  const suffix = stamp(ms);
  const full = `${SNAPSHOT_PREFIX}${database.toLowerCase()}-${suffix}`;
  const limit = SNAPSHOT_ID_LIMIT[kind];
  if (full.length <= limit) return full;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 8);
  const room = limit - SNAPSHOT_PREFIX.length - suffix.length - hash.length - 2;
  const head = database.toLowerCase().slice(0, Math.max(room, 0)).replace(/-+$/, '');
  return `${SNAPSHOT_PREFIX}${head ? `${head}-` : ''}${hash}-${suffix}`;
}
