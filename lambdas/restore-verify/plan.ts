import type { DatabaseKind } from '#shared/rds-inventory';
import { VERIFY_PREFIX, verifyCopyId } from './identifiers.ts';

export type { DatabaseKind };

/** A verification in progress or finished, as the state table keeps it (keyed by kind and copy). */
export interface VerificationRecord {
  /** The database verified: a DB instance, or an Aurora cluster (restored as a cluster plus one instance). */
  readonly database: string;
  readonly kind: DatabaseKind;
  readonly snapshotId: string;
  /** When the snapshot was taken: the freshness checks are relative to it. */
  readonly snapshotTime: number;
  /** The temporary copy (of the same kind as the database) it restores into. */
  readonly copyId: string;
  readonly requestedAt: number;
  /**
   * `starting` until RDS has accepted every restore request (a throttled or lost request is made again);
   * `restoring` until the copy is available; `resetting` once its one-time master password is stored and set
   * (RDS applies it asynchronously); then `verified` or `failed`.
   */
  readonly state: 'starting' | 'restoring' | 'resetting' | 'verified' | 'failed';
  /** When the one-time password was requested. */
  readonly resetAt?: number;
  /** When the copy first answered as available: request to usable is the restore's duration. */
  readonly availableAt?: number;
  readonly reason?: string;
}

/** A database the snapshots are taken of, and so verified. */
export interface VerifyTarget {
  readonly id: string;
  readonly kind: DatabaseKind;
}

/** A temporary `nightshift-verify-*` copy (a DB instance, or an Aurora cluster) as RDS shows it. */
export interface CopyView {
  readonly id: string;
  readonly kind: DatabaseKind;
  /** `creating`, `available`, `failed`, `deleting`, … */
  readonly status: string;
  /** From its `nightshift:expires-at` tag; undefined when absent or unreadable. */
  readonly expiresAt?: number;
  /**
   * Whether it carries `nightshift:managed=true`, as every copy Nightshift makes does. Only such a copy is
   * Nightshift's to remove as an orphan (IAM lets the function modify and delete no other).
   */
  readonly managed: boolean;
}

/** A one-time password parameter in SSM (its name only: the value is never read to plan). */
export interface PasswordView {
  /** The copy it belongs to: the parameter is `/nightshift/restore-verify/<copyId>`. */
  readonly copyId: string;
  readonly lastModified: number;
}

/**
 * How long a password parameter without a copy is left alone before the janitor deletes it: longer than a
 * tick runs, so a parameter written while another tick listed the copies is never taken for an orphan.
 */
export const PASSWORD_GRACE_MS = 15 * 60_000;

/** The newest available Nightshift snapshot of a target database. */
export interface SnapshotToVerify {
  readonly database: string;
  readonly kind: DatabaseKind;
  readonly snapshotId: string;
  readonly createdAt: number;
}

export interface VerifyRules {
  /** A restore not available after this long fails the verification. */
  readonly restoreTimeoutMs: number;
  /** A temporary copy is tagged to expire this long after its request; the janitor removes it then. */
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
  readonly targets: readonly VerifyTarget[];
  readonly snapshots: readonly SnapshotToVerify[];
  readonly records: readonly VerificationRecord[];
  readonly copies: readonly CopyView[];
  /** One-time password parameters under `/nightshift/restore-verify/`. */
  readonly passwords: readonly PasswordView[];
}

