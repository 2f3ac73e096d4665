import {
  AddTagsToResourceCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBEngineVersionsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  ListTagsForResourceCommand,
  paginateDescribeDBSnapshots,
  RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { afterEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import type { PolicyDocument } from '../../../local/iam/policy.ts';
import { RdsWorld, type RdsWorldOptions } from '../../../local/services/rds.ts';
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
  ],
});
/** May create snapshots, but not of any database. */
const snapshotOnly = role('snapshotonly', {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'rds:CreateDBSnapshot', Resource: 'arn:aws:rds:*:*:snapshot:*' }],
});

/** A fresh RDS world behind its own endpoint, closed after each test. */
const open: LocalEndpoint[] = [];
async function world(options: Partial<RdsWorldOptions> = {}) {
  const clock = new VirtualClock(START);
  const rds = new RdsWorld({ account: ACCOUNT, region: REGION, clock, ...options });
  const callers = new Map([operator, pruner, snapshotter, snapshotOnly].map((c) => [c.accessKeyId, c]));
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
      const { rds, sdk } = await world();
      for (let n = 0; n < 45; n++) rds.addSnapshot({ identifier: `s-${n}`, source: 'orders' });
      const seen: string[] = [];
      let first = true;
      for await (const page of paginateDescribeDBSnapshots({ client: sdk, pageSize: 20 }, {})) {
        seen.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? ''));
        if (first) {
          first = false;
          await sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 's-3' }));
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
      await expect(del()).rejects.toMatchObject({
        name: 'DBSnapshotNotFoundFault',
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

    it('deletes a cluster snapshot, and answers DBClusterSnapshotNotFoundFault for a missing one', async () => {
      const { rds, sdk } = await world();
      rds.addClusterSnapshot({ identifier: 'c1', source: 'ledger' });
      const out = await sdk.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'c1' }));
      expect(out.DBClusterSnapshot?.Status).toBe('deleted');
      await expect(
        sdk.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'c1' })),
      ).rejects.toMatchObject({ name: 'DBClusterSnapshotNotFoundFault', $metadata: { httpStatusCode: 404 } });
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
      expect(rds.snapshots.has('nightshift-orders-1')).toBe(false);
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
