/**
 * Reading a cloud assembly (`cdk.out/`): choosing the stack, its template and its file assets, and rejecting
 * template features the local world does not model.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadDeployedAppOptions } from './deployed-types.ts';
import {
  CloudAssemblyError,
  StackEnvironmentMismatchError,
  StackSelectionError,
  UnsupportedTemplateFeatureError,
} from './errors.ts';
import { isRecord } from './values.ts';

/** A resource of a CloudFormation template, as far as the local world reads it. */
export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: unknown;
}

/** A CloudFormation template: its resources and parameters. */
export interface Template {
  Resources: Record<string, TemplateResource>;
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
}

/** The stack chosen from `manifest.json`: its names, template file and asset manifests. */
export interface StackArtifact {
  artifactId: string;
  stackName: string;
  templateFile: string;
  assetManifestFiles: string[];
}

/** A file asset of an asset manifest: where it is in the assembly and the S3 keys it is published to. */
export interface FileAsset {
  source: { path: string; packaging?: string };
  destinations?: Record<string, { objectKey?: string }>;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CloudAssemblyError(`cannot read ${what} ${file}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CloudAssemblyError(`${what} ${file} is not JSON`, { cause: error });
  }
}

/**
 * The stack `options.stackName` names, or the only stack of the assembly.
 *
 * @throws {@link StackSelectionError} when there is no such stack, or several and none named;
 *   {@link StackEnvironmentMismatchError} when it was synthesized for another account or region.
 */
export function selectStack(dir: string, options: LoadDeployedAppOptions): StackArtifact {
  const manifestFile = join(dir, 'manifest.json');
  const manifest = readJson(manifestFile, 'cloud assembly manifest');
  const artifacts = isRecord(manifest) && isRecord(manifest.artifacts) ? manifest.artifacts : {};
  const stacks = Object.entries(artifacts).filter(
    (entry): entry is [string, Record<string, unknown>] =>
      isRecord(entry[1]) && entry[1].type === 'aws:cloudformation:stack',
  );
  const stackNameOf = ([id, a]: [string, Record<string, unknown>]) => {
    const name = isRecord(a.properties) ? a.properties.stackName : undefined;
    return typeof name === 'string' ? name : id;
  };
  const choices = stacks.map(([id]) => id);
  let chosen: [string, Record<string, unknown>] | undefined;
  if (options.stackName === undefined) {
    if (stacks.length !== 1) {
      throw new StackSelectionError(
        `${manifestFile} holds ${stacks.length} stacks; choose one with the stackName option`,
        choices,
      );
    }
    chosen = stacks[0];
  } else {
    chosen =
      stacks.find(([id]) => id === options.stackName) ??
      stacks.find((s) => stackNameOf(s) === options.stackName);
    if (chosen === undefined)
      throw new StackSelectionError(`no stack ${options.stackName} in ${manifestFile}`, choices);
  }
  const [artifactId, artifact] = chosen!;
  checkEnvironment(artifactId, artifact.environment, options);
  const properties = isRecord(artifact.properties) ? artifact.properties : {};
  const templateFile = properties.templateFile;
  if (typeof templateFile !== 'string') {
    throw new CloudAssemblyError(`stack ${artifactId} in ${manifestFile} names no templateFile`);
  }
  const dependencies = Array.isArray(artifact.dependencies) ? artifact.dependencies : [];
  const assetManifestFiles = dependencies.flatMap((dep) => {
    const a = typeof dep === 'string' ? artifacts[dep] : undefined;
    if (!isRecord(a) || a.type !== 'cdk:asset-manifest' || !isRecord(a.properties)) return [];
    return typeof a.properties.file === 'string' ? [a.properties.file] : [];
  });
  return { artifactId, stackName: stackNameOf(chosen!), templateFile, assetManifestFiles };
}

function checkEnvironment(artifactId: string, environment: unknown, options: LoadDeployedAppOptions): void {
  const match = typeof environment === 'string' ? /^aws:\/\/([^/]+)\/(.+)$/.exec(environment) : null;
  if (match === null) return;
  const [, account, region] = match;
  if (account !== 'unknown-account' && account !== options.account) {
    throw new StackEnvironmentMismatchError(
      `stack ${artifactId} was synthesized for account ${account}, not ${options.account}`,
    );
  }
  if (region !== 'unknown-region' && region !== options.region) {
    throw new StackEnvironmentMismatchError(
      `stack ${artifactId} was synthesized for region ${region}, not ${options.region}`,
    );
  }
}

/** The template in `file`; {@link CloudAssemblyError} when it has no `Resources` or a resource no `Type`. */
export function readTemplate(file: string): Template {
  const template = readJson(file, 'template');
  if (!isRecord(template) || !isRecord(template.Resources)) {
    throw new CloudAssemblyError(`template ${file} has no Resources`);
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!isRecord(resource) || typeof resource.Type !== 'string') {
      throw new CloudAssemblyError(`resource ${id} of template ${file} has no Type`);
    }
  }
  return template as unknown as Template;
}

/** The file assets of the asset manifests, by asset hash. */
export function readFileAssets(dir: string, manifestFiles: readonly string[]): Map<string, FileAsset> {
  const assets = new Map<string, FileAsset>();
  for (const file of manifestFiles) {
    const manifest = readJson(join(dir, file), 'asset manifest');
    const files = isRecord(manifest) && isRecord(manifest.files) ? manifest.files : {};
    for (const [hash, asset] of Object.entries(files)) {
      if (isRecord(asset) && isRecord(asset.source) && typeof asset.source.path === 'string') {
        assets.set(hash, asset as unknown as FileAsset);
      }
    }
  }
  return assets;
}

/** Throws {@link UnsupportedTemplateFeatureError} for a resource with a `Condition` or an `Fn::If`. */
export function rejectConditions(template: Template): void {
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Condition !== undefined) {
      throw new UnsupportedTemplateFeatureError(
        `resource ${id} has Condition ${JSON.stringify(resource.Condition)}: template conditions are not supported`,
      );
    }
    const at = findKey(resource, 'Fn::If', '$');
    if (at !== undefined) {
      throw new UnsupportedTemplateFeatureError(
        `resource ${id} uses Fn::If at ${at}: template conditions are not supported`,
      );
    }
  }
}

/** JSON path of the first property named `key` within `value`. */
function findKey(value: unknown, key: string, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const at = findKey(item, key, `${path}[${i}]`);
      if (at !== undefined) return at;
    }
  } else if (isRecord(value)) {
    for (const [k, item] of Object.entries(value)) {
      if (k === key) return `${path}.${k}`;
      const at = findKey(item, key, `${path}.${k}`);
      if (at !== undefined) return at;
    }
  }
  return undefined;
}