export type VerifyAction =
  | {
      readonly kind: 'restore';
      /** The verification, `starting`: new (`create`), or one whose restore RDS has not confirmed yet. */
      readonly record: VerificationRecord;
      /** Whether the record is new and must be written first (false: a request is made again). */
      readonly create: boolean;
      /** When the copy expires (its `nightshift:expires-at` tag), from the request's time. */
      readonly expiresAt: number;
      /** The verification run the copy belongs to (its `nightshift:run-id` tag). */
      readonly runId: string;
      readonly reason: string;
    }
  | { readonly kind: 'reset-password'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'check'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'fail'; readonly record: VerificationRecord; readonly reason: string }
  | {
      readonly kind: 'no-snapshot';
      /** What is recorded once the alert is out: this run's verification of the target, failed. */
      readonly marker: VerificationRecord;
      readonly reason: string;
    }
  | {
      readonly kind: 'delete-copy';
      readonly copyId: string;
      /** Whether the copy is an instance, or a cluster (deleted with its member instance). */
      readonly copyKind: DatabaseKind;
      readonly reason: string;
    }
  | { readonly kind: 'delete-password'; readonly copyId: string; readonly reason: string };

const gone = (status: string | undefined) => status === undefined || status === 'deleting';
/** One key per database or copy: an instance and a cluster of the same name are different things. */
const keyOf = (kind: DatabaseKind, id: string) => `${kind}#${id}`;
const isActive = (r: VerificationRecord) =>
  r.state === 'starting' || r.state === 'restoring' || r.state === 'resetting';

/**
 * One reconcile step of restore verification: a pure function from what is observed to what to do next.
 * Long waits are never spent in a Lambda: a restore is requested, later ticks see it available and check it,
 * and every temporary copy is deleted once it has a verdict — or by the janitor once its expiry passed.
 * Each action carries everything carrying it out needs.
 */
export function planVerification(o: VerifyObservation): VerifyAction[] {
  const actions = [...startDue(o)];
  const active = o.records.filter(isActive);
  for (const record of active) {
    const next = advanceVerification(o, record);
    if (next) actions.push(next);
  }
  actions.push(...janitor(o, active, actions));
  return actions;
}

/** A target with no verification requested since the schedule came due: restore its newest snapshot. */
function startDue(o: VerifyObservation): VerifyAction[] {
  const actions: VerifyAction[] = [];
  const runId = `verify-${new Date(o.dueSince).toISOString()}`;
  for (const target of o.targets) {
    const mine = o.records.filter((r) => r.kind === target.kind && r.database === target.id);
    if (mine.some(isActive) || mine.some((r) => r.requestedAt >= o.dueSince)) continue;
    const snapshot = o.snapshots.find((s) => s.kind === target.kind && s.database === target.id);
    const what = target.kind === 'cluster' ? `DB cluster ${target.id}` : target.id;
    if (!snapshot) {
      const reason = `no available Nightshift snapshot of ${what} to verify`;
      actions.push({
        kind: 'no-snapshot',
        marker: {
          database: target.id,
          kind: target.kind,
          snapshotId: '',
          snapshotTime: 0,
          copyId: `none-${target.id}-${o.dueSince}`,
          requestedAt: o.now,
          state: 'failed',
          reason,
        },
        reason,
      });
      continue;
    }
    const copyId = verifyCopyId(target.id, target.kind, o.now);
    actions.push({
      kind: 'restore',
      record: {
        database: target.id,
        kind: target.kind,
        snapshotId: snapshot.snapshotId,
        snapshotTime: snapshot.createdAt,
        copyId,
        requestedAt: o.now,
        state: 'starting',
      },
      create: true,
      expiresAt: o.now + o.rules.instanceTtlMs,
      runId,
      reason: `restore ${snapshot.snapshotId} into ${copyId} to prove it restores`,
    });
  }
  return actions;
}

