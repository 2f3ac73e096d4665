import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { validateConfig } from '../../lib/config/define-config.ts';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';
import { NightshiftStack } from '../../lib/nightshift-stack.ts';
import { exampleAppConfig as exampleConfig } from '../../local/sandbox/example-config.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** Builds the stack without bundling (template tests never run esbuild), with cdk-nag registered. */
export function buildStack(config: NightshiftConfigInput = exampleConfig) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new NightshiftStack(app, 'Nightshift', {
    config: validateConfig(config),
    env: { account: ACCOUNT, region: REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: () => Template.fromStack(stack) };
}
