import { existsSync, readFileSync } from 'node:fs';
import {
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import { RdsServerStartError, RdsWorld } from '../../../local/services/rds.ts';
import { VirtualClock } from '../../../local/world/clock.ts';
import { ACCOUNT, callers, MIN, operator, REGION, START } from './rds-fixture.ts';

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
