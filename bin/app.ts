import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { validateConfig } from '../lib/config/define-config.ts';
import { NightshiftStack } from '../lib/nightshift-stack.ts';
import userConfig from '../nightshift.config.ts';

const config = validateConfig(userConfig);
const app = new App();
new NightshiftStack(app, config.stackName, {
  config,
  env: {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: config.region ?? process.env.CDK_DEFAULT_REGION,
  },
  description: 'Nightshift: ops runbooks as a serverless backend',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
