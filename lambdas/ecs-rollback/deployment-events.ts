import { UnknownResourceError } from '#shared/errors';
import { RUNBOOK } from './act.ts';
import { reconcileAlarmWindows } from './alarm-windows.ts';
import {
  describeService,
  describeTaskDefinition,
  imageDigestsOf,
  type ObservedService,
  type ServiceLocation,
  updateDeploymentConfiguration,
} from './ecs.ts';
import type { DeploymentStateChange } from './events.ts';
import { revisionLabel } from './plan.ts';
import { holdReason, locate, type RunbookDeps, type RunbookResult } from './runbook-deps.ts';

/**
 * Deployment events build the history known-good is earned from. COMPLETED records the revision as a
 * candidate with its definition and the digests ECS resolved; IN_PROGRESS marks when a deployment became
 * primary (and, the first time a service is seen, bootstraps the revision it replaces).
 */
export async function onDeployment(
  event: DeploymentStateChange,
  reportedAt: number,
  deps: RunbookDeps,
): Promise<RunbookResult> {
  const serviceArn = event.resources[0] ?? '';
  const configured = deps.config.services.find((s) => s.serviceArn === serviceArn);
  if (!configured) throw new UnknownResourceError(`ECS service ${serviceArn} is not configured for rollback`);
  const where = locate(configured);
  const { eventName, deploymentId } = event.detail;
  const base = { runbook: RUNBOOK, service: configured.name, event: `${eventName} ${deploymentId}` } as const;
  const mode = { dryRun: deps.config.dryRun, killSwitch: 'not read' };
  const done = async (
    outcome: 'recorded' | 'skipped',
    action: string,
    reason: string,
    details: Record<string, unknown> = {},
  ) => {
    await deps.audit.record(
      {
        runbook: RUNBOOK,
        action,
        outcome: outcome === 'recorded' ? 'performed' : 'skipped',
        subject: configured.name,
        reason,
        details,
      },
      deps.clock(),
    );
    return { ...base, result: { outcome, reason }, mode };
  };

  if (eventName === 'SERVICE_DEPLOYMENT_FAILED') {
    const failedRollback = await onRollbackDeploymentFailed(deps, where, deploymentId);
    if (failedRollback) return done('recorded', 'rollback-failed', failedRollback);
    return done(
      'skipped',
      'deployment-failed',
      `deployment ${deploymentId} failed: ${event.detail.reason ?? 'no reason given'}`,
    );
  }

  const service = await describeService(deps.ecs, where);
  const deployment = service.deployments.find((d) => d.id === deploymentId);
  if (!deployment) {
    return done(
      'skipped',
      'record-candidate',
      `deployment ${deploymentId} is no longer current (event late or out of order): not recorded`,
    );
  }
  const stored = await deps.store.load(where.serviceArn);
  const now = deps.clock();
  // Close what CloudWatch shows ended before this revision's bake begins (a lost OK, a deleted alarm).
  await reconcileAlarmWindows(deps.cloudwatch, deps.store, where.serviceArn, stored.alarmWindows, now);

  if (eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS') {
    if (stored.revisions.length === 0) {
      for (const previous of service.deployments.filter(
        (d) => d.id !== deploymentId && d.status === 'ACTIVE',
      )) {
        const described = await describeTaskDefinition(deps.ecs, previous.taskDefinitionArn);
        await deps.store.putRevision(
          where.serviceArn,
          {
            deploymentId: previous.id,
            taskDefinitionArn: previous.taskDefinitionArn,
            primarySince: previous.createdAt,
            completedAt: previous.createdAt,
            origin: 'bootstrap',
            taskDefinitionJson: described.registerInput ? JSON.stringify(described.registerInput) : undefined,
            imageDigests: await imageDigestsOf(deps.ecs, where, previous.taskDefinitionArn),
          },
          now,
        );
      }
    }
    await deps.store.putRevision(
      where.serviceArn,
      {
        deploymentId,
        taskDefinitionArn: deployment.taskDefinitionArn,
        primarySince: deployment.createdAt,
        origin: 'deployment',
      },
      now,
    );
    return done(
      'recorded',
      'record-deployment',
      `${revisionLabel(deployment.taskDefinitionArn)} became primary (deployment ${deploymentId})`,
    );
  }

  // COMPLETED: when ECS says so (an event time, bounded), and never before ECS created the deployment.
  const completedAt = Math.max(reportedAt, deployment.createdAt);
  const described = await describeTaskDefinition(deps.ecs, deployment.taskDefinitionArn);
  const digests = await imageDigestsOf(deps.ecs, where, deployment.taskDefinitionArn);
  const own = stored.claim?.deployTaskDefinitionArn === deployment.taskDefinitionArn;
  await deps.store.putRevision(
    where.serviceArn,
    {
      deploymentId,
      taskDefinitionArn: deployment.taskDefinitionArn,
      primarySince: deployment.createdAt,
      completedAt,
      origin: own ? 'rollback' : 'deployment',
      inheritsFrom: own ? stored.claim?.toTaskDefinitionArn : undefined,
      taskDefinitionJson: described.registerInput ? JSON.stringify(described.registerInput) : undefined,
      imageDigests: digests,
    },
    now,
  );
  if (own && stored.claim && stored.claim.completedAt === undefined) {
    // Restore first: if it fails, the retry of this event restores it, as the completion is not yet noted.
    const restored = stored.claim.suspendDeploymentAlarms
      ? await restoreDeploymentAlarms(deps, where, service)
      : '';
    if (await deps.store.markRollbackCompleted(where.serviceArn, deployment.taskDefinitionArn, completedAt)) {
      return done(
        'recorded',
        'rollback-completed',
        `Nightshift's rollback to ${revisionLabel(deployment.taskDefinitionArn)} completed${restored}`,
      );
    }
  }
  return done(
    'recorded',
    'record-candidate',
    `${revisionLabel(deployment.taskDefinitionArn)} completed: candidate until it stays primary through the ${deps.config.bakeWindowMinutes}-minute bake window with alarms quiet`,
    { digests: Object.keys(digests).length },
  );
}

