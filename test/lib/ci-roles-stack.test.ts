import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CiRolesStack, type CiRolesStackProps } from '../../lib/ci-roles-stack.ts';
import { resolveIntrinsics } from '../../local/template/resolve.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

function build(props: Partial<CiRolesStackProps> = {}) {
  const app = new App();
  const stack = new CiRolesStack(app, 'NightshiftCiRoles', {
    repository: 'acme/nightshift-ops',
    env: { account: ACCOUNT, region: REGION },
    ...props,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  const json = template.toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const ids = Object.keys(json.Resources);
  const resolve = <T>(v: unknown) =>
    resolveIntrinsics(v, {
      region: REGION,
      accountId: ACCOUNT,
      refs: Object.fromEntries(ids.map((id) => [id, id])),
      attributes: Object.fromEntries(ids.map((id) => [id, { Arn: `arn:test:${id}` }])),
    }) as T;
  return { app, stack, template, json, resolve };
}

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: unknown;
};

function role(built: ReturnType<typeof build>, idPart: string) {
  const entry = Object.entries(built.json.Resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith(idPart),
  );
  expect(entry).toBeDefined();
  const [id, resource] = entry ?? ['', { Type: '', Properties: {} as Record<string, unknown> }];
  const trust = built.resolve<{ Statement: Statement[] }>(
    resource.Properties.AssumeRolePolicyDocument,
  ).Statement;
  const permissions = Object.values(built.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${id}"`))
    .flatMap((r) => built.resolve<{ Statement: Statement[] }>(r.Properties.PolicyDocument).Statement);
  return { trust, permissions, properties: resource.Properties };
}

const lookupRole = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-lookup-role-${ACCOUNT}-${REGION}`;

describe('CiRolesStack', () => {
  const built = build();

  it("trusts GitHub's OIDC issuer for the STS audience", () => {
    built.template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
  });

  describe('pull request role', () => {
    const { trust, permissions, properties } = role(built, 'PullRequestRole');

    it('is trusted only for pull requests of the one repository', () => {
      expect(trust).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: expect.stringContaining('GitHubOidcProvider') },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': 'repo:acme/nightshift-ops:pull_request',
            },
          },
        },
      ]);
    });

    it('may assume the read-only CDK lookup role and nothing else', () => {
      expect(permissions).toEqual([
        { Sid: 'OnlyTheReadOnlyLookupRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: lookupRole },
      ]);
      expect(properties.ManagedPolicyArns).toBeUndefined();
    });
  });

  describe('deploy role', () => {
    const { trust, permissions, properties } = role(built, 'DeployRole');

    it('is trusted only for the deploy environment of the one repository', () => {
      expect(trust).toHaveLength(1);
      expect(trust[0]?.Condition).toEqual({
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:acme/nightshift-ops:environment:production',
        },
      });
    });

    it('may assume the bootstrap roles cdk deploy uses, and nothing else', () => {
      expect(permissions).toHaveLength(1);
      expect(permissions[0]?.Action).toBe('sts:AssumeRole');
      expect(permissions[0]?.Resource).toEqual(
        ['deploy', 'file-publishing', 'lookup'].map(
          (kind) => `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-${kind}-role-${ACCOUNT}-${REGION}`,
        ),
      );
      expect(properties.ManagedPolicyArns).toBeUndefined();
    });

    it('follows another environment name and bootstrap qualifier when given', () => {
      const other = build({ environment: 'prod-eu', bootstrapQualifier: 'ops1' });
      const { trust: otherTrust, permissions: otherPermissions } = role(other, 'DeployRole');
      expect(JSON.stringify(otherTrust)).toContain('repo:acme/nightshift-ops:environment:prod-eu');
      expect(JSON.stringify(otherPermissions)).toContain(`role/cdk-ops1-deploy-role-${ACCOUNT}-${REGION}`);
    });
  });

  it('uses an existing OIDC provider instead of making a second one', () => {
    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const other = build({ existingOidcProviderArn: arn });
    other.template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(role(other, 'PullRequestRole').trust[0]?.Principal).toEqual({ Federated: arn });
  });

  it('outputs both role ARNs for the workflow variables', () => {
    built.template.hasOutput('PullRequestRoleArn', {});
    built.template.hasOutput('DeployRoleArn', {});
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(() => built.app.synth({ force: true })).not.toThrow();
  });

  it('fails synth when a role gains a wildcard', () => {
    const bad = build();
    bad.stack.pullRequestRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: ['*'] }),
    );
    expect(() => bad.app.synth({ force: true })).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
  });

  it.each([['acme'], ['acme/nightshift ops'], ['https://github.com/acme/nightshift']])(
    'refuses the repository %s',
    (repository) => {
      expect(() => build({ repository })).toThrow(`repository must be "owner/name", got "${repository}"`);
    },
  );
});
