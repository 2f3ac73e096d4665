import type { ECSClient, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AuditEntry, AuditLog } from '#shared/audit';
import { NightshiftError } from '#shared/errors';
import type { EventPublisher } from '#shared/publisher';
import type { Clock } from '#shared/time';
import { iso } from '#shared/time';
import { driveConfig } from '../config-rollback/act.ts';
import {
  describeService,
  describeTaskDefinition,
  type ObservedService,
  registerPinnedCopy,
  type ServiceLocation,
  updateServiceTaskDefinition,
} from './ecs.ts';
import type { RevisionRecord, RollbackClaim } from './model.ts';
import {
  type AlarmPlan,
  type ConfigRollbackPlan,
  type EscalatePlan,
  type RollbackPlan,
  revisionLabel,
} from './plan.ts';
import type { RollbackStore } from './store.ts';

export const RUNBOOK = 'ecs-rollback';

/** What act needs; clients are passed in, never imported. */
export interface ActDeps {
  readonly ecs: ECSClient;
  /** Config rollback reads and writes its parameters (and every runbook reads the kill switch). */
  readonly ssm: SSMClient;
  /** A published rollback holds off other Nightshift deployments of the service this long. @default 0 */
  readonly cooldownMs?: number;
  readonly store: RollbackStore;
  readonly audit: AuditLog;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  /** Identifies this invocation as a claim owner. */
  readonly owner: string;
  readonly leaseMs: number;
}

/** The context act carries out a plan in. */
export interface ActContext {
  readonly where: ServiceLocation;
  readonly service: ObservedService;
  readonly revisions: readonly RevisionRecord[];
  readonly observedClaim?: RollbackClaim;
  /** Why actions must not be carried out (dry-run, kill switch), or undefined to act. */
  readonly holdReason?: string;
}

export type Outcome = AuditEntry['outcome'];

export interface ActResult {
  readonly outcome: Outcome;
  readonly action: string;
  readonly reason: string;
  readonly deployed?: string;
}

export class ClaimLostError extends NightshiftError {
  override readonly name: string = 'ClaimLostError';
}

/**
 * Another invocation holds the service's claim (or won it just now): this delivery fails so that Lambda
 * retries it and, retries spent, it reaches the DLQ. It is never answered "already handled": the holder may
 * have died, and its lease ends by itself for a retry to take over.
 */
export class ClaimBusyError extends NightshiftError {
  override readonly name: string = 'ClaimBusyError';
}

/** A rollback failed part-way and its claim could not be released either: the lease runs out by itself. */
export class RollbackIncompleteError extends NightshiftError {
  override readonly name: string = 'RollbackIncompleteError';
}

const PIPELINE_NOTE =
  'Do not redeploy the rolled-back revision: the pipeline must ship a fix (or revert) instead of re-applying it.';

