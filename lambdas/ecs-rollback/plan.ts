import { claimKindOf } from '#shared/service-claim';
import { humanDuration } from '#shared/time';
import { type ConfigTenure, planConfig } from '../config-rollback/plan.ts';
import {
  assessRevisions,
  isKnownGood,
  type RevisionAssessment,
  selectRollbackTarget,
  tenureStart,
  withObservedPrimary,
} from './known-good.ts';
import type { AlarmEpisode, AlarmWindow, RevisionRecord, RollbackClaim, ServiceView } from './model.ts';

/** The rules' settings, from config. */
export interface RollbackRules {
  readonly bakeMs: number;
  readonly cooldownMs: number;
  readonly leaveInProgressToEcs: boolean;
  readonly deploymentAlarmConflict: 'suspend' | 'refuse';
}

/** The known-good target as observed: its registration status and whether its images are pinned. */
export interface TargetView {
  readonly taskDefinitionArn: string;
  /** `ACTIVE`, `INACTIVE`, `DELETE_IN_PROGRESS`, or `MISSING` when ECS no longer has it. */
  readonly status: string;
  /** Containers whose image is referenced by a tag rather than a digest. */
  readonly mutableImages: readonly string[];
}

/** Everything the alarm plan decides from. No I/O happens in planning. */
export interface AlarmObservation {
  readonly now: number;
  readonly rules: RollbackRules;
  readonly service: ServiceView;
  readonly episode: AlarmEpisode;
  readonly revisions: readonly RevisionRecord[];
  readonly alarmWindows: readonly AlarmWindow[];
  readonly claim?: RollbackClaim;
  readonly target?: TargetView;
  /** Of the service's deployment alarms, those that also guard it in Nightshift's config. */
  readonly alarmsGuardingService?: readonly string[];
  /** The service's config parameters, each version assessed (config rollback). */
  readonly config?: readonly (readonly ConfigTenure[])[];
}

interface PlanBase {
  readonly service: string;
  readonly serviceArn: string;
  readonly episode: AlarmEpisode;
  readonly reason: string;
}

/** Roll the service back to a known-good revision. */
export interface RollbackPlan extends PlanBase {
  readonly kind: 'rollback';
  readonly from: string;
  readonly to: string;
  /** Re-register `to` (ECS's own copy while ECS describes it, else the stored one), images pinned to the recorded digests. */
  readonly pin: boolean;
  readonly pinReason?: string;
  /** Turn the service's alarm-based deployment rollback off for this deployment (restored when it completes). */
  readonly suspendDeploymentAlarms: boolean;
}

/** Write a config parameter's known-good version back (and redeploy the service if it reads it at start). */
export interface ConfigRollbackPlan extends PlanBase {
  readonly kind: 'config-rollback';
  /** The task definition the service runs (a start-time reader's redeployment runs it again). */
  readonly current: string;
  readonly parameter: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly latestVersion: number;
  readonly readsAt: 'start' | 'run-time';
  readonly cacheTtlMs: number;
}

/** Finish a rollback whose invocation stopped part-way (its lease expired). */
export interface ResumePlan extends PlanBase {
  readonly kind: 'resume';
  readonly claim: RollbackClaim;
}

/** The service is on Nightshift's rollback and still alarms: page a human. */
export interface EscalatePlan extends PlanBase {
  readonly kind: 'escalate';
  readonly current: string;
  readonly rolledBackFrom: string;
  readonly claim: RollbackClaim;
}

/** Nothing to do, and why. `duplicate` marks deliveries of an episode that was already handled. */
export interface NoActionPlan extends PlanBase {
  readonly kind: 'no-action';
  readonly duplicate: boolean;
  readonly current?: string;
  /** The config change the episode is blamed on, when it is a config rollback that is skipped. */
  readonly config?: { readonly parameter: string; readonly version: number };
}

/**
 * Another invocation holds an unexpired lease on the service's claim: this delivery must fail so Lambda
 * retries it (and, retries spent, it reaches the DLQ). Never "already handled": the holder may have died.
 */
export interface WaitPlan extends PlanBase {
  readonly kind: 'wait';
  readonly leaseUntil: number;
}