/** The next step of one verification in progress, if any is due. */
function advanceVerification(o: VerifyObservation, record: VerificationRecord): VerifyAction | undefined {
  const copy = o.copies.find((c) => keyOf(c.kind, c.id) === keyOf(record.kind, record.copyId));
  const waited = o.now - record.requestedAt;
  const hours = Math.round(o.rules.instanceTtlMs / 3_600_000);
  const fail = (reason: string): VerifyAction => ({ kind: 'fail', record, reason });
  if (waited > o.rules.instanceTtlMs) {
    // Whatever step it is stuck at, a verification ends with its copy's time to live.
    return fail(
      record.state === 'starting'
        ? `RDS did not accept the restore of ${record.snapshotId} within ${hours} hours (requested again every tick)`
        : `verification of ${record.snapshotId} did not finish within ${hours} hours`,
    );
  }
  if (record.state === 'starting') {
    // Throttled, a 5xx, a lost answer or a crash: the request is made again (RDS answers AlreadyExists
    // for a copy it did create), never taken for a verdict.
    return {
      kind: 'restore',
      record,
      create: false,
      expiresAt: record.requestedAt + o.rules.instanceTtlMs,
      runId: `verify-${new Date(o.dueSince).toISOString()}`,
      reason: `RDS has not confirmed the restore of ${record.snapshotId} into ${record.copyId}: request it again`,
    };
  }
  if (copy?.status === 'available') {
    if (record.state === 'restoring') {
      return {
        kind: 'reset-password',
        record,
        reason: `${record.copyId} is available: set a one-time master password`,
      };
    }
    if (!o.passwords.some((p) => p.copyId === record.copyId)) {
      // The state says the password exists but SSM has none (an earlier version's crash, an operator): the
      // checks could never log in, so set a new one instead of failing every tick until the time to live.
      return {
        kind: 'reset-password',
        record,
        reason: `${record.copyId} has no stored one-time password: set a new one`,
      };
    }
    return { kind: 'check', record, reason: `${record.copyId} has its one-time password: run the checks` };
  }
  if (copy?.status === 'failed' || copy?.status === 'incompatible-restore')
    return fail(`restore of ${record.snapshotId} ended ${copy.status}`);
  if (gone(copy?.status) && waited > 5 * 60_000)
    return fail(`${record.copyId} disappeared before it was verified`);
  if (waited > o.rules.restoreTimeoutMs)
    return fail(`restore of ${record.snapshotId} not available after ${Math.round(waited / 60_000)} minutes`);
  return undefined;
}

/**
 * Every temporary copy goes: once its verification has a verdict, or once it expired. A one-time password
 * never outlives its copy: deleting a copy deletes its parameter first, and one left behind (its
 * DeleteParameter failed and the copy went anyway) is removed here.
 */
function janitor(
  o: VerifyObservation,
  active: readonly VerificationRecord[],
  planned: readonly VerifyAction[],
): VerifyAction[] {
  const actions: VerifyAction[] = [];
  const inProgress = new Set(active.map((r) => keyOf(r.kind, r.copyId)));
  const failing = new Set(
    planned.flatMap((a) => (a.kind === 'fail' ? [keyOf(a.record.kind, a.record.copyId)] : [])),
  );
  for (const copy of o.copies) {
    if (!copy.id.startsWith(VERIFY_PREFIX) || gone(copy.status)) continue;
    const key = keyOf(copy.kind, copy.id);
    const record = o.records.find((r) => keyOf(r.kind, r.copyId) === key);
    const reason = failing.has(key)
      ? 'its verification failed'
      : record && (record.state === 'verified' || record.state === 'failed')
        ? `its verification is done (${record.state})`
        : !inProgress.has(key) && copy.managed && copy.expiresAt !== undefined && copy.expiresAt <= o.now
          ? 'orphaned temporary copy past its expiry'
          : undefined;
    if (reason) actions.push({ kind: 'delete-copy', copyId: copy.id, copyKind: copy.kind, reason });
  }
  const live = new Set(o.copies.filter((c) => !gone(c.status)).map((c) => c.id));
  for (const password of o.passwords) {
    if (live.has(password.copyId) || o.now - password.lastModified < PASSWORD_GRACE_MS) continue;
    actions.push({
      kind: 'delete-password',
      copyId: password.copyId,
      reason: `orphaned one-time password: ${password.copyId} is gone`,
    });
  }
  return actions;
}
