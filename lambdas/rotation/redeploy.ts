/**
 * The last part of a rotation: each consumer that reads the secret only at start (an ECS task definition's
 * `secrets`) gets a new deployment of the revision it runs (`UpdateService` with `forceNewDeployment`,
 * nothing else changed), so its tasks start again with the new value. A redeployment is Nightshift's own
 * deployment of the service: it takes the per-service claim the rollbacks share, never during a rollback or
 * its cooldown. What is owed is in the secret's state item from the moment the rotation finished; a
 * deferred or failed redeployment stays there, and every scheduled run tries again until it is made.
 *
 * @module
 */
import { type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { NightshiftError } from '#shared/errors';
import { readKillSwitch } from '#shared/kill-switch';
import { planRedeploy, type RedeployDecision, redeployEpisodeId } from './redeploy-plan.ts';
import type { RedeployStore } from './redeploy-store.ts';
import {
  type RotateDeps,
  type RotateOutcome,
  RUNBOOK,
  reasonKey,
  rotateSecret,
  rotationEventKey,
  type SecretConfig,
} from './rotate.ts';

export interface RedeployDeps
  extends Pick<
    RotateDeps,
    'ssm' | 'events' | 'audit' | 'clock' | 'killSwitchParameter' | 'dryRun' | 'owner' | 'leaseMs'
  > {
  readonly ecs: ECSClient;
  readonly redeploys: RedeployStore;
}

/** What became of one consumer's redeployment in this run. */
export interface ConsumerRedeploy {
  /** `cluster/service`. */
  readonly service: string;
  readonly result: 'redeployed' | 'already-redeployed' | 'deferred' | 'busy' | 'dropped' | 'failed';
  readonly reason: string;
}

export type RedeployOutcome =
  /** No redeployment owed. */
  | { readonly outcome: 'none' }
  /** Owed, but the kill switch or dry run keeps it to a plan. */
  | { readonly outcome: 'planned'; readonly rotationId: string; readonly reason: string }
  | {
      readonly outcome: 'worked';
      readonly rotationId: string;
      readonly consumers: readonly ConsumerRedeploy[];
    };

/** One or more redeployments failed (each has its `Consumers Redeploy Failed` event): the run is retried. */
export class RedeployError extends NightshiftError {
  override readonly name = 'RedeployError';
}

/** The redeployments the secret's last finished rotation still owes, as far as they can be made now. */
export async function redeployConsumers(secret: SecretConfig, deps: RedeployDeps): Promise<RedeployOutcome> {
  const readers = secret.startReaders ?? [];
  // Nothing configured to redeploy: nothing read (a list a config change left behind is replaced by the next rotation's).
  if (readers.length === 0) return { outcome: 'none' };
  const owed = await deps.redeploys.pending(secret.parameter);
  if (!owed) return { outcome: 'none' };
  const { rotationId } = owed;
  const stop = deps.dryRun
    ? 'dry run: the redeployment is planned, not made'
    : await readKillSwitch(deps.ssm, deps.killSwitchParameter).then((k) =>
        k.engaged ? k.reason : undefined,
      );
  if (stop) {
    await audit(deps, secret, 'planned', stop, { rotationId, services: Object.keys(owed.pending) });
    return { outcome: 'planned', rotationId, reason: stop };
  }
  const consumers: ConsumerRedeploy[] = [];
  for (const [serviceArn, owedTo] of Object.entries(owed.pending)) {
    const reader = readers.find((r) => r.serviceArn === serviceArn);
    const label = `${owedTo.cluster}/${owedTo.service}`;
    if (!reader) {
      // No longer configured as a start reader: this function may not deploy it any more (IAM), nor should it.
      const reason = `${label} is no longer configured as a consumer reading ${secret.parameter} at start: not redeployed`;
      await audit(deps, secret, 'skipped', reason, { rotationId, serviceArn });
      await deps.redeploys.markDone(secret.parameter, rotationId, serviceArn, deps.clock());
      consumers.push({ service: label, result: 'dropped', reason });
      continue;
    }
    consumers.push(await redeployOne(secret, rotationId, reader, deps));
  }
  return { outcome: 'worked', rotationId, consumers };
}

/**
 * A scheduled run for one secret: its rotation, then the redeployments owed (the one it just finished, or
 * an earlier one deferred). A failure of either fails the run, after both had their turn.
 */
export async function rotateAndRedeploy(
  secret: SecretConfig,
  deps: RotateDeps & RedeployDeps,
): Promise<{ readonly rotation: RotateOutcome; readonly redeploy: RedeployOutcome }> {
  const rotation = await settle(rotateSecret(secret, deps));
  const redeployed = await settle(redeployConsumers(secret, deps));
  if (rotation.error !== undefined) throw rotation.error;
  if (redeployed.error !== undefined) throw redeployed.error;
  const out = { rotation: rotation.value as RotateOutcome, redeploy: redeployed.value as RedeployOutcome };
  const failed =
    out.redeploy.outcome === 'worked' ? out.redeploy.consumers.filter((c) => c.result === 'failed') : [];
  if (failed.length > 0) {
    throw new RedeployError(
      `the redeployment of ${failed.map((f) => `${f.service} (${f.reason})`).join('; ')} failed: the next run retries`,
    );
  }
  return out;
}

const settle = <T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error ?? new Error('unknown failure') }),
  );