export type AlarmPlan =
  | RollbackPlan
  | ConfigRollbackPlan
  | ResumePlan
  | EscalatePlan
  | NoActionPlan
  | WaitPlan;

/** Revision label for reasons: `webhooks-api:2`. */
export function revisionLabel(taskDefinitionArn: string): string {
  return taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf('/') + 1);
}

/**
 * Decides what to do about one alarm entering ALARM for one service.
 *
 * Rolls back only when the current revision is not known-good, became primary within the bake window before
 * the alarm, the service has a known-good revision, no rollback of the service happened within the cooldown,
 * and this episode was not acted on. Several alarms of one service firing together make one rollback: the
 * claim is per service. A revision Nightshift rolled back from, or rolled back to, is never rolled back
 * (again): an alarm then escalates instead.
 */
export function planAlarm(o: AlarmObservation): AlarmPlan {
  const base = { service: o.service.name, serviceArn: o.service.arn, episode: o.episode };
  const none = (reason: string, extra: { duplicate?: boolean; current?: string } = {}): NoActionPlan => ({
    ...base,
    kind: 'no-action',
    duplicate: extra.duplicate ?? false,
    current: extra.current,
    reason,
  });

  if (o.service.controller !== 'ECS') {
    return none(`deployment controller is ${o.service.controller}: rollbacks are left to it`);
  }
  const primary = o.service.deployments.find((d) => d.status === 'PRIMARY');
  if (!primary) return none('service has no primary deployment');
  const current = primary.taskDefinitionArn;
  const label = revisionLabel(current);

  const claimDecision = o.claim ? planFromClaim(o, o.claim, current, base, none) : undefined;
  if (claimDecision) return claimDecision;

  if (primary.rolloutState === 'IN_PROGRESS' && o.rules.leaveInProgressToEcs) {
    return none(
      `deployment of ${label} is still in progress: left to ECS (circuit breaker, deployment alarms)`,
      {
        current,
      },
    );
  }
  // What ECS shows now ends the tenure of every earlier revision, even if a deployment event was missed.
  const records = withObservedPrimary(o.revisions, primary);
  const assessments = assessRevisions(records, o.alarmWindows, o.now, o.rules.bakeMs);
  const currentRecords = assessments.filter((a) => a.record.taskDefinitionArn === current);
  // Age from the first time this revision became primary: a redeployment of it does not make it new again.
  const firstPrimary = Math.min(...currentRecords.map((a) => a.record.primarySince), primary.createdAt);
  // An alarm is this revision's only if it fired during its present tenure: since it became primary with
  // no other revision in between (same-revision redeployments continue a tenure; going back to it after
  // another revision starts a new one).
  if (o.episode.start < tenureStart(records, current, primary.createdAt)) {
    return none(
      `alarm ${o.episode.alarmName} entered ALARM before ${label} became primary: not caused by it`,
      { current },
    );
  }

  // The suspect is the most recent change in effect: a config change made after this revision, or the revision.
  const config = o.config
    ? planConfig({
        tenures: o.config,
        alarmStart: o.episode.start,
        alarmName: o.episode.alarmName,
        bakeMs: o.rules.bakeMs,
        revisionSince: firstPrimary,
      })
    : undefined;
  if (config?.kind === 'refuse') {
    return {
      ...none(config.reason, { current }),
      config: { parameter: config.suspect.parameter, version: config.suspect.version.version },
    };
  }
  if (config?.kind === 'rollback') {
    return {
      ...base,
      kind: 'config-rollback',
      current,
      parameter: config.suspect.parameter,
      fromVersion: config.suspect.version.version,
      toVersion: config.target.version.version,
      latestVersion: config.latestVersion,
      readsAt: config.suspect.readsAt,
      cacheTtlMs: config.suspect.cacheTtlMs,
      reason: config.reason,
    };
  }

  if (currentRecords.some((a) => a.record.origin === 'rollback')) {
    return none(`${label} is Nightshift's rollback of a known-good revision: never a suspect`, { current });
  }
  const age = o.episode.start - firstPrimary;
  if (isKnownGood(assessments, current)) {
    return none(
      `${label} is known-good (${knownGoodReason(currentRecords)}) and became primary ${humanDuration(age)} before the alarm: not a deploy regression`,
      { current },
    );
  }
  if (age > o.rules.bakeMs) {
    return none(`deployment of ${label} is ${humanDuration(age)} old: not a deploy regression`, { current });
  }

  const target = selectRollbackTarget(assessments, current);
  if (!target) return none(`no known-good revision to roll back ${label} to`, { current });

  // A deployment alarm that is the firing alarm, or another alarm guarding this service, is red or may turn
  // red in this episode, and ECS would then fail the rollback deployment and return to the bad revision.
  const deploymentAlarms = o.service.deploymentAlarms;
  const conflicting =
    deploymentAlarms?.enable === true
      ? deploymentAlarms.alarmNames.filter(
          (n) => n === o.episode.alarmName || (o.alarmsGuardingService ?? []).includes(n),
        )
      : [];
  const conflict = conflicting.length > 0;
  if (conflict && o.rules.deploymentAlarmConflict === 'refuse') {
    return none(
      `deployment alarm(s) ${conflicting.join(', ')} guard this service and would fail the rollback deployment (deploymentAlarmConflict: refuse)`,
      { current },
    );
  }

  const deployable = deployability(o.target, target);
  if ('refuse' in deployable) return none(deployable.refuse, { current });
  return {
    ...base,
    kind: 'rollback',
    from: current,
    to: target.taskDefinitionArn,
    pin: deployable.pinReason !== undefined,
    pinReason: deployable.pinReason,
    suspendDeploymentAlarms: conflict,
    reason: `${label} became primary ${humanDuration(age)} before alarm ${o.episode.alarmName} and is not known-good; rolling back to known-good ${revisionLabel(target.taskDefinitionArn)}`,
  };
}

