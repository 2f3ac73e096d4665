/**
 * DB snapshots and DB cluster snapshots of the local RDS world: Describe (paginated, filtered), Create
 * (`creating` → `available` on the clock, a real copy of the server's data in a world with PostgreSQL) and
 * Delete (`deleting` → gone on the clock), with RDS's quotas and state rules.
 *
 * @module
 */
import { type QueryParams, queryString } from '../endpoint/query-protocol.ts';
import { copyServer, type ServerCopy } from '../postgres/copy.ts';
import { describeSnapshot } from './rds-describe.ts';
import { validIdentifier } from './rds-identifiers.ts';
import type { RdsCluster, RdsInstance, RdsSnapshot } from './rds-model.ts';
import { describePage } from './rds-pages.ts';
import type { RdsState } from './rds-state.ts';
import { fault, filterOf, idOf, lazyFilter, required, tagsOf } from './rds-wire.ts';

/** DescribeDBSnapshots / DescribeDBClusterSnapshots: by identifier, source, type and filters, a page at a time. */
export function describeSnapshots(
  w: RdsState,
  kind: 'db' | 'cluster',
  params: QueryParams,
): Record<string, unknown> {
  const [idParam, sourceParam, listKey] =
    kind === 'db'
      ? (['DBSnapshotIdentifier', 'DBInstanceIdentifier', 'DBSnapshots'] as const)
      : (['DBClusterSnapshotIdentifier', 'DBClusterIdentifier', 'DBClusterSnapshots'] as const);
  const id = queryString(params, idParam);
  const source = queryString(params, sourceParam);
  const type = queryString(params, 'SnapshotType');
  if (type !== undefined && !['manual', 'automated', 'shared', 'public', 'awsbackup'].includes(type)) {
    throw fault('InvalidParameterValue', `Invalid value ${type} for SnapshotType.`);
  }
  const records = id
    ? [w.findSnapshot(kind, id)]
    : (kind === 'db' ? w.snapshots : w.clusterSnapshots).values();
  const byType = (s: RdsSnapshot) => (type === undefined ? true : s.type === type);
  const bySource = (s: RdsSnapshot) => (source ? s.source === idOf(source) : true);
  const filters =
    kind === 'db'
      ? filterOf(params, {
          'db-instance-id': (s: RdsSnapshot, v) => v.some((x) => idOf(x) === s.source),
          'db-snapshot-id': (s, v) => v.some((x) => x.toLowerCase() === s.id),
          'dbi-resource-id': (s, v) => v.includes(s.sourceResourceId),
          'snapshot-type': (s, v) => v.includes(s.type),
          engine: (s, v) => v.includes(s.engine),
        })
      : filterOf(params, {
          'db-cluster-id': (s: RdsSnapshot, v) => v.some((x) => idOf(x) === s.source),
          'db-cluster-snapshot-id': (s, v) => v.some((x) => x.toLowerCase() === s.id),
          'snapshot-type': (s, v) => v.includes(s.type),
          engine: (s, v) => v.includes(s.engine),
        });
  const match = (s: RdsSnapshot) => byType(s) && bySource(s) && filters(s);
  const page = describePage(
    lazyFilter(records, match),
    params,
    kind === 'db' ? 'db-snapshots' : 'cluster-snapshots',
  );
  return { Marker: page.marker, [listKey]: page.records.map((s) => describeSnapshot(w, s)) };
}

/**
 * CreateDBSnapshot / CreateDBClusterSnapshot: a manual snapshot, `creating` until its data is copied and the
 * clock's creation delay has passed, within the Region's quota.
 */
