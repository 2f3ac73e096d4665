import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
} from '@aws-sdk/client-rds';
import { afterEach, describe, expect, it } from 'vitest';
import { arn, closeWorlds, MIN, START, world } from './rds-fixture.ts';

afterEach(closeWorlds);

describe('RdsWorld', () => {
  describe('filters snapshots', () => {
    it('by SnapshotType, DBInstanceIdentifier and the db-instance-id / snapshot-type filters', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      rds.addSnapshot({ identifier: 'm-orders', source: 'orders' });
      rds.addSnapshot({ identifier: 'rds:orders-2026-11-19-05-10', source: 'orders', type: 'automated' });
      rds.addSnapshot({ identifier: 'm-billing', source: 'billing' });
      const ids = async (input: DescribeDBSnapshotsCommandInput) =>
        ((await sdk.send(new DescribeDBSnapshotsCommand(input))).DBSnapshots ?? []).map(
          (s) => s.DBSnapshotIdentifier,
        );

      expect(await ids({})).toEqual(['m-orders', 'rds:orders-2026-11-19-05-10', 'm-billing']);
      expect(await ids({ SnapshotType: 'automated' })).toEqual(['rds:orders-2026-11-19-05-10']);
      expect(await ids({ SnapshotType: 'shared' })).toEqual([]);
      expect(await ids({ DBInstanceIdentifier: 'ORDERS' })).toEqual([
        'm-orders',
        'rds:orders-2026-11-19-05-10',
      ]);
      expect(
        await ids({
          Filters: [
            { Name: 'db-instance-id', Values: [arn('db:orders'), 'billing'] },
            { Name: 'snapshot-type', Values: ['manual'] },
          ],
        }),
      ).toEqual(['m-orders', 'm-billing']);
      expect(await ids({ DBSnapshotIdentifier: 'rds:orders-2026-11-19-05-10' })).toEqual([
        'rds:orders-2026-11-19-05-10',
      ]);
    });

    it('by db-cluster-id and snapshot-type for cluster snapshots', async () => {
      const { rds, sdk } = await world();
      rds.addCluster({ identifier: 'ledger' });
      rds.addClusterSnapshot({ identifier: 'c1', source: 'ledger' });
      rds.addClusterSnapshot({
        identifier: 'rds:ledger-2026-11-19-05-10',
        source: 'ledger',
        type: 'automated',
      });
      rds.addClusterSnapshot({ identifier: 'c2', source: 'other' });
      const out = await sdk.send(
        new DescribeDBClusterSnapshotsCommand({
          Filters: [
            { Name: 'db-cluster-id', Values: ['ledger'] },
            { Name: 'snapshot-type', Values: ['manual'] },
          ],
        }),
      );
      expect(out.DBClusterSnapshots?.map((s) => s.DBClusterSnapshotIdentifier)).toEqual(['c1']);
    });

    it('answers InvalidParameterValue for a filter the call does not support', async () => {
      const { sdk } = await world();
      await expect(
        sdk.send(new DescribeDBSnapshotsCommand({ Filters: [{ Name: 'tag:team', Values: ['x'] }] })),
      ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    });

    it('answers DBSnapshotNotFound (404) for a snapshot identifier that does not exist', async () => {
      const { sdk } = await world();
      await expect(
        sdk.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'none' })),
      ).rejects.toMatchObject({
        name: 'DBSnapshotNotFoundFault',
        Code: 'DBSnapshotNotFound',
        $metadata: { httpStatusCode: 404 },
      });
    });
  });

  describe('creates snapshots that complete on the virtual clock', () => {
    it('answers creating (without SnapshotCreateTime) and turns available after the configured delay', async () => {
      const { rds, clock, sdk } = await world({ snapshotCreationMs: 10 * MIN });
      rds.addInstance({ identifier: 'orders', engine: 'postgres', engineVersion: '16.4' });
      const created = await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'Nightshift-Orders-1',
        }),
      );
      expect(created.DBSnapshot).toMatchObject({
        DBSnapshotIdentifier: 'nightshift-orders-1',
        DBInstanceIdentifier: 'orders',
        Status: 'creating',
        SnapshotType: 'manual',
        Engine: 'postgres',
        EngineVersion: '16.4',
        PercentProgress: 0,
        DBSnapshotArn: arn('snapshot:nightshift-orders-1'),
      });
      expect(created.DBSnapshot?.SnapshotCreateTime).toBeUndefined();

      await clock.advance(9 * MIN);
      const describe = () =>
        sdk.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'NIGHTSHIFT-orders-1' }));
      expect((await describe()).DBSnapshots?.[0]?.Status).toBe('creating');

      await clock.advance(1 * MIN);
      expect((await describe()).DBSnapshots?.[0]).toMatchObject({
        Status: 'available',
        PercentProgress: 100,
        SnapshotCreateTime: new Date(START),
      });
    });

    it('creates a cluster snapshot that has its create time from the start and completes after its delay', async () => {
      const { rds, clock, sdk } = await world({ clusterSnapshotCreationMs: 3 * MIN });
      rds.addCluster({ identifier: 'ledger' });
      rds.addInstance({ identifier: 'ledger-1', clusterIdentifier: 'ledger' });
      const created = await sdk.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterIdentifier: 'ledger',
          DBClusterSnapshotIdentifier: 'nightshift-ledger-1',
        }),
      );
      expect(created.DBClusterSnapshot).toMatchObject({
        DBClusterSnapshotIdentifier: 'nightshift-ledger-1',
        DBClusterIdentifier: 'ledger',
        Status: 'creating',
        Engine: 'aurora-postgresql',
        SnapshotCreateTime: new Date(START),
        DBClusterSnapshotArn: arn('cluster-snapshot:nightshift-ledger-1'),
      });
      await clock.advance(3 * MIN);
      const out = await sdk.send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: 'ledger' }));
      expect(out.DBClusterSnapshots?.[0]?.Status).toBe('available');
    });

    it('refuses a snapshot of an Aurora member instance, of an instance not available, and of a missing one', async () => {
      const { rds, sdk } = await world();
      rds.addCluster({ identifier: 'ledger' });
      rds.addInstance({ identifier: 'ledger-1', clusterIdentifier: 'ledger' });
      rds.addInstance({ identifier: 'stopped', status: 'stopped' });
      const create = (DBInstanceIdentifier: string) =>
        sdk.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier, DBSnapshotIdentifier: 'snap' }));
      await expect(create('ledger-1')).rejects.toMatchObject({ name: 'InvalidDBInstanceStateFault' });
      await expect(create('stopped')).rejects.toMatchObject({ name: 'InvalidDBInstanceStateFault' });
      await expect(create('missing')).rejects.toMatchObject({
        name: 'DBInstanceNotFoundFault',
        Code: 'DBInstanceNotFound',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(
        sdk.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: 'missing',
            DBClusterSnapshotIdentifier: 'snap',
          }),
        ),
      ).rejects.toMatchObject({ name: 'DBClusterNotFoundFault', $metadata: { httpStatusCode: 404 } });
      expect(rds.snapshots.size).toBe(0);
    });

    it('refuses an identifier that already exists, whatever its case', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      rds.addCluster({ identifier: 'ledger' });
      rds.addSnapshot({ identifier: 'taken', source: 'orders' });
      rds.addClusterSnapshot({ identifier: 'taken', source: 'ledger' });
      await expect(
        sdk.send(
          new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: 'TAKEN' }),
        ),
      ).rejects.toMatchObject({ name: 'DBSnapshotAlreadyExistsFault', Code: 'DBSnapshotAlreadyExists' });
      await expect(
        sdk.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: 'ledger',
            DBClusterSnapshotIdentifier: 'taken',
          }),
        ),
      ).rejects.toMatchObject({ name: 'DBClusterSnapshotAlreadyExistsFault' });
    });
  });

  describe('enforces the manual snapshot quota per Region', () => {
    it('refuses with SnapshotQuotaExceeded the create that would exceed it; automated snapshots do not count', async () => {
      const { rds, clock, sdk } = await world({ manualSnapshotQuota: 3, snapshotCreationMs: MIN });
      rds.addInstance({ identifier: 'orders' });
      rds.addSnapshot({ identifier: 'old-1', source: 'orders' });
      rds.addSnapshot({ identifier: 'old-2', source: 'gone' });
      rds.addSnapshot({ identifier: 'rds:orders-2026-11-19-05-10', source: 'orders', type: 'automated' });
      const create = (DBSnapshotIdentifier: string) =>
        sdk.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier }));

      await create('third');
      await expect(create('fourth')).rejects.toMatchObject({
        name: 'SnapshotQuotaExceededFault',
        Code: 'SnapshotQuotaExceeded',
        message: 'Cannot create more than 3 manual snapshots',
        $metadata: { httpStatusCode: 400 },
      });
      expect(rds.manualSnapshotCount('db')).toBe(3);

      await clock.advance(MIN);
      await sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'old-1' }));
      await create('fourth');
    });

    it('counts DB cluster snapshots separately, with their own quota', async () => {
      const { rds, sdk } = await world({ manualSnapshotQuota: 1, manualClusterSnapshotQuota: 2 });
      rds.addInstance({ identifier: 'orders' });
      rds.addCluster({ identifier: 'ledger' });
      rds.addSnapshot({ identifier: 'full', source: 'orders' });
      const createCluster = (DBClusterSnapshotIdentifier: string) =>
        sdk.send(
          new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'ledger', DBClusterSnapshotIdentifier }),
        );
      await createCluster('c1');
      await createCluster('c2');
      await expect(createCluster('c3')).rejects.toMatchObject({
        name: 'SnapshotQuotaExceededFault',
        message: 'Cannot create more than 2 manual cluster snapshots',
      });
      rds.quotas.manualClusterSnapshots = 3;
      await createCluster('c3');
    });
  });

  describe('deletes snapshots', () => {
    it('refuses to delete a snapshot still creating, then deletes it once available', async () => {
      const { rds, clock, sdk } = await world({ snapshotCreationMs: 5 * MIN });
      rds.addInstance({ identifier: 'orders' });
      await sdk.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: 'nightshift-1' }),
      );
      const del = () => sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'nightshift-1' }));
      await expect(del()).rejects.toMatchObject({
        name: 'InvalidDBSnapshotStateFault',
        Code: 'InvalidDBSnapshotState',
        $metadata: { httpStatusCode: 400 },
      });
      await clock.advance(5 * MIN);
      expect((await del()).DBSnapshot).toMatchObject({
        DBSnapshotIdentifier: 'nightshift-1',
        Status: 'deleted',
      });
    });

    it('takes time to delete: deleting, a second delete refused with InvalidDBSnapshotState, then gone', async () => {
      const { rds, clock, sdk } = await world({ snapshotDeletionMs: 2 * MIN });
      rds.addSnapshot({ identifier: 'nightshift-1', source: 'orders' });
      const del = () => sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'nightshift-1' }));
      const describe = () =>
        sdk.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nightshift-1' }));
      expect((await del()).DBSnapshot?.Status).toBe('deleted');
      expect((await describe()).DBSnapshots?.[0]?.Status).toBe('deleting');
      // Its place under the quota is free at once; its identifier is not.
      expect(rds.manualSnapshotCount('db')).toBe(0);
      await expect(del()).rejects.toMatchObject({
        name: 'InvalidDBSnapshotStateFault',
        Code: 'InvalidDBSnapshotState',
        message: expect.stringContaining('(it is deleting)'),
        $metadata: { httpStatusCode: 400 },
      });
      await clock.advance(2 * MIN - 1);
      expect((await describe()).DBSnapshots?.[0]?.Status).toBe('deleting');
      await clock.advance(1);
      expect(rds.snapshots.has('nightshift-1')).toBe(false);
      await expect(describe()).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
      await expect(del()).rejects.toMatchObject({
        name: 'DBSnapshotNotFoundFault',
        Code: 'DBSnapshotNotFound',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('refuses to delete automated snapshots', async () => {
      const { rds, sdk } = await world();
      rds.addSnapshot({ identifier: 'rds:orders-2026-11-19-05-10', source: 'orders', type: 'automated' });
      rds.addClusterSnapshot({
        identifier: 'rds:ledger-2026-11-19-05-10',
        source: 'ledger',
        type: 'automated',
      });
      await expect(
        sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'rds:orders-2026-11-19-05-10' })),
      ).rejects.toMatchObject({
        name: 'InvalidDBSnapshotStateFault',
        message: 'automated snapshots cannot be deleted.',
      });
      await expect(
        sdk.send(
          new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'rds:ledger-2026-11-19-05-10' }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidDBClusterSnapshotStateFault' });
      expect(rds.snapshots.size + rds.clusterSnapshots.size).toBe(2);
    });

    it('deletes a cluster snapshot over time, refusing a second delete, then answering DBClusterSnapshotNotFoundFault', async () => {
      const { rds, clock, sdk } = await world({ snapshotDeletionMs: MIN });
      rds.addClusterSnapshot({ identifier: 'c1', source: 'ledger' });
      const del = () => sdk.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'c1' }));
      expect((await del()).DBClusterSnapshot?.Status).toBe('deleted');
      expect(rds.clusterSnapshots.get('c1')?.status).toBe('deleting');
      await expect(del()).rejects.toMatchObject({
        name: 'InvalidDBClusterSnapshotStateFault',
        $metadata: { httpStatusCode: 400 },
      });
      await clock.advance(MIN);
      await expect(del()).rejects.toMatchObject({
        name: 'DBClusterSnapshotNotFoundFault',
        $metadata: { httpStatusCode: 404 },
      });
    });
  });
});
