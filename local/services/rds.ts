import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { QueryParams, QueryResult, QueryService } from '../endpoint/query-protocol.ts';
import type { ServerCopy } from '../postgres/copy.ts';
import type { PostgresFleet } from '../postgres/fleet.ts';
import type { PostgresServer } from '../postgres/server.ts';
import { authorizationOf } from './rds-authorization.ts';
import {
  createCluster,
  deleteCluster,
  describeClusters,
  modifyCluster,
  restoreCluster,
} from './rds-clusters.ts';
import { describeCluster, describeInstance, describeSnapshot, MEMBERS } from './rds-describe.ts';
import {
  createInstance,
  deleteInstance,
  describeInstances,
  modifyInstance,
  restoreInstance,
} from './rds-instances.ts';
import type {
  RdsCluster,
  RdsClusterSeed,
  RdsInstance,
  RdsInstanceSeed,
  RdsSnapshot,
  RdsSnapshotSeed,
  RdsWorldOptions,
} from './rds-model.ts';
import { createSnapshot, deleteSnapshot, describeSnapshots } from './rds-snapshots.ts';
import { RdsState } from './rds-state.ts';
import { fault, required, tagKeysOf, tagList, tagsOf } from './rds-wire.ts';

export type * from './rds-model.ts';
export { RdsServerStartError } from './rds-state.ts';

/**
 * Amazon RDS, locally: DB instances and Aurora clusters, manual and automated DB snapshots and DB cluster
 * snapshots (`creating` → `available`, and once deleted `deleting` → gone, on the virtual clock), restores,
 * master password changes and deletes of DB instances, the per-Region manual snapshot quotas, tags, and
 * `Describe*` pagination with `MaxRecords`/`Marker` as AWS enforces them. Spoken over the AWS Query protocol, so `@aws-sdk/client-rds`
 * works against it unmodified.
 *
 * Metadata only by default. With {@link RdsWorldOptions.postgres}, each `postgres` DB instance is a real
 * PostgreSQL server (TLS only, trusting the fleet's CA bundle): its endpoint is `127.0.0.1` and the server's
 * port, its master user a real role; a DB snapshot is a consistent copy of the server's data taken while it
 * keeps serving (`available` once the copy is done and the clock's delay has passed); a restore is a new
 * server loaded from that copy; ModifyDBInstance's `MasterUserPassword` is a real `ALTER ROLE`; a delete
 * stops the server and removes its data.
 *
 * An `aurora-postgresql` DB cluster, in a world with PostgreSQL, is one real server (the cluster's storage and
 * writer): DescribeDBClusters shows it as the cluster's (and reader) endpoint, and its member instances
 * (CreateDBInstance with `DBClusterIdentifier`) report it as theirs. DB cluster snapshots copy it,
 * RestoreDBClusterFromSnapshot loads the copy into a new server, ModifyDBCluster's `MasterUserPassword` is a
 * real `ALTER ROLE`, and DeleteDBCluster (once no member is left but those being deleted) stops it and
 * removes its data. The server accepts connections as soon as it is loaded, whether or not the cluster has
 * an available instance yet.
 */
export class RdsWorld implements QueryService {
  readonly signingName = 'rds';
  readonly version = '2014-10-31';
  readonly xmlns = 'http://rds.amazonaws.com/doc/2014-10-31/';
  /** DB instances by (lowercase) identifier. */
  readonly instances: Map<string, RdsInstance>;
  /** Aurora DB clusters by (lowercase) identifier. */
  readonly clusters: Map<string, RdsCluster>;
  /** DB snapshots by (lowercase) identifier, in creation order. */
  readonly snapshots: Map<string, RdsSnapshot>;
  /** DB cluster snapshots by (lowercase) identifier, in creation order. */
  readonly clusterSnapshots: Map<string, RdsSnapshot>;
  /** Manual snapshots allowed in the Region; may be changed at any time. */
  readonly quotas: { manualSnapshots: number; manualClusterSnapshots: number };
  /** Errors of background work (server starts and loads, copies, stops), for diagnostics; never a password. */
  readonly failures: unknown[];
  private readonly state: RdsState;

  constructor(options: RdsWorldOptions) {
    this.state = new RdsState(options);
    ({
      instances: this.instances,
      clusters: this.clusters,
      snapshots: this.snapshots,
      clusterSnapshots: this.clusterSnapshots,
      quotas: this.quotas,
      failures: this.failures,
    } = this.state);
  }

  // ---- seeding (in-process; no authorization, quotas or delays) ------------------------------------------

