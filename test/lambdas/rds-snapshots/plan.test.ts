import { describe, expect, it } from 'vitest';
import { type SnapshotView, TAG } from '#shared/rds-inventory';
import { addMonths, isoWeek } from '../../../lambdas/rds-snapshots/calendar.ts';
import {
  isValidIdentifier,
  SNAPSHOT_ID_LIMIT,
  snapshotIdentifier,
} from '../../../lambdas/rds-snapshots/identifiers.ts';
import {
  chooseTier,
  expiryOf,
  planSnapshots,
  type SnapshotRules,
  type Tier,
} from '../../../lambdas/rds-snapshots/plan.ts';

const at = (iso: string) => Date.parse(iso);
const retention = { dailyDays: 7, weeklyWeeks: 5, monthlyMonths: 12 };
const rules: SnapshotRules = { retention, maxDeletionsPerRun: 20, quota: { instance: 100, cluster: 100 } };

function ours(database: string, iso: string, tier: Tier, extra: Partial<SnapshotView> = {}): SnapshotView {
  const createdAt = at(iso);
  return {
    id: snapshotIdentifier(database, 'instance', createdAt),
    kind: 'instance',
    database,
    type: 'manual',
    status: 'available',
    createdAt,
    tags: {
      [TAG.managed]: 'true',
      [TAG.tier]: tier,
      [TAG.expiresAt]: new Date(expiryOf(tier, createdAt, retention)).toISOString(),
      [TAG.source]: database,
    },
    ...extra,
  };
}

describe('calendar', () => {
  it.each([
    ['2026-01-01T00:00:00Z', 2026, 1],
    ['2026-12-31T23:00:00Z', 2026, 53],
    ['2027-01-01T03:00:00Z', 2026, 53],
    ['2027-01-04T03:00:00Z', 2027, 1],
    ['2024-12-30T03:00:00Z', 2025, 1],
  ])('puts %s in ISO week %i-W%i', (iso, year, week) => {
    expect(isoWeek(at(iso))).toEqual({ year, week });
  });

  it.each([
    ['2027-01-31T03:00:00Z', 1, '2027-02-28T03:00:00.000Z'],
    ['2028-01-31T03:00:00Z', 1, '2028-02-29T03:00:00.000Z'],
    ['2026-12-15T03:00:00Z', 12, '2027-12-15T03:00:00.000Z'],
    ['2026-11-30T03:00:00Z', 3, '2027-02-28T03:00:00.000Z'],
  ])('adds calendar months to %s (+%i) clamping the day', (iso, months, expected) => {
    expect(new Date(addMonths(at(iso), months)).toISOString()).toBe(expected);
  });
});

describe('chooseTier', () => {
  describe.each<[string, string, [string, Tier][], Tier]>([
    ['the first run ever', '2026-11-18T03:00:00Z', [], 'monthly'],
    [
      'a later run in the same month and ISO week',
      '2026-11-18T03:00:00Z',
      [['2026-11-17T03:00:00Z', 'daily']],
      'daily',
    ],
    [
      'the first run of a new ISO week, same month',
      '2026-11-23T03:00:00Z',
      [['2026-11-22T03:00:00Z', 'daily']],
      'weekly',
    ],
    [
      'the first run of a month, in the middle of an ISO week',
      '2026-12-01T03:00:00Z',
      [['2026-11-30T03:00:00Z', 'weekly']],
      'monthly',
    ],
    [
      'the first run of the year, inside ISO week 53 of the year before',
      '2027-01-01T03:00:00Z',
      [['2026-12-31T03:00:00Z', 'daily']],
      'monthly',
    ],
    [
      'the first run of ISO week 1 after a year-end',
      '2027-01-04T03:00:00Z',
      [
        ['2027-01-03T03:00:00Z', 'daily'],
        ['2027-01-01T03:00:00Z', 'monthly'],
      ],
      'weekly',
    ],
    [
      "the day after the year's first run",
      '2027-01-02T03:00:00Z',
      [['2027-01-01T03:00:00Z', 'monthly']],
      'daily',
    ],
    ['a run after a failed first run of the month', '2026-12-02T03:00:00Z', [], 'monthly'],
  ])('for %s', (_when, now, previous, expected) => {
    it(`is ${expected}`, () => {
      expect(
        chooseTier(
          at(now),
          previous.map(([iso, tier]) => ours('orders', iso, tier)),
        ),
      ).toBe(expected);
    });
  });
});