/**
 * When Nightshift's own rollback deployment fails (ECS may then return to the bad revision), page a human and
 * turn the service's alarm-based rollback back on if Nightshift suspended it. Returns what it did, or
 * undefined when the failed deployment was not Nightshift's.
 */
async function onRollbackDeploymentFailed(
  deps: RunbookDeps,
  where: ServiceLocation,
  deploymentId: string,
): Promise<string | undefined> {
  const claim = await deps.store.loadClaim(where.serviceArn);
  const open =
    claim?.stage === 'published' && claim.completedAt === undefined && claim.failedAt === undefined;
  if (!claim || !open) return undefined;
  const deployed = claim.deployTaskDefinitionArn ?? claim.toTaskDefinitionArn;
  const service = await describeService(deps.ecs, where);
  const failed = service.deployments.find((d) => d.id === deploymentId);
  // A failed deployment ECS already removed is Nightshift's if its rollback is recent and not yet complete.
  const ours = failed
    ? failed.taskDefinitionArn === deployed
    : deps.clock() - (claim.updatedAt ?? 0) < deps.config.bakeWindowMinutes * 60_000;
  if (!ours) return undefined;
  const restored = claim.suspendDeploymentAlarms ? await restoreDeploymentAlarms(deps, where, service) : '';
  const reason = `Nightshift's rollback deployment of ${revisionLabel(deployed)} failed (deployment ${deploymentId}); ECS may have returned to ${revisionLabel(claim.fromTaskDefinitionArn)}${restored}`;
  await deps.publisher.publish({
    detailType: 'Rollback Failed',
    severity: 'critical',
    resources: [where.serviceArn],
    detail: {
      service: where.name,
      serviceArn: where.serviceArn,
      from: claim.fromTaskDefinitionArn,
      to: deployed,
      alarm: claim.alarmName,
      episode: claim.episodeId,
      reason,
    },
  });
  // Noted after the page is out: a failed publish is retried (at least once), never taken for a sent one.
  await deps.store.markRollbackFailed(where.serviceArn, deployed, deps.clock());
  return reason;
}

/** Turns the service's alarm-based rollback back on after Nightshift's own deployment; says what it did. */
async function restoreDeploymentAlarms(
  deps: RunbookDeps,
  where: ServiceLocation,
  service: ObservedService,
): Promise<string> {
  const config = service.deploymentConfiguration;
  if (!config?.alarms) return '; no deployment alarms to restore';
  const { hold } = await holdReason(deps);
  if (hold !== undefined) {
    const reason = `alarm-based rollback (deployment alarms) of ${where.name} is still suspended after Nightshift's rollback, not restored because ${hold}: restore it by hand`;
    await deps.publisher.publish({
      detailType: 'Deployment Alarms Not Restored',
      severity: 'warning',
      resources: [where.serviceArn],
      detail: { service: where.name, serviceArn: where.serviceArn, reason },
    });
    return `; ${reason}`;
  }
  await updateDeploymentConfiguration(deps.ecs, where, {
    ...config,
    alarms: { ...config.alarms, enable: true },
  });
  return '; alarm-based rollback (deployment alarms) restored';
}
