import { existsSync, readFileSync } from 'node:fs';
import {
  AddTagsToResourceCommand,
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  CreateDBSnapshotCommand,
  DeleteDBClusterCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBEngineVersionsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  ListTagsForResourceCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  paginateDescribeDBSnapshots,
  RDSClient,
  RemoveTagsFromResourceCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import type { PolicyDocument } from '../../../local/iam/policy.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import { RdsServerStartError, RdsWorld, type RdsWorldOptions } from '../../../local/services/rds.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const START = Date.parse('2026-11-20T00:00:00.000Z');
const MIN = 60_000;
const arn = (resource: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${resource}`;

const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: `arn:aws:iam::${ACCOUNT}:user/operator`,
  policies: 'unrestricted',
};
const role = (name: string, ...policies: PolicyDocument[]): Caller => ({
  accessKeyId: `AKIA${name.toUpperCase().padEnd(16, '0')}`,
  secretAccessKey: `${name}-secret`,
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/fn`,
  policies,
});
/** May delete only Nightshift's snapshots, and list snapshots. */
const pruner = role('pruner', {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'rds:DeleteDBSnapshot', Resource: 'arn:aws:rds:*:*:snapshot:nightshift-*' },
    { Effect: 'Allow', Action: 'rds:DescribeDBSnapshots', Resource: '*' },
  ],
});
/** May create snapshots named nightshift-* of any instance, only when tagged ManagedBy=nightshift. */
const snapshotter = role('snapshotter', {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'rds:CreateDBSnapshot', Resource: 'arn:aws:rds:*:*:db:*' },
    {
      Effect: 'Allow',
      Action: 'rds:CreateDBSnapshot',
      Resource: 'arn:aws:rds:*:*:snapshot:nightshift-*',
      Condition: { StringEquals: { 'aws:RequestTag/ManagedBy': 'nightshift' } },
    },
    {
      // Tags given at creation are authorized as AddTagsToResource on the new snapshot too.
      Effect: 'Allow',
      Action: 'rds:AddTagsToResource',
      Resource: 'arn:aws:rds:*:*:snapshot:nightshift-*',
      Condition: { StringEquals: { 'aws:RequestTag/ManagedBy': 'nightshift' } },
    },
  ],
});
/** May create snapshots, but not of any database. */
const snapshotOnly = role('snapshotonly', {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'rds:CreateDBSnapshot', Resource: 'arn:aws:rds:*:*:snapshot:*' }],
});

/** May restore, modify and delete nightshift-verify-* instances only, restoring from nightshift-* snapshots. */
const verifier = role('verifier', {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:ModifyDBInstance', 'rds:DeleteDBInstance'],
      Resource: 'arn:aws:rds:*:*:db:nightshift-verify-*',
    },
    {
      Effect: 'Allow',
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Resource: [
        'arn:aws:rds:*:*:snapshot:nightshift-*',
        'arn:aws:rds:*:*:og:default:*',
        'arn:aws:rds:*:*:pg:default.*',
        'arn:aws:rds:*:*:subgrp:verify-subnets',
      ],
    },
  ],
});
/** Like the verifier, but forgot the option group a restore needs. */
const verifierWithoutOptionGroup = role('verifiernoog', {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Resource: [
        'arn:aws:rds:*:*:db:nightshift-verify-*',
        'arn:aws:rds:*:*:snapshot:nightshift-*',
        'arn:aws:rds:*:*:pg:*',
        'arn:aws:rds:*:*:subgrp:*',
      ],
    },
  ],
});
const callers = new Map(
  [operator, pruner, snapshotter, snapshotOnly, verifier, verifierWithoutOptionGroup].map((c) => [
    c.accessKeyId,
    c,
  ]),
);

