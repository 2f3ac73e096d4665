/**
 * What IAM must allow for each RDS action of the local world: the resources AWS's authorization reference
 * names for it, with request tags and the existing resources' tags as condition context.
 *
 * @module
 */
import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import { type QueryParams, queryString } from '../endpoint/query-protocol.ts';
import type { RdsState } from './rds-state.ts';
import {
  ARN_VALUE,
  idOf,
  majorVersion,
  parseRdsArn,
  type ResourceType,
  requestTagContext,
  required,
  tagKeysOf,
  tagsOf,
} from './rds-wire.ts';

/** The RDS actions this world answers; any other is `InvalidAction`. */
export const ACTIONS = new Set([
  'DescribeDBInstances',
  'RestoreDBInstanceFromDBSnapshot',
  'ModifyDBInstance',
  'DeleteDBInstance',
  'CreateDBInstance',
  'DescribeDBClusters',
  'CreateDBCluster',
  'RestoreDBClusterFromSnapshot',
  'ModifyDBCluster',
  'DeleteDBCluster',
  'DescribeDBSnapshots',
  'DescribeDBClusterSnapshots',
  'CreateDBSnapshot',
  'CreateDBClusterSnapshot',
  'DeleteDBSnapshot',
  'DeleteDBClusterSnapshot',
  'AddTagsToResource',
  'RemoveTagsFromResource',
  'ListTagsForResource',
]);

/** The actions that create a resource (and may tag it): its type, the parameter naming it, request keys. */
const CREATED_BY: Record<
  string,
  { type: ResourceType; idParam: string; publiclyAccessible: boolean } | undefined
> = {
  CreateDBSnapshot: { type: 'snapshot', idParam: 'DBSnapshotIdentifier', publiclyAccessible: false },
  CreateDBClusterSnapshot: {
    type: 'cluster-snapshot',
    idParam: 'DBClusterSnapshotIdentifier',
    publiclyAccessible: false,
  },
  CreateDBInstance: { type: 'db', idParam: 'DBInstanceIdentifier', publiclyAccessible: true },
  RestoreDBInstanceFromDBSnapshot: { type: 'db', idParam: 'DBInstanceIdentifier', publiclyAccessible: true },
  CreateDBCluster: { type: 'cluster', idParam: 'DBClusterIdentifier', publiclyAccessible: false },
  RestoreDBClusterFromSnapshot: {
    type: 'cluster',
    idParam: 'DBClusterIdentifier',
    publiclyAccessible: false,
  },
};

/**
 * What IAM must allow for `action` with these parameters: each resource AWS's authorization reference names
 * for it, with the request's tags and the existing resource's tags as condition context.
 *
 * @throws {@link AwsServiceError} `InvalidAction` for an action this world does not answer.
 */
export function authorizationOf(w: RdsState, action: string, params: QueryParams): AuthorizationNeed[] {
  if (!ACTIONS.has(action)) {
    throw new AwsServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
  }
  const needs = resourceNeeds(w, action, params);
  const created = CREATED_BY[action];
  if (created === undefined) return needs;
  // Request-level keys (the request's tags, PubliclyAccessible) belong to the request: IAM evaluates them
  // with every resource it touches, not only the new one.
  const tags = tagsOf(params);
  const publiclyAccessible = created.publiclyAccessible
    ? queryString(params, 'PubliclyAccessible')
    : undefined;
  const request = {
    ...requestTagContext(tags),
    ...(publiclyAccessible === undefined ? {} : { 'rds:PubliclyAccessible': publiclyAccessible }),
  };
  const withRequest = needs.map((n) => ({ ...n, context: { ...n.context, ...request } }));
  if (tags.size === 0) return withRequest;
  // Tags given to a create are authorized as rds:AddTagsToResource on the new resource as well
  // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-grant-permissions-tags-on-create.html).
  const id = idOf(required(params, created.idParam));
  return [
    ...withRequest,
    {
      action: 'rds:AddTagsToResource',
      resourceType: created.type,
      values: { [ARN_VALUE[created.type]]: id },
      // The resource being created has no tags yet: a create is authorized before RDS finds a name taken
      // (an existing resource of that name answers AlreadyExists, not AccessDenied).
      context: requestTagContext(tags),
    },
  ];
}

