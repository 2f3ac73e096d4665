/**
 * The physical names a local AWS world gives to the resources of a CloudFormation template, and the values
 * `Ref` and `Fn::GetAtt` return for them, per resource type as the CloudFormation resource reference
 * documents them ("Return values").
 *
 * Names are deterministic, like CloudFormation's generated names but simpler: a resource without an explicit
 * name property is called `<stackName>-<logicalId>`, truncated to the type's length limit (FIFO queues and
 * topics keep their `.fifo` suffix). Identifiers AWS makes up (KMS key ids, role ids, table ids) are derived
 * from a hash of the account, region, stack and logical id, so every load of the same stack agrees.
 *
 * A type not listed here still gets `Ref` = logical id, but has no attributes: looking one up throws
 * {@link UnknownAttributeError} naming the type and the attribute, so a gap in this table is loud.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** Where the stack is deployed: the parts of ARNs and generated names that do not come from the template. */
export interface NamingEnvironment {
  account: string;
  region: string;
  /** e.g. `aws` */
  partition: string;
  /** The CloudFormation stack name (prefix of generated names). */
  stackName: string;
}

/** What the world assigned to one logical resource. */
export interface ResourceIdentity {
  /** Physical name; undefined for types that have none (e.g. `AWS::KMS::Key`). */
  name: string | undefined;
  /** Value of `{ Ref: logicalId }`. */
  ref: string;
  /** Values of `{ 'Fn::GetAtt': [logicalId, attribute] }`, by attribute name. */
  attributes: Record<string, string>;
}

/** Thrown when a template asks for an attribute the local world does not know for that resource type. */
export class UnknownAttributeError extends Error {
  override readonly name = 'UnknownAttributeError';
  /** Logical id of the resource whose attribute was asked for. */
  readonly logicalId: string;
  /** CloudFormation type of that resource, e.g. `AWS::IAM::Role`. */
  readonly resourceType: string;
  /** The attribute asked for, e.g. `RoleId`. */
  readonly attribute: string;

  constructor(logicalId: string, resourceType: string, attribute: string, known: readonly string[]) {
    const supported =
      known.length > 0
        ? `supported: ${known.join(', ')}`
        : 'the local world supports no attributes of this type';
    super(
      `Fn::GetAtt ${logicalId}.${attribute}: ${resourceType} has no attribute ${attribute} locally (${supported})`,
    );
    this.logicalId = logicalId;
    this.resourceType = resourceType;
    this.attribute = attribute;
  }
}

/** Properties of a resource, after intrinsic resolution, that {@link identifyResource} reads. */
export type IdentityProperties = Record<string, unknown>;

interface Env extends NamingEnvironment {
  logicalId: string;
}

interface ResourceTypeSpec {
  /** Property that names the resource explicitly, e.g. `FunctionName`. */
  readonly nameProperty?: string;
  /** Longest generated name. */
  readonly maxNameLength?: number;
  /** Boolean property that makes the resource FIFO, whose generated name then ends in `.fifo`. */
  readonly fifoProperty?: string;
  /** Other properties the identity depends on. */
  readonly extraProperties?: readonly string[];
  identify(name: string, env: Env, props: IdentityProperties): Omit<ResourceIdentity, 'name'>;
}

const arn = (env: Env, service: string, resource: string, region = env.region) =>
  `arn:${env.partition}:${service}:${region}:${env.account}:${resource}`;

/** `/` or the `Path` property of an IAM role/policy, which starts and ends with a slash. */
const iamPath = (props: IdentityProperties) => (typeof props.Path === 'string' ? props.Path : '/');

const tableSpec: ResourceTypeSpec = {
  nameProperty: 'TableName',
  maxNameLength: 255,
  identify: (name, env) => {
    const tableArn = arn(env, 'dynamodb', `table/${name}`);
    return {
      ref: name,
      attributes: {
        Arn: tableArn,
        StreamArn: `${tableArn}/stream/1970-01-01T00:00:00.000`,
        TableId: deterministicUuid(env, 'table-id'),
      },
    };
  },
};