/** Carries out a plan: idempotently, once per episode, recording and publishing what it did. */
export async function act(plan: AlarmPlan, ctx: ActContext, deps: ActDeps): Promise<ActResult> {
  const subject = plan.service;
  const record = async (
    action: string,
    outcome: Outcome,
    reason: string,
    details: Record<string, unknown> = {},
  ) => {
    await deps.audit.record(
      {
        runbook: RUNBOOK,
        action,
        outcome,
        subject,
        reason,
        details: { alarm: plan.episode.alarmName, ...details },
      },
      deps.clock(),
    );
    return { action, outcome, reason };
  };

  if (plan.kind === 'wait') throw new ClaimBusyError(plan.reason);

  if (plan.kind === 'no-action') {
    const details = plan.current ? { current: revisionLabel(plan.current) } : {};
    if (plan.duplicate) return record('already-handled', 'skipped', plan.reason, details);
    // Announce a decision once per episode, however often the alarm is delivered; a failed announcement is
    // never taken for a sent one.
    const now = deps.clock();
    const mark = await deps.store.markAnnounced(plan.serviceArn, plan.episode.id, now, now + deps.leaseMs);
    if (mark === 'announced') return record('already-handled', 'skipped', plan.reason, details);
    if (mark === 'in-flight') {
      throw new ClaimBusyError(
        `another invocation is announcing the decision on episode ${plan.episode.id}: retry to see it sent`,
      );
    }
    try {
      await deps.publisher.publish({
        detailType: plan.config ? 'Config Rollback Skipped' : 'Rollback Skipped',
        severity: 'info',
        eventKey: `ecs-rollback#${plan.serviceArn}#${plan.episode.id}#skipped`,
        resources: [plan.serviceArn],
        detail: {
          service: plan.service,
          alarm: plan.episode.alarmName,
          episode: plan.episode.id,
          current: plan.current,
          ...(plan.config ? { parameter: plan.config.parameter, version: plan.config.version } : {}),
          reason: plan.reason,
        },
      });
    } catch (error) {
      const released = await deps.store
        .releaseAnnouncement(plan.serviceArn, plan.episode.id, deps.clock())
        .then(
          () => undefined,
          (e: unknown) => e ?? new Error('release failed'),
        );
      if (released) {
        throw new RollbackIncompleteError(
          `${describe(error)}; releasing the announcement failed too (${describe(released)}): its lease ends by itself and a retry after it sends it`,
          { cause: error },
        );
      }
      throw error;
    }
    // If this fails the retry announces again once the lease ends: at least once, never lost.
    await deps.store.completeAnnouncement(plan.serviceArn, plan.episode.id);
    return record('no-action', 'skipped', plan.reason, details);
  }

  if (ctx.holdReason !== undefined) {
    return record(plan.kind, 'planned', `${plan.reason} — not carried out: ${ctx.holdReason}`);
  }

  if (plan.kind === 'escalate') return escalate(plan, deps, record);

  let claim: RollbackClaim;
  const now = deps.clock();
  if (plan.kind === 'config-rollback' || plan.kind === 'rollback') {
    claim =
      plan.kind === 'config-rollback' ? configClaim(plan, deps, now) : taskDefinitionClaim(plan, deps, now);
    const won = await deps.store
      .acquire(plan.serviceArn, claim, ctx.observedClaim, now)
      .catch(async (error) => {
        // The write may have landed (a timeout): free the lease so the retry resumes at once; if that fails too,
        // the lease runs out by itself. Either way this delivery fails and is retried.
        const released = await releaseOrError(deps, plan.serviceArn);
        throw released ? incomplete(error, released, claim) : error;
      });
    if (!won) {
      throw new ClaimBusyError(
        `another invocation claimed ${plan.service} first: retry to see its rollback finish or take it over`,
      );
    }
  } else {
    claim = { ...plan.claim, owner: deps.owner, leaseUntil: now + deps.leaseMs };
    if (!(await deps.store.takeOver(plan.serviceArn, plan.claim, deps.owner, claim.leaseUntil, now))) {
      throw new ClaimBusyError(
        `another invocation resumed the rollback of ${plan.service} first: retry to see it finish`,
      );
    }
  }

  if (claim.kind === 'config') return driveConfigClaim(claim, ctx, deps, plan.kind === 'resume', record);
  try {
    const deployed = await drive(claim, ctx, deps);
    const result = await record(
      'rollback',
      'performed',
      `rolled back ${revisionLabel(claim.fromTaskDefinitionArn)} → ${revisionLabel(deployed)}: ${claim.reason}`,
      {
        from: claim.fromTaskDefinitionArn,
        to: deployed,
        source: claim.toTaskDefinitionArn,
        resumed: plan.kind === 'resume',
      },
    );
    return { ...result, deployed };
  } catch (error) {
    // Free the lease so the retry of this event resumes at once instead of waiting it out.
    const released = await releaseOrError(deps, plan.serviceArn);
    await record(
      'rollback',
      'failed',
      `rollback failed part-way and will be resumed by the retry: ${describe(error)}`,
      { stage: claim.stage, ...(released ? { releaseFailed: describe(released) } : {}) },
    ).catch(() => undefined);
    throw released ? incomplete(error, released, claim) : error;
  }
}

function configClaim(plan: ConfigRollbackPlan, deps: ActDeps, now: number): RollbackClaim {
  return {
    kind: 'config',
    episodeId: plan.episode.id,
    alarmName: plan.episode.alarmName,
    episodeStart: plan.episode.start,
    stage: 'claimed',
    leaseUntil: now + deps.leaseMs,
    owner: deps.owner,
    fromTaskDefinitionArn: plan.current,
    toTaskDefinitionArn: plan.current,
    pin: false,
    suspendDeploymentAlarms: false,
    reason: plan.reason,
    config: {
      parameter: plan.parameter,
      fromVersion: plan.fromVersion,
      toVersion: plan.toVersion,
      latestVersion: plan.latestVersion,
      readsAt: plan.readsAt,
      cacheTtlMs: plan.cacheTtlMs,
    },
  };
}

function taskDefinitionClaim(plan: RollbackPlan, deps: ActDeps, now: number): RollbackClaim {
  return {
    episodeId: plan.episode.id,
    alarmName: plan.episode.alarmName,
    episodeStart: plan.episode.start,
    stage: 'claimed',
    leaseUntil: now + deps.leaseMs,
    owner: deps.owner,
    fromTaskDefinitionArn: plan.from,
    toTaskDefinitionArn: plan.to,
    pin: plan.pin,
    pinReason: plan.pinReason,
    suspendDeploymentAlarms: plan.suspendDeploymentAlarms,
    reason: plan.reason,
  };
}

