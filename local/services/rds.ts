import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import {
  type QueryParams,
  type QueryResult,
  type QueryService,
  queryList,
  queryString,
  queryStruct,
} from '../endpoint/query-protocol.ts';
import { copyServer, restoreServer, type ServerCopy } from '../postgres/copy.ts';
import type { PostgresFleet } from '../postgres/fleet.ts';
import type { PostgresServer } from '../postgres/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { validIdentifier } from './rds-identifiers.ts';
import { describePage, type Sequenced } from './rds-pages.ts';
import { validMasterPassword } from './rds-passwords.ts';

/**
 * Status of a DB snapshot or DB cluster snapshot. A deleted snapshot is `deleting` for a while (still listed,
 * its identifier still taken) and then gone; `deleted` is what DeleteDBSnapshot answers, and what a record
 * held after it is gone says.
 */
export type RdsSnapshotStatus = 'creating' | 'available' | 'failed' | 'deleting' | 'deleted';

/** Something RDS tags: its ARN and its tags (in the order they were added). */
export interface RdsTagged extends Sequenced {
  readonly arn: string;
  readonly tags: Map<string, string>;
}

/**
 * A DB instance: its metadata, and, in a world with PostgreSQL ({@link RdsWorldOptions.postgres}), a real
 * server behind its endpoint.
 */
export interface RdsInstance extends RdsTagged {
  readonly id: string;
  readonly engine: string;
  readonly engineVersion: string;
  status: string;
  instanceClass: string;
  readonly allocatedStorage: number;
  /** Where the database answers (`127.0.0.1` and the server's port when a server backs the instance). */
  address: string;
  port: number;
  readonly masterUsername: string;
  readonly createTime: number;
  readonly resourceId: string;
  readonly availabilityZone: string;
  /** The Aurora cluster it belongs to, if any. */
  readonly clusterId?: string;
  readonly copyTagsToSnapshot: boolean;
  readonly storageEncrypted: boolean;
  /** The database created with the instance (`DBName`), if any. */
  readonly dbName?: string;
  /** Its DB subnet group, when it was given one (e.g. at restore). */
  readonly subnetGroup?: string;
  /** VPC security groups it was given. */
  readonly securityGroups?: readonly string[];
  /** @default false */
  readonly publiclyAccessible?: boolean;
  /** Modifications waiting for the maintenance window (`ApplyImmediately` false). */
  pending?: { instanceClass?: string };
}

/**
 * An Aurora DB cluster: its metadata, and, in a world with PostgreSQL, one real server (the cluster's storage
 * and writer) behind its endpoint, which its member instances report as theirs.
 */
export interface RdsCluster extends RdsTagged {
  readonly id: string;
  readonly engine: string;
  readonly engineVersion: string;
  status: string;
  /** Where the cluster answers (`127.0.0.1` and the server's port when a server backs the cluster). */
  endpoint: string;
  readerEndpoint: string;
  port: number;
  readonly masterUsername: string;
  readonly createTime: number;
  readonly resourceId: string;
  readonly availabilityZones: readonly string[];
  readonly copyTagsToSnapshot: boolean;
  readonly storageEncrypted: boolean;
  /** The database created with the cluster (`DatabaseName`), if any. */
  readonly dbName?: string;
  /** Its DB subnet group, when it was given one (e.g. at restore). */
  readonly subnetGroup?: string;
  /** VPC security groups it was given. */
  readonly securityGroups?: readonly string[];
}

/** A DB snapshot (`kind: 'db'`, of an instance) or DB cluster snapshot (`kind: 'cluster'`). */
export interface RdsSnapshot extends RdsTagged {
  readonly kind: 'db' | 'cluster';
  readonly id: string;
  /** The instance or cluster it was taken of (which may no longer exist). */
  readonly source: string;
  readonly type: 'manual' | 'automated';
  status: RdsSnapshotStatus;
  /** When the snapshot was started (epoch ms). */
  readonly createTime: number;
  readonly engine: string;
  readonly engineVersion: string;
  readonly allocatedStorage: number;
  readonly port: number;
  readonly masterUsername: string;
  readonly sourceCreateTime: number;
  readonly sourceResourceId: string;
  readonly availabilityZone: string;
  readonly encrypted: boolean;
  /** The source instance's class when the snapshot was taken (a restore's default). */
  readonly instanceClass?: string;
  /** The source instance's `DBName`, which an instance restored from the snapshot keeps. */
  readonly dbName?: string;
}

/** Tags as the seeding helpers take them. */
export type RdsTags = Readonly<Record<string, string>>;

/** An existing DB instance to put in the world. */
export interface RdsInstanceSeed {
  readonly identifier: string;
  /** @default 'postgres' (or the cluster's engine for a cluster member) */
  readonly engine?: string;
  /** @default '16.4' */
  readonly engineVersion?: string;
  /** @default 'available' */
  readonly status?: string;
  /** @default 'db.t4g.micro' */
  readonly instanceClass?: string;
  /** GiB. @default 20 (1 for a cluster member, as Aurora reports it) */
  readonly allocatedStorage?: number;
  /** Makes the instance a member (the first one the writer) of this Aurora cluster, which must exist. */
  readonly clusterIdentifier?: string;
  readonly tags?: RdsTags;
  /** @default false */
  readonly copyTagsToSnapshot?: boolean;
  /** Epoch ms. @default the clock's now */
  readonly createTime?: number;
  /** Where the database answers. @default `<id>.c0local0000.<region>.rds.amazonaws.com:5432` */
  readonly endpoint?: { readonly address: string; readonly port: number };
  /** @default 'postgres' */
  readonly masterUsername?: string;
  /** @default false */
  readonly storageEncrypted?: boolean;
  /**
   * The master user's password, for the server behind the instance (worlds with PostgreSQL only). Without it
   * the master user cannot log in until ModifyDBInstance sets one. Never logged.
   */
  readonly masterUserPassword?: string;
  /** A database the server creates, owned by the master user (RDS's `DBName`). */
  readonly dbName?: string;
  /**
   * Whether a real PostgreSQL server backs the instance, in a world with PostgreSQL. @default true for an
   * available `postgres` instance outside a cluster and without an explicit `endpoint`, false otherwise
   */
  readonly server?: boolean;
}

/** An existing Aurora DB cluster to put in the world. */
export interface RdsClusterSeed {
  readonly identifier: string;
  /** @default 'aurora-postgresql' */
  readonly engine?: string;
  /** @default '16.4' */
  readonly engineVersion?: string;
  /** @default 'available' */
  readonly status?: string;
  readonly tags?: RdsTags;
  /** @default false */
  readonly copyTagsToSnapshot?: boolean;
  /** Epoch ms. @default the clock's now */
  readonly createTime?: number;
  /** @default 5432 */
  readonly port?: number;
  /** @default 'postgres' */
  readonly masterUsername?: string;
  /** @default false */
  readonly storageEncrypted?: boolean;
  /**
   * The master user's password, for the server behind the cluster (worlds with PostgreSQL only). Without it
   * the master user cannot log in until ModifyDBCluster sets one. Never logged.
   */
  readonly masterUserPassword?: string;
  /** A database the server creates, owned by the master user (RDS's `DatabaseName`). */
  readonly dbName?: string;
  /**
   * Whether a real PostgreSQL server backs the cluster, in a world with PostgreSQL. @default true for an
   * available `aurora-postgresql` cluster
   */
  readonly server?: boolean;
}

/** An existing DB snapshot (or, with `addClusterSnapshot`, DB cluster snapshot) to put in the world. */
export interface RdsSnapshotSeed {
  /** Stored lowercase; automated snapshots are conventionally `rds:<source>-YYYY-MM-DD-HH-MM`. */
  readonly identifier: string;
  /** The instance (cluster) it was taken of; it need not exist (snapshots outlive their databases). */
  readonly source: string;
  /** @default 'manual' */
  readonly type?: 'manual' | 'automated';
  /** Epoch ms. @default the clock's now */
  readonly createTime?: number;
  /** Kept as given (a seeded `creating` snapshot does not complete by itself). @default 'available' */
  readonly status?: RdsSnapshotStatus;
  readonly tags?: RdsTags;
  /** @default the source's engine, else 'postgres' ('aurora-postgresql' for cluster snapshots) */
  readonly engine?: string;
}