function knownGoodReason(records: readonly RevisionAssessment[]): string {
  return records.find((a) => a.knownGood)?.reason ?? 'known-good';
}

/**
 * Whether the known-good revision can be deployed as exactly what ran: as it is, re-registered from its
 * recorded definition with images pinned to the recorded digests, or not at all (refused, with the reason).
 */
function deployability(
  target: TargetView | undefined,
  record: RevisionRecord,
): { pinReason?: string } | { refuse: string } {
  const label = revisionLabel(record.taskDefinitionArn);
  const status = target?.status ?? 'ACTIVE';
  const gone = status !== 'ACTIVE';
  // ECS still describes an INACTIVE revision and its own copy is re-registered; the recorded JSON is only
  // for a revision ECS no longer has.
  if (status === 'MISSING' && !record.taskDefinitionJson) {
    return { refuse: `known-good ${label} is ${status} and no copy of its definition was recorded` };
  }
  if (status === 'DELETE_IN_PROGRESS') {
    return { refuse: `known-good ${label} is ${status}: ECS is deleting it` };
  }
  const digests = record.imageDigests ?? {};
  const mutable = target?.mutableImages ?? [];
  const unpinnable = mutable.filter((c) => digests[c] === undefined);
  if (unpinnable.length > 0) {
    return {
      refuse: `images of ${unpinnable.join(', ')} in known-good ${label} use mutable tags and their digests were not recorded: deploying by tag could run a different image`,
    };
  }
  if (gone)
    return {
      pinReason: `${label} is ${status}: re-registering ${status === 'MISSING' ? 'its recorded definition' : "ECS's own copy of it"}, images pinned to the recorded digests`,
    };
  if (mutable.length > 0) {
    return {
      pinReason: `images of ${mutable.join(', ')} use mutable tags: re-registering pinned to the recorded digests`,
    };
  }
  return {};
}

