import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import type { DatabaseKind } from './identifiers.ts';
import { type CreateAction, type SnapshotView, TAG } from './plan.ts';

/** The RDS calls of the snapshot runbook, every Describe paginated to the end (MaxRecords 100, Marker). */

export interface DatabaseView {
  readonly id: string;
  readonly kind: DatabaseKind;
  readonly arn: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  /** A master-password change RDS has accepted but not applied yet. */
  readonly pendingPassword?: boolean;
}

const tagsOf = (list: Tag[] | undefined) =>
  Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

async function paginate<T>(
  page: (marker: string | undefined) => Promise<{ items: T[]; marker?: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const out = await page(marker);
    all.push(...out.items);
    marker = out.marker;
  } while (marker);
  return all;
}

/** DB instances (not Aurora cluster members: those are snapshotted through their cluster) and clusters. */
export async function listDatabases(rds: RDSClient): Promise<DatabaseView[]> {
  const instances = await paginate(async (Marker) => {
    const out = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 100, Marker }));
    return { items: out.DBInstances ?? [], marker: out.Marker };
  });
  const clusters = await paginate(async (Marker) => {
    const out = await rds.send(new DescribeDBClustersCommand({ MaxRecords: 100, Marker }));
    return { items: out.DBClusters ?? [], marker: out.Marker };
  });
  return [
    ...instances
      .filter((i) => !i.DBClusterIdentifier)
      .map((i) => ({
        id: i.DBInstanceIdentifier ?? '',
        kind: 'instance' as const,
        arn: i.DBInstanceArn ?? '',
        status: i.DBInstanceStatus ?? '',
        tags: tagsOf(i.TagList),
        pendingPassword: i.PendingModifiedValues?.MasterUserPassword !== undefined,
      })),
    ...clusters.map((c) => ({
      id: c.DBClusterIdentifier ?? '',
      kind: 'cluster' as const,
      arn: c.DBClusterArn ?? '',
      status: c.Status ?? '',
      tags: tagsOf(c.TagList),
    })),
  ];
}

/** Every DB snapshot and DB cluster snapshot in the Region, manual and automated. */
export async function listSnapshots(rds: RDSClient): Promise<SnapshotView[]> {
  const instance = await paginate(async (Marker) => {
    const out = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 100, Marker }));
    return { items: out.DBSnapshots ?? [], marker: out.Marker };
  });
  const cluster = await paginate(async (Marker) => {
    const out = await rds.send(new DescribeDBClusterSnapshotsCommand({ MaxRecords: 100, Marker }));
    return { items: out.DBClusterSnapshots ?? [], marker: out.Marker };
  });
  const typeOf = (t: string | undefined): SnapshotView['type'] =>
    t === 'automated' ? 'automated' : 'manual';
  return [
    ...instance.map((s) => ({
      id: s.DBSnapshotIdentifier ?? '',
      kind: 'instance' as const,
      database: s.DBInstanceIdentifier ?? '',
      type: typeOf(s.SnapshotType),
      status: s.Status ?? '',
      createdAt: s.SnapshotCreateTime?.getTime() ?? createdByRun(tagsOf(s.TagList)),
      tags: tagsOf(s.TagList),
    })),
    ...cluster.map((s) => ({
      id: s.DBClusterSnapshotIdentifier ?? '',
      kind: 'cluster' as const,
      database: s.DBClusterIdentifier ?? '',
      type: typeOf(s.SnapshotType),
      status: s.Status ?? '',
      createdAt: s.SnapshotCreateTime?.getTime() ?? createdByRun(tagsOf(s.TagList)),
      tags: tagsOf(s.TagList),
    })),
  ];
}

/**
 * RDS reports no SnapshotCreateTime while a DB snapshot is still `creating`; a Nightshift snapshot's run tag
 * says when its run was, so tier decisions still see it. Others count as created at the epoch.
 */
function createdByRun(tags: Record<string, string>): number {
  const run = tags[TAG.runId]?.replace(/^run-/, '');
  const ms = run === undefined ? Number.NaN : Date.parse(run);
  return Number.isNaN(ms) ? 0 : ms;
}

export async function createSnapshot(rds: RDSClient, action: CreateAction): Promise<void> {
  const Tags = Object.entries(action.tags).map(([Key, Value]) => ({ Key, Value }));
  if (action.target.kind === 'instance') {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: action.snapshotId,
        DBInstanceIdentifier: action.target.id,
        Tags,
      }),
    );
  } else {
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: action.snapshotId,
        DBClusterIdentifier: action.target.id,
        Tags,
      }),
    );
  }
}

export async function deleteSnapshot(rds: RDSClient, snapshot: SnapshotView): Promise<void> {
  if (snapshot.kind === 'instance')
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshot.id }));
  else await rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshot.id }));
}
