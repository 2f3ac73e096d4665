/**
 * DB instances of the local RDS world: restore from a DB snapshot, modify (instance class, master password),
 * delete (with a final snapshot), and create as a member of an Aurora cluster.
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import { type QueryParams, queryList, queryString } from '../endpoint/query-protocol.ts';
import { restoreServer } from '../postgres/copy.ts';
import { describeInstance } from './rds-describe.ts';
import { validIdentifier } from './rds-identifiers.ts';
import type { RdsInstance } from './rds-model.ts';
import { describePage } from './rds-pages.ts';
import { validMasterPassword } from './rds-passwords.ts';
import { createSnapshot } from './rds-snapshots.ts';
import type { RdsState } from './rds-state.ts';
import {
  fault,
  filterOf,
  finalSnapshotOf,
  idOf,
  lazyFilter,
  queryBoolean,
  required,
  tagsOf,
  validInstanceClass,
} from './rds-wire.ts';

/**
 * RestoreDBInstanceFromDBSnapshot: a new `creating` instance from an available DB snapshot (in a world with
 * PostgreSQL, a new server loaded from the snapshot's copy), available after the clock's creation delay.
 */
export function restoreInstance(w: RdsState, params: QueryParams): RdsInstance {
  const id = validIdentifier('DBInstanceIdentifier', required(params, 'DBInstanceIdentifier'), 63);
  const snapshot = w.findSnapshot('db', required(params, 'DBSnapshotIdentifier'));
  if (w.instances.has(id)) throw fault('DBInstanceAlreadyExists', 'DB instance already exists');
  if (snapshot.status !== 'available') {
    throw fault(
      'InvalidDBSnapshotState',
      `DBSnapshot must have state available but actually has ${snapshot.status}`,
    );
  }
  const instanceClass = validInstanceClass(
    queryString(params, 'DBInstanceClass') ?? snapshot.instanceClass ?? 'db.t4g.micro',
    snapshot,
  );
  const given = tagsOf(params);
  const now = w.o.clock.now();
  const instance = w.newInstance(id, {
    engine: snapshot.engine,
    engineVersion: snapshot.engineVersion,
    status: 'creating',
    instanceClass,
    allocatedStorage: snapshot.allocatedStorage,
    masterUsername: snapshot.masterUsername,
    dbName: snapshot.dbName,
    storageEncrypted: snapshot.encrypted,
    copyTagsToSnapshot: queryBoolean(params, 'CopyTagsToSnapshot') ?? false,
    // Without tags of its own, a restored instance gets the snapshot's.
    tags: Object.fromEntries(given.size > 0 ? given : snapshot.tags),
    createTime: now,
    endpoint: { address: `${id}.c0local0000.${w.o.region}.rds.amazonaws.com`, port: snapshot.port },
    subnetGroup: queryString(params, 'DBSubnetGroupName') ?? 'default',
    securityGroups: queryList(params, 'VpcSecurityGroupIds').filter(
      (g): g is string => typeof g === 'string',
    ),
    publiclyAccessible: queryBoolean(params, 'PubliclyAccessible') ?? false,
  });
  w.instances.set(id, instance);
  if (w.o.postgres && instance.engine === 'postgres') {
    const data = w.snapshotData.get(snapshot);
    void w.back(
      instance,
      async (fleet) => {
        const copy = data && (await data);
        if (data && !copy) throw new Error(`DB snapshot ${snapshot.id} holds no data`);
        // A snapshot without data (seeded) restores to an empty server whose master user has no password yet.
        const server = await fleet.create(id, copy ? {} : { master: { username: snapshot.masterUsername } });
        try {
          if (copy) await restoreServer(server, copy);
        } catch (error) {
          await fleet.remove(server);
          throw error;
        }
        return server;
      },
      'incompatible-restore',
    );
  }
  w.o.clock.schedule(now + (w.o.instanceCreationMs ?? 10 * 60_000), async () => {
    // The clock waits for the server: the instance is available once it is loaded and its time has come.
    await w.backings.get(instance)?.server;
    if (instance.status === 'creating') instance.status = 'available';
  });
  return instance;
}

/**
 * ModifyDBInstance: a new master password (applied at once, a real `ALTER ROLE`) and instance class (at once
 * or pending, as `ApplyImmediately` says).
 */
export async function modifyInstance(w: RdsState, params: QueryParams): Promise<Record<string, unknown>> {
  const instance = w.findInstance(required(params, 'DBInstanceIdentifier'));
  const password = queryString(params, 'MasterUserPassword');
  const instanceClass = queryString(params, 'DBInstanceClass');
  const immediately = queryBoolean(params, 'ApplyImmediately') ?? false;
  if (instance.status !== 'available') {
    throw fault('InvalidDBInstanceState', `Database instance ${instance.id} is not in available state.`);
  }
  if (password !== undefined) {
    validMasterPassword(password);
    if (instance.clusterId !== undefined) {
      throw fault(
        'InvalidParameterCombination',
        'The specified DB instance is a member of a DB cluster. Modify the master user password for the DB cluster using the ModifyDbCluster API.',
      );
    }
  }
  if (instanceClass !== undefined) validInstanceClass(instanceClass, instance);
  const pending: Record<string, string> = {};
  if (password !== undefined) {
    // Applied at once (RDS applies a new master password as soon as possible, whatever ApplyImmediately says).
    const server = await w.backings.get(instance)?.server;
    if (server) {
      await server.setPassword(instance.masterUsername, password).catch((error: unknown) => {
        w.failures.push(error);
        throw new AwsServiceError('InternalFailure', 'The master user password could not be changed.', 500);
      });
    }
    pending.MasterUserPassword = '****';
  }
  if (instanceClass !== undefined && instanceClass !== instance.instanceClass) {
    if (immediately) instance.instanceClass = instanceClass;
    else instance.pending = { ...instance.pending, instanceClass };
  }
  const shown = describeInstance(w, instance);
  return {
    DBInstance: {
      ...shown,
      PendingModifiedValues: { ...(shown.PendingModifiedValues as Record<string, string>), ...pending },
    },
  };
}

