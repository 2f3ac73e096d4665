import type { ECSClient, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { UnknownResourceError } from '#shared/errors';
import { readKillSwitch } from '#shared/kill-switch';
import { type ActDeps, type ActResult, act, RUNBOOK } from './act.ts';
import { type RollbackRuntimeConfig, type RuntimeService, serviceForAlarm } from './config.ts';
import {
  describeService,
  describeTaskDefinition,
  imageDigestsOf,
  mutableImages,
  type ObservedService,
  type ServiceLocation,
  updateDeploymentConfiguration,
} from './ecs.ts';
import type { AlarmStateChange, DeploymentStateChange, RollbackEvent } from './events.ts';
import { assessRevisions, selectRollbackTarget, withObservedPrimary } from './known-good.ts';
import { episodeId, type RevisionRecord, type ServiceView } from './model.ts';
import { type AlarmPlan, planAlarm, type RollbackRules, revisionLabel, type TargetView } from './plan.ts';

export interface RunbookDeps extends ActDeps {
  readonly ssm: SSMClient;
  readonly config: RollbackRuntimeConfig;
  readonly killSwitchParameter: string;
}

/** What an invocation returns: the plan (always, also in dry-run) and what became of it. */
export interface RunbookResult {
  readonly runbook: typeof RUNBOOK;
  readonly service: string;
  readonly event: string;
  readonly plan?: AlarmPlan;
  readonly result: ActResult | { readonly outcome: 'recorded' | 'skipped'; readonly reason: string };
  readonly mode: { readonly dryRun: boolean; readonly killSwitch: string };
}

/** observe → plan → act for one event. */
export async function runRollbackRunbook(event: RollbackEvent, deps: RunbookDeps): Promise<RunbookResult> {
  return event.type === 'alarm'
    ? onAlarm(event.event, event.stateAt, deps)
    : onDeployment(event.event, event.updatedAt, deps);
}

function rulesOf(config: RollbackRuntimeConfig): RollbackRules {
  return {
    bakeMs: config.bakeWindowMinutes * 60_000,
    cooldownMs: config.cooldownMinutes * 60_000,
    leaveInProgressToEcs: config.leaveInProgressToEcs,
    deploymentAlarmConflict: config.deploymentAlarmConflict,
  };
}

async function holdReason(deps: RunbookDeps): Promise<{ hold?: string; killSwitch: string }> {
  const killSwitch = await readKillSwitch(deps.ssm, deps.killSwitchParameter);
  if (killSwitch.engaged) return { hold: killSwitch.reason, killSwitch: killSwitch.reason };
  if (deps.config.dryRun) return { hold: 'dry-run', killSwitch: killSwitch.reason };
  return { killSwitch: killSwitch.reason };
}

async function onAlarm(
  event: AlarmStateChange,
  enteredAt: number,
  deps: RunbookDeps,
): Promise<RunbookResult> {
  const { alarmName, state, alarmTags } = event.detail;
  const configured = serviceForAlarm(deps.config, alarmName, alarmTags);
  if (!configured) {
    throw new UnknownResourceError(
      `alarm ${alarmName} guards no configured service (check ecsRollback.services[].alarms)`,
    );
  }
  const where = locate(configured);
  const alarmArn = event.resources[0] ?? alarmName;
  const base = {
    runbook: RUNBOOK,
    service: configured.name,
    event: `${alarmName} → ${state.value}`,
  } as const;

  const stored = await deps.store.load(where.serviceArn);
  if (state.value !== 'ALARM') {
    const open = stored.alarmWindows.filter((w) => w.alarmName === alarmName && w.end === undefined);
    await deps.store.closeAlarmWindows(where.serviceArn, open, enteredAt);
    const mode = { dryRun: deps.config.dryRun, killSwitch: 'not read' };
    return {
      ...base,
      result: { outcome: 'recorded', reason: `alarm left ALARM; closed ${open.length} window(s)` },
      mode,
    };
  }

  const episode = { alarmName, alarmArn, start: enteredAt, id: episodeId(alarmArn, state.timestamp) };
  // Describe first: an unknown service fails here, before anything is written.
  const service = await describeService(deps.ecs, where);
  const window = { alarmName, start: enteredAt };
  await deps.store.openAlarmWindow(where.serviceArn, window, deps.clock());
  const alarmWindows = stored.alarmWindows.some((w) => w.alarmName === alarmName && w.start === enteredAt)
    ? stored.alarmWindows
    : [...stored.alarmWindows, window];

  const rules = rulesOf(deps.config);
  const now = deps.clock();
  const target = await observeTarget(deps.ecs, service, stored.revisions, alarmWindows, now, rules.bakeMs);
  // The service's deployment alarms that Nightshift also watches for it: they may be red in this episode.
  const alarmsGuardingService = (service.deploymentAlarms?.alarmNames ?? []).filter(
    (name) => serviceForAlarm(deps.config, name, undefined)?.name === configured.name,
  );
  const plan = planAlarm({
    now,
    rules,
    service,
    episode,
    revisions: stored.revisions,
    alarmWindows,
    claim: stored.claim,
    target,
    alarmsGuardingService,
  });
  const { hold, killSwitch } =
    plan.kind === 'no-action' ? { hold: undefined, killSwitch: 'not needed' } : await holdReason(deps);
  const result = await act(
    plan,
    { where, service, revisions: stored.revisions, observedClaim: stored.claim, holdReason: hold },
    deps,
  );
  return { ...base, plan, result, mode: { dryRun: deps.config.dryRun, killSwitch } };
}

/** Looks at the revision the plan would roll back to: is it still registered, are its images pinned? */
async function observeTarget(
  ecs: ECSClient,
  service: ServiceView,
  revisions: readonly RevisionRecord[],
  windows: Parameters<typeof assessRevisions>[1],
  now: number,
  bakeMs: number,
): Promise<TargetView | undefined> {
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  if (!primary) return undefined;
  const records = withObservedPrimary(revisions, primary);
  const record = selectRollbackTarget(
    assessRevisions(records, windows, now, bakeMs),
    primary.taskDefinitionArn,
  );
  if (!record) return undefined;
  const described = await describeTaskDefinition(ecs, record.taskDefinitionArn);
  const definition =
    described.registerInput ??
    (record.taskDefinitionJson
      ? (JSON.parse(record.taskDefinitionJson) as RegisterTaskDefinitionCommandInput)
      : undefined);
  return {
    taskDefinitionArn: record.taskDefinitionArn,
    status: described.status,
    mutableImages: mutableImages(definition?.containerDefinitions),
  };
}

/**
 * Deployment events build the history known-good is earned from. COMPLETED records the revision as a
 * candidate with its definition and the digests ECS resolved; IN_PROGRESS marks when a deployment became
 * primary (and, the first time a service is seen, bootstraps the revision it replaces).
 */
async function onDeployment(
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
  if (!(await deps.store.markRollbackFailed(where.serviceArn, deployed, deps.clock()))) return undefined;
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

function locate(service: RuntimeService): ServiceLocation {
  return {
    name: service.name,
    cluster: service.cluster,
    service: service.service,
    serviceArn: service.serviceArn,
  };
}
