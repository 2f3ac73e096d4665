import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { type AwsEvent, envelope } from '../../../local/services/envelope.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { published, START, synthesizeAssembly } from './world-fixture.ts';

const DAY = 86_400_000;
let assembly: ReturnType<typeof synthesizeAssembly>;
let world: LocalWorld | undefined;

beforeAll(() => {
  assembly = synthesizeAssembly();
});
afterAll(() => assembly.remove());
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A world with webhooks-db (listed in config) and billing-db (tagged), at 03:00 on a Sunday. */
async function fleet() {
  const w = await LocalWorld.start({
    cloudAssemblyDir: assembly.dir,
    account: '123456789012',
    region: 'eu-west-1',
    stackName: assembly.stackName,
    start: START,
  });
  await w.clock.advance(Date.parse('2026-11-22T03:00:00Z') - w.clock.now());
  w.rds.addInstance({ identifier: 'webhooks-db', engine: 'postgres' });
  w.rds.addInstance({ identifier: 'billing-db', engine: 'postgres', tags: { 'nightshift:backup': 'true' } });
  return w;
}

const nightshiftSnapshot = (
  w: LocalWorld,
  id: string,
  source: string,
  ageDays: number,
  expiresInDays: number,
) =>
  w.rds.addSnapshot({
    identifier: id,
    source,
    createTime: w.clock.now() - ageDays * DAY,
    tags: {
      'nightshift:managed': 'true',
      'nightshift:tier': 'daily',
      'nightshift:expires-at': new Date(w.clock.now() + expiresInDays * DAY).toISOString(),
      'nightshift:source-db': source,
    },
  });
const foreign = (w: LocalWorld, n: number) => {
  for (let i = 0; i < n; i++)
    w.rds.addSnapshot({
      identifier: `manual-${i}`,
      source: 'webhooks-db',
      createTime: w.clock.now() - (300 + i) * DAY,
    });
};
const functionId = (w: LocalWorld) =>
  w.app.functions.find((f) => f.environment.POWERTOOLS_SERVICE_NAME === 'nightshift-rds-snapshots')
    ?.logicalId ?? '';
/** A `Scheduled Event` of the snapshot schedule stamped `at`, as EventBridge would deliver it. */
const scheduledEvent = (w: LocalWorld, at: number, change: Partial<AwsEvent> = {}): AwsEvent => {
  const rule = w.app.rules.find(
    (r) => r.scheduleExpression && r.targets.some((t) => t.functionLogicalId === functionId(w)),
  );
  if (!rule) throw new Error('no snapshot schedule in the template');
  return { ...envelope(w.options, 'aws.events', 'Scheduled Event', at, [rule.arn], {}), ...change };
};
/** Every DB snapshot in the world with its status: what a run changed, or did not. */
const snapshotStates = (w: LocalWorld) => [...w.rds.snapshots.values()].map((s) => `${s.id}:${s.status}`);

