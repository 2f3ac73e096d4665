import * as z from 'zod/mini';
import { InvalidEventError, UnknownResourceError } from '#shared/errors';
import { parseWith } from '#shared/parse';
import { claimKindOf } from '#shared/service-claim';
import { act, ClaimBusyError, RUNBOOK } from '../ecs-rollback/act.ts';
import { describeService } from '../ecs-rollback/ecs.ts';
import type { RollbackClaim } from '../ecs-rollback/model.ts';
import type { ConfigRollbackPlan, NoActionPlan, ResumePlan } from '../ecs-rollback/plan.ts';
import { holdReason, locate, type RunbookDeps, type RunbookResult } from '../ecs-rollback/runbook-deps.ts';
import { versionsOf } from './history.ts';
import { selects } from './model.ts';
import { versionLabel } from './plan.ts';

/**
 * An operator's direct invoke of the ECS rollback function:
 * `{ "configRollback": { "parameter": "/webhooks/api/WEBHOOK_TIMEOUT_MS", "version": 3, "reason": "…" } }`
 * writes version 3's value back as a new version (labelled `nightshift-restored-v3`) and redeploys the
 * service if it reads the parameter at start — under the service's claim, like an alarm's rollback, with
 * the kill switch and dry-run honoured. The operator's act skips the cooldown, never a rollback in flight.
 */
const manualSchema = z.object({
  configRollback: z.object({
    parameter: z.string().check(z.minLength(1), z.maxLength(2048)),
    version: z.number().check(z.int(), z.minimum(1), z.maximum(1_000_000)),
    reason: z.optional(z.string().check(z.maxLength(500))),
    /** The service (its `name` in config): needed when more than one service reads the parameter. */
    service: z.optional(z.string().check(z.minLength(1), z.maxLength(40))),
  }),
});
export type ManualConfigRollback = z.infer<typeof manualSchema>;

export function isManualConfigRollback(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'configRollback' in event;
}

export function parseManualConfigRollback(event: unknown): ManualConfigRollback {
  return parseWith(
    manualSchema,
    event,
    (problems) => new InvalidEventError(`malformed configRollback request: ${problems}`),
  );
}

/**
 * An unpublished claim of another episode still belongs to it: while leased, and for a rollback (task
 * definition or config) while its episode's retries may still resume it — the same bake window after which
 * an alarm's plan abandons it too. A rotation's redeploy claim, or another manual request's, only while
 * leased (the rotation's next run redeploys; an operator's request has no retry but the operator's).
 */
function unfinished(claim: RollbackClaim, now: number, deps: RunbookDeps): boolean {
  if (claim.leaseUntil > now) return true;
  if (claimKindOf(claim) === 'redeploy') return false;
  // Another operator's request stopped part-way: no alarm retries it; this request supersedes it.
  if (claim.episodeId.startsWith('manual:')) return false;
  return now - claim.episodeStart <= deps.config.bakeWindowMinutes * 60_000;
}

