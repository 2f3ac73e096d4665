import type { ECSClient, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { confirmTransition } from '#shared/alarm-state';
import { UnknownResourceError } from '#shared/errors';
import { onConfigChange } from '../config-rollback/changes.ts';
import { readConfigHistories } from '../config-rollback/history.ts';
import { assessConfig, type ConfigTenure } from '../config-rollback/plan.ts';
import { act, RUNBOOK } from './act.ts';
import { reconcileAlarmWindows } from './alarm-windows.ts';
import { type RollbackRuntimeConfig, type RuntimeService, serviceForAlarm } from './config.ts';
import { onDeployment } from './deployment-events.ts';
import { describeService, describeTaskDefinition, mutableImages } from './ecs.ts';
import { type AlarmStateChange, isCompositeAlarmEvent, type RollbackEvent } from './events.ts';
import { assessRevisions, selectRollbackTarget, withObservedPrimary } from './known-good.ts';
import { episodeId, type RevisionRecord, type ServiceView } from './model.ts';
import { planAlarm, type RollbackRules, type TargetView } from './plan.ts';
import { holdReason, locate, type RunbookDeps, type RunbookResult } from './runbook-deps.ts';

export type { RunbookDeps, RunbookResult } from './runbook-deps.ts';

/** observe → plan → act for one event. */
export async function runRollbackRunbook(event: RollbackEvent, deps: RunbookDeps): Promise<RunbookResult> {
  switch (event.type) {
    case 'alarm':
      return onAlarm(event.event, event.stateAt, deps);
    case 'deployment':
      return onDeployment(event.event, event.updatedAt, deps);
    case 'config-change':
      return onConfigChange(event.event, event.changedAt, deps);
  }
}

function rulesOf(config: RollbackRuntimeConfig): RollbackRules {
  return {
    bakeMs: config.bakeWindowMinutes * 60_000,
    cooldownMs: config.cooldownMinutes * 60_000,
    leaveInProgressToEcs: config.leaveInProgressToEcs,
    deploymentAlarmConflict: config.deploymentAlarmConflict,
  };
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
  // Checked at parse to be the ARN of this alarm in the stack's account and Region.
  const alarmArn = event.resources[0] ?? alarmName;
  const composite = isCompositeAlarmEvent(event);
  const base = {
    runbook: RUNBOOK,
    service: configured.name,
    event: `${alarmName} → ${state.value}`,
  } as const;

  // An ALARM is acted on only when CloudWatch confirms it: a forged event fails here, having changed nothing.
  if (state.value === 'ALARM') {
    await confirmTransition(deps.cloudwatch, { name: alarmName, state: 'ALARM', at: enteredAt, composite });
  }
  const stored = await deps.store.load(where.serviceArn);
  // Windows end when CloudWatch shows their alarm out of ALARM or gone, whichever OK events were lost.
  const reconciled = await reconcileAlarmWindows(
    deps.cloudwatch,
    deps.store,
    where.serviceArn,
    stored.alarmWindows,
    deps.clock(),
  );
  if (state.value !== 'ALARM') {
    const mode = { dryRun: deps.config.dryRun, killSwitch: 'not read' };
    const closed = reconciled.closes.map((c) => `${c.window.alarmName} (${c.reason})`);
    return {
      ...base,
      result: {
        outcome: 'recorded',
        reason: `alarm left ALARM; closed ${closed.length} window(s)${closed.length > 0 ? `: ${closed.join('; ')}` : ''}`,
      },
      mode,
    };
  }

  const episode = { alarmName, alarmArn, start: enteredAt, id: episodeId(alarmArn, state.timestamp) };
  // Describe first: an unknown service fails here, before anything is written.
  const service = await describeService(deps.ecs, where);
  const window = composite ? { alarmName, start: enteredAt, composite } : { alarmName, start: enteredAt };
  await deps.store.openAlarmWindow(where.serviceArn, window, deps.clock());
  const alarmWindows = reconciled.windows.some((w) => w.alarmName === alarmName && w.start === enteredAt)
    ? reconciled.windows
    : [...reconciled.windows, window];

  const rules = rulesOf(deps.config);
  const now = deps.clock();
  const target = await observeTarget(deps.ecs, service, stored.revisions, alarmWindows, now, rules.bakeMs);
  // The service's deployment alarms that Nightshift also watches for it: they may be red in this episode.
  const alarmsGuardingService = (service.deploymentAlarms?.alarmNames ?? []).filter(
    (name) => serviceForAlarm(deps.config, name, undefined)?.name === configured.name,
  );
  const config = await observeConfig(deps, configured.config, service, stored.revisions, alarmWindows, now);
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
    config,
  });
  const { hold, killSwitch } =
    plan.kind === 'no-action' || plan.kind === 'wait'
      ? { hold: undefined, killSwitch: 'not needed' }
      : await holdReason(deps);
  const result = await act(
    plan,
    { where, service, revisions: stored.revisions, observedClaim: stored.claim, holdReason: hold },
    { ...deps, cooldownMs: rules.cooldownMs },
  );
  return { ...base, plan, result, mode: { dryRun: deps.config.dryRun, killSwitch } };
}

/**
 * The service's config parameters, every version assessed against the deployments and alarm windows on
 * record: what reached the service when, and what earned known-good. Undefined when it has none configured.
 */
async function observeConfig(
  deps: RunbookDeps,
  selectors: RuntimeService['config'],
  service: ServiceView,
  revisions: readonly RevisionRecord[],
  windows: Parameters<typeof assessConfig>[2],
  now: number,
): Promise<ConfigTenure[][] | undefined> {
  if (!selectors || selectors.length === 0) return undefined;
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  const records = primary ? withObservedPrimary(revisions, primary) : [...revisions];
  const histories = await readConfigHistories(deps.ssm, selectors, deps.config.rotatedParameters ?? []);
  const bakeMs = deps.config.bakeWindowMinutes * 60_000;
  return histories.map((h) => assessConfig(h, records, windows, now, bakeMs));
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
