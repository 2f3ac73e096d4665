import { UnknownResourceError } from '#shared/errors';
import { claimKindOf } from '#shared/service-claim';
import { RUNBOOK } from '../ecs-rollback/act.ts';
import type { ParameterChange } from '../ecs-rollback/events.ts';
import { locate, type RunbookDeps, type RunbookResult } from '../ecs-rollback/runbook-deps.ts';
import { versionsOf } from './history.ts';
import { type ConfigVersion, restoredLabel, selects } from './model.ts';

/**
 * A `Parameter Store Change` of a configured parameter: one audit line per service that reads it, saying
 * which version is the latest when the history is read (the event names none), who wrote it
 * (`LastModifiedUser`: the event names no caller) and when it reaches the service. Nightshift's own write-back is recognised by the version its claim recorded,
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
  const expected = `:ssm:${event.region}:${event.account}:parameter/${name.replace(/^\//, '')}`;
  if (arn !== undefined && !arn.endsWith(expected)) {
    throw new UnknownResourceError(
      `Parameter Store Change: resources[0] ${JSON.stringify(arn.slice(0, 200))} is not the ARN of detail.name ${JSON.stringify(name.slice(0, 200))} in ${event.account} ${event.region}`,
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
  // Every reader's claim first (a bad one fails the event before any line is written): Nightshift's
  // write-back under any of their claims is its own for all of them.
  const claims = await Promise.all(readers.map((s) => deps.store.loadClaim(locate(s).serviceArn)));
  const ownWrite = claims.find((claim) => {
    const part = claim && claimKindOf(claim) === 'config' ? claim.config : undefined;
    if (part?.parameter !== name || part.writtenVersion === undefined) return false;
    const written = versions.find((v) => v.version === part.writtenVersion);
    return operation === 'LabelParameterVersion'
      ? (written?.labels ?? []).includes(restoredLabel(part.toVersion))
      : latest?.version === part.writtenVersion;
  });
  const what = rotated
    ? `${name} ${operation}: Nightshift's rotation of a secret (never a config suspect)`
    : latest === undefined
      ? `${name} ${operation}: the parameter has no versions (deleted)`
      : ownWrite?.config
        ? `${describe(name, latest, operation)}: Nightshift's own write-back of v${ownWrite.config.toVersion} (episode ${ownWrite.episodeId})`
        : operation === 'LabelParameterVersion'
          ? `${name} ${operation}: a label was moved (the event names no version; the latest is v${latest.version})`
          : `${describe(name, latest, operation)} by ${latest.modifiedBy ?? 'an unknown caller'}`;
  const reasons: string[] = [];
  for (const service of readers) {
    const selector = service.config?.find((c) => selects(c, name));
    const reaches =
      rotated || latest === undefined || ownWrite || operation === 'LabelParameterVersion'
        ? ''
        : selector?.readsAt === 'run-time'
          ? `; it reaches ${service.name} within ${selector.cacheTtlSeconds} s (read at run time)`
          : `; it reaches ${service.name} with its next deployment (read at start)`;
    const reason = `${what}${reaches}`;
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
          ...(latest ? { latestVersion: latest.version } : {}),
          own: ownWrite !== undefined,
          eventTime: new Date(changedAt).toISOString(),
        },
      },
      deps.clock(),
    );
    reasons.push(reason);
  }
  return { ...base, result: { outcome: 'recorded', reason: reasons.join('; ') }, mode };
}

/** The latest version at read time: the event names none, and two quick writes both find the second. */
function describe(name: string, latest: ConfigVersion, operation: string): string {
  return `${name} ${operation}: latest v${latest.version} (${latest.type}, ${new Date(latest.modifiedAt).toISOString()})`;
}
