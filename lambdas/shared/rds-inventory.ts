import {
  type DBCluster,
  type DBInstance,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';

/**
 * What both RDS runbooks read: the Region's DB instances, Aurora clusters and snapshots, every Describe
 * paginated to the end (MaxRecords 100, Marker), and which of them Nightshift made.
 */

/** What a snapshot (or a copy) is of: a DB instance or an Aurora cluster. Their identifiers may coincide. */
export type DatabaseKind = 'instance' | 'cluster';

/** A database to snapshot and verify. */
export interface Target {
  readonly id: string;
  readonly kind: DatabaseKind;
}

export interface DatabaseView extends Target {
  readonly arn: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  /** A master-password change RDS has accepted but not applied yet. */
  readonly pendingPassword: boolean;
  /** A cluster's member instances' statuses (a cluster serves nothing until one is `available`). */
  readonly memberStatuses: readonly string[];
}

/** A snapshot in the Region, as observed. */
export interface SnapshotView {
  readonly id: string;
  readonly kind: DatabaseKind;
  /** The database it is a snapshot of. */
  readonly database: string;
  readonly type: 'manual' | 'automated';
  /** `available`, `creating`, … */
  readonly status: string;
  readonly createdAt: number;
  readonly tags: Readonly<Record<string, string>>;
}

export const SNAPSHOT_PREFIX = 'nightshift-';

/** Tags Nightshift puts on its snapshots and copies; IAM and the prune rules rely on them. */
export const TAG = {
  managed: 'nightshift:managed',
  tier: 'nightshift:tier',
  expiresAt: 'nightshift:expires-at',
  source: 'nightshift:source-db',
  runId: 'nightshift:run-id',
} as const;

/** Nightshift made it: its identifier has the prefix and it carries the managed tag. Both, never one. */
export function isNightshiftSnapshot(s: SnapshotView): boolean {
  return s.type === 'manual' && s.id.startsWith(SNAPSHOT_PREFIX) && s.tags[TAG.managed] === 'true';
}

/** Which databases the runbooks act on, as configured: by tag and/or by identifier. */
export interface TargetSelection {
  readonly tag?: { readonly key: string; readonly value: string };
  readonly instances: readonly string[];
  readonly clusters: readonly string[];
}

/**
 * The targets among the Region's databases, and the configured identifiers that name no database (bad
 * config: alerted, the others still acted on). Cluster members are never targets: their cluster is.
 */
export function selectTargets(
  databases: readonly DatabaseView[],
  selection: TargetSelection,
): { targets: Target[]; missing: string[] } {
  const chosen = new Map<string, Target>();
  for (const db of databases) {
    const tagged = selection.tag !== undefined && db.tags[selection.tag.key] === selection.tag.value;
    const listed = (db.kind === 'instance' ? selection.instances : selection.clusters).includes(db.id);
    if (tagged || listed) chosen.set(`${db.kind}:${db.id}`, { id: db.id, kind: db.kind });
  }
  const missing = [
    ...selection.instances.filter((id) => !chosen.has(`instance:${id}`)).map((id) => `DB instance ${id}`),
    ...selection.clusters.filter((id) => !chosen.has(`cluster:${id}`)).map((id) => `DB cluster ${id}`),
  ];
  return { targets: [...chosen.values()], missing };
}

export const tagsOf = (list: Tag[] | undefined): Record<string, string> =>
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

/**
 * DB instances that stand alone (Aurora cluster members are read as their cluster's `memberStatuses`) and
 * Aurora clusters: one paginated pass over each.
 */
export async function listDatabases(rds: RDSClient): Promise<DatabaseView[]> {
  const [instances, clusters] = await Promise.all([
    paginate<DBInstance>(async (Marker) => {
      const out = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 100, Marker }));
      return { items: out.DBInstances ?? [], marker: out.Marker };
    }),
    paginate<DBCluster>(async (Marker) => {
      const out = await rds.send(new DescribeDBClustersCommand({ MaxRecords: 100, Marker }));
      return { items: out.DBClusters ?? [], marker: out.Marker };
    }),
  ]);
  const members = new Map<string, string[]>();
  for (const i of instances) {
    if (!i.DBClusterIdentifier) continue;
    const list = members.get(i.DBClusterIdentifier) ?? [];
    list.push(i.DBInstanceStatus ?? '');
    members.set(i.DBClusterIdentifier, list);
  }
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
        memberStatuses: [],
      })),
    ...clusters.map((c) => ({
      id: c.DBClusterIdentifier ?? '',
      kind: 'cluster' as const,
      arn: c.DBClusterArn ?? '',
      status: c.Status ?? '',
      tags: tagsOf(c.TagList),
      pendingPassword: c.PendingModifiedValues?.MasterUserPassword !== undefined,
      memberStatuses: members.get(c.DBClusterIdentifier ?? '') ?? [],
    })),
  ];
}

/** Every DB snapshot and DB cluster snapshot in the Region, manual and automated. */
export async function listSnapshots(rds: RDSClient): Promise<SnapshotView[]> {
  const [instance, cluster] = await Promise.all([
    paginate(async (Marker) => {
      const out = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 100, Marker }));
      return { items: out.DBSnapshots ?? [], marker: out.Marker };
    }),
    paginate(async (Marker) => {
      const out = await rds.send(new DescribeDBClusterSnapshotsCommand({ MaxRecords: 100, Marker }));
      return { items: out.DBClusterSnapshots ?? [], marker: out.Marker };
    }),
  ]);
  return [
    ...instance.map((s) => snapshotView('instance', s.DBSnapshotIdentifier, s.DBInstanceIdentifier, s)),
    ...cluster.map((s) => snapshotView('cluster', s.DBClusterSnapshotIdentifier, s.DBClusterIdentifier, s)),
  ];
}

/** The fields DB snapshots and DB cluster snapshots share (their identifiers are named apart). */
interface SnapshotFields {
  readonly SnapshotType?: string;
  readonly Status?: string;
  readonly SnapshotCreateTime?: Date;
  readonly TagList?: Tag[];
}

function snapshotView(
  kind: DatabaseKind,
  id: string | undefined,
  database: string | undefined,
  s: SnapshotFields,
): SnapshotView {
  const tags = tagsOf(s.TagList);
  return {
    id: id ?? '',
    kind,
    database: database ?? '',
    type: s.SnapshotType === 'automated' ? 'automated' : 'manual',
    status: s.Status ?? '',
    createdAt: s.SnapshotCreateTime?.getTime() ?? createdByRun(tags),
    tags,
  };
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

/** Whether an SDK error is one of RDS's codes (the SDK's exception name, or the wire `Code`). */
export function isRdsError(error: unknown, ...codes: string[]): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { Code?: unknown }).Code;
  return codes.includes(error.name) || (typeof code === 'string' && codes.includes(code));
}