  /**
   * Puts an existing DB instance in the world. In a world with PostgreSQL its server starts in the
   * background (see {@link RdsInstanceSeed.server}); API calls wait for it, in-process code awaits
   * {@link ready}.
   */
  addInstance(seed: RdsInstanceSeed): RdsInstance {
    const id = seed.identifier.toLowerCase();
    if (this.state.instances.has(id)) throw fault('DBInstanceAlreadyExists', 'DB instance already exists');
    const cluster =
      seed.clusterIdentifier === undefined ? undefined : this.state.findCluster(seed.clusterIdentifier);
    const instance = this.state.newInstance(id, seed, cluster);
    this.state.instances.set(id, instance);
    const backed =
      seed.server ??
      (instance.engine === 'postgres' &&
        !cluster &&
        seed.endpoint === undefined &&
        instance.status === 'available');
    if (this.state.o.postgres && backed) {
      this.state.seedServer(`DB instance ${id}`, instance, seed.masterUserPassword, seed.dbName);
    }
    return instance;
  }

  /**
   * The data a DB snapshot (`kind: 'cluster'`: DB cluster snapshot) holds: the copy of its instance's
   * (cluster's) server once taken, or `undefined` for a snapshot without data (seeded, metadata only, or
   * whose copy failed).
   */
  async dataOf(snapshotIdentifier: string, kind: 'db' | 'cluster' = 'db'): Promise<ServerCopy | undefined> {
    return this.state.snapshotData.get(this.state.findSnapshot(kind, snapshotIdentifier));
  }

  /** The PostgreSQL fleet behind DB instances, if any; its `caBundlePath` is the CA bundle clients trust. */
  get postgres(): PostgresFleet | undefined {
    return this.state.o.postgres;
  }

  /**
   * The server behind a DB instance (once started) — for a member of an Aurora cluster, the cluster's — or
   * `undefined` when none backs it.
   */
  async serverOf(identifier: string): Promise<PostgresServer | undefined> {
    const instance = this.state.findInstance(identifier);
    const cluster =
      instance.clusterId === undefined ? undefined : this.state.clusters.get(instance.clusterId);
    return (this.state.backings.get(instance) ?? (cluster && this.state.backings.get(cluster)))?.server;
  }

  /** The server behind an Aurora DB cluster (once started), or `undefined` when none backs it. */
  async clusterServerOf(identifier: string): Promise<PostgresServer | undefined> {
    return this.state.backings.get(this.state.findCluster(identifier))?.server;
  }

  /**
   * Waits until the servers of seeded instances and clusters run.
   *
   * @throws {@link RdsServerStartError} for the first server that could not start (its cause says why).
   */
  async ready(): Promise<void> {
    await Promise.all([...this.state.seeding]);
  }

  /** Waits until nothing runs in the background (server starts, copies, restores, deletes). */
  async settle(): Promise<void> {
    while (this.state.work.size > 0) await Promise.allSettled([...this.state.work]);
  }

  /** Waits for work in flight, then stops every server and closes the PostgreSQL fleet. */
  async close(): Promise<void> {
    await this.settle();
    await this.state.o.postgres?.close();
  }

  /**
   * Puts an existing Aurora DB cluster in the world (add its instances with `addInstance`). In a world with
   * PostgreSQL its server starts in the background (see {@link RdsClusterSeed.server}), like an instance's.
   */
  addCluster(seed: RdsClusterSeed): RdsCluster {
    const id = seed.identifier.toLowerCase();
    if (this.state.clusters.has(id)) throw fault('DBClusterAlreadyExistsFault', 'DB Cluster already exists');
    const cluster = this.state.newCluster(id, seed);
    this.state.clusters.set(id, cluster);
    const backed = seed.server ?? (cluster.engine === 'aurora-postgresql' && cluster.status === 'available');
    if (this.state.o.postgres && backed) {
      this.state.seedServer(`DB cluster ${id}`, cluster, seed.masterUserPassword, seed.dbName);
    }
    return cluster;
  }

  /**
   * Puts an existing DB snapshot in the world, e.g. a history of 30,000 for a benchmark. Seeded manual
   * snapshots count towards the quota but are not refused by it.
   */
  addSnapshot(seed: RdsSnapshotSeed): RdsSnapshot {
    const id = seed.identifier.toLowerCase();
    if (this.state.snapshots.has(id)) throw this.state.alreadyExists('db', id);
    const source = this.state.instances.get(seed.source.toLowerCase());
    return this.state.store(
      this.state.snapshotOf('db', id, seed.source.toLowerCase(), source, {
        type: seed.type ?? 'manual',
        status: seed.status ?? 'available',
        createTime: seed.createTime ?? this.state.o.clock.now(),
        tags: new Map(Object.entries(seed.tags ?? {})),
        engine: seed.engine,
      }),
    );
  }

