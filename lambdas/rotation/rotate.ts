/**
 * One secret's rotation run: observe (SSM and the lock), plan, act step by step under the lock, each step
 * recorded before the next, events for what happened. A crash anywhere leaves the pending value and the
 * lock's step: the next run resumes at once and converges. The plain name is written only in `finish`,
 * with a value that has been set and tested.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AuditEntry, AuditLog } from '#shared/audit';
import { readKillSwitch } from '#shared/kill-switch';
import type { RunbookMetrics } from '#shared/middleware';
import type { EventPublisher } from '#shared/publisher';
import { iso } from '#shared/time';
import { CheckRefusedError } from './https-check.ts';
import type { KindSecret, KindSteps, StoredValues } from './kinds.ts';
import type { RotationLocks } from './lock.ts';
import { pendingName, type RotationKind, type RotationPolicy, type RotationStep } from './model.ts';
import { currentVersion, planFinish, planRotation, type RotationPlan } from './plan.ts';
import type { StartReader } from './redeploy-store.ts';
import {
  createPending,
  deletePending,
  finish,
  observeParameters,
  pendingDigest,
  pendingValue,
  RotationError,
  value,
  versionOf,
} from './ssm-protocol.ts';

/** One configured secret, as the runbook needs it. */
export interface SecretConfig extends KindSecret {
  readonly policy: RotationPolicy;
  /** The consumers that read it only at start: each gets a new deployment once a rotation finished. @default none */
  readonly startReaders?: readonly StartReader[];
}

export interface RotateDeps {
  readonly ssm: SSMClient;
  readonly locks: RotationLocks;
  readonly events: EventPublisher;
  readonly audit: AuditLog;
  readonly clock: () => number;
  /** The kill switch's parameter (engaged or unreadable: plan only) and the runbook's dry run. */
  readonly killSwitchParameter: string;
  readonly dryRun: boolean;
  /** This run (the invocation id): owner of the lock. */
  readonly owner: string;
  /** A lease long enough for one step, renewed at each. */
  readonly leaseMs: number;
  /** How each kind creates, sets and tests a value (`kindSteps`). */
  readonly kinds: Readonly<Record<RotationKind, KindSteps | undefined>>;
  /** `SecretAgeDays` per parameter, each run: what the staleness alarm reads. */
  readonly metrics: RunbookMetrics;
}

const DAY = 86_400_000;
/** Publishes a secret's age in days (dimension `parameter`). */
const measureAge = (deps: RotateDeps, parameter: string, since: number) =>
  deps.metrics.add('SecretAgeDays', Math.max(0, (deps.clock() - since) / DAY), { parameter });

export type RotateOutcome =
  | { readonly outcome: 'not-due'; readonly plan: RotationPlan }
  | { readonly outcome: 'busy' }
  /** Due, but the kill switch or dry run keeps it to a plan. */
  | { readonly outcome: 'planned'; readonly rotationId: string; readonly reason: string }
  | { readonly outcome: 'blocked'; readonly reason: string }
  /** A rotation given up (its pending value was deleted), or a finished rotation's leftover removed. */
  | { readonly outcome: 'abandoned' | 'cleaned'; readonly rotationId: string }
  | {
      readonly outcome: 'rotated';
      readonly rotationId: string;
      readonly version?: number;
      readonly steps: readonly RotationStep[];
    };

export const RUNBOOK = 'rotation';

/** A rotation event's `eventKey`: `rotation#<parameter>#<rotation id>#<what>`. */
export const rotationEventKey = (secret: Pick<SecretConfig, 'parameter'>, rotationId: string, what: string) =>
  `rotation#${secret.parameter}#${rotationId}#${what}`;
const key = rotationEventKey;
/** A reason's short fingerprint: one alert per distinct reason, however many runs say it. */
export const reasonKey = (reason: string) => createHash('sha256').update(reason).digest('hex').slice(0, 12);

const audit = (deps: RotateDeps, name: string, entry: Omit<AuditEntry, 'runbook' | 'action' | 'subject'>) =>
  deps.audit.record({ runbook: RUNBOOK, action: 'rotate', subject: name, ...entry }, deps.clock());

