import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { validateConfig } from '../../../lib/config/define-config.ts';
import type { NightshiftConfigInput } from '../../../lib/config/schema.ts';
import { NightshiftStack } from '../../../lib/nightshift-stack.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { exampleAppConfig as exampleConfig } from '../../../local/sandbox/example-config.ts';
import { START } from './world-fixture.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/**
 * A world whose functions cannot run (synthesized without bundling, so fast) but whose roles call the
 * endpoint with exactly the policies the template gives them: IAM tests of the synthesized policies.
 * Restore verification is enabled, so all three functions are there.
 */
export async function iamWorld(config: NightshiftConfigInput = exampleConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-iam-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  const outdir = join(dir, 'cdk.out');
  const validated = validateConfig({
    ...config,
    restoreVerify: { ...config.restoreVerify, enabled: true, caBundleFile: caFile },
  } as NightshiftConfigInput);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  new NightshiftStack(app, validated.stackName, {
    config: validated,
    env: { account: ACCOUNT, region: REGION },
  });
  app.synth();
  const world = await LocalWorld.start({
    cloudAssemblyDir: outdir,
    account: ACCOUNT,
    region: REGION,
    stackName: validated.stackName,
    start: START,
    requireAssets: false,
  });
  const logicalIdOf = (part: string) => {
    const fn = world.app.functions.find((f) => f.logicalId.includes(part));
    if (!fn) throw new Error(`no function ${part} in the template`);
    return fn.logicalId;
  };
  return {
    world,
    /** SDK configuration that calls as the function whose logical id contains `part`. */
    as: (part: string) => ({ ...world.functionConfig(logicalIdOf(part)), maxAttempts: 1 }),
    tableName: world.app.tables[0]?.tableName ?? '',
    close: async () => {
      await world.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
