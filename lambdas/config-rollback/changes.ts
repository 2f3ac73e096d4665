import { UnknownResourceError } from '#shared/errors';
import { claimKindOf } from '#shared/service-claim';
import { RUNBOOK } from '../ecs-rollback/act.ts';
import type { ParameterChange } from '../ecs-rollback/events.ts';
import { locate, type RunbookDeps, type RunbookResult } from '../ecs-rollback/runbook-deps.ts';
import { versionsOf } from './history.ts';
import { type ConfigVersion, RESTORED_LABEL_PREFIX, selects } from './model.ts';

/**
 * A `Parameter Store Change` of a configured parameter: one audit line per service that reads it, saying
 * which version it was, who wrote it (`LastModifiedUser` from the history: the event names no caller) and
 * when it reaches the service. Nightshift's own write-back is recognised by the version its claim recorded,
 * its label by the claim too. Nothing is planned here: an alarm reads the history afresh. Values are never
 * read with decryption nor written to the audit log; versions are.
 */
export async function onConfigChange(
  event: ParameterChange,
  changedAt: number,
  deps: RunbookDeps,
): Promise<RunbookResult> {
  const { name, operation } = event.detail;
  const arn = event.resources[0];
  if (arn !== undefined && !arn.endsWith(`:parameter/${name.replace(/^\//, '')}`)) {
    throw new UnknownResourceError(
      `Parameter Store Change: resources[0] ${JSON.stringify(arn.slice(0, 200))} is not the ARN of detail.name ${JSON.stringify(name.slice(0, 200))}`,
    );
  }
  const readers = deps.config.services.filter((s) => (s.config ?? []).some((c) => selects(c, name)));
  if (readers.length === 0) {
    throw new UnknownResourceError(
      `Parameter Store Change: detail.name ${JSON.stringify(name.slice(0, 200))} is config of no service (ecsRollback.services[].config)`,
    );
  }
  const base = {
    runbook: RUNBOOK,
    service: readers.map((s) => s.name).join(','),
    event: `${name} ${operation}`,
  } as const;
  const mode = { dryRun: deps.config.dryRun, killSwitch: 'not read' };
  const rotated = (deps.config.rotatedParameters ?? []).some((p) => name === p || name === `${p}.pending`);
  const versions = rotated ? [] : await versionsOf(deps.ssm, name);
  const latest = versions.at(-1);
  const reasons: string[] = [];
  for (const service of readers) {
    const where = locate(service);
    const selector = service.config?.find((c) => selects(c, name));
    const claim = await deps.store.loadClaim(where.serviceArn);
    const part = claim && claimKindOf(claim) === 'config' ? claim.config : undefined;
    const own =
      latest !== undefined &&
      part?.parameter === name &&
      part.writtenVersion === latest.version &&
      (operation !== 'LabelParameterVersion' ||
        latest.labels.some((l) => l.startsWith(RESTORED_LABEL_PREFIX)));
    const reaches =
      selector?.readsAt === 'run-time'
        ? `it reaches ${service.name} within ${selector.cacheTtlSeconds} s (read at run time)`
        : `it reaches ${service.name} with its next deployment (read at start)`;
    const reason = rotated
      ? `${name} ${operation}: Nightshift's rotation of a secret (never a config suspect)`
      : latest === undefined
        ? `${name} ${operation}: the parameter has no versions (deleted)`
        : own
          ? `${describe(name, latest, operation)}: Nightshift's own write-back of v${part?.toVersion} (episode ${claim?.episodeId})`
          : `${describe(name, latest, operation)} by ${latest.modifiedBy ?? 'an unknown caller'}; ${reaches}`;
    await deps.audit.record(
      {
        runbook: RUNBOOK,
        action: 'config-change',
        outcome: 'performed',
        subject: service.name,
        reason,
        details: {
          parameter: name,
          operation,
          ...(latest ? { version: latest.version } : {}),
          own,
          eventTime: new Date(changedAt).toISOString(),
        },
      },
      deps.clock(),
    );
    reasons.push(reason);
  }
  return { ...base, result: { outcome: 'recorded', reason: reasons.join('; ') }, mode };
}

function describe(name: string, latest: ConfigVersion, operation: string): string {
  return `${name} v${latest.version} (${operation}, ${latest.type}, ${new Date(latest.modifiedAt).toISOString()})`;
}
