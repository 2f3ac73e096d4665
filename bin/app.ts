import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { exitOnInvalidConfig, loadConfig } from '../lib/config/load-config.ts';
import { NightshiftStack } from '../lib/nightshift-stack.ts';

// The configuration is nightshift.config.ts, or the file NIGHTSHIFT_CONFIG names; a bad one prints its
// problems and exits 1 (no stack trace).
const config = await exitOnInvalidConfig(() => loadConfig());
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