/** A config claim driven to its end, recorded; a failure frees the lease for the retry, as for a rollback. */
async function driveConfigClaim(
  claim: RollbackClaim,
  ctx: ActContext,
  deps: ActDeps,
  resumed: boolean,
  record: (
    action: string,
    outcome: Outcome,
    reason: string,
    details?: Record<string, unknown>,
  ) => Promise<ActResult>,
): Promise<ActResult> {
  const serviceArn = ctx.service.arn;
  let current = claim;
  const advance = async (fields: Partial<RollbackClaim>) => {
    if (!(await deps.store.advance(serviceArn, deps.owner, fields, deps.clock()))) {
      throw new ClaimLostError(`lost the claim on ${ctx.where.name} while at stage ${current.stage}`);
    }
    current = { ...current, ...fields };
    return current;
  };
  try {
    const done = await driveConfig(claim, ctx.where, { ...deps, cooldownMs: deps.cooldownMs ?? 0 }, advance);
    const c = current.config;
    if (done === 'skipped')
      return await record('config-rollback', 'skipped', current.reason, { parameter: c?.parameter });
    return await record(
      'config-rollback',
      'performed',
      `wrote ${c?.parameter} v${c?.toVersion} back as v${c?.writtenVersion}${c?.readsAt === 'start' ? ' and redeployed the service' : ''}: ${claim.reason}`,
      {
        parameter: c?.parameter,
        from: c?.fromVersion,
        restored: c?.toVersion,
        written: c?.writtenVersion,
        resumed,
      },
    );
  } catch (error) {
    const released = await releaseOrError(deps, serviceArn);
    await record(
      'config-rollback',
      'failed',
      `config rollback failed part-way and will be resumed by the retry: ${describe(error)}`,
      { stage: current.stage, ...(released ? { releaseFailed: describe(released) } : {}) },
    ).catch(() => undefined);
    throw released ? incomplete(error, released, current) : error;
  }
}

/** Releases this invocation's lease; the error when that failed (never swallowed: the caller reports it). */
async function releaseOrError(deps: ActDeps, serviceArn: string): Promise<unknown> {
  return deps.store.release(serviceArn, deps.owner, deps.clock()).then(
    () => undefined,
    (error: unknown) => error ?? new Error('release failed'),
  );
}

function incomplete(error: unknown, released: unknown, claim: RollbackClaim): RollbackIncompleteError {
  return new RollbackIncompleteError(
    `${describe(error)}; releasing the claim failed too (${describe(released)}): its lease ends at ${iso(claim.leaseUntil)} and a retry after it resumes the rollback`,
    { cause: error },
  );
}

