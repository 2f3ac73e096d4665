/**
 * The state of the local RDS world, shared by its operations: the records, the quotas and counters, the
 * servers behind instances and clusters, background work; and the lookups and record factories every
 * operation uses.
 *
 * @module
 */
import type { AwsServiceError } from '../endpoint/errors.ts';
import type { ServerCopy } from '../postgres/copy.ts';
import type { PostgresFleet } from '../postgres/fleet.ts';
import type { PostgresServer } from '../postgres/server.ts';
import type {
  RdsCluster,
  RdsClusterSeed,
  RdsInstance,
  RdsInstanceSeed,
  RdsSnapshot,
  RdsSnapshotStatus,
  RdsTagged,
  RdsWorldOptions,
} from './rds-model.ts';
import { fault, idOf, NOT_FOUND_OF, parseRdsArn, type ResourceType, resourceId } from './rds-wire.ts';

/** The server behind a seeded DB instance could not start; its `cause` says why. */
export class RdsServerStartError extends Error {
  override readonly name = 'RdsServerStartError';
}

/** What backs an instance in a world with PostgreSQL. */
export interface Backing {
  /** The started server, or `undefined` when it could not start or load (the instance's status says so). */
  readonly server: Promise<PostgresServer | undefined>;
  /** Why the server could not start or load. */
  error?: unknown;
  /** Copies of it (snapshots) in progress; its server stops only after them. */
  readonly copies: Set<Promise<unknown>>;
}

/** Records, counters and background work of one RDS world; the operations read and change it. */
export class RdsState {
  /** DB instances by (lowercase) identifier. */
  readonly instances = new Map<string, RdsInstance>();
  /** Aurora DB clusters by (lowercase) identifier. */
  readonly clusters = new Map<string, RdsCluster>();
  /** DB snapshots by (lowercase) identifier, in creation order. */
  readonly snapshots = new Map<string, RdsSnapshot>();
  /** DB cluster snapshots by (lowercase) identifier, in creation order. */
  readonly clusterSnapshots = new Map<string, RdsSnapshot>();
  /** Manual snapshots allowed in the Region; may be changed at any time. */
  readonly quotas: { manualSnapshots: number; manualClusterSnapshots: number };
  /** Errors of background work (server starts and loads, copies, stops), for diagnostics; never a password. */
  readonly failures: unknown[] = [];
  /** Manual snapshots of each kind counted against the quota. */
  readonly manualCount = { db: 0, cluster: 0 };
  /** Sequence of every record created, in order: pagination's markers follow it. */
  seq = 0;
  /** The server behind each backed instance (`postgres`) and cluster (`aurora-postgresql`). */
  readonly backings = new Map<RdsInstance | RdsCluster, Backing>();
  /** The data of each DB (cluster) snapshot taken of a server: the copy, or `undefined` when it failed. */
  readonly snapshotData = new Map<RdsSnapshot, Promise<ServerCopy | undefined>>();
  /** Servers of seeded instances still starting: calls wait for them, so endpoints are real when shown. */
  readonly seeding = new Set<Promise<unknown>>();
  /** Everything in flight in the background (starts, copies, restores, deletes). */
  readonly work = new Set<Promise<unknown>>();

  constructor(readonly o: RdsWorldOptions) {
    this.quotas = {
      manualSnapshots: o.manualSnapshotQuota ?? 100,
      manualClusterSnapshots: o.manualClusterSnapshotQuota ?? 100,
    };
  }

  /** The ARN of a resource of this world. */
  arn(type: ResourceType, id: string): string {
    return `arn:aws:rds:${this.o.region}:${this.o.account}:${type}:${id}`;
  }

  /** Starts the server behind a seeded instance or cluster; calls and {@link ready} wait for it. */
  seedServer(
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

  /** A new instance record (not yet stored), with RDS's defaults for what the seed leaves out. */
  newInstance(
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
  back(
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

  /** Counts `p` as background work until it settles ({@link RdsWorld.settle} waits for it). */
  track<T>(p: Promise<T>): Promise<T> {
    this.work.add(p);
    void p.finally(() => this.work.delete(p)).catch(() => undefined);
    return p;
  }

  /** A new cluster record (not yet stored), with RDS's defaults for what the seed leaves out. */
  newCluster(
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

  /** A new snapshot record of `source` (which may no longer exist), not yet stored. */
  snapshotOf(
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

  /** Stores a snapshot; a manual one counts towards its kind's quota. */
  store(snapshot: RdsSnapshot): RdsSnapshot {
    (snapshot.kind === 'db' ? this.snapshots : this.clusterSnapshots).set(snapshot.id, snapshot);
    if (snapshot.type === 'manual') this.manualCount[snapshot.kind] += 1;
    return snapshot;
  }

  /** The instance an identifier or ARN names, or `DBInstanceNotFound`. */
  findInstance(identifier: string): RdsInstance {
    const id = idOf(identifier);
    const found = this.instances.get(id);
    if (!found) throw NOT_FOUND_OF.db(id);
    return found;
  }

  /** The cluster an identifier or ARN names, or `DBClusterNotFoundFault`. */
  findCluster(identifier: string): RdsCluster {
    const id = idOf(identifier);
    const found = this.clusters.get(id);
    if (!found) throw NOT_FOUND_OF.cluster(id);
    return found;
  }

  /** The DB (cluster) snapshot an identifier or ARN names, or its kind's not-found error. */
  findSnapshot(kind: 'db' | 'cluster', identifier: string): RdsSnapshot {
    const id = idOf(identifier);
    const found = (kind === 'db' ? this.snapshots : this.clusterSnapshots).get(id);
    if (!found) throw NOT_FOUND_OF[kind === 'db' ? 'snapshot' : 'cluster-snapshot'](id);
    return found;
  }

  /** The error a create of an existing snapshot identifier gets. */
  alreadyExists(kind: 'db' | 'cluster', id: string): AwsServiceError {
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
  resourceOf(arn: string): { type: ResourceType; id: string; resource?: RdsTagged } {
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

  /** The record of a type and identifier, if any. */
  lookup(type: ResourceType, id: string): RdsTagged | undefined {
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

  /** The resource an ARN names, or its type's not-found error. */
  taggable(arn: string): RdsTagged {
    const { type, id, resource } = this.resourceOf(arn);
    if (!resource) throw NOT_FOUND_OF[type](id);
    return resource;
  }

  /** Stops an instance's (cluster's) server (after the copies of it in progress) and removes its data. */
  async stopBacking(target: RdsInstance | RdsCluster, backing: Backing): Promise<void> {
    const server = await backing.server;
    await Promise.allSettled([...backing.copies]);
    this.backings.delete(target);
    if (server) await this.o.postgres?.remove(server).catch((error: unknown) => this.failures.push(error));
  }
}
