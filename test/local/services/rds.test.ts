import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBEngineVersionsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  paginateDescribeDBSnapshots,
} from '@aws-sdk/client-rds';
import { afterEach, describe, expect, it } from 'vitest';
import { closeWorlds, MIN, operator, pruner, START, world } from './rds-fixture.ts';

afterEach(closeWorlds);

describe('RdsWorld', () => {
  describe('paginates Describe calls like AWS (moto does not)', () => {
    it('returns 45 snapshots in 3 pages of at most 20, each exactly once, when MaxRecords is 20', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      for (let n = 0; n < 45; n++) {
        rds.addSnapshot({
          identifier: `nightshift-orders-${n}`,
          source: 'orders',
          createTime: START - n * MIN,
        });
      }
      rds.addSnapshot({ identifier: 'other-1', source: 'billing' });

      const pages = [];
      let Marker: string | undefined;
      do {
        const out = await sdk.send(
          new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'orders', MaxRecords: 20, Marker }),
        );
        pages.push(out);
        Marker = out.Marker;
      } while (Marker);

      expect(pages.map((p) => p.DBSnapshots?.length)).toEqual([20, 20, 5]);
      const markers = pages.slice(0, 2).map((p) => p.Marker ?? '');
      for (const marker of markers) {
        expect(marker).not.toMatch(/nightshift|orders|\b20\b|\b40\b/);
      }
      const ids = pages.flatMap((p) => p.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier);
      expect(new Set(ids).size).toBe(45);
      expect([...ids].sort()).toEqual(Array.from({ length: 45 }, (_, n) => `nightshift-orders-${n}`).sort());
    });

    it('works with the SDK paginator and does not skip records deleted between pages', async () => {
      const { rds, clock, sdk } = await world({ snapshotDeletionMs: MIN });
      for (let n = 0; n < 45; n++) rds.addSnapshot({ identifier: `s-${n}`, source: 'orders' });
      const seen: string[] = [];
      let first = true;
      for await (const page of paginateDescribeDBSnapshots({ client: sdk, pageSize: 20 }, {})) {
        seen.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? ''));
        if (first) {
          first = false;
          await sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 's-3' }));
          await clock.advance(MIN);
          expect(rds.snapshots.has('s-3')).toBe(false);
        }
      }
      expect(seen).toHaveLength(45);
      expect(new Set(seen).size).toBe(45);
    });

    it.each([19, 101, 0])('answers InvalidParameterValue for MaxRecords %i', async (MaxRecords) => {
      const { sdk } = await world();
      await expect(sdk.send(new DescribeDBSnapshotsCommand({ MaxRecords }))).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: `Invalid value ${MaxRecords} for MaxRecords. Must be between 20 and 100`,
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('answers InvalidParameterValue for a marker it did not write or wrote for another listing', async () => {
      const { rds, sdk } = await world();
      for (let n = 0; n < 25; n++) rds.addInstance({ identifier: `db-${n}` });
      const { Marker } = await sdk.send(new DescribeDBInstancesCommand({ MaxRecords: 20 }));
      expect(Marker).toBeDefined();
      await expect(sdk.send(new DescribeDBSnapshotsCommand({ Marker }))).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
      await expect(sdk.send(new DescribeDBSnapshotsCommand({ Marker: 'garbage' }))).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
    });

    it('returns 100 records by default', async () => {
      const { rds, sdk } = await world();
      for (let n = 0; n < 150; n++) rds.addSnapshot({ identifier: `s-${n}`, source: 'orders' });
      const out = await sdk.send(new DescribeDBSnapshotsCommand({}));
      expect(out.DBSnapshots).toHaveLength(100);
      expect(out.Marker).toBeDefined();
    });
  });

  describe('validates identifiers like AWS', () => {
    it.each([
      ['starting with a digit', '1-orders'],
      ['with two consecutive hyphens', 'orders--1'],
      ['ending with a hyphen', 'orders-'],
      ['with an underscore', 'orders_1'],
      ['with a colon (reserved for automated snapshots)', 'rds:orders'],
      ['empty', ''],
      ['of 256 characters', `a${'b'.repeat(255)}`],
    ])('refuses a DB snapshot identifier %s with InvalidParameterValue', async (_, DBSnapshotIdentifier) => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      await expect(
        sdk.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier })),
      ).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: expect.stringContaining('The parameter DBSnapshotIdentifier is not a valid identifier'),
      });
    });

    it('accepts 255 characters for a DB snapshot but only 63 for a cluster snapshot', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      rds.addCluster({ identifier: 'ledger' });
      const long = (n: number) => `a${'1'.repeat(n - 1)}`;
      await sdk.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: long(255) }),
      );
      await sdk.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterIdentifier: 'ledger',
          DBClusterSnapshotIdentifier: long(63),
        }),
      );
      await expect(
        sdk.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: 'ledger',
            DBClusterSnapshotIdentifier: long(64),
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message:
          'The parameter DBClusterSnapshotIdentifier is not a valid identifier because it is longer than 63 characters.',
      });
    });
  });

  describe('answers at the endpoint like RDS', () => {
    it('refuses a bad signature (SignatureDoesNotMatch) and an unknown key (InvalidClientTokenId), with 403', async () => {
      const { client } = await world();
      await expect(client(operator, 'wrong').send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
        $metadata: { httpStatusCode: 403 },
      });
      await expect(
        client({ ...operator, accessKeyId: 'AKIANOBODY0000000000' }).send(new DescribeDBSnapshotsCommand({})),
      ).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
    });

    it('answers InvalidAction for an RDS action the local world does not implement', async () => {
      const { sdk } = await world();
      await expect(sdk.send(new DescribeDBEngineVersionsCommand({}))).rejects.toMatchObject({
        name: 'InvalidAction',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('records every call with its service, action, caller and status, and applies faults to rds', async () => {
      const { rds, endpoint, sdk, client } = await world();
      rds.addSnapshot({ identifier: 'other-snap', source: 'orders' });
      endpoint.faults.add({
        service: 'rds',
        operation: 'DescribeDBSnapshots',
        kind: 'server-error',
        count: 1,
      });
      await expect(sdk.send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
        name: 'InternalFailure',
        $metadata: { httpStatusCode: 500 },
      });
      await sdk.send(new DescribeDBSnapshotsCommand({}));
      await client(pruner)
        .send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'other-snap' }))
        .catch(() => undefined);
      expect(endpoint.calls).toEqual([
        {
          service: 'rds',
          operation: 'DescribeDBSnapshots',
          caller: operator.accessKeyId,
          status: 500,
          error: 'InternalFailure',
        },
        {
          service: 'rds',
          operation: 'DescribeDBSnapshots',
          caller: operator.accessKeyId,
          status: 200,
          error: undefined,
        },
        {
          service: 'rds',
          operation: 'DeleteDBSnapshot',
          caller: pruner.accessKeyId,
          status: 403,
          error: 'AccessDenied',
        },
      ]);
      expect(endpoint.count('rds', 'DescribeDBSnapshots')).toBe(2);
    });
  });

  describe('seeds large worlds quickly', () => {
    it('adds 30,000 snapshots and pages through them in order of creation', async () => {
      const { rds, sdk } = await world();
      for (let n = 0; n < 30_000; n++) {
        rds.addSnapshot({
          identifier: `nightshift-db${n % 50}-${n}`,
          source: `db${n % 50}`,
          createTime: START - n * MIN,
          tags: { ManagedBy: 'nightshift', tier: n % 7 === 0 ? 'weekly' : 'daily' },
        });
      }
      expect(rds.manualSnapshotCount('db')).toBe(30_000);
      const out = await sdk.send(
        new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'db7', MaxRecords: 100 }),
      );
      expect(out.DBSnapshots).toHaveLength(100);
      expect(out.DBSnapshots?.[0]?.DBSnapshotIdentifier).toBe('nightshift-db7-7');
      expect(out.DBSnapshots?.[1]?.DBSnapshotIdentifier).toBe('nightshift-db7-57');
    });
  });
});
