/**
 * "Deploys" a synthesized CDK app locally: reads a cloud assembly (`cdk.out/`), picks one stack, gives every
 * resource a deterministic physical name (see `physical-names.ts`), resolves every intrinsic the local
 * world needs, and returns the functions, rules, tables, queues, topics and alarms with concrete names and
 * ARNs, plus each function's code on disk.
 *
 * Not supported, and rejected with {@link UnsupportedTemplateFeatureError}: resources with a `Condition`
 * and `Fn::If` anywhere in the resources. Nested cloud assemblies (CDK stages) are not searched.
 *
 * @module
 */
import { join, resolve as resolvePath } from 'node:path';
import { readFileAssets, readTemplate, rejectConditions, selectStack } from './cloud-assembly.ts';
import { deployFunction } from './deploy-function.ts';
import {
  deployAlarm,
  deployBusPolicy,
  deployEventSourceMapping,
  deployQueue,
  deployRule,
  deployTable,
  deployTopic,
} from './deploy-resources.ts';
import { type DeployedConfigurationSet, deployConfigurationSets } from './deploy-ses.ts';
import type { DeployedApp as DeployedResources, LoadDeployedAppOptions } from './deployed-types.ts';
import { TemplateWorld } from './template-world.ts';

export type { DeployedConfigurationSet, DeployedEventDestination } from './deploy-ses.ts';
export type {
  DeployedAlarm,
  DeployedEventSourceMapping,
  DeployedFunction,
  DeployedQueue,
  DeployedRule,
  DeployedRuleTarget,
  DeployedTable,
  DeployedTopic,
  LoadDeployedAppOptions,
} from './deployed-types.ts';
export {
  CircularNameReferenceError,
  CloudAssemblyError,
  FunctionAssetError,
  StackEnvironmentMismatchError,
  StackSelectionError,
  UnsupportedTemplateFeatureError,
} from './errors.ts';

const PARTITION = 'aws';

/**
 * One stack as a local world deploys it: the resources of `deployed-types.ts` plus the SES configuration sets
 * (with their event destinations) of `deploy-ses.ts`.
 */
export type DeployedApp = DeployedResources & {
  /** `AWS::SES::ConfigurationSet`s with their `AWS::SES::ConfigurationSetEventDestination`s. */
  configurationSets: DeployedConfigurationSet[];
};

/**
 * Reads a cloud assembly and returns one stack as a local world deploys it, every intrinsic resolved.
 *
 * @param cloudAssemblyDir - directory `cdk synth` wrote (`manifest.json`, `<Stack>.template.json`, …).
 * @param options - the account and region to deploy to, and which stack.
 * @throws {@link StackSelectionError} when `stackName` is absent and the assembly holds several stacks, or
 *   names none of them; {@link StackEnvironmentMismatchError} when the stack was synthesized for another
 *   account or region; {@link UnsupportedTemplateFeatureError} for conditions;
 *   {@link UnknownAttributeError} (from `physical-names.ts`) when the template reads an attribute the local
 *   world does not know; `UnresolvableIntrinsicError` for other unresolvable intrinsics;
 *   {@link FunctionAssetError} when a function's handler module is missing from a bundled asset (or from
 *   any asset, with `requireAssets`).
 */
function busPolicies(list: ReturnType<typeof deployBusPolicy>[]): DeployedApp['resourcePolicies'] {
  const byArn = new Map<string, DeployedApp['resourcePolicies'] extends Map<string, infer S> ? S : never>();
  for (const { busArn, statements } of list) byArn.set(busArn, [...(byArn.get(busArn) ?? []), ...statements]);
  return byArn;
}

export function loadDeployedApp(cloudAssemblyDir: string, options: LoadDeployedAppOptions): DeployedApp {
  const dir = resolvePath(cloudAssemblyDir);
  const stack = selectStack(dir, options);
  const template = readTemplate(join(dir, stack.templateFile));
  rejectConditions(template);
  const world = new TemplateWorld(template, {
    account: options.account,
    region: options.region,
    partition: PARTITION,
    stackName: stack.stackName,
  });
  const assets = readFileAssets(dir, stack.assetManifestFiles);
  const resources = Object.entries(template.Resources);
  const ofType = (...types: string[]) => resources.filter(([, r]) => types.includes(r.Type));

  const functions = ofType('AWS::Lambda::Function').map(([id, r]) =>
    deployFunction(id, r, { world, template, dir, assets, requireAssets: options.requireAssets ?? false }),
  );
  return {
    stackName: stack.stackName,
    account: options.account,
    region: options.region,
    functions,
    rules: ofType('AWS::Events::Rule').map(([id, r]) => deployRule(id, r, world, functions)),
    tables: ofType('AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable').map(([id, r]) =>
      deployTable(id, r, world),
    ),
    queues: ofType('AWS::SQS::Queue').map(([id, r]) => deployQueue(id, r, world)),
    eventSourceMappings: ofType('AWS::Lambda::EventSourceMapping').map(([id, r]) =>
      deployEventSourceMapping(id, r, world, functions),
    ),
    resourcePolicies: busPolicies(
      ofType('AWS::Events::EventBusPolicy').map(([, r]) => deployBusPolicy(r, world, options)),
    ),
    topics: ofType('AWS::SNS::Topic').map(([id, r]) => deployTopic(id, world, r)),
    alarms: ofType('AWS::CloudWatch::Alarm').map(([id, r]) => deployAlarm(id, r, world)),
    configurationSets: deployConfigurationSets(resources, world, { ...options, partition: PARTITION }),
    context: world.context(),
  };
}
