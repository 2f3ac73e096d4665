import {
  type DBCluster,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { isNightshiftSnapshot } from '../rds-snapshots/plan.ts';
import { listDatabases, listSnapshots } from '../rds-snapshots/rds.ts';
import { selectTargets } from '../rds-snapshots/targets.ts';
import type { VerifyDeps } from './deps.ts';
import { VERIFY_PREFIX } from './identifiers.ts';
import { listPasswords } from './passwords.ts';
import type { CopyView, SnapshotToVerify, VerifyObservation } from './plan.ts';

/** Reads everything a tick plans from: databases, snapshots, records, temporary copies and passwords. */
export async function observeVerification(
  deps: Pick<VerifyDeps, 'rds' | 'ssm' | 'store' | 'config' | 'dueSince'>,
  now: number,
): Promise<VerifyObservation> {
  const [databases, snapshots, records, copies, passwords] = await Promise.all([
    listDatabases(deps.rds),
    listSnapshots(deps.rds),
    deps.store.list(),
    observeCopies(deps.rds),
    listPasswords(deps.ssm),
  ]);
  const { targets } = selectTargets(databases, deps.config.targets);
  const newest = new Map<string, SnapshotToVerify>();
  for (const s of snapshots) {
    if (s.status !== 'available' || !isNightshiftSnapshot(s)) continue;
    const best = newest.get(s.database);
    if (!best || s.createdAt > best.createdAt)
      newest.set(s.database, {
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
    copies,
    passwords,
  };
}

/**
 * Temporary copies: instances named `nightshift-verify-*`, and clusters of that name, which count as
 * available once a member instance is; a password change RDS has not applied yet keeps a copy waiting.
 */
export async function observeCopies(rds: RDSClient): Promise<CopyView[]> {
  const instances: DBInstance[] = [];
  let marker: string | undefined;
  do {
    const page = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 100, Marker: marker }));
    instances.push(...(page.DBInstances ?? []));
    marker = page.Marker;
  } while (marker);
  const clusters: DBCluster[] = [];
  marker = undefined;
  do {
    const page: { DBClusters?: DBCluster[]; Marker?: string } = await rds.send(
      new DescribeDBClustersCommand({ MaxRecords: 100, Marker: marker }),
    );
    clusters.push(...(page.DBClusters ?? []));
    marker = page.Marker;
  } while (marker);
  const expiry = (tags: { Key?: string; Value?: string }[] | undefined) => {
    const ms = Date.parse(tags?.find((t) => t.Key === 'nightshift:expires-at')?.Value ?? '');
    return Number.isNaN(ms) ? undefined : ms;
  };
  const managed = (tags: { Key?: string; Value?: string }[] | undefined) =>
    tags?.some((t) => t.Key === 'nightshift:managed' && t.Value === 'true') ?? false;
  const waiting = (status: string, pending: boolean) =>
    pending && status === 'available' ? 'resetting-master-credentials' : status;
  return [
    ...instances
      .filter((i) => !i.DBClusterIdentifier && i.DBInstanceIdentifier?.startsWith(VERIFY_PREFIX))
      .map((i) => ({
        id: i.DBInstanceIdentifier ?? '',
        kind: 'instance' as const,
        status: waiting(i.DBInstanceStatus ?? '', i.PendingModifiedValues?.MasterUserPassword !== undefined),
        expiresAt: expiry(i.TagList),
        managed: managed(i.TagList),
      })),
    ...clusters
      .filter((c) => c.DBClusterIdentifier?.startsWith(VERIFY_PREFIX))
      .map((c) => {
        const member = instances.find((i) => i.DBClusterIdentifier === c.DBClusterIdentifier);
        const status =
          c.Status === 'available' && member?.DBInstanceStatus !== 'available'
            ? 'creating'
            : (c.Status ?? '');
        return {
          id: c.DBClusterIdentifier ?? '',
          kind: 'cluster' as const,
          status: waiting(status, c.PendingModifiedValues?.MasterUserPassword !== undefined),
          expiresAt: expiry(c.TagList),
          managed: managed(c.TagList),
        };
      }),
  ];
}
