import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AwsSolutions finding on a construct, with the reason. `finding` is the part in
 * brackets of a per-finding rule (e.g. a policy resource), or undefined for a whole rule.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string, finding?: string): void {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions::AwsSolutions-${rule}${finding === undefined ? '' : `[${finding}]`}`,
    reason,
  });
}

/**
 * How cdk-nag names a policy resource in a finding: the resolved value with intrinsic references written as
 * `<AWS::Partition>` or `<Logical.Attr>`.
 */
export function nagResource(scope: IConstruct, value: string): string {
  return `Resource::${flatten(Stack.of(scope).resolve(value))}`;
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
  }
  throw new Error(`cannot name ${JSON.stringify(value)} as a cdk-nag finding`);
}
