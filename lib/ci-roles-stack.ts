import { Aws, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** Properties of {@link CiRolesStack}. */
export interface CiRolesStackProps extends StackProps {
  /** The GitHub repository whose workflows may assume the roles, as `owner/name`. */
  readonly repository: string;
  /**
   * The GitHub environment the deploy job runs in; give it required reviewers and limit it to `main` in the
   * repository's settings. @default 'production'
   */
  readonly environment?: string;
  /** Qualifier of the account's `cdk bootstrap`. @default 'hnb659fds' (CDK's default) */
  readonly bootstrapQualifier?: string;
  /**
   * ARN of the account's existing GitHub OIDC provider (IAM allows one per URL per account).
   * @default a provider for https://token.actions.githubusercontent.com is created
   */
  readonly existingOidcProviderArn?: string;
}

/** The issuer of GitHub Actions' OIDC tokens. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';
/** The audience aws-actions/configure-aws-credentials requests, and the only one the roles accept. */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';
/** The default GitHub environment of the deploy job (`.github/workflows/deploy.yml`). */
export const DEFAULT_DEPLOY_ENVIRONMENT = 'production';

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const ENVIRONMENT = /^[A-Za-z0-9_.-]{1,255}$/;

/**
 * The two roles GitHub Actions assumes through OIDC (no stored keys), deployed once by hand per account and
 * Region (`README.md`, Deploy):
 *
 * - `pullRequestRole`, trusted only for `repo:<owner>/<name>:pull_request`: it may assume only the CDK
 *   bootstrap's lookup role (read only), which is what `cdk diff --method=template` uses. A pull request can
 *   change the workflow it runs, so this role must not be able to change anything: `cdk diff`'s default
 *   (change-set) method would use the deploy role, which could deploy.
 * - `deployRole`, trusted only for `repo:<owner>/<name>:environment:<environment>`: it may assume the
 *   bootstrap's deploy, file-publishing and lookup roles, which is what `cdk deploy` uses.
 *
 * The subjects are GitHub's default `sub` claim formats; an organisation that customised its subject
 * template must adapt them. Pull requests from forks get no OIDC token at all.
 */
export class CiRolesStack extends Stack {
  readonly pullRequestRole: iam.Role;
  readonly deployRole: iam.Role;

  constructor(scope: Construct, id: string, props: CiRolesStackProps) {
    super(scope, id, props);
    const environment = props.environment ?? DEFAULT_DEPLOY_ENVIRONMENT;
    if (!REPOSITORY.test(props.repository)) {
      throw new Error(`repository must be "owner/name", got ${JSON.stringify(props.repository)}`);
    }
    if (!ENVIRONMENT.test(environment)) {
      throw new Error(`environment must be a GitHub environment name, got ${JSON.stringify(environment)}`);
    }
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    const providerArn =
      props.existingOidcProviderArn ??
      new iam.OidcProviderNative(this, 'GitHubOidcProvider', {
        url: `https://${GITHUB_OIDC_ISSUER}`,
        clientIds: [GITHUB_OIDC_AUDIENCE],
      }).oidcProviderArn;
    const trustedFor = (subject: string) =>
      new iam.WebIdentityPrincipal(providerArn, {
        // StringEquals, never StringLike: each role is for exactly one subject.
        StringEquals: {
          [`${GITHUB_OIDC_ISSUER}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_ISSUER}:sub`]: subject,
        },
      });
    const bootstrapRole = (kind: string) =>
      `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/cdk-${qualifier}-${kind}-role-${Aws.ACCOUNT_ID}-${Aws.REGION}`;

    this.pullRequestRole = new iam.Role(this, 'PullRequestRole', {
      description: `GitHub pull requests of ${props.repository}: cdk diff --method=template (lookup role only)`,
      assumedBy: trustedFor(`repo:${props.repository}:pull_request`),
      maxSessionDuration: Duration.hours(1),
    });
    this.pullRequestRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheReadOnlyLookupRole',
        actions: ['sts:AssumeRole'],
        resources: [bootstrapRole('lookup')],
      }),
    );

    this.deployRole = new iam.Role(this, 'DeployRole', {
      description: `GitHub environment ${environment} of ${props.repository}: cdk deploy`,
      assumedBy: trustedFor(`repo:${props.repository}:environment:${environment}`),
      maxSessionDuration: Duration.hours(1),
    });
    this.deployRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TheBootstrapRolesCdkDeployUses',
        actions: ['sts:AssumeRole'],
        // No image-publishing role: Nightshift ships no container images.
        resources: ['deploy', 'file-publishing', 'lookup'].map(bootstrapRole),
      }),
    );

    // The workflows read these as repository variables (NIGHTSHIFT_DIFF_ROLE_ARN, NIGHTSHIFT_DEPLOY_ROLE_ARN).
    new CfnOutput(this, 'PullRequestRoleArn', { value: this.pullRequestRole.roleArn });
    new CfnOutput(this, 'DeployRoleArn', { value: this.deployRole.roleArn });
  }
}