describe('expiryOf', () => {
  it.each<[Tier, string, string]>([
    ['daily', '2026-12-29T03:00:00Z', '2027-01-05T03:00:00.000Z'],
    ['weekly', '2026-12-28T03:00:00Z', '2027-02-01T03:00:00.000Z'],
    ['monthly', '2027-01-31T03:00:00Z', '2028-01-31T03:00:00.000Z'],
    ['monthly', '2028-02-29T03:00:00Z', '2029-02-28T03:00:00.000Z'],
  ])('keeps a %s snapshot of %s until %s', (tier, created, expected) => {
    expect(new Date(expiryOf(tier, at(created), retention)).toISOString()).toBe(expected);
  });
});

describe('snapshotIdentifier', () => {
  it('names a snapshot by prefix, database and minute', () => {
    expect(snapshotIdentifier('orders-db', 'instance', at('2026-11-22T03:00:42Z'))).toBe(
      'nightshift-orders-db-20261122-0300',
    );
  });

  it.each([
    ['instance', 'a'.repeat(250)],
    ['cluster', 'aurora-cluster-with-a-long-name-for-the-webhook-service'],
    ['cluster', `${'x'.repeat(40)}-y`],
  ] as const)('shortens a %s snapshot name with a hash to fit the limit and stay valid', (kind, database) => {
    const id = snapshotIdentifier(database, kind, at('2026-11-22T03:00:00Z'));
    expect(id.length).toBeLessThanOrEqual(SNAPSHOT_ID_LIMIT[kind]);
    expect(isValidIdentifier(id, SNAPSHOT_ID_LIMIT[kind])).toBe(true);
    expect(id).not.toBe(snapshotIdentifier(`${database}z`, kind, at('2026-11-22T03:00:00Z')));
  });
});

