/**
 * Aurora DB clusters of the local RDS world: create, restore from a DB cluster snapshot, modify (master
 * password), delete (with a final snapshot, once no member is left but those being deleted).
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import { type QueryParams, queryList, queryString } from '../endpoint/query-protocol.ts';
import { restoreServer } from '../postgres/copy.ts';
import type { PostgresFleet } from '../postgres/fleet.ts';
import type { PostgresServer } from '../postgres/server.ts';
import { describeCluster } from './rds-describe.ts';
import { validIdentifier } from './rds-identifiers.ts';
import type { RdsCluster } from './rds-model.ts';
import { describePage } from './rds-pages.ts';
import { validMasterPassword } from './rds-passwords.ts';
import { createSnapshot } from './rds-snapshots.ts';
import type { RdsState } from './rds-state.ts';
import {
  auroraEngine,
  fault,
  filterOf,
  finalSnapshotOf,
  idOf,
  lazyFilter,
  queryBoolean,
  required,
  tagsOf,
} from './rds-wire.ts';

/** CreateDBCluster: a new, empty Aurora cluster (in a world with PostgreSQL, a new server). */
export function createCluster(w: RdsState, params: QueryParams): RdsCluster {
  const id = validIdentifier('DBClusterIdentifier', required(params, 'DBClusterIdentifier'), 63);
  const engine = auroraEngine(required(params, 'Engine'));
  if (w.clusters.has(id)) throw fault('DBClusterAlreadyExistsFault', 'DB Cluster already exists');
  const masterUsername = queryString(params, 'MasterUsername');
  if (!masterUsername) {
    throw fault(
      'InvalidParameterValue',
      'The parameter MasterUsername must be provided and must not be blank.',
    );
  }
  const password = queryString(params, 'MasterUserPassword');
  if (password === undefined) {
    throw fault(
      'InvalidParameterValue',
      'The parameter MasterUserPassword must be provided and must not be blank.',
    );
  }
  validMasterPassword(password);
  const dbName = queryString(params, 'DatabaseName');
  const cluster = w.newCluster(id, {
    engine,
    engineVersion: queryString(params, 'EngineVersion'),
    status: 'creating',
    tags: Object.fromEntries(tagsOf(params)),
    copyTagsToSnapshot: queryBoolean(params, 'CopyTagsToSnapshot') ?? false,
    port: Number(queryString(params, 'Port') ?? 5432),
    masterUsername,
    storageEncrypted: queryBoolean(params, 'StorageEncrypted') ?? false,
    dbName,
    ...networkOf(w, params),
  });
  w.clusters.set(id, cluster);
  startCluster(w, cluster, (fleet) =>
    fleet.create(id, { master: { username: masterUsername, password }, database: dbName }),
  );
  return cluster;
}

/** RestoreDBClusterFromSnapshot: a new Aurora cluster holding the DB cluster snapshot's data. */
export function restoreCluster(w: RdsState, params: QueryParams): RdsCluster {
  const id = validIdentifier('DBClusterIdentifier', required(params, 'DBClusterIdentifier'), 63);
  const snapshot = w.findSnapshot('cluster', required(params, 'SnapshotIdentifier'));
  const engine = auroraEngine(required(params, 'Engine'));
  if (w.clusters.has(id)) throw fault('DBClusterAlreadyExistsFault', 'DB Cluster already exists');
  if (snapshot.status !== 'available') {
    throw fault(
      'InvalidDBClusterSnapshotStateFault',
      `DBClusterSnapshot must have state available but actually has ${snapshot.status}`,
    );
  }
  if (engine !== snapshot.engine) {
    throw fault(
      'InvalidParameterCombination',
      `The engine name requested for your DB cluster (${engine}) doesn't match the engine name of your DB cluster snapshot (${snapshot.engine}).`,
    );
  }
  const given = tagsOf(params);
  const cluster = w.newCluster(id, {
    engine,
    engineVersion: queryString(params, 'EngineVersion') ?? snapshot.engineVersion,
    status: 'creating',
    // Without tags of its own, a restored cluster gets the snapshot's (as a restored instance does).
    tags: Object.fromEntries(given.size > 0 ? given : snapshot.tags),
    copyTagsToSnapshot: queryBoolean(params, 'CopyTagsToSnapshot') ?? false,
    port: Number(queryString(params, 'Port') ?? snapshot.port),
    masterUsername: snapshot.masterUsername,
    storageEncrypted: snapshot.encrypted,
    dbName: snapshot.dbName,
    ...networkOf(w, params),
  });
  w.clusters.set(id, cluster);
  const data = w.snapshotData.get(snapshot);
  startCluster(w, cluster, async (fleet) => {
    const copy = data && (await data);
    if (data && !copy) throw new Error(`DB cluster snapshot ${snapshot.id} holds no data`);
    // A snapshot without data (seeded) restores to an empty server whose master user has no password yet.
    const server = await fleet.create(id, copy ? {} : { master: { username: snapshot.masterUsername } });
    try {
      if (copy) await restoreServer(server, copy);
    } catch (error) {
      await fleet.remove(server);
      throw error;
    }
    return server;
  });
  return cluster;
}

