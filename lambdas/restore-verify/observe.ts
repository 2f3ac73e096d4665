import {
  type DatabaseView,
  isNightshiftSnapshot,
  listDatabases,
  listSnapshots,
  selectTargets,
  TAG,
} from '#shared/rds-inventory';
import type { VerifyDeps } from './deps.ts';
import { VERIFY_PREFIX } from './identifiers.ts';
import { listPasswords } from './passwords.ts';
import type { CopyView, SnapshotToVerify, VerifyObservation } from './plan.ts';

/** Reads everything a tick plans from: databases, snapshots, records, temporary copies and passwords. */
export async function observeVerification(
  deps: Pick<VerifyDeps, 'rds' | 'ssm' | 'store' | 'config' | 'dueSince'>,
  now: number,
): Promise<VerifyObservation> {
  const [databases, snapshots, records, passwords] = await Promise.all([
    listDatabases(deps.rds),
    listSnapshots(deps.rds),
    deps.store.list(),
    listPasswords(deps.ssm),
  ]);
  const { targets } = selectTargets(databases, deps.config.targets);
  const newest = new Map<string, SnapshotToVerify>();
  for (const s of snapshots) {
    if (s.status !== 'available' || !isNightshiftSnapshot(s)) continue;
    const key = `${s.kind}#${s.database}`;
    const best = newest.get(key);
    if (!best || s.createdAt > best.createdAt)
      newest.set(key, {
        database: s.database,
        snapshotId: s.id,
        createdAt: s.createdAt,
        kind: s.kind,
      });
  }
  return {
    now,
    dueSince: deps.dueSince,
    rules: {
      restoreTimeoutMs: deps.config.restoreTimeoutMinutes * 60_000,
      instanceTtlMs: deps.config.instanceTtlHours * 3_600_000,
    },
    targets: targets.map((t) => ({ id: t.id, kind: t.kind })),
    snapshots: [...newest.values()],
    records,
    copies: copiesAmong(databases),
    passwords,
  };
}

/**
 * Temporary copies: instances named `nightshift-verify-*`, and clusters of that name, which count as
 * available once a member instance is; a password change RDS has not applied yet keeps a copy waiting.
 */
export function copiesAmong(databases: readonly DatabaseView[]): CopyView[] {
  const waiting = (status: string, pending: boolean) =>
    pending && status === 'available' ? 'resetting-master-credentials' : status;
  return databases
    .filter((db) => db.id.startsWith(VERIFY_PREFIX))
    .map((db) => {
      const serving = db.kind === 'instance' || db.memberStatuses.includes('available');
      const status = db.status === 'available' && !serving ? 'creating' : db.status;
      const expiresAt = Date.parse(db.tags[TAG.expiresAt] ?? '');
      return {
        id: db.id,
        kind: db.kind,
        status: waiting(status, db.pendingPassword),
        expiresAt: Number.isNaN(expiresAt) ? undefined : expiresAt,
        managed: db.tags[TAG.managed] === 'true',
      };
    });
}
