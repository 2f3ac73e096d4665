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
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import type { PolicyDocument } from '../iam/policy.ts';
import {
  eventBusName,
  identifyResource,
  identityProperties,
  type NamingEnvironment,
  type ResourceIdentity,
  resourceAttribute,
  stackId,
} from './physical-names.ts';
import { type ResolveContext, resolveIntrinsics } from './resolve.ts';

/** A Lambda function of the stack, with its role's policies and its code on disk. */
export interface DeployedFunction {
  logicalId: string;
  functionName: string;
  arn: string;
  /** Logical id of the function's role; `''` when the role is not part of the stack (imported by ARN). */
  roleLogicalId: string;
  roleName: string;
  roleArn: string;
  /** As in the template, e.g. `index.handler`. */
  handler: string;
  /** Absolute directory of the function's code asset; `''` when the function has no local asset. */
  assetDir: string;
  /**
   * Absolute path of the module the handler names, e.g. `<assetDir>/index.mjs`; `''` when the asset holds no
   * such module because bundling was skipped (see {@link LoadDeployedAppOptions.requireAssets}).
   */
  entryFile: string;
  /** The export the handler names, e.g. `handler` (a dotted path for nested exports, as Lambda allows). */
  exportName: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** e.g. `nodejs24.x`; `''` for container-image functions. */
  runtime: string;
  architectures: string[];
  /** Retries of asynchronous invocations, from `AWS::Lambda::EventInvokeConfig` (`$LATEST`); default 2. */
  maxRetryAttempts: number;
  /** Maximum age of an asynchronous event, from `AWS::Lambda::EventInvokeConfig`; default 21600. */
  maxEventAgeSeconds: number;
  /** On-failure destination of asynchronous invocations. */
  onFailureArn?: string;
  /**
   * Every policy document that applies to the role and that the stack defines: the role's inline
   * `Policies`, then `AWS::IAM::Policy`, `AWS::IAM::RolePolicy` and `AWS::IAM::ManagedPolicy` resources
   * attached to it, in template order.
   */
  policies: PolicyDocument[];
  /**
   * ARNs of managed policies attached to the role: its `ManagedPolicyArns` and the stack's own
   * `AWS::IAM::ManagedPolicy` resources that name it (whose documents are also in {@link policies}).
   */
  managedPolicyArns: string[];
}

/** One target of a rule. */
export interface DeployedRuleTarget {
  /** The target id, unique within its rule (CDK uses `Target0`, `Target1`, …). */
  id: string;
  arn: string;
  /** Logical id of the stack's function the target invokes, if any. */
  functionLogicalId?: string;
  deadLetterArn?: string;
  maxRetryAttempts?: number;
  maxEventAgeSeconds?: number;
  /** Constant JSON text sent instead of the event. */
  input?: string;
  /** JSONPath of the part of the event that is sent. */
  inputPath?: string;
  /** Template the event is transformed with before it is sent. */
  inputTransformer?: { inputPathsMap?: Record<string, string>; inputTemplate: string };
}

/** An EventBridge rule. */
export interface DeployedRule {
  logicalId: string;
  name: string;
  arn: string;
  /** Name (not ARN) of the rule's bus; `default` when the template names none. */
  eventBusName: string;
  /** The event pattern as plain JSON. */
  pattern?: Record<string, unknown>;
  scheduleExpression?: string;
  enabled: boolean;
  targets: DeployedRuleTarget[];
}

/** An `AWS::DynamoDB::Table` or `AWS::DynamoDB::GlobalTable`. */
export interface DeployedTable {
  logicalId: string;
  tableName: string;
  arn: string;
  keySchema: { AttributeName: string; KeyType: string }[];
  attributeDefinitions: { AttributeName: string; AttributeType: string }[];
  /** The TTL attribute, when TTL is enabled. */
  ttlAttribute?: string;
}

/** An SQS queue. */
export interface DeployedQueue {
  logicalId: string;
  queueName: string;
  arn: string;
  url: string;
}

/** An SNS topic. */
export interface DeployedTopic {
  logicalId: string;
  topicName: string;
  arn: string;
}

