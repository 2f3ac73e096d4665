import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CiRolesStack } from '../lib/ci-roles-stack.ts';

// Deployed once by hand, in the account and Region Nightshift deploys to (README, Deploy):
//   npx cdk deploy --app 'npx tsx bin/ci-roles.ts' -c repository=<owner>/<name> [-c environment=production]
const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key) ?? undefined;
const repository = context('repository');
if (!repository) {
  process.stderr.write('Name the GitHub repository: -c repository=<owner>/<name>\n');
  process.exit(1);
}
new CiRolesStack(app, 'NightshiftCiRoles', {
  repository,
  environment: context('environment'),
  bootstrapQualifier: context('bootstrapQualifier'),
  existingOidcProviderArn: context('existingOidcProviderArn'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description:
    'Nightshift CI: the GitHub Actions OIDC roles for cdk diff (pull requests) and cdk deploy (main)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
