/**
 * The shapes `loadDeployedApp` (`deployed-app.ts`) returns: one stack's functions, rules, tables, queues,
 * topics and alarms with concrete names and ARNs, as a local world deploys them.
 *
 * @module
 */
import type { ResourcePolicyStatement } from '../endpoint/authorize.ts';
import type { PolicyDocument } from '../iam/policy.ts';
import type { ResolveContext } from './resolve.ts';

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
  /** SQS's defaults when the template sets none: 30 s, 0 s, 4 days. */
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  messageRetentionSeconds: number;
  fifo: boolean;
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

/** An SQS event source mapping of one of the stack's functions. */
export interface DeployedEventSourceMapping {
  logicalId: string;
  /** The stack's function it invokes; absent for a function outside the stack. */
  functionLogicalId?: string;
  eventSourceArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency` (2–1000); unlimited when absent. */
  maximumConcurrency?: number;
  reportBatchItemFailures: boolean;
  enabled: boolean;
}

/** An SNS topic. */
export interface DeployedTopic {
  logicalId: string;
  topicName: string;
  arn: string;
  /**
   * The topic's KMS key (server-side encryption), from `KmsMasterKeyId`: a key's ARN (a key id or a key's
   * `Fn::GetAtt Arn`), an alias's ARN (`alias/…`), or an ARN as given; absent for an unencrypted topic.
   */
  kmsMasterKeyArn?: string;
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
  eventSourceMappings: DeployedEventSourceMapping[];
  /** Resource-based policy statements by resource ARN (the event bus's policy). */
  resourcePolicies: Map<string, ResourcePolicyStatement[]>;
  topics: DeployedTopic[];
  alarms: DeployedAlarm[];
  /** `Ref` and `Fn::GetAtt` values of every resource, for resolving more of the template. */
  context: ResolveContext;
}

/** Options of `loadDeployedApp` (`deployed-app.ts`). */
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