const audit = (
  deps: RedeployDeps,
  secret: SecretConfig,
  outcome: 'performed' | 'planned' | 'skipped' | 'failed',
  reason: string,
  details: Record<string, unknown>,
) =>
  deps.audit.record(
    { runbook: RUNBOOK, action: 'redeploy-consumers', subject: secret.parameter, outcome, reason, details },
    deps.clock(),
  );

async function redeployOne(
  secret: SecretConfig,
  rotationId: string,
  reader: { readonly cluster: string; readonly service: string; readonly serviceArn: string },
  deps: RedeployDeps,
): Promise<ConsumerRedeploy> {
  const label = `${reader.cluster}/${reader.service}`;
  const { serviceArn } = reader;
  const episodeId = redeployEpisodeId(secret.parameter, rotationId);
  const plan = async () =>
    planRedeploy({
      claim: await deps.redeploys.loadClaim(serviceArn),
      episodeId,
      owner: deps.owner,
      now: deps.clock(),
    });
  const about = {
    parameter: secret.parameter,
    rotationId,
    service: reader.service,
    cluster: reader.cluster,
    serviceArn,
  };
  try {
    let decision: RedeployDecision = await plan();
    // A lost conditional write: someone else changed the claim since it was read. Looked at once more —
    // another run's redeployment of this rotation is no reason to warn; a rollback that just began is.
    for (let attempt = 0; decision.do === 'take' && attempt < 2; attempt++) {
      const now = deps.clock();
      const took = await deps.redeploys.takeClaim(
        serviceArn,
        {
          episodeId,
          owner: deps.owner,
          leaseUntil: now + deps.leaseMs,
          reason: decision.reason,
          claimedAt: now,
        },
        decision.observed,
        now,
      );
      if (took) return await deploy(secret, rotationId, reader, episodeId, decision.reason, deps);
      decision = attempt === 0 ? await plan() : { do: 'busy', reason: 'another writer took the claim first' };
    }
    if (decision.do === 'take') throw new Error('unreachable: a claim taken is deployed');
    if (decision.do === 'done') {
      await deps.redeploys.markDone(secret.parameter, rotationId, serviceArn, deps.clock());
      return { service: label, result: 'already-redeployed', reason: decision.reason };
    }
    if (decision.do === 'busy') return { service: label, result: 'busy', reason: decision.reason };
    const reason = deferredReason(secret, label, decision.reason);
    await audit(deps, secret, 'skipped', reason, { rotationId, serviceArn });
    await deps.events.publish({
      detailType: 'Consumers Redeploy Deferred',
      eventKey: rotationEventKey(
        secret,
        rotationId,
        `redeploy-deferred-${reasonKey(`${serviceArn}|${decision.blocker}`)}`,
      ),
      severity: 'warning',
      resources: [serviceArn],
      detail: {
        ...about,
        reason,
        ...(decision.until === undefined ? {} : { deferredUntil: new Date(decision.until).toISOString() }),
      },
    });
    return { service: label, result: 'deferred', reason };
  } catch (error) {
    // A failed read or write of the claim, or of UpdateService: never "redeployed"; still owed.
    const reason = `${(error as Error).name}: ${(error as Error).message.slice(0, 300)}`;
    await audit(deps, secret, 'failed', reason, { rotationId, serviceArn }).catch(() => undefined);
    await deps.events
      .publish({
        detailType: 'Consumers Redeploy Failed',
        eventKey: rotationEventKey(
          secret,
          rotationId,
          `redeploy-failed-${reasonKey(`${serviceArn}|${(error as Error).name}`)}`,
        ),
        severity: 'warning',
        resources: [serviceArn],
        detail: {
          ...about,
          reason: `the redeployment of ${label} after the rotation of ${secret.parameter} did not complete: ${reason}. The next run retries`,
        },
      })
      .catch(() => undefined);
    return { service: label, result: 'failed', reason };
  }
}