/** What a run does, besides waiting: each needs the lock, and the kill switch off. */
type Work =
  | {
      readonly kind: 'rotate';
      readonly rotationId: string;
      readonly resumed: boolean;
      readonly steps: readonly RotationStep[];
    }
  | { readonly kind: 'complete'; readonly rotationId: string; readonly reason: string }
  | { readonly kind: 'abandoned'; readonly rotationId: string; readonly reason: string }
  | { readonly kind: 'cleanup'; readonly rotationId: string; readonly reason: string };

export async function rotateSecret(
  secret: SecretConfig,
  deps: RotateDeps,
  again = false,
): Promise<RotateOutcome> {
  const name = secret.parameter;
  const [ssmSide, stateSide] = await Promise.all([observeParameters(deps.ssm, name), deps.locks.read(name)]);
  const observed = {
    name,
    ...ssmSide,
    ...(stateSide.lock ? { lock: stateSide.lock } : {}),
    ...(stateSide.lastRotatedAt === undefined ? {} : { lastRotatedAt: stateSide.lastRotatedAt }),
  };
  // Its age, whatever this run does: the last rotation, else the current version's date.
  const since = stateSide.lastRotatedAt ?? currentVersion(ssmSide.versions)?.at;
  if (since !== undefined && !again) measureAge(deps, name, since);
  const leftover = ssmSide.pending?.rotationId;
  let work: Work;
  if (leftover !== undefined && leftover === stateSide.lastRotationId) {
    // A pending value of a rotation that has finished (created late by a run that outlived its lease, or
    // put by someone naming it): never the value in use; removed, then a normal run.
    work = {
      kind: 'cleanup',
      rotationId: leftover,
      reason: `${name}.pending belongs to rotation ${leftover}, which has finished`,
    };
  } else {
    const plan = planRotation(observed, secret.policy, deps.clock(), deps.owner);
    if (plan.kind === 'busy') return { outcome: 'busy' };
    if (plan.kind === 'notice' || plan.kind === 'blocked') {
      // Stable across runs: a notice per due date and severity, a block per reason (never per run).
      const at = plan.kind === 'notice' ? iso(plan.dueAt) : 'blocked';
      await deps.events.publish({
        detailType:
          plan.kind === 'blocked'
            ? 'Rotation Blocked'
            : plan.severity === 'critical'
              ? 'Rotation Overdue'
              : 'Rotation Due Soon',
        eventKey: key(
          secret,
          at,
          plan.kind === 'notice' ? `notice-${plan.severity}` : `${plan.severity}-${reasonKey(plan.reason)}`,
        ),
        severity: plan.severity,
        detail: { parameter: name, reason: plan.reason },
      });
      return plan.kind === 'blocked'
        ? { outcome: 'blocked', reason: plan.reason }
        : { outcome: 'not-due', plan };
    }
    if (plan.kind === 'idle' || plan.kind === 'wait') return { outcome: 'not-due', plan };
    work =
      plan.kind === 'rotate'
        ? plan
        : { ...plan, reason: plan.kind === 'abandoned' ? plan.reason : 'finish had run: recorded' };
  }

  const stop = deps.dryRun
    ? 'dry run: the rotation is planned, not performed'
    : await readKillSwitch(deps.ssm, deps.killSwitchParameter).then((k) =>
        k.engaged ? k.reason : undefined,
      );
  if (stop) {
    await audit(deps, name, {
      outcome: 'planned',
      reason: stop,
      details: { rotationId: work.rotationId, work: work.kind },
    });
    return { outcome: 'planned', rotationId: work.rotationId, reason: stop };
  }
  if (!(await deps.locks.acquire(name, work.rotationId, deps.owner, deps.clock(), deps.leaseMs)))
    return { outcome: 'busy' };

  if (work.kind === 'complete') return succeeded(secret, work.rotationId, [], undefined, deps);
  if (work.kind === 'abandoned' || work.kind === 'cleanup') {
    if (work.kind === 'cleanup') await deletePending(deps.ssm, name);
    await audit(deps, name, {
      outcome: 'performed',
      reason: work.reason,
      details: { rotationId: work.rotationId, work: work.kind },
    });
    if (work.kind === 'abandoned') {
      await deps.events.publish({
        detailType: 'Rotation Abandoned',
        eventKey: key(secret, work.rotationId, 'abandoned'),
        severity: 'warning',
        detail: { parameter: name, rotationId: work.rotationId, reason: work.reason },
      });
    }
    await deps.locks.release(name, deps.owner);
    // Then at once what is left to do (a new rotation when due): once, never a loop.
    return again
      ? { outcome: work.kind === 'cleanup' ? 'cleaned' : 'abandoned', rotationId: work.rotationId }
      : rotateSecret(secret, deps, true);
  }
  const rotation = work;
  // Another run may have finished this very rotation between this run's look and its lock.
  if ((await deps.locks.read(name)).lastRotationId === rotation.rotationId) {
    await deps.locks.release(name, deps.owner);
    return { outcome: 'busy' };
  }
  const lock = stateSide.lock?.rotationId === rotation.rotationId ? stateSide.lock : undefined;
  return runSteps(secret, rotation, ssmSide.keyId, lock ?? {}, deps);
}

