/**
 * SSM Parameter Store, locally: the stored model (a parameter and its versions) and AWS's rules for names,
 * values, labels and selectors, with the error codes and messages AWS answers.
 *
 * Sources (AWS Systems Manager API reference and user guide):
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html (naming constraints:
 *   a-zA-Z0-9_.- and `/`; no `aws`/`ssm` prefix; ≤ 15 levels; 1,011 characters including the ARN prefix)
 * - https://docs.aws.amazon.com/botocore/latest/reference/services/ssm/client/exceptions/ParameterMaxVersionLimitExceeded.html
 * - https://docs.aws.amazon.com/botocore/latest/reference/services/ssm/client/exceptions/HierarchyLevelLimitExceededException.html
 * - https://docs.aws.amazon.com/botocore/latest/reference/services/ssm/client/exceptions/HierarchyTypeMismatchException.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_LabelParameterVersion.html (label rules)
 * - https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
 * - https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
 *   (Standard ≤ 4 KB, Advanced ≤ 8 KB; the Standard-tier ValidationException wording)
 */
import { AwsServiceError } from '../endpoint/errors.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
export const PARAMETER_TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
export type Tier = 'Standard' | 'Advanced';

/** One version of a parameter, as GetParameterHistory shows it. */
export interface ParameterVersion {
  readonly version: number;
  readonly value: string;
  readonly type: ParameterType;
  /** For SecureString: the KeyId as given (alias, key id or key ARN); `alias/aws/ssm` by default. */
  readonly keyId?: string;
  readonly description?: string;
  readonly tier: Tier;
  readonly lastModified: number;
  readonly lastModifiedUser: string;
  /** Labels on this version (a label is on one version of a parameter at a time). */
  labels: string[];
}

/** A parameter: every version Parameter Store keeps (at most 100), oldest first. */
export class StoredParameter {
  readonly versions: ParameterVersion[] = [];
  constructor(readonly name: string) {}

  get latest(): ParameterVersion {
    const last = this.versions.at(-1);
    if (!last) throw new Error(`parameter ${this.name} has no versions`);
    return last;
  }
  get value(): string {
    return this.latest.value;
  }
  get type(): ParameterType {
    return this.latest.type;
  }
  get version(): number {
    return this.latest.version;
  }
  get lastModified(): number {
    return this.latest.lastModified;
  }
  get description(): string | undefined {
    return this.latest.description;
  }
  find(version: number): ParameterVersion | undefined {
    return this.versions.find((v) => v.version === version);
  }
  labelled(label: string): ParameterVersion | undefined {
    return this.versions.find((v) => v.labels.includes(label));
  }
}

/** Parameter Store keeps the 100 most recent versions of a parameter. */
export const MAX_VERSIONS = 100;
/** A version can have at most 10 labels. */
export const MAX_LABELS_PER_VERSION = 10;
export const MAX_DEPTH = 15;
/** The longest name AWS lets you create, counting the ARN before it (`arn:aws:ssm:…:parameter/`). */
export const MAX_NAME_WITH_ARN = 1011;
export const MAX_VALUE: Record<Tier, number> = { Standard: 4096, Advanced: 8192 };

