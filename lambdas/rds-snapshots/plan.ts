import {
  type DatabaseKind,
  isNightshiftSnapshot,
  type SnapshotView,
  TAG,
  type Target,
} from '#shared/rds-inventory';
import { addMonths, DAY_MS, sameIsoWeek, sameMonth } from './calendar.ts';
import { snapshotIdentifier } from './identifiers.ts';

export const tiers = ['daily', 'weekly', 'monthly'] as const;
export type Tier = (typeof tiers)[number];

/** Retention per tier. */
export interface RetentionPolicy {
  readonly dailyDays: number;
  readonly weeklyWeeks: number;
  readonly monthlyMonths: number;
}

export interface SnapshotRules {
  readonly retention: RetentionPolicy;
  /** At most this many deletions per run. */
  readonly maxDeletionsPerRun: number;
  /** The Region's manual snapshot quotas, separately for DB snapshots and DB cluster snapshots. */
  readonly quota: Readonly<Record<DatabaseKind, number>>;
}

export interface SnapshotObservation {
  /** The real clock: what has expired, tiers, expiries and the quota are judged by it. */
  readonly now: number;
  /**
   * The run's scheduled time, identity only: it names the run's snapshots (so a retry or a second delivery of
   * the same run takes no second one). Never stands in for {@link now}.
   */
  readonly scheduledAt: number;
  readonly runId: string;
  readonly rules: SnapshotRules;
  readonly targets: readonly Target[];
  /** Every manual and automated snapshot of the Region (both kinds), paginated to the end. */
  readonly snapshots: readonly SnapshotView[];
}

export interface CreateAction {
  readonly target: Target;
  readonly snapshotId: string;
  readonly tier: Tier;
  readonly expiresAt: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly reason: string;
}

export interface DeleteAction {
  readonly snapshot: SnapshotView;
  readonly reason: string;
}

/** Something a human must hear about: a skipped snapshot, a quota about to bind. */
export interface SnapshotAlert {
  readonly severity: 'critical' | 'warning';
  /** What the alert is about, stable across retries of the run: `<kind>#<id>`, `quota#<kind>`, `missing#<id>`. */
  readonly subject: string;
  readonly database?: string;
  readonly reason: string;
}

export interface SnapshotPlan {
  readonly deletes: readonly DeleteAction[];
  readonly creates: readonly CreateAction[];
  /** Expired snapshots kept, and why (newest of its database, not available, over the cap). */
  readonly kept: readonly DeleteAction[];
  readonly alerts: readonly SnapshotAlert[];
}

/**
 * Promotion, not duplication: one snapshot per run carrying its highest tier — monthly on the first run of a
 * UTC month, weekly on the first run of an ISO week, daily otherwise — judged by the database's Nightshift
 * snapshots (any tier, any status but failed).
 */
export function chooseTier(now: number, previous: readonly SnapshotView[]): Tier {
  const taken = previous.filter((s) => s.status !== 'failed');
  if (!taken.some((s) => sameMonth(s.createdAt, now))) return 'monthly';
  if (!taken.some((s) => sameIsoWeek(s.createdAt, now))) return 'weekly';
  return 'daily';
}

/**
 * Expiry is set from the real clock at creation, so a run delivered a few seconds earlier in its slot than
 * the run a retention period before would otherwise prune that snapshot one run late (7 dailies instead of
 * 6). A snapshot due within this much of now is pruned by this run.
 */
export const PRUNE_JITTER_MS = 15 * 60_000;

export function expiryOf(tier: Tier, createdAt: number, retention: RetentionPolicy): number {
  if (tier === 'daily') return createdAt + retention.dailyDays * DAY_MS;
  if (tier === 'weekly') return createdAt + retention.weeklyWeeks * 7 * DAY_MS;
  return addMonths(createdAt, retention.monthlyMonths);
}

/** The expiry a snapshot's tag states, or undefined when it has none Nightshift can read. */
export function expiryTag(s: SnapshotView): number | undefined {
  const raw = s.tags[TAG.expiresAt];
  const ms = raw === undefined ? Number.NaN : Date.parse(raw);
  return Number.isNaN(ms) ? undefined : ms;
}

const key = (kind: DatabaseKind, database: string) => `${kind}:${database}`;

/**
 * Plans one snapshot run: prune what expired, then one snapshot per target, within the quota. Expiry,
 * pruning, tiers and the quota follow `now`; only the snapshots' names follow `scheduledAt`.
 *
 * Never deletes a snapshot Nightshift did not create, the newest available snapshot of a database (nor its
 * newest available Nightshift snapshot), or one that is not `available`; at most `maxDeletionsPerRun`.
 * A create that would take the Region past its manual-snapshot quota is skipped with a critical alert.
 */