/** A CloudWatch alarm. */
export interface DeployedAlarm {
  logicalId: string;
  alarmName: string;
  arn: string;
  /** The alarm's properties with every intrinsic resolved (actions, dimensions, …). */
  properties: Record<string, unknown>;
}

/** What a local AWS world needs to "deploy" one stack. Lists are in template order. */
export interface DeployedApp {
  stackName: string;
  account: string;
  region: string;
  functions: DeployedFunction[];
  rules: DeployedRule[];
  tables: DeployedTable[];
  queues: DeployedQueue[];
  topics: DeployedTopic[];
  alarms: DeployedAlarm[];
  /** `Ref` and `Fn::GetAtt` values of every resource, for resolving more of the template. */
  context: ResolveContext;
}

/** Options of {@link loadDeployedApp}. */
export interface LoadDeployedAppOptions {
  account: string;
  region: string;
  /**
   * The stack: artifact id or CloudFormation stack name. Default: the only stack in `manifest.json`.
   */
  stackName?: string;
  /**
   * Throw when a function's handler module is not on disk, even when bundling was skipped.
   * @default false
   */
  requireAssets?: boolean;
}

/** Thrown when the cloud assembly is missing a file or a file is not what CDK writes. */
export class CloudAssemblyError extends Error {
  override readonly name = 'CloudAssemblyError';
}

/** Thrown when the stack to load is not named and there are several, or the named one does not exist. */
export class StackSelectionError extends Error {
  override readonly name = 'StackSelectionError';
  /** The stacks the assembly holds (artifact ids). */
  readonly choices: readonly string[];

  constructor(message: string, choices: readonly string[]) {
    super(`${message}; stacks in the assembly: ${choices.length > 0 ? choices.join(', ') : '(none)'}`);
    this.choices = choices;
  }
}

/**
 * Thrown when the stack was synthesized for a concrete account or region other than the one asked for: its
 * template then holds ARNs of the other environment, and a local world built from it would disagree with
 * itself.
 */
export class StackEnvironmentMismatchError extends Error {
  override readonly name = 'StackEnvironmentMismatchError';
}

/** Thrown for template features the local world does not model (conditions). */
export class UnsupportedTemplateFeatureError extends Error {
  override readonly name = 'UnsupportedTemplateFeatureError';
}

/** Thrown when a resource's name depends, through other resources' names, on itself. */
export class CircularNameReferenceError extends Error {
  override readonly name = 'CircularNameReferenceError';
}

/** Thrown when a function's code cannot be found where its handler says it is. */
export class FunctionAssetError extends Error {
  override readonly name = 'FunctionAssetError';
  /** Logical id of the function. */
  readonly logicalId: string;
  /** Absolute paths that were looked for. */
  readonly lookedFor: readonly string[];

  constructor(logicalId: string, message: string, lookedFor: readonly string[] = []) {
    super(`function ${logicalId}: ${message}`);
    this.logicalId = logicalId;
    this.lookedFor = lookedFor;
  }
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: unknown;
}

interface Template {
  Resources: Record<string, TemplateResource>;
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
}

interface StackArtifact {
  artifactId: string;
  stackName: string;
  templateFile: string;
  assetManifestFiles: string[];
}

interface FileAsset {
  source: { path: string; packaging?: string };
  destinations?: Record<string, { objectKey?: string }>;
}

