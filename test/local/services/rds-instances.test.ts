import {
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { afterEach, describe, expect, it } from 'vitest';
import type { RdsWorldOptions } from '../../../local/services/rds.ts';
import { arn, closeWorlds, MIN, START, world } from './rds-fixture.ts';

afterEach(closeWorlds);

describe('RdsWorld', () => {
  describe('describes instances and clusters', () => {
    it('shows an Aurora cluster with its members and an instance with its endpoint and tags', async () => {
      const { rds, sdk } = await world();
      rds.addCluster({ identifier: 'ledger', tags: { team: 'core' } });
      rds.addInstance({ identifier: 'ledger-1', clusterIdentifier: 'ledger' });
      rds.addInstance({ identifier: 'ledger-2', clusterIdentifier: 'ledger' });
      rds.addInstance({
        identifier: 'orders',
        endpoint: { address: '127.0.0.1', port: 15432 },
        tags: { a: 'b' },
      });

      const clusters = await sdk.send(new DescribeDBClustersCommand({}));
      expect(clusters.DBClusters).toHaveLength(1);
      expect(clusters.DBClusters?.[0]).toMatchObject({
        DBClusterIdentifier: 'ledger',
        Status: 'available',
        Engine: 'aurora-postgresql',
        DBClusterArn: arn('cluster:ledger'),
        DBClusterMembers: [
          { DBInstanceIdentifier: 'ledger-1', IsClusterWriter: true },
          { DBInstanceIdentifier: 'ledger-2', IsClusterWriter: false },
        ],
        AvailabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        TagList: [{ Key: 'team', Value: 'core' }],
      });

      const instances = await sdk.send(
        new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: ['ledger'] }] }),
      );
      expect(instances.DBInstances?.map((i) => i.DBInstanceIdentifier)).toEqual(['ledger-1', 'ledger-2']);
      const orders = await sdk.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: arn('db:orders') }),
      );
      expect(orders.DBInstances?.[0]).toMatchObject({
        DBInstanceIdentifier: 'orders',
        DBInstanceStatus: 'available',
        Engine: 'postgres',
        Endpoint: { Address: '127.0.0.1', Port: 15432 },
        DBInstanceArn: arn('db:orders'),
        InstanceCreateTime: new Date(START),
        TagList: [{ Key: 'a', Value: 'b' }],
      });
      await expect(
        sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'none' })),
      ).rejects.toMatchObject({
        name: 'DBInstanceNotFoundFault',
      });
      await expect(
        sdk.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'none' })),
      ).rejects.toMatchObject({
        name: 'DBClusterNotFoundFault',
      });
    });
  });

  describe('restores, modifies and deletes DB instances', () => {
    /** A world with `orders` (db.r6g.large, master `owner`) and its available snapshot `nightshift-orders-1`. */
    async function withSnapshot(options: Partial<RdsWorldOptions> = {}) {
      const w = await world(options);
      w.rds.addInstance({
        identifier: 'orders',
        instanceClass: 'db.r6g.large',
        masterUsername: 'owner',
        tags: { team: 'core' },
        copyTagsToSnapshot: true,
      });
      await w.sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-orders-1',
        }),
      );
      await w.clock.advance(5 * MIN);
      return w;
    }

    it('restores a new instance from a snapshot: creating without an endpoint, then available on the clock', async () => {
      const { clock, sdk } = await withSnapshot({ instanceCreationMs: 8 * MIN });
      const restored = await sdk.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'Nightshift-Verify-Orders',
          DBSnapshotIdentifier: 'nightshift-orders-1',
          DBInstanceClass: 'db.t4g.micro',
          DBSubnetGroupName: 'verify-subnets',
          VpcSecurityGroupIds: ['sg-1', 'sg-2'],
          PubliclyAccessible: false,
          Tags: [{ Key: 'nightshift:run', Value: 'r1' }],
        }),
      );
      expect(restored.DBInstance).toMatchObject({
        DBInstanceIdentifier: 'nightshift-verify-orders',
        DBInstanceStatus: 'creating',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
        MasterUsername: 'owner',
        DBSubnetGroup: { DBSubnetGroupName: 'verify-subnets' },
        VpcSecurityGroups: [
          { VpcSecurityGroupId: 'sg-1', Status: 'active' },
          { VpcSecurityGroupId: 'sg-2', Status: 'active' },
        ],
        PubliclyAccessible: false,
        TagList: [{ Key: 'nightshift:run', Value: 'r1' }],
        DBInstanceArn: arn('db:nightshift-verify-orders'),
      });
      // The clock's advance never lands behind live time, so under load it may land a millisecond or two on.
      const created = restored.DBInstance?.InstanceCreateTime?.getTime() ?? 0;
      expect(created - (START + 5 * MIN)).toBeGreaterThanOrEqual(0);
      expect(created - (START + 5 * MIN)).toBeLessThan(1000);
      expect(restored.DBInstance?.Endpoint).toBeUndefined();
      const describe = async () =>
        (await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nightshift-verify-orders' })))
          .DBInstances?.[0];
      await clock.advance(8 * MIN - 1);
      expect((await describe())?.DBInstanceStatus).toBe('creating');
      await clock.advance(1);
      expect(await describe()).toMatchObject({
        DBInstanceStatus: 'available',
        Endpoint: { Address: expect.stringMatching(/^nightshift-verify-orders\./), Port: 5432 },
      });

      const plain = await sdk.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'nightshift-verify-2',
          DBSnapshotIdentifier: arn('snapshot:nightshift-orders-1'),
        }),
      );
      // Without a class, subnet group or tags of its own: the snapshot's class and tags, the default subnet group.
      expect(plain.DBInstance).toMatchObject({
        DBInstanceClass: 'db.r6g.large',
        DBSubnetGroup: { DBSubnetGroupName: 'default' },
        TagList: [{ Key: 'team', Value: 'core' }],
        PubliclyAccessible: false,
      });
    });

    it('refuses a restore from a snapshot not available, onto an identifier taken or invalid, or of an unknown class', async () => {
      const { sdk } = await withSnapshot();
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-orders-2',
        }),
      );
      const restore = (
        DBInstanceIdentifier: string,
        DBSnapshotIdentifier = 'nightshift-orders-1',
        cls?: string,
      ) =>
        sdk.send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier,
            DBSnapshotIdentifier,
            DBInstanceClass: cls,
          }),
        );
      await expect(restore('verify-a', 'nightshift-orders-2')).rejects.toMatchObject({
        Code: 'InvalidDBSnapshotState',
        message: 'DBSnapshot must have state available but actually has creating',
      });
      await expect(restore('ORDERS')).rejects.toMatchObject({ Code: 'DBInstanceAlreadyExists' });
      await expect(restore('verify--a')).rejects.toMatchObject({ Code: 'InvalidParameterValue' });
      await expect(restore(`v${'x'.repeat(63)}`)).rejects.toMatchObject({
        Code: 'InvalidParameterValue',
        message: expect.stringContaining('longer than 63 characters'),
      });
      await expect(restore('verify-a', 'nightshift-orders-1', 'huge')).rejects.toMatchObject({
        Code: 'InvalidParameterCombination',
      });
      await expect(restore('verify-a', 'missing')).rejects.toMatchObject({
        Code: 'DBSnapshotNotFound',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('modifies the master password (checked, answered masked) and the class now or in the maintenance window', async () => {
      const { rds, sdk } = await withSnapshot();
      const modify = (
        input: Omit<ConstructorParameters<typeof ModifyDBInstanceCommand>[0], 'DBInstanceIdentifier'>,
      ) => sdk.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'orders', ...input }));
      const changed = await modify({ MasterUserPassword: 'a-New-Pass-1', ApplyImmediately: true });
      expect(changed.DBInstance).toMatchObject({
        DBInstanceStatus: 'available',
        PendingModifiedValues: { MasterUserPassword: '****' },
      });
      for (const bad of [
        'Sh0rt',
        'has space in it',
        'has/slash1',
        'has@at-sign',
        'has"quote1',
        'x'.repeat(129),
      ]) {
        const refused = modify({ MasterUserPassword: bad });
        await expect(refused).rejects.toMatchObject({ Code: 'InvalidParameterValue' });
        await refused.catch((error: Error) => expect(error.message).not.toContain(bad));
      }
      await modify({ DBInstanceClass: 'db.r6g.xlarge' });
      expect(rds.instances.get('orders')).toMatchObject({
        instanceClass: 'db.r6g.large',
        pending: { instanceClass: 'db.r6g.xlarge' },
      });
      const now = await modify({ DBInstanceClass: 'db.t4g.small', ApplyImmediately: true });
      expect(now.DBInstance?.DBInstanceClass).toBe('db.t4g.small');
      rds.addCluster({ identifier: 'ledger' });
      rds.addInstance({ identifier: 'ledger-1', clusterIdentifier: 'ledger' });
      await expect(
        sdk.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: 'ledger-1',
            MasterUserPassword: 'a-New-Pass-1',
          }),
        ),
      ).rejects.toMatchObject({
        Code: 'InvalidParameterCombination',
        message: expect.stringContaining('ModifyDbCluster'),
      });
      rds.addInstance({ identifier: 'stopped', status: 'stopped' });
      await expect(
        sdk.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: 'stopped',
            MasterUserPassword: 'a-New-Pass-1',
          }),
        ),
      ).rejects.toMatchObject({ Code: 'InvalidDBInstanceState' });
    });

    it('deletes an instance: deleting, then gone; with a final snapshot only when asked for one', async () => {
      const { rds, clock, sdk } = await withSnapshot({ instanceDeletionMs: 3 * MIN });
      rds.addInstance({ identifier: 'scratch' });
      const del = (
        DBInstanceIdentifier: string,
        more: { SkipFinalSnapshot?: boolean; FinalDBSnapshotIdentifier?: string },
      ) => sdk.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier, ...more }));
      await expect(del('orders', {})).rejects.toMatchObject({
        Code: 'InvalidParameterCombination',
        message: 'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
      });
      await expect(
        del('orders', { SkipFinalSnapshot: true, FinalDBSnapshotIdentifier: 'final' }),
      ).rejects.toMatchObject({ Code: 'InvalidParameterCombination' });
      expect((await del('orders', { SkipFinalSnapshot: true })).DBInstance?.DBInstanceStatus).toBe(
        'deleting',
      );
      await expect(del('orders', { SkipFinalSnapshot: true })).rejects.toMatchObject({
        Code: 'InvalidDBInstanceState',
      });
      expect((await del('scratch', { FinalDBSnapshotIdentifier: 'scratch-final' })).DBInstance).toMatchObject(
        {
          DBInstanceStatus: 'deleting',
        },
      );
      expect(rds.snapshots.get('scratch-final')).toMatchObject({ source: 'scratch', status: 'creating' });
      await clock.advance(3 * MIN - 1);
      expect(rds.instances.get('orders')?.status).toBe('deleting');
      await clock.advance(1);
      await expect(
        sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' })),
      ).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
      expect([...rds.instances.keys()]).toEqual([]);
      // The snapshots outlive the instance; its identifier may be used again.
      expect(rds.snapshots.get('nightshift-orders-1')?.status).toBe('available');
      rds.addInstance({ identifier: 'orders' });
    });
  });
});
