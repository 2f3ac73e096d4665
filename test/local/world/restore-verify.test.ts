import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  passwordParameter,
  runVerifyTick,
  type VerifyDeps,
} from '../../../lambdas/restore-verify/runbook.ts';
import { VerificationStore } from '../../../lambdas/restore-verify/store.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { published, START, synthesizeAssembly } from './world-fixture.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const SOURCE_PASSWORD = 'source-password-never-changes';
let assembly: ReturnType<typeof synthesizeAssembly>;
let world: LocalWorld;
const metrics: { name: string; value: number; dimensions?: Record<string, string> }[] = [];
const oneTimePasswords: string[] = [];

beforeAll(async () => {
  assembly = synthesizeAssembly();
  world = await LocalWorld.start({
    cloudAssemblyDir: assembly.dir,
    account: '123456789012',
    region: 'eu-west-1',
    stackName: assembly.stackName,
    start: START,
    postgres: true,
  });
  // Remember every one-time password SSM stores, to prove none leaks anywhere.
  const put = world.ssm.put.bind(world.ssm);
  world.ssm.put = (name, value, type, overwrite) => {
    if (name.startsWith('/nightshift/restore-verify/')) oneTimePasswords.push(value);
    put(name, value, type, overwrite);
  };
  world.rds.addInstance({
    identifier: 'orders-db',
    engine: 'postgres',
    masterUserPassword: SOURCE_PASSWORD,
    dbName: 'orders',
  });
  await world.rds.ready();
  const source = await sourceClient();
  await source.query('create table customers (id serial primary key, email text not null)');
  await source.query(
    "insert into customers (email) select 'c' || g || '@example.test' from generate_series(1, 250) g",
  );
  await source.end();
});
afterAll(async () => {
  await world.close();
  assembly.remove();
});

async function sourceClient(password = SOURCE_PASSWORD) {
  const source = await world.rds.serverOf('orders-db');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: source?.port,
    user: 'postgres',
    password,
    database: 'orders',
    ssl: { ca: caBundle(), rejectUnauthorized: true },
  });
  await client.connect();
  return client;
}
const caBundle = () => readFileSync(world.rds.postgres?.caBundlePath ?? '', 'utf8');
const rds = () => new RDSClient(world.operatorConfig());

/** Takes a Nightshift snapshot the way the snapshot runbook does and waits until it is available. */
async function nightshiftSnapshot(id: string) {
  await rds().send(
    new CreateDBSnapshotCommand({
      DBSnapshotIdentifier: id,
      DBInstanceIdentifier: 'orders-db',
      Tags: [
        { Key: 'nightshift:managed', Value: 'true' },
        { Key: 'nightshift:tier', Value: 'daily' },
        { Key: 'nightshift:expires-at', Value: new Date(world.clock.now() + 7 * DAY).toISOString() },
        { Key: 'nightshift:source-db', Value: 'orders-db' },
      ],
    }),
  );
  await world.clock.advance(10 * MIN);
  await world.rds.settle();
}

function deps(dueSince: number): VerifyDeps {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
  const table = world.app.tables[0]?.tableName ?? '';
  return {
    rds: rds(),
    ssm: new SSMClient(world.operatorConfig()),
    store: new VerificationStore(documents, table),
    audit: new AuditLog(documents, table, 30),
    publisher: new EventPublisher(new EventBridgeClient(world.operatorConfig()), 'default'),
    metrics: { add: (name, value, dimensions) => metrics.push({ name, value, dimensions }) },
    clock: () => world.clock.now(),
    config: {
      dryRun: false,
      targets: { instances: ['orders-db'], clusters: [] },
      instanceClass: 'db.t4g.micro',
      subnetGroupName: 'nightshift-verify',
      securityGroupIds: ['sg-0123456789abcdef0'],
      checks: [],
      restoreTimeoutMinutes: 120,
      instanceTtlHours: 6,
    },
    killSwitchParameter: '/nightshift/kill-switch',
    caBundle: caBundle(),
    dueSince,
  };
}

/** Ticks the reconciler like its 5-minute schedule would, until it has nothing left to do. */
async function reconcile(dueSince: number) {
  const kinds: string[] = [];
  for (let i = 0; i < 12; i++) {
    const { actions } = await runVerifyTick(deps(dueSince));
    kinds.push(...actions.map((a) => a.kind));
    await world.clock.advance(5 * MIN);
    await world.rds.settle();
    if (actions.length === 0 && kinds.includes('delete-instance')) break;
  }
  return kinds;
}

const copies = () => [...world.rds.instances.values()].filter((i) => i.id.startsWith('nightshift-verify-'));

