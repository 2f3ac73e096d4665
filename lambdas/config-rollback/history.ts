import {
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  type ParameterHistory,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { NightshiftError } from '#shared/errors';
import type { ConfigHistory, ConfigSelector, ConfigVersion } from './model.ts';

/** More parameters than this under one service's paths is a configuration mistake, not config. */
const MAX_PARAMETERS = 50;

export class ConfigReadError extends NightshiftError {
  override readonly name: string = 'ConfigReadError';
}

/**
 * Every version of every config parameter a service reads, oldest first: names as configured, paths listed
 * with GetParametersByPath (recursive, paginated), each parameter's versions from GetParameterHistory
 * (paginated; SSM keeps the latest 100). Values are read without decryption: a SecureString's value is not
 * needed to plan, and its rollback is refused.
 *
 * The secrets Nightshift rotates (and their `.pending` companions) are left out: their versions are
 * Nightshift's own changes, never a suspect, and a rotation's new value is tested before it is finished.
 */
export async function readConfigHistories(
  ssm: SSMClient,
  selectors: readonly ConfigSelector[],
  rotated: readonly string[] = [],
): Promise<ConfigHistory[]> {
  const ownWrites = new Set(rotated.flatMap((name) => [name, `${name}.pending`]));
  const wanted = new Map<string, ConfigSelector>();
  for (const selector of selectors) {
    const names = selector.parameter !== undefined ? [selector.parameter] : await namesUnder(ssm, selector);
    for (const name of names) if (!wanted.has(name) && !ownWrites.has(name)) wanted.set(name, selector);
    if (wanted.size > MAX_PARAMETERS) {
      throw new ConfigReadError(
        `more than ${MAX_PARAMETERS} config parameters for one service (path ${selector.path}): name fewer`,
      );
    }
  }
  const histories: ConfigHistory[] = [];
  for (const [name, selector] of wanted) {
    const versions = await versionsOf(ssm, name);
    if (versions.length === 0) continue;
    histories.push({
      name,
      readsAt: selector.readsAt,
      cacheTtlMs: selector.cacheTtlSeconds * 1000,
      versions,
    });
  }
  return histories;
}

async function namesUnder(ssm: SSMClient, selector: ConfigSelector): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({
        Path: selector.path?.replace(/\/$/, ''),
        Recursive: true,
        WithDecryption: false,
        MaxResults: 10,
        NextToken: token,
      }),
    );
    for (const p of page.Parameters ?? []) if (p.Name) names.push(p.Name);
    if (names.length > MAX_PARAMETERS) break;
    token = page.NextToken;
  } while (token);
  return names;
}

/** A parameter's versions, oldest first; none when it no longer exists. */
export async function versionsOf(ssm: SSMClient, name: string): Promise<ConfigVersion[]> {
  const entries: ParameterHistory[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await ssm.send(
        new GetParameterHistoryCommand({
          Name: name,
          WithDecryption: false,
          MaxResults: 50,
          NextToken: token,
        }),
      );
      entries.push(...(page.Parameters ?? []));
      token = page.NextToken;
    } while (token);
  } catch (error) {
    if ((error as { name?: string }).name === 'ParameterNotFound') return [];
    throw error;
  }
  return entries
    .map(
      (e): ConfigVersion => ({
        version: e.Version ?? 0,
        value: e.Value ?? '',
        type: e.Type ?? 'String',
        tier: e.Tier,
        dataType: e.DataType,
        modifiedAt: e.LastModifiedDate?.getTime() ?? 0,
        modifiedBy: e.LastModifiedUser,
        labels: e.Labels ?? [],
      }),
    )
    .sort((a, b) => a.version - b.version);
}