/** A fresh RDS world behind its own endpoint, closed after each test. */
const open: LocalEndpoint[] = [];
async function world(options: Partial<RdsWorldOptions> = {}) {
  const clock = new VirtualClock(START);
  const rds = new RdsWorld({ account: ACCOUNT, region: REGION, clock, ...options });
  const endpoint = new LocalEndpoint({
    account: ACCOUNT,
    region: REGION,
    services: [],
    queryServices: [rds],
    callerFor: (key) => callers.get(key),
  });
  open.push(endpoint);
  await endpoint.listen();
  const client = (caller: Caller = operator, secret = caller.secretAccessKey) =>
    new RDSClient({
      endpoint: endpoint.url,
      region: REGION,
      credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: secret },
      maxAttempts: 1,
    });
  return { clock, rds, endpoint, client, sdk: client() };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

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

  describe('tags resources', () => {
    it('keeps the tags given at creation, and adds, lists and removes tags by ARN', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-1',
          Tags: [
            { Key: 'ManagedBy', Value: 'nightshift' },
            { Key: 'tier', Value: 'daily' },
          ],
        }),
      );
      const snapshotArn = arn('snapshot:nightshift-1');
      await sdk.send(
        new AddTagsToResourceCommand({
          ResourceName: snapshotArn,
          Tags: [
            { Key: 'tier', Value: 'weekly' },
            { Key: 'verified-at', Value: '2026-11-20' },
          ],
        }),
      );
      const list = async () =>
        (await sdk.send(new ListTagsForResourceCommand({ ResourceName: snapshotArn }))).TagList;
      expect(await list()).toEqual([
        { Key: 'ManagedBy', Value: 'nightshift' },
        { Key: 'tier', Value: 'weekly' },
        { Key: 'verified-at', Value: '2026-11-20' },
      ]);
      await sdk.send(
        new RemoveTagsFromResourceCommand({ ResourceName: snapshotArn, TagKeys: ['tier', 'absent'] }),
      );
      expect(await list()).toEqual([
        { Key: 'ManagedBy', Value: 'nightshift' },
        { Key: 'verified-at', Value: '2026-11-20' },
      ]);
      const described = await sdk.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nightshift-1' }),
      );
      expect(described.DBSnapshots?.[0]?.TagList).toEqual(await list());
    });

    it('returns a tag value with XML markup in it (<&>) exactly as it was given', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders', tags: { note: 'a <b> & "c"' } });
      await sdk.send(
        new AddTagsToResourceCommand({
          ResourceName: arn('db:orders'),
          Tags: [{ Key: 'k<&>', Value: '<&>' }],
        }),
      );
      const out = await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }));
      expect(out.DBInstances?.[0]?.TagList).toEqual([
        { Key: 'note', Value: 'a <b> & "c"' },
        { Key: 'k<&>', Value: '<&>' },
      ]);
    });

    it("copies the instance's tags to a snapshot created without tags when CopyTagsToSnapshot is on", async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders', copyTagsToSnapshot: true, tags: { team: 'payments' } });
      await sdk.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: 'copy' }),
      );
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'given',
          Tags: [{ Key: 'ManagedBy', Value: 'nightshift' }],
        }),
      );
      expect([...(rds.snapshots.get('copy')?.tags ?? [])]).toEqual([['team', 'payments']]);
      expect([...(rds.snapshots.get('given')?.tags ?? [])]).toEqual([['ManagedBy', 'nightshift']]);
    });

    it('answers the not-found error of the resource type for an ARN that names nothing', async () => {
      const { sdk } = await world();
      const list = (ResourceName: string) => sdk.send(new ListTagsForResourceCommand({ ResourceName }));
      await expect(list(arn('snapshot:none'))).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
      await expect(list(arn('db:none'))).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
      await expect(list(arn('cluster:none'))).rejects.toMatchObject({ name: 'DBClusterNotFoundFault' });
      await expect(list(arn('cluster-snapshot:none'))).rejects.toMatchObject({
        name: 'DBClusterSnapshotNotFoundFault',
      });
      await expect(list('arn:aws:rds:us-east-1:123456789012:db:orders')).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
    });
  });

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
        InstanceCreateTime: new Date(START + 5 * MIN),
      });
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

  describe('authorizes like IAM, with the resources AWS publishes for each action', () => {
    it('denies deleting a snapshot outside the policy’s nightshift-* resource with AccessDenied (403)', async () => {
      const { rds, client } = await world();
      rds.addSnapshot({ identifier: 'other-snap', source: 'orders' });
      rds.addSnapshot({ identifier: 'nightshift-orders-1', source: 'orders' });
      const sdk = client(pruner);
      await expect(
        sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'other-snap' })),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: ${pruner.principalArn} is not authorized to perform: rds:DeleteDBSnapshot on resource: ${arn('snapshot:other-snap')} because no identity-based policy allows the rds:DeleteDBSnapshot action`,
        $metadata: { httpStatusCode: 403 },
      });
      expect(rds.snapshots.has('other-snap')).toBe(true);
      await sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'nightshift-orders-1' }));
      expect(rds.snapshots.get('nightshift-orders-1')?.status).toBe('deleting');
    });

    it('needs both the db and the snapshot resource for CreateDBSnapshot', async () => {
      const { rds, client } = await world();
      rds.addInstance({ identifier: 'orders' });
      await expect(
        client(snapshotOnly).send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'orders',
            DBSnapshotIdentifier: 'nightshift-1',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`rds:CreateDBSnapshot on resource: ${arn('db:orders')}`),
      });
      expect(rds.snapshots.size).toBe(0);
    });

    it('evaluates aws:RequestTag conditions against the tags given at creation', async () => {
      const { rds, client } = await world();
      rds.addInstance({ identifier: 'orders' });
      const sdk = client(snapshotter);
      await expect(
        sdk.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'orders',
            DBSnapshotIdentifier: 'nightshift-1',
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-1',
          Tags: [{ Key: 'ManagedBy', Value: 'nightshift' }],
        }),
      );
      expect(rds.snapshots.get('nightshift-1')?.status).toBe('creating');
    });

    it('authorizes listing all snapshots against the wildcard snapshot ARN', async () => {
      const { client } = await world();
      await expect(client(snapshotOnly).send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`rds:DescribeDBSnapshots on resource: ${arn('snapshot:*')}`),
      });
      await expect(client(pruner).send(new DescribeDBSnapshotsCommand({}))).resolves.toMatchObject({
        DBSnapshots: [],
      });
    });
    it('authorizes a restore against the new instance, the snapshot, and the option group, parameter group and subnet group', async () => {
      const { rds, client } = await world();
      rds.addSnapshot({ identifier: 'nightshift-orders-1', source: 'orders' });
      rds.addSnapshot({ identifier: 'manual-orders-1', source: 'orders' });
      const restore = (
        caller: Caller,
        DBInstanceIdentifier: string,
        DBSnapshotIdentifier = 'nightshift-orders-1',
      ) =>
        client(caller).send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier,
            DBSnapshotIdentifier,
            DBSubnetGroupName: 'verify-subnets',
          }),
        );
      const denied = (resource: string) => ({
        name: 'AccessDenied',
        message: expect.stringContaining(
          `rds:RestoreDBInstanceFromDBSnapshot on resource: ${arn(resource)} `,
        ),
      });
      await expect(restore(verifier, 'orders-copy')).rejects.toMatchObject(denied('db:orders-copy'));
      await expect(restore(verifier, 'nightshift-verify-a', 'manual-orders-1')).rejects.toMatchObject(
        denied('snapshot:manual-orders-1'),
      );
      await expect(restore(verifierWithoutOptionGroup, 'nightshift-verify-a')).rejects.toMatchObject(
        denied('og:default:postgres-16'),
      );
      await expect(restore(verifier, 'nightshift-verify-a')).resolves.toMatchObject({
        DBInstance: { DBInstanceIdentifier: 'nightshift-verify-a' },
      });
    });

    it('lets a policy modify and delete only the instances it names', async () => {
      const { rds, client } = await world();
      rds.addInstance({ identifier: 'orders' });
      rds.addInstance({ identifier: 'nightshift-verify-orders' });
      const sdk = client(verifier);
      await expect(
        sdk.send(
          new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'orders', MasterUserPassword: 'a-New-Pass-1' }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`rds:ModifyDBInstance on resource: ${arn('db:orders')}`),
      });
      await expect(
        sdk.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'orders', SkipFinalSnapshot: true })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      await sdk.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-orders',
          MasterUserPassword: 'a-New-Pass-1',
        }),
      );
      await sdk.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-orders',
          SkipFinalSnapshot: true,
        }),
      );
      // A final snapshot needs rds:CreateDBSnapshot on it as well.
      rds.addInstance({ identifier: 'nightshift-verify-2' });
      await expect(
        sdk.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: 'nightshift-verify-2',
            FinalDBSnapshotIdentifier: 'nightshift-final',
          }),
        ),
      ).rejects.toMatchObject({
        message: expect.stringContaining(
          `rds:CreateDBSnapshot on resource: ${arn('snapshot:nightshift-final')}`,
        ),
      });
      expect(rds.instances.get('orders')?.status).toBe('available');
      expect(rds.instances.get('nightshift-verify-orders')?.status).toBe('deleting');
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

describe('RdsWorld with PostgreSQL behind DB instances', () => {
  const SOURCE_PASSWORD = 'source-Pass-1';
  const SEEDED = 200;
  let clock: VirtualClock;
  let rds: RdsWorld;
  let endpoint: LocalEndpoint;
  let sdk: RDSClient;
  /** The CA bundle a runbook reads (NIGHTSHIFT_RDS_CA_BUNDLE) and trusts. */
  let ca: string;

  /** Connects where DescribeDBInstances says the instance answers, over TLS trusting the CA bundle. */
  async function connect(identifier: string, password: string, user?: string) {
    const out = await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    const instance = out.DBInstances?.[0];
    const client = new pg.Client({
      host: instance?.Endpoint?.Address,
      port: instance?.Endpoint?.Port,
      user: user ?? instance?.MasterUsername,
      password,
      database: 'orders',
      ssl: { ca, rejectUnauthorized: true },
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async function count(identifier: string, password: string): Promise<number> {
    const client = await connect(identifier, password);
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM public.users');
      return rows[0]?.n ?? -1;
    } finally {
      await client.end();
    }
  }

  /** Restores `nightshift-base` (the seeded rows) to a new instance and waits until it is available. */
  async function restoreBase(identifier: string) {
    const out = await sdk.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: identifier,
        DBSnapshotIdentifier: 'nightshift-base',
        DBInstanceClass: 'db.t4g.micro',
        DBSubnetGroupName: 'verify-subnets',
        VpcSecurityGroupIds: ['sg-verify'],
        PubliclyAccessible: false,
      }),
    );
    await clock.advance(10 * MIN);
    return out.DBInstance;
  }

  beforeAll(async () => {
    clock = new VirtualClock(START);
    const fleet = await PostgresFleet.start();
    rds = new RdsWorld({ account: ACCOUNT, region: REGION, clock, postgres: fleet });
    endpoint = new LocalEndpoint({
      account: ACCOUNT,
      region: REGION,
      services: [],
      queryServices: [rds],
      callerFor: (key) => callers.get(key),
    });
    await endpoint.listen();
    sdk = new RDSClient({
      endpoint: endpoint.url,
      region: REGION,
      credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
      maxAttempts: 1,
    });
    ca = readFileSync(fleet.caBundlePath, 'utf8');
    rds.addInstance({
      identifier: 'orders',
      masterUsername: 'owner',
      masterUserPassword: SOURCE_PASSWORD,
      dbName: 'orders',
      tags: { 'nightshift:backup': 'true' },
    });
    await rds.ready();
    const client = await connect('orders', SOURCE_PASSWORD);
    await client.query(`CREATE TABLE public.users (id serial PRIMARY KEY, email text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(), written_by xid8 NOT NULL DEFAULT pg_current_xact_id());
      INSERT INTO public.users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, ${SEEDED}) g;`);
    await client.end();
    await sdk.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders',
        DBSnapshotIdentifier: 'nightshift-base',
      }),
    );
    await clock.advance(5 * MIN);
  });
  afterAll(async () => {
    sdk?.destroy();
    await endpoint?.close();
    await rds?.close();
  });

  describe('serves each instance from its own server', () => {
    it('shows the server as the endpoint and the master user it made, serving TLS only with the CA bundle', async () => {
      const out = await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }));
      const server = await rds.serverOf('orders');
      expect(out.DBInstances?.[0]).toMatchObject({
        DBInstanceStatus: 'available',
        MasterUsername: 'owner',
        DBName: 'orders',
        Endpoint: { Address: '127.0.0.1', Port: server?.port },
      });
      expect(await count('orders', SOURCE_PASSWORD)).toBe(SEEDED);
      const { Address: host, Port: port } = out.DBInstances?.[0]?.Endpoint ?? {};
      const plain = new pg.Client({
        host,
        port,
        user: 'owner',
        password: SOURCE_PASSWORD,
        database: 'orders',
      });
      await expect(plain.connect()).rejects.toThrow(/no encryption/);
      const untrusting = new pg.Client({
        host,
        port,
        user: 'owner',
        password: SOURCE_PASSWORD,
        database: 'orders',
        ssl: { rejectUnauthorized: true },
      });
      await expect(untrusting.connect()).rejects.toThrow(/certificate/);
    });
  });

  describe('reports servers that cannot start', () => {
    it('marks the instance failed and rejects ready() with RdsServerStartError naming the cause', async () => {
      rds.addInstance({ identifier: 'broken', masterUserPassword: SOURCE_PASSWORD, dbName: 'template1' });
      const failure = rds.ready();
      await expect(failure).rejects.toThrow(RdsServerStartError);
      await failure.catch((error: Error) =>
        expect(String((error.cause as Error).message)).toContain('database "template1" already exists'),
      );
      const out = await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'broken' }));
      expect(out.DBInstances?.[0]?.DBInstanceStatus).toBe('failed');
      expect(await rds.serverOf('broken')).toBeUndefined();
    });
  });

  describe('takes snapshots that are real copies', () => {
    it('copies exactly what was committed when the snapshot began while another connection keeps inserting, and is available once copied and its time has come', async () => {
      const writer = await connect('orders', SOURCE_PASSWORD);
      let writing = true;
      let commits = 0;
      const inserting = (async () => {
        while (writing) {
          await writer.query(
            `INSERT INTO public.users (email) VALUES ('w' || gen_random_uuid() || '@example.com')`,
          );
          commits++;
        }
      })();
      while (commits < 20) await new Promise((r) => setTimeout(r, 1));
      const created = await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-busy',
        }),
      );
      expect(created.DBSnapshot?.Status).toBe('creating');
      const copy = await rds.dataOf('nightshift-busy');
      const atCopied = commits;
      while (commits < atCopied + 20) await new Promise((r) => setTimeout(r, 1));
      writing = false;
      await inserting;

      const snapshot = copy?.databases.find((d) => d.name === 'orders')?.snapshot;
      const { rows } = await writer.query<{ visible: number; total: number }>(
        `SELECT count(*) FILTER (WHERE pg_visible_in_snapshot(written_by, $1::pg_snapshot))::int AS visible,
                count(*)::int AS total FROM public.users`,
        [snapshot],
      );
      await writer.end();
      const copied = copy?.databases.find((d) => d.name === 'orders')?.tables.find((t) => t.name === 'users');
      expect(copied?.rows).toBe(rows[0]?.visible);
      expect(copied?.rows).toBeGreaterThan(SEEDED);
      expect(rows[0]?.total).toBeGreaterThan(copied?.rows ?? 0);

      const status = async () =>
        (await sdk.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nightshift-busy' })))
          .DBSnapshots?.[0]?.Status;
      expect(await status()).toBe('creating');
      await clock.advance(5 * MIN);
      expect(await status()).toBe('available');
    });
  });

  describe('restores snapshots into new servers', () => {
    it('restores the same rows into a new server with its own port, with the master password of the snapshot time', async () => {
      const restored = await restoreBase('nightshift-verify-rows');
      expect(restored).toMatchObject({
        DBInstanceStatus: 'creating',
        MasterUsername: 'owner',
        DBName: 'orders',
        DBSubnetGroup: { DBSubnetGroupName: 'verify-subnets' },
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-verify' }],
        DBInstanceClass: 'db.t4g.micro',
        PubliclyAccessible: false,
      });
      expect(restored?.Endpoint).toBeUndefined();
      const out = await sdk.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nightshift-verify-rows' }),
      );
      const source = await rds.serverOf('orders');
      expect(out.DBInstances?.[0]).toMatchObject({
        DBInstanceStatus: 'available',
        Endpoint: { Address: '127.0.0.1', Port: expect.any(Number) },
      });
      expect(out.DBInstances?.[0]?.Endpoint?.Port).not.toBe(source?.port);
      const client = await connect('nightshift-verify-rows', SOURCE_PASSWORD);
      const { rows } = await client.query<{ ids: number[] }>(
        'SELECT array_agg(id ORDER BY id) AS ids FROM public.users',
      );
      await client.end();
      expect(rows[0]?.ids).toEqual(Array.from({ length: SEEDED }, (_, n) => n + 1));
    });

    it("changes the restored instance's master password for real and leaves the source's as it was", async () => {
      await restoreBase('nightshift-verify-password');
      const oneTime = 'one-Time-Pass-9';
      const out = await sdk.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-password',
          MasterUserPassword: oneTime,
          ApplyImmediately: true,
        }),
      );
      expect(out.DBInstance?.PendingModifiedValues).toEqual({ MasterUserPassword: '****' });
      expect(await count('nightshift-verify-password', oneTime)).toBe(SEEDED);
      await expect(connect('nightshift-verify-password', SOURCE_PASSWORD)).rejects.toThrow(
        /password authentication failed/,
      );
      expect(await count('orders', SOURCE_PASSWORD)).toBeGreaterThanOrEqual(SEEDED);
      await expect(connect('orders', oneTime)).rejects.toThrow(/password authentication failed/);
    });

    it('restores a snapshot without data to an empty server whose master user logs in once given a password', async () => {
      rds.addSnapshot({ identifier: 'nightshift-seeded', source: 'gone-db' });
      await sdk.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'nightshift-verify-empty',
          DBSnapshotIdentifier: 'nightshift-seeded',
        }),
      );
      await clock.advance(10 * MIN);
      await sdk.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-empty',
          MasterUserPassword: 'empty-Pass-1',
        }),
      );
      const out = await sdk.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nightshift-verify-empty' }),
      );
      const { Address: host, Port: port } = out.DBInstances?.[0]?.Endpoint ?? {};
      const client = new pg.Client({
        host,
        port,
        user: 'postgres',
        password: 'empty-Pass-1',
        database: 'postgres',
        ssl: { ca, rejectUnauthorized: true },
      });
      await client.connect();
      const { rows } = await client.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`,
      );
      await client.end();
      expect(rows).toEqual([{ n: 0 }]);
    });
  });

  describe('deletes instances', () => {
    it('stops the server at once and removes its data: deleting, then gone', async () => {
      await restoreBase('nightshift-verify-delete');
      const server = await rds.serverOf('nightshift-verify-delete');
      const client = await connect('nightshift-verify-delete', SOURCE_PASSWORD);
      const deleted = await sdk.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-delete',
          SkipFinalSnapshot: true,
        }),
      );
      expect(deleted.DBInstance?.DBInstanceStatus).toBe('deleting');
      await rds.settle();
      expect(server?.state).toBe('stopped');
      expect(existsSync(server?.dataDir ?? '')).toBe(false);
      await expect(client.query('SELECT 1')).rejects.toThrow();
      const reconnect = new pg.Client({
        host: '127.0.0.1',
        port: server?.port,
        user: 'owner',
        password: SOURCE_PASSWORD,
        database: 'orders',
        ssl: { ca, rejectUnauthorized: true },
      });
      await expect(reconnect.connect()).rejects.toThrow(/ECONNREFUSED/);
      expect(rds.instances.get('nightshift-verify-delete')?.status).toBe('deleting');
      await clock.advance(2 * MIN);
      await expect(
        sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nightshift-verify-delete' })),
      ).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
      expect(await count('orders', SOURCE_PASSWORD)).toBeGreaterThanOrEqual(SEEDED);
    });
  });
});

