import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import type { VerificationRecord } from '../../../lambdas/restore-verify/plan.ts';
import type { VerifyDeps, VerifyRuntimeConfig } from '../../../lambdas/restore-verify/runbook.ts';
import { VerificationStore } from '../../../lambdas/restore-verify/store.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';
import { lastDue } from '../../../lambdas/shared/schedule.ts';
import type { InvocationResult } from '../../../local/lambda/runtime.ts';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';
import { exampleAppConfig as exampleConfig } from '../../../local/sandbox/example-config.ts';
import { synthesize } from '../../../local/sandbox/synth.ts';
import { envelope } from '../../../local/services/envelope.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { DAY, MIN, START } from './world-fixture.ts';

/** The database the restore-verify world tests verify (listed in the snapshot targets). */
export const SOURCE_DB = 'webhooks-db';
export const SOURCE_PASSWORD = 'source-password-never-changes';
/** The cluster target of the Aurora test. */
export const SOURCE_CLUSTER = 'events-aurora';
/** Sunday 2026-11-22 05:00 UTC: when the default weekly schedule (`cron(0 5 ? * SUN *)`) comes due. */
export const SUNDAY_DUE = Date.parse('2026-11-22T05:00:00Z');

/**
 * The example app synthesized with restore verification enabled (default SQL checks, the targets above), as
 * `cdk synth` bundles it. The CA bundle shipped with the function is a throwaway; the world hands the
 * running function its own RDS CA in `NIGHTSHIFT_RDS_CA_BUNDLE`.
 */