const PARTITION = 'aws';
const URL_SUFFIX = 'amazonaws.com';
const HANDLER_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

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
    queues: ofType('AWS::SQS::Queue').map(([id]) => {
      const { name, attributes } = world.identityOf(id);
      return { logicalId: id, queueName: name!, arn: attributes.Arn!, url: attributes.QueueUrl! };
    }),
    topics: ofType('AWS::SNS::Topic').map(([id]) => {
      const { name, attributes } = world.identityOf(id);
      return { logicalId: id, topicName: name!, arn: attributes.TopicArn! };
    }),
    alarms: ofType('AWS::CloudWatch::Alarm').map(([id, r]) => {
      const { name, attributes } = world.identityOf(id);
      const properties = world.resolve(r.Properties ?? {}) as Record<string, unknown>;
      return { logicalId: id, alarmName: name!, arn: attributes.Arn!, properties };
    }),
    context: world.context(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Cloud assembly

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function selectStack(dir: string, options: LoadDeployedAppOptions): StackArtifact {
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

function readTemplate(file: string): Template {
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

function readFileAssets(dir: string, manifestFiles: readonly string[]): Map<string, FileAsset> {
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

function rejectConditions(template: Template): void {
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

// ---------------------------------------------------------------------------------------------------------
// Identities and resolution

/**
 * The resources' identities, assigned in dependency order (a name may reference another resource), and
 * resolution of template fragments against them.
 */
class TemplateWorld {
  private readonly identities = new Map<string, ResourceIdentity>();
  private readonly assigning: string[] = [];
  private readonly parameterRefs: Record<string, string>;
  private cachedContext: ResolveContext | undefined;

  constructor(
    private readonly template: Template,
    private readonly env: NamingEnvironment,
  ) {
    this.parameterRefs = parameterDefaults(template);
    for (const id of Object.keys(template.Resources)) this.identityOf(id);
  }

  /** The identity of a resource, assigning it (and those its name depends on) first if needed. */
  identityOf(logicalId: string): ResourceIdentity {
    const known = this.identities.get(logicalId);
    if (known !== undefined) return known;
    const resource = this.resource(logicalId);
    if (resource === undefined) throw new CloudAssemblyError(`no resource ${logicalId} in the template`);
    if (this.assigning.includes(logicalId)) {
      const cycle = [...this.assigning.slice(this.assigning.indexOf(logicalId)), logicalId];
      throw new CircularNameReferenceError(`resource names depend on each other: ${cycle.join(' → ')}`);
    }
    this.assigning.push(logicalId);
    try {
      const props: Record<string, unknown> = {};
      for (const name of identityProperties(resource.Type)) {
        const raw = resource.Properties?.[name];
        if (raw !== undefined) props[name] = this.resolve(raw);
      }
      const identity = identifyResource(resource.Type, logicalId, props, this.env);
      this.identities.set(logicalId, identity);
      this.cachedContext = undefined;
      return identity;
    } finally {
      this.assigning.pop();
    }
  }

  /**
   * `value` with every intrinsic resolved. Attributes are checked first, so an attribute the world does not
   * know throws `UnknownAttributeError` naming the resource type.
   */
  resolve(value: unknown): unknown {
    const { refs, attributes } = referencesIn(value);
    for (const id of refs) if (this.resource(id) !== undefined) this.identityOf(id);
    for (const [id, attribute] of attributes) {
      const resource = this.resource(id);
      if (resource !== undefined) resourceAttribute(this.identityOf(id), resource.Type, id, attribute);
    }
    this.cachedContext ??= this.context();
    return resolveIntrinsics(value, this.cachedContext);
  }

  private resource(logicalId: string): TemplateResource | undefined {
    return Object.hasOwn(this.template.Resources, logicalId) ? this.template.Resources[logicalId] : undefined;
  }

  /** Resolves `value`, which must come out as a string. */
  resolveString(value: unknown, what: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new CloudAssemblyError(`${what} is ${JSON.stringify(resolved)}, not a string`);
  }

  /** A new resolver context holding the identities assigned so far. */
  context(): ResolveContext {
    const refs: Record<string, string> = {
      ...this.parameterRefs,
      'AWS::StackId': stackId(this.env),
    };
    const attributes: Record<string, Record<string, string>> = {};
    for (const [id, identity] of this.identities) {
      refs[id] = identity.ref;
      attributes[id] = { ...identity.attributes };
    }
    return {
      region: this.env.region,
      accountId: this.env.account,
      partition: this.env.partition,
      urlSuffix: URL_SUFFIX,
      stackName: this.env.stackName,
      refs,
      attributes,
    };
  }
}

/** `Ref` values of the template's parameters that have a plain default (SSM-backed parameters have none). */
function parameterDefaults(template: Template): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    const plain = parameter.Type === undefined || parameter.Type === 'String' || parameter.Type === 'Number';
    const value = parameter.Default;
    if (plain && (typeof value === 'string' || typeof value === 'number')) refs[name] = String(value);
  }
  return refs;
}

/** Logical ids a fragment references with `Ref`, and `[logicalId, attribute]` pairs it reads. */
function referencesIn(value: unknown): { refs: Set<string>; attributes: [string, string][] } {
  const refs = new Set<string>();
  const attributes: [string, string][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (!isRecord(v)) return;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const args = v[keys[0]!];
      if (keys[0] === 'Ref' && typeof args === 'string') {
        refs.add(args);
        return;
      }
      if (keys[0] === 'Fn::GetAtt') {
        const pair = getAttPair(args);
        if (pair !== undefined) attributes.push(pair);
      }
      if (keys[0] === 'Fn::Sub') {
        const [text, vars] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined];
        const names = isRecord(vars) ? Object.keys(vars) : [];
        if (typeof text === 'string') {
          for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            if (name === undefined || names.includes(name)) continue;
            const dot = name.indexOf('.');
            if (dot > 0) attributes.push([name.slice(0, dot), name.slice(dot + 1)]);
            else refs.add(name);
          }
        }
      }
    }
    Object.values(v).forEach(visit);
  };
  visit(value);
  for (const [id] of attributes) refs.add(id);
  return { refs, attributes };
}

