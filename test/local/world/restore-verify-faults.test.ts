import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../../local/endpoint/faults.ts';
import {
  actionsOf,
  SOURCE_DB,
  SUNDAY_DUE,
  synthesizeVerifyAssembly,
  type VerifyAssembly,
  VerifyWorld,
  verifiedRecord,
} from './restore-verify-world.ts';
import { MIN } from './world-fixture.ts';

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

const SNAPSHOT = 'nightshift-webhooks-db-20261122-0300';
const COPY = 'nightshift-verify-webhooks-db-20261122';
/** The SDK's attempts in the world (AWS_MAX_ATTEMPTS): a fault this many times in a row outlasts them. */
const SDK_ATTEMPTS = 5;
const outlasting = (rule: Omit<FaultRule, 'count'>): FaultRule => ({ ...rule, count: SDK_ATTEMPTS });

/** A world whose week's verification is due, with a snapshot to verify. */
async function due(): Promise<VerifyWorld> {
  const world = await VerifyWorld.start(assembly);
  await world.nightshiftSnapshot(SNAPSHOT);
  return world;
}

/** Moves the clock on (no tick) until the restored copy is available. */
async function untilCopyAvailable(world: VerifyWorld): Promise<void> {
  for (let i = 0; i < 12 && world.world.rds.instances.get(COPY)?.status !== 'available'; i++) {
    await world.world.clock.advance(5 * MIN);
    await world.world.rds.settle();
  }
  expect(world.world.rds.instances.get(COPY)?.status).toBe('available');
}

/** The end every fault must converge to: one passing verification, no verdict from the fault, nothing left. */
async function expectOnePassingVerification(world: VerifyWorld): Promise<void> {
  const { results } = await world.reconcile();
  expect(results.every((r) => r.ok)).toBe(true);
  expect(world.published('Restore Verification Failed')).toEqual([]);
  const verified = world.published('Restore Verified');
  expect(verified).toHaveLength(1);
  expect(verified[0]?.detail).toMatchObject({ database: SOURCE_DB, snapshot: SNAPSHOT, copy: COPY });
  expect((await world.records()).map((r) => [r.copyId, r.state])).toEqual([[COPY, 'verified']]);
  expect(world.copies()).toEqual([]);
  expect(world.passwordParameters()).toEqual([]);
}

