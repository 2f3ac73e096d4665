import { NightshiftError } from '#shared/errors';
import { type ClaimKind, claimKindOf } from '#shared/service-claim';
import { claimStages, type RollbackClaim } from './model.ts';

/** The service's claim item is not one Nightshift wrote (hand-edited, forged, or from a newer version). */
export class InvalidClaimError extends NightshiftError {
  override readonly name = 'InvalidClaimError';
}

const KINDS: readonly string[] = ['task-definition', 'config', 'redeploy'] satisfies ClaimKind[];

type Check = 'string' | 'number' | 'boolean';

/** Fields every claim carries, then those of a rollback's (task definition or config) and of its config part. */
const COMMON: Record<string, Check> = {
  episodeId: 'string',
  owner: 'string',
  leaseUntil: 'number',
};
const ROLLBACK: Record<string, Check> = {
  alarmName: 'string',
  episodeStart: 'number',
  fromTaskDefinitionArn: 'string',
  toTaskDefinitionArn: 'string',
  pin: 'boolean',
  suspendDeploymentAlarms: 'boolean',
  reason: 'string',
};
const OPTIONAL: Record<string, Check> = {
  deployTaskDefinitionArn: 'string',
  updatedAt: 'number',
  completedAt: 'number',
  failedAt: 'number',
  cooldownUntil: 'number',
  skipped: 'boolean',
};
const CONFIG: Record<string, Check> = {
  parameter: 'string',
  fromVersion: 'number',
  toVersion: 'number',
  latestVersion: 'number',
  cacheTtlMs: 'number',
};

const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 80) ?? String(value);

/**
 * The claim item as a {@link RollbackClaim}, checked: a field of the wrong type or an unknown kind or stage
 * is an {@link InvalidClaimError} naming the item, the field and its value — never a TypeError deep in the
 * plan, nor a guess. A rotation's `redeploy` claim carries the common fields only.
 */
export function parseClaimItem(serviceArn: string, data: Record<string, unknown>): RollbackClaim {
  const fail = (field: string, expected: string, value: unknown = data[field]): never => {
    throw new InvalidClaimError(
      `the claim item of ${serviceArn} is not one Nightshift wrote: ${field} is ${shown(value)} (expected ${expected}); this service's rollbacks wait until the item is deleted or expires`,
    );
  };
  const check = (
    fields: Record<string, Check>,
    item: Record<string, unknown>,
    prefix: string,
    optional: boolean,
  ) => {
    for (const [field, type] of Object.entries(fields)) {
      const value = item[field];
      if (optional && value === undefined) continue;
      if (typeof value !== type || (type === 'number' && !Number.isFinite(value)))
        fail(`${prefix}${field}`, type, value);
    }
  };
  if (data.kind !== undefined && !KINDS.includes(data.kind as string)) fail('kind', KINDS.join(' | '));
  if (!(claimStages as readonly unknown[]).includes(data.stage)) fail('stage', claimStages.join(' | '));
  check(COMMON, data, '', false);
  const kind = claimKindOf(data as { kind?: ClaimKind });
  if (kind !== 'redeploy') {
    check(ROLLBACK, data, '', false);
    check(OPTIONAL, data, '', true);
  }
  if (kind === 'config') {
    const part = data.config;
    if (typeof part !== 'object' || part === null) fail('config', 'an object');
    const config = part as Record<string, unknown>;
    check(CONFIG, config, 'config.', false);
    if (config.readsAt !== 'start' && config.readsAt !== 'run-time')
      fail('config.readsAt', 'start | run-time', config.readsAt);
  }
  return data as unknown as RollbackClaim;
}
