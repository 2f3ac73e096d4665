import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SnapshotView, TAG } from '#shared/rds-inventory';
import {
  isValidIdentifier,
  SNAPSHOT_ID_LIMIT,
  snapshotIdentifier,
} from '../../../lambdas/rds-snapshots/identifiers.ts';
import { planSnapshots, type SnapshotObservation } from '../../../lambdas/rds-snapshots/plan.ts';

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

const fleet = fc.record({
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
  // Targets whose snapshot of this run another delivery (or an earlier attempt) already took.
  taken: fc.array(fc.constantFrom(undefined, undefined, 'creating', 'available'), { maxLength: 8 }),
});

const observation: fc.Arbitrary<SnapshotObservation> = fleet.map(({ taken, ...o }) => ({
  ...o,
  snapshots: [
    ...o.snapshots,
    ...o.targets.flatMap((t, i): SnapshotView[] => {
      const status = taken[i];
      if (status === undefined) return [];
      return [
        {
          id: snapshotIdentifier(t.id, t.kind, o.scheduledAt),
          kind: t.kind,
          database: t.id,
          type: 'manual',
          status,
          createdAt: o.now - 60_000,
          tags: { [TAG.managed]: 'true', [TAG.runId]: o.runId },
        },
      ];
    }),
  ],
}));

/** `-yyyymmdd-hhmm` of a UTC instant, written here rather than taken from the planner's naming. */
const stampOf = (ms: number) => {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `-${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
};

describe('planSnapshots (property: thousands of random fleets)', () => {
  it('never breaks a safety rule', () => {
    fc.assert(
      fc.property(observation, (o) => {
        const plan = planSnapshots(o);
        const deleted = plan.deletes.map((d) => d.snapshot);
        for (const s of deleted) {
          // Only what Nightshift created (manual, prefix and tag), only available, only expired by now.
          expect(s.type).toBe('manual');
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
        // One snapshot per target per run: never a second one when this run's is already there.
        const thisRuns = (t: { id: string; kind: string }) =>
          o.snapshots.some(
            (s) =>
              s.kind === t.kind &&
              s.database === t.id &&
              s.id.startsWith('nightshift-') &&
              s.id.endsWith(stampOf(o.scheduledAt)),
          );
        for (const c of plan.creates) {
          expect(thisRuns(c.target)).toBe(false);
          expect(o.snapshots.some((s) => s.kind === c.target.kind && s.id === c.snapshotId)).toBe(false);
          // Named by the scheduled time; kept from the real now for at least the shortest retention.
          expect(c.snapshotId.endsWith(stampOf(o.scheduledAt))).toBe(true);
          expect(Date.parse(c.tags[TAG.expiresAt] ?? '')).toBeGreaterThanOrEqual(o.now + DAY);
        }
        // Every target either gets a snapshot, has this run's already, or gets an alert saying why not.
        for (const t of o.targets) {
          const done = plan.creates.some((c) => c.target.id === t.id && c.target.kind === t.kind);
          const told = plan.alerts.some((a) => a.database === t.id && a.severity === 'critical');
          expect(done || told || thisRuns(t)).toBe(true);
        }
      }),
      { numRuns: 3000, seed: 20261122 },
    );
  });
});