export function createSnapshot(w: RdsState, kind: 'db' | 'cluster', params: QueryParams): RdsSnapshot {
  const db = kind === 'db';
  const id = validIdentifier(
    db ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier',
    required(params, db ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier'),
    db ? 255 : 63,
  );
  const source = db
    ? w.findInstance(required(params, 'DBInstanceIdentifier'))
    : w.findCluster(required(params, 'DBClusterIdentifier'));
  if ((db ? w.snapshots : w.clusterSnapshots).has(id)) throw w.alreadyExists(kind, id);
  if (db && 'clusterId' in source && source.clusterId !== undefined) {
    throw fault(
      'InvalidDBInstanceState',
      `The specified instance ${source.id} is a member of a cluster and a snapshot cannot be created directly. Please use the CreateDBClusterSnapshot API instead.`,
    );
  }
  if (source.status !== 'available') {
    throw db
      ? fault(
          'InvalidDBInstanceState',
          `Cannot create a snapshot because the database instance ${source.id} is not currently in the available state.`,
        )
      : fault('InvalidDBClusterStateFault', `DBCluster ${source.id} is not in the available state.`);
  }
  const quota = db ? w.quotas.manualSnapshots : w.quotas.manualClusterSnapshots;
  if (w.manualCount[kind] + 1 > quota) {
    throw fault(
      'SnapshotQuotaExceeded',
      db
        ? `Cannot create more than ${quota} manual snapshots`
        : `Cannot create more than ${quota} manual cluster snapshots`,
    );
  }
  const given = tagsOf(params);
  const tags = given.size === 0 && source.copyTagsToSnapshot ? new Map(source.tags) : given;
  const snapshot = w.store(
    w.snapshotOf(kind, id, source.id, source, {
      type: 'manual',
      status: 'creating',
      createTime: w.o.clock.now(),
      tags,
    }),
  );
  const delay = db ? (w.o.snapshotCreationMs ?? 5 * 60_000) : (w.o.clusterSnapshotCreationMs ?? 2 * 60_000);
  const data = copyData(w, source, snapshot);
  w.o.clock.schedule(snapshot.createTime + delay, async () => {
    // The clock waits for the copy: a snapshot is available once its data is copied and its time has come.
    const copied = data ? (await data) !== undefined : true;
    if (snapshot.status === 'creating') snapshot.status = copied ? 'available' : 'failed';
  });
  return snapshot;
}

/** Starts copying the data of the server behind `source` (if one does) for `snapshot`. */
function copyData(
  w: RdsState,
  source: RdsInstance | RdsCluster,
  snapshot: RdsSnapshot,
): Promise<ServerCopy | undefined> | undefined {
  const backing = w.backings.get(source);
  if (!backing) return undefined;
  const copy = backing.server.then(async (server) => {
    if (!server) {
      throw new Error(
        `DB ${snapshot.kind === 'db' ? 'instance' : 'cluster'} ${source.id} has no running server to copy`,
      );
    }
    return copyServer(server);
  });
  const data = copy.catch((error: unknown) => {
    w.failures.push(error);
    return undefined;
  });
  backing.copies.add(data);
  void data.finally(() => backing.copies.delete(data));
  w.snapshotData.set(snapshot, data);
  return w.track(data);
}

/**
 * DeleteDBSnapshot / DeleteDBClusterSnapshot: the snapshot turns `deleting` and is gone once the clock's
 * deletion delay has passed; meanwhile a second delete answers InvalidDBSnapshotState
 * (InvalidDBClusterSnapshotStateFault), after it DBSnapshotNotFound, as RDS does. The answer shows it
 * `deleted`. Its place under the quota is free at once (the world's choice: AWS documents no count of
 * snapshots being deleted).
 */
export function deleteSnapshot(
  w: RdsState,
  kind: 'db' | 'cluster',
  params: QueryParams,
): Record<string, unknown> {
  const db = kind === 'db';
  const snapshot = w.findSnapshot(
    kind,
    required(params, db ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier'),
  );
  if (snapshot.type === 'automated') {
    throw db
      ? fault('InvalidDBSnapshotState', 'automated snapshots cannot be deleted.')
      : fault('InvalidDBClusterSnapshotStateFault', 'Only manual snapshots may be deleted.');
  }
  if (snapshot.status !== 'available' && snapshot.status !== 'failed') {
    throw db
      ? fault(
          'InvalidDBSnapshotState',
          `Cannot delete the snapshot ${snapshot.id} because it is not in the available state (it is ${snapshot.status}).`,
        )
      : fault(
          'InvalidDBClusterSnapshotStateFault',
          `Cannot delete the cluster snapshot ${snapshot.id} because it is not in the available state (it is ${snapshot.status}).`,
        );
  }
  snapshot.status = 'deleting';
  if (snapshot.type === 'manual') w.manualCount[snapshot.kind] -= 1;
  w.snapshotData.delete(snapshot);
  w.o.clock.schedule(w.o.clock.now() + (w.o.snapshotDeletionMs ?? 60_000), () => {
    const records = db ? w.snapshots : w.clusterSnapshots;
    if (records.get(snapshot.id) === snapshot) records.delete(snapshot.id);
    snapshot.status = 'deleted';
  });
  return { ...describeSnapshot(w, snapshot), Status: 'deleted' };
}
