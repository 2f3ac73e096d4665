import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { listDatabases, listSnapshots, selectTargets } from '#shared/rds-inventory';
import { copiesAmong, observeVerification } from '../../../lambdas/restore-verify/observe.ts';
import type { VerificationStore } from '../../../lambdas/restore-verify/store.ts';

const managed = [{ Key: 'nightshift:managed', Value: 'true' }];

function fleet() {
  const rds = mockClient(RDSClient);
  // Two pages of instances: a standalone one, a cluster member, and a copy of each kind's member.
  rds
    .on(DescribeDBInstancesCommand, { Marker: undefined })
    .resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders', DBInstanceStatus: 'available', TagList: managed }],
      Marker: 'page-2',
    })
    .on(DescribeDBInstancesCommand, { Marker: 'page-2' })
    .resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'orders-1', DBClusterIdentifier: 'orders', DBInstanceStatus: 'available' },
        {
          DBInstanceIdentifier: 'nightshift-verify-orders-20261122-c-1',
          DBClusterIdentifier: 'nightshift-verify-orders-20261122-c',
          DBInstanceStatus: 'creating',
        },
        {
          DBInstanceIdentifier: 'nightshift-verify-orders-20261122',
          DBInstanceStatus: 'available',
          PendingModifiedValues: { MasterUserPassword: '****' },
          TagList: [...managed, { Key: 'nightshift:expires-at', Value: '2026-11-22T09:00:00.000Z' }],
        },
      ],
    });
  rds.on(DescribeDBClustersCommand).resolves({
    DBClusters: [
      { DBClusterIdentifier: 'orders', Status: 'available' },
      { DBClusterIdentifier: 'nightshift-verify-orders-20261122-c', Status: 'available', TagList: managed },
    ],
  });
  const snapshot = (createdAt: string) => ({
    SnapshotType: 'manual',
    Status: 'available',
    SnapshotCreateTime: new Date(createdAt),
    TagList: managed,
  });
  rds
    .on(DescribeDBSnapshotsCommand, { Marker: undefined })
    .resolves({
      DBSnapshots: [
        {
          ...snapshot('2026-11-21T03:00:00Z'),
          DBSnapshotIdentifier: 'nightshift-orders-20261121-0300',
          DBInstanceIdentifier: 'orders',
        },
      ],
      Marker: 'next',
    })
    .on(DescribeDBSnapshotsCommand, { Marker: 'next' })
    .resolves({
      DBSnapshots: [
        {
          ...snapshot('2026-11-20T03:00:00Z'),
          DBSnapshotIdentifier: 'nightshift-orders-20261120-0300',
          DBInstanceIdentifier: 'orders',
        },
      ],
    });
  // The cluster's newest snapshot is newer than the instance's: it must not stand in for the instance's.
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({
    DBClusterSnapshots: [
      {
        ...snapshot('2026-11-22T03:00:00Z'),
        DBClusterSnapshotIdentifier: 'nightshift-orders-20261122-0300',
        DBClusterIdentifier: 'orders',
      },
    ],
  });
  return rds;
}

describe('the shared RDS inventory', () => {
  it('reads every page, and reads cluster members as their cluster', async () => {
    const rds = new RDSClient({ region: 'eu-west-1' });
    const mock = fleet();
    const databases = await listDatabases(rds);
    expect(databases.map((d) => `${d.kind}:${d.id}`)).toEqual([
      'instance:orders',
      'instance:nightshift-verify-orders-20261122',
      'cluster:orders',
      'cluster:nightshift-verify-orders-20261122-c',
    ]);
    expect(databases.find((d) => d.kind === 'cluster' && d.id === 'orders')?.memberStatuses).toEqual([
      'available',
    ]);
    expect((await listSnapshots(rds)).map((s) => s.id)).toEqual([
      'nightshift-orders-20261121-0300',
      'nightshift-orders-20261120-0300',
      'nightshift-orders-20261122-0300',
    ]);
    expect(mock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    expect(mock.commandCalls(DescribeDBSnapshotsCommand)).toHaveLength(2);
    mock.restore();
  });

  it('selects an instance and a cluster of the same name apart', async () => {
    const rds = new RDSClient({ region: 'eu-west-1' });
    const mock = fleet();
    const databases = await listDatabases(rds);
    expect(selectTargets(databases, { instances: ['orders'], clusters: [] }).targets).toEqual([
      { id: 'orders', kind: 'instance' },
    ]);
    expect(selectTargets(databases, { instances: [], clusters: ['orders', 'gone'] })).toEqual({
      targets: [{ id: 'orders', kind: 'cluster' }],
      missing: ['DB cluster gone'],
    });
    mock.restore();
  });

  it("restore-verify observes each kind's newest snapshot, and its copies' states, from one listing", async () => {
    const rds = new RDSClient({ region: 'eu-west-1' });
    const mock = fleet();
    const ssm = mockClient(SSMClient);
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    const store = { list: async () => [] } as unknown as VerificationStore;
    const observation = await observeVerification(
      {
        rds,
        ssm: new SSMClient({ region: 'eu-west-1' }),
        store,
        dueSince: 0,
        config: {
          dryRun: false,
          targets: { instances: ['orders'], clusters: ['orders'] },
          instanceClass: 'db.t4g.micro',
          securityGroupIds: [],
          checks: [],
          restoreTimeoutMinutes: 120,
          instanceTtlHours: 6,
        },
      },
      Date.parse('2026-11-22T05:00:00Z'),
    );
    expect(observation.snapshots).toEqual([
      {
        database: 'orders',
        kind: 'instance',
        snapshotId: 'nightshift-orders-20261121-0300',
        createdAt: Date.parse('2026-11-21T03:00:00Z'),
      },
      {
        database: 'orders',
        kind: 'cluster',
        snapshotId: 'nightshift-orders-20261122-0300',
        createdAt: Date.parse('2026-11-22T03:00:00Z'),
      },
    ]);
    expect(observation.copies).toEqual([
      {
        id: 'nightshift-verify-orders-20261122',
        kind: 'instance',
        status: 'resetting-master-credentials',
        expiresAt: Date.parse('2026-11-22T09:00:00.000Z'),
        managed: true,
      },
      // Available as a cluster, but its one member is still creating: it serves nothing yet.
      {
        id: 'nightshift-verify-orders-20261122-c',
        kind: 'cluster',
        status: 'creating',
        expiresAt: undefined,
        managed: true,
      },
    ]);
    expect(mock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    expect(copiesAmong([])).toEqual([]);
    mock.restore();
    ssm.restore();
  });
});
