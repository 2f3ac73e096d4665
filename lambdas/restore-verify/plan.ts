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

/** A temporary `nightshift-verify-*` copy (a DB instance, or an Aurora cluster) as RDS shows it. */
export interface VerifyInstanceView {
  readonly id: string;
  readonly kind: 'instance' | 'cluster';
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
      readonly reason: string;
    }
  | { readonly kind: 'reset-password'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'check'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'fail'; readonly record: VerificationRecord; readonly reason: string }
  | { readonly kind: 'no-snapshot'; readonly database: string; readonly reason: string }
  | {
      readonly kind: 'delete-instance';
      readonly instanceId: string;
      /** Whether the copy is an instance, or a cluster (deleted with its member instance). */
      readonly copyKind: 'instance' | 'cluster';
      readonly reason: string;
    }
  | { readonly kind: 'delete-password'; readonly copyId: string; readonly reason: string };

const gone = (status: string | undefined) => status === undefined || status === 'deleting';

/**
 * One reconcile step of restore verification: a pure function from what is observed to what to do next.
 * Long waits are never spent in a Lambda: a restore is requested, later ticks see it available and check it,
 * and every temporary instance is deleted once it has a verdict — or by the janitor once its expiry passed.
 */
export function planVerification(o: VerifyObservation): VerifyAction[] {
  const actions: VerifyAction[] = [];
  const active = o.records.filter(
    (r) => r.state === 'starting' || r.state === 'restoring' || r.state === 'resetting',
  );
  const byId = new Map(o.instances.map((i) => [i.id, i]));
  const stored = new Set(o.passwords.map((p) => p.copyId));
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
      record: {
        database,
        kind: snapshot.kind ?? 'instance',
        snapshotId: snapshot.snapshotId,
        snapshotTime: snapshot.createdAt,
        instanceId,
        requestedAt: o.now,
        state: 'starting',
      },
      create: true,
      expiresAt: o.now + o.rules.instanceTtlMs,
      reason: `restore ${snapshot.snapshotId} into ${instanceId} to prove it restores`,
    });
  }

  for (const record of active) {
    const instance = byId.get(record.instanceId);
    const waited = o.now - record.requestedAt;
    const hours = Math.round(o.rules.instanceTtlMs / 3_600_000);
    if (waited > o.rules.instanceTtlMs) {
      // Whatever step it is stuck at, a verification ends with its copy's time to live.
      actions.push({
        kind: 'fail',
        record,
        reason:
          record.state === 'starting'
            ? `RDS did not accept the restore of ${record.snapshotId} within ${hours} hours (requested again every tick)`
            : `verification of ${record.snapshotId} did not finish within ${hours} hours`,
      });
    } else if (record.state === 'starting') {
      // Throttled, a 5xx, a lost answer or a crash: the request is made again (RDS answers AlreadyExists
      // for a copy it did create), never taken for a verdict.
      actions.push({
        kind: 'restore',
        record,
        create: false,
        expiresAt: record.requestedAt + o.rules.instanceTtlMs,
        reason: `RDS has not confirmed the restore of ${record.snapshotId} into ${record.instanceId}: request it again`,
      });
    } else if (instance?.status === 'available' && record.state === 'restoring') {
      actions.push({
        kind: 'reset-password',
        record,
        reason: `${record.instanceId} is available: set a one-time master password`,
      });
    } else if (
      instance?.status === 'available' &&
      record.state === 'resetting' &&
      !stored.has(record.instanceId)
    ) {
      // The state says the password exists but SSM has none (an earlier version's crash, an operator): the
      // checks could never log in, so set a new one instead of failing every tick until the time to live.
      actions.push({
        kind: 'reset-password',
        record,
        reason: `${record.instanceId} has no stored one-time password: set a new one`,
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
      actions.push({
        kind: 'delete-instance',
        instanceId: instance.id,
        copyKind: instance.kind,
        reason: 'its verification failed',
      });
    } else if (record && (record.state === 'verified' || record.state === 'failed')) {
      actions.push({
        kind: 'delete-instance',
        instanceId: instance.id,
        copyKind: instance.kind,
        reason: `its verification is done (${record.state})`,
      });
    } else if (
      !restoring.has(instance.id) &&
      instance.managed &&
      instance.expiresAt !== undefined &&
      instance.expiresAt <= o.now
    ) {
      actions.push({
        kind: 'delete-instance',
        instanceId: instance.id,
        copyKind: instance.kind,
        reason: 'orphaned temporary instance past its expiry',
      });
    }
  }

  // A one-time password never outlives its copy: deleting a copy deletes its parameter first, and one left
  // behind (its DeleteParameter failed and the copy went anyway) is removed here.
  const live = new Set(o.instances.filter((i) => !gone(i.status)).map((i) => i.id));
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
