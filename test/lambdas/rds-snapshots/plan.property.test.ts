import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidIdentifier,
  SNAPSHOT_ID_LIMIT,
  snapshotIdentifier,
} from '../../../lambdas/rds-snapshots/identifiers.ts';
import {
  isNightshiftSnapshot,
  planSnapshots,
  type SnapshotObservation,
  type SnapshotView,
  TAG,
} from '../../../lambdas/rds-snapshots/plan.ts';

const NOW = Date.parse('2026-11-22T03:00:00Z');
const DAY = 86_400_000;
const databases = ['orders', 'billing', 'events', 'aurora-main', 'a'.repeat(60)];

const snapshot: fc.Arbitrary<SnapshotView> = fc
  .record({
    n: fc.nat(1_000_000),
    database: fc.constantFrom(...databases),
    kind: fc.constantFrom('instance' as const, 'cluster' as const),
    type: fc.constantFrom('manual' as const, 'manual' as const, 'automated' as const),
    status: fc.constantFrom('available', 'available', 'available', 'creating', 'deleting', 'failed'),
    ageDays: fc.integer({ min: -2, max: 500 }),
    prefixed: fc.boolean(),
    managed: fc.boolean(),
    expiry: fc.oneof(
      fc.integer({ min: -400, max: 400 }).map((d) => new Date(NOW + d * DAY).toISOString()),
      fc.constant('not a date'),
      fc.constant(undefined),
    ),
  })
  .map((r) => ({
    id: `${r.prefixed ? 'nightshift-' : 'manual-'}${r.database}-${r.n}`,
    kind: r.kind,
    database: r.database,
    type: r.type,
    status: r.status,
    createdAt: NOW - r.ageDays * DAY,
    tags: {
      ...(r.managed ? { [TAG.managed]: 'true' } : {}),
      ...(r.expiry === undefined ? {} : { [TAG.expiresAt]: r.expiry }),
    },
  }));

const observation: fc.Arbitrary<SnapshotObservation> = fc.record({
  now: fc.constant(NOW),
  // Identity only: the plan must be safe whatever the scheduled time says, near now or years off.
  scheduledAt: fc.oneof(
    fc.integer({ min: -8 * 3_600_000, max: 5 * 60_000 }).map((d) => NOW + d),
    fc.integer({ min: -800 * DAY, max: 800 * DAY }).map((d) => NOW + d),
  ),
  runId: fc.constant('run'),
  rules: fc.record({
    retention: fc.record({
      dailyDays: fc.integer({ min: 1, max: 35 }),
      weeklyWeeks: fc.integer({ min: 1, max: 10 }),
      monthlyMonths: fc.integer({ min: 1, max: 24 }),
    }),
    maxDeletionsPerRun: fc.integer({ min: 0, max: 15 }),
    quota: fc.record({
      instance: fc.integer({ min: 1, max: 120 }),
      cluster: fc.integer({ min: 1, max: 120 }),
    }),
  }),
  targets: fc.uniqueArray(
    fc.record({
      id: fc.constantFrom(...databases),
      kind: fc.constantFrom('instance' as const, 'cluster' as const),
    }),
    { selector: (t) => `${t.kind}:${t.id}`, maxLength: 8 },
  ),
  snapshots: fc.uniqueArray(snapshot, { selector: (s) => s.id, maxLength: 150 }),
});

describe('planSnapshots (property: thousands of random fleets)', () => {
  it('never breaks a safety rule', () => {
    fc.assert(
      fc.property(observation, (o) => {
        const plan = planSnapshots(o);
        const deleted = plan.deletes.map((d) => d.snapshot);
        for (const s of deleted) {
          // Only what Nightshift created, only available, only expired.
          expect(isNightshiftSnapshot(s)).toBe(true);
          expect(s.id.startsWith('nightshift-')).toBe(true);
          expect(s.tags[TAG.managed]).toBe('true');
          expect(s.status).toBe('available');
          expect(Date.parse(s.tags[TAG.expiresAt] ?? '')).toBeLessThanOrEqual(o.now);
          // Never the newest available snapshot of its database.
          const newest = o.snapshots
            .filter((x) => x.kind === s.kind && x.database === s.database && x.status === 'available')
            .reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
          expect(s.createdAt < newest.createdAt || s.id !== newest.id).toBe(true);
          expect(newest.createdAt).toBeGreaterThanOrEqual(s.createdAt);
          const survivors = o.snapshots.filter(
            (x) =>
              x.kind === s.kind &&
              x.database === s.database &&
              x.status === 'available' &&
              !deleted.includes(x),
          );
          expect(survivors.length).toBeGreaterThan(0);
        }
        expect(new Set(deleted.map((s) => s.id)).size).toBe(deleted.length);
        expect(deleted.length).toBeLessThanOrEqual(o.rules.maxDeletionsPerRun);

        // At most one snapshot per target, valid identifiers, never past the quota.
        // DB snapshots and cluster snapshots are separate namespaces in RDS.
        const ids = plan.creates.map((c) => `${c.target.kind}:${c.snapshotId}`);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(plan.creates.map((c) => `${c.target.kind}:${c.target.id}`)).size).toBe(
          plan.creates.length,
        );
        for (const c of plan.creates)
          expect(isValidIdentifier(c.snapshotId, SNAPSHOT_ID_LIMIT[c.target.kind])).toBe(true);
        for (const kind of ['instance', 'cluster'] as const) {
          const before = o.snapshots.filter((s) => s.type === 'manual' && s.kind === kind).length;
          const after =
            before -
            deleted.filter((s) => s.kind === kind).length +
            plan.creates.filter((c) => c.target.kind === kind).length;
          const created = plan.creates.some((c) => c.target.kind === kind);
          if (created) expect(after).toBeLessThanOrEqual(o.rules.quota[kind]);
        }
        // Every target either gets a snapshot or an alert saying why not.
        for (const t of o.targets) {
          const done = plan.creates.some((c) => c.target.id === t.id && c.target.kind === t.kind);
          const told = plan.alerts.some((a) => a.database === t.id && a.severity === 'critical');
          const alreadyTaken = o.snapshots.some(
            (s) => s.kind === t.kind && s.id === snapshotIdentifier(t.id, t.kind, o.scheduledAt),
          );
          expect(done || told || alreadyTaken).toBe(true);
        }
      }),
      { numRuns: 3000, seed: 20261122 },
    );
  });
});