/** Observe → plan → act for an operator's config rollback. */
export async function runManualConfigRollback(
  request: ManualConfigRollback,
  deps: RunbookDeps,
  redriven: boolean,
): Promise<RunbookResult> {
  const { parameter, version, service: named } = request.configRollback;
  const readers = deps.config.services.filter((s) => (s.config ?? []).some((c) => selects(c, parameter)));
  if (readers.length === 0) {
    throw new UnknownResourceError(
      `configRollback.parameter: ${JSON.stringify(parameter.slice(0, 200))} is not config of any service (ecsRollback.services[].config)`,
    );
  }
  if (named === undefined && readers.length > 1) {
    throw new InvalidEventError(
      `configRollback.service: ${parameter} is config of ${readers.map((s) => s.name).join(', ')}: name the service whose claim the rollback takes (the others read the restored value at their next deployment)`,
    );
  }
  const configured = named === undefined ? readers[0] : readers.find((s) => s.name === named);
  const selector = configured?.config?.find((c) => selects(c, parameter));
  if (!configured || !selector) {
    throw new UnknownResourceError(
      `configRollback.service: ${JSON.stringify(named)} does not read ${parameter} (read by ${readers.map((s) => s.name).join(', ')})`,
    );
  }
  if (redriven) {
    throw new InvalidEventError(
      'configRollback: an operator request redriven from the dead-letter queue is refused (a one-time act, never replayed): invoke it again',
    );
  }
  const where = locate(configured);
  const base = {
    runbook: RUNBOOK,
    service: configured.name,
    event: `manual config rollback of ${versionLabel(parameter, version)}`,
  } as const;
  const versions = await versionsOf(deps.ssm, parameter);
  const target = versions.find((v) => v.version === version);
  const latest = versions.at(-1);
  if (!target || !latest) {
    throw new InvalidEventError(
      `configRollback.version: ${version} is not in the history of ${parameter} (${versions.length > 0 ? `versions ${versions[0]?.version}–${latest?.version}` : 'no versions'})`,
    );
  }
  const service = await describeService(deps.ecs, where);
  const current = service.deployments.find((d) => d.status === 'PRIMARY')?.taskDefinitionArn ?? '';
  const now = deps.clock();
  const episode = { alarmName: 'manual', alarmArn: 'manual', start: now, id: `manual:${deps.owner}` };
  const planBase = { service: configured.name, serviceArn: where.serviceArn, episode };
  const claim = await deps.store.loadClaim(where.serviceArn);
  const refuse = (reason: string): NoActionPlan => ({
    ...planBase,
    kind: 'no-action',
    duplicate: false,
    current,
    config: { parameter, version },
    reason,
  });

  let plan: ConfigRollbackPlan | ResumePlan | NoActionPlan;
  if (claim?.episodeId === episode.id && claim.stage !== 'published') {
    plan = {
      ...planBase,
      kind: 'resume',
      claim,
      reason: `resuming the manual config rollback from ${claim.stage}`,
    };
  } else if (claim?.episodeId === episode.id) {
    plan = { ...refuse(`already handled: ${claim.reason}`), duplicate: true };
  } else if (claim && claim.stage !== 'published' && unfinished(claim, now, deps)) {
    // Leased, or a rollback stopped part-way whose alarm's retry will finish it (and announce what it did):
    // never taken over by an operator's act, which would leave that half-made deployment unannounced.
    throw new ClaimBusyError(
      `a Nightshift deployment of ${configured.name} is in flight (${claim.reason}; stage ${claim.stage}, lease until ${new Date(claim.leaseUntil).toISOString()}): invoke again once it finished`,
    );
  } else if (target.version === latest.version) {
    plan = refuse(
      `${versionLabel(parameter, version)} is already the parameter's latest version: nothing to write`,
    );
  } else if (target.type === 'SecureString' || target.type !== latest.type) {
    plan = refuse(
      `${versionLabel(parameter, version)} is a ${target.type} and the latest a ${latest.type}: config rollback writes String and StringList parameters back as they were`,
    );
  } else {
    plan = {
      ...planBase,
      kind: 'config-rollback',
      current,
      parameter,
      fromVersion: latest.version,
      toVersion: target.version,
      latestVersion: latest.version,
      readsAt: selector.readsAt,
      cacheTtlMs: selector.cacheTtlSeconds * 1000,
      reason: `operator's manual rollback of ${parameter} v${latest.version} to v${target.version}: ${request.configRollback.reason ?? 'no reason given'}`,
    };
  }
  const { hold, killSwitch } =
    plan.kind === 'no-action' ? { hold: undefined, killSwitch: 'not needed' } : await holdReason(deps);
  const result = await act(
    plan,
    { where, service, revisions: [], observedClaim: claim, holdReason: hold },
    { ...deps, cooldownMs: deps.config.cooldownMinutes * 60_000 },
  );
  return { ...base, plan, result, mode: { dryRun: deps.config.dryRun, killSwitch } };
}