/** Where the RDS world is, its clock, how long snapshots take, and the Region's manual snapshot quotas. */
export interface RdsWorldOptions {
  readonly account: string;
  readonly region: string;
  readonly clock: VirtualClock;
  /** Virtual milliseconds a new DB snapshot stays `creating`. @default 5 minutes */
  readonly snapshotCreationMs?: number;
  /** Virtual milliseconds a new DB cluster snapshot stays `creating`. @default 2 minutes */
  readonly clusterSnapshotCreationMs?: number;
  /**
   * Virtual milliseconds a deleted DB snapshot or DB cluster snapshot stays `deleting` (listed, its identifier
   * taken, a second delete refused with InvalidDBSnapshotState) before it is gone. @default 1 minute
   */
  readonly snapshotDeletionMs?: number;
  /** Manual DB snapshots allowed in the Region. @default 100 */
  readonly manualSnapshotQuota?: number;
  /** Manual DB cluster snapshots allowed in the Region. @default 100 */
  readonly manualClusterSnapshotQuota?: number;
  /**
   * Virtual milliseconds a restored or created DB instance or DB cluster stays `creating` (and at least until
   * its server is loaded). @default 10 minutes
   */
  readonly instanceCreationMs?: number;
  /** Virtual milliseconds a deleted DB instance or DB cluster stays `deleting` before it is gone. @default 2 minutes */
  readonly instanceDeletionMs?: number;
  /**
   * Real PostgreSQL behind DB instances and Aurora PostgreSQL clusters: a server per `postgres` instance and
   * per `aurora-postgresql` cluster (its endpoint, its master user), snapshots and cluster snapshots that
   * copy the data, restores that load it into a new server. Without it the world is metadata only.
   * {@link RdsWorld.close} closes the fleet.
   */
  readonly postgres?: PostgresFleet;
}

const ACTIONS = new Set([
  'DescribeDBInstances',
  'RestoreDBInstanceFromDBSnapshot',
  'ModifyDBInstance',
  'DeleteDBInstance',
  'CreateDBInstance',
  'DescribeDBClusters',
  'CreateDBCluster',
  'RestoreDBClusterFromSnapshot',
  'ModifyDBCluster',
  'DeleteDBCluster',
  'DescribeDBSnapshots',
  'DescribeDBClusterSnapshots',
  'CreateDBSnapshot',
  'CreateDBClusterSnapshot',
  'DeleteDBSnapshot',
  'DeleteDBClusterSnapshot',
  'AddTagsToResource',
  'RemoveTagsFromResource',
  'ListTagsForResource',
]);

/** Element names of list members in RDS responses (from the SDK's model). */
const MEMBERS = {
  DBInstances: 'DBInstance',
  DBClusters: 'DBCluster',
  DBSnapshots: 'DBSnapshot',
  DBClusterSnapshots: 'DBClusterSnapshot',
  TagList: 'Tag',
  AvailabilityZones: 'AvailabilityZone',
  DBClusterMembers: 'DBClusterMember',
  VpcSecurityGroups: 'VpcSecurityGroupMembership',
  ReadReplicaDBInstanceIdentifiers: 'ReadReplicaDBInstanceIdentifier',
  ProcessorFeatures: 'ProcessorFeature',
  Subnets: 'Subnet',
} as const;

/** RDS answers these "not found" errors with 404, the rest of its client errors with 400. */
const NOT_FOUND = new Set([
  'DBInstanceNotFound',
  'DBClusterNotFoundFault',
  'DBSnapshotNotFound',
  'DBClusterSnapshotNotFoundFault',
]);
const fault = (code: string, message: string) =>
  new AwsServiceError(code, message, NOT_FOUND.has(code) ? 404 : 400);

/** The resource type prefix of each taggable kind in ARNs, IAM resource types and `rds:<type>-tag/` keys. */
type ResourceType = 'db' | 'cluster' | 'snapshot' | 'cluster-snapshot';
const ARN_VALUE: Record<ResourceType, string> = {
  db: 'DbInstanceName',
  cluster: 'DbClusterInstanceName',
  snapshot: 'SnapshotName',
  'cluster-snapshot': 'ClusterSnapshotName',
};
/** The actions that create a resource (and may tag it): its type, the parameter naming it, request keys. */
const CREATED_BY: Record<
  string,
  { type: ResourceType; idParam: string; publiclyAccessible: boolean } | undefined