describe('planSnapshots', () => {
  const now = at('2026-11-22T03:00:00Z');
  const target = { id: 'orders', kind: 'instance' as const };

  it('prunes what expired, keeps the newest, and takes one snapshot per target', () => {
    const old = ours('orders', '2026-11-10T03:00:00Z', 'daily');
    const recent = ours('orders', '2026-11-21T03:00:00Z', 'daily');
    const plan = planSnapshots({
      now,
      scheduledAt: now,
      runId: 'r',
      rules,
      targets: [target],
      snapshots: [old, recent],
    });
    expect(plan.deletes.map((d) => d.snapshot.id)).toEqual([old.id]);
    expect(plan.creates).toHaveLength(1);
    expect(plan.creates[0]).toMatchObject({ tier: 'daily', snapshotId: 'nightshift-orders-20261122-0300' });
  });

  it('never deletes a snapshot Nightshift did not create, even with its tags or its prefix', () => {
    const tagsOnly = { ...ours('orders', '2026-10-01T03:00:00Z', 'daily'), id: 'manual-before-upgrade' };
    const prefixOnly = {
      ...ours('orders', '2026-10-01T03:00:00Z', 'daily'),
      id: 'nightshift-orders-x',
      tags: {},
    };
    const plan = planSnapshots({
      now,
      scheduledAt: now,
      runId: 'r',
      rules,
      targets: [],
      snapshots: [tagsOnly, prefixOnly, ours('orders', '2026-11-21T03:00:00Z', 'daily')],
    });
    expect(plan.deletes).toEqual([]);
  });

  it('prunes a daily snapshot made a few seconds later in its slot a retention period ago (delivery jitter)', () => {
    // Made at 03:00:20 last week, expiring at 03:00:20 today; today's run is delivered at 03:00:05.
    const now = at('2026-11-22T03:00:05Z');
    const lastWeek = ours('orders', '2026-11-15T03:00:20Z', 'daily');
    const newer = ours('orders', '2026-11-21T03:00:00Z', 'daily');
    const plan = planSnapshots({
      now,
      scheduledAt: at('2026-11-22T03:00:00Z'),
      runId: 'r',
      rules,
      targets: [target],
      snapshots: [lastWeek, newer],
    });
    expect(plan.deletes.map((d) => d.snapshot.id)).toEqual([lastWeek.id]);
  });

  describe('keeps the newest', () => {
    const ids = (list: readonly { snapshot: SnapshotView }[]) => list.map((x) => x.snapshot.id).sort();

    it('keeps the newest available snapshot of each database when all of them expired, deletes the rest', () => {
      // Three expired monthlies of a deleted database, two of another: only the newest of each survives.
      const gone = ['2025-01-01', '2025-02-01', '2025-03-01'].map((d) =>
        ours('gone-db', `${d}T03:00:00Z`, 'monthly'),
      );
      const old = ['2025-04-01', '2025-05-01'].map((d) => ours('old-db', `${d}T03:00:00Z`, 'monthly'));
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [],
        // Newest first in the listing, so the order seen is not what decides.
        snapshots: [...gone, ...old].reverse(),
      });
      expect(ids(plan.deletes)).toEqual([gone[0]?.id, gone[1]?.id, old[0]?.id].sort());
      expect(ids(plan.kept)).toEqual([gone[2]?.id, old[1]?.id].sort());
      expect(plan.kept.find((k) => k.snapshot.id === gone[2]?.id)?.reason).toContain(
        'newest available snapshot of gone-db',
      );
    });

    it('keeps the newest available one when a newer one is still being created', () => {
      const expired = ours('orders', '2026-11-01T03:00:00Z', 'daily');
      const newestAvailable = ours('orders', '2026-11-02T03:00:00Z', 'daily');
      const creating = ours('orders', '2026-11-21T03:00:00Z', 'daily', { status: 'creating' });
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [],
        snapshots: [expired, newestAvailable, creating],
      });
      expect(ids(plan.deletes)).toEqual([expired.id]);
      expect(ids(plan.kept)).toEqual([newestAvailable.id]);
    });

    it("keeps a database's newest Nightshift snapshot even when a newer hand-made one exists", () => {
      const expired = ours('orders', '2026-11-01T03:00:00Z', 'daily');
      const newestOwn = ours('orders', '2026-11-02T03:00:00Z', 'daily');
      const handMade: SnapshotView = {
        ...ours('orders', '2026-11-20T03:00:00Z', 'daily'),
        id: 'before-upgrade',
        tags: {},
      };
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [],
        snapshots: [expired, newestOwn, handMade],
      });
      expect(ids(plan.deletes)).toEqual([expired.id]);
      expect(ids(plan.kept)).toEqual([newestOwn.id]);
    });

    it('judges the newest per database and kind: an instance and a cluster of one name are two databases', () => {
      const instance = ['2025-01-01', '2025-02-01'].map((d) => ours('main', `${d}T03:00:00Z`, 'monthly'));
      const cluster = ['2025-03-01', '2025-04-01'].map((d) => ({
        ...ours('main', `${d}T03:00:00Z`, 'monthly'),
        kind: 'cluster' as const,
      }));
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [],
        snapshots: [...instance, ...cluster],
      });
      expect(plan.deletes.map((d) => `${d.snapshot.kind}:${d.snapshot.id}`).sort()).toEqual(
        [`instance:${instance[0]?.id}`, `cluster:${cluster[0]?.id}`].sort(),
      );
    });
  });

  it('keeps an expired snapshot that is not available', () => {
    const creating = ours('orders', '2026-11-01T03:00:00Z', 'daily', { status: 'creating' });
    const plan = planSnapshots({
      now,
      scheduledAt: now,
      runId: 'r',
      rules,
      targets: [],
      snapshots: [creating, ours('orders', '2026-11-21T03:00:00Z', 'daily')],
    });
    expect(plan.deletes).toEqual([]);
    expect(plan.kept[0]?.reason).toContain('but it is creating');
  });

  it('caps deletions per run, oldest first', () => {
    const snapshots = Array.from({ length: 30 }, (_, i) =>
      ours('orders', new Date(at('2026-10-01T03:00:00Z') + i * 3_600_000).toISOString(), 'daily'),
    );
    const plan = planSnapshots({
      now,
      scheduledAt: now,
      runId: 'r',
      rules: { ...rules, maxDeletionsPerRun: 5 },
      targets: [],
      snapshots,
    });
    expect(plan.deletes).toHaveLength(5);
    expect(plan.deletes[0]?.snapshot.id).toBe(snapshots[0]?.id);
    expect(plan.kept.filter((k) => k.reason.includes('cap of 5'))).toHaveLength(24);
  });

  describe('the real clock and the scheduled time', () => {
    it('names the snapshot from the scheduled time, and prunes and sets expiry from now', () => {
      // Delivered 4 minutes late: one snapshot expired in between, judged by the real clock.
      const scheduledAt = at('2026-11-22T03:00:00Z');
      const late = at('2026-11-22T03:04:00Z');
      const expiredInBetween = {
        ...ours('orders', '2026-11-15T03:02:00Z', 'daily'),
        tags: {
          ...ours('orders', '2026-11-15T03:02:00Z', 'daily').tags,
          [TAG.expiresAt]: '2026-11-22T03:02:00.000Z',
        },
      };
      const recent = ours('orders', '2026-11-21T03:00:00Z', 'daily');
      const plan = planSnapshots({
        now: late,
        scheduledAt,
        runId: 'r',
        rules,
        targets: [target],
        snapshots: [expiredInBetween, recent],
      });
      expect(plan.deletes.map((d) => d.snapshot.id)).toEqual([expiredInBetween.id]);
      expect(plan.creates).toHaveLength(1);
      expect(plan.creates[0]).toMatchObject({
        snapshotId: 'nightshift-orders-20261122-0300',
        expiresAt: late + 7 * 86_400_000,
      });
    });

    it('deletes nothing a scheduled time in 2099 would call expired, and tiers by now', () => {
      const expiresNextYear = ours('orders', '2026-11-01T03:00:00Z', 'monthly');
      const recent = ours('orders', '2026-11-21T03:00:00Z', 'daily');
      const plan = planSnapshots({
        now,
        scheduledAt: at('2099-01-01T03:00:00Z'),
        runId: 'r',
        rules,
        targets: [target],
        snapshots: [expiresNextYear, recent],
      });
      expect(plan.deletes).toEqual([]);
      expect(plan.kept).toEqual([]);
      // November already has a monthly and this ISO week a daily: by now the tier is daily, not 2099's monthly.
      expect(plan.creates[0]).toMatchObject({
        tier: 'daily',
        snapshotId: 'nightshift-orders-20990101-0300',
        expiresAt: now + 7 * 86_400_000,
      });
    });

    it('chooses the tier of the month the real clock is in when a delivery crosses midnight', () => {
      const plan = planSnapshots({
        now: at('2026-12-01T00:01:00Z'),
        scheduledAt: at('2026-11-30T23:59:00Z'),
        runId: 'r',
        rules,
        targets: [target],
        snapshots: [ours('orders', '2026-11-29T23:59:00Z', 'daily')],
      });
      expect(plan.creates[0]).toMatchObject({
        tier: 'monthly',
        snapshotId: 'nightshift-orders-20261130-2359',
      });
    });

    it('recognises a second delivery of the same run by the scheduled name, whatever now is', () => {
      const scheduledAt = at('2026-11-22T03:00:00Z');
      const taken = ours('orders', '2026-11-22T03:00:00Z', 'daily', { status: 'creating' });
      const plan = planSnapshots({
        now: scheduledAt + 9 * 60_000,
        scheduledAt,
        runId: 'r',
        rules,
        targets: [target],
        snapshots: [taken],
      });
      expect(plan.creates).toEqual([]);
    });
  });

  describe('quota', () => {
    const foreign = (i: number): SnapshotView => ({
      id: `manual-${i}`,
      kind: 'instance',
      database: `db${i % 7}`,
      type: 'manual',
      status: 'available',
      createdAt: now - i * 1000,
      tags: {},
    });

    it('snapshots when pruning makes room at 99 of 100', () => {
      const expired = ours('orders', '2026-11-01T03:00:00Z', 'daily');
      const snapshots = [
        ...Array.from({ length: 97 }, (_, i) => foreign(i)),
        expired,
        ours('orders', '2026-11-21T03:00:00Z', 'daily'),
      ];
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [target, { id: 'billing', kind: 'instance' }],
        snapshots,
      });
      expect(snapshots.filter((s) => s.type === 'manual')).toHaveLength(99);
      expect(plan.deletes).toHaveLength(1);
      expect(plan.creates).toHaveLength(2);
      expect(plan.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    });

    it('skips and alerts, without failing, when pruning cannot make room', () => {
      const snapshots = Array.from({ length: 99 }, (_, i) => foreign(i));
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [target, { id: 'billing', kind: 'instance' }],
        snapshots,
      });
      expect(plan.creates.map((c) => c.target.id)).toEqual(['billing']);
      expect(plan.alerts).toContainEqual(
        expect.objectContaining({
          severity: 'critical',
          subject: `${target.kind}#orders`,
          database: 'orders',
          reason: expect.stringContaining('quota of 100'),
        }),
      );
      // Each alert names its own subject (its event's key): a quota warning per kind, a skip per target.
      const subjects = plan.alerts.map((a) => a.subject);
      expect(new Set(subjects).size).toBe(subjects.length);
      expect(subjects).toContain('quota#instance');
    });

    it('plans nothing, and alerts nothing, for a target whose snapshot this run already took (a retry)', () => {
      const taken = ours('orders', '2026-11-22T03:00:00Z', 'daily', { status: 'creating' });
      const snapshots = [...Array.from({ length: 99 }, (_, i) => foreign(i)), taken];
      const plan = planSnapshots({ now, scheduledAt: now, runId: 'r', rules, targets: [target], snapshots });
      expect(plan.creates).toEqual([]);
      expect(plan.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    });

    it('counts cluster snapshots against their own quota', () => {
      const snapshots = Array.from({ length: 100 }, (_, i) => foreign(i));
      const plan = planSnapshots({
        now,
        scheduledAt: now,
        runId: 'r',
        rules,
        targets: [{ id: 'aurora', kind: 'cluster' }],
        snapshots,
      });
      expect(plan.creates).toHaveLength(1);
    });
  });
});