const SPECS: Readonly<Record<string, ResourceTypeSpec>> = {
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    maxNameLength: 64,
    identify: (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'lambda', `function:${name}`) } }),
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    maxNameLength: 64,
    extraProperties: ['Path'],
    identify: (name, env, props) => ({
      ref: name,
      attributes: {
        Arn: arn(env, 'iam', `role${iamPath(props)}${name}`, ''),
        RoleId: `AROA${deterministicId(env, 'role-id', 17)}`,
      },
    }),
  },
  'AWS::IAM::Policy': {
    nameProperty: 'PolicyName',
    maxNameLength: 128,
    identify: (name) => ({ ref: name, attributes: { Id: name } }),
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    maxNameLength: 128,
    extraProperties: ['Path'],
    identify: (name, env, props) => {
      const policyArn = arn(env, 'iam', `policy${iamPath(props)}${name}`, '');
      return {
        ref: policyArn,
        attributes: { PolicyArn: policyArn, PolicyId: `ANPA${deterministicId(env, 'policy-id', 17)}` },
      };
    },
  },
  'AWS::DynamoDB::Table': tableSpec,
  'AWS::DynamoDB::GlobalTable': tableSpec,
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    maxNameLength: 80,
    fifoProperty: 'FifoQueue',
    identify: (name, env) => {
      const url = `http://sqs.${env.region}.localhost/${env.account}/${name}`;
      return { ref: url, attributes: { Arn: arn(env, 'sqs', name), QueueName: name, QueueUrl: url } };
    },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    maxNameLength: 256,
    fifoProperty: 'FifoTopic',
    identify: (name, env) => {
      const topicArn = arn(env, 'sns', name);
      return { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: name } };
    },
  },
  'AWS::KMS::Key': {
    identify: (_name, env) => {
      const keyId = deterministicUuid(env, 'kms-key-id');
      return { ref: keyId, attributes: { Arn: arn(env, 'kms', `key/${keyId}`), KeyId: keyId } };
    },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    maxNameLength: 512,
    identify: (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'logs', `log-group:${name}:*`) } }),
  },
  'AWS::Events::EventBus': {
    nameProperty: 'Name',
    maxNameLength: 256,
    identify: (name, env) => ({
      ref: name,
      attributes: { Arn: arn(env, 'events', `event-bus/${name}`), Name: name },
    }),
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    maxNameLength: 64,
    extraProperties: ['EventBusName'],
    identify: (name, env, props) => {
      const bus = eventBusName(props.EventBusName);
      // On a custom bus, CloudFormation's Ref is `<bus>|<rule>` and the ARN names the bus.
      return bus === 'default'
        ? { ref: name, attributes: { Arn: arn(env, 'events', `rule/${name}`) } }
        : { ref: `${bus}|${name}`, attributes: { Arn: arn(env, 'events', `rule/${bus}/${name}`) } };
    },
  },
  // Ref is the configuration set's name; CloudFormation documents no Fn::GetAtt attributes for it.
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-configurationset.html
  'AWS::SES::ConfigurationSet': {
    nameProperty: 'Name',
    maxNameLength: 64,
    identify: (name) => ({ ref: name, attributes: {} }),
  },
  'AWS::CloudWatch::Alarm': {
    nameProperty: 'AlarmName',
    maxNameLength: 255,
    identify: (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'cloudwatch', `alarm:${name}`) } }),
  },
};

/**
 * Names of the properties whose (resolved) values {@link identifyResource} needs for a resource of `type`:
 * its explicit name property and whatever else shapes its ARN. Resolve these first, in dependency order,
 * since a name may itself reference another resource.
 */
export function identityProperties(type: string): string[] {
  const spec = SPECS[type];
  if (spec === undefined) return [];
  return [spec.nameProperty, spec.fifoProperty, ...(spec.extraProperties ?? [])].filter(
    (p): p is string => p !== undefined,
  );
}

/**
 * Assigns a physical name, `Ref` value and attributes to one resource.
 *
 * @param type - CloudFormation resource type, e.g. `AWS::SQS::Queue`.
 * @param logicalId - the resource's logical id in the template.
 * @param props - the resource's {@link identityProperties}, already resolved to concrete values.
 * @param env - account, region, partition and stack name.
 */
export function identifyResource(
  type: string,
  logicalId: string,
  props: IdentityProperties,
  env: NamingEnvironment,
): ResourceIdentity {
  const spec = SPECS[type];
  if (spec === undefined) return { name: undefined, ref: logicalId, attributes: {} };
  const typedEnv: Env = { ...env, logicalId };
  const name = physicalName(spec, logicalId, props, env.stackName);
  return { name, ...spec.identify(name ?? logicalId, typedEnv, props) };
}

/**
 * Looks up attribute `attribute` of a resource.
 *
 * @throws {@link UnknownAttributeError} naming the resource type and attribute when the local world does not
 *   know it.
 */
export function resourceAttribute(
  identity: ResourceIdentity,
  type: string,
  logicalId: string,
  attribute: string,
): string {
  if (!Object.hasOwn(identity.attributes, attribute)) {
    throw new UnknownAttributeError(logicalId, type, attribute, Object.keys(identity.attributes));
  }
  return identity.attributes[attribute]!;
}

/** The `AWS::StackId` of the stack: a CloudFormation stack ARN ending in a stable UUID. */
export function stackId(env: NamingEnvironment): string {
  const uuid = deterministicUuid({ ...env, logicalId: '' }, 'stack-id');
  return `arn:${env.partition}:cloudformation:${env.region}:${env.account}:stack/${env.stackName}/${uuid}`;
}

/**
 * The name of an event bus given as a name or an ARN (`arn:…:event-bus/<name>`), `default` when absent.
 */
export function eventBusName(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  const marker = ':event-bus/';
  const at = value.indexOf(marker);
  return value.startsWith('arn:') && at >= 0 ? value.slice(at + marker.length) : value;
}

function physicalName(
  spec: ResourceTypeSpec,
  logicalId: string,
  props: IdentityProperties,
  stackName: string,
): string | undefined {
  if (spec.nameProperty === undefined) return undefined;
  const explicit = props[spec.nameProperty];
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const max = spec.maxNameLength ?? 255;
  const base = `${stackName}-${logicalId}`;
  const fifo = spec.fifoProperty !== undefined && isTrue(props[spec.fifoProperty]);
  return fifo ? `${base.slice(0, max - '.fifo'.length)}.fifo` : base.slice(0, max);
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function digest(env: Env, purpose: string): Buffer {
  return createHash('sha256')
    .update([purpose, env.partition, env.account, env.region, env.stackName, env.logicalId].join('\0'))
    .digest();
}

/** A UUID-shaped (version 4 layout) id, stable for the same resource in the same environment. */
function deterministicUuid(env: Env, purpose: string): string {
  const hex = digest(env, purpose).toString('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `length` upper-case base-32 characters, stable for the same resource in the same environment. */
function deterministicId(env: Env, purpose: string, length: number): string {
  const bytes = digest(env, purpose);
  let out = '';
  for (let i = 0; i < length; i++) out += ID_ALPHABET[bytes[i % bytes.length]! % ID_ALPHABET.length];
  return out;
}
