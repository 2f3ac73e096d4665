import type { Template } from 'aws-cdk-lib/assertions';
import type { PolicyStatement } from '../../local/iam/policy.ts';
import { resolveIntrinsics } from '../../local/template/resolve.ts';
import { ACCOUNT, REGION } from './stack-fixture.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** A value as a list: IAM allows one string or several. */
export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Every statement of every policy attached to the role whose logical id contains `roleIdPart`, resolved
 * (`Ref` → the logical id, `Fn::GetAtt … Arn` → `arn:test:<id>`).
 */
export function roleStatements(template: Template, roleIdPart: string): PolicyStatement[] {
  const { Resources: resources } = template.toJSON() as { Resources: Resources };
  const ids = Object.keys(resources);
  const role = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Role' && id.includes(roleIdPart),
  )?.[0];
  if (role === undefined) throw new Error(`no role ${roleIdPart} in the template`);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${role}"`))
    .flatMap(
      (r) =>
        (
          resolveIntrinsics(r.Properties.PolicyDocument, {
            region: REGION,
            accountId: ACCOUNT,
            refs: Object.fromEntries(ids.map((id) => [id, id])),
            attributes: Object.fromEntries(ids.map((id) => [id, { Arn: `arn:test:${id}` }])),
          }) as { Statement: PolicyStatement[] }
        ).Statement,
    );
}

/** The statements that grant `action`. */
export const granting = (statements: PolicyStatement[], action: string) =>
  statements.filter((s) => asList(s.Action).includes(action));
