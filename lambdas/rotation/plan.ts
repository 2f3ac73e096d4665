/**
 * The rotation plan: from what was observed of one secret, the clock and its policy, what this run does.
 * Pure. A rotation in progress (a pending value exists) resumes at once, whatever the cadence or window
 * say — after a crash the next run converges; a new one starts only when due and inside its window; a live
 * lease of another run is left alone, a stale one is taken over.
 *
 * @module
 */
import {
  CURRENT,
  type ObservedSecret,
  OWN_LABELS,
  PREVIOUS,
  type RotationPolicy,
  type RotationStep,
  STEPS,
  type VersionInfo,
  WEEKDAYS,
} from './model.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** SSM keeps this many versions of a parameter; the 101st put deletes the oldest. */
export const MAX_VERSIONS = 100;

export type RotationPlan =
  /** Nothing to do before `dueAt`. */
  | { readonly kind: 'idle'; readonly dueAt: number }
  /** Due, but its window is closed until `opensAt`. */
  | { readonly kind: 'wait'; readonly dueAt: number; readonly opensAt: number }
  /** Another run holds the lock until `leaseUntil`. */
  | { readonly kind: 'busy'; readonly leaseUntil: number }
  /** An `external` secret falls due (or is overdue): a person must put the new value in the pending place. */
  | {
      readonly kind: 'notice';
      readonly dueAt: number;
      readonly severity: 'warning' | 'critical';
      readonly reason: string;
    }
  /**
   * The rotation's finish ran to its last call (the pending value is gone after `test` was recorded) but the
   * run died before recording it: only the bookkeeping is left.
   */
  | { readonly kind: 'complete'; readonly rotationId: string }
  /**
   * A rotation past `test` lost its pending value without finishing (a person deleted it): it is given up
   * (the plain name still holds the old, working value) and the next run starts afresh.
   */
  | { readonly kind: 'abandoned'; readonly rotationId: string; readonly reason: string }
  /** Something only a person can sort out stops the rotation (a pending value Nightshift did not put). */
  | { readonly kind: 'blocked'; readonly severity: 'warning' | 'critical'; readonly reason: string }
  /** Rotate: the steps still to run, from a new or a resumed rotation. */
  | {
      readonly kind: 'rotate';
      readonly rotationId: string;
      readonly resumed: boolean;
      readonly steps: readonly RotationStep[];
    };

/** The version labelled `current`, else the latest. */
export function currentVersion(versions: readonly VersionInfo[]): VersionInfo | undefined {
  return versions.find((v) => v.labels.includes(CURRENT)) ?? versions.at(-1);
}

/** When the secret falls due: its last rotation (or the current version's date) plus the cadence. */
export function dueAt(observed: ObservedSecret, policy: RotationPolicy): number {
  const last = observed.lastRotatedAt ?? currentVersion(observed.versions)?.at ?? 0;
  return last + policy.cadenceDays * DAY;
}

/** The first moment at or after `at` inside the window (UTC), or `at` itself without a window. */
export function windowOpensAt(at: number, policy: RotationPolicy): number {
  const w = policy.window;
  if (!w) return at;
  for (let day = 0; day <= 7; day++) {
    const midnight = Math.floor(at / DAY) * DAY + day * DAY;
    const weekday = WEEKDAYS[new Date(midnight).getUTCDay()];
    if (!weekday || !w.days.includes(weekday)) continue;
    const open = midnight + w.startHour * HOUR;
    const close = midnight + w.endHour * HOUR;
    if (at < close) return Math.max(at, open);
  }
  // A window with no day never opens: config refuses it, so this is unreachable in practice.
  return Number.POSITIVE_INFINITY;
}

/** A rotation's id: the secret and the due date it rotates for (deterministic: concurrent runs agree). */
export const rotationIdFor = (name: string, due: number) => `${name}@${new Date(due).toISOString()}`;

/** The steps after `step` (a step recorded in the lock is done; each is idempotent, so rerunning it is safe). */
const after = (step: RotationStep | undefined): RotationStep[] =>
  step === undefined ? [...STEPS] : STEPS.slice(STEPS.indexOf(step) + 1);

