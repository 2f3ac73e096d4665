import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { readKillSwitch } from '#shared/kill-switch';
import type { ActDeps, ActResult, RUNBOOK } from './act.ts';
import type { RollbackRuntimeConfig, RuntimeService } from './config.ts';
import type { ServiceLocation } from './ecs.ts';
import type { AlarmPlan } from './plan.ts';

/** What the runbook's event handlers share: their dependencies, their result, and two helpers. */

export interface RunbookDeps extends ActDeps {
  /** Confirms alarm transitions and observes the alarms of open windows. */
  readonly cloudwatch: CloudWatchClient;
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

/** Why actions are held back (kill switch on or unreadable, dry-run), and what the kill switch said. */
export async function holdReason(deps: RunbookDeps): Promise<{ hold?: string; killSwitch: string }> {
  const killSwitch = await readKillSwitch(deps.ssm, deps.killSwitchParameter);
  if (killSwitch.engaged) return { hold: killSwitch.reason, killSwitch: killSwitch.reason };
  if (deps.config.dryRun) return { hold: 'dry-run', killSwitch: killSwitch.reason };
  return { killSwitch: killSwitch.reason };
}

/** Where a configured service is. */
export function locate(service: RuntimeService): ServiceLocation {
  return {
    name: service.name,
    cluster: service.cluster,
    service: service.service,
    serviceArn: service.serviceArn,
  };
}
