/**
 * The records of the local RDS world (DB instances, Aurora clusters, DB and DB cluster snapshots), the seeds
 * that put existing ones in it, and its options.
 *
 * @module
 */
import type { PostgresFleet } from '../postgres/fleet.ts';
import type { VirtualClock } from '../world/clock.ts';
import type { Sequenced } from './rds-pages.ts';

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