async function runSteps(
  secret: SecretConfig,
  work: Extract<Work, { kind: 'rotate' }>,
  keyId: string | undefined,
  recorded: { readonly pendingDigest?: string; readonly refusedDigest?: string },
  deps: RotateDeps,
): Promise<RotateOutcome> {
  const name = secret.parameter;
  const { rotationId } = work;
  const external = secret.policy.kind === 'external';
  let pinned = recorded.pendingDigest;
  if (!work.resumed) {
    await deps.events.publish({
      detailType: 'Rotation Started',
      eventKey: key(secret, rotationId, 'started'),
      severity: 'info',
      detail: { parameter: name, rotationId, kind: secret.policy.kind },
    });
  }
  let version: number | undefined;
  const lost = (): RotateOutcome => ({ outcome: 'busy' });
  const stored: StoredValues = {
    current: async () => {
      const v = await value(deps.ssm, name);
      if (v === undefined) throw new RotationError(`parameter ${name} is gone`);
      return v;
    },
    previous: () => value(deps.ssm, `${name}:previous`),
    read: (parameter) => value(deps.ssm, parameter),
    pendingVersion: () => versionOf(deps.ssm, pendingName(name)),
    rotationId,
  };
  /**
   * The pending value for a step: the one pinned in the lock. A value no digest was pinned for (a person's
   * external value, or a crash between pinning and the lock's read) is pinned now, before it is used.
   */
  const pending = async () => {
    const v = await pendingValue(deps.ssm, name, pinned);
    if (pinned === undefined) {
      if (!(await deps.locks.pinPending(name, deps.owner, pendingDigest(v)))) throw new LeaseLostError(name);
      pinned = pendingDigest(v);
    }
    return v;
  };
  try {
    const kind = deps.kinds[secret.policy.kind];
    if (!kind) throw new RotationError(`kind ${secret.policy.kind} is not built yet`);
    for (const step of work.steps) {
      if (step === 'create') {
        const fresh = await kind.create(secret, stored);
        // Pinned before it is put: a value swapped in after this is never set, tested or finished.
        if (!(await deps.locks.pinPending(name, deps.owner, pendingDigest(fresh)))) return lost();
        pinned = pendingDigest(fresh);
        await createPending(deps.ssm, { name, rotationId, value: fresh, ...(keyId ? { keyId } : {}) });
      }
      if (step === 'set' && kind.set) await kind.set(secret, await pending(), stored);
      if (step === 'test' && (external || kind.test)) {
        // Read once for the external checks and the kind's test.
        const value = await pending();
        if (external && recorded.refusedDigest !== undefined && recorded.refusedDigest === pinned) {
          // Asked once and refused: presenting it again every run would only risk the issuer locking the
          // client out. The person puts another value (a new rotation).
          return blocked(
            secret,
            rotationId,
            'critical',
            `${name}.pending holds the value the check refused: it is not presented again. Put the right value in ${name}.pending`,
            deps,
          );
        }
        if (external && (value === (await stored.current()) || value === (await stored.previous()))) {
          return blocked(
            secret,
            rotationId,
            'warning',
            `${name}.pending holds the value in use or the previous one, not a new value: put the new value the issuer gave there`,
            deps,
          );
        }
        await kind.test?.(secret, value, stored);
      }
      if (step === 'finish') {
        // The lease renewed first: a run that outlived it must not put a second version.
        if (!(await deps.locks.advance(name, deps.owner, 'test', deps.clock(), deps.leaseMs))) return lost();
        // Observed again: the put may have happened in a run that crashed after it.
        const now = await observeParameters(deps.ssm, name);
        const finishing = planFinish({ name, ...now }, secret.policy, deps.clock());
        if (finishing.kind === 'blocked')
          return blocked(secret, rotationId, finishing.severity, finishing.reason, deps);
        // What finish puts must be what was set and tested: the put checks the pinned digest; a value nothing
        // pinned yet (never the case after create or test) is pinned first.
        if (pinned === undefined && !now.latestIsPending) await pending();
        version = (
          await finish(deps.ssm, {
            name,
            actions: finishing.actions,
            ...(now.keyId ? { keyId: now.keyId } : {}),
            ...(pinned ? { pendingDigest: pinned } : {}),
            // The proof that finish ran, recorded before the pending value goes.
            beforeDeletingPending: async (put) => {
              if (!(await deps.locks.recordPut(name, deps.owner, put))) throw new LeaseLostError(name);
            },
          })
        ).version;
      }
      if (!(await deps.locks.advance(name, deps.owner, step, deps.clock(), deps.leaseMs))) return lost();
    }
  } catch (error) {
    if (error instanceof LeaseLostError) return lost();
    if (external && error instanceof CheckRefusedError && pinned) {
      await deps.locks.refused(name, deps.owner, pinned);
    }
    await deps.locks.endLease(name, deps.owner, deps.clock());
    const reason = `${(error as Error).name}: ${(error as Error).message.slice(0, 500)}`;
    await audit(deps, name, { outcome: 'failed', reason, details: { rotationId } });
    await deps.events.publish({
      detailType: 'Rotation Failed',
      eventKey: key(secret, rotationId, `failed-${(error as Error).name}`),
      severity: 'critical',
      // Errors name parameters and steps, never values.
      detail: { parameter: name, rotationId, reason },
    });
    throw error;
  }
  return succeeded(secret, rotationId, work.steps, version, deps);
}

