/**
 * What Parameter Store answers about parameters: GetParameter(s)/GetParametersByPath entries and
 * GetParameterHistory entries, with SecureString values decrypted only when asked.
 *
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Parameter.html (`Selector`, `ARN`)
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterHistory.html (`Labels`, `KeyId`)
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html (MaxResults 1–50)
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html (MaxResults 1–10;
 *   authorized against the path: https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html)
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import { paginate } from './envelope.ts';
import { ciphertext } from './ssm-kms.ts';
import { constraint, type ParameterVersion, parameterArn, type StoredParameter } from './ssm-model.ts';

interface Where {
  readonly account: string;
  readonly region: string;
}

/** GetParametersByPath returns at most this many parameters a page (its MaxResults is 1–10). */
export const PATH_PAGE_LIMIT = 10;
/** GetParameterHistory returns at most 50 versions a page (its MaxResults is 1–50); 50 when not given. */
export const HISTORY_PAGE_LIMIT = 50;

const answeredValue = (name: string, v: ParameterVersion, decrypt: boolean) =>
  v.type === 'SecureString' && !decrypt ? ciphertext(name, v.version) : v.value;

/** A parameter as GetParameter, GetParameters and GetParametersByPath answer it. */
export function shown(
  where: Where,
  p: StoredParameter,
  v: ParameterVersion,
  decrypt: boolean,
  selector?: string,
): Record<string, unknown> {
  return {
    Name: p.name,
    Type: v.type,
    Value: answeredValue(p.name, v, decrypt),
    Version: v.version,
    Selector: selector,
    LastModifiedDate: new Date(v.lastModified),
    ARN: parameterArn(where, p.name),
    DataType: 'text',
  };
}

/** A version as GetParameterHistory answers it. */
export function historyEntry(
  p: StoredParameter,
  v: ParameterVersion,
  decrypt: boolean,
): Record<string, unknown> {
  return {
    Name: p.name,
    Type: v.type,
    KeyId: v.keyId,
    LastModifiedDate: new Date(v.lastModified),
    LastModifiedUser: v.lastModifiedUser,
    Description: v.description,
    Value: answeredValue(p.name, v, decrypt),
    Version: v.version,
    Labels: [...v.labels],
    Tier: v.tier,
    Policies: [],
    DataType: 'text',
  };
}

function checkMax(max: unknown, limit: number): void {
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > limit)) {
    throw constraint(max, 'maxResults', `Member must have value between 1 and ${limit}`);
  }
}

function page<T>(items: readonly T[], max: unknown, token: unknown, limit: number) {
  try {
    return paginate(items, max, token, limit);
  } catch {
    throw new AwsServiceError('InvalidNextToken', 'The specified token is not valid.');
  }
}

/** The page of versions GetParameterHistory answers: oldest first. */
export function historyPage(p: StoredParameter, input: Record<string, unknown>) {
  checkMax(input.MaxResults, HISTORY_PAGE_LIMIT);
  return page(p.versions, input.MaxResults, input.NextToken, HISTORY_PAGE_LIMIT);
}

/** The page of parameters under `Path` (one level, or all with `Recursive`), by name, ≤ 10 a page. */
export function pathPage(parameters: Iterable<StoredParameter>, input: Record<string, unknown>) {
  const path = String(input.Path ?? '');
  if (!path.startsWith('/')) {
    throw new AwsServiceError(
      'ValidationException',
      `The parameter path ${JSON.stringify(path)} is not valid: a hierarchy starts with a forward slash (/).`,
    );
  }
  if (input.ParameterFilters !== undefined) {
    throw new AwsServiceError('ValidationException', 'local SSM does not implement ParameterFilters');
  }
  checkMax(input.MaxResults, PATH_PAGE_LIMIT);
  const prefix = path.endsWith('/') ? path : `${path}/`;
  const recursive = input.Recursive === true;
  const under = [...parameters]
    .filter((p) => p.name.startsWith(prefix) && (recursive || !p.name.slice(prefix.length).includes('/')))
    .sort((a, b) => a.name.localeCompare(b.name));
  return page(under, input.MaxResults, input.NextToken, PATH_PAGE_LIMIT);
}

/** The `Selector` GetParameter(s) answer: `:3` or `:label`, or none. */
export function selectorOf(raw: string): string | undefined {
  const at = raw.indexOf(':');
  return at < 0 ? undefined : raw.slice(at);
}

/** DescribeParameters (no filters, one page): every parameter's metadata, never a value. */
export function described(where: Where, parameters: Iterable<StoredParameter>) {
  return {
    Parameters: [...parameters]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => ({
        Name: p.name,
        ARN: parameterArn(where, p.name),
        Type: p.type,
        KeyId: p.latest.keyId,
        LastModifiedDate: new Date(p.lastModified),
        LastModifiedUser: p.latest.lastModifiedUser,
        Description: p.description,
        Version: p.version,
        Tier: p.latest.tier,
        Policies: [],
        DataType: 'text',
      })),
  };
}