/**
 * DeleteDBInstance: `deleting` (a final snapshot first if asked for); the server stops and the instance is
 * gone after the clock's deletion delay.
 */
export function deleteInstance(w: RdsState, params: QueryParams): RdsInstance {
  const instance = w.findInstance(required(params, 'DBInstanceIdentifier'));
  // A member of an Aurora cluster has no snapshots of its own: deleting it needs neither parameter.
  const finalSnapshot = finalSnapshotOf(params, 'DB instance', instance.clusterId === undefined);
  if (instance.status === 'deleting') {
    throw fault('InvalidDBInstanceState', `Instance ${instance.id} is already being deleted.`);
  }
  if (finalSnapshot !== undefined) {
    createSnapshot(w, 'db', { DBInstanceIdentifier: instance.id, DBSnapshotIdentifier: finalSnapshot });
  }
  instance.status = 'deleting';
  const backing = w.backings.get(instance);
  const stopped = backing && w.track(w.stopBacking(instance, backing));
  w.o.clock.schedule(w.o.clock.now() + (w.o.instanceDeletionMs ?? 2 * 60_000), async () => {
    await stopped;
    if (w.instances.get(instance.id) === instance) w.instances.delete(instance.id);
  });
  return instance;
}

/** CreateDBInstance, for a member of an Aurora cluster: it shares the cluster's storage and endpoint. */
export function createInstance(w: RdsState, params: QueryParams): RdsInstance {
  const id = validIdentifier('DBInstanceIdentifier', required(params, 'DBInstanceIdentifier'), 63);
  const engine = required(params, 'Engine');
  const instanceClass = required(params, 'DBInstanceClass');
  const clusterId = queryString(params, 'DBClusterIdentifier');
  if (clusterId === undefined) {
    throw fault(
      'InvalidParameterCombination',
      'The local RDS world creates DB instances only in Aurora DB clusters: DBClusterIdentifier is required.',
    );
  }
  const cluster = w.findCluster(clusterId);
  if (w.instances.has(id)) throw fault('DBInstanceAlreadyExists', 'DB instance already exists');
  if (engine !== cluster.engine) {
    throw fault(
      'InvalidParameterCombination',
      `The engine name requested for your DB instance (${engine}) doesn't match the engine name of your DB cluster (${cluster.engine}).`,
    );
  }
  if (queryString(params, 'MasterUserPassword') !== undefined) {
    throw fault(
      'InvalidParameterCombination',
      'The requested DB Instance will be a member of a DB Cluster. Set master user password for the DB Cluster.',
    );
  }
  if (cluster.status !== 'available' && cluster.status !== 'creating') {
    throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} is not in the available state.`);
  }
  validInstanceClass(instanceClass, cluster);
  const now = w.o.clock.now();
  const instance = w.newInstance(
    id,
    {
      status: 'creating',
      instanceClass,
      tags: Object.fromEntries(tagsOf(params)),
      createTime: now,
      copyTagsToSnapshot: queryBoolean(params, 'CopyTagsToSnapshot') ?? false,
      subnetGroup: cluster.subnetGroup,
      securityGroups: cluster.securityGroups,
      publiclyAccessible: queryBoolean(params, 'PubliclyAccessible') ?? false,
    },
    cluster,
  );
  w.instances.set(id, instance);
  w.o.clock.schedule(now + (w.o.instanceCreationMs ?? 10 * 60_000), async () => {
    // The instance serves the cluster's storage: it is available once the cluster's server is loaded.
    const server = await w.backings.get(cluster)?.server;
    if (instance.status !== 'creating') return;
    instance.status = w.backings.has(cluster) && !server ? 'failed' : 'available';
  });
  return instance;
}

/** DescribeDBInstances: one instance by identifier, or every one matching the filters, a page at a time. */
export function describeInstances(w: RdsState, params: QueryParams): Record<string, unknown> {
  const id = queryString(params, 'DBInstanceIdentifier');
  const records = id ? [w.findInstance(id)] : w.instances.values();
  const match = filterOf(params, {
    'db-instance-id': (i: RdsInstance, v) => v.some((x) => idOf(x) === i.id),
    'db-cluster-id': (i, v) => v.some((x) => idOf(x) === i.clusterId),
    'dbi-resource-id': (i, v) => v.includes(i.resourceId),
    engine: (i, v) => v.includes(i.engine),
  });
  const page = describePage(lazyFilter(records, match), params, 'db-instances');
  return { Marker: page.marker, DBInstances: page.records.map((i) => describeInstance(w, i)) };
}
