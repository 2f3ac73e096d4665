import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DBClusterSnapshotAlreadyExistsFault,
  DBClusterSnapshotNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBClusterSnapshotStateFault,
  InvalidDBSnapshotStateFault,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { SnapshotRuntimeConfig } from '../../../lambdas/rds-snapshots/config.ts';
import { runSnapshotRunbook } from '../../../lambdas/rds-snapshots/runbook.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';

const REGION = 'eu-west-1';
const SCHEDULED = Date.parse('2026-11-22T03:00:00Z');
/** The delivery arrives two minutes after its scheduled time. */
const NOW = Date.parse('2026-11-22T03:02:00Z');
const RUN = 'run-2026-11-22T03:00:00.000Z';
const DAY = 86_400_000;
const config: SnapshotRuntimeConfig = {
  dryRun: false,
  auditRetentionDays: 1,
  concurrency: 2,
  maxDeletionsPerRun: 10,
  requestsPerSecond: 100,
  retention: { dailyDays: 7, weeklyWeeks: 5, monthlyMonths: 12 },
  quota: { instance: 100, cluster: 100 },
  targets: { instances: ['orders'], clusters: ['ledger'] },
};

interface FakeSnapshot {
  status: string;
  database: string;
  createdAt: number;
  tags: Record<string, string>;
}
const ours = (database: string, createdAt: number, expiresAt: number): FakeSnapshot => ({
  status: 'available',
  database,
  createdAt,
  tags: {
    'nightshift:managed': 'true',
    'nightshift:tier': 'daily',
    'nightshift:expires-at': new Date(expiresAt).toISOString(),
    'nightshift:source-db': database,
  },
});
const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/**
 * RDS behind aws-sdk-client-mock with one instance (`orders`) and one cluster (`ledger`), each with an expired
 * and a recent Nightshift snapshot. `onDelete` / `onCreate` stand in for what a concurrent delivery did first.
 */
function fakeRds(
  options: {
    onDelete?: (id: string, kind: 'db' | 'cluster', store: Map<string, FakeSnapshot>) => Error | undefined;
    onCreate?: (id: string, kind: 'db' | 'cluster', store: Map<string, FakeSnapshot>) => Error | undefined;
  } = {},
) {
  const db = new Map<string, FakeSnapshot>([
    ['nightshift-orders-20261101-0300', ours('orders', SCHEDULED - 21 * DAY, SCHEDULED - 14 * DAY)],
    // Expired at 03:01: after the scheduled time, before the real now.
    ['nightshift-orders-20261115-0301', ours('orders', SCHEDULED - 7 * DAY, SCHEDULED + 60_000)],
    ['nightshift-orders-20261121-0300', ours('orders', SCHEDULED - DAY, SCHEDULED + 6 * DAY)],
  ]);
  const cluster = new Map<string, FakeSnapshot>([
    ['nightshift-ledger-20261101-0300', ours('ledger', SCHEDULED - 21 * DAY, SCHEDULED - 14 * DAY)],
    ['nightshift-ledger-20261121-0300', ours('ledger', SCHEDULED - DAY, SCHEDULED + 6 * DAY)],
  ]);
  const client = new RDSClient({ region: REGION });
  const rds = mockClient(client);
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders',
        DBInstanceArn: `arn:aws:rds:${REGION}:123456789012:db:orders`,
        DBInstanceStatus: 'available',
        TagList: [],
      },
    ],
  });
  rds.on(DescribeDBClustersCommand).resolves({
    DBClusters: [
      {
        DBClusterIdentifier: 'ledger',
        DBClusterArn: `arn:aws:rds:${REGION}:123456789012:cluster:ledger`,
        Status: 'available',
        TagList: [],
      },
    ],
  });
  const show = (id: string, s: FakeSnapshot) => ({
    Status: s.status,
    SnapshotType: 'manual',
    SnapshotCreateTime: new Date(s.createdAt),
    TagList: tagList(s.tags),
    id,
    database: s.database,
  });
  rds.on(DescribeDBSnapshotsCommand).callsFake(async (input: { DBSnapshotIdentifier?: string }) => {
    const id = input.DBSnapshotIdentifier;
    if (id !== undefined && !db.has(id)) throw new DBSnapshotNotFoundFault({ message: id, $metadata: {} });
    const list = [...db].filter(([k]) => id === undefined || k === id);
    return {
      DBSnapshots: list.map(([k, s]) => {
        const { id: DBSnapshotIdentifier, database: DBInstanceIdentifier, ...rest } = show(k, s);
        return { ...rest, DBSnapshotIdentifier, DBInstanceIdentifier };
      }),
    };
  });
  rds
    .on(DescribeDBClusterSnapshotsCommand)
    .callsFake(async (input: { DBClusterSnapshotIdentifier?: string }) => {
      const id = input.DBClusterSnapshotIdentifier;
      if (id !== undefined && !cluster.has(id))
        throw new DBClusterSnapshotNotFoundFault({ message: id, $metadata: {} });
      const list = [...cluster].filter(([k]) => id === undefined || k === id);
      return {
        DBClusterSnapshots: list.map(([k, s]) => {
          const { id: DBClusterSnapshotIdentifier, database: DBClusterIdentifier, ...rest } = show(k, s);
          return { ...rest, DBClusterSnapshotIdentifier, DBClusterIdentifier };
        }),
      };
    });
  const remove = (store: Map<string, FakeSnapshot>, kind: 'db' | 'cluster', id: string) => {
    const error = options.onDelete?.(id, kind, store);
    if (error) throw error;
    const s = store.get(id);
    if (s) s.status = 'deleting';
    return {};
  };
  rds
    .on(DeleteDBSnapshotCommand)
    .callsFake(async (input: { DBSnapshotIdentifier: string }) =>
      remove(db, 'db', input.DBSnapshotIdentifier),
    );
  rds
    .on(DeleteDBClusterSnapshotCommand)
    .callsFake(async (input: { DBClusterSnapshotIdentifier: string }) =>
      remove(cluster, 'cluster', input.DBClusterSnapshotIdentifier),
    );
  const create = (
    store: Map<string, FakeSnapshot>,
    kind: 'db' | 'cluster',
    id: string,
    database: string,
    tags: { Key?: string; Value?: string }[] = [],
  ) => {
    const error = options.onCreate?.(id, kind, store);
    if (error) throw error;
    store.set(id, {
      status: 'creating',
      database,
      createdAt: NOW,
      tags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
    });
    return {};
  };
  rds
    .on(CreateDBSnapshotCommand)
    .callsFake(async (input: { DBSnapshotIdentifier: string; DBInstanceIdentifier: string; Tags?: [] }) =>
      create(db, 'db', input.DBSnapshotIdentifier, input.DBInstanceIdentifier, input.Tags),
    );
  rds
    .on(CreateDBClusterSnapshotCommand)
    .callsFake(
      async (input: { DBClusterSnapshotIdentifier: string; DBClusterIdentifier: string; Tags?: [] }) =>
        create(cluster, 'cluster', input.DBClusterSnapshotIdentifier, input.DBClusterIdentifier, input.Tags),
    );
  return { client, rds, db, cluster };
}

