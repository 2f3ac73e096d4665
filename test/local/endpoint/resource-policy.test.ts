import { describe, expect, it } from 'vitest';
import { authorize, type Caller, type ResourcePolicyStatement } from '../../../local/endpoint/authorize.ts';

const BUS = 'arn:aws:events:eu-west-1:123456789012:event-bus/default';
const NIGHTSHIFT_ROLE = 'arn:aws:iam::123456789012:role/nightshift-rollback';
const deny: ResourcePolicyStatement = {
  Sid: 'OnlyNightshiftSpeaksAsNightshift',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'events:PutEvents',
  Resource: BUS,
  Condition: {
    StringEquals: { 'events:source': 'nightshift' },
    ArnNotEquals: { 'aws:PrincipalArn': [NIGHTSHIFT_ROLE] },
  },
};
const where = { account: '123456789012', region: 'eu-west-1', resourcePolicies: new Map([[BUS, [deny]]]) };
const allowPut = [{ Statement: { Effect: 'Allow' as const, Action: 'events:PutEvents', Resource: '*' } }];
const caller = (role: string): Caller => ({
  accessKeyId: 'AKIA',
  secretAccessKey: 's',
  principalArn: `arn:aws:sts::123456789012:assumed-role/${role.split('/').pop()}/session`,
  roleArn: role,
  policies: allowPut,
});
const put = (source: string) => [
  {
    action: 'events:PutEvents',
    resourceType: 'event-bus',
    values: { EventBusName: 'default' },
    context: { 'events:source': source },
  },
];

describe('resource-based policy denies', () => {
  it('the bus policy refuses source nightshift to another role, even one whose own policy allows PutEvents', async () => {
    await expect(
      authorize(caller('arn:aws:iam::123456789012:role/ci-deployer'), put('nightshift'), where),
    ).rejects.toThrow(/explicit deny in a resource-based policy/);
  });

  it("Nightshift's role may, by its role ARN (aws:PrincipalArn of a role session); other sources stay allowed", async () => {
    await expect(authorize(caller(NIGHTSHIFT_ROLE), put('nightshift'), where)).resolves.toBeUndefined();
    await expect(
      authorize(caller('arn:aws:iam::123456789012:role/ci-deployer'), put('my.app'), where),
    ).resolves.toBeUndefined();
  });

  it('the deny applies to the unrestricted operator too, as a bus policy does to an administrator', async () => {
    const operator: Caller = {
      accessKeyId: 'op',
      secretAccessKey: 's',
      principalArn: 'arn:aws:iam::123456789012:user/operator',
      policies: 'unrestricted',
    };
    await expect(authorize(operator, put('nightshift'), where)).rejects.toThrow(/AccessDenied|explicit deny/);
  });
});