/** Each resource AWS's authorization reference names for `action`, with its own condition context. */
function resourceNeeds(w: RdsState, action: string, params: QueryParams): AuthorizationNeed[] {
  const need = (type: ResourceType, id: string, context: AuthorizationNeed['context'] = {}) => ({
    action: `rds:${action}`,
    resourceType: type,
    values: { [ARN_VALUE[type]]: id },
    context: { ...context, ...resourceTagContext(w, type, id) },
  });
  const optional = (name: string) => {
    const value = queryString(params, name);
    return value === undefined || value === '' ? undefined : idOf(value);
  };
  /** Resource types of the authorization reference this world holds no records of. */
  const other = (
    resourceType: 'og' | 'pg' | 'cluster-pg' | 'subgrp',
    key: string,
    name: string,
  ): AuthorizationNeed => ({
    action: `rds:${action}`,
    resourceType,
    values: { [key]: name },
  });
  switch (action) {
    case 'DescribeDBInstances':
      return [need('db', optional('DBInstanceIdentifier') ?? '*')];
    case 'RestoreDBInstanceFromDBSnapshot': {
      const snapshotId = idOf(required(params, 'DBSnapshotIdentifier'));
      const snapshot = w.snapshots.get(snapshotId);
      const engine = snapshot?.engine ?? 'postgres';
      const major = majorVersion(engine, snapshot?.engineVersion ?? '16.4');
      const publiclyAccessible = queryString(params, 'PubliclyAccessible');
      const request = {
        ...requestTagContext(tagsOf(params)),
        ...(publiclyAccessible === undefined ? {} : { 'rds:PubliclyAccessible': publiclyAccessible }),
      };
      return [
        need('db', idOf(required(params, 'DBInstanceIdentifier')), request),
        need('snapshot', snapshotId),
        other(
          'og',
          'OptionGroupName',
          optional('OptionGroupName') ?? `default:${engine}-${major.replace('.', '-')}`,
        ),
        other('pg', 'ParameterGroupName', optional('DBParameterGroupName') ?? `default.${engine}${major}`),
        other('subgrp', 'SubnetGroupName', optional('DBSubnetGroupName') ?? 'default'),
      ];
    }
    case 'ModifyDBInstance':
      return [need('db', idOf(required(params, 'DBInstanceIdentifier')))];
    case 'DeleteDBInstance': {
      const needs: AuthorizationNeed[] = [need('db', idOf(required(params, 'DBInstanceIdentifier')))];
      const finalSnapshot = optional('FinalDBSnapshotIdentifier');
      if (finalSnapshot !== undefined) {
        needs.push({
          ...need('snapshot', finalSnapshot, { 'rds:BackupTarget': 'region' }),
          action: 'rds:CreateDBSnapshot',
        });
      }
      return needs;
    }
    case 'CreateDBInstance': {
      const clusterId = optional('DBClusterIdentifier');
      const cluster = clusterId === undefined ? undefined : w.clusters.get(clusterId);
      const engine = queryString(params, 'Engine') ?? cluster?.engine ?? 'postgres';
      const major = majorVersion(
        engine,
        queryString(params, 'EngineVersion') ?? cluster?.engineVersion ?? '16.4',
      );
      const publiclyAccessible = queryString(params, 'PubliclyAccessible');
      const request = {
        ...requestTagContext(tagsOf(params)),
        ...(publiclyAccessible === undefined ? {} : { 'rds:PubliclyAccessible': publiclyAccessible }),
      };
      const needs: AuthorizationNeed[] = [
        need('db', idOf(required(params, 'DBInstanceIdentifier')), request),
      ];
      if (clusterId !== undefined) needs.push(need('cluster', clusterId));
      needs.push(
        other('pg', 'ParameterGroupName', optional('DBParameterGroupName') ?? `default.${engine}${major}`),
      );
      const optionGroup = optional('OptionGroupName');
      if (optionGroup !== undefined) needs.push(other('og', 'OptionGroupName', optionGroup));
      const subnetGroup = optional('DBSubnetGroupName');
      if (subnetGroup !== undefined) needs.push(other('subgrp', 'SubnetGroupName', subnetGroup));
      return needs;
    }
    case 'DescribeDBClusters':
      return [need('cluster', optional('DBClusterIdentifier') ?? '*')];
    case 'CreateDBCluster':
    case 'RestoreDBClusterFromSnapshot': {
      const restore = action === 'RestoreDBClusterFromSnapshot';
      const snapshotId = restore ? idOf(required(params, 'SnapshotIdentifier')) : undefined;
      const snapshot = snapshotId === undefined ? undefined : w.clusterSnapshots.get(snapshotId);
      const engine = queryString(params, 'Engine') ?? snapshot?.engine ?? 'aurora-postgresql';
      const major = majorVersion(
        engine,
        queryString(params, 'EngineVersion') ?? snapshot?.engineVersion ?? '16.4',
      );
      const needs: AuthorizationNeed[] = [
        need('cluster', idOf(required(params, 'DBClusterIdentifier')), requestTagContext(tagsOf(params))),
      ];
      if (snapshotId !== undefined) needs.push(need('cluster-snapshot', snapshotId));
      needs.push(
        other(
          'cluster-pg',
          'ClusterParameterGroupName',
          optional('DBClusterParameterGroupName') ?? `default.${engine}${major}`,
        ),
        other(
          'og',
          'OptionGroupName',
          optional('OptionGroupName') ?? `default:${engine}-${major.replace('.', '-')}`,
        ),
        other('subgrp', 'SubnetGroupName', optional('DBSubnetGroupName') ?? 'default'),
      );
      return needs;
    }
    case 'ModifyDBCluster': {
      const managed = queryString(params, 'ManageMasterUserPassword');
      const needs: AuthorizationNeed[] = [
        need(
          'cluster',
          idOf(required(params, 'DBClusterIdentifier')),
          managed === undefined ? {} : { 'rds:ManageMasterUserPassword': managed },
        ),
      ];
      const clusterPg = optional('DBClusterParameterGroupName');
      if (clusterPg !== undefined) needs.push(other('cluster-pg', 'ClusterParameterGroupName', clusterPg));
      const instancePg = optional('DBInstanceParameterGroupName');
      if (instancePg !== undefined) needs.push(other('pg', 'ParameterGroupName', instancePg));
      const optionGroup = optional('OptionGroupName');
      if (optionGroup !== undefined) needs.push(other('og', 'OptionGroupName', optionGroup));
      return needs;
    }
    case 'DeleteDBCluster': {
      const needs: AuthorizationNeed[] = [need('cluster', idOf(required(params, 'DBClusterIdentifier')))];
      const finalSnapshot = optional('FinalDBSnapshotIdentifier');
      if (finalSnapshot !== undefined) needs.push(need('cluster-snapshot', finalSnapshot));
      return needs;
    }
    case 'DescribeDBSnapshots': {
      const needs = [];
      const snapshot = optional('DBSnapshotIdentifier');
      const instance = optional('DBInstanceIdentifier');
      if (snapshot !== undefined || instance === undefined) needs.push(need('snapshot', snapshot ?? '*'));
      if (instance !== undefined) needs.push(need('db', instance));
      return needs;
    }
    case 'DescribeDBClusterSnapshots': {
      const needs = [];
      const snapshot = optional('DBClusterSnapshotIdentifier');
      const cluster = optional('DBClusterIdentifier');
      if (snapshot !== undefined || cluster === undefined)
        needs.push(need('cluster-snapshot', snapshot ?? '*'));
      if (cluster !== undefined) needs.push(need('cluster', cluster));
      return needs;
    }
    case 'CreateDBSnapshot': {
      const request = { ...requestTagContext(tagsOf(params)), 'rds:BackupTarget': 'region' };
      return [
        need('db', idOf(required(params, 'DBInstanceIdentifier')), request),
        need('snapshot', idOf(required(params, 'DBSnapshotIdentifier')), request),
      ];
    }
    case 'CreateDBClusterSnapshot': {
      const request = requestTagContext(tagsOf(params));
      return [
        need('cluster', idOf(required(params, 'DBClusterIdentifier')), request),
        need('cluster-snapshot', idOf(required(params, 'DBClusterSnapshotIdentifier')), request),
      ];
    }
    case 'DeleteDBSnapshot':
      return [need('snapshot', idOf(required(params, 'DBSnapshotIdentifier')))];
    case 'DeleteDBClusterSnapshot':
      return [need('cluster-snapshot', idOf(required(params, 'DBClusterSnapshotIdentifier')))];
    default: {
      // AddTagsToResource, RemoveTagsFromResource, ListTagsForResource: the resource the ARN names.
      const arn = required(params, 'ResourceName');
      const context =
        action === 'AddTagsToResource'
          ? requestTagContext(tagsOf(params))
          : action === 'RemoveTagsFromResource'
            ? { 'aws:TagKeys': tagKeysOf(params) }
            : {};
      const parsed = parseRdsArn(arn);
      if (parsed && parsed.region === w.o.region && parsed.account === w.o.account) {
        return [need(parsed.type, parsed.id, context)];
      }
      return [{ action: `rds:${action}`, resources: [arn], context }];
    }
  }
}

/** `aws:ResourceTag/<key>` and `rds:<type>-tag/<key>` of an existing resource, for IAM conditions. */
function resourceTagContext(w: RdsState, type: ResourceType, id: string): Record<string, string> {
  const resource = w.lookup(type, id);
  const context: Record<string, string> = {};
  for (const [key, value] of resource?.tags ?? []) {
    context[`aws:ResourceTag/${key}`] = value;
    context[`rds:${type}-tag/${key}`] = value;
  }
  return context;
}