export async function synthesizeVerifyAssembly(options: { dryRun?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-verify-test-'));
  const caBundleFile = join(dir, 'synth-ca.pem');
  writeFileSync(caBundleFile, (await LocalCertificateAuthority.create('synth only')).certificatePem);
  const base = exampleConfig.restoreVerify;
  if (!base) throw new Error('the example config has no restoreVerify section');
  const { stackName } = synthesize(dir, {
    ...exampleConfig,
    snapshots: {
      ...exampleConfig.snapshots,
      targets: { instances: [SOURCE_DB], clusters: [SOURCE_CLUSTER] },
    },
    restoreVerify: {
      ...base,
      enabled: true,
      dryRun: options.dryRun ?? false,
      caBundleFile,
      checks: [],
    },
  });
  return { dir, stackName, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type VerifyAssembly = Awaited<ReturnType<typeof synthesizeVerifyAssembly>>;

/**
 * A fresh world (real PostgreSQL) with `webhooks-db` holding 250 customers, at `at`. The restore-verify
 * function runs from its bundle with its own role's credentials and IAM; the tests only observe and seed.
 */
export class VerifyWorld {
  /** Every one-time password SSM was given, to prove none leaks anywhere. */
  readonly oneTimePasswords: string[] = [];
  /** Every line the function wrote to its logs. */
  readonly logs: string[] = [];

  private constructor(readonly world: LocalWorld) {
    const put = world.ssm.put.bind(world.ssm);
    world.ssm.put = (name, value, type, overwrite) => {
      put(name, value, type, overwrite);
      if (name.startsWith('/nightshift/restore-verify/')) this.oneTimePasswords.push(value);
    };
  }

  /** Starts a world at `at`: by default just after the week's verification came due. */
  static async start(assembly: VerifyAssembly, at = SUNDAY_DUE + 5 * MIN): Promise<VerifyWorld> {
    const world = await LocalWorld.start({
      cloudAssemblyDir: assembly.dir,
      account: '123456789012',
      region: 'eu-west-1',
      stackName: assembly.stackName,
      start: START,
      postgres: true,
    });
    const w = new VerifyWorld(world);
    try {
      await world.clock.advance(at - world.clock.now());
      world.rds.addInstance({
        identifier: SOURCE_DB,
        engine: 'postgres',
        masterUserPassword: SOURCE_PASSWORD,
        dbName: 'webhooks',
      });
      await world.rds.ready();
      const source = await w.sourceClient();
      await source.query('create table customers (id serial primary key, email text not null)');
      await source.query(
        "insert into customers (email) select 'c' || g || '@example.test' from generate_series(1, 250) g",
      );
      await source.end();
    } catch (error) {
      await world.close();
      throw error;
    }
    return w;
  }

  close(): Promise<void> {
    return this.world.close();
  }

  now(): number {
    return this.world.clock.now();
  }

  async sourceClient(password = SOURCE_PASSWORD) {
    const instance = this.world.rds.instances.get(SOURCE_DB);
    const client = new pg.Client({
      host: instance?.address,
      port: instance?.port,
      user: 'postgres',
      password,
      database: 'webhooks',
      ssl: { ca: this.caBundle(), rejectUnauthorized: true },
    });
    await client.connect();
    return client;
  }

  caBundle(): string {
    return readFileSync(this.world.rds.postgres?.caBundlePath ?? '', 'utf8');
  }

  /** RDS as the operator (setup only: seeding snapshots). */
  operatorRds(): RDSClient {
    return new RDSClient(this.world.operatorConfig());
  }

  /** Takes a Nightshift snapshot the way the snapshot runbook does and waits until it is available. */
  async nightshiftSnapshot(id: string, database = SOURCE_DB): Promise<void> {
    await this.operatorRds().send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: id,
        DBInstanceIdentifier: database,
        Tags: [
          { Key: 'nightshift:managed', Value: 'true' },
          { Key: 'nightshift:tier', Value: 'daily' },
          { Key: 'nightshift:expires-at', Value: new Date(this.now() + 7 * DAY).toISOString() },
          { Key: 'nightshift:source-db', Value: database },
        ],
      }),
    );
    await this.world.clock.advance(10 * MIN);
    await this.world.rds.settle();
  }

  /** The deployed restore-verify function (its logical id names its credentials and policies). */
  functionId(): string {
    const fn = this.world.app.functions.find(
      (f) => f.environment.POWERTOOLS_SERVICE_NAME === 'nightshift-restore-verify',
    );
    if (!fn) throw new Error('no restore-verify function in the template');
    return fn.logicalId;
  }

  /** The `Scheduled Event` of the tick rule, stamped `time` (a real delivery's is about now). */
  tickEvent(time = this.now()) {
    const id = this.functionId();
    const rule = this.world.app.rules.find(
      (r) => r.scheduleExpression && r.targets.some((t) => t.functionLogicalId === id),
    );
    if (!rule) throw new Error('no tick rule targets the restore-verify function');
    return envelope(this.world.options, 'aws.events', 'Scheduled Event', time, [rule.arn], {});
  }

  /** One tick delivered to the bundled function, as its schedule would; its answer. */
  async tick(time = this.now()): Promise<InvocationResult> {
    const lambda = this.world.lambdas.get(this.functionId());
    if (!lambda) throw new Error('the restore-verify function is not running');
    const result = await lambda.invoke(this.tickEvent(time));
    this.logs.push(...result.logs);
    await this.world.rds.settle();
    return result;
  }

  /** Ticks every 5 minutes, like the schedule, until a tick has nothing left to do after a deletion. */
  async reconcile(maxTicks = 16): Promise<{ kinds: string[]; results: InvocationResult[] }> {
    const kinds: string[] = [];
    const results: InvocationResult[] = [];
    for (let i = 0; i < maxTicks; i++) {
      const result = await this.tick();
      results.push(result);
      const actions = actionsOf(result);
      kinds.push(...actions.map((a) => a.kind));
      await this.world.clock.advance(5 * MIN);
      await this.world.rds.settle();
      if (result.ok && actions.length === 0 && kinds.includes('delete-copy')) break;
    }
    return { kinds, results };
  }

  /**
   * The runbook's dependencies as the function builds them, with the function's own credentials (its role's
   * IAM applies), for running a tick in-process with a configuration the synthesized one does not have.
   */
  functionDeps(config: Partial<VerifyRuntimeConfig> = {}): VerifyDeps {
    const credentials = this.world.functionConfig(this.functionId());
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(credentials), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const fn = this.world.app.functions.find((f) => f.logicalId === this.functionId());
    const now = this.now();
    return {
      rds: new RDSClient(credentials),
      ssm: new SSMClient(credentials),
      store: new VerificationStore(documents, this.table()),
      audit: new AuditLog(documents, this.table(), 30),
      publisher: new EventPublisher(
        new EventBridgeClient(credentials),
        fn?.environment.NIGHTSHIFT_EVENT_BUS ?? 'default',
      ),
      metrics: { add: () => undefined },
      clock: () => this.world.clock.now(),
      config: {
        dryRun: false,
        targets: { instances: [SOURCE_DB], clusters: [SOURCE_CLUSTER] },
        instanceClass: 'db.t4g.micro',
        subnetGroupName: 'webhooks-private',
        securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
        checks: [],
        restoreTimeoutMinutes: 120,
        instanceTtlHours: 6,
        ...config,
      },
      killSwitchParameter: fn?.environment.NIGHTSHIFT_KILL_SWITCH_PARAMETER ?? '/nightshift/kill-switch',
      caBundle: this.caBundle(),
      dueSince: lastDue('cron(0 5 ? * SUN *)', now) ?? now,
    };
  }

  private documents() {
    return DynamoDBDocumentClient.from(new DynamoDBClient(this.world.operatorConfig()));
  }

  private table(): string {
    return this.world.app.tables[0]?.tableName ?? '';
  }

  /** The verification records in the state table. */
  records(): Promise<VerificationRecord[]> {
    return new VerificationStore(this.documents(), this.table()).list();
  }

  /** Writes a verification record, as an earlier run would have left it. */
  async seedRecord(record: VerificationRecord): Promise<void> {
    await new VerificationStore(this.documents(), this.table()).start(record, this.now());
  }

  audit() {
    return new AuditLog(this.documents(), this.table(), 1).list('restore-verify');
  }

  /** `nightshift-verify-*` instances and clusters RDS still has (and is not deleting). */
  copies(): string[] {
    return [...this.world.rds.instances.values(), ...this.world.rds.clusters.values()]
      .filter((c) => c.id.startsWith('nightshift-verify-') && c.status !== 'deleting')
      .map((c) => c.id);
  }

  /** One-time password parameters SSM holds. */
  passwordParameters(): string[] {
    return [...this.world.ssm.parameters.keys()].filter((n) => n.startsWith('/nightshift/restore-verify/'));
  }

  published(detailType: string) {
    return this.world.events.published.filter((e) => e['detail-type'] === detailType);
  }
}

/** A passed verification of the source database requested at `requestedAt` (nothing due until the next). */
export function verifiedRecord(requestedAt: number): VerificationRecord {
  const day = new Date(requestedAt).toISOString().slice(0, 10).replaceAll('-', '');
  return {
    database: SOURCE_DB,
    kind: 'instance',
    snapshotId: `nightshift-webhooks-db-${day}-0300`,
    snapshotTime: Date.parse(`${new Date(requestedAt).toISOString().slice(0, 10)}T03:00:00Z`),
    copyId: `nightshift-verify-webhooks-db-${day}`,
    requestedAt,
    state: 'verified',
    reason: '3 check(s) passed',
  };
}

/** The actions a tick reported (its handler's summary). */
export function actionsOf(result: InvocationResult): { kind: string; reason: string }[] {
  return (result.result as { actions?: { kind: string; reason: string }[] } | undefined)?.actions ?? [];
}