> = {
  CreateDBSnapshot: { type: 'snapshot', idParam: 'DBSnapshotIdentifier', publiclyAccessible: false },
  CreateDBClusterSnapshot: {
    type: 'cluster-snapshot',
    idParam: 'DBClusterSnapshotIdentifier',
    publiclyAccessible: false,
  },
  CreateDBInstance: { type: 'db', idParam: 'DBInstanceIdentifier', publiclyAccessible: true },
  RestoreDBInstanceFromDBSnapshot: { type: 'db', idParam: 'DBInstanceIdentifier', publiclyAccessible: true },
  CreateDBCluster: { type: 'cluster', idParam: 'DBClusterIdentifier', publiclyAccessible: false },
  RestoreDBClusterFromSnapshot: {
    type: 'cluster',
    idParam: 'DBClusterIdentifier',
    publiclyAccessible: false,
  },
};
const NOT_FOUND_OF: Record<ResourceType, (id: string) => AwsServiceError> = {
  db: (id) => fault('DBInstanceNotFound', `DBInstance ${id} not found.`),
  cluster: (id) => fault('DBClusterNotFoundFault', `DBCluster ${id} not found.`),
  snapshot: (id) => fault('DBSnapshotNotFound', `DBSnapshot ${id} not found.`),
  'cluster-snapshot': (id) => fault('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`),
};

const LICENSE: Record<string, string> = {
  postgres: 'postgresql-license',
  mysql: 'general-public-license',
  mariadb: 'general-public-license',
  'aurora-postgresql': 'postgresql-license',
  'aurora-mysql': 'general-public-license',
};

const resourceId = (prefix: string, seq: number) =>
  `${prefix}-${seq.toString(36).toUpperCase().padStart(26, 'X').slice(-26)}`;

/** The server behind a seeded DB instance could not start; its `cause` says why. */
export class RdsServerStartError extends Error {
  override readonly name = 'RdsServerStartError';
}

/** What backs an instance in a world with PostgreSQL. */
interface Backing {
  /** The started server, or `undefined` when it could not start or load (the instance's status says so). */
  readonly server: Promise<PostgresServer | undefined>;
  /** Why the server could not start or load. */
  error?: unknown;
  /** Copies of it (snapshots) in progress; its server stops only after them. */
  readonly copies: Set<Promise<unknown>>;
}

/**
 * Amazon RDS, locally: DB instances and Aurora clusters, manual and automated DB snapshots and DB cluster
 * snapshots (`creating` → `available`, and once deleted `deleting` → gone, on the virtual clock), restores, master password changes and deletes
 * of DB instances, the per-Region manual snapshot quotas, tags, and `Describe*` pagination with
 * `MaxRecords`/`Marker` as AWS enforces them. Spoken over the AWS Query protocol, so `@aws-sdk/client-rds`
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
  readonly instances = new Map<string, RdsInstance>();
  readonly clusters = new Map<string, RdsCluster>();
  /** DB snapshots by (lowercase) identifier, in creation order. */
  readonly snapshots = new Map<string, RdsSnapshot>();
  /** DB cluster snapshots by (lowercase) identifier, in creation order. */
  readonly clusterSnapshots = new Map<string, RdsSnapshot>();
  /** Manual snapshots allowed in the Region; may be changed at any time. */
  readonly quotas: { manualSnapshots: number; manualClusterSnapshots: number };
  /** Errors of background work (server starts and loads, copies, stops), for diagnostics; never a password. */
  readonly failures: unknown[] = [];
  private readonly manualCount = { db: 0, cluster: 0 };
  private seq = 0;
  /** The server behind each backed instance (`postgres`) and cluster (`aurora-postgresql`). */
  private readonly backings = new Map<RdsInstance | RdsCluster, Backing>();
  /** The data of each DB (cluster) snapshot taken of a server: the copy, or `undefined` when it failed. */
  private readonly snapshotData = new Map<RdsSnapshot, Promise<ServerCopy | undefined>>();
  /** Servers of seeded instances still starting: calls wait for them, so endpoints are real when shown. */
  private readonly seeding = new Set<Promise<unknown>>();
  /** Everything in flight in the background (starts, copies, restores, deletes). */
  private readonly work = new Set<Promise<unknown>>();

  constructor(private readonly o: RdsWorldOptions) {
    this.quotas = {
      manualSnapshots: o.manualSnapshotQuota ?? 100,
      manualClusterSnapshots: o.manualClusterSnapshotQuota ?? 100,
    };
  }

  private arn(type: ResourceType, id: string): string {
    return `arn:aws:rds:${this.o.region}:${this.o.account}:${type}:${id}`;
  }

  // ---- seeding (in-process; no authorization, quotas or delays) ------------------------------------------

  /**
   * Puts an existing DB instance in the world. In a world with PostgreSQL its server starts in the
   * background (see {@link RdsInstanceSeed.server}); API calls wait for it, in-process code awaits
   * {@link ready}.
   */
  addInstance(seed: RdsInstanceSeed): RdsInstance {
    const id = seed.identifier.toLowerCase();
    if (this.instances.has(id)) throw fault('DBInstanceAlreadyExists', 'DB instance already exists');
    const cluster =
      seed.clusterIdentifier === undefined ? undefined : this.findCluster(seed.clusterIdentifier);
    const instance = this.newInstance(id, seed, cluster);
    this.instances.set(id, instance);
    const backed =
      seed.server ??
      (instance.engine === 'postgres' &&
        !cluster &&
        seed.endpoint === undefined &&
        instance.status === 'available');
    if (this.o.postgres && backed) {
      this.seedServer(`DB instance ${id}`, instance, seed.masterUserPassword, seed.dbName);
    }
    return instance;
  }

  /** Starts the server behind a seeded instance or cluster; calls and {@link ready} wait for it. */
  private seedServer(
    what: string,
    target: RdsInstance | RdsCluster,
    password: string | undefined,
    database: string | undefined,
  ): void {
    const started = this.back(target, (fleet) =>
      fleet.create(target.id, { master: { username: target.masterUsername, password }, database }),
    );
    const seeded = started.then((server) => {
      if (!server) {
        throw new RdsServerStartError(`the server of ${what} did not start`, {
          cause: this.backings.get(target)?.error,
        });
      }
    });
    seeded.catch(() => undefined);
    this.seeding.add(seeded);
    void seeded.finally(() => this.seeding.delete(seeded)).catch(() => undefined);
  }

  private newInstance(
    id: string,
    seed: Omit<RdsInstanceSeed, 'identifier'> & {
      subnetGroup?: string;
      securityGroups?: readonly string[];
      publiclyAccessible?: boolean;
    },
    cluster?: RdsCluster,
  ): RdsInstance {
    const seq = this.seq++;
    return {
      seq,
      id,
      arn: this.arn('db', id),
      tags: new Map(Object.entries(seed.tags ?? {})),
      engine: seed.engine ?? cluster?.engine ?? 'postgres',
      engineVersion: seed.engineVersion ?? cluster?.engineVersion ?? '16.4',
      status: seed.status ?? 'available',
      instanceClass: seed.instanceClass ?? 'db.t4g.micro',
      allocatedStorage: seed.allocatedStorage ?? (cluster ? 1 : 20),
      address: seed.endpoint?.address ?? `${id}.c0local0000.${this.o.region}.rds.amazonaws.com`,
      port: seed.endpoint?.port ?? cluster?.port ?? 5432,
      masterUsername: seed.masterUsername ?? cluster?.masterUsername ?? 'postgres',
      createTime: seed.createTime ?? this.o.clock.now(),
      resourceId: resourceId('db', seq),
      availabilityZone: `${this.o.region}a`,
      clusterId: cluster?.id,
      copyTagsToSnapshot: seed.copyTagsToSnapshot ?? false,
      storageEncrypted: seed.storageEncrypted ?? cluster?.storageEncrypted ?? false,
      dbName: seed.dbName,
      subnetGroup: seed.subnetGroup,
      securityGroups: seed.securityGroups,
      publiclyAccessible: seed.publiclyAccessible,
    };
  }

  /**
   * Starts the server behind an instance or cluster in the background: once it runs, the instance's
   * (cluster's) endpoint is the server's; when it fails, the instance (cluster) is `failed` (or
   * `incompatible-restore` for a restored instance).
   */
  private back(
    target: RdsInstance | RdsCluster,
    start: (fleet: PostgresFleet) => Promise<PostgresServer>,
    failedStatus = 'failed',
  ): Promise<PostgresServer | undefined> {
    const fleet = this.o.postgres;
    if (!fleet) return Promise.resolve(undefined);
    const server = start(fleet).then(
      (server) => {
        if ('instanceClass' in target) {
          target.address = server.host;
        } else {
          target.endpoint = server.host;
          target.readerEndpoint = server.host;
        }
        target.port = server.port;
        return server;
      },
      (error: unknown) => {
        target.status = failedStatus;
        backing.error = error;
        this.failures.push(error);
        return undefined;
      },
    );
    const backing: Backing = { server, copies: new Set() };
    this.backings.set(target, backing);
    void this.track(server);
    return server;
  }

  /**
   * The data a DB snapshot (`kind: 'cluster'`: DB cluster snapshot) holds: the copy of its instance's
   * (cluster's) server once taken, or `undefined` for a snapshot without data (seeded, metadata only, or
   * whose copy failed).
   */
  async dataOf(snapshotIdentifier: string, kind: 'db' | 'cluster' = 'db'): Promise<ServerCopy | undefined> {
    return this.snapshotData.get(this.findSnapshot(kind, snapshotIdentifier));
  }

  /** The PostgreSQL fleet behind DB instances, if any; its `caBundlePath` is the CA bundle clients trust. */
  get postgres(): PostgresFleet | undefined {
    return this.o.postgres;
  }

  /**
   * The server behind a DB instance (once started) — for a member of an Aurora cluster, the cluster's — or
   * `undefined` when none backs it.
   */
  async serverOf(identifier: string): Promise<PostgresServer | undefined> {
    const instance = this.findInstance(identifier);
    const cluster = instance.clusterId === undefined ? undefined : this.clusters.get(instance.clusterId);
    return (this.backings.get(instance) ?? (cluster && this.backings.get(cluster)))?.server;
  }

  /** The server behind an Aurora DB cluster (once started), or `undefined` when none backs it. */
  async clusterServerOf(identifier: string): Promise<PostgresServer | undefined> {
    return this.backings.get(this.findCluster(identifier))?.server;
  }

  /**
   * Waits until the servers of seeded instances and clusters run.
   *
   * @throws {@link RdsServerStartError} for the first server that could not start (its cause says why).
   */
  async ready(): Promise<void> {
    await Promise.all([...this.seeding]);
  }

  /** Waits until nothing runs in the background (server starts, copies, restores, deletes). */
  async settle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Waits for work in flight, then stops every server and closes the PostgreSQL fleet. */
  async close(): Promise<void> {
    await this.settle();
    await this.o.postgres?.close();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.work.add(p);
    void p.finally(() => this.work.delete(p)).catch(() => undefined);
    return p;
  }

  /**
   * Puts an existing Aurora DB cluster in the world (add its instances with `addInstance`). In a world with
   * PostgreSQL its server starts in the background (see {@link RdsClusterSeed.server}), like an instance's.
   */
  addCluster(seed: RdsClusterSeed): RdsCluster {
    const id = seed.identifier.toLowerCase();
    if (this.clusters.has(id)) throw fault('DBClusterAlreadyExistsFault', 'DB Cluster already exists');
    const cluster = this.newCluster(id, seed);
    this.clusters.set(id, cluster);
    const backed = seed.server ?? (cluster.engine === 'aurora-postgresql' && cluster.status === 'available');
    if (this.o.postgres && backed) {
      this.seedServer(`DB cluster ${id}`, cluster, seed.masterUserPassword, seed.dbName);
    }
    return cluster;
  }

  private newCluster(
    id: string,
    seed: Omit<RdsClusterSeed, 'identifier' | 'masterUserPassword' | 'server'> & {
      subnetGroup?: string;
      securityGroups?: readonly string[];
    },
  ): RdsCluster {
    const seq = this.seq++;
    const host = `${id}.cluster-c0local0000.${this.o.region}.rds.amazonaws.com`;
    const cluster: RdsCluster = {
      seq,
      id,
      arn: this.arn('cluster', id),
      tags: new Map(Object.entries(seed.tags ?? {})),
      engine: seed.engine ?? 'aurora-postgresql',
      engineVersion: seed.engineVersion ?? '16.4',
      status: seed.status ?? 'available',
      endpoint: host,
      readerEndpoint: host.replace('.cluster-', '.cluster-ro-'),
      port: seed.port ?? 5432,
      masterUsername: seed.masterUsername ?? 'postgres',
      createTime: seed.createTime ?? this.o.clock.now(),
      resourceId: resourceId('cluster', seq),
      availabilityZones: ['a', 'b', 'c'].map((z) => `${this.o.region}${z}`),
      copyTagsToSnapshot: seed.copyTagsToSnapshot ?? false,
      storageEncrypted: seed.storageEncrypted ?? false,
      dbName: seed.dbName,
      subnetGroup: seed.subnetGroup,
      securityGroups: seed.securityGroups,
    };
    return cluster;
  }

  /**
   * Puts an existing DB snapshot in the world, e.g. a history of 30,000 for a benchmark. Seeded manual
   * snapshots count towards the quota but are not refused by it.
   */
  addSnapshot(seed: RdsSnapshotSeed): RdsSnapshot {
    const id = seed.identifier.toLowerCase();
    if (this.snapshots.has(id)) throw this.alreadyExists('db', id);
    const source = this.instances.get(seed.source.toLowerCase());
    return this.store(
      this.snapshotOf('db', id, seed.source.toLowerCase(), source, {
        type: seed.type ?? 'manual',
        status: seed.status ?? 'available',
        createTime: seed.createTime ?? this.o.clock.now(),
        tags: new Map(Object.entries(seed.tags ?? {})),
        engine: seed.engine,
      }),
    );
  }

  /** Puts an existing DB cluster snapshot in the world (see {@link addSnapshot}). */
  addClusterSnapshot(seed: RdsSnapshotSeed): RdsSnapshot {
    const id = seed.identifier.toLowerCase();
    if (this.clusterSnapshots.has(id)) throw this.alreadyExists('cluster', id);
    const source = this.clusters.get(seed.source.toLowerCase());
    return this.store(
      this.snapshotOf('cluster', id, seed.source.toLowerCase(), source, {
        type: seed.type ?? 'manual',
        status: seed.status ?? 'available',
        createTime: seed.createTime ?? this.o.clock.now(),
        tags: new Map(Object.entries(seed.tags ?? {})),
        engine: seed.engine,
      }),
    );
  }

  /** Manual DB snapshots (`db`) or DB cluster snapshots (`cluster`) in the Region, counted as the quota does. */
  manualSnapshotCount(kind: 'db' | 'cluster'): number {
    return this.manualCount[kind];
  }

  private snapshotOf(
    kind: 'db' | 'cluster',
    id: string,
    sourceId: string,
    source: RdsInstance | RdsCluster | undefined,
    how: {
      type: 'manual' | 'automated';
      status: RdsSnapshotStatus;
      createTime: number;
      tags: Map<string, string>;
      engine?: string;
    },
  ): RdsSnapshot {
    const instance = source && 'instanceClass' in source ? source : undefined;
    return {
      seq: this.seq++,
      kind,
      id,
      arn: this.arn(kind === 'db' ? 'snapshot' : 'cluster-snapshot', id),
      tags: how.tags,
      source: sourceId,
      type: how.type,
      status: how.status,
      createTime: how.createTime,
      engine: how.engine ?? source?.engine ?? (kind === 'db' ? 'postgres' : 'aurora-postgresql'),
      engineVersion: source?.engineVersion ?? '16.4',
      allocatedStorage: instance?.allocatedStorage ?? (kind === 'db' ? 20 : 1),
      port: source?.port ?? 5432,
      masterUsername: source?.masterUsername ?? 'postgres',
      sourceCreateTime: source?.createTime ?? how.createTime,
      sourceResourceId: source?.resourceId ?? resourceId(kind === 'db' ? 'db' : 'cluster', 0),
      availabilityZone: instance?.availabilityZone ?? `${this.o.region}a`,
      encrypted: source?.storageEncrypted ?? false,
      instanceClass: instance?.instanceClass,
      dbName: source?.dbName,
    };
  }

  private store(snapshot: RdsSnapshot): RdsSnapshot {
    (snapshot.kind === 'db' ? this.snapshots : this.clusterSnapshots).set(snapshot.id, snapshot);
    if (snapshot.type === 'manual') this.manualCount[snapshot.kind] += 1;
    return snapshot;
  }

  // ---- lookups --------------------------------------------------------------------------------------------

  private findInstance(identifier: string): RdsInstance {
    const id = idOf(identifier);
    const found = this.instances.get(id);
    if (!found) throw NOT_FOUND_OF.db(id);
    return found;
  }

  private findCluster(identifier: string): RdsCluster {
    const id = idOf(identifier);
    const found = this.clusters.get(id);
    if (!found) throw NOT_FOUND_OF.cluster(id);
    return found;
  }

  private findSnapshot(kind: 'db' | 'cluster', identifier: string): RdsSnapshot {
    const id = idOf(identifier);
    const found = (kind === 'db' ? this.snapshots : this.clusterSnapshots).get(id);
    if (!found) throw NOT_FOUND_OF[kind === 'db' ? 'snapshot' : 'cluster-snapshot'](id);
    return found;
  }

  private alreadyExists(kind: 'db' | 'cluster', id: string): AwsServiceError {
    return kind === 'db'
      ? fault(
          'DBSnapshotAlreadyExists',
          `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
        )
      : fault(
          'DBClusterSnapshotAlreadyExistsFault',
          `Cannot create the cluster snapshot because one with the identifier ${id} already exists.`,
        );
  }

  /** The taggable resource an ARN names in this world, or an `InvalidParameterValue` / not-found error. */
  private resourceOf(arn: string): { type: ResourceType; id: string; resource?: RdsTagged } {
    const parsed = parseRdsArn(arn);
    if (!parsed || parsed.region !== this.o.region || parsed.account !== this.o.account) {
      throw fault(
        'InvalidParameterValue',
        `The specified resource name does not match an RDS resource in this region: ${arn}`,
      );
    }
    const { type, id } = parsed;
    return { type, id, resource: this.lookup(type, id) };
  }

  private lookup(type: ResourceType, id: string): RdsTagged | undefined {
    const records =
      type === 'db'
        ? this.instances
        : type === 'cluster'
          ? this.clusters
          : type === 'snapshot'
            ? this.snapshots
            : this.clusterSnapshots;
    return records.get(id);
  }

  // ---- authorization ----------------------------------------------------------------------------------------

  authorization(action: string, params: QueryParams): AuthorizationNeed[] {
    if (!ACTIONS.has(action)) {
      throw new AwsServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
    const needs = this.resourceNeeds(action, params);
    const created = CREATED_BY[action];
    if (created === undefined) return needs;
    // Request-level keys (the request's tags, PubliclyAccessible) belong to the request: IAM evaluates them
    // with every resource it touches, not only the new one.
    const tags = tagsOf(params);
    const publiclyAccessible = created.publiclyAccessible
      ? queryString(params, 'PubliclyAccessible')
      : undefined;
    const request = {
      ...requestTagContext(tags),
      ...(publiclyAccessible === undefined ? {} : { 'rds:PubliclyAccessible': publiclyAccessible }),
    };
    const withRequest = needs.map((n) => ({ ...n, context: { ...n.context, ...request } }));
    if (tags.size === 0) return withRequest;
    // Tags given to a create are authorized as rds:AddTagsToResource on the new resource as well
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-grant-permissions-tags-on-create.html).
    const id = idOf(required(params, created.idParam));
    return [
      ...withRequest,
      {
        action: 'rds:AddTagsToResource',
        resourceType: created.type,
        values: { [ARN_VALUE[created.type]]: id },
        // The resource being created has no tags yet: a create is authorized before RDS finds a name taken
        // (an existing resource of that name answers AlreadyExists, not AccessDenied).
        context: requestTagContext(tags),
      },
    ];
  }

  private resourceNeeds(action: string, params: QueryParams): AuthorizationNeed[] {
    const need = (type: ResourceType, id: string, context: AuthorizationNeed['context'] = {}) => ({
      action: `rds:${action}`,
      resourceType: type,
      values: { [ARN_VALUE[type]]: id },
      context: { ...context, ...this.resourceTagContext(type, id) },
    });
    const optional = (name: string) => {
      const value = queryString(params, name);
      return value === undefined || value === '' ? undefined : idOf(value);
    };
    /** Resource types of the authorization reference this world holds no records of. */
    const other = (
      resourceType: 'og' | 'pg' | 'cluster-pg' | 'subgrp',
      key: string,
      name: string,
    ): AuthorizationNeed => ({
      action: `rds:${action}`,
      resourceType,
      values: { [key]: name },
    });
    switch (action) {
      case 'DescribeDBInstances':
        return [need('db', optional('DBInstanceIdentifier') ?? '*')];
      case 'RestoreDBInstanceFromDBSnapshot': {
        const snapshotId = idOf(required(params, 'DBSnapshotIdentifier'));
        const snapshot = this.snapshots.get(snapshotId);
        const engine = snapshot?.engine ?? 'postgres';
        const major = majorVersion(engine, snapshot?.engineVersion ?? '16.4');
        const publiclyAccessible = queryString(params, 'PubliclyAccessible');
        const request = {
          ...requestTagContext(tagsOf(params)),
          ...(publiclyAccessible === undefined ? {} : { 'rds:PubliclyAccessible': publiclyAccessible }),
        };
        return [
          need('db', idOf(required(params, 'DBInstanceIdentifier')), request),
          need('snapshot', snapshotId),
          other(
            'og',
            'OptionGroupName',
            optional('OptionGroupName') ?? `default:${engine}-${major.replace('.', '-')}`,
          ),
          other('pg', 'ParameterGroupName', optional('DBParameterGroupName') ?? `default.${engine}${major}`),
          other('subgrp', 'SubnetGroupName', optional('DBSubnetGroupName') ?? 'default'),
        ];
      }
      case 'ModifyDBInstance':
        return [need('db', idOf(required(params, 'DBInstanceIdentifier')))];
      case 'DeleteDBInstance': {
        const needs: AuthorizationNeed[] = [need('db', idOf(required(params, 'DBInstanceIdentifier')))];
        const finalSnapshot = optional('FinalDBSnapshotIdentifier');
        if (finalSnapshot !== undefined) {
          needs.push({
            ...need('snapshot', finalSnapshot, { 'rds:BackupTarget': 'region' }),
            action: 'rds:CreateDBSnapshot',
          });
        }
        return needs;
      }
      case 'CreateDBInstance': {
        const clusterId = optional('DBClusterIdentifier');
        const cluster = clusterId === undefined ? undefined : this.clusters.get(clusterId);
        const engine = queryString(params, 'Engine') ?? cluster?.engine ?? 'postgres';
        const major = majorVersion(
          engine,
          queryString(params, 'EngineVersion') ?? cluster?.engineVersion ?? '16.4',
        );
        const publiclyAccessible = queryString(params, 'PubliclyAccessible');
        const request = {
          ...requestTagContext(tagsOf(params)),
          ...(publiclyAccessible === undefined ? {} : { 'rds:PubliclyAccessible': publiclyAccessible }),
        };
        const needs: AuthorizationNeed[] = [
          need('db', idOf(required(params, 'DBInstanceIdentifier')), request),
        ];
        if (clusterId !== undefined) needs.push(need('cluster', clusterId));
        needs.push(
          other('pg', 'ParameterGroupName', optional('DBParameterGroupName') ?? `default.${engine}${major}`),
        );
        const optionGroup = optional('OptionGroupName');
        if (optionGroup !== undefined) needs.push(other('og', 'OptionGroupName', optionGroup));
        const subnetGroup = optional('DBSubnetGroupName');
        if (subnetGroup !== undefined) needs.push(other('subgrp', 'SubnetGroupName', subnetGroup));
        return needs;
      }
      case 'DescribeDBClusters':
        return [need('cluster', optional('DBClusterIdentifier') ?? '*')];
      case 'CreateDBCluster':
      case 'RestoreDBClusterFromSnapshot': {
        const restore = action === 'RestoreDBClusterFromSnapshot';
        const snapshotId = restore ? idOf(required(params, 'SnapshotIdentifier')) : undefined;
        const snapshot = snapshotId === undefined ? undefined : this.clusterSnapshots.get(snapshotId);
        const engine = queryString(params, 'Engine') ?? snapshot?.engine ?? 'aurora-postgresql';
        const major = majorVersion(
          engine,
          queryString(params, 'EngineVersion') ?? snapshot?.engineVersion ?? '16.4',
        );
        const needs: AuthorizationNeed[] = [
          need('cluster', idOf(required(params, 'DBClusterIdentifier')), requestTagContext(tagsOf(params))),
        ];
        if (snapshotId !== undefined) needs.push(need('cluster-snapshot', snapshotId));
        needs.push(
          other(
            'cluster-pg',
            'ClusterParameterGroupName',
            optional('DBClusterParameterGroupName') ?? `default.${engine}${major}`,
          ),
          other(
            'og',
            'OptionGroupName',
            optional('OptionGroupName') ?? `default:${engine}-${major.replace('.', '-')}`,
          ),
          other('subgrp', 'SubnetGroupName', optional('DBSubnetGroupName') ?? 'default'),
        );
        return needs;
      }
      case 'ModifyDBCluster': {
        const managed = queryString(params, 'ManageMasterUserPassword');
        const needs: AuthorizationNeed[] = [
          need(
            'cluster',
            idOf(required(params, 'DBClusterIdentifier')),
            managed === undefined ? {} : { 'rds:ManageMasterUserPassword': managed },
          ),
        ];
        const clusterPg = optional('DBClusterParameterGroupName');
        if (clusterPg !== undefined) needs.push(other('cluster-pg', 'ClusterParameterGroupName', clusterPg));
        const instancePg = optional('DBInstanceParameterGroupName');
        if (instancePg !== undefined) needs.push(other('pg', 'ParameterGroupName', instancePg));
        const optionGroup = optional('OptionGroupName');
        if (optionGroup !== undefined) needs.push(other('og', 'OptionGroupName', optionGroup));
        return needs;
      }
      case 'DeleteDBCluster': {
        const needs: AuthorizationNeed[] = [need('cluster', idOf(required(params, 'DBClusterIdentifier')))];
        const finalSnapshot = optional('FinalDBSnapshotIdentifier');
        if (finalSnapshot !== undefined) needs.push(need('cluster-snapshot', finalSnapshot));
        return needs;
      }
      case 'DescribeDBSnapshots': {
        const needs = [];
        const snapshot = optional('DBSnapshotIdentifier');
        const instance = optional('DBInstanceIdentifier');
        if (snapshot !== undefined || instance === undefined) needs.push(need('snapshot', snapshot ?? '*'));
        if (instance !== undefined) needs.push(need('db', instance));
        return needs;
      }
      case 'DescribeDBClusterSnapshots': {
        const needs = [];
        const snapshot = optional('DBClusterSnapshotIdentifier');
        const cluster = optional('DBClusterIdentifier');
        if (snapshot !== undefined || cluster === undefined)
          needs.push(need('cluster-snapshot', snapshot ?? '*'));
        if (cluster !== undefined) needs.push(need('cluster', cluster));
        return needs;
      }
      case 'CreateDBSnapshot': {
        const request = { ...requestTagContext(tagsOf(params)), 'rds:BackupTarget': 'region' };
        return [
          need('db', idOf(required(params, 'DBInstanceIdentifier')), request),
          need('snapshot', idOf(required(params, 'DBSnapshotIdentifier')), request),
        ];
      }
      case 'CreateDBClusterSnapshot': {
        const request = requestTagContext(tagsOf(params));
        return [
          need('cluster', idOf(required(params, 'DBClusterIdentifier')), request),
          need('cluster-snapshot', idOf(required(params, 'DBClusterSnapshotIdentifier')), request),
        ];
      }
      case 'DeleteDBSnapshot':
        return [need('snapshot', idOf(required(params, 'DBSnapshotIdentifier')))];
      case 'DeleteDBClusterSnapshot':
        return [need('cluster-snapshot', idOf(required(params, 'DBClusterSnapshotIdentifier')))];
      default: {
        // AddTagsToResource, RemoveTagsFromResource, ListTagsForResource: the resource the ARN names.
        const arn = required(params, 'ResourceName');
        const context =
          action === 'AddTagsToResource'
            ? requestTagContext(tagsOf(params))
            : action === 'RemoveTagsFromResource'
              ? { 'aws:TagKeys': tagKeysOf(params) }
              : {};
        const parsed = parseRdsArn(arn);
        if (parsed && parsed.region === this.o.region && parsed.account === this.o.account) {
          return [need(parsed.type, parsed.id, context)];
        }
        return [{ action: `rds:${action}`, resources: [arn], context }];
      }
    }
  }

  /** `aws:ResourceTag/<key>` and `rds:<type>-tag/<key>` of an existing resource, for IAM conditions. */
  private resourceTagContext(type: ResourceType, id: string): Record<string, string> {
    const resource = this.lookup(type, id);
    const context: Record<string, string> = {};
    for (const [key, value] of resource?.tags ?? []) {
      context[`aws:ResourceTag/${key}`] = value;
      context[`rds:${type}-tag/${key}`] = value;
    }
    return context;
  }

  // ---- operations -------------------------------------------------------------------------------------------

  async handle(action: string, params: QueryParams): Promise<QueryResult> {
    // Seeded instances' servers must run before their endpoints are shown or used.
    if (this.seeding.size > 0) await Promise.allSettled([...this.seeding]);
    const result = await this.run(action, params);
    return { result, members: MEMBERS };
  }

  private async run(action: string, params: QueryParams): Promise<Record<string, unknown> | undefined> {
    switch (action) {
      case 'RestoreDBInstanceFromDBSnapshot':
        return { DBInstance: this.describeInstance(this.restoreInstance(params)) };
      case 'ModifyDBInstance':
        return this.modifyInstance(params);
      case 'DeleteDBInstance':
        return { DBInstance: this.describeInstance(this.deleteInstance(params)) };
      case 'CreateDBInstance':
        return { DBInstance: this.describeInstance(this.createInstance(params)) };
      case 'CreateDBCluster':
        return { DBCluster: this.describeCluster(this.createCluster(params)) };
      case 'RestoreDBClusterFromSnapshot':
        return { DBCluster: this.describeCluster(this.restoreCluster(params)) };
      case 'ModifyDBCluster':
        return this.modifyCluster(params);
      case 'DeleteDBCluster':
        return { DBCluster: this.describeCluster(this.deleteCluster(params)) };
      case 'DescribeDBInstances': {
        const id = queryString(params, 'DBInstanceIdentifier');
        const records = id ? [this.findInstance(id)] : this.instances.values();
        const match = filterOf(params, {
          'db-instance-id': (i: RdsInstance, v) => v.some((x) => idOf(x) === i.id),
          'db-cluster-id': (i, v) => v.some((x) => idOf(x) === i.clusterId),
          'dbi-resource-id': (i, v) => v.includes(i.resourceId),
          engine: (i, v) => v.includes(i.engine),
        });
        const page = describePage(lazyFilter(records, match), params, 'db-instances');
        return { Marker: page.marker, DBInstances: page.records.map((i) => this.describeInstance(i)) };
      }
      case 'DescribeDBClusters': {
        const id = queryString(params, 'DBClusterIdentifier');
        const records = id ? [this.findCluster(id)] : this.clusters.values();
        const match = filterOf(params, {
          'db-cluster-id': (c: RdsCluster, v) => v.some((x) => idOf(x) === c.id),
          'db-cluster-resource-id': (c, v) => v.includes(c.resourceId),
          engine: (c, v) => v.includes(c.engine),
        });
        const page = describePage(lazyFilter(records, match), params, 'db-clusters');
        return { Marker: page.marker, DBClusters: page.records.map((c) => this.describeCluster(c)) };
      }
      case 'DescribeDBSnapshots':
        return this.describeSnapshots('db', params);
      case 'DescribeDBClusterSnapshots':
        return this.describeSnapshots('cluster', params);
      case 'CreateDBSnapshot':
        return { DBSnapshot: this.describeSnapshot(this.createSnapshot('db', params)) };
      case 'CreateDBClusterSnapshot':
        return { DBClusterSnapshot: this.describeSnapshot(this.createSnapshot('cluster', params)) };
      case 'DeleteDBSnapshot':
        return { DBSnapshot: this.deleteSnapshot('db', params) };
      case 'DeleteDBClusterSnapshot':
        return { DBClusterSnapshot: this.deleteSnapshot('cluster', params) };
      case 'AddTagsToResource': {
        const resource = this.taggable(required(params, 'ResourceName'));
        for (const [key, value] of tagsOf(params)) resource.tags.set(key, value);
        return undefined;
      }
      case 'RemoveTagsFromResource': {
        const resource = this.taggable(required(params, 'ResourceName'));
        for (const key of tagKeysOf(params)) resource.tags.delete(key);
        return undefined;
      }
      case 'ListTagsForResource':
        return { TagList: tagList(this.taggable(required(params, 'ResourceName')).tags) };
      default:
        throw new AwsServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private taggable(arn: string): RdsTagged {
    const { type, id, resource } = this.resourceOf(arn);
    if (!resource) throw NOT_FOUND_OF[type](id);
    return resource;
  }

  private describeSnapshots(kind: 'db' | 'cluster', params: QueryParams): Record<string, unknown> {
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
      ? [this.findSnapshot(kind, id)]
      : (kind === 'db' ? this.snapshots : this.clusterSnapshots).values();
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
    return { Marker: page.marker, [listKey]: page.records.map((s) => this.describeSnapshot(s)) };
  }

  private createSnapshot(kind: 'db' | 'cluster', params: QueryParams): RdsSnapshot {
    const db = kind === 'db';
    const id = validIdentifier(
      db ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier',
      required(params, db ? 'DBSnapshotIdentifier' : 'DBClusterSnapshotIdentifier'),
      db ? 255 : 63,
    );
    const source = db
      ? this.findInstance(required(params, 'DBInstanceIdentifier'))
      : this.findCluster(required(params, 'DBClusterIdentifier'));
    if ((db ? this.snapshots : this.clusterSnapshots).has(id)) throw this.alreadyExists(kind, id);
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
    const quota = db ? this.quotas.manualSnapshots : this.quotas.manualClusterSnapshots;
    if (this.manualCount[kind] + 1 > quota) {
      throw fault(
        'SnapshotQuotaExceeded',
        db
          ? `Cannot create more than ${quota} manual snapshots`
          : `Cannot create more than ${quota} manual cluster snapshots`,
      );
    }
    const given = tagsOf(params);
    const tags = given.size === 0 && source.copyTagsToSnapshot ? new Map(source.tags) : given;
    const snapshot = this.store(
      this.snapshotOf(kind, id, source.id, source, {
        type: 'manual',
        status: 'creating',
        createTime: this.o.clock.now(),
        tags,
      }),
    );
    const delay = db
      ? (this.o.snapshotCreationMs ?? 5 * 60_000)
      : (this.o.clusterSnapshotCreationMs ?? 2 * 60_000);
    const data = this.copyData(source, snapshot);
    this.o.clock.schedule(snapshot.createTime + delay, async () => {
      // The clock waits for the copy: a snapshot is available once its data is copied and its time has come.
      const copied = data ? (await data) !== undefined : true;
      if (snapshot.status === 'creating') snapshot.status = copied ? 'available' : 'failed';
    });
    return snapshot;
  }

  /** Starts copying the data of the server behind `source` (if one does) for `snapshot`. */
  private copyData(
    source: RdsInstance | RdsCluster,
    snapshot: RdsSnapshot,
  ): Promise<ServerCopy | undefined> | undefined {
    const backing = this.backings.get(source);
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
      this.failures.push(error);
      return undefined;
    });
    backing.copies.add(data);
    void data.finally(() => backing.copies.delete(data));
    this.snapshotData.set(snapshot, data);
    return this.track(data);
  }

  /**
   * DeleteDBSnapshot / DeleteDBClusterSnapshot: the snapshot turns `deleting` and is gone once the clock's
   * deletion delay has passed; meanwhile a second delete answers InvalidDBSnapshotState
   * (InvalidDBClusterSnapshotStateFault), after it DBSnapshotNotFound, as RDS does. The answer shows it
   * `deleted`. Its place under the quota is free at once (the world's choice: AWS documents no count of
   * snapshots being deleted).
   */
  private deleteSnapshot(kind: 'db' | 'cluster', params: QueryParams): Record<string, unknown> {
    const db = kind === 'db';
    const snapshot = this.findSnapshot(
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
    if (snapshot.type === 'manual') this.manualCount[snapshot.kind] -= 1;
    this.snapshotData.delete(snapshot);
    this.o.clock.schedule(this.o.clock.now() + (this.o.snapshotDeletionMs ?? 60_000), () => {
      const records = db ? this.snapshots : this.clusterSnapshots;
      if (records.get(snapshot.id) === snapshot) records.delete(snapshot.id);
      snapshot.status = 'deleted';
    });
    return { ...this.describeSnapshot(snapshot), Status: 'deleted' };
  }

  private restoreInstance(params: QueryParams): RdsInstance {
    const id = validIdentifier('DBInstanceIdentifier', required(params, 'DBInstanceIdentifier'), 63);
    const snapshot = this.findSnapshot('db', required(params, 'DBSnapshotIdentifier'));
    if (this.instances.has(id)) throw fault('DBInstanceAlreadyExists', 'DB instance already exists');
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
    const now = this.o.clock.now();
    const instance = this.newInstance(id, {
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
      endpoint: { address: `${id}.c0local0000.${this.o.region}.rds.amazonaws.com`, port: snapshot.port },
      subnetGroup: queryString(params, 'DBSubnetGroupName') ?? 'default',
      securityGroups: queryList(params, 'VpcSecurityGroupIds').filter(
        (g): g is string => typeof g === 'string',
      ),
      publiclyAccessible: queryBoolean(params, 'PubliclyAccessible') ?? false,
    });
    this.instances.set(id, instance);
    if (this.o.postgres && instance.engine === 'postgres') {
      const data = this.snapshotData.get(snapshot);
      void this.back(
        instance,
        async (fleet) => {
          const copy = data && (await data);
          if (data && !copy) throw new Error(`DB snapshot ${snapshot.id} holds no data`);
          // A snapshot without data (seeded) restores to an empty server whose master user has no password yet.
          const server = await fleet.create(
            id,
            copy ? {} : { master: { username: snapshot.masterUsername } },
          );
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
    this.o.clock.schedule(now + (this.o.instanceCreationMs ?? 10 * 60_000), async () => {
      // The clock waits for the server: the instance is available once it is loaded and its time has come.
      await this.backings.get(instance)?.server;
      if (instance.status === 'creating') instance.status = 'available';
    });
    return instance;
  }

  private async modifyInstance(params: QueryParams): Promise<Record<string, unknown>> {
    const instance = this.findInstance(required(params, 'DBInstanceIdentifier'));
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
      const server = await this.backings.get(instance)?.server;
      if (server) {
        await server.setPassword(instance.masterUsername, password).catch((error: unknown) => {
          this.failures.push(error);
          throw new AwsServiceError('InternalFailure', 'The master user password could not be changed.', 500);
        });
      }
      pending.MasterUserPassword = '****';
    }
    if (instanceClass !== undefined && instanceClass !== instance.instanceClass) {
      if (immediately) instance.instanceClass = instanceClass;
      else instance.pending = { ...instance.pending, instanceClass };
    }
    const shown = this.describeInstance(instance);
    return {
      DBInstance: {
        ...shown,
        PendingModifiedValues: { ...(shown.PendingModifiedValues as Record<string, string>), ...pending },
      },
    };
  }

  private deleteInstance(params: QueryParams): RdsInstance {
    const instance = this.findInstance(required(params, 'DBInstanceIdentifier'));
    // A member of an Aurora cluster has no snapshots of its own: deleting it needs neither parameter.
    const finalSnapshot = finalSnapshotOf(params, 'DB instance', instance.clusterId === undefined);
    if (instance.status === 'deleting') {
      throw fault('InvalidDBInstanceState', `Instance ${instance.id} is already being deleted.`);
    }
    if (finalSnapshot !== undefined) {
      this.createSnapshot('db', { DBInstanceIdentifier: instance.id, DBSnapshotIdentifier: finalSnapshot });
    }
    instance.status = 'deleting';
    const backing = this.backings.get(instance);
    const stopped = backing && this.track(this.stopBacking(instance, backing));
    this.o.clock.schedule(this.o.clock.now() + (this.o.instanceDeletionMs ?? 2 * 60_000), async () => {
      await stopped;
      if (this.instances.get(instance.id) === instance) this.instances.delete(instance.id);
    });
    return instance;
  }

  /** Stops an instance's (cluster's) server (after the copies of it in progress) and removes its data. */
  private async stopBacking(target: RdsInstance | RdsCluster, backing: Backing): Promise<void> {
    const server = await backing.server;
    await Promise.allSettled([...backing.copies]);
    this.backings.delete(target);
    if (server) await this.o.postgres?.remove(server).catch((error: unknown) => this.failures.push(error));
  }

  /** CreateDBInstance, for a member of an Aurora cluster: it shares the cluster's storage and endpoint. */
  private createInstance(params: QueryParams): RdsInstance {
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
    const cluster = this.findCluster(clusterId);
    if (this.instances.has(id)) throw fault('DBInstanceAlreadyExists', 'DB instance already exists');
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
    const now = this.o.clock.now();
    const instance = this.newInstance(
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
    this.instances.set(id, instance);
    this.o.clock.schedule(now + (this.o.instanceCreationMs ?? 10 * 60_000), async () => {
      // The instance serves the cluster's storage: it is available once the cluster's server is loaded.
      const server = await this.backings.get(cluster)?.server;
      if (instance.status !== 'creating') return;
      instance.status = this.backings.has(cluster) && !server ? 'failed' : 'available';
    });
    return instance;
  }

  /** CreateDBCluster: a new, empty Aurora cluster (in a world with PostgreSQL, a new server). */
  private createCluster(params: QueryParams): RdsCluster {
    const id = validIdentifier('DBClusterIdentifier', required(params, 'DBClusterIdentifier'), 63);
    const engine = auroraEngine(required(params, 'Engine'));
    if (this.clusters.has(id)) throw fault('DBClusterAlreadyExistsFault', 'DB Cluster already exists');
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
    const cluster = this.newCluster(id, {
      engine,
      engineVersion: queryString(params, 'EngineVersion'),
      status: 'creating',
      tags: Object.fromEntries(tagsOf(params)),
      copyTagsToSnapshot: queryBoolean(params, 'CopyTagsToSnapshot') ?? false,
      port: Number(queryString(params, 'Port') ?? 5432),
      masterUsername,
      storageEncrypted: queryBoolean(params, 'StorageEncrypted') ?? false,
      dbName,
      ...this.networkOf(params),
    });
    this.clusters.set(id, cluster);
    this.startCluster(cluster, (fleet) =>
      fleet.create(id, { master: { username: masterUsername, password }, database: dbName }),
    );
    return cluster;
  }

  /** RestoreDBClusterFromSnapshot: a new Aurora cluster holding the DB cluster snapshot's data. */
  private restoreCluster(params: QueryParams): RdsCluster {
    const id = validIdentifier('DBClusterIdentifier', required(params, 'DBClusterIdentifier'), 63);
    const snapshot = this.findSnapshot('cluster', required(params, 'SnapshotIdentifier'));
    const engine = auroraEngine(required(params, 'Engine'));
    if (this.clusters.has(id)) throw fault('DBClusterAlreadyExistsFault', 'DB Cluster already exists');
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
    const cluster = this.newCluster(id, {
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
      ...this.networkOf(params),
    });
    this.clusters.set(id, cluster);
    const data = this.snapshotData.get(snapshot);
    this.startCluster(cluster, async (fleet) => {
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

  private networkOf(params: QueryParams): { subnetGroup: string; securityGroups: string[] } {
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
  private startCluster(cluster: RdsCluster, start: (fleet: PostgresFleet) => Promise<PostgresServer>): void {
    if (this.o.postgres && cluster.engine === 'aurora-postgresql') void this.back(cluster, start);
    this.o.clock.schedule(cluster.createTime + (this.o.instanceCreationMs ?? 10 * 60_000), async () => {
      await this.backings.get(cluster)?.server;
      if (cluster.status === 'creating') cluster.status = 'available';
    });
  }

  private async modifyCluster(params: QueryParams): Promise<Record<string, unknown>> {
    const cluster = this.findCluster(required(params, 'DBClusterIdentifier'));
    const password = queryString(params, 'MasterUserPassword');
    if (cluster.status !== 'available') {
      throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} is not in the available state.`);
    }
    const pending: Record<string, string> = {};
    if (password !== undefined) {
      validMasterPassword(password);
      // Applied at once, whatever ApplyImmediately says (as RDS does for the master password).
      const server = await this.backings.get(cluster)?.server;
      if (server) {
        await server.setPassword(cluster.masterUsername, password).catch((error: unknown) => {
          this.failures.push(error);
          throw new AwsServiceError('InternalFailure', 'The master user password could not be changed.', 500);
        });
      }
      pending.MasterUserPassword = '****';
    }
    return { DBCluster: { ...this.describeCluster(cluster), PendingModifiedValues: pending } };
  }

  private deleteCluster(params: QueryParams): RdsCluster {
    const cluster = this.findCluster(required(params, 'DBClusterIdentifier'));
    const finalSnapshot = finalSnapshotOf(params, 'DB cluster', true);
    if (cluster.status === 'deleting') {
      throw fault('InvalidDBClusterStateFault', `Cluster ${cluster.id} is already being deleted.`);
    }
    const members = [...this.instances.values()].filter((i) => i.clusterId === cluster.id);
    if (members.some((i) => i.status !== 'deleting')) {
      throw fault(
        'InvalidDBClusterStateFault',
        'Cluster cannot be deleted, it still contains DB instances in non-deleting state.',
      );
    }
    if (finalSnapshot !== undefined) {
      this.createSnapshot('cluster', {
        DBClusterIdentifier: cluster.id,
        DBClusterSnapshotIdentifier: finalSnapshot,
      });
    }
    cluster.status = 'deleting';
    const backing = this.backings.get(cluster);
    const stopped = backing && this.track(this.stopBacking(cluster, backing));
    this.o.clock.schedule(this.o.clock.now() + (this.o.instanceDeletionMs ?? 2 * 60_000), async () => {
      await stopped;
      if (this.clusters.get(cluster.id) === cluster) this.clusters.delete(cluster.id);
    });
    return cluster;
  }

  // ---- shapes ------------------------------------------------------------------------------------------------

  /** An instance as `Describe*` shows it; like AWS, without an endpoint while it is being created. */
  private describeInstance(i: RdsInstance): Record<string, unknown> {
    // A member of a cluster with a server answers at the cluster's endpoint.
    const cluster = i.clusterId === undefined ? undefined : this.clusters.get(i.clusterId);
    const at =
      cluster && this.backings.has(cluster)
        ? { address: cluster.endpoint, port: cluster.port }
        : { address: i.address, port: i.port };
    return {
      DBInstanceIdentifier: i.id,
      DBInstanceClass: i.instanceClass,
      Engine: i.engine,
      DBInstanceStatus: i.status,
      MasterUsername: i.masterUsername,
      DBName: i.dbName,
      Endpoint:
        i.status === 'creating'
          ? undefined
          : { Address: at.address, Port: at.port, HostedZoneId: 'Z29XKXDKYMONMX' },
      AllocatedStorage: i.allocatedStorage,
      InstanceCreateTime: new Date(i.createTime),
      BackupRetentionPeriod: 1,
      VpcSecurityGroups: (i.securityGroups ?? []).map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
      DBSubnetGroup:
        i.subnetGroup === undefined
          ? undefined
          : { DBSubnetGroupName: i.subnetGroup, SubnetGroupStatus: 'Complete', Subnets: [] },
      PendingModifiedValues: i.pending?.instanceClass ? { DBInstanceClass: i.pending.instanceClass } : {},
      AvailabilityZone: i.availabilityZone,
      MultiAZ: false,
      EngineVersion: i.engineVersion,
      AutoMinorVersionUpgrade: true,
      ReadReplicaDBInstanceIdentifiers: [],
      LicenseModel: LICENSE[i.engine],
      PubliclyAccessible: i.publiclyAccessible ?? false,
      StorageType: i.clusterId ? 'aurora' : 'gp3',
      DbInstancePort: 0,
      DBClusterIdentifier: i.clusterId,
      StorageEncrypted: i.storageEncrypted,
      DbiResourceId: i.resourceId,
      CopyTagsToSnapshot: i.copyTagsToSnapshot,
      DBInstanceArn: i.arn,
      IAMDatabaseAuthenticationEnabled: false,
      DeletionProtection: false,
      TagList: tagList(i.tags),
    };
  }

  private describeCluster(c: RdsCluster): Record<string, unknown> {
    const members = [...this.instances.values()].filter((i) => i.clusterId === c.id);
    return {
      AllocatedStorage: 1,
      AvailabilityZones: c.availabilityZones,
      BackupRetentionPeriod: 1,
      DBClusterIdentifier: c.id,
      Status: c.status,
      Endpoint: c.endpoint,
      ReaderEndpoint: c.readerEndpoint,
      MultiAZ: members.length > 1,
      Engine: c.engine,
      EngineVersion: c.engineVersion,
      Port: c.port,
      MasterUsername: c.masterUsername,
      DatabaseName: c.dbName,
      DBSubnetGroup: c.subnetGroup,
      DBClusterMembers: members.map((i, n) => ({
        DBInstanceIdentifier: i.id,
        IsClusterWriter: n === 0,
        DBClusterParameterGroupStatus: 'in-sync',
        PromotionTier: 1,
      })),
      VpcSecurityGroups: (c.securityGroups ?? []).map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
      StorageEncrypted: c.storageEncrypted,
      DbClusterResourceId: c.resourceId,
      DBClusterArn: c.arn,
      IAMDatabaseAuthenticationEnabled: false,
      ClusterCreateTime: new Date(c.createTime),
      EngineMode: 'provisioned',
      DeletionProtection: false,
      CopyTagsToSnapshot: c.copyTagsToSnapshot,
      TagList: tagList(c.tags),
    };
  }

  /**
   * A snapshot as `Describe*` shows it. A DB snapshot still `creating` has no `SnapshotCreateTime` yet (AWS
   * leaves it out until the snapshot completes); a DB cluster snapshot has one from the start.
   */
  private describeSnapshot(s: RdsSnapshot): Record<string, unknown> {
    const done = s.status !== 'creating';
    const progress = done ? 100 : 0;
    if (s.kind === 'cluster') {
      return {
        AvailabilityZones: ['a', 'b', 'c'].map((z) => `${this.o.region}${z}`),
        DBClusterSnapshotIdentifier: s.id,
        DBClusterIdentifier: s.source,
        SnapshotCreateTime: new Date(s.createTime),
        Engine: s.engine,
        EngineMode: 'provisioned',
        AllocatedStorage: s.allocatedStorage,
        Status: s.status,
        Port: s.port,
        ClusterCreateTime: new Date(s.sourceCreateTime),
        MasterUsername: s.masterUsername,
        EngineVersion: s.engineVersion,
        LicenseModel: LICENSE[s.engine],
        SnapshotType: s.type,
        PercentProgress: progress,
        StorageEncrypted: s.encrypted,
        DBClusterSnapshotArn: s.arn,
        IAMDatabaseAuthenticationEnabled: false,
        TagList: tagList(s.tags),
        StorageType: 'aurora',
        DbClusterResourceId: s.sourceResourceId,
      };
    }
    return {
      DBSnapshotIdentifier: s.id,
      DBInstanceIdentifier: s.source,
      SnapshotCreateTime: done ? new Date(s.createTime) : undefined,
      Engine: s.engine,
      AllocatedStorage: s.allocatedStorage,
      Status: s.status,
      Port: s.port,
      AvailabilityZone: s.availabilityZone,
      InstanceCreateTime: new Date(s.sourceCreateTime),
      MasterUsername: s.masterUsername,
      EngineVersion: s.engineVersion,
      LicenseModel: LICENSE[s.engine],
      SnapshotType: s.type,
      PercentProgress: progress,
      StorageType: 'gp3',
      Encrypted: s.encrypted,
      DBSnapshotArn: s.arn,
      IAMDatabaseAuthenticationEnabled: false,
      ProcessorFeatures: [],
      DbiResourceId: s.sourceResourceId,
      TagList: tagList(s.tags),
      OriginalSnapshotCreateTime: done ? new Date(s.createTime) : undefined,
      SnapshotTarget: 'region',
    };
  }
}

