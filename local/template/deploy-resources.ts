/**
 * A template's rules (with their targets), tables, queues, topics and alarms as deployed.
 *
 * @module
 */
import type { ResourcePolicyStatement } from '../endpoint/authorize.ts';
import type { TemplateResource } from './cloud-assembly.ts';
import type {
  DeployedAlarm,
  DeployedEventSourceMapping,
  DeployedFunction,
  DeployedQueue,
  DeployedRule,
  DeployedRuleTarget,
  DeployedTable,
  DeployedTopic,
} from './deployed-types.ts';
import { eventBusName } from './physical-names.ts';
import type { TemplateWorld } from './template-world.ts';
import { isRecord, numberOr, optional } from './values.ts';

/** An `AWS::Events::Rule` with its targets, each tied to the stack's function it invokes. */
export function deployRule(
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

/** An `AWS::DynamoDB::Table` or `AWS::DynamoDB::GlobalTable`. */
export function deployTable(
  logicalId: string,
  resource: TemplateResource,
  world: TemplateWorld,
): DeployedTable {
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

/** An `AWS::SQS::Queue`, with the attributes SQS defaults when the template sets none. */
export function deployQueue(
  logicalId: string,
  resource: TemplateResource,
  world: TemplateWorld,
): DeployedQueue {
  const { name, attributes } = world.identityOf(logicalId);
  const p = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const redrive = p.RedrivePolicy as { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
  return {
    logicalId,
    queueName: name!,
    arn: attributes.Arn!,
    url: attributes.QueueUrl!,
    visibilityTimeoutSeconds: Number(p.VisibilityTimeout ?? 30),
    delaySeconds: Number(p.DelaySeconds ?? 0),
    messageRetentionSeconds: Number(p.MessageRetentionPeriod ?? 345_600),
    fifo: p.FifoQueue === true || p.FifoQueue === 'true',
    ...(redrive?.deadLetterTargetArn
      ? {
          redrivePolicy: {
            deadLetterTargetArn: redrive.deadLetterTargetArn,
            maxReceiveCount: Number(redrive.maxReceiveCount ?? 10),
          },
        }
      : {}),
  };
}

/** An `AWS::Lambda::EventSourceMapping` from an SQS queue to one of the stack's functions. */
export function deployEventSourceMapping(
  logicalId: string,
  resource: TemplateResource,
  world: TemplateWorld,
  functions: readonly DeployedFunction[],
): DeployedEventSourceMapping {
  const p = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const target = String(p.FunctionName ?? '');
  const fn = functions.find((f) => f.functionName === target || f.arn === target || f.logicalId === target);
  const scaling = p.ScalingConfig as { MaximumConcurrency?: number } | undefined;
  return {
    logicalId,
    ...(fn ? { functionLogicalId: fn.logicalId } : {}),
    eventSourceArn: String(p.EventSourceArn ?? ''),
    batchSize: Number(p.BatchSize ?? 10),
    maximumBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
    ...(scaling?.MaximumConcurrency === undefined
      ? {}
      : { maximumConcurrency: Number(scaling.MaximumConcurrency) }),
    reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes(
      'ReportBatchItemFailures',
    ),
    enabled: p.Enabled !== false && p.Enabled !== 'false',
  };
}

/** The statements of an `AWS::Events::EventBusPolicy`, keyed by the bus's ARN. */
export function deployBusPolicy(
  resource: TemplateResource,
  world: TemplateWorld,
  where: { account: string; region: string },
): { busArn: string; statements: ResourcePolicyStatement[] } {
  const p = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const bus = String(p.EventBusName ?? 'default');
  const busArn = bus.startsWith('arn:')
    ? bus
    : `arn:aws:events:${where.region}:${where.account}:event-bus/${bus}`;
  const statement = p.Statement as ResourcePolicyStatement | ResourcePolicyStatement[] | undefined;
  return {
    busArn,
    statements: statement === undefined ? [] : Array.isArray(statement) ? statement : [statement],
  };
}

/**
 * An `AWS::SNS::Topic`, with its `KmsMasterKeyId` as an ARN (see {@link DeployedTopic.kmsMasterKeyArn}).
 * Without `resource` (the topic's template entry) the key is not known.
 */
export function deployTopic(
  logicalId: string,
  world: TemplateWorld,
  resource?: TemplateResource,
): DeployedTopic {
  const { name, attributes } = world.identityOf(logicalId);
  const arn = attributes.TopicArn!;
  const raw = resource?.Properties?.KmsMasterKeyId;
  const key = raw === undefined ? '' : world.resolveString(raw, `${logicalId}.KmsMasterKeyId`);
  // arn:aws:sns:<region>:<account>:<name> — the key lives in the topic's account and Region.
  const [, partition = 'aws', , region = '', account = ''] = arn.split(':');
  const kmsMasterKeyArn =
    key === '' || key.startsWith('arn:')
      ? key
      : `arn:${partition}:kms:${region}:${account}:${key.startsWith('alias/') ? key : `key/${key}`}`;
  return {
    logicalId,
    topicName: name!,
    arn,
    ...optional('kmsMasterKeyArn', kmsMasterKeyArn === '' ? undefined : kmsMasterKeyArn),
  };
}

/** An `AWS::CloudWatch::Alarm`, its properties resolved. */
export function deployAlarm(
  logicalId: string,
  resource: TemplateResource,
  world: TemplateWorld,
): DeployedAlarm {
  const { name, attributes } = world.identityOf(logicalId);
  const properties = world.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  return { logicalId, alarmName: name!, arn: attributes.Arn!, properties };
}