/** `1 validation error detected: …`, as AWS words a violated member constraint. */
export function constraint(value: unknown, member: string, rule: string): AwsServiceError {
  return new AwsServiceError(
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${rule}`,
  );
}

const INVALID_NAME =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

/** The ARN of a parameter: `/a/b` → `arn:aws:ssm:<region>:<account>:parameter/a/b`. */
export function parameterArn(where: { account: string; region: string }, name: string): string {
  return `arn:aws:ssm:${where.region}:${where.account}:parameter/${name.replace(/^\//, '')}`;
}

/** Checks a name for PutParameter: length, characters, reserved prefixes, hierarchy depth. */
export function validateName(name: string, where: { account: string; region: string }): void {
  if (name.length < 1 || name.length > 2048) {
    throw constraint(name, 'name', 'Member must have length less than or equal to 2048');
  }
  if (/\s/.test(name)) throw new AwsServiceError('ValidationException', INVALID_NAME);
  if (name.includes('/') && !name.startsWith('/')) {
    throw new AwsServiceError('ValidationException', 'Parameter name must be a fully qualified name.');
  }
  const parts = name.replace(/^\//, '').split('/');
  if (parts.some((p) => !/^[a-zA-Z0-9_.-]+$/.test(p))) {
    throw new AwsServiceError('ValidationException', INVALID_NAME);
  }
  const first = (parts[0] ?? '').toLowerCase();
  if (first.startsWith('aws') || first.startsWith('ssm')) {
    throw new AwsServiceError('ValidationException', INVALID_NAME);
  }
  if (parts.length > MAX_DEPTH) {
    throw new AwsServiceError(
      'HierarchyLevelLimitExceededException',
      'A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide.',
    );
  }
  if (parameterArn(where, name).length > MAX_NAME_WITH_ARN) {
    throw new AwsServiceError(
      'ValidationException',
      `Parameter name ${name} is too long: the maximum length for a parameter name, including the characters in the ARN that precede it, is ${MAX_NAME_WITH_ARN} characters.`,
    );
  }
}

export function validateValue(value: string, tier: Tier): void {
  if (tier === 'Standard' && value.length > MAX_VALUE.Standard) {
    throw new AwsServiceError(
      'ValidationException',
      'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
    );
  }
  if (value.length > MAX_VALUE.Advanced) {
    throw constraint('***', 'value', `Member must have length less than or equal to ${MAX_VALUE.Advanced}`);
  }
}

/**
 * Whether a label meets AWS's rules: ≤ 100 characters of letters, digits, `.`, `-`, `_`; not starting with
 * a digit, nor with `aws` or `ssm` (any case). Labels that fail are answered in `InvalidLabels`, not applied.
 */
export function isValidLabel(label: string): boolean {
  return (
    label.length >= 1 &&
    label.length <= 100 &&
    /^[a-zA-Z0-9_.-]+$/.test(label) &&
    !/^[0-9]/.test(label) &&
    !/^(aws|ssm)/i.test(label)
  );
}

/** `name`, `name:3` or `name:label` → the name and what selects a version. */
export function parseSelector(raw: string): { name: string; version?: number; label?: string } {
  const at = raw.indexOf(':');
  if (at < 0) return { name: raw };
  const name = raw.slice(0, at);
  const selector = raw.slice(at + 1);
  return /^[0-9]+$/.test(selector) ? { name, version: Number(selector) } : { name, label: selector };
}

/** As AWS answers a selector or ParameterVersion it does not keep (getmoto/moto#3977 shows AWS's answer). */
export const versionNotFound = (name: string, version: number | undefined) =>
  new AwsServiceError(
    'ParameterVersionNotFound',
    `Systems Manager could not find version ${String(version)} of ${name}. Verify the version and try again.`,
  );

/** The version a selector names: ParameterNotFound for no parameter or no such label, else ParameterVersionNotFound. */
export function selectVersion(
  p: StoredParameter | undefined,
  sel: { version?: number; label?: string },
): ParameterVersion {
  if (!p) throw new AwsServiceError('ParameterNotFound', '');
  if (sel.version !== undefined) {
    const v = p.find(sel.version);
    if (!v) throw versionNotFound(p.name, sel.version);
    return v;
  }
  if (sel.label !== undefined) {
    const v = p.labelled(sel.label);
    if (!v) throw new AwsServiceError('ParameterNotFound', '');
    return v;
  }
  return p.latest;
}

/** A list member of 1–`max` strings (`Names`, `Labels`), or a ValidationException as AWS words it. */
export function stringList(input: unknown, member: string, max: number): string[] {
  const list = Array.isArray(input) ? input.map(String) : [];
  if (list.length < 1 || list.length > max) {
    throw constraint(
      `[${list.join(', ')}]`,
      member,
      `Member must have length less than or equal to ${max}, Member must have length greater than or equal to 1`,
    );
  }
  return list;
}