describe('restore verification on real PostgreSQL in the local world', () => {
  it('passes on a good snapshot with real row counts, tags the snapshot, and deletes the copy', async () => {
    await nightshiftSnapshot('nightshift-orders-db-20261119-0300');
    const kinds = await reconcile(world.clock.now() - MIN);
    expect(kinds).toEqual(expect.arrayContaining(['restore', 'reset-password', 'check']));
    const verified = published(world, 'Restore Verified');
    expect(verified).toHaveLength(1);
    expect(verified[0]?.detail).toMatchObject({
      database: 'orders-db',
      snapshot: 'nightshift-orders-db-20261119-0300',
      reason: '3 check(s) passed',
    });
    expect(copies().filter((c) => c.status !== 'deleting')).toEqual([]);
    const tags = await rds().send(
      new ListTagsForResourceCommand({
        ResourceName: 'arn:aws:rds:eu-west-1:123456789012:snapshot:nightshift-orders-db-20261119-0300',
      }),
    );
    expect(tags.TagList?.map((t) => t.Key)).toContain('nightshift:verified-at');
    expect(metrics).toContainEqual({
      name: 'RestoreVerified',
      value: 1,
      dimensions: { database: 'orders-db' },
    });
  });

  it("leaves the source database's password unchanged, and the one-time password gone and nowhere else", async () => {
    const client = await sourceClient();
    expect((await client.query('select count(*)::int as n from customers')).rows[0].n).toBe(250);
    await client.end();
    const copyId = published(world, 'Restore Verified')[0]?.detail.copy as string;
    expect(oneTimePasswords).toHaveLength(1);
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
    const table = world.app.tables[0]?.tableName ?? '';
    const auditLog = await new AuditLog(documents, table, 1).list('restore-verify');
    const records = await new VerificationStore(documents, table).list();
    for (const secret of oneTimePasswords) {
      expect(JSON.stringify([auditLog, records, world.events.published])).not.toContain(secret);
    }
    await expect(
      new SSMClient(world.operatorConfig()).send(
        new GetParameterCommand({ Name: passwordParameter(copyId) }),
      ),
    ).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('fails naming the check when the database was emptied, and still deletes the copy', async () => {
    const client = await sourceClient();
    await client.query('truncate customers');
    await client.end();
    await world.clock.advance(DAY);
    await nightshiftSnapshot('nightshift-orders-db-20261120-0310');
    await reconcile(world.clock.now() - MIN);
    const failed = published(world, 'Restore Verification Failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.detail.reason).toBe('check "user tables have rows" failed: got 0, expected at least 1');
    expect(failed[0]?.detail.severity).toBe('critical');
    expect(copies().filter((c) => c.status !== 'deleting')).toEqual([]);
  });

  it('verifies an Aurora cluster: restores the cluster plus one instance, resets the cluster password, deletes both', async () => {
    world.rds.addCluster({
      identifier: 'events-aurora',
      engine: 'aurora-postgresql',
      masterUserPassword: 'aurora-source-password',
      dbName: 'events',
    });
    await world.rds.ready();
    const server = await world.rds.clusterServerOf('events-aurora');
    const admin = await server!.connect('events');
    await admin.query('create table events (id bigserial primary key, kind text)');
    await admin.query("insert into events (kind) select 'delivered' from generate_series(1, 40)");
    await admin.end();
    await rds().send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: 'nightshift-events-aurora-20261121-0300',
        DBClusterIdentifier: 'events-aurora',
        Tags: [
          { Key: 'nightshift:managed', Value: 'true' },
          { Key: 'nightshift:tier', Value: 'daily' },
          { Key: 'nightshift:expires-at', Value: new Date(world.clock.now() + 7 * DAY).toISOString() },
          { Key: 'nightshift:source-db', Value: 'events-aurora' },
        ],
      }),
    );
    await world.clock.advance(10 * MIN);
    await world.rds.settle();
    const base = deps(world.clock.now() - MIN);
    const clusterDeps = {
      ...base,
      config: { ...base.config, targets: { instances: [], clusters: ['events-aurora'] } },
    };
    const before = published(world, 'Restore Verified').length;
    for (let i = 0; i < 12; i++) {
      await runVerifyTick({ ...clusterDeps, clock: () => world.clock.now() });
      await world.clock.advance(5 * MIN);
      await world.rds.settle();
    }
    const verified = published(world, 'Restore Verified').slice(before);
    expect(verified).toHaveLength(1);
    expect(verified[0]?.detail).toMatchObject({
      database: 'events-aurora',
      snapshot: 'nightshift-events-aurora-20261121-0300',
    });
    expect([...world.rds.clusters.keys()].filter((id) => id.startsWith('nightshift-verify-'))).toEqual([]);
    expect([...world.rds.instances.keys()].filter((id) => id.startsWith('nightshift-verify-events'))).toEqual(
      [],
    );
  });

  it('the janitor removes an orphaned copy past its expiry, and nothing else', async () => {
    world.rds.addInstance({
      identifier: 'nightshift-verify-orders-db-20261101',
      engine: 'postgres',
      tags: { 'nightshift:expires-at': new Date(world.clock.now() - MIN).toISOString() },
    });
    world.rds.addInstance({
      identifier: 'reporting-db',
      engine: 'postgres',
      tags: { 'nightshift:expires-at': new Date(world.clock.now() - MIN).toISOString() },
    });
    await world.rds.ready();
    const { actions } = await runVerifyTick(deps(world.clock.now() - 7 * DAY));
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'delete-instance',
        instanceId: 'nightshift-verify-orders-db-20261101',
      }),
    ]);
    await world.rds.settle();
    expect(world.rds.instances.get('reporting-db')?.status).toBe('available');
  });
});