export function planRotation(
  observed: ObservedSecret,
  policy: RotationPolicy,
  now: number,
  owner: string,
): RotationPlan {
  const { lock, pending } = observed;
  if (lock && lock.owner !== owner && lock.leaseUntil > now) {
    return { kind: 'busy', leaseUntil: lock.leaseUntil };
  }
  const due = dueAt(observed, policy);
  if (pending && !pending.secure) {
    return {
      kind: 'blocked',
      severity: 'critical',
      reason: `${observed.name}.pending is not a SecureString: its value has sat unencrypted (readable without the KMS key, kept in its history) and is never promoted. Delete ${observed.name}.pending, re-issue the value and put it as a SecureString`,
    };
  }
  if (pending && pending.rotationId === undefined && policy.kind !== 'external') {
    // Only an external secret takes a value a person put: a generated one would go out untested.
    return {
      kind: 'blocked',
      severity: 'warning',
      reason: `${observed.name}.pending holds a value Nightshift did not put (no rotation in its description): a ${policy.kind} secret takes only its own new values; delete ${observed.name}.pending`,
    };
  }
  if (pending) {
    // A rotation in progress: resume at once. The pending value's own rotation id names it; the lock must
    // hold this function's digest for it (pinned before the value was put), or the value is foreign — a
    // description can be forged by whoever may write .pending.
    const rotationId =
      pending.rotationId ?? `${observed.name}@external@${new Date(pending.at).toISOString()}`;
    const own = lock && lock.rotationId === rotationId ? lock : undefined;
    if (policy.kind !== 'external' && own?.pendingDigest === undefined) {
      return {
        kind: 'blocked',
        severity: 'warning',
        reason: `${observed.name}.pending names rotation ${rotationId}, which this function has no record of making: it may have been put by someone else (or its record expired); it is never promoted. Delete ${observed.name}.pending and the next run starts afresh`,
      };
    }
    if (observed.latestIsPending && !(own?.step === 'test' || own?.step === 'finish')) {
      // The plain name already holds this value, and no rotation of this function put it there: someone
      // put the value in use (or back) in the pending place. Finishing would only reset the due date.
      return {
        kind: 'blocked',
        severity: 'warning',
        reason: `${observed.name}.pending holds the value already in use: not a new one. Put the new value there (or delete ${observed.name}.pending)`,
      };
    }
    const done = own?.step;
    let steps = after(done ?? 'create');
    // A person put an external value: Nightshift neither creates nor sets it; it tests and finishes.
    if (policy.kind === 'external') steps = steps.filter((s) => s === 'test' || s === 'finish');
    if (observed.latestIsPending) steps = ['finish'];
    return { kind: 'rotate', rotationId, resumed: true, steps };
  }
  // A lock past `set` without a pending value: finish ran to its end if the version it put is current;
  // otherwise someone deleted the pending value. A single user's password was changed by `set` and the
  // pending value was its only copy: the plain name no longer logs in, and only a person can repair that
  // (until a version newer than the rotation's last step shows they have). Else the rotation is given up.
  if (lock && lock.step !== undefined && lock.step !== 'create') {
    const put = lock.putVersion;
    const finished =
      put !== undefined && observed.versions.some((v) => v.version === put && v.labels.includes(CURRENT));
    if (finished) return { kind: 'complete', rotationId: lock.rotationId };
    const repaired = (observed.versions.at(-1)?.at ?? 0) > lock.leaseUntil;
    if (policy.kind === 'postgres-single' && !repaired) {
      return {
        kind: 'blocked',
        severity: 'critical',
        reason: `${observed.name}.pending was deleted after rotation ${lock.rotationId} changed the role's password: it held the only copy of the new password, so the credential under the plain name no longer logs in. Set a new password (ALTER ROLE … PASSWORD) and put the credential under ${observed.name}; the next run then starts afresh`,
      };
    }
    return {
      kind: 'abandoned',
      rotationId: lock.rotationId,
      reason: `${observed.name}.pending disappeared after its ${lock.step} step and before it was put under the plain name: the old value stays; a new rotation starts`,
    };
  }
  if (policy.kind === 'external') {
    const notice = (policy.noticeDays ?? 30) * DAY;
    if (now < due - notice) return { kind: 'idle', dueAt: due - notice };
    const overdue = now >= due;
    const days = Math.ceil(Math.abs(due - now) / DAY);
    return {
      kind: 'notice',
      dueAt: due,
      severity: overdue ? 'critical' : 'warning',
      reason: overdue
        ? `${observed.name} is ${days} day(s) overdue: put the new value in ${observed.name}.pending and Nightshift tests and finishes it`
        : `${observed.name} falls due in ${days} day(s): put the new value in ${observed.name}.pending when the issuer gives it`,
    };
  }
  if (now < due) return { kind: 'idle', dueAt: due };
  const rotationId = rotationIdFor(observed.name, due);
  const opensAt = windowOpensAt(now, policy);
  if (opensAt > now) return { kind: 'wait', dueAt: due, opensAt };
  return { kind: 'rotate', rotationId, resumed: false, steps: [...STEPS] };
}