function planFromClaim(
  o: AlarmObservation,
  claim: RollbackClaim,
  current: string,
  base: Omit<PlanBase, 'reason'>,
  none: (reason: string, extra?: { duplicate?: boolean; current?: string }) => NoActionPlan,
): AlarmPlan | undefined {
  const episode = o.episode;
  const kind = claimKindOf(claim);
  if (kind === 'redeploy') {
    // A rotation's same-revision redeployment: never a suspect and no cooldown, but one deployment at a time.
    if (claim.stage !== 'published' && claim.leaseUntil > o.now) {
      return {
        ...base,
        kind: 'wait',
        leaseUntil: claim.leaseUntil,
        reason: `Nightshift is redeploying this service (${claim.reason}; lease until ${new Date(claim.leaseUntil).toISOString()}): retry to see it finish`,
      };
    }
    return undefined;
  }
  const deployed = claim.deployTaskDefinitionArn ?? claim.toTaskDefinitionArn;
  const what =
    kind === 'config' && claim.config
      ? `the config rollback of ${claim.config.parameter} to v${claim.config.toVersion}`
      : `the rollback to ${revisionLabel(deployed)}`;
  if (claim.stage !== 'published') {
    if (claim.leaseUntil > o.now) {
      const same = claim.episodeId === episode.id;
      return {
        ...base,
        kind: 'wait',
        leaseUntil: claim.leaseUntil,
        reason: `${same ? 'this episode is being rolled back' : `a rollback of this service for alarm ${claim.alarmName} is in progress`} (stage ${claim.stage}, lease until ${new Date(claim.leaseUntil).toISOString()}): retry to see it finish or take it over`,
      };
    }
    // Resume only what is still the same situation; a stale claim is abandoned and the alarm planned afresh.
    const sameSituation = current === claim.fromTaskDefinitionArn || current === deployed;
    if (sameSituation && o.now - claim.episodeStart <= o.rules.bakeMs) {
      return {
        ...base,
        kind: 'resume',
        claim,
        reason: `resuming the rollback of episode ${claim.episodeId} from stage ${claim.stage}`,
      };
    }
    return undefined;
  }
  if (claim.episodeId === episode.id) {
    const done = claim.skipped
      ? `skipped (${claim.reason})`
      : kind === 'config'
        ? what
        : `rolled back to ${revisionLabel(deployed)}`;
    return none(`already handled: ${done}`, { duplicate: true });
  }
  // A skipped rollback changed nothing: another episode is planned afresh.
  if (claim.skipped) return undefined;
  // The episode ends when the rollback deployment completed (or, if that was never seen, a bake window
  // after the update): an alarm that entered ALARM before that belongs to the episode already handled.
  const episodeEnd = claim.completedAt ?? (claim.updatedAt ?? claim.episodeStart) + o.rules.bakeMs;
  if (episode.start < episodeEnd && episode.start >= claim.episodeStart - o.rules.bakeMs) {
    return none(
      `already handled: alarm ${episode.alarmName} is part of the episode rolled back for ${claim.alarmName}`,
      { duplicate: true },
    );
  }
  const after = claim.updatedAt !== undefined && episode.start >= claim.updatedAt;
  // A config rollback redeploys the same revision: being on it says nothing about the rollback.
  const backOnBadRevision = kind !== 'config' && after && current === claim.fromTaskDefinitionArn;
  const rollbackIneffective =
    after &&
    current === deployed &&
    claim.completedAt !== undefined &&
    episode.start < claim.completedAt + o.rules.bakeMs;
  if (backOnBadRevision || rollbackIneffective) {
    if (claim.ineffective?.stage === 'claimed' && claim.ineffective.leaseUntil > o.now) {
      return {
        ...base,
        kind: 'wait',
        leaseUntil: claim.ineffective.leaseUntil,
        reason: `${what} is being escalated by another invocation: retry to see it sent`,
      };
    }
    if (claim.ineffective?.stage === 'published') {
      return none(`already handled: ${what} was already escalated`, {
        duplicate: true,
      });
    }
    return {
      ...base,
      kind: 'escalate',
      current,
      rolledBackFrom: claim.fromTaskDefinitionArn,
      claim,
      reason: backOnBadRevision
        ? `the service is back on ${revisionLabel(current)}, which Nightshift rolled back from for ${claim.alarmName}, and alarm ${episode.alarmName} fired: not rolling back again`
        : `alarm ${episode.alarmName} fired ${humanDuration(episode.start - (claim.completedAt ?? 0))} after ${what} completed: not rolling back again`,
    };
  }
  if (claim.updatedAt !== undefined && o.now - claim.updatedAt < o.rules.cooldownMs) {
    return none(
      `cooldown: service was rolled back ${humanDuration(o.now - claim.updatedAt)} ago (cooldown ${humanDuration(o.rules.cooldownMs)})`,
    );
  }
  return undefined;
}
