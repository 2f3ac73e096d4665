/**
 * One secret's rotation run: observe (SSM and the lock), plan, act step by step under the lock, each step
 * recorded before the next, events for what happened. A crash anywhere leaves the pending value and the
 * lock's step: the next run resumes at once and converges. The plain name is written only in `finish`,
 * with a value that has been set and tested.
 *
 * @module
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AuditLog } from '#shared/audit';
import { readKillSwitch } from '#shared/kill-switch';
import type { EventPublisher } from '#shared/publisher';
import { iso } from '#shared/time';
import { type GeneratedValueSpec, generateValue } from './generate.ts';
import type { RotationLocks } from './lock.ts';
import type { RotationPolicy, RotationStep } from './model.ts';
import { planFinish, planRotation, type RotationPlan } from './plan.ts';
import { createPending, finish, observeParameters, pendingValue } from './ssm-protocol.ts';

/** One configured secret, as the runbook needs it. */
export interface SecretConfig {
  readonly parameter: string;
  readonly policy: RotationPolicy;
  /** `generated`: the value's shape. */
  readonly generate?: GeneratedValueSpec;
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
  /** `set` for kinds that apply the value somewhere (a database); `test` that the value works. */
  readonly set?: (secret: SecretConfig, value: string) => Promise<void>;
  readonly test?: (secret: SecretConfig, value: string) => Promise<void>;
}

export type RotateOutcome =
  | { readonly outcome: 'not-due'; readonly plan: Exclude<RotationPlan, { kind: 'rotate' }> }
  | { readonly outcome: 'busy' }
  /** Due, but the kill switch or dry run keeps it to a plan. */
  | { readonly outcome: 'planned'; readonly rotationId: string; readonly reason: string }
  | { readonly outcome: 'blocked'; readonly reason: string }
  | {
      readonly outcome: 'rotated';
      readonly rotationId: string;
      readonly version?: number;
      readonly steps: readonly RotationStep[];
    };

export const RUNBOOK = 'rotation';

const key = (secret: SecretConfig, rotationId: string, what: string) =>
  `rotation#${secret.parameter}#${rotationId}#${what}`;