/** The DB subnet group and VPC security groups a create or restore asks for. */
function networkOf(_w: RdsState, params: QueryParams): { subnetGroup: string; securityGroups: string[] } {
  return {
    subnetGroup: queryString(params, 'DBSubnetGroupName') ?? 'default',
    securityGroups: queryList(params, 'VpcSecurityGroupIds').filter(
      (g): g is string => typeof g === 'string',
    ),
  };
}

/**
 * Starts the server of a new cluster (`aurora-postgresql`, in a world with PostgreSQL) and makes the
 * cluster available once it is loaded and the clock's creation delay has passed.
 */
function startCluster(
  w: RdsState,
  cluster: RdsCluster,
  start: (fleet: PostgresFleet) => Promise<PostgresServer>,
): void {
  if (w.o.postgres && cluster.engine === 'aurora-postgresql') void w.back(cluster, start);
  w.o.clock.schedule(cluster.createTime + (w.o.instanceCreationMs ?? 10 * 60_000), async () => {
    await w.backings.get(cluster)?.server;
    if (cluster.status === 'creating') cluster.status = 'available';
  });
}

/** ModifyDBCluster: a new master password, applied at once (a real `ALTER ROLE` when a server backs it). */
export async function modifyCluster(w: RdsState, params: QueryParams): Promise<Record<string, unknown>> {
  const cluster = w.findCluster(required(params, 'DBClusterIdentifier'));
  const password = queryString(params, 'MasterUserPassword');
  if (cluster.status !== 'available') {
    throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} is not in the available state.`);
  }
  const pending: Record<string, string> = {};
  if (password !== undefined) {
    validMasterPassword(password);
    // Applied at once, whatever ApplyImmediately says (as RDS does for the master password).
    const server = await w.backings.get(cluster)?.server;
    if (server) {
      await server.setPassword(cluster.masterUsername, password).catch((error: unknown) => {
        w.failures.push(error);
        throw new AwsServiceError('InternalFailure', 'The master user password could not be changed.', 500);
      });
    }
    pending.MasterUserPassword = '****';
  }
  return { DBCluster: { ...describeCluster(w, cluster), PendingModifiedValues: pending } };
}

/**
 * DeleteDBCluster: `deleting` once no member is left but those being deleted (a final snapshot first if asked
 * for); the server stops and the cluster is gone after the clock's deletion delay.
 */
export function deleteCluster(w: RdsState, params: QueryParams): RdsCluster {
  const cluster = w.findCluster(required(params, 'DBClusterIdentifier'));
  const finalSnapshot = finalSnapshotOf(params, 'DB cluster', true);
  if (cluster.status === 'deleting') {
    throw fault('InvalidDBClusterStateFault', `Cluster ${cluster.id} is already being deleted.`);
  }
  const members = [...w.instances.values()].filter((i) => i.clusterId === cluster.id);
  if (members.some((i) => i.status !== 'deleting')) {
    throw fault(
      'InvalidDBClusterStateFault',
      'Cluster cannot be deleted, it still contains DB instances in non-deleting state.',
    );
  }
  if (finalSnapshot !== undefined) {
    createSnapshot(w, 'cluster', {
      DBClusterIdentifier: cluster.id,
      DBClusterSnapshotIdentifier: finalSnapshot,
    });
  }
  cluster.status = 'deleting';
  const backing = w.backings.get(cluster);
  const stopped = backing && w.track(w.stopBacking(cluster, backing));
  w.o.clock.schedule(w.o.clock.now() + (w.o.instanceDeletionMs ?? 2 * 60_000), async () => {
    await stopped;
    if (w.clusters.get(cluster.id) === cluster) w.clusters.delete(cluster.id);
  });
  return cluster;
}

/** DescribeDBClusters: one cluster by identifier, or every one matching the filters, a page at a time. */
export function describeClusters(w: RdsState, params: QueryParams): Record<string, unknown> {
  const id = queryString(params, 'DBClusterIdentifier');
  const records = id ? [w.findCluster(id)] : w.clusters.values();
  const match = filterOf(params, {
    'db-cluster-id': (c: RdsCluster, v) => v.some((x) => idOf(x) === c.id),
    'db-cluster-resource-id': (c, v) => v.includes(c.resourceId),
    engine: (c, v) => v.includes(c.engine),
  });
  const page = describePage(lazyFilter(records, match), params, 'db-clusters');
  return { Marker: page.marker, DBClusters: page.records.map((c) => describeCluster(w, c)) };
}