/** The claim is this run's: the deployment, then the event, then the claim published and the debt settled. */
async function deploy(
  secret: SecretConfig,
  rotationId: string,
  reader: { readonly cluster: string; readonly service: string; readonly serviceArn: string },
  episodeId: string,
  claimReason: string,
  deps: RedeployDeps,
): Promise<ConsumerRedeploy> {
  const label = `${reader.cluster}/${reader.service}`;
  const { serviceArn } = reader;
  try {
    // The same revision, nothing else changed: ECS starts new tasks, which read the parameter's new value.
    await deps.ecs.send(
      new UpdateServiceCommand({
        cluster: reader.cluster,
        service: reader.service,
        forceNewDeployment: true,
      }),
    );
  } catch (error) {
    await deps.redeploys.endClaimLease(serviceArn, episodeId, deps.owner, deps.clock());
    throw error;
  }
  const updatedAt = deps.clock();
  const reason = `${label} reads ${secret.parameter} only at start: a new deployment of the revision it runs (forceNewDeployment), so its tasks start with the new value (${claimReason})`;
  await audit(deps, secret, 'performed', reason, { rotationId, serviceArn, episodeId });
  // Before the claim is published: a crash in between makes the next run redeploy again (harmless) and say
  // so again (the same key), never a redeployment nobody heard of.
  await deps.events.publish({
    detailType: 'Consumers Redeployed',
    eventKey: rotationEventKey(secret, rotationId, `redeployed-${reasonKey(serviceArn)}`),
    severity: 'info',
    resources: [serviceArn],
    detail: {
      parameter: secret.parameter,
      rotationId,
      service: reader.service,
      cluster: reader.cluster,
      serviceArn,
      reason,
    },
  });
  try {
    // Lost: the lease ran out and another run (or a rollback) took the claim over. The deployment was made
    // all the same; whoever holds the claim now makes its own.
    await deps.redeploys.publishClaim(serviceArn, episodeId, deps.owner, updatedAt);
    await deps.redeploys.markDone(secret.parameter, rotationId, serviceArn, deps.clock());
  } catch (error) {
    // The deployment was made; only its record failed: a later run redeploys once more (harmless).
    return {
      service: label,
      result: 'redeployed',
      reason: `${reason}; recording it failed (${(error as Error).name}): a later run may redeploy it once more`,
    };
  }
  return { service: label, result: 'redeployed', reason };
}

function deferredReason(secret: SecretConfig, label: string, why: string): string {
  const meanwhile =
    secret.policy.kind === 'postgres-single'
      ? `its running tasks cannot log in until then: the single user's old password stopped working when the rotation set the new one`
      : secret.policy.kind === 'postgres-alternating'
        ? 'its running tasks keep the previous user, which works until the next rotation'
        : `its running tasks keep the previous value, accepted as :previous through the ${secret.policy.graceDays}-day grace period`;
  return `${label} reads ${secret.parameter} only at start and is not redeployed yet: ${why}; ${meanwhile}. Every run tries again`;
}