  /** Puts an existing DB cluster snapshot in the world (see {@link addSnapshot}). */
  addClusterSnapshot(seed: RdsSnapshotSeed): RdsSnapshot {
    const id = seed.identifier.toLowerCase();
    if (this.state.clusterSnapshots.has(id)) throw this.state.alreadyExists('cluster', id);
    const source = this.state.clusters.get(seed.source.toLowerCase());
    return this.state.store(
      this.state.snapshotOf('cluster', id, seed.source.toLowerCase(), source, {
        type: seed.type ?? 'manual',
        status: seed.status ?? 'available',
        createTime: seed.createTime ?? this.state.o.clock.now(),
        tags: new Map(Object.entries(seed.tags ?? {})),
        engine: seed.engine,
      }),
    );
  }

  /** Manual DB snapshots (`db`) or DB cluster snapshots (`cluster`) in the Region, counted as the quota does. */
  manualSnapshotCount(kind: 'db' | 'cluster'): number {
    return this.state.manualCount[kind];
  }

  // ---- the API ----------------------------------------------------------------------------------------------
  // The operations live beside their records: rds-instances, rds-clusters, rds-snapshots; IAM in
  // rds-authorization; the wire shapes in rds-describe and rds-wire.

  authorization(action: string, params: QueryParams): AuthorizationNeed[] {
    return authorizationOf(this.state, action, params);
  }

  async handle(action: string, params: QueryParams): Promise<QueryResult> {
    // Seeded instances' servers must run before their endpoints are shown or used.
    if (this.state.seeding.size > 0) await Promise.allSettled([...this.state.seeding]);
    const result = await this.run(action, params);
    return { result, members: MEMBERS };
  }

  private async run(action: string, params: QueryParams): Promise<Record<string, unknown> | undefined> {
    switch (action) {
      case 'RestoreDBInstanceFromDBSnapshot':
        return { DBInstance: describeInstance(this.state, restoreInstance(this.state, params)) };
      case 'ModifyDBInstance':
        return modifyInstance(this.state, params);
      case 'DeleteDBInstance':
        return { DBInstance: describeInstance(this.state, deleteInstance(this.state, params)) };
      case 'CreateDBInstance':
        return { DBInstance: describeInstance(this.state, createInstance(this.state, params)) };
      case 'CreateDBCluster':
        return { DBCluster: describeCluster(this.state, createCluster(this.state, params)) };
      case 'RestoreDBClusterFromSnapshot':
        return { DBCluster: describeCluster(this.state, restoreCluster(this.state, params)) };
      case 'ModifyDBCluster':
        return modifyCluster(this.state, params);
      case 'DeleteDBCluster':
        return { DBCluster: describeCluster(this.state, deleteCluster(this.state, params)) };
      case 'DescribeDBInstances':
        return describeInstances(this.state, params);
      case 'DescribeDBClusters':
        return describeClusters(this.state, params);
      case 'DescribeDBSnapshots':
        return describeSnapshots(this.state, 'db', params);
      case 'DescribeDBClusterSnapshots':
        return describeSnapshots(this.state, 'cluster', params);
      case 'CreateDBSnapshot':
        return { DBSnapshot: describeSnapshot(this.state, createSnapshot(this.state, 'db', params)) };
      case 'CreateDBClusterSnapshot':
        return {
          DBClusterSnapshot: describeSnapshot(this.state, createSnapshot(this.state, 'cluster', params)),
        };
      case 'DeleteDBSnapshot':
        return { DBSnapshot: deleteSnapshot(this.state, 'db', params) };
      case 'DeleteDBClusterSnapshot':
        return { DBClusterSnapshot: deleteSnapshot(this.state, 'cluster', params) };
      case 'AddTagsToResource': {
        const resource = this.state.taggable(required(params, 'ResourceName'));
        for (const [key, value] of tagsOf(params)) resource.tags.set(key, value);
        return undefined;
      }
      case 'RemoveTagsFromResource': {
        const resource = this.state.taggable(required(params, 'ResourceName'));
        for (const key of tagKeysOf(params)) resource.tags.delete(key);
        return undefined;
      }
      case 'ListTagsForResource':
        return { TagList: tagList(this.state.taggable(required(params, 'ResourceName')).tags) };
      default:
        throw new AwsServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }
}