describe('rds-snapshots in the local world (bundled handler, IAM from the template, RDS over the Query protocol)', () => {
  describe('quota', () => {
    it('prunes first at 99 of 100 manual snapshots, then snapshots both databases', async () => {
      world = await fleet();
      foreign(world, 97);
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261110-0300', 'webhooks-db', 12, -5);
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261121-0300', 'webhooks-db', 1, 6);
      await world.runSchedulesNow();
      expect(world.deliveries.every((d) => d.result.ok)).toBe(true);
      expect(world.rds.snapshots.get('nightshift-webhooks-db-20261110-0300')?.status).toBe('deleting');
      expect(world.rds.manualSnapshotCount('db')).toBe(100);
      expect(published(world, 'Snapshot Skipped')).toHaveLength(0);
    });

    it('skips and alerts, without failing, when pruning cannot make room', async () => {
      world = await fleet();
      foreign(world, 99);
      await world.runSchedulesNow();
      expect(world.deliveries.every((d) => d.result.ok)).toBe(true);
      expect(world.rds.manualSnapshotCount('db')).toBe(100);
      const skipped = published(world, 'Snapshot Skipped');
      expect(skipped).toHaveLength(1);
      expect(skipped[0]?.detail).toMatchObject({ severity: 'critical', database: 'webhooks-db' });
      expect(String(skipped[0]?.detail.reason)).toContain('quota of 100');
    });
  });

  describe("plans with the real clock; the event's time is identity only", () => {
    it('names the snapshots by the scheduled time and prunes by the real clock when delivered late', async () => {
      world = await fleet();
      const scheduledAt = world.clock.now();
      // Expires at 03:02; the delivery arrives at 03:04.
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261115-0300', 'webhooks-db', 7, 2 / 1440);
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261121-0300', 'webhooks-db', 1, 6);
      await world.clock.advance(4 * 60_000);
      await world.runSchedulesNowWith(scheduledEvent(world, scheduledAt));
      expect(world.deliveries.map((d) => d.result.ok)).toEqual([true]);
      expect(world.rds.snapshots.get('nightshift-webhooks-db-20261115-0300')?.status).toBe('deleting');
      // Expiry from the real clock (the minute of 03:04, a week on), not from the scheduled 03:00.
      expect(
        world.rds.snapshots.get('nightshift-webhooks-db-20261122-0300')?.tags.get('nightshift:expires-at'),
      ).toMatch(/^2026-11-29T03:04:/);
      expect(world.rds.snapshots.has('nightshift-billing-db-20261122-0300')).toBe(true);
    });

    it.each([
      [
        'a time in 2099',
        { time: '2099-01-01T03:00:00Z' },
        'InvalidEventError',
        /^time: 2099-01-01T03:00:00Z is .* after now/,
      ],
      [
        'a time in 1971',
        { time: '1971-01-01T03:00:00Z' },
        'InvalidEventError',
        /^time: 1971-01-01T03:00:00Z is .* before now/,
      ],
      [
        'a forged source',
        { source: 'custom.forged' },
        'InvalidEventError',
        /^malformed Scheduled Event: source/,
      ],
      ['another account', { account: '999999999999' }, 'ForeignEventError', /account "999999999999"/],
      ['another Region', { region: 'ap-south-2' }, 'ForeignEventError', /region "ap-south-2"/],
    ] as const)(
      'refuses an event with %s, naming it, and changes nothing',
      async (_, change, name, message) => {
        world = await fleet();
        nightshiftSnapshot(world, 'nightshift-webhooks-db-20261110-0300', 'webhooks-db', 12, -5);
        nightshiftSnapshot(world, 'nightshift-webhooks-db-20261121-0300', 'webhooks-db', 1, 6);
        const before = snapshotStates(world);
        await world.runSchedulesNowWith(scheduledEvent(world, world.clock.now(), change));
        expect(world.deliveries).toHaveLength(1);
        const [delivery] = world.deliveries;
        expect(delivery?.result.ok).toBe(false);
        expect(delivery?.result.error).toMatchObject({ name, message: expect.stringMatching(message) });
        expect(snapshotStates(world)).toEqual(before);
        expect(published(world, 'Snapshot Run Completed')).toHaveLength(0);
      },
    );
  });

  describe('permissions', () => {
    it('cannot delete a snapshot Nightshift did not create: its policy allows nightshift-* only', async () => {
      world = await fleet();
      foreign(world, 1);
      world.rds.snapshots.get('manual-0')!.status = 'available';
      const rds = new RDSClient({ ...world.functionConfig(functionId(world)), maxAttempts: 1 });
      await expect(
        rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'manual-0' })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      expect(world.rds.snapshots.has('manual-0')).toBe(true);
    });
  });

  describe('stops when told to', () => {
    it('only plans while the kill switch is on', async () => {
      world = await fleet();
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261110-0300', 'webhooks-db', 12, -5);
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261121-0300', 'webhooks-db', 1, 6);
      await new SSMClient(world.operatorConfig()).send(
        new PutParameterCommand({ Name: '/nightshift/kill-switch', Value: 'on', Type: 'String' }),
      );
      await world.runSchedulesNow();
      expect(world.rds.snapshots.size).toBe(2);
      const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
      const audit = await new AuditLog(documents, world.app.tables[0]?.tableName ?? '', 1).list(
        'rds-snapshots',
      );
      expect(audit.at(-1)).toMatchObject({
        outcome: 'planned',
        reason: expect.stringContaining('would delete 1 and create 2 snapshot(s)'),
      });
    });
  });

  describe('is idempotent per scheduled run', () => {
    it('lets two deliveries of one run at once both succeed, one snapshot per target, each reporting what it did', async () => {
      world = await fleet();
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261110-0300', 'webhooks-db', 12, -5);
      nightshiftSnapshot(world, 'nightshift-webhooks-db-20261121-0300', 'webhooks-db', 1, 6);
      // Both read the world before either acts (they meet at the kill-switch read between observe and act):
      // each plans the same deletion and the same two snapshots, and the second to reach RDS finds it done.
      world.inject({ service: 'ssm', operation: 'GetParameter', kind: 'barrier', count: 2 });
      const event = scheduledEvent(world, world.clock.now());
      await Promise.all([world.runSchedulesNowWith(event), world.runSchedulesNowWith(event)]);

      expect(world.deliveries.map((d) => d.result.ok)).toEqual([true, true]);
      const results = world.deliveries.map(
        (d) => d.result.result as { created: number; deleted: number; alreadyDone: number },
      );
      // Between them: 2 snapshots taken and 1 deletion, each once; what one did, the other found done.
      expect(results.reduce((n, r) => n + r.created, 0)).toBe(2);
      expect(results.reduce((n, r) => n + r.deleted, 0)).toBe(1);
      expect(results.reduce((n, r) => n + r.alreadyDone, 0)).toBe(3);
      for (const r of results) expect(r.created + r.deleted + r.alreadyDone).toBe(3);
      // Each Snapshot Run Completed says what its own invocation did.
      const completed = published(world, 'Snapshot Run Completed').map((e) => e.detail);
      expect(completed.map((d) => [d.created, d.deleted, d.alreadyDone]).sort()).toEqual(
        results.map((r) => [r.created, r.deleted, r.alreadyDone]).sort(),
      );
      const thisRun = [...world.rds.snapshots.values()].filter(
        (s) => s.tags.get('nightshift:run-id') === 'run-2026-11-22T03:00:00.000Z',
      );
      expect(thisRun.map((s) => s.source).sort()).toEqual(['billing-db', 'webhooks-db']);
      expect(world.rds.snapshots.get('nightshift-webhooks-db-20261110-0300')?.status).toBe('deleting');
      expect(world.deadLetters.size).toBe(0);
    });

    it('takes no second snapshot when the same scheduled run is delivered again', async () => {
      world = await fleet();
      await world.runSchedulesNow();
      const event = world.routed.at(-1);
      const rule = world.app.rules.find((r) => r.scheduleExpression);
      if (!event || !rule) throw new Error('no scheduled run');
      await world.clock.advance(10 * 60_000);
      await world.runSchedulesNowWith(event);
      expect(world.rds.manualSnapshotCount('db')).toBe(2);
      expect(world.deliveries.every((d) => d.result.ok)).toBe(true);
    });
  });
});
