/**
 * A function's role as deployed: its name and ARN, and every policy document and managed policy ARN the stack
 * attaches to it.
 *
 * @module
 */
import type { PolicyDocument } from '../iam/policy.ts';
import type { Template, TemplateResource } from './cloud-assembly.ts';
import type { DeployedFunction } from './deployed-types.ts';
import { CloudAssemblyError } from './errors.ts';
import type { TemplateWorld } from './template-world.ts';
import { isRecord } from './values.ts';

/**
 * The role the function's `Role` property names, with its policies when the role is part of the stack (a role
 * imported by ARN has none here, and `roleLogicalId` `''`).
 */
export function functionRole(
  logicalId: string,
  roleProperty: unknown,
  world: TemplateWorld,
  template: Template,
): Pick<DeployedFunction, 'roleLogicalId' | 'roleName' | 'roleArn' | 'policies' | 'managedPolicyArns'> {
  const roleArn = world.resolveString(roleProperty, `${logicalId}.Role`);
  const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
  const match = roles.find(([id]) => world.identityOf(id).attributes.Arn === roleArn);
  if (match === undefined) {
    // A role from outside the stack: its policies are not in the template.
    const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    return { roleLogicalId: '', roleName, roleArn, policies: [], managedPolicyArns: [] };
  }
  const [roleLogicalId, role] = match;
  const roleName = world.identityOf(roleLogicalId).name!;
  return { roleLogicalId, roleName, roleArn, ...rolePolicies(role, roleName, roleArn, world, template) };
}

function rolePolicies(
  role: TemplateResource,
  roleName: string,
  roleArn: string,
  world: TemplateWorld,
  template: Template,
): { policies: PolicyDocument[]; managedPolicyArns: string[] } {
  const policies: PolicyDocument[] = [];
  const managedPolicyArns = new Set<string>();
  const inline = world.resolve(role.Properties?.Policies ?? []);
  for (const policy of Array.isArray(inline) ? inline : []) {
    if (isRecord(policy)) policies.push(policyDocument(policy.PolicyDocument));
  }
  const managed = world.resolve(role.Properties?.ManagedPolicyArns ?? []);
  for (const arn of Array.isArray(managed) ? managed : []) managedPolicyArns.add(String(arn));

  const namesRole = (value: unknown) => value === roleName || value === roleArn;
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = world.resolve(p.Roles ?? []);
      if (!Array.isArray(roles) || !roles.some(namesRole)) continue;
      policies.push(policyDocument(world.resolve(p.PolicyDocument)));
      if (resource.Type === 'AWS::IAM::ManagedPolicy') managedPolicyArns.add(world.identityOf(id).ref);
    } else if (resource.Type === 'AWS::IAM::RolePolicy' && namesRole(world.resolve(p.RoleName))) {
      policies.push(policyDocument(world.resolve(p.PolicyDocument)));
    }
  }
  return { policies, managedPolicyArns: [...managedPolicyArns] };
}

/** A resolved policy document, parsed when the template gives it as JSON text. */
function policyDocument(value: unknown): PolicyDocument {
  const document = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!isRecord(document) || document.Statement === undefined) {
    throw new CloudAssemblyError(`policy document ${JSON.stringify(document)} has no Statement`);
  }
  return document as unknown as PolicyDocument;
}