describe('restore verification under faults (bundled handler, its own role, faults at the endpoint)', {
  timeout: 240_000,
}, () => {
  describe('throttling and 5xx are retried on a later tick, never a verdict', () => {
    it.each([
      ['Throttling', 'throttle'],
      ['a 5xx', 'server-error'],
    ] as const)(
      '%s on the restore, after the SDK gave up, fails the tick and the next tick restores',
      async (_what, kind) => {
        w = await due();
        w.world.inject(outlasting({ service: 'rds', operation: 'RestoreDBInstanceFromDBSnapshot', kind }));
        const faulted = await w.tick();
        expect(faulted.ok).toBe(false);
        expect(faulted.error?.name).toBe('VerifyTickError');
        expect(faulted.error?.message).toContain(`restore ${SOURCE_DB}`);
        expect((await w.records()).map((r) => r.state)).toEqual(['starting']);
        expect(w.copies()).toEqual([]);
        expect(w.published('Restore Verification Failed')).toEqual([]);
        await expectOnePassingVerification(w);
      },
    );

    it("a real refusal is still a verdict, naming RDS's error", async () => {
      w = await due();
      w.world.inject(
        outlasting({ service: 'rds', operation: 'RestoreDBInstanceFromDBSnapshot', kind: 'throttle' }),
      );
      expect((await w.tick()).ok).toBe(false);
      // Before the request is made again, the snapshot is no longer restorable.
      const snapshot = w.world.rds.snapshots.get(SNAPSHOT);
      if (!snapshot) throw new Error('no snapshot');
      snapshot.status = 'failed';
      const refused = await w.tick();
      expect(refused.ok).toBe(true);
      const failed = w.published('Restore Verification Failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.detail.reason).toBe(
        `RDS refused the restore of ${SNAPSHOT}: InvalidDBSnapshotStateFault: DBSnapshot must have state available but actually has failed`,
      );
      expect((await w.records()).map((r) => r.state)).toEqual(['failed']);
    });
  });

  describe('every alert is published before what says it was sent is recorded', () => {
    it('a failed PutEvents for "no snapshot" leaves no marker, so the next tick alerts, once', async () => {
      w = await VerifyWorld.start(assembly);
      w.world.inject(outlasting({ service: 'events', operation: 'PutEvents', kind: 'server-error' }));
      const faulted = await w.tick();
      expect(faulted.ok).toBe(false);
      expect(await w.records()).toEqual([]);
      expect(w.published('Restore Verification Failed')).toEqual([]);
      const retried = await w.tick();
      expect(retried.ok).toBe(true);
      const failed = w.published('Restore Verification Failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.detail).toMatchObject({
        database: SOURCE_DB,
        severity: 'critical',
        reason: `no available Nightshift snapshot of ${SOURCE_DB} to verify`,
      });
      expect(await w.records()).toEqual([expect.objectContaining({ database: SOURCE_DB, state: 'failed' })]);
      await w.world.clock.advance(5 * MIN);
      const after = await w.tick();
      expect(actionsOf(after)).toEqual([]);
      expect(w.published('Restore Verification Failed')).toHaveLength(1);
    });
  });

  describe('a crash (here: a fault outlasting the SDK) between any two steps converges', () => {
    it.each<[string, 'restore' | 'reset', Omit<FaultRule, 'count'>]>([
      [
        'after RDS accepted the restore, before the state says so',
        'restore',
        { service: 'dynamodb', operation: 'UpdateItem', kind: 'server-error' },
      ],
      [
        'before the one-time password is stored',
        'reset',
        { service: 'ssm', operation: 'PutParameter', kind: 'server-error' },
      ],
      [
        'after the password is stored, before RDS is given it',
        'reset',
        { service: 'rds', operation: 'ModifyDBInstance', kind: 'server-error' },
      ],
      [
        'after RDS was given the password, before the state says `resetting`',
        'reset',
        { service: 'dynamodb', operation: 'UpdateItem', kind: 'server-error' },
      ],
    ])('%s: one passing verification, one password, no false timeout', async (_when, step, fault) => {
      w = await due();
      if (step === 'reset') {
        expect((await w.tick()).ok).toBe(true);
        await untilCopyAvailable(w);
      }
      w.world.inject(outlasting(fault));
      const faulted = await w.tick();
      expect(faulted.ok).toBe(false);
      // Whatever the state says, a password it names exists: the check can never find none.
      const records = await w.records();
      expect(records.map((r) => r.state)).toEqual([step === 'restore' ? 'starting' : 'restoring']);
      await expectOnePassingVerification(w);
      // Made again after the fault, the reset reused the stored password: SSM and the copy always agreed.
      expect(w.oneTimePasswords).toHaveLength(1);
    });
  });

  describe('a verification whose state says its password exists when SSM has none', () => {
    it('(what a crash between the two used to leave) sets a new one and passes: no failing ticks, no false timeout', async () => {
      w = await due();
      expect((await w.tick()).ok).toBe(true);
      await untilCopyAvailable(w);
      expect((await w.tick()).ok).toBe(true);
      expect((await w.records()).map((r) => r.state)).toEqual(['resetting']);
      w.world.ssm.parameters.delete(`/nightshift/restore-verify/${COPY}`);
      await expectOnePassingVerification(w);
      expect(w.oneTimePasswords).toHaveLength(2);
    });
  });

  describe('a one-time password never outlives its copy', () => {
    it('a failed DeleteParameter keeps the copy; the next tick deletes the password, then the copy', async () => {
      w = await due();
      w.world.inject(outlasting({ service: 'ssm', operation: 'DeleteParameter', kind: 'server-error' }));
      let faulted = false;
      for (let i = 0; i < 12 && !faulted; i++) {
        const result = await w.tick();
        if (!result.ok) {
          faulted = true;
          expect(result.error?.message).toContain('injected fault');
        } else {
          await w.world.clock.advance(5 * MIN);
          await w.world.rds.settle();
        }
      }
      expect(faulted).toBe(true);
      expect(w.published('Restore Verified')).toHaveLength(1);
      expect(w.copies()).toEqual([COPY]);
      expect(w.passwordParameters()).toEqual([`/nightshift/restore-verify/${COPY}`]);
      await w.world.clock.advance(5 * MIN);
      const retried = await w.tick();
      expect(retried.ok).toBe(true);
      expect(actionsOf(retried)).toEqual([expect.objectContaining({ kind: 'delete-copy' })]);
      expect(w.passwordParameters()).toEqual([]);
      expect(w.copies()).toEqual([]);
    });

    it('the janitor deletes an orphaned password, and keeps those of copies that are there', async () => {
      w = await VerifyWorld.start(assembly);
      // This week's verification is done: the only work left is the janitor's.
      await w.seedRecord(verifiedRecord(SUNDAY_DUE + MIN));
      const orphan = '/nightshift/restore-verify/nightshift-verify-webhooks-db-20261101';
      const kept = '/nightshift/restore-verify/nightshift-verify-reporting-db-20261122';
      w.world.ssm.put(orphan, 'orphaned-one-time-password', 'SecureString');
      w.world.ssm.put(kept, 'in-use-one-time-password', 'SecureString');
      w.world.ssm.put('/app/url', 'https://example.test');
      w.world.rds.addInstance({
        identifier: 'nightshift-verify-reporting-db-20261122',
        engine: 'postgres',
        tags: { 'nightshift:expires-at': new Date(w.now() + 60 * MIN).toISOString() },
      });
      await w.world.clock.advance(20 * MIN);
      const result = await w.tick();
      expect(result.ok).toBe(true);
      expect(actionsOf(result)).toEqual([
        {
          kind: 'delete-password',
          reason: 'orphaned one-time password: nightshift-verify-webhooks-db-20261101 is gone',
        },
      ]);
      expect(w.passwordParameters()).toEqual([kept]);
      expect(w.world.ssm.parameters.has('/app/url')).toBe(true);
      const audit = await w.audit();
      expect(JSON.stringify(audit)).not.toContain('orphaned-one-time-password');
    });
  });
});
