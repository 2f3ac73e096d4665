import { claimKindOf } from '#shared/service-claim';
import type { DeploymentView, RevisionRecord, RollbackClaim, ServiceView } from './model.ts';
import { revisionLabel } from './plan.ts';

/** The ECS deployment events the runbook acts on. */
export type DeploymentEventName =
  | 'SERVICE_DEPLOYMENT_IN_PROGRESS'
  | 'SERVICE_DEPLOYMENT_COMPLETED'
  | 'SERVICE_DEPLOYMENT_FAILED';

/** Everything the deployment plan decides from. No I/O happens in planning. */
export interface DeploymentObservation {
  readonly now: number;
  readonly bakeMs: number;
  readonly bakeWindowMinutes: number;
  readonly eventName: DeploymentEventName;
  readonly deploymentId: string;
  /** When ECS says the deployment reached its state (an event time, within a real delivery's bounds). */
  readonly reportedAt: number;
  /** The event's own reason text (FAILED). */
  readonly eventReason?: string;
  /** The service as ECS describes it now. */
  readonly service: ServiceView;
  readonly revisions: readonly RevisionRecord[];
  readonly claim?: RollbackClaim;
}

/** Nothing to record, and why (a late event, another's failed deployment). */
export interface SkipDeploymentPlan {
  readonly kind: 'skip';
  readonly action: 'record-candidate' | 'deployment-failed';
  readonly reason: string;
}

/** A deployment became primary: record since when, and (first sight of the service) what it replaces. */
export interface RecordDeploymentPlan {
  readonly kind: 'record-deployment';
  readonly deployment: DeploymentView;
  /** Deployments already serving when Nightshift first saw the service: recorded as bootstrap revisions. */
  readonly bootstrap: readonly DeploymentView[];
  readonly reason: string;
}

/** A deployment completed: record it as a candidate (with its definition and digests, read by act). */
export interface RecordCandidatePlan {
  readonly kind: 'record-candidate';
  readonly deployment: DeploymentView;
  readonly completedAt: number;
  /** `rollback` for Nightshift's own rollback deployment, which inherits known-good from its source. */
  readonly origin: 'deployment' | 'rollback';
  readonly inheritsFrom?: string;
  /**
   * Nightshift's own rollback completed and is not yet noted: note it (restoring deployment alarms first).
   * `reason` stays the candidate's, for when another invocation noted the completion first.
   */
  readonly completeRollback?: { readonly restoreDeploymentAlarms: boolean; readonly episodeId: string };
  readonly reason: string;
}

/** Nightshift's own rollback deployment failed: page, and restore deployment alarms if it suspended them. */
export interface RollbackFailedPlan {
  readonly kind: 'rollback-failed';
  readonly claim: RollbackClaim;
  readonly deployed: string;
  readonly restoreDeploymentAlarms: boolean;
  readonly reason: string;
}

export type DeploymentPlan =
  | SkipDeploymentPlan
  | RecordDeploymentPlan
  | RecordCandidatePlan
  | RollbackFailedPlan;

/**
 * Decides what one ECS deployment event means for the known-good history. Pure: the rules of which
 * deployment is current, which is Nightshift's own, and when a failure is Nightshift's live here.
 */
export function planDeployment(o: DeploymentObservation): DeploymentPlan {
  if (o.eventName === 'SERVICE_DEPLOYMENT_FAILED') return planFailed(o);
  const deployment = o.service.deployments.find((d) => d.id === o.deploymentId);
  if (!deployment) {
    return {
      kind: 'skip',
      action: 'record-candidate',
      reason: `deployment ${o.deploymentId} is no longer current (event late or out of order): not recorded`,
    };
  }
  const label = revisionLabel(deployment.taskDefinitionArn);
  if (o.eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS') {
    return {
      kind: 'record-deployment',
      deployment,
      bootstrap:
        o.revisions.length === 0
          ? o.service.deployments.filter((d) => d.id !== o.deploymentId && d.status === 'ACTIVE')
          : [],
      reason: `${label} became primary (deployment ${o.deploymentId})`,
    };
  }
  // COMPLETED: when ECS says so, and never before ECS created the deployment.
  const completedAt = Math.max(o.reportedAt, deployment.createdAt);
  // Nightshift's own deployment: the one its claim made, created before the claim saw it complete (a repeat
  // of that event included). A later deployment of the same revision (a person's restart, a rotation's
  // redeployment) is not its own.
  const claim = o.claim;
  const own =
    claim !== undefined &&
    claim.deployTaskDefinitionArn === deployment.taskDefinitionArn &&
    (claim.completedAt === undefined || deployment.createdAt <= claim.completedAt);
  const completeRollback =
    own && claim.completedAt === undefined
      ? { restoreDeploymentAlarms: claim.suspendDeploymentAlarms ?? false, episodeId: claim.episodeId }
      : undefined;
  return {
    kind: 'record-candidate',
    deployment,
    completedAt,
    origin: own ? 'rollback' : 'deployment',
    inheritsFrom: own ? claim.toTaskDefinitionArn : undefined,
    completeRollback,
    reason: `${label} completed: candidate until it stays primary through the ${o.bakeWindowMinutes}-minute bake window with alarms quiet`,
  };
}

function planFailed(o: DeploymentObservation): DeploymentPlan {
  const plain: SkipDeploymentPlan = {
    kind: 'skip',
    action: 'deployment-failed',
    reason: `deployment ${o.deploymentId} failed: ${o.eventReason ?? 'no reason given'}`,
  };
  const claim = o.claim;
  if (claim?.stage !== 'published' || claim.completedAt !== undefined || claim.failedAt !== undefined) {
    return plain;
  }
  // A rotation's same-revision redeployment is not a rollback: its failure is ECS's to report.
  if (claimKindOf(claim) === 'redeploy') return plain;
  const deployed = claim.deployTaskDefinitionArn ?? claim.toTaskDefinitionArn;
  const failed = o.service.deployments.find((d) => d.id === o.deploymentId);
  // A failed deployment ECS already removed is Nightshift's if its rollback is recent and not yet complete.
  const ours = failed ? failed.taskDefinitionArn === deployed : o.now - (claim.updatedAt ?? 0) < o.bakeMs;
  if (!ours) return plain;
  return {
    kind: 'rollback-failed',
    claim,
    deployed,
    restoreDeploymentAlarms: claim.suspendDeploymentAlarms,
    reason: `Nightshift's rollback deployment of ${revisionLabel(deployed)} failed (deployment ${o.deploymentId}); ECS may have returned to ${revisionLabel(claim.fromTaskDefinitionArn)}`,
  };
}