/** Moves a claim through claimed → registered → updated → published; each step is skipped once done. */
async function drive(start: RollbackClaim, ctx: ActContext, deps: ActDeps): Promise<string> {
  let claim = start;
  const serviceArn = ctx.service.arn;
  const advance = async (fields: Partial<RollbackClaim>) => {
    if (!(await deps.store.advance(serviceArn, deps.owner, fields, deps.clock()))) {
      throw new ClaimLostError(`lost the claim on ${ctx.where.name} while at stage ${claim.stage}`);
    }
    claim = { ...claim, ...fields };
  };
  const source = latestRecordOf(ctx.revisions, claim.toTaskDefinitionArn);

  let registeredJson = source?.taskDefinitionJson;
  if (claim.stage === 'claimed') {
    let deploy = claim.toTaskDefinitionArn;
    if (claim.pin) {
      // ECS's own copy whenever ECS can still describe the revision (INACTIVE ones too): a stored JSON,
      // which anything able to write the table could have forged, only for a revision ECS no longer has.
      const described = await describeTaskDefinition(deps.ecs, claim.toTaskDefinitionArn);
      const definition =
        described.registerInput ??
        (source?.taskDefinitionJson
          ? (JSON.parse(source.taskDefinitionJson) as RegisterTaskDefinitionCommandInput)
          : undefined);
      if (!definition)
        throw new NightshiftError(`no definition of ${claim.toTaskDefinitionArn} to re-register`);
      registeredJson = JSON.stringify(definition);
      deploy = await registerPinnedCopy(
        deps.ecs,
        definition,
        source?.imageDigests ?? {},
        claim.toTaskDefinitionArn,
        claim.episodeId,
      );
    }
    await advance({ stage: 'registered', deployTaskDefinitionArn: deploy });
  }
  const deploy = claim.deployTaskDefinitionArn ?? claim.toTaskDefinitionArn;

  if (claim.stage === 'registered') {
    // On a resume the update may already have happened: the service tells.
    const now = await describeService(deps.ecs, ctx.where);
    const primary = now.deployments.find((d) => d.status === 'PRIMARY');
    if (primary?.taskDefinitionArn !== deploy) {
      const suspended = claim.suspendDeploymentAlarms ? suspendAlarms(now) : undefined;
      await updateServiceTaskDefinition(deps.ecs, ctx.where, deploy, suspended);
    }
    await deps.store.putRevision(
      serviceArn,
      {
        deploymentId: `nightshift/${claim.episodeId}`,
        taskDefinitionArn: deploy,
        primarySince: deps.clock(),
        origin: 'rollback',
        inheritsFrom: claim.toTaskDefinitionArn,
        taskDefinitionJson: registeredJson,
        imageDigests: source?.imageDigests,
      },
      deps.clock(),
    );
    await advance({ stage: 'updated', updatedAt: deps.clock() });
  }

  if (claim.stage === 'updated') {
    await deps.publisher.publish({
      detailType: 'Rollback Performed',
      severity: 'warning',
      eventKey: `ecs-rollback#${serviceArn}#${claim.episodeId}#performed`,
      resources: [serviceArn],
      detail: {
        service: ctx.where.name,
        serviceArn,
        from: claim.fromTaskDefinitionArn,
        to: deploy,
        knownGood: claim.toTaskDefinitionArn,
        alarm: claim.alarmName,
        episode: claim.episodeId,
        reason: claim.reason,
        reregistered: claim.pinReason,
        deploymentAlarmsSuspended: claim.suspendDeploymentAlarms,
        at: iso(claim.updatedAt ?? deps.clock()),
        pipeline: PIPELINE_NOTE,
      },
    });
    const published = {
      stage: 'published' as const,
      leaseUntil: 0,
      cooldownUntil: (claim.updatedAt ?? deps.clock()) + (deps.cooldownMs ?? 0),
    };
    try {
      await advance(published);
    } catch (error) {
      // The event is out: record that once more rather than release, so the retry does not page again.
      if (error instanceof ClaimLostError) throw error;
      await advance(published);
    }
  }
  return deploy;
}

async function escalate(
  plan: EscalatePlan,
  deps: ActDeps,
  record: (
    action: string,
    outcome: Outcome,
    reason: string,
    details?: Record<string, unknown>,
  ) => Promise<ActResult>,
): Promise<ActResult> {
  const now = deps.clock();
  if (
    !(await deps.store.claimEscalation(plan.serviceArn, plan.claim, plan.episode.id, now, now + deps.leaseMs))
  ) {
    throw new ClaimBusyError(
      `another invocation is escalating or escalated the rollback of ${plan.service}: retry to see it`,
    );
  }
  try {
    await publishIneffective(plan, deps);
  } catch (error) {
    // Free the escalation so the retry of this event sends the page instead of taking itself for a duplicate.
    const released = await deps.store.releaseEscalation(plan.serviceArn, plan.episode.id, deps.clock()).then(
      () => undefined,
      (e: unknown) => e ?? new Error('release failed'),
    );
    if (released)
      throw new RollbackIncompleteError(
        `${describe(error)}; releasing the escalation failed too (${describe(released)}): its lease ends by itself and a retry after it sends the page`,
        { cause: error },
      );
    throw error;
  }
  await deps.store.completeEscalation(plan.serviceArn, plan.claim, plan.episode.id);
  return record('escalate', 'performed', plan.reason, { current: revisionLabel(plan.current) });
}

async function publishIneffective(plan: EscalatePlan, deps: ActDeps): Promise<void> {
  await deps.publisher.publish({
    detailType: 'Rollback Ineffective',
    severity: 'critical',
    eventKey: `ecs-rollback#${plan.serviceArn}#${plan.episode.id}#ineffective`,
    resources: [plan.serviceArn],
    detail: {
      service: plan.service,
      serviceArn: plan.serviceArn,
      current: plan.current,
      rolledBackFrom: plan.rolledBackFrom,
      alarm: plan.episode.alarmName,
      episode: plan.episode.id,
      reason: plan.reason,
      pipeline: PIPELINE_NOTE,
    },
  });
}

function latestRecordOf(records: readonly RevisionRecord[], arn: string): RevisionRecord | undefined {
  return [...records]
    .filter((r) => r.taskDefinitionArn === arn)
    .sort((a, b) => a.primarySince - b.primarySince)
    .reverse()
    .find((r) => r.taskDefinitionJson !== undefined);
}

function suspendAlarms(service: ObservedService) {
  const config = service.deploymentConfiguration ?? {};
  return config.alarms ? { ...config, alarms: { ...config.alarms, enable: false } } : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
