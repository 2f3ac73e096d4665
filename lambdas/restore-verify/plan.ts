import { VERIFY_PREFIX, verifyInstanceId } from './identifiers.ts';

/** A verification in progress or finished, as the state table keeps it. */
export interface VerificationRecord {
  readonly database: string;
  /** A DB instance, or an Aurora cluster (restored as a cluster plus one small instance). @default 'instance' */
  readonly kind?: 'instance' | 'cluster';
  readonly snapshotId: string;
  /** When the snapshot was taken: the freshness checks are relative to it. */
  readonly snapshotTime: number;
  readonly instanceId: string;
  readonly requestedAt: number;
  /**
   * `restoring` until the copy is available; `resetting` once its master password was set to a one-time
   * value (RDS applies it asynchronously); then `verified` or `failed`.
   */
  readonly state: 'restoring' | 'resetting' | 'verified' | 'failed';
  /** When the one-time password was requested. */
  readonly resetAt?: number;
  /** When the copy first answered as available: request to usable is the restore's duration. */
  readonly availableAt?: number;
  readonly reason?: string;
}

/** A temporary `nightshift-verify-*` instance as RDS shows it. */
export interface VerifyInstanceView {
  readonly id: string;
  /** `creating`, `available`, `failed`, `deleting`, … */
  readonly status: string;
  /** From its `nightshift:expires-at` tag; undefined when absent or unreadable. */
  readonly expiresAt?: number;
}

/** The newest available Nightshift snapshot of a target database. */
export interface SnapshotToVerify {
  readonly database: string;
  readonly kind?: 'instance' | 'cluster';
  readonly snapshotId: string;
  readonly createdAt: number;
}

export interface VerifyRules {
  /** A restore not available after this long fails the verification. */
  readonly restoreTimeoutMs: number;
  /** A temporary instance is tagged to expire this long after its request; the janitor removes it then. */
  readonly instanceTtlMs: number;
}

export interface VerifyObservation {
  readonly now: number;
  /**
   * When the verification schedule last came due (e.g. last Sunday 05:00): a target with no verification
   * requested since is due. Every tick reconciles; none waits.
   */
  readonly dueSince: number;
  readonly rules: VerifyRules;
  readonly targets: readonly string[];
  readonly snapshots: readonly SnapshotToVerify[];
  readonly records: readonly VerificationRecord[];
  readonly instances: readonly VerifyInstanceView[];
}

export type VerifyAction =
  | {
      readonly kind: 'restore';
      readonly database: string;
      readonly databaseKind: 'instance' | 'cluster';
      readonly snapshotId: string;
      readonly snapshotTime: number;
      readonly instanceId: string;
      readonly expiresAt: number;
      readonly reason: string;
    }
  | { readonly kind: 'reset-password'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'check'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'fail'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'no-snapshot'; readonly database: string; readonly reason: string }
  | { readonly kind: 'delete-instance'; readonly instanceId: string; readonly reason: string };

const gone = (status: string | undefined) => status === undefined || status === 'deleting';

/**
 * One reconcile step of restore verification: a pure function from what is observed to what to do next.
 * Long waits are never spent in a Lambda: a restore is requested, later ticks see it available and check it,
 * and every temporary instance is deleted once it has a verdict — or by the janitor once its expiry passed.
 */
export function planVerification(o: VerifyObservation): VerifyAction[] {
  const actions: VerifyAction[] = [];
  const active = o.records.filter((r) => r.state === 'restoring' || r.state === 'resetting');
  const byId = new Map(o.instances.map((i) => [i.id, i]));
  for (const database of o.targets) {
    if (active.some((r) => r.database === database)) continue;
    if (o.records.some((r) => r.database === database && r.requestedAt >= o.dueSince)) continue;
    const snapshot = o.snapshots.find((s) => s.database === database);
    if (!snapshot) {
      actions.push({
        kind: 'no-snapshot',
        database,
        reason: `no available Nightshift snapshot of ${database} to verify`,
      });
      continue;
    }
    const instanceId = verifyInstanceId(database, o.now);
    actions.push({
      kind: 'restore',
      database,
      databaseKind: snapshot.kind ?? 'instance',
      snapshotId: snapshot.snapshotId,
      snapshotTime: snapshot.createdAt,
      instanceId,
      expiresAt: o.now + o.rules.instanceTtlMs,
      reason: `restore ${snapshot.snapshotId} into ${instanceId} to prove it restores`,
    });
  }

  for (const record of active) {
    const instance = byId.get(record.instanceId);
    const waited = o.now - record.requestedAt;
    if (waited > o.rules.instanceTtlMs) {
      // Whatever step it is stuck at, a verification ends with its copy's time to live.
      actions.push({
        kind: 'fail',
        record,
        reason: `verification of ${record.snapshotId} did not finish within ${Math.round(o.rules.instanceTtlMs / 3_600_000)} hours`,
      });
    } else if (instance?.status === 'available' && record.state === 'restoring') {
      actions.push({
        kind: 'reset-password',
        record,
        reason: `${record.instanceId} is available: set a one-time master password`,
      });
    } else if (instance?.status === 'available' && record.state === 'resetting') {
      actions.push({
        kind: 'check',
        record,
        reason: `${record.instanceId} has its one-time password: run the checks`,
      });
    } else if (instance?.status === 'failed' || instance?.status === 'incompatible-restore') {
      actions.push({
        kind: 'fail',
        record,
        reason: `restore of ${record.snapshotId} ended ${instance.status}`,
      });
    } else if (gone(instance?.status) && waited > 5 * 60_000) {
      actions.push({
        kind: 'fail',
        record,
        reason: `${record.instanceId} disappeared before it was verified`,
      });
    } else if (waited > o.rules.restoreTimeoutMs) {
      actions.push({
        kind: 'fail',
        record,
        reason: `restore of ${record.snapshotId} not available after ${Math.round(waited / 60_000)} minutes`,
      });
    }
  }

  // Every temporary instance goes: once its verification has a verdict, or (the janitor) once it expired.
  const restoring = new Set(active.map((r) => r.instanceId));
  const failing = new Set(
    actions.filter((a) => a.kind === 'fail').map((a) => (a.kind === 'fail' ? a.record.instanceId : '')),
  );
  for (const instance of o.instances) {
    if (!instance.id.startsWith(VERIFY_PREFIX) || gone(instance.status)) continue;
    const record = o.records.find((r) => r.instanceId === instance.id);
    if (failing.has(instance.id)) {
      actions.push({ kind: 'delete-instance', instanceId: instance.id, reason: 'its verification failed' });
    } else if (record && (record.state === 'verified' || record.state === 'failed')) {
      actions.push({
        kind: 'delete-instance',
        instanceId: instance.id,
        reason: `its verification is done (${record.state})`,
      });
    } else if (
      !restoring.has(instance.id) &&
      instance.expiresAt !== undefined &&
      instance.expiresAt <= o.now
    ) {
      actions.push({
        kind: 'delete-instance',
        instanceId: instance.id,
        reason: 'orphaned temporary instance past its expiry',
      });
    }
  }
  return actions;
}