/** A run against the fake RDS, with the audit log, the bus and the kill switch mocked and recorded. */
async function run(fake: ReturnType<typeof fakeRds>) {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));
  const dynamo = mockClient(documents);
  dynamo.on(PutCommand).resolves({});
  const bus = new EventBridgeClient({ region: REGION });
  const published: { detailType: string; detail: Record<string, unknown> }[] = [];
  mockClient(bus)
    .on(PutEventsCommand)
    .callsFake(async (input: { Entries: { DetailType: string; Detail: string }[] }) => {
      for (const e of input.Entries)
        published.push({ detailType: e.DetailType, detail: JSON.parse(e.Detail) });
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) };
    });
  const ssm = new SSMClient({ region: REGION });
  mockClient(ssm)
    .on(GetParameterCommand)
    .rejects(new ParameterNotFound({ message: 'not set', $metadata: {} }));
  const outcome = await runSnapshotRunbook({
    rds: fake.client,
    ssm,
    audit: new AuditLog(documents, 'state', 1),
    publisher: new EventPublisher(bus, 'bus'),
    metrics: { add: () => undefined },
    clock: () => NOW,
    config,
    killSwitchParameter: '/nightshift/kill-switch',
    scheduledAt: SCHEDULED,
  }).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error: error as Error }),
  );
  const audit = dynamo
    .commandCalls(PutCommand)
    .map((c) => c.args[0].input.Item as { action: string; outcome: string; reason: string });
  const completed = published.find((p) => p.detailType === 'Snapshot Run Completed')?.detail;
  return { ...outcome, audit, completed };
}

