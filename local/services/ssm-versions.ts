/**
 * How Parameter Store changes a parameter's versions: PutParameter (new version, 100-version limit, labelled
 * oldest refused), LabelParameterVersion (≤ 10 labels a version, a label moves, invalid labels answered not
 * applied) and UnlabelParameterVersion.
 *
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_LabelParameterVersion.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_UnlabelParameterVersion.html
 * - https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html (moving a label)
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import {
  isValidLabel,
  MAX_LABELS_PER_VERSION,
  MAX_VERSIONS,
  type ParameterType,
  type ParameterVersion,
  StoredParameter,
  type Tier,
  versionNotFound,
} from './ssm-model.ts';

export interface NewVersion {
  readonly value: string;
  readonly type?: ParameterType;
  readonly keyId?: string;
  readonly description?: string;
  readonly tier?: Tier;
  readonly overwrite: boolean;
  readonly now: number;
  readonly user: string;
}

/**
 * Adds a version to `existing` (or creates the parameter): version n+1, the oldest dropped past 100 unless it
 * is labelled. Type and description carry over from the latest version when not given, as on AWS.
 */
export function addVersion(
  name: string,
  existing: StoredParameter | undefined,
  o: NewVersion,
): StoredParameter {
  if (existing && !o.overwrite) {
    throw new AwsServiceError(
      'ParameterAlreadyExists',
      'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    );
  }
  const previous = existing?.latest;
  const type = o.type ?? previous?.type;
  if (!type) {
    throw new AwsServiceError(
      'ValidationException',
      'A parameter type is required when you create a parameter.',
    );
  }
  if (previous && previous.type !== type) {
    throw new AwsServiceError(
      'HierarchyTypeMismatchException',
      'Parameter Store doesn\u2019t support changing a parameter type in a hierarchy. For example, you can\u2019t change a parameter from a String type to a SecureString type. You must create a new, unique parameter.',
    );
  }
  const p = existing ?? new StoredParameter(name);
  if (p.versions.length >= MAX_VERSIONS) {
    const oldest = p.versions[0];
    if (oldest && oldest.labels.length > 0) {
      throw new AwsServiceError(
        'ParameterMaxVersionLimitExceeded',
        `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
      );
    }
  }
  const version: ParameterVersion = {
    version: (previous?.version ?? 0) + 1,
    value: o.value,
    type,
    // Without KeyId a SecureString version is encrypted under the default key (PutParameter's KeyId doc).
    keyId: type === 'SecureString' ? (o.keyId ?? 'alias/aws/ssm') : undefined,
    description: o.description ?? previous?.description,
    tier: o.tier ?? previous?.tier ?? 'Standard',
    lastModified: o.now,
    lastModifiedUser: o.user,
    labels: [],
  };
  if (p.versions.length >= MAX_VERSIONS) p.versions.shift();
  p.versions.push(version);
  return p;
}

/**
 * LabelParameterVersion on `p` (the latest version unless `version` is given). Valid labels move to that
 * version from any other; invalid ones are answered, not applied. Refuses, changing nothing, when the
 * version would carry more than 10 labels.
 */
export function label(
  p: StoredParameter,
  labels: readonly string[],
  version?: number,
): { version: ParameterVersion; invalid: string[]; applied: string[] } {
  const target = version === undefined ? p.latest : p.find(version);
  if (!target) throw versionNotFound(p.name, version);
  const invalid = labels.filter((l) => !isValidLabel(l));
  const valid = [...new Set(labels.filter(isValidLabel))];
  const after = new Set([...target.labels, ...valid]);
  if (after.size > MAX_LABELS_PER_VERSION) {
    throw new AwsServiceError(
      'ParameterVersionLabelLimitExceeded',
      'A parameter version can have a maximum of ten labels.',
    );
  }
  for (const other of p.versions) {
    if (other !== target) other.labels = other.labels.filter((l) => !valid.includes(l));
  }
  target.labels = [...after];
  return { version: target, invalid, applied: valid };
}

/** UnlabelParameterVersion: removes the labels that are on `version`; the others come back as invalid. */
export function unlabel(
  p: StoredParameter,
  labels: readonly string[],
  version: number,
): { removed: string[]; invalid: string[] } {
  const target = p.find(version);
  if (!target) throw versionNotFound(p.name, version);
  const removed = labels.filter((l) => target.labels.includes(l));
  const invalid = labels.filter((l) => !target.labels.includes(l));
  target.labels = target.labels.filter((l) => !removed.includes(l));
  return { removed: [...new Set(removed)], invalid: [...new Set(invalid)] };
}