/** Something only a person can sort out stops the rotation where it is: said once per reason (its key). */
async function blocked(
  secret: SecretConfig,
  rotationId: string,
  severity: 'warning' | 'critical',
  reason: string,
  deps: RotateDeps,
): Promise<RotateOutcome> {
  await deps.events.publish({
    detailType: 'Rotation Blocked',
    eventKey: key(secret, rotationId, `blocked-${reasonKey(reason)}`),
    severity,
    detail: { parameter: secret.parameter, rotationId, reason },
  });
  await deps.locks.endLease(secret.parameter, deps.owner, deps.clock());
  return { outcome: 'blocked', reason };
}

/** This run's lease passed and another run took the rotation over: it stops, the other carries on. */
class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(parameter: string) {
    super(`the lock of ${parameter} was taken over`);
  }
}

/**
 * Records the rotation as done and says so: audit and event first, then the state item, so a failure in
 * between repeats the record (the event's key is the same) rather than losing it.
 */
async function succeeded(
  secret: SecretConfig,
  rotationId: string,
  steps: readonly RotationStep[],
  version: number | undefined,
  deps: RotateDeps,
): Promise<RotateOutcome> {
  const name = secret.parameter;
  await audit(deps, name, {
    outcome: 'performed',
    reason: steps.length > 0 ? `rotated: ${steps.join(', ')}` : 'finish had run: recorded',
    details: { rotationId, ...(version ? { version } : {}) },
  });
  await deps.events.publish({
    detailType: 'Rotation Succeeded',
    eventKey: key(secret, rotationId, 'succeeded'),
    severity: 'info',
    detail: { parameter: name, rotationId, kind: secret.policy.kind, ...(version ? { version } : {}) },
  });
  await deps.locks.complete(name, deps.owner, rotationId, deps.clock(), secret.startReaders ?? []);
  measureAge(deps, name, deps.clock());
  return { outcome: 'rotated', rotationId, steps, ...(version ? { version } : {}) };
}
