/**
 * The rotation protocol on SSM Parameter Store: what a run observes of a secret (the main parameter's
 * versions and labels, the pending companion), and the SSM calls of the `create` and `finish` steps.
 * Values are compared in memory and never logged, returned or put in an error.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  LabelParameterVersionCommand,
  type ParameterHistory,
  PutParameterCommand,
  type SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import { NightshiftError } from '#shared/errors';
import { type ObservedSecret, pendingName } from './model.ts';
import type { FinishAction } from './plan.ts';

/** The pending companion's description names the rotation it belongs to. */
const DESCRIPTION = /^nightshift rotation (\S+)$/;
export const pendingDescription = (rotationId: string) => `nightshift rotation ${rotationId}`;

/** Something about the parameter stops the rotation (it is missing, a label is refused): named, no value. */
export class RotationError extends NightshiftError {
  override readonly name: string = 'RotationError';
}

const notFound = (error: unknown) => (error as Error).name === 'ParameterNotFound';

/** A pending value's fingerprint, kept in the lock (never the value). */
export const pendingDigest = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The pending value is not the one this rotation made or tested: someone who may write `<name>.pending`
 * (but perhaps not the plain name) swapped it. Nothing is set, tested or finished with it.
 */
export class PendingChangedError extends RotationError {
  override readonly name = 'PendingChangedError';
  constructor(parameter: string) {
    super(
      `${pendingName(parameter)} no longer holds the value this rotation made or tested: refused, nothing changed with it; delete ${pendingName(parameter)} to give the rotation up`,
    );
  }
}

/** Every version of a parameter, oldest first (pages of 50), or undefined when it does not exist. */
export async function history(ssm: SSMClient, name: string): Promise<ParameterHistory[] | undefined> {
  const all: ParameterHistory[] = [];
  let NextToken: string | undefined;
  try {
    do {
      const out = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken }));
      all.push(...(out.Parameters ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
  return all;
}

/** A parameter's decrypted value (a name or a `name:label` selector), or undefined when there is none. */
export async function value(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return out.Parameter?.Value;
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
}

/** A parameter's latest version number (no value read), undefined when it does not exist. */
export async function versionOf(ssm: SSMClient, name: string): Promise<number | undefined> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: false }));
    return out.Parameter?.Version;
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  }
}

/** What SSM shows of the secret (the lock and last rotation come from the state table). */
export async function observeParameters(
  ssm: SSMClient,
  name: string,
): Promise<Pick<ObservedSecret, 'versions' | 'pending' | 'latestIsPending'> & { keyId?: string }> {
  const main = await history(ssm, name);
  if (!main || main.length === 0) {
    throw new RotationError(
      `parameter ${name} does not exist: create it (SecureString) before Nightshift rotates it`,
    );
  }
  const type = main.at(-1)?.Type;
  if (type !== 'SecureString') {
    throw new RotationError(
      `parameter ${name} is a ${type ?? 'parameter of unknown type'}, not a SecureString: Nightshift rotates secrets only as SecureString`,
    );
  }
  const versions = main.map((p) => ({
    version: Number(p.Version),
    labels: p.Labels ?? [],
    at: p.LastModifiedDate?.getTime() ?? 0,
  }));
  const latest = main.at(-1);
  const keyId = latest?.KeyId;
  const companion = (await history(ssm, pendingName(name)))?.at(-1);
  if (!companion) return { versions, latestIsPending: false, ...(keyId ? { keyId } : {}) };
  const rotationId = DESCRIPTION.exec(companion.Description ?? '')?.[1];
  const [current, next] = await Promise.all([value(ssm, name), value(ssm, pendingName(name))]);
  return {
    versions,
    pending: {
      at: companion.LastModifiedDate?.getTime() ?? 0,
      secure: companion.Type === 'SecureString',
      ...(rotationId ? { rotationId } : {}),
    },
    latestIsPending: next !== undefined && current === next,
    ...(keyId ? { keyId } : {}),
  };
}

/** `create`: the new value in the pending place, under the main parameter's KMS key. */
export async function createPending(
  ssm: SSMClient,
  o: { name: string; rotationId: string; value: string; keyId?: string },
): Promise<void> {
  await ssm.send(
    new PutParameterCommand({
      Name: pendingName(o.name),
      Value: o.value,
      Type: 'SecureString',
      ...(o.keyId ? { KeyId: o.keyId } : {}),
      Description: pendingDescription(o.rotationId),
      Overwrite: true,
    }),
  );
}

/** Deletes the pending companion (gone already is fine). */
export async function deletePending(ssm: SSMClient, name: string): Promise<void> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: pendingName(name) }));
  } catch (error) {
    if (!notFound(error)) throw error;
  }
}

/** The pending value, for `set` and `test` (never logged); when `digest` is given, it must match it. */
export async function pendingValue(ssm: SSMClient, name: string, digest?: string): Promise<string> {
  const v = await value(ssm, pendingName(name));
  if (v === undefined) throw new RotationError(`the pending value of ${name} is gone (${pendingName(name)})`);
  if (digest !== undefined && pendingDigest(v) !== digest) throw new PendingChangedError(name);
  return v;
}

/** `finish`: the planned calls, in order. Labels SSM refuses (in a successful answer) are an error. */
export async function finish(
  ssm: SSMClient,
  o: {
    name: string;
    keyId?: string;
    actions: readonly FinishAction[];
    /** Called with the version now current, before the pending value is deleted. */
    beforeDeletingPending?: (version: number) => Promise<void>;
    /** The pinned digest: the value put under the plain name must be the one that was set and tested. */
    pendingDigest?: string;
  },
): Promise<{ version?: number }> {
  let latest: number | undefined;
  let current: number | undefined;
  for (const action of o.actions) {
    switch (action.do) {
      case 'unlabel':
        await ssm.send(
          new UnlabelParameterVersionCommand({
            Name: o.name,
            ParameterVersion: action.version,
            Labels: [...action.labels],
          }),
        );
        break;
      case 'put': {
        const out = await ssm.send(
          new PutParameterCommand({
            Name: o.name,
            Value: await pendingValue(ssm, o.name, o.pendingDigest),
            Type: 'SecureString',
            ...(o.keyId ? { KeyId: o.keyId } : {}),
            Overwrite: true,
          }),
        );
        latest = Number(out.Version);
        break;
      }
      case 'label': {
        const version = action.version === 'latest' ? latest : action.version;
        if (version === undefined) throw new RotationError(`finish of ${o.name}: no version to label`);
        const out = await ssm.send(
          new LabelParameterVersionCommand({
            Name: o.name,
            ParameterVersion: version,
            Labels: [...action.labels],
          }),
        );
        if (action.labels.includes('current')) current = version;
        if ((out.InvalidLabels ?? []).length > 0) {
          throw new RotationError(
            `SSM refused label(s) ${out.InvalidLabels?.join(', ')} on ${o.name}:${version} (a label is letters, digits, '.', '-' or '_', at most 100, not starting with a digit, 'aws' or 'ssm'; at most 10 per version)`,
          );
        }
        break;
      }
      case 'delete-pending':
        if (current !== undefined) await o.beforeDeletingPending?.(current);
        await deletePending(ssm, o.name);
        break;
    }
  }
  return latest === undefined ? {} : { version: latest };
}
