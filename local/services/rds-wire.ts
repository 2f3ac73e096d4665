/**
 * What the local RDS world reads from and answers on the wire: RDS's errors, ARNs and identifiers, and the
 * Query protocol's parameters (booleans, tags, filters, the rules of a Delete's final snapshot).
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import { type QueryParams, queryList, queryString, queryStruct } from '../endpoint/query-protocol.ts';

/** RDS answers these "not found" errors with 404, the rest of its client errors with 400. */
const NOT_FOUND = new Set([
  'DBInstanceNotFound',
  'DBClusterNotFoundFault',
  'DBSnapshotNotFound',
  'DBClusterSnapshotNotFoundFault',
]);

/** An RDS error with AWS's code, message and HTTP status. */
export const fault = (code: string, message: string) =>
  new AwsServiceError(code, message, NOT_FOUND.has(code) ? 404 : 400);

/** The resource type prefix of each taggable kind in ARNs, IAM resource types and `rds:<type>-tag/` keys. */
export type ResourceType = 'db' | 'cluster' | 'snapshot' | 'cluster-snapshot';

/** The ARN variable of each resource type in AWS's authorization reference. */
export const ARN_VALUE: Record<ResourceType, string> = {
  db: 'DbInstanceName',
  cluster: 'DbClusterInstanceName',
  snapshot: 'SnapshotName',
  'cluster-snapshot': 'ClusterSnapshotName',
};

