import { existsSync, readFileSync } from 'node:fs';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
} from '@aws-sdk/client-rds';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import { RdsWorld } from '../../../local/services/rds.ts';
import { VirtualClock } from '../../../local/world/clock.ts';
import { ACCOUNT, callers, MIN, operator, REGION, START } from './rds-fixture.ts';

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
