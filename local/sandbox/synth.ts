import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { validateConfig } from '../../lib/config/define-config.ts';
import type { NightshiftConfig, NightshiftConfigInput } from '../../lib/config/schema.ts';
import { NightshiftStack } from '../../lib/nightshift-stack.ts';

/**
 * Synthesizes the app exactly as `cdk synth` would (bundling with esbuild, cdk-nag checks), into `outdir`.
 * `customize` may change the stack before synthesis (tests use it to build a broken stack on purpose).
 */
export function synthesize(
  outdir: string,
  configInput: NightshiftConfigInput,
  customize?: (stack: NightshiftStack) => void,
): { config: NightshiftConfig; stackName: string } {
  process.env.CDK_DISABLE_VERSION_CHECK = 'true';
  const config = validateConfig(configInput);
  // The same context `cdk synth` reads from cdk.json, so both synthesize the same template.
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({ outdir, context: cdkJson.context });
  const stack = new NightshiftStack(app, config.stackName, {
    config,
    env: { account: config.account ?? '123456789012', region: config.region ?? 'eu-west-1' },
  });
  customize?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { config, stackName: config.stackName };
}