/** The not-found error of each resource type. */
export const NOT_FOUND_OF: Record<ResourceType, (id: string) => AwsServiceError> = {
  db: (id) => fault('DBInstanceNotFound', `DBInstance ${id} not found.`),
  cluster: (id) => fault('DBClusterNotFoundFault', `DBCluster ${id} not found.`),
  snapshot: (id) => fault('DBSnapshotNotFound', `DBSnapshot ${id} not found.`),
  'cluster-snapshot': (id) => fault('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`),
};

/** The license model RDS reports for each engine. */
export const LICENSE: Record<string, string> = {
  postgres: 'postgresql-license',
  mysql: 'general-public-license',
  mariadb: 'general-public-license',
  'aurora-postgresql': 'postgresql-license',
  'aurora-mysql': 'general-public-license',
};

/** A resource id (`db-…`, `cluster-…`) as RDS shapes them, from a record's sequence number. */
export const resourceId = (prefix: string, seq: number) =>
  `${prefix}-${seq.toString(36).toUpperCase().padStart(26, 'X').slice(-26)}`;

/** `arn:aws:rds:<region>:<account>:<type>:<id>` for the four resource types this world holds. */
export function parseRdsArn(
  arn: string,
): { region: string; account: string; type: ResourceType; id: string } | undefined {
  const match = /^arn:aws:rds:([^:]*):([^:]*):(db|cluster|snapshot|cluster-snapshot):(.+)$/.exec(arn);
  if (!match) return undefined;
  const [, region = '', account = '', type = 'db', id = ''] = match;
  return { region, account, type: type as ResourceType, id: id.toLowerCase() };
}

/** An identifier as RDS compares it: lowercase, the resource part of an ARN. */
export function idOf(value: string): string {
  return (parseRdsArn(value)?.id ?? value).toLowerCase();
}

/** A boolean parameter (`true`/`false` on the wire), or `undefined` when absent. */
export function queryBoolean(params: QueryParams, name: string): boolean | undefined {
  const value = queryString(params, name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new AwsServiceError('InvalidParameterValue', `Invalid value ${value} for ${name}.`);
}

/** A DB instance class RDS would accept for the engine (`db.<family>.<size>`). */
export function validInstanceClass(value: string, of: { engine: string; engineVersion: string }): string {
  if (!/^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(value)) {
    throw fault(
      'InvalidParameterCombination',
      `RDS does not support creating a DB instance with the following combination: DBInstanceClass=${value}, Engine=${of.engine}, EngineVersion=${of.engineVersion}, LicenseModel=${LICENSE[of.engine] ?? 'general-public-license'}.`,
    );
  }
  return value;
}

/** An Aurora engine name (`aurora-postgresql`, `aurora-mysql`), as CreateDBCluster and restores take them. */
export function auroraEngine(engine: string): string {
  if (engine !== 'aurora-postgresql' && engine !== 'aurora-mysql') {
    throw fault('InvalidParameterValue', `Invalid DB engine: ${engine}`);
  }
  return engine;
}

/** The major version defaults are named by: `16` for PostgreSQL 16.4, `8.0` for MySQL 8.0.39. */
export function majorVersion(engine: string, version: string): string {
  const parts = version.split('.');
  return (engine.includes('postgres') ? parts.slice(0, 1) : parts.slice(0, 2)).join('.');
}

/** A parameter the action cannot do without, or `MissingParameter`. */
export function required(params: QueryParams, name: string): string {
  const value = queryString(params, name);
  if (value === undefined) {
    throw new AwsServiceError('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}

/** `Tags.Tag.N.Key/Value` as a map (in order). */
export function tagsOf(params: QueryParams): Map<string, string> {
  const tags = new Map<string, string>();
  for (const item of queryList(params, 'Tags')) {
    const tag = queryStruct(item);
    const key = typeof tag.Key === 'string' ? tag.Key : '';
    if (key === '') throw new AwsServiceError('InvalidParameterValue', 'A tag key must not be empty.');
    tags.set(key, typeof tag.Value === 'string' ? tag.Value : '');
  }
  return tags;
}

/** `TagKeys.member.N` of RemoveTagsFromResource. */
export function tagKeysOf(params: QueryParams): string[] {
  return queryList(params, 'TagKeys').filter((k): k is string => typeof k === 'string');
}

/** Tags as RDS lists them (`TagList`). */
export function tagList(tags: Map<string, string>): { Key: string; Value: string }[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

/** The request's tags as IAM sees them: `aws:RequestTag/<key>`, `rds:req-tag/<key>`, `aws:TagKeys`. */
export function requestTagContext(tags: Map<string, string>): Record<string, string | string[]> {
  if (tags.size === 0) return {};
  const context: Record<string, string | string[]> = { 'aws:TagKeys': [...tags.keys()] };
  for (const [key, value] of tags) {
    context[`aws:RequestTag/${key}`] = value;
    context[`rds:req-tag/${key}`] = value;
  }
  return context;
}

/** Whether a record matches one filter's values. */
export type FilterTest<T> = (record: T, values: string[]) => boolean;

/**
 * The `Filters.Filter.N` of a Describe call as one predicate (every filter must match; a filter matches
 * when any of its values does).
 *
 * @throws {@link AwsServiceError} `InvalidParameterValue` for a filter name the call does not support.
 */
export function filterOf<T>(
  params: QueryParams,
  supported: Record<string, FilterTest<T>>,
): (record: T) => boolean {
  const tests = queryList(params, 'Filters').map((item) => {
    const filter = queryStruct(item);
    const name = typeof filter.Name === 'string' ? filter.Name : '';
    const test = Object.hasOwn(supported, name) ? supported[name] : undefined;
    if (!test) throw new AwsServiceError('InvalidParameterValue', `Unrecognized filter name: ${name}.`);
    const values = queryList(filter, 'Values').filter((v): v is string => typeof v === 'string');
    return (record: T) => test(record, values);
  });
  return (record) => tests.every((t) => t(record));
}

/** The records `keep` accepts, read only as far as a page needs. */
export function* lazyFilter<T>(records: Iterable<T>, keep: (record: T) => boolean): Generator<T> {
  for (const record of records) if (keep(record)) yield record;
}

/**
 * The final snapshot a Delete call asks for, with RDS's rules: SkipFinalSnapshot or a final snapshot
 * identifier, not both; neither when `required` is false (an Aurora member instance).
 */
export function finalSnapshotOf(params: QueryParams, what: string, required: boolean): string | undefined {
  const skip = queryBoolean(params, 'SkipFinalSnapshot') ?? false;
  const finalSnapshot = queryString(params, 'FinalDBSnapshotIdentifier');
  if (required && !skip && finalSnapshot === undefined) {
    throw fault(
      'InvalidParameterCombination',
      'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
    );
  }
  if (skip && finalSnapshot !== undefined) {
    throw fault(
      'InvalidParameterCombination',
      `FinalDBSnapshotIdentifier can not be specified when deleting a ${what} with SkipFinalSnapshot=true.`,
    );
  }
  return finalSnapshot;
}
