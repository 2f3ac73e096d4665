import { randomBytes } from 'node:crypto';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { awsErrorName } from '#shared/errors';
import { VerifyTickError } from './deps.ts';
import type { PasswordView } from './plan.ts';

/** The SSM path under which the one-time passwords of temporary copies live. */
export const PASSWORD_PATH = '/nightshift/restore-verify';

/** Where a temporary copy's one-time password lives while it is needed (deleted before the copy). */
export const passwordParameter = (copyId: string) => `${PASSWORD_PATH}/${copyId}`;

/**
 * The one-time password parameters, by name and age only (GetParametersByPath without decryption, values
 * dropped here), paginated to the end.
 */
export async function listPasswords(ssm: SSMClient): Promise<PasswordView[]> {
  const passwords: PasswordView[] = [];
  let token: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({ Path: PASSWORD_PATH, WithDecryption: false, NextToken: token }),
    );
    for (const p of page.Parameters ?? []) {
      const name = p.Name ?? '';
      if (!name.startsWith(`${PASSWORD_PATH}/`)) continue;
      passwords.push({
        copyId: name.slice(PASSWORD_PATH.length + 1),
        lastModified: p.LastModifiedDate?.getTime() ?? 0,
      });
    }
    token = page.NextToken;
  } while (token);
  return passwords;
}

/**
 * The copy's one-time password, stored in SSM (SecureString) before anything uses it. Created once, never
 * overwritten: a reset made again after a crash, or by a concurrent tick, reuses the stored value, so what SSM
 * holds and what the copy is set to agree.
 */
export async function storePassword(copyId: string, ssm: SSMClient): Promise<string> {
  const fresh = randomBytes(24).toString('base64url');
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: passwordParameter(copyId),
        Value: fresh,
        Type: 'SecureString',
        Overwrite: false,
      }),
    );
    return fresh;
  } catch (error) {
    if (awsErrorName(error) !== 'ParameterAlreadyExists') throw error;
  }
  return readPassword(copyId, ssm);
}

/** The stored one-time password of a copy. */
export async function readPassword(copyId: string, ssm: SSMClient): Promise<string> {
  const stored = await ssm.send(
    new GetParameterCommand({ Name: passwordParameter(copyId), WithDecryption: true }),
  );
  const value = stored.Parameter?.Value;
  if (!value) throw new VerifyTickError(`the one-time password of ${copyId} is stored empty`);
  return value;
}

/** Deletes a copy's one-time password; one already gone counts as deleted. */
export async function deletePassword(copyId: string, ssm: SSMClient): Promise<void> {
  await ssm.send(new DeleteParameterCommand({ Name: passwordParameter(copyId) })).catch((error: unknown) => {
    if (awsErrorName(error) !== 'ParameterNotFound') throw error;
  });
}