describe('RdsWorld with PostgreSQL behind Aurora clusters', () => {
  const SOURCE_PASSWORD = 'ledger-Pass-1';
  const SEEDED = 150;
  let clock: VirtualClock;
  let rds: RdsWorld;
  let endpoint: LocalEndpoint;
  let sdk: RDSClient;
  let ca: string;

  /** Connects where DescribeDBClusters says the cluster answers, over TLS trusting the CA bundle. */
  async function connect(cluster: string, password: string) {
    const out = await sdk.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }));
    const found = out.DBClusters?.[0];
    const client = new pg.Client({
      host: found?.Endpoint,
      port: found?.Port,
      user: found?.MasterUsername,
      password,
      database: 'ledger',
      ssl: { ca, rejectUnauthorized: true },
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async function count(cluster: string, password: string): Promise<number> {
    const client = await connect(cluster, password);
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM public.entries');
      return rows[0]?.n ?? -1;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    clock = new VirtualClock(START);
    const fleet = await PostgresFleet.start();
    rds = new RdsWorld({ account: ACCOUNT, region: REGION, clock, postgres: fleet });
    endpoint = new LocalEndpoint({
      account: ACCOUNT,
      region: REGION,
      services: [],
      queryServices: [rds],
      callerFor: (key) => callers.get(key),
    });
    await endpoint.listen();
    sdk = new RDSClient({
      endpoint: endpoint.url,
      region: REGION,
      credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
      maxAttempts: 1,
    });
    ca = readFileSync(fleet.caBundlePath, 'utf8');
    rds.addCluster({
      identifier: 'ledger',
      masterUsername: 'owner',
      masterUserPassword: SOURCE_PASSWORD,
      dbName: 'ledger',
      tags: { 'nightshift:backup': 'true' },
    });
    rds.addInstance({ identifier: 'ledger-1', clusterIdentifier: 'ledger', instanceClass: 'db.r6g.large' });
    await rds.ready();
    const client = await connect('ledger', SOURCE_PASSWORD);
    await client.query(`CREATE TABLE public.entries (id serial PRIMARY KEY, amount numeric NOT NULL);
      INSERT INTO public.entries (amount) SELECT g * 1.5 FROM generate_series(1, ${SEEDED}) g;`);
    await client.end();
  });
  afterAll(async () => {
    sdk?.destroy();
    await endpoint?.close();
    await rds?.close();
  });

  it('serves the cluster from one server whose endpoint its members report as theirs', async () => {
    const server = await rds.clusterServerOf('ledger');
    const clusters = await sdk.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'ledger' }));
    expect(clusters.DBClusters?.[0]).toMatchObject({
      Status: 'available',
      Endpoint: '127.0.0.1',
      Port: server?.port,
      MasterUsername: 'owner',
      DatabaseName: 'ledger',
      DBClusterMembers: [{ DBInstanceIdentifier: 'ledger-1', IsClusterWriter: true }],
    });
    const instances = await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'ledger-1' }));
    expect(instances.DBInstances?.[0]).toMatchObject({
      DBInstanceStatus: 'available',
      DBClusterIdentifier: 'ledger',
      Endpoint: { Address: '127.0.0.1', Port: server?.port },
    });
    expect(await rds.serverOf('ledger-1')).toBe(server);
    expect(await count('ledger', SOURCE_PASSWORD)).toBe(SEEDED);
  });

  it('snapshots the cluster, restores it to a new cluster with one instance, changes its password, and deletes it', async () => {
    const snapshot = await sdk.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: 'ledger',
        DBClusterSnapshotIdentifier: 'nightshift-ledger',
      }),
    );
    expect(snapshot.DBClusterSnapshot?.Status).toBe('creating');
    const copy = await rds.dataOf('nightshift-ledger', 'cluster');
    expect(
      copy?.databases.find((d) => d.name === 'ledger')?.tables.find((t) => t.name === 'entries')?.rows,
    ).toBe(SEEDED);
    await clock.advance(2 * MIN);

    const restored = await sdk.send(
      new RestoreDBClusterFromSnapshotCommand({
        SnapshotIdentifier: 'nightshift-ledger',
        DBClusterIdentifier: 'nightshift-verify-ledger',
        Engine: 'aurora-postgresql',
        DBSubnetGroupName: 'verify-subnets',
        VpcSecurityGroupIds: ['sg-verify'],
        Tags: [{ Key: 'purpose', Value: 'restore-verify' }],
      }),
    );
    expect(restored.DBCluster).toMatchObject({
      DBClusterIdentifier: 'nightshift-verify-ledger',
      Status: 'creating',
      Engine: 'aurora-postgresql',
      MasterUsername: 'owner',
      DBSubnetGroup: 'verify-subnets',
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-verify' }],
      TagList: [{ Key: 'purpose', Value: 'restore-verify' }],
    });
    const created = await sdk.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'nightshift-verify-ledger-1',
        DBClusterIdentifier: 'nightshift-verify-ledger',
        Engine: 'aurora-postgresql',
        DBInstanceClass: 'db.t4g.medium',
      }),
    );
    expect(created.DBInstance).toMatchObject({
      DBInstanceStatus: 'creating',
      DBInstanceClass: 'db.t4g.medium',
    });
    expect(created.DBInstance?.Endpoint).toBeUndefined();
    await clock.advance(10 * MIN);

    const cluster = (
      await sdk.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'nightshift-verify-ledger' }))
    ).DBClusters?.[0];
    const source = await rds.clusterServerOf('ledger');
    expect(cluster).toMatchObject({
      Status: 'available',
      Endpoint: '127.0.0.1',
      DBClusterMembers: [{ DBInstanceIdentifier: 'nightshift-verify-ledger-1', IsClusterWriter: true }],
    });
    expect(cluster?.Port).not.toBe(source?.port);
    const member = (
      await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nightshift-verify-ledger-1' }))
    ).DBInstances?.[0];
    expect(member).toMatchObject({
      DBInstanceStatus: 'available',
      Endpoint: { Address: '127.0.0.1', Port: cluster?.Port },
    });

    const oneTime = 'one-Time-Pass-9';
    const modified = await sdk.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: 'nightshift-verify-ledger',
        MasterUserPassword: oneTime,
        ApplyImmediately: true,
      }),
    );
    expect(modified.DBCluster?.PendingModifiedValues).toEqual({ MasterUserPassword: '****' });
    expect(await count('nightshift-verify-ledger', oneTime)).toBe(SEEDED);
    await expect(connect('nightshift-verify-ledger', SOURCE_PASSWORD)).rejects.toThrow(
      /password authentication failed/,
    );
    expect(await count('ledger', SOURCE_PASSWORD)).toBe(SEEDED);
    await expect(connect('ledger', oneTime)).rejects.toThrow(/password authentication failed/);

    const server = await rds.clusterServerOf('nightshift-verify-ledger');
    const deleteCluster = () =>
      sdk.send(
        new DeleteDBClusterCommand({
          DBClusterIdentifier: 'nightshift-verify-ledger',
          SkipFinalSnapshot: true,
        }),
      );
    await expect(deleteCluster()).rejects.toMatchObject({
      Code: 'InvalidDBClusterStateFault',
      message: 'Cluster cannot be deleted, it still contains DB instances in non-deleting state.',
    });
    const deletedInstance = await sdk.send(
      new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'nightshift-verify-ledger-1' }),
    );
    expect(deletedInstance.DBInstance?.DBInstanceStatus).toBe('deleting');
    await clock.advance(2 * MIN);
    await expect(
      sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nightshift-verify-ledger-1' })),
    ).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
    expect(server?.state).toBe('running');

    expect((await deleteCluster()).DBCluster?.Status).toBe('deleting');
    await expect(deleteCluster()).rejects.toMatchObject({ Code: 'InvalidDBClusterStateFault' });
    await rds.settle();
    expect(server?.state).toBe('stopped');
    expect(existsSync(server?.dataDir ?? '')).toBe(false);
    await clock.advance(2 * MIN);
    await expect(
      sdk.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'nightshift-verify-ledger' })),
    ).rejects.toMatchObject({ name: 'DBClusterNotFoundFault' });
    expect(await count('ledger', SOURCE_PASSWORD)).toBe(SEEDED);
    expect(rds.clusterSnapshots.get('nightshift-ledger')?.status).toBe('available');
  });
});

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
