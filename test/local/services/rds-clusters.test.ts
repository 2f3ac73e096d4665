import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  DeleteDBClusterCommand,
  DescribeDBClustersCommand,
  ModifyDBClusterCommand,
  RestoreDBClusterFromSnapshotCommand,
} from '@aws-sdk/client-rds';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callers, closeWorlds, MIN, role, world } from './rds-fixture.ts';

afterEach(closeWorlds);

describe('RdsWorld Aurora cluster lifecycle, metadata only', () => {
  /** May restore nightshift-verify-* clusters from nightshift-* cluster snapshots, with every resource a restore needs. */
  const clusterVerifier = role('clusterverifier', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'rds:RestoreDBClusterFromSnapshot',
        Resource: [
          'arn:aws:rds:*:*:cluster:nightshift-verify-*',
          'arn:aws:rds:*:*:cluster-snapshot:nightshift-*',
          'arn:aws:rds:*:*:cluster-pg:default.*',
          'arn:aws:rds:*:*:og:default:*',
          'arn:aws:rds:*:*:subgrp:verify-subnets',
        ],
      },
    ],
  });
  /** Like the cluster verifier, but forgot the cluster parameter group. */
  const withoutClusterPg = role('clusternopg', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'rds:RestoreDBClusterFromSnapshot',
        Resource: [
          'arn:aws:rds:*:*:cluster:nightshift-verify-*',
          'arn:aws:rds:*:*:cluster-snapshot:nightshift-*',
          'arn:aws:rds:*:*:og:*',
          'arn:aws:rds:*:*:subgrp:*',
        ],
      },
    ],
  });
  beforeAll(() => {
    for (const c of [clusterVerifier, withoutClusterPg]) callers.set(c.accessKeyId, c);
  });

  const restore = (SnapshotIdentifier: string, DBClusterIdentifier: string, Engine = 'aurora-postgresql') =>
    new RestoreDBClusterFromSnapshotCommand({
      SnapshotIdentifier,
      DBClusterIdentifier,
      Engine,
      DBSubnetGroupName: 'verify-subnets',
    });

  it('restores a cluster (creating, then available on the clock) and refuses what AWS refuses', async () => {
    const { rds, sdk, clock } = await world();
    rds.addCluster({ identifier: 'ledger' });
    rds.addClusterSnapshot({ identifier: 'nightshift-ledger', source: 'ledger' });
    rds.addClusterSnapshot({ identifier: 'nightshift-busy', source: 'ledger', status: 'creating' });

    await expect(sdk.send(restore('nightshift-busy', 'nightshift-verify-a'))).rejects.toMatchObject({
      Code: 'InvalidDBClusterSnapshotStateFault',
    });
    await expect(sdk.send(restore('nightshift-none', 'nightshift-verify-a'))).rejects.toMatchObject({
      Code: 'DBClusterSnapshotNotFoundFault',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(
      sdk.send(restore('nightshift-ledger', 'nightshift-verify-a', 'aurora-mysql')),
    ).rejects.toMatchObject({ Code: 'InvalidParameterCombination' });
    await expect(
      sdk.send(restore('nightshift-ledger', 'nightshift-verify-a', 'postgres')),
    ).rejects.toMatchObject({ Code: 'InvalidParameterValue' });
    await expect(sdk.send(restore('nightshift-ledger', 'ledger'))).rejects.toMatchObject({
      Code: 'DBClusterAlreadyExistsFault',
    });

    const out = await sdk.send(restore('nightshift-ledger', 'nightshift-verify-a'));
    expect(out.DBCluster).toMatchObject({ Status: 'creating', DBSubnetGroup: 'verify-subnets' });
    await expect(
      sdk.send(
        new ModifyDBClusterCommand({
          DBClusterIdentifier: 'nightshift-verify-a',
          MasterUserPassword: 'new-Pass-12',
        }),
      ),
    ).rejects.toMatchObject({ Code: 'InvalidDBClusterStateFault' });
    const member = (more: Partial<CreateDBInstanceCommandInput> = {}) =>
      sdk.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-a-1',
          DBClusterIdentifier: 'nightshift-verify-a',
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.t4g.medium',
          ...more,
        }),
      );
    await expect(member({ Engine: 'aurora-mysql' })).rejects.toMatchObject({
      Code: 'InvalidParameterCombination',
    });
    await expect(member({ MasterUserPassword: 'new-Pass-12' })).rejects.toMatchObject({
      Code: 'InvalidParameterCombination',
    });
    await expect(member({ DBClusterIdentifier: undefined })).rejects.toMatchObject({
      Code: 'InvalidParameterCombination',
    });
    await expect(member({ DBClusterIdentifier: 'none' })).rejects.toMatchObject({
      Code: 'DBClusterNotFoundFault',
    });
    expect((await member()).DBInstance?.DBInstanceStatus).toBe('creating');
    await clock.advance(10 * MIN);
    const cluster = (
      await sdk.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'nightshift-verify-a' }))
    ).DBClusters?.[0];
    expect(cluster).toMatchObject({
      Status: 'available',
      Endpoint: 'nightshift-verify-a.cluster-c0local0000.eu-west-1.rds.amazonaws.com',
      DBClusterMembers: [{ DBInstanceIdentifier: 'nightshift-verify-a-1' }],
    });
    expect(rds.instances.get('nightshift-verify-a-1')?.status).toBe('available');
    const modified = await sdk.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: 'nightshift-verify-a',
        MasterUserPassword: 'new-Pass-12',
      }),
    );
    expect(modified.DBCluster?.PendingModifiedValues).toEqual({ MasterUserPassword: '****' });
  });

  it('creates an empty cluster with CreateDBCluster and deletes it with a final snapshot', async () => {
    const { rds, sdk, clock } = await world();
    const created = await sdk.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'scratch',
        Engine: 'aurora-postgresql',
        MasterUsername: 'owner',
        MasterUserPassword: 'scratch-Pass-1',
      }),
    );
    expect(created.DBCluster).toMatchObject({ Status: 'creating', MasterUsername: 'owner' });
    await clock.advance(10 * MIN);
    expect(rds.clusters.get('scratch')?.status).toBe('available');
    await expect(
      sdk.send(new DeleteDBClusterCommand({ DBClusterIdentifier: 'scratch' })),
    ).rejects.toMatchObject({ Code: 'InvalidParameterCombination' });
    const deleted = await sdk.send(
      new DeleteDBClusterCommand({
        DBClusterIdentifier: 'scratch',
        FinalDBSnapshotIdentifier: 'scratch-final',
      }),
    );
    expect(deleted.DBCluster?.Status).toBe('deleting');
    expect(rds.clusterSnapshots.get('scratch-final')).toMatchObject({
      source: 'scratch',
      status: 'creating',
    });
    await clock.advance(2 * MIN);
    expect(rds.clusters.has('scratch')).toBe(false);
    expect(rds.clusterSnapshots.get('scratch-final')?.status).toBe('available');
  });

  it('authorizes a cluster restore against the cluster, the cluster snapshot, the cluster parameter group, option group and subnet group', async () => {
    const { rds, client } = await world();
    rds.addClusterSnapshot({ identifier: 'nightshift-ledger', source: 'ledger' });
    await expect(
      client(clusterVerifier).send(restore('nightshift-ledger', 'nightshift-verify-ok')),
    ).resolves.toMatchObject({ DBCluster: { Status: 'creating' } });
    await expect(client(clusterVerifier).send(restore('nightshift-ledger', 'other'))).rejects.toMatchObject({
      Code: 'AccessDenied',
    });
    await expect(
      client(withoutClusterPg).send(restore('nightshift-ledger', 'nightshift-verify-nopg')),
    ).rejects.toMatchObject({
      Code: 'AccessDenied',
      message: expect.stringContaining(`cluster-pg:default.aurora-postgresql16`),
    });
  });
});
