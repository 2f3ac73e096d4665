/**
 * How Parameter Store uses KMS for SecureString values, locally: which key a KeyId names, and what the caller
 * must be allowed on it.
 *
 * - https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html — a Standard
 *   SecureString is encrypted with `kms:Encrypt` directly under the key (Advanced: envelope encryption, so
 *   `kms:GenerateDataKey`); reading decrypted needs `kms:Decrypt`; the encryption context is
 *   `{"PARAMETER_ARN": "arn:aws:ssm:<region>:<account>:parameter/<name>"}`; the calls come via SSM
 *   (`kms:ViaService` = `ssm.<region>.amazonaws.com`); the AWS managed key `aws/ssm` is the default, and its
 *   key policy lets principals of the account use it through SSM, so no IAM permission on it is needed.
 * - https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html
 */
import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import { parameterArn, type Tier } from './ssm-model.ts';

export const AWS_MANAGED_KEY = 'alias/aws/ssm';

interface Where {
  readonly account: string;
  readonly region: string;
}

/** Customer keys the world knows, by alias name (`alias/x`) → key id. */
export class SsmKeys {
  private readonly aliases = new Map<string, string>();

  constructor(private readonly where: Where) {}

  /** Operator: declares a customer managed key (and optionally its alias); answers the key's ARN. */
  add(keyId: string, alias?: string): string {
    if (alias) this.aliases.set(alias.startsWith('alias/') ? alias : `alias/${alias}`, keyId);
    return this.keyArn(keyId);
  }

  private keyArn(keyId: string): string {
    return `arn:aws:kms:${this.where.region}:${this.where.account}:key/${keyId}`;
  }

  /**
   * The key ARN a KeyId names (`undefined` for the AWS managed `alias/aws/ssm`), or InvalidKeyId for an alias
   * nobody created or something that is not a key reference.
   */
  resolve(keyId: string | undefined): string | undefined {
    if (keyId === undefined || keyId === AWS_MANAGED_KEY || keyId.endsWith(`:${AWS_MANAGED_KEY}`))
      return undefined;
    const aliasName = /^arn:aws:kms:[^:]+:\d{12}:(alias\/.+)$/.exec(keyId)?.[1] ?? keyId;
    if (aliasName.startsWith('alias/')) {
      const target = this.aliases.get(aliasName);
      if (!target) throw new AwsServiceError('InvalidKeyId', `Alias ${aliasName} is not found.`);
      return this.keyArn(target);
    }
    if (/^arn:aws:kms:[^:]+:\d{12}:key\/[a-zA-Z0-9-]+$/.test(keyId)) return keyId;
    if (/^[a-zA-Z0-9-]+$/.test(keyId)) return this.keyArn(keyId);
    throw new AwsServiceError('InvalidKeyId', `Invalid keyId ${keyId}`);
  }

  /** The KMS call SSM makes for the caller on a SecureString's key, authorized like AWS does. */
  need(
    action: 'kms:Decrypt' | 'kms:Encrypt' | 'kms:GenerateDataKey',
    name: string,
    keyId: string | undefined,
  ): AuthorizationNeed[] {
    let keyArn: string | undefined;
    try {
      keyArn = this.resolve(keyId);
    } catch {
      return []; // the operation answers InvalidKeyId itself
    }
    if (!keyArn) return [];
    return [
      {
        action,
        resources: [keyArn],
        context: {
          'kms:ViaService': `ssm.${this.where.region}.amazonaws.com`,
          'kms:CallerAccount': this.where.account,
          'kms:EncryptionContext:PARAMETER_ARN': parameterArn(this.where, name),
          'kms:EncryptionContextKeys': ['PARAMETER_ARN'],
        },
      },
    ];
  }

  /** What PutParameter of a SecureString needs: Encrypt (Standard) or GenerateDataKey (Advanced). */
  encryptNeed(name: string, keyId: string | undefined, tier: Tier): AuthorizationNeed[] {
    return this.need(tier === 'Advanced' ? 'kms:GenerateDataKey' : 'kms:Encrypt', name, keyId);
  }
}

/** What a SecureString's value looks like to a caller who did not ask to decrypt it: base64 ciphertext. */
export function ciphertext(name: string, version: number): string {
  const blob = Buffer.from(`local-kms:${name}:${version}`).toString('base64');
  return `AQICAH${blob}`;
}