export async function rotateSecret(secret: SecretConfig, deps: RotateDeps): Promise<RotateOutcome> {
  const name = secret.parameter;
  const [ssmSide, stateSide] = await Promise.all([observeParameters(deps.ssm, name), deps.locks.read(name)]);
  const observed = {
    name,
    ...ssmSide,
    ...(stateSide.lock ? { lock: stateSide.lock } : {}),
    ...(stateSide.lastRotatedAt === undefined ? {} : { lastRotatedAt: stateSide.lastRotatedAt }),
  };
  const plan = planRotation(observed, secret.policy, deps.clock(), deps.owner);
  if (plan.kind === 'busy') return { outcome: 'busy' };
  if (plan.kind === 'notice') {
    await deps.events.publish({
      detailType: plan.severity === 'critical' ? 'Rotation Overdue' : 'Rotation Due Soon',
      eventKey: key(secret, iso(plan.dueAt), `notice-${plan.severity}`),
      severity: plan.severity,
      detail: { parameter: name, dueAt: iso(plan.dueAt), reason: plan.reason },
    });
    return { outcome: 'not-due', plan };
  }
  if (plan.kind === 'complete') {
    if (!(await deps.locks.acquire(name, plan.rotationId, deps.owner, deps.clock(), deps.leaseMs)))
      return { outcome: 'busy' };
    return succeeded(secret, plan.rotationId, [], undefined, deps);
  }
  if (plan.kind !== 'rotate') return { outcome: 'not-due', plan };

  const { rotationId } = plan;
  const stop = deps.dryRun
    ? 'dry run: the rotation is planned, not performed'
    : await readKillSwitch(deps.ssm, deps.killSwitchParameter).then((k) =>
        k.engaged ? k.reason : undefined,
      );
  if (stop) {
    await deps.audit.record(
      {
        runbook: RUNBOOK,
        action: 'rotate',
        outcome: 'planned',
        subject: name,
        reason: stop,
        details: { rotationId, steps: plan.steps },
      },
      deps.clock(),
    );
    return { outcome: 'planned', rotationId, reason: stop };
  }
  if (!(await deps.locks.acquire(name, rotationId, deps.owner, deps.clock(), deps.leaseMs)))
    return { outcome: 'busy' };
  // Another run may have finished this very rotation between this run's look and its lock.
  if ((await deps.locks.read(name)).lastRotationId === rotationId) {
    await deps.locks.release(name, deps.owner);
    return { outcome: 'busy' };
  }
  if (!plan.resumed) {
    await deps.events.publish({
      detailType: 'Rotation Started',
      eventKey: key(secret, rotationId, 'started'),
      severity: 'info',
      detail: { parameter: name, rotationId, kind: secret.policy.kind },
    });
  }
  let version: number | undefined;
  try {
    for (const step of plan.steps) {
      if (step === 'create') {
        if (secret.policy.kind !== 'generated')
          throw new Error(`kind ${secret.policy.kind}: create is not built yet`);
        await createPending(deps.ssm, {
          name,
          rotationId,
          value: generateValue(secret.generate),
          ...(ssmSide.keyId ? { keyId: ssmSide.keyId } : {}),
        });
      }
      if (step === 'set' && deps.set) await deps.set(secret, await pendingValue(deps.ssm, name));
      if (step === 'test' && deps.test) await deps.test(secret, await pendingValue(deps.ssm, name));
      if (step === 'finish') {
        // Observed again: the put may have happened in a run that crashed after it.
        const now = await observeParameters(deps.ssm, name);
        const finishing = planFinish({ name, ...now }, secret.policy, deps.clock());
        if (finishing.kind === 'blocked') {
          await deps.events.publish({
            detailType: 'Rotation Blocked',
            eventKey: key(secret, rotationId, 'blocked'),
            severity: finishing.severity,
            detail: { parameter: name, rotationId, reason: finishing.reason },
          });
          return { outcome: 'blocked', reason: finishing.reason };
        }
        version = (
          await finish(deps.ssm, {
            name,
            actions: finishing.actions,
            ...(now.keyId ? { keyId: now.keyId } : {}),
          })
        ).version;
      }
      if (!(await deps.locks.advance(name, deps.owner, step, deps.clock(), deps.leaseMs))) {
        // Taken over (this run outlived its lease): the other run carries on from the recorded step.
        return { outcome: 'busy' };
      }
    }
  } catch (error) {
    await deps.audit.record(
      {
        runbook: RUNBOOK,
        action: 'rotate',
        outcome: 'failed',
        subject: name,
        reason: `${(error as Error).name}: ${(error as Error).message.slice(0, 500)}`,
        details: { rotationId },
      },
      deps.clock(),
    );
    await deps.events.publish({
      detailType: 'Rotation Failed',
      eventKey: key(secret, rotationId, `failed-${(error as Error).name}`),
      severity: 'critical',
      detail: {
        parameter: name,
        rotationId,
        // Errors name parameters and steps, never values.
        reason: `${(error as Error).name}: ${(error as Error).message.slice(0, 500)}`,
      },
    });
    throw error;
  }
  return succeeded(secret, rotationId, plan.steps, version, deps);
}

/** Records the rotation as done and says so. */
async function succeeded(
  secret: SecretConfig,
  rotationId: string,
  steps: readonly RotationStep[],
  version: number | undefined,
  deps: RotateDeps,
): Promise<RotateOutcome> {
  const name = secret.parameter;
  await deps.locks.complete(name, deps.owner, rotationId, deps.clock());
  await deps.audit.record(
    {
      runbook: RUNBOOK,
      action: 'rotate',
      outcome: 'performed',
      subject: name,
      reason: steps.length > 0 ? `rotated: ${steps.join(', ')}` : 'finish had run: recorded',
      details: { rotationId, ...(version ? { version } : {}) },
    },
    deps.clock(),
  );
  await deps.events.publish({
    detailType: 'Rotation Succeeded',
    eventKey: key(secret, rotationId, 'succeeded'),
    severity: 'info',
    detail: { parameter: name, rotationId, kind: secret.policy.kind, ...(version ? { version } : {}) },
  });
  return { outcome: 'rotated', rotationId, steps, ...(version ? { version } : {}) };
}
