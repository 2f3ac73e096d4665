import type { ECSClient } from '@aws-sdk/client-ecs';
import { LabelParameterVersionCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { NightshiftError } from '#shared/errors';
import type { EventPublisher } from '#shared/publisher';
import { iso } from '#shared/time';
import { describeService, forceNewDeployment, type ServiceLocation } from '../ecs-rollback/ecs.ts';
import type { RollbackClaim } from '../ecs-rollback/model.ts';
import { versionsOf } from './history.ts';
import { type ConfigClaimPart, restoredLabel } from './model.ts';
import { versionLabel } from './plan.ts';

/** The parameter changed in a way the claimed rollback cannot account for: it stops and is planned afresh. */
export class ConfigChangedError extends NightshiftError {
  override readonly name: string = 'ConfigChangedError';
}

/** A label SSM refused (it answers those in a successful response's `InvalidLabels`). */
export class ConfigLabelError extends NightshiftError {
  override readonly name: string = 'ConfigLabelError';
}

export interface ConfigDriveDeps {
  readonly ssm: SSMClient;
  readonly ecs: ECSClient;
  readonly publisher: EventPublisher;
  readonly clock: () => number;
  readonly cooldownMs: number;
}

/** Moves the claim on (only its owner can); throws when the claim was lost. */
export type Advance = (fields: Partial<RollbackClaim>) => Promise<RollbackClaim>;

/**
 * Moves a config claim through claimed → registered (the known-good value written back as a new version,
 * labelled with the version it restores) → updated (start-time readers redeployed) → published. Each step is
 * skipped once done, and a resumed step first looks for what a crashed attempt already did. Values are never
 * logged, published or recorded: only version numbers.
 */
export async function driveConfig(
  start: RollbackClaim,
  where: ServiceLocation,
  deps: ConfigDriveDeps,
  advance: Advance,
): Promise<'performed' | 'skipped'> {
  let claim = start;
  const part = (): ConfigClaimPart => {
    if (!claim.config) throw new NightshiftError(`claim of episode ${claim.episodeId} has no config part`);
    return claim.config;
  };

  if (claim.stage === 'claimed') {
    const c = part();
    const written = await writeBack(deps.ssm, c, deps.clock).catch((error: unknown) => {
      if (error instanceof ConfigChangedError) return error;
      throw error;
    });
    if (written instanceof ConfigChangedError) return skip(claim, where, deps, advance, written.message);
    claim = await advance({ stage: 'registered', config: { ...c, ...written } });
  }

  if (claim.stage === 'registered') {
    const c = part();
    const writtenAt = c.writtenAt ?? deps.clock();
    let deployed: string | undefined;
    if (c.readsAt === 'start') {
      // On a resume the redeployment may already have happened: a deployment created after the write is it.
      const service = await describeService(deps.ecs, where);
      const primary = service.deployments.find((d) => d.status === 'PRIMARY');
      if (!primary || primary.createdAt < writtenAt) await forceNewDeployment(deps.ecs, where);
      deployed = primary?.taskDefinitionArn ?? claim.fromTaskDefinitionArn;
    }
    claim = await advance({
      stage: 'updated',
      updatedAt: deps.clock(),
      ...(deployed ? { deployTaskDefinitionArn: deployed } : {}),
    });
  }

  if (claim.stage === 'updated') {
    const c = part();
    const updatedAt = claim.updatedAt ?? deps.clock();
    await deps.publisher.publish({
      detailType: 'Config Rolled Back',
      severity: 'warning',
      eventKey: `config-rollback#${where.serviceArn}#${claim.episodeId}#performed`,
      resources: [where.serviceArn],
      detail: {
        service: where.name,
        serviceArn: where.serviceArn,
        parameter: c.parameter,
        from: c.fromVersion,
        restored: c.toVersion,
        written: c.writtenVersion,
        label: restoredLabel(c.toVersion),
        redeployed: c.readsAt === 'start',
        alarm: claim.alarmName,
        episode: claim.episodeId,
        reason: claim.reason,
        at: iso(updatedAt),
        note:
          c.readsAt === 'start'
            ? 'The service was redeployed so its tasks read the restored value. Fix the config at its source before writing it again.'
            : `Run-time readers pick the restored value up within their cache TTL (${Math.round(c.cacheTtlMs / 1000)} s). Fix the config at its source before writing it again.`,
      },
    });
    const fields: Partial<RollbackClaim> = {
      stage: 'published',
      leaseUntil: 0,
      cooldownUntil: updatedAt + deps.cooldownMs,
      // A run-time reader's rollback is in effect once the caches expire; a start-time reader's when the
      // redeployment completes (the deployment event says so).
      ...(c.readsAt === 'run-time' ? { completedAt: (c.writtenAt ?? updatedAt) + c.cacheTtlMs } : {}),
    };
    try {
      claim = await advance(fields);
    } catch (error) {
      // The event is out: record that once more rather than release, so the retry does not announce again.
      if (error instanceof NightshiftError && error.name === 'ClaimLostError') throw error;
      claim = await advance(fields);
    }
  }
  return claim.skipped ? 'skipped' : 'performed';
}

/**
 * Ends a claim whose write-back must not happen (the parameter changed under it): announced once as
 * `Config Rollback Skipped`, then the claim is published with nothing written, so the episode stays decided.
 */
async function skip(
  claim: RollbackClaim,
  where: ServiceLocation,
  deps: ConfigDriveDeps,
  advance: Advance,
  reason: string,
): Promise<'skipped'> {
  await deps.publisher.publish({
    detailType: 'Config Rollback Skipped',
    severity: 'warning',
    eventKey: `config-rollback#${where.serviceArn}#${claim.episodeId}#skipped`,
    resources: [where.serviceArn],
    detail: {
      service: where.name,
      alarm: claim.alarmName,
      episode: claim.episodeId,
      parameter: claim.config?.parameter,
      version: claim.config?.fromVersion,
      reason,
    },
  });
  // Nothing was deployed: ended at once, with no cooldown, owning no episode but its own.
  const now = deps.clock();
  await advance({
    stage: 'published',
    leaseUntil: 0,
    completedAt: now,
    cooldownUntil: now,
    reason,
    skipped: true,
  });
  return 'skipped';
}

/**
 * Writes the known-good value back as a new version and labels it with the version it restores. A version
 * written after the one observed at planning with the known-good value is a crashed attempt's write (or a
 * person's identical one): it is labelled, not written again. Any other newer version stops the rollback.
 */
async function writeBack(
  ssm: SSMClient,
  c: ConfigClaimPart,
  clock: () => number,
): Promise<{ writtenVersion: number; writtenAt: number }> {
  const versions = await versionsOf(ssm, c.parameter);
  const target = versions.find((v) => v.version === c.toVersion);
  if (!target) {
    throw new ConfigChangedError(
      `${versionLabel(c.parameter, c.toVersion)} is no longer in the parameter's history (SSM keeps 100 versions): nothing to restore`,
    );
  }
  const newer = versions.filter((v) => v.version > c.latestVersion);
  const already = newer.find((v) => v.value === target.value && v.type === target.type);
  let written = already ? { writtenVersion: already.version, writtenAt: already.modifiedAt } : undefined;
  if (!written) {
    if (newer.length > 0) {
      throw new ConfigChangedError(
        `${c.parameter} changed after the rollback was planned (now v${newer.at(-1)?.version}): not overwriting it; the retry plans afresh`,
      );
    }
    const out = await ssm.send(
      new PutParameterCommand({
        Name: c.parameter,
        Value: target.value,
        Type: target.type as 'String' | 'StringList',
        Overwrite: true,
        Tier: target.tier as 'Standard' | 'Advanced' | 'Intelligent-Tiering' | undefined,
        DataType: target.dataType,
      }),
    );
    if (out.Version === undefined)
      throw new NightshiftError(`PutParameter of ${c.parameter} returned no version`);
    written = { writtenVersion: out.Version, writtenAt: clock() };
  }
  const label = await ssm.send(
    new LabelParameterVersionCommand({
      Name: c.parameter,
      ParameterVersion: written.writtenVersion,
      Labels: [restoredLabel(c.toVersion)],
    }),
  );
  if ((label.InvalidLabels ?? []).length > 0) {
    throw new ConfigLabelError(
      `SSM refused label ${JSON.stringify(label.InvalidLabels)} on ${versionLabel(c.parameter, written.writtenVersion)}`,
    );
  }
  return written;
}