/** One call of the finish step. */
export type FinishAction =
  /** Drops a label of Nightshift's from the oldest version, so SSM can delete it for the new one. */
  | { readonly do: 'unlabel'; readonly version: number; readonly labels: readonly string[] }
  /** Puts the pending value under the plain name (a new version). */
  | { readonly do: 'put' }
  /** Moves `current` to the new version (`latest`: the version the put made) and `previous` to the old. */
  | { readonly do: 'label'; readonly version: number | 'latest'; readonly labels: readonly string[] }
  /** Deletes the pending companion. */
  | { readonly do: 'delete-pending' };

export type FinishPlan =
  | { readonly kind: 'actions'; readonly actions: readonly FinishAction[] }
  | { readonly kind: 'blocked'; readonly severity: 'warning' | 'critical'; readonly reason: string };

/**
 * The finish step. SSM keeps 100 versions, and when the oldest carries a label a put fails
 * (`ParameterMaxVersionLimitExceeded`): Nightshift moves its own labels off it when it may — `previous`
 * once the grace period is over — and says who blocks when another's label does.
 */
export function planFinish(observed: ObservedSecret, policy: RotationPolicy, now: number): FinishPlan {
  const { versions, name } = observed;
  const actions: FinishAction[] = [];
  const current = versions.find((v) => v.labels.includes(CURRENT));
  const latest = versions.at(-1);
  if (!observed.latestIsPending) {
    const oldest = versions[0];
    if (versions.length >= MAX_VERSIONS && oldest && oldest.labels.length > 0) {
      const foreign = oldest.labels.filter((l) => !OWN_LABELS.includes(l));
      if (foreign.length > 0) {
        return {
          kind: 'blocked',
          severity: 'critical',
          reason: `${name} has ${MAX_VERSIONS} versions and its oldest (${oldest.version}) carries label(s) ${foreign.join(', ')} that Nightshift does not own: SSM refuses a new version (ParameterMaxVersionLimitExceeded) until someone moves or deletes them`,
        };
      }
      if (oldest.labels.includes(CURRENT)) {
        return {
          kind: 'blocked',
          severity: 'critical',
          reason: `${name}'s current version ${oldest.version} is the oldest of ${MAX_VERSIONS}: ${MAX_VERSIONS - 1} versions were put after it outside Nightshift; a new version would delete the current one`,
        };
      }
      // `previous` is on the oldest: keep it through its grace period, then let it go.
      const previousSince = current?.at ?? oldest.at;
      if (now < previousSince + policy.graceDays * DAY) {
        return {
          kind: 'blocked',
          severity: 'warning',
          reason: `${name}'s previous version ${oldest.version} is the oldest of ${MAX_VERSIONS} and still in its grace period: the rotation finishes after ${new Date(previousSince + policy.graceDays * DAY).toISOString()}`,
        };
      }
      actions.push({ do: 'unlabel', version: oldest.version, labels: [PREVIOUS] });
    }
    if (current && latest && latest.version > current.version) {
      return {
        kind: 'blocked',
        severity: 'warning',
        reason: `someone put version ${latest.version} of ${name} after its current version ${current.version} during the rotation: Nightshift does not overwrite it; label the version you mean as current (or delete ${name}.pending to give up this rotation)`,
      };
    }
    actions.push({ do: 'put' });
  }
  const fresh: number | 'latest' = observed.latestIsPending && latest ? latest.version : 'latest';
  actions.push({ do: 'label', version: fresh, labels: [CURRENT] });
  // The version that was current before this rotation becomes previous (not the new one, on a rerun).
  const before =
    current && current.version !== fresh
      ? current
      : observed.latestIsPending
        ? [...versions].reverse().find((v) => v.version !== fresh)
        : latest;
  if (before && before.version !== fresh)
    actions.push({ do: 'label', version: before.version, labels: [PREVIOUS] });
  actions.push({ do: 'delete-pending' });
  return { kind: 'actions', actions };
}