export function planSnapshots(o: SnapshotObservation): SnapshotPlan {
  const { now, rules } = o;
  const byDatabase = new Map<string, SnapshotView[]>();
  for (const s of o.snapshots) {
    const k = key(s.kind, s.database);
    byDatabase.set(k, [...(byDatabase.get(k) ?? []), s]);
  }
  const newest = (list: readonly SnapshotView[]) =>
    list
      .filter((s) => s.status === 'available')
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))[0];
  const protectedIds = new Set<string>();
  for (const list of byDatabase.values()) {
    const overall = newest(list);
    const own = newest(list.filter(isNightshiftSnapshot));
    if (overall) protectedIds.add(overall.id);
    if (own) protectedIds.add(own.id);
  }

  const deletes: DeleteAction[] = [];
  const kept: DeleteAction[] = [];
  const expired = o.snapshots
    .filter(isNightshiftSnapshot)
    .map((s) => ({ s, expiresAt: expiryTag(s) }))
    .filter(
      (x): x is { s: SnapshotView; expiresAt: number } =>
        x.expiresAt !== undefined && x.expiresAt <= now + PRUNE_JITTER_MS,
    )
    .sort((a, b) => a.expiresAt - b.expiresAt || (a.s.id < b.s.id ? -1 : 1));
  for (const { s, expiresAt } of expired) {
    const expiredFor = `expired ${new Date(expiresAt).toISOString()} (${s.tags[TAG.tier] ?? 'unknown'} tier)`;
    if (s.status !== 'available') kept.push({ snapshot: s, reason: `${expiredFor}, but it is ${s.status}` });
    else if (protectedIds.has(s.id))
      kept.push({
        snapshot: s,
        reason: `${expiredFor}, but it is the newest available snapshot of ${s.database}`,
      });
    else if (deletes.length >= rules.maxDeletionsPerRun)
      kept.push({
        snapshot: s,
        reason: `${expiredFor}; over this run's cap of ${rules.maxDeletionsPerRun} deletions`,
      });
    else deletes.push({ snapshot: s, reason: expiredFor });
  }

  const alerts: SnapshotAlert[] = [];
  const creates: CreateAction[] = [];
  const manualCount: Record<DatabaseKind, number> = { instance: 0, cluster: 0 };
  for (const s of o.snapshots) if (s.type === 'manual') manualCount[s.kind] += 1;
  for (const d of deletes) manualCount[d.snapshot.kind] -= 1;

  for (const target of [...o.targets].sort((a, b) => (key(a.kind, a.id) < key(b.kind, b.id) ? -1 : 1))) {
    const previous = (byDatabase.get(key(target.kind, target.id)) ?? []).filter(isNightshiftSnapshot);
    // A retry of this run finds this run's snapshot already taken: nothing to create, no quota to spend.
    const snapshotId = snapshotIdentifier(target.id, target.kind, o.scheduledAt);
    if (previous.some((s) => s.id === snapshotId)) continue;
    const quota = rules.quota[target.kind];
    if (manualCount[target.kind] + 1 > quota) {
      alerts.push({
        severity: 'critical',
        subject: `${target.kind}#${target.id}`,
        database: target.id,
        reason: `no snapshot of ${target.id}: the Region's ${manualCount[target.kind]} manual ${target.kind === 'cluster' ? 'cluster ' : ''}snapshots (after pruning) leave no room under the quota of ${quota}; raise the quota, shorten a tier, or copy a tier to another Region`,
      });
      continue;
    }
    manualCount[target.kind] += 1;
    const tier = chooseTier(now, previous);
    const expiresAt = expiryOf(tier, now, rules.retention);
    creates.push({
      target,
      snapshotId,
      tier,
      expiresAt,
      reason: `${tier} snapshot of ${target.id}, kept until ${new Date(expiresAt).toISOString().slice(0, 10)}`,
      tags: {
        [TAG.managed]: 'true',
        [TAG.tier]: tier,
        [TAG.expiresAt]: new Date(expiresAt).toISOString(),
        [TAG.source]: target.id,
        [TAG.runId]: o.runId,
      },
    });
  }
  for (const kind of ['instance', 'cluster'] as const) {
    const quota = rules.quota[kind];
    if (manualCount[kind] >= quota * 0.9 && manualCount[kind] <= quota) {
      alerts.push({
        severity: 'warning',
        subject: `quota#${kind}`,
        reason: `${manualCount[kind]} of ${quota} manual ${kind} snapshots in use after this run`,
      });
    }
  }
  return { deletes, creates, kept, alerts };
}
