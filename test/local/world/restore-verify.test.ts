import {
  CreateDBClusterSnapshotCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { passwordParameter, runVerifyTick } from '../../../lambdas/restore-verify/runbook.ts';
import {
  actionsOf,
  SOURCE_CLUSTER,
  SOURCE_DB,
  SUNDAY_DUE,
  synthesizeVerifyAssembly,
  type VerifyAssembly,
  VerifyWorld,
  verifiedRecord,
} from './restore-verify-world.ts';
import { DAY, MIN } from './world-fixture.ts';

let assembly: VerifyAssembly;
let w: VerifyWorld | undefined;

beforeAll(async () => {
  assembly = await synthesizeVerifyAssembly();
});
afterAll(() => assembly.remove());
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A verification that finished last Monday: nothing is due again until Sunday 05:00. */
const lastMondaysVerification = verifiedRecord(Date.parse('2026-11-16T09:00:00Z'));
/** This week's verification of the source database, done: only other targets are due. */
const thisWeeksVerification = verifiedRecord(SUNDAY_DUE + MIN);

describe('restore verification in the local world (bundled handler, its own role and IAM, real PostgreSQL)', {
  timeout: 180_000,
}, () => {
  describe('the tick is a trigger, never the clock', () => {
    it.each([
      ['2099-01-01T05:00:00Z', 'after now'],
      ['1971-01-03T05:00:00Z', 'before now'],
    ])('refuses a tick stamped %s naming `time`, and starts nothing', async (time, why) => {
      w = await VerifyWorld.start(assembly, SUNDAY_DUE + 2 * MIN);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      const refused = await w.tick(Date.parse(time));
      expect(refused.ok).toBe(false);
      expect(refused.error?.name).toBe('InvalidEventError');
      expect(refused.error?.message).toContain(`time: ${time} is`);
      expect(refused.error?.message).toContain(why);
      expect(w.copies()).toEqual([]);
      expect(await w.records()).toEqual([]);
      expect(await w.audit()).toEqual([]);
      expect(w.passwordParameters()).toEqual([]);
      expect(w.world.events.published).toEqual([]);
      // The same world at the same moment does start a restore for a real tick: the refusal changed nothing.
      const real = await w.tick();
      expect(real.ok).toBe(true);
      expect(actionsOf(real).map((a) => a.kind)).toEqual(['restore']);
    });

    it('decides what is due from the real clock: not yet at 04:58 for a tick stamped 05:02, due at 05:02 for a tick stamped 04:58', async () => {
      w = await VerifyWorld.start(assembly, SUNDAY_DUE - 30 * MIN);
      await w.seedRecord(lastMondaysVerification);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      await w.world.clock.advance(SUNDAY_DUE - 2 * MIN - w.now());
      // 4 minutes early (within the clock skew): the event's time would say the week's verification is due.
      const early = await w.tick(SUNDAY_DUE + 2 * MIN);
      expect(early.ok).toBe(true);
      expect(actionsOf(early)).toEqual([]);
      expect(w.copies()).toEqual([]);
      await w.world.clock.advance(4 * MIN);
      // 4 minutes late (a delayed delivery): the event's time would say last Monday's still counts.
      const late = await w.tick(SUNDAY_DUE - 2 * MIN);
      expect(late.ok).toBe(true);
      expect(actionsOf(late).map((a) => a.kind)).toEqual(['restore']);
      expect(w.copies()).toEqual(['nightshift-verify-webhooks-db-20261122']);
      const records = await w.records();
      expect(records.find((r) => r.state !== 'verified')).toMatchObject({
        database: SOURCE_DB,
        state: 'restoring',
      });
    });
  });

  describe('verifies the newest snapshot', () => {
    it('passes on a good snapshot with real row counts, tags the snapshot, and deletes the copy', async () => {
      w = await VerifyWorld.start(assembly);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      const { kinds, results } = await w.reconcile();
      expect(results.every((r) => r.ok)).toBe(true);
      expect(kinds).toEqual(expect.arrayContaining(['restore', 'reset-password', 'check']));
      const verified = w.published('Restore Verified');
      expect(verified).toHaveLength(1);
      expect(verified[0]?.detail).toMatchObject({
        database: SOURCE_DB,
        snapshot: 'nightshift-webhooks-db-20261122-0300',
        reason: '3 check(s) passed',
      });
      expect(w.copies()).toEqual([]);
      const tags = await w.operatorRds().send(
        new ListTagsForResourceCommand({
          ResourceName: 'arn:aws:rds:eu-west-1:123456789012:snapshot:nightshift-webhooks-db-20261122-0300',
        }),
      );
      expect(tags.TagList?.map((t) => t.Key)).toContain('nightshift:verified-at');
    });

    it("leaves the source database's password unchanged, and the one-time password gone and nowhere else", async () => {
      w = await VerifyWorld.start(assembly);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      await w.reconcile();
      const client = await w.sourceClient();
      expect((await client.query('select count(*)::int as n from customers')).rows[0].n).toBe(250);
      await client.end();
      const copyId = w.published('Restore Verified')[0]?.detail.copy as string;
      expect(copyId).toBe('nightshift-verify-webhooks-db-20261122');
      expect(w.oneTimePasswords).toHaveLength(1);
      expect(w.logs.length).toBeGreaterThan(0);
      for (const secret of w.oneTimePasswords) {
        expect(
          JSON.stringify([await w.audit(), await w.records(), w.world.events.published, w.logs]),
        ).not.toContain(secret);
      }
      expect(w.passwordParameters()).toEqual([]);
      await expect(
        new SSMClient(w.world.operatorConfig()).send(
          new GetParameterCommand({ Name: passwordParameter(copyId) }),
        ),
      ).rejects.toMatchObject({ name: 'ParameterNotFound' });
    });

    it('fails naming the check when the database was emptied, and still deletes the copy', async () => {
      w = await VerifyWorld.start(assembly);
      const client = await w.sourceClient();
      await client.query('truncate customers');
      await client.end();
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      await w.reconcile();
      const failed = w.published('Restore Verification Failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.detail.reason).toBe(
        'check "user tables have rows" failed: got 0, expected at least 1',
      );
      expect(failed[0]?.detail.severity).toBe('critical');
      expect(w.copies()).toEqual([]);
      expect(w.passwordParameters()).toEqual([]);
    });

    it('verifies an Aurora cluster: restores the cluster plus one instance, resets the cluster password, deletes both', async () => {
      w = await VerifyWorld.start(assembly);
      await w.seedRecord(thisWeeksVerification);
      w.world.rds.addCluster({
        identifier: SOURCE_CLUSTER,
        engine: 'aurora-postgresql',
        masterUserPassword: 'aurora-source-password',
        dbName: 'events',
      });
      await w.world.rds.ready();
      const server = await w.world.rds.clusterServerOf(SOURCE_CLUSTER);
      const admin = await server!.connect('events');
      await admin.query('create table events (id bigserial primary key, kind text)');
      await admin.query("insert into events (kind) select 'delivered' from generate_series(1, 40)");
      await admin.end();
      await w.operatorRds().send(
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: 'nightshift-events-aurora-20261122-0300',
          DBClusterIdentifier: SOURCE_CLUSTER,
          Tags: [
            { Key: 'nightshift:managed', Value: 'true' },
            { Key: 'nightshift:tier', Value: 'daily' },
            { Key: 'nightshift:expires-at', Value: new Date(w.now() + 7 * DAY).toISOString() },
            { Key: 'nightshift:source-db', Value: SOURCE_CLUSTER },
          ],
        }),
      );
      await w.world.clock.advance(10 * MIN);
      await w.world.rds.settle();
      const { results } = await w.reconcile();
      expect(results.every((r) => r.ok)).toBe(true);
      const verified = w.published('Restore Verified');
      expect(verified).toHaveLength(1);
      expect(verified[0]?.detail).toMatchObject({
        database: SOURCE_CLUSTER,
        snapshot: 'nightshift-events-aurora-20261122-0300',
      });
      expect(w.copies()).toEqual([]);
      expect(w.passwordParameters()).toEqual([]);
    });
  });

  describe('the janitor', () => {
    it('removes an orphaned copy past its expiry, and nothing else', async () => {
      w = await VerifyWorld.start(assembly);
      await w.seedRecord(thisWeeksVerification);
      const expired = new Date(w.now() - MIN).toISOString();
      w.world.rds.addInstance({
        identifier: 'nightshift-verify-webhooks-db-20261101',
        engine: 'postgres',
        tags: { 'nightshift:managed': 'true', 'nightshift:expires-at': expired },
      });
      // Named like a copy but not tagged as Nightshift's: its role may not delete it, and the janitor leaves it.
      w.world.rds.addInstance({
        identifier: 'nightshift-verify-someone-else',
        engine: 'postgres',
        tags: { 'nightshift:expires-at': expired },
      });
      w.world.rds.addInstance({
        identifier: 'reporting-db',
        engine: 'postgres',
        tags: { 'nightshift:expires-at': new Date(w.now() - MIN).toISOString() },
      });
      await w.world.rds.ready();
      const result = await w.tick();
      expect(result.ok).toBe(true);
      expect(actionsOf(result)).toEqual([
        expect.objectContaining({
          kind: 'delete-copy',
          reason: 'orphaned temporary copy past its expiry',
        }),
      ]);
      expect(w.copies()).toEqual(['nightshift-verify-someone-else']);
      expect(w.world.rds.instances.get('reporting-db')?.status).toBe('available');
    });
  });

  describe('stops when told to: plans only, changes nothing', () => {
    /** Nothing a verification would change has changed. */
    async function expectNothingChanged(world: VerifyWorld) {
      expect(world.copies()).toEqual([]);
      expect(await world.records()).toEqual([]);
      expect(world.passwordParameters()).toEqual([]);
      expect(world.world.events.published).toEqual([]);
    }
    const killSwitch = (world: VerifyWorld, value: string) =>
      new SSMClient(world.world.operatorConfig()).send(
        new PutParameterCommand({
          Name: '/nightshift/kill-switch',
          Value: value,
          Type: 'String',
          Overwrite: true,
        }),
      );

    it('only plans while the kill switch is on, and acts once it is off', async () => {
      w = await VerifyWorld.start(assembly);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      await killSwitch(w, 'on');
      const held = await w.tick();
      expect(held.ok).toBe(true);
      expect(held.result).toMatchObject({ outcome: 'planned', actions: [{ kind: 'restore' }] });
      await expectNothingChanged(w);
      expect(await w.audit()).toEqual([
        expect.objectContaining({
          action: 'restore',
          outcome: 'planned',
          reason: expect.stringContaining('not carried out: kill switch /nightshift/kill-switch is on'),
        }),
      ]);
      await killSwitch(w, 'off');
      const acting = await w.tick();
      expect(acting.result).toMatchObject({ outcome: 'performed', actions: [{ kind: 'restore' }] });
      expect(w.copies()).toEqual(['nightshift-verify-webhooks-db-20261122']);
    });

    it('fails closed when the kill switch cannot be read', async () => {
      w = await VerifyWorld.start(assembly);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      // The only GetParameter of a tick that has no copy to check yet: the kill switch's.
      w.world.inject({ service: 'ssm', operation: 'GetParameter', kind: 'throttle', count: 5 });
      const held = await w.tick();
      expect(held.ok).toBe(true);
      expect(held.result).toMatchObject({ outcome: 'planned', actions: [{ kind: 'restore' }] });
      await expectNothingChanged(w);
      expect(await w.audit()).toEqual([
        expect.objectContaining({
          outcome: 'planned',
          reason: expect.stringMatching(
            /could not be read \(ThrottlingException: .*\): failing closed, plan only/,
          ),
        }),
      ]);
    });

    it("only plans in dry-run (with the function's own credentials), and the same tick acts without it", async () => {
      w = await VerifyWorld.start(assembly);
      await w.nightshiftSnapshot('nightshift-webhooks-db-20261122-0300');
      const planned = await runVerifyTick(w.functionDeps({ dryRun: true }));
      expect(planned.outcome).toBe('planned');
      expect(planned.actions.map((a) => a.kind)).toEqual(['restore']);
      await expectNothingChanged(w);
      expect(await w.audit()).toEqual([
        expect.objectContaining({
          outcome: 'planned',
          reason: expect.stringContaining('not carried out: dry-run'),
        }),
      ]);
      const performed = await runVerifyTick(w.functionDeps());
      expect(performed.outcome).toBe('performed');
      expect(w.copies()).toEqual(['nightshift-verify-webhooks-db-20261122']);
    });
  });

  describe('runs as its own role, whose IAM the world enforces', () => {
    it('may not change the source database, nor read or list passwords outside its own path', async () => {
      w = await VerifyWorld.start(assembly);
      const credentials = { ...w.world.functionConfig(w.functionId()), maxAttempts: 1 };
      await expect(
        new RDSClient(credentials).send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: SOURCE_DB,
            MasterUserPassword: 'attacker-chosen-1',
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      const ssm = new SSMClient(credentials);
      w.world.ssm.put('/app/db-password', 'the-app-secret', 'SecureString');
      await expect(
        ssm.send(new GetParameterCommand({ Name: '/app/db-password', WithDecryption: true })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(ssm.send(new GetParametersByPathCommand({ Path: '/app' }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      await expect(
        ssm.send(new GetParametersByPathCommand({ Path: '/nightshift/restore-verify' })),
      ).resolves.toMatchObject({ Parameters: [] });
    });
  });
});
