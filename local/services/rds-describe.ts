/**
 * Records of the local RDS world as RDS's `Describe*` (and every action returning one) shows them.
 *
 * @module
 */
import type { RdsCluster, RdsInstance, RdsSnapshot } from './rds-model.ts';
import type { RdsState } from './rds-state.ts';
import { LICENSE, tagList } from './rds-wire.ts';

/** Element names of list members in RDS responses (from the SDK's model). */
export const MEMBERS = {
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

/** An instance as `Describe*` shows it; like AWS, without an endpoint while it is being created. */
export function describeInstance(w: RdsState, i: RdsInstance): Record<string, unknown> {
  // A member of a cluster with a server answers at the cluster's endpoint.
  const cluster = i.clusterId === undefined ? undefined : w.clusters.get(i.clusterId);
  const at =
    cluster && w.backings.has(cluster)
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

/** A cluster as `Describe*` shows it, with its member instances. */
export function describeCluster(w: RdsState, c: RdsCluster): Record<string, unknown> {
  const members = [...w.instances.values()].filter((i) => i.clusterId === c.id);
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
export function describeSnapshot(w: RdsState, s: RdsSnapshot): Record<string, unknown> {
  const done = s.status !== 'creating';
  const progress = done ? 100 : 0;
  if (s.kind === 'cluster') {
    return {
      AvailabilityZones: ['a', 'b', 'c'].map((z) => `${w.o.region}${z}`),
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
