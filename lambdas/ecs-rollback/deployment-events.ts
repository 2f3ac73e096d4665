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
import { type DeploymentPlan, planDeployment } from './plan-deployment.ts';
import { holdReason, locate, type RunbookDeps, type RunbookResult } from './runbook-deps.ts';

/**
 * Deployment events build the history known-good is earned from: observe (the service, the stored history and
 * claim) → {@link planDeployment} → act. COMPLETED records the revision as a candidate with its definition and
 * the digests ECS resolved; IN_PROGRESS marks when a deployment became primary (and, the first time a service
 * is seen, bootstraps the revisions it replaces); FAILED of Nightshift's own rollback pages.
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

  // observe
  const service = await describeService(deps.ecs, where);
  const stored = await deps.store.load(where.serviceArn);
  const now = deps.clock();
  // Close what CloudWatch shows ended before a revision's bake begins (a lost OK, a deleted alarm).
  await reconcileAlarmWindows(deps.cloudwatch, deps.store, where.serviceArn, stored.alarmWindows, now);

  // plan
  const plan = planDeployment({
    now,
    bakeMs: deps.config.bakeWindowMinutes * 60_000,
    bakeWindowMinutes: deps.config.bakeWindowMinutes,
    eventName,
    deploymentId,
    reportedAt,
    eventReason: event.detail.reason,
    service,
    revisions: stored.revisions,
    claim: stored.claim,
  });

  // act
  const { outcome, action, reason, details } = await actOnDeployment(plan, deps, where, service, now);
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
}

interface DeploymentOutcome {
  readonly outcome: 'recorded' | 'skipped';
  readonly action: string;
  readonly reason: string;
  readonly details?: Record<string, unknown>;
}

async function actOnDeployment(
  plan: DeploymentPlan,
  deps: RunbookDeps,
  where: ServiceLocation,
  service: ObservedService,
  now: number,
): Promise<DeploymentOutcome> {
  switch (plan.kind) {
    case 'skip':
      return { outcome: 'skipped', action: plan.action, reason: plan.reason };
    case 'record-deployment': {
      for (const previous of plan.bootstrap) {
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
      const { deployment } = plan;
      await deps.store.putRevision(
        where.serviceArn,
        {
          deploymentId: deployment.id,
          taskDefinitionArn: deployment.taskDefinitionArn,
          primarySince: deployment.createdAt,
          origin: 'deployment',
        },
        now,
      );
      return { outcome: 'recorded', action: 'record-deployment', reason: plan.reason };
    }
    case 'record-candidate': {
      const { deployment } = plan;
      const described = await describeTaskDefinition(deps.ecs, deployment.taskDefinitionArn);
      const digests = await imageDigestsOf(deps.ecs, where, deployment.taskDefinitionArn);
      await deps.store.putRevision(
        where.serviceArn,
        {
          deploymentId: deployment.id,
          taskDefinitionArn: deployment.taskDefinitionArn,
          primarySince: deployment.createdAt,
          completedAt: plan.completedAt,
          origin: plan.origin,
          inheritsFrom: plan.inheritsFrom,
          taskDefinitionJson: described.registerInput ? JSON.stringify(described.registerInput) : undefined,
          imageDigests: digests,
        },
        now,
      );
      if (plan.completeRollback) {
        // Restore first: if it fails, the retry of this event restores it, as the completion is not yet noted.
        const restored = plan.completeRollback.restoreDeploymentAlarms
          ? await restoreDeploymentAlarms(deps, where, service, plan.completeRollback.episodeId)
          : '';
        if (
          await deps.store.markRollbackCompleted(
            where.serviceArn,
            deployment.taskDefinitionArn,
            plan.completedAt,
          )
        ) {
          return {
            outcome: 'recorded',
            action: 'rollback-completed',
            reason: `Nightshift's rollback to ${revisionLabel(deployment.taskDefinitionArn)} completed${restored}`,
          };
        }
      }
      return {
        outcome: 'recorded',
        action: 'record-candidate',
        reason: plan.reason,
        details: { digests: Object.keys(digests).length },
      };
    }
    case 'rollback-failed': {
      const { claim, deployed } = plan;
      const restored = plan.restoreDeploymentAlarms
        ? await restoreDeploymentAlarms(deps, where, service, claim.episodeId)
        : '';
      const reason = `${plan.reason}${restored}`;
      await deps.publisher.publish({
        detailType: 'Rollback Failed',
        severity: 'critical',
        eventKey: `ecs-rollback#${where.serviceArn}#${claim.episodeId}#failed`,
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
      return { outcome: 'recorded', action: 'rollback-failed', reason };
    }
  }
}

/** Turns the service's alarm-based rollback back on after Nightshift's own deployment; says what it did. */
async function restoreDeploymentAlarms(
  deps: RunbookDeps,
  where: ServiceLocation,
  service: ObservedService,
  /** The episode Nightshift's rollback answered: names the event (one per rollback). */
  episodeId: string,
): Promise<string> {
  const config = service.deploymentConfiguration;
  if (!config?.alarms) return '; no deployment alarms to restore';
  const { hold } = await holdReason(deps);
  if (hold !== undefined) {
    const reason = `alarm-based rollback (deployment alarms) of ${where.name} is still suspended after Nightshift's rollback, not restored because ${hold}: restore it by hand`;
    await deps.publisher.publish({
      detailType: 'Deployment Alarms Not Restored',
      severity: 'warning',
      eventKey: `ecs-rollback#${where.serviceArn}#${episodeId}#deployment-alarms-not-restored`,
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