describe('runSnapshotRunbook', () => {
  describe('plans with the real clock, names with the scheduled time', () => {
    it('prunes what expired by now, and takes nightshift-<db>-<scheduled> snapshots expiring from now', async () => {
      const fake = fakeRds();
      const { result, error } = await run(fake);
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ created: 2, deleted: 3, alreadyDone: 0 });
      expect(fake.db.get('nightshift-orders-20261115-0301')?.status).toBe('deleting');
      const create = fake.rds.commandCalls(CreateDBSnapshotCommand)[0]?.args[0].input;
      expect(create?.DBSnapshotIdentifier).toBe('nightshift-orders-20261122-0300');
      expect(create?.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'nightshift:expires-at', Value: new Date(NOW + 7 * DAY).toISOString() },
          { Key: 'nightshift:run-id', Value: RUN },
        ]),
      );
    });
  });

  describe('a concurrent delivery of the same run', () => {
    it('counts a snapshot already gone (DBSnapshotNotFound, DBClusterSnapshotNotFoundFault) as done, not deleted', async () => {
      const fake = fakeRds({
        onDelete: (id, kind, store) => {
          store.delete(id);
          return kind === 'db'
            ? new DBSnapshotNotFoundFault({ message: `DBSnapshot ${id} not found.`, $metadata: {} })
            : new DBClusterSnapshotNotFoundFault({ message: `${id} not found.`, $metadata: {} });
        },
      });
      const { result, error, audit, completed } = await run(fake);
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ outcome: 'performed', created: 2, deleted: 0, alreadyDone: 3 });
      expect(completed).toMatchObject({ created: 2, deleted: 0, alreadyDone: 3, failed: 0 });
      expect(completed?.reason).toMatch(/^created 2, deleted 0, already done by another delivery 3 /);
      expect(audit.filter((a) => a.action === 'delete-snapshot').map((a) => a.outcome)).toEqual([
        'skipped',
        'skipped',
        'skipped',
      ]);
      expect(audit.find((a) => a.action === 'delete-snapshot')?.reason).toContain('is already gone');
    });

    it('counts a snapshot already deleting (InvalidDBSnapshotState, InvalidDBClusterSnapshotStateFault) as done', async () => {
      const fake = fakeRds({
        onDelete: (id, kind, store) => {
          const s = store.get(id);
          if (s) s.status = 'deleting';
          return kind === 'db'
            ? new InvalidDBSnapshotStateFault({ message: 'not available (deleting)', $metadata: {} })
            : new InvalidDBClusterSnapshotStateFault({ message: 'not available', $metadata: {} });
        },
      });
      const { result, error, completed } = await run(fake);
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ created: 2, deleted: 0, alreadyDone: 3 });
      expect(completed).toMatchObject({ created: 2, deleted: 0, alreadyDone: 3, failed: 0 });
      expect(fake.rds.commandCalls(DescribeDBClusterSnapshotsCommand).at(-1)?.args[0].input).toEqual({
        DBClusterSnapshotIdentifier: 'nightshift-ledger-20261101-0300',
      });
    });

    it('keeps InvalidDBSnapshotState a failure when the snapshot is still there and not being deleted', async () => {
      const fake = fakeRds({
        onDelete: (id) =>
          id === 'nightshift-orders-20261101-0300'
            ? new InvalidDBSnapshotStateFault({ message: 'being copied', $metadata: {} })
            : undefined,
      });
      const { result, error, completed, audit } = await run(fake);
      expect(result).toBeUndefined();
      expect(error).toMatchObject({ name: 'SnapshotRunError' });
      expect(completed).toMatchObject({ created: 2, deleted: 2, alreadyDone: 0, failed: 1 });
      expect(audit.find((a) => a.outcome === 'failed')?.reason).toMatch(/^InvalidDBSnapshotStateFault: /);
    });

    it('counts a create refused as existing, carrying this run id, as taken by the other delivery, not created', async () => {
      const fake = fakeRds({
        onCreate: (id, kind, store) => {
          store.set(id, {
            ...ours('x', NOW, NOW + DAY),
            status: 'creating',
            tags: { 'nightshift:run-id': RUN },
          });
          return kind === 'db'
            ? new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} })
            : new DBClusterSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} });
        },
      });
      const { result, error, completed, audit } = await run(fake);
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ created: 0, deleted: 3, alreadyDone: 2 });
      expect(completed).toMatchObject({ created: 0, deleted: 3, alreadyDone: 2, failed: 0 });
      expect(completed?.reason).toMatch(
        /^created 0, deleted 3, already done by another delivery 2 \(2 snapshot/,
      );
      expect(audit.filter((a) => a.action === 'create-snapshot').map((a) => a.reason)).toEqual([
        expect.stringContaining('already taken by another delivery'),
        expect.stringContaining('already taken by another delivery'),
      ]);
    });

    it('fails, never "already taken", when the name is held by a snapshot this run did not take', async () => {
      const fake = fakeRds({
        onCreate: (id, kind, store) => {
          if (kind !== 'db') return undefined;
          store.set(id, { ...ours('x', NOW, NOW + DAY), tags: { 'nightshift:run-id': 'run-someone-else' } });
          return new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} });
        },
      });
      const { error, completed, audit } = await run(fake);
      expect(error).toMatchObject({ name: 'SnapshotRunError' });
      expect(completed).toMatchObject({ created: 1, alreadyDone: 0, failed: 1 });
      expect(audit.find((a) => a.outcome === 'failed')?.reason).toMatch(
        /^SnapshotNameTakenError: nightshift-orders-20261122-0300 already exists but was not taken by run/,
      );
    });
  });
});
