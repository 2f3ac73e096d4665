import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { NightshiftConfig } from '../../../lib/config/schema.ts';
import type { NightshiftStack } from '../../../lib/nightshift-stack.ts';
import { exampleAppConfig } from '../../../local/sandbox/example-config.ts';
import { synthesize } from '../../../local/sandbox/synth.ts';
import { WebhooksApp } from '../../../local/sandbox/webhooks-app.ts';
import { LocalWorld } from '../../../local/world/world.ts';

export const MIN = 60_000;
export const DAY = 24 * 60 * MIN;
export const START = Date.parse('2026-11-16T08:00:00.000Z');

/** The built-in example app's cloud assembly (real esbuild bundles) in a temp dir, whatever nightshift.config.ts says. */
export function synthesizeAssembly(customize?: (stack: NightshiftStack) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-test-'));
  const { config, stackName } = synthesize(dir, exampleAppConfig, customize);
  return { dir, config, stackName, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Removes one action from the rollback function's policy, as a careless change would. */
export function withoutAction(action: string) {
  return (stack: NightshiftStack) => {
    const role = stack.nightshift.ecsRollback?.handler.function.role;
    const policy = role?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    const cfn = policy?.node.defaultChild as iam.CfnPolicy | undefined;
    if (!policy || !cfn) throw new Error('no default policy on the rollback role');
    const document = Stack.of(stack).resolve(policy.document) as {
      Statement: { Action: string | string[] }[];
    };
    const statements = document.Statement.map((s) => ({
      ...s,
      Action: (Array.isArray(s.Action) ? s.Action : [s.Action]).filter((a) => a !== action),
    })).filter((s) => s.Action.length > 0);
    cfn.addPropertyOverride('PolicyDocument', { ...document, Statement: statements });
  };
}

/** A fresh world with the webhooks app installed; api rev 1 baked 3 days, rev 2 deployed 25 minutes ago. */
export async function suspectDeployment(
  assembly: { dir: string; config: NightshiftConfig; stackName: string },
  options: { apiDeploymentAlarms?: string[] } = {},
) {
  const world = await LocalWorld.start({
    cloudAssemblyDir: assembly.dir,
    account: '123456789012',
    region: 'eu-west-1',
    stackName: assembly.stackName,
    start: START,
  });
  const app = new WebhooksApp(world, assembly.config);
  await app.install(options);
  await world.advance(3 * DAY);
  const rev1 = app.running(app.api).taskDefinition;
  const rev2 = await app.deploy(app.api, 'v2');
  await world.advance(25 * MIN);
  const [successRate = '', fiveXx = '', unhealthy = ''] = app.alarmsOf(app.api);
  return { world, app, rev1, rev2, alarms: { successRate, fiveXx, unhealthy } };
}

export function published(world: LocalWorld, detailType: string) {
  return world.events.published.filter((e) => e['detail-type'] === detailType);
}