/** `arn:aws:rds:<region>:<account>:<type>:<id>` for the four resource types this world holds. */
function parseRdsArn(
  arn: string,
): { region: string; account: string; type: ResourceType; id: string } | undefined {
  const match = /^arn:aws:rds:([^:]*):([^:]*):(db|cluster|snapshot|cluster-snapshot):(.+)$/.exec(arn);
  if (!match) return undefined;
  const [, region = '', account = '', type = 'db', id = ''] = match;
  return { region, account, type: type as ResourceType, id: id.toLowerCase() };
}

/** An identifier as RDS compares it: lowercase, the resource part of an ARN. */
function idOf(value: string): string {
  return (parseRdsArn(value)?.id ?? value).toLowerCase();
}

/** A boolean parameter (`true`/`false` on the wire), or `undefined` when absent. */
function queryBoolean(params: QueryParams, name: string): boolean | undefined {
  const value = queryString(params, name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new AwsServiceError('InvalidParameterValue', `Invalid value ${value} for ${name}.`);
}

/** A DB instance class RDS would accept for the engine (`db.<family>.<size>`). */
function validInstanceClass(value: string, of: { engine: string; engineVersion: string }): string {
  if (!/^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(value)) {
    throw fault(
      'InvalidParameterCombination',
      `RDS does not support creating a DB instance with the following combination: DBInstanceClass=${value}, Engine=${of.engine}, EngineVersion=${of.engineVersion}, LicenseModel=${LICENSE[of.engine] ?? 'general-public-license'}.`,
    );
  }
  return value;
}

/** An Aurora engine name (`aurora-postgresql`, `aurora-mysql`), as CreateDBCluster and restores take them. */
function auroraEngine(engine: string): string {
  if (engine !== 'aurora-postgresql' && engine !== 'aurora-mysql') {
    throw fault('InvalidParameterValue', `Invalid DB engine: ${engine}`);
  }
  return engine;
}

/** The major version defaults are named by: `16` for PostgreSQL 16.4, `8.0` for MySQL 8.0.39. */
function majorVersion(engine: string, version: string): string {
  const parts = version.split('.');
  return (engine.includes('postgres') ? parts.slice(0, 1) : parts.slice(0, 2)).join('.');
}

function required(params: QueryParams, name: string): string {
  const value = queryString(params, name);
  if (value === undefined) {
    throw new AwsServiceError('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}

/** `Tags.Tag.N.Key/Value` as a map (in order). */
function tagsOf(params: QueryParams): Map<string, string> {
  const tags = new Map<string, string>();
  for (const item of queryList(params, 'Tags')) {
    const tag = queryStruct(item);
    const key = typeof tag.Key === 'string' ? tag.Key : '';
    if (key === '') throw new AwsServiceError('InvalidParameterValue', 'A tag key must not be empty.');
    tags.set(key, typeof tag.Value === 'string' ? tag.Value : '');
  }
  return tags;
}

function tagKeysOf(params: QueryParams): string[] {
  return queryList(params, 'TagKeys').filter((k): k is string => typeof k === 'string');
}

function tagList(tags: Map<string, string>): { Key: string; Value: string }[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

/** The request's tags as IAM sees them: `aws:RequestTag/<key>`, `rds:req-tag/<key>`, `aws:TagKeys`. */
function requestTagContext(tags: Map<string, string>): Record<string, string | string[]> {
  if (tags.size === 0) return {};
  const context: Record<string, string | string[]> = { 'aws:TagKeys': [...tags.keys()] };
  for (const [key, value] of tags) {
    context[`aws:RequestTag/${key}`] = value;
    context[`rds:req-tag/${key}`] = value;
  }
  return context;
}

type FilterTest<T> = (record: T, values: string[]) => boolean;

/**
 * The `Filters.Filter.N` of a Describe call as one predicate (every filter must match; a filter matches
 * when any of its values does).
 *
 * @throws {@link AwsServiceError} `InvalidParameterValue` for a filter name the call does not support.
 */
function filterOf<T>(params: QueryParams, supported: Record<string, FilterTest<T>>): (record: T) => boolean {
  const tests = queryList(params, 'Filters').map((item) => {
    const filter = queryStruct(item);
    const name = typeof filter.Name === 'string' ? filter.Name : '';
    const test = Object.hasOwn(supported, name) ? supported[name] : undefined;
    if (!test) throw new AwsServiceError('InvalidParameterValue', `Unrecognized filter name: ${name}.`);
    const values = queryList(filter, 'Values').filter((v): v is string => typeof v === 'string');
    return (record: T) => test(record, values);
  });
  return (record) => tests.every((t) => t(record));
}

function* lazyFilter<T>(records: Iterable<T>, keep: (record: T) => boolean): Generator<T> {
  for (const record of records) if (keep(record)) yield record;
}

/**
 * The final snapshot a Delete call asks for, with RDS's rules: SkipFinalSnapshot or a final snapshot
 * identifier, not both; neither when `required` is false (an Aurora member instance).
 */
function finalSnapshotOf(params: QueryParams, what: string, required: boolean): string | undefined {
  const skip = queryBoolean(params, 'SkipFinalSnapshot') ?? false;
  const finalSnapshot = queryString(params, 'FinalDBSnapshotIdentifier');
  if (required && !skip && finalSnapshot === undefined) {
    throw fault(
      'InvalidParameterCombination',
      'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
    );
  }
  if (skip && finalSnapshot !== undefined) {
    throw fault(
      'InvalidParameterCombination',
      `FinalDBSnapshotIdentifier can not be specified when deleting a ${what} with SkipFinalSnapshot=true.`,
    );
  }
  return finalSnapshot;
}
