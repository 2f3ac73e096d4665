/**
 * A template's `AWS::Lambda::Function` as deployed: its handler module on disk, its role and policies, its
 * environment and its asynchronous invocation settings.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import type { FileAsset, Template, TemplateResource } from './cloud-assembly.ts';
import type { DeployedFunction } from './deployed-types.ts';
import { FunctionAssetError } from './errors.ts';
import { functionRole } from './function-role.ts';
import type { TemplateWorld } from './template-world.ts';
import { isRecord, numberOr, optional } from './values.ts';

const HANDLER_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

/** What deploying a function reads beyond its own resource. */
export interface FunctionInputs {
  world: TemplateWorld;
  template: Template;
  dir: string;
  assets: Map<string, FileAsset>;
  requireAssets: boolean;
}

/**
 * The function `logicalId` as deployed.
 *
 * @throws {@link FunctionAssetError} when its handler module is missing from a bundled asset (or from any
 *   asset, with `requireAssets`).
 */
export function deployFunction(
  logicalId: string,
  resource: TemplateResource,
  inputs: FunctionInputs,
): DeployedFunction {
  const { world, template } = inputs;
  const p = resource.Properties ?? {};
  const identity = world.identityOf(logicalId);
  const functionName = identity.name!;
  const arn = identity.attributes.Arn!;
  const handler = p.Handler === undefined ? '' : world.resolveString(p.Handler, `${logicalId}.Handler`);
  const { modulePath, exportName } = splitHandler(logicalId, handler);
  const code = findCode(logicalId, world.resolve(p.Code ?? {}), modulePath, inputs);
  const role = functionRole(logicalId, p.Role, world, template);
  const variables = world.resolve(isRecord(p.Environment) ? (p.Environment.Variables ?? {}) : {});
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(isRecord(variables) ? variables : {})) {
    environment[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const invokeConfig = eventInvokeConfig(functionName, arn, world, template);
  const architectures = p.Architectures === undefined ? ['x86_64'] : world.resolve(p.Architectures);
  return {
    logicalId,
    functionName,
    arn,
    ...role,
    handler,
    assetDir: code.assetDir,
    entryFile: code.entryFile,
    exportName,
    environment,
    timeoutSeconds: numberOr(world.resolve(p.Timeout), 3),
    memoryMb: numberOr(world.resolve(p.MemorySize), 128),
    runtime: p.Runtime === undefined ? '' : world.resolveString(p.Runtime, `${logicalId}.Runtime`),
    architectures: Array.isArray(architectures) ? architectures.map(String) : ['x86_64'],
    maxRetryAttempts: numberOr(invokeConfig?.MaximumRetryAttempts, 2),
    maxEventAgeSeconds: numberOr(invokeConfig?.MaximumEventAgeInSeconds, 21600),
    ...optional('onFailureArn', onFailureOf(invokeConfig)),
  };
}

/**
 * Module path and export of a Node.js handler string, split as the Lambda runtime does: the module is
 * everything up to the first dot of the last path segment (`src/index.handler` → `src/index`, `handler`).
 */
function splitHandler(logicalId: string, handler: string): { modulePath: string; exportName: string } {
  const slash = handler.lastIndexOf('/');
  const match = /^([^.]+)\.(.+)$/.exec(handler.slice(slash + 1));
  if (match === null) {
    if (handler === '') return { modulePath: '', exportName: '' };
    throw new FunctionAssetError(logicalId, `handler ${JSON.stringify(handler)} is not <module>.<export>`);
  }
  return { modulePath: handler.slice(0, slash + 1) + match[1]!, exportName: match[2]! };
}

function findCode(
  logicalId: string,
  code: unknown,
  modulePath: string,
  inputs: FunctionInputs,
): { assetDir: string; entryFile: string } {
  const s3Key = isRecord(code) ? code.S3Key : undefined;
  const asset = typeof s3Key === 'string' ? assetOfObjectKey(inputs.assets, s3Key) : undefined;
  if (asset === undefined) {
    if (inputs.requireAssets) {
      const what = typeof s3Key === 'string' ? `S3 key ${s3Key}` : 'code that is not an S3 asset';
      throw new FunctionAssetError(logicalId, `no local asset in the cloud assembly for ${what}`);
    }
    return { assetDir: '', entryFile: '' };
  }
  const assetDir = resolvePath(inputs.dir, asset.source.path);
  const lookedFor = HANDLER_EXTENSIONS.map((ext) => join(assetDir, `${modulePath}${ext}`));
  const entryFile = lookedFor.find((file) => existsSync(file) && statSync(file).isFile());
  if (entryFile !== undefined) return { assetDir, entryFile };
  // An asset staged into the assembly is a bundle: its module must be there. When bundling was skipped
  // (context `aws:cdk:bundling-stacks: []`), CDK points the asset at the unbundled source directory instead.
  const fromAssembly = relative(inputs.dir, assetDir);
  const staged = !fromAssembly.startsWith('..') && !isAbsolute(fromAssembly);
  if (inputs.requireAssets || staged) {
    const hint = staged ? '' : ' (the asset is outside the cloud assembly: was bundling skipped?)';
    throw new FunctionAssetError(
      logicalId,
      `no handler module in ${assetDir}; looked for ${lookedFor.join(', ')}${hint}`,
      lookedFor,
    );
  }
  return { assetDir, entryFile: '' };
}

function assetOfObjectKey(assets: Map<string, FileAsset>, objectKey: string): FileAsset | undefined {
  for (const asset of assets.values()) {
    if (Object.values(asset.destinations ?? {}).some((d) => d.objectKey === objectKey)) return asset;
  }
  return assets.get(objectKey.replace(/\.[^.]*$/, ''));
}

/** Properties of the `AWS::Lambda::EventInvokeConfig` of the function's `$LATEST`, resolved. */
function eventInvokeConfig(
  functionName: string,
  functionArn: string,
  world: TemplateWorld,
  template: Template,
): Record<string, unknown> | undefined {
  const partialArn = functionArn.split(':').slice(4).join(':');
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const p = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const target = p.FunctionName;
    const forFunction = target === functionName || target === functionArn || target === partialArn;
    if (forFunction && (p.Qualifier ?? '$LATEST') === '$LATEST') return p;
  }
  return undefined;
}

function onFailureOf(config: Record<string, unknown> | undefined): string | undefined {
  const destinations = config?.DestinationConfig;
  const onFailure = isRecord(destinations) ? destinations.OnFailure : undefined;
  return isRecord(onFailure) && typeof onFailure.Destination === 'string' ? onFailure.Destination : undefined;
}