function getAttPair(args: unknown): [string, string] | undefined {
  if (typeof args === 'string') {
    const dot = args.indexOf('.');
    return dot > 0 ? [args.slice(0, dot), args.slice(dot + 1)] : undefined;
  }
  if (Array.isArray(args) && typeof args[0] === 'string' && typeof args[1] === 'string') {
    return [args[0], args[1]];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Functions

interface FunctionInputs {
  world: TemplateWorld;
  template: Template;
  dir: string;
  assets: Map<string, FileAsset>;
  requireAssets: boolean;
}

function deployFunction(
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

function functionRole(
  logicalId: string,
  roleProperty: unknown,
  world: TemplateWorld,
  template: Template,
): Pick<DeployedFunction, 'roleLogicalId' | 'roleName' | 'roleArn' | 'policies' | 'managedPolicyArns'> {
  const roleArn = world.resolveString(roleProperty, `${logicalId}.Role`);
  const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
  const match = roles.find(([id]) => world.identityOf(id).attributes.Arn === roleArn);
  if (match === undefined) {
    // A role from outside the stack: its policies are not in the template.
    const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    return { roleLogicalId: '', roleName, roleArn, policies: [], managedPolicyArns: [] };
  }
  const [roleLogicalId, role] = match;
  const roleName = world.identityOf(roleLogicalId).name!;
  return { roleLogicalId, roleName, roleArn, ...rolePolicies(role, roleName, roleArn, world, template) };
}

function rolePolicies(
  role: TemplateResource,
  roleName: string,
  roleArn: string,
  world: TemplateWorld,
  template: Template,
): { policies: PolicyDocument[]; managedPolicyArns: string[] } {
  const policies: PolicyDocument[] = [];
  const managedPolicyArns = new Set<string>();
  const inline = world.resolve(role.Properties?.Policies ?? []);
  for (const policy of Array.isArray(inline) ? inline : []) {
    if (isRecord(policy)) policies.push(policyDocument(policy.PolicyDocument));
  }
  const managed = world.resolve(role.Properties?.ManagedPolicyArns ?? []);
  for (const arn of Array.isArray(managed) ? managed : []) managedPolicyArns.add(String(arn));

  const namesRole = (value: unknown) => value === roleName || value === roleArn;
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = world.resolve(p.Roles ?? []);
      if (!Array.isArray(roles) || !roles.some(namesRole)) continue;
      policies.push(policyDocument(world.resolve(p.PolicyDocument)));
      if (resource.Type === 'AWS::IAM::ManagedPolicy') managedPolicyArns.add(world.identityOf(id).ref);
    } else if (resource.Type === 'AWS::IAM::RolePolicy' && namesRole(world.resolve(p.RoleName))) {
      policies.push(policyDocument(world.resolve(p.PolicyDocument)));
    }
  }
  return { policies, managedPolicyArns: [...managedPolicyArns] };
}

/** A resolved policy document, parsed when the template gives it as JSON text. */
function policyDocument(value: unknown): PolicyDocument {
  const document = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!isRecord(document) || document.Statement === undefined) {
    throw new CloudAssemblyError(`policy document ${JSON.stringify(document)} has no Statement`);
  }
  return document as unknown as PolicyDocument;
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

// ---------------------------------------------------------------------------------------------------------
// Rules and tables

function deployRule(
  logicalId: string,
  resource: TemplateResource,
  world: TemplateWorld,
  functions: readonly DeployedFunction[],
): DeployedRule {
  const p = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const identity = world.identityOf(logicalId);
  const rawPattern =
    typeof p.EventPattern === 'string' ? (JSON.parse(p.EventPattern) as unknown) : p.EventPattern;
  const targets = (Array.isArray(p.Targets) ? p.Targets : [])
    .filter(isRecord)
    .map((t): DeployedRuleTarget => {
      const arn = String(t.Arn);
      const fn = functions.find((f) => arn === f.arn || arn.startsWith(`${f.arn}:`));
      const retry = isRecord(t.RetryPolicy) ? t.RetryPolicy : {};
      const deadLetter = isRecord(t.DeadLetterConfig) ? t.DeadLetterConfig.Arn : undefined;
      const transformer = isRecord(t.InputTransformer) ? t.InputTransformer : undefined;
      return {
        id: String(t.Id),
        arn,
        ...optional('functionLogicalId', fn?.logicalId),
        ...optional('deadLetterArn', typeof deadLetter === 'string' ? deadLetter : undefined),
        ...optional('maxRetryAttempts', numberOr(retry.MaximumRetryAttempts, undefined)),
        ...optional('maxEventAgeSeconds', numberOr(retry.MaximumEventAgeInSeconds, undefined)),
        ...optional('input', typeof t.Input === 'string' ? t.Input : undefined),
        ...optional('inputPath', typeof t.InputPath === 'string' ? t.InputPath : undefined),
        ...optional(
          'inputTransformer',
          transformer === undefined
            ? undefined
            : {
                ...optional(
                  'inputPathsMap',
                  isRecord(transformer.InputPathsMap)
                    ? (transformer.InputPathsMap as Record<string, string>)
                    : undefined,
                ),
                inputTemplate: String(transformer.InputTemplate),
              },
        ),
      };
    });
  return {
    logicalId,
    name: identity.name!,
    arn: identity.attributes.Arn!,
    eventBusName: eventBusName(p.EventBusName),
    ...optional('pattern', isRecord(rawPattern) ? rawPattern : undefined),
    ...optional(
      'scheduleExpression',
      typeof p.ScheduleExpression === 'string' ? p.ScheduleExpression : undefined,
    ),
    enabled: p.State !== 'DISABLED',
    targets,
  };
}

function deployTable(logicalId: string, resource: TemplateResource, world: TemplateWorld): DeployedTable {
  const p = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const identity = world.identityOf(logicalId);
  const ttl = isRecord(p.TimeToLiveSpecification) ? p.TimeToLiveSpecification : undefined;
  const ttlEnabled = ttl !== undefined && (ttl.Enabled === true || ttl.Enabled === 'true');
  return {
    logicalId,
    tableName: identity.name!,
    arn: identity.attributes.Arn!,
    keySchema: (Array.isArray(p.KeySchema) ? p.KeySchema : []) as DeployedTable['keySchema'],
    attributeDefinitions: (Array.isArray(p.AttributeDefinitions)
      ? p.AttributeDefinitions
      : []) as DeployedTable['attributeDefinitions'],
    ...optional(
      'ttlAttribute',
      ttlEnabled && typeof ttl.AttributeName === 'string' ? ttl.AttributeName : undefined,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

function numberOr<T extends number | undefined>(value: unknown, fallback: T): number | T {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return fallback;
}

/** `{ [key]: value }`, or `{}` when value is undefined (so optional properties stay absent). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
