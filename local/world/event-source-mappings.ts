/**
 * Lambda's SQS event source mappings, locally: a poller per enabled mapping receives batches from the queue
 * (with the queue's visibility timeout) whenever messages become receivable, invokes the function
 * synchronously with the event Lambda sends, deletes what succeeded and leaves the rest to come back after
 * their visibility timeout (and to the queue's redrive policy). Like AWS, a mapping whose function's role may
 * not receive, delete and read the queue's attributes does not poll.
 *
 * @module
 */
import { evaluate } from '../iam/evaluate.ts';
import type { InvocationResult, LocalLambda } from '../lambda/runtime.ts';
import type { SqsWorld } from '../services/sqs.ts';
import type { QueuedMessage } from '../services/sqs-queue.ts';
import type {
  DeployedApp,
  DeployedEventSourceMapping,
  DeployedFunction,
} from '../template/deployed-types.ts';

/** One invocation of a function by an SQS event source mapping, and what became of its messages. */
export interface SqsDelivery {
  /** Logical id of the `AWS::Lambda::EventSourceMapping`. */
  readonly mapping: string;
  readonly function: string;
  readonly messageIds: readonly string[];
  /** Messages left in the queue (the whole batch for an error; the reported ones for a partial failure). */
  readonly failedMessageIds: readonly string[];
  readonly result: InvocationResult;
}

/** A mapping that does not poll, and why (AWS refuses to create it). */
export interface RefusedMapping {
  readonly mapping: string;
  readonly reason: string;
}

/** What the pollers need from the world. */
export interface SqsEventSourcesOptions {
  readonly sqs: SqsWorld;
  /** The app's region, event source mappings and functions. */
  readonly app: Pick<DeployedApp, 'region' | 'eventSourceMappings' | 'functions'>;
  readonly lambdas: ReadonlyMap<string, LocalLambda>;
  /** Execution environments per function: no mapping runs more invocations at once. */
  readonly lambdaConcurrency: number;
  /** Hands work in flight to the world, so `settle()` waits for it. */
  readonly track: (work: Promise<unknown>) => void;
}

/** The actions Lambda needs on the queue to poll it. */
const POLLER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;

/** The pollers of every enabled SQS event source mapping of the app; see the module comment. */
export class SqsEventSources {
  readonly deliveries: SqsDelivery[] = [];
  readonly refused: RefusedMapping[] = [];
  private readonly active = new Map<string, number>();

  constructor(private readonly o: SqsEventSourcesOptions) {}

  /** Starts polling: each mapping from now on, whenever its queue has receivable messages. */
  start(): void {
    for (const mapping of this.o.app.eventSourceMappings) {
      const queue = this.o.sqs.queue(mapping.eventSourceArn);
      if (!mapping.enabled || !queue) continue;
      const fn = this.o.app.functions.find((f) => f.logicalId === mapping.functionLogicalId);
      if (!fn) {
        this.refused.push({ mapping: mapping.logicalId, reason: 'the function is not part of the stack' });
        continue;
      }
      if (fn.entryFile === '') {
        this.refused.push({ mapping: mapping.logicalId, reason: 'the function has no bundle to run' });
        continue;
      }
      const denied = POLLER_ACTIONS.filter(
        (action) =>
          !evaluate(fn.policies, {
            action,
            resources: [queue.arn],
            context: { 'aws:PrincipalArn': fn.roleArn },
          }).allowed,
      );
      if (denied.length > 0) {
        // CreateEventSourceMapping fails with InvalidParameterValueException for such a role.
        this.refused.push({
          mapping: mapping.logicalId,
          reason: `The function execution role does not have permissions to call ${denied.join(', ')} on ${queue.arn}`,
        });
        continue;
      }
      queue.onAvailable(() => this.o.track(Promise.resolve().then(() => this.poll(mapping, fn))));
      this.o.track(Promise.resolve().then(() => this.poll(mapping, fn)));
    }
  }

  /** Receives and invokes while the queue has messages and the mapping is under its concurrency. */
  private poll(mapping: DeployedEventSourceMapping, fn: DeployedFunction): void {
    const queue = this.o.sqs.queue(mapping.eventSourceArn);
    const lambda = this.o.lambdas.get(fn.logicalId);
    if (!queue || !lambda) return;
    const limit = Math.min(mapping.maximumConcurrency ?? Number.POSITIVE_INFINITY, this.o.lambdaConcurrency);
    while ((this.active.get(mapping.logicalId) ?? 0) < limit) {
      const batch = queue.receive(Math.min(mapping.batchSize, 10_000));
      if (batch.length === 0) return;
      this.active.set(mapping.logicalId, (this.active.get(mapping.logicalId) ?? 0) + 1);
      const run = this.invoke(mapping, fn, lambda, batch).finally(() => {
        this.active.set(mapping.logicalId, (this.active.get(mapping.logicalId) ?? 1) - 1);
        this.poll(mapping, fn);
      });
      this.o.track(run);
    }
  }

  private async invoke(
    mapping: DeployedEventSourceMapping,
    fn: DeployedFunction,
    lambda: LocalLambda,
    batch: QueuedMessage[],
  ): Promise<void> {
    const queue = this.o.sqs.queue(mapping.eventSourceArn);
    const event = { Records: batch.map((m) => sqsRecord(m, mapping.eventSourceArn, this.o.app.region)) };
    const result = await lambda.invoke(event);
    const failed = failedItems(mapping, batch, result);
    for (const m of batch) {
      if (!failed.has(m.messageId) && m.receiptHandle) queue?.delete(m.receiptHandle);
    }
    this.deliveries.push({
      mapping: mapping.logicalId,
      function: fn.functionName,
      messageIds: batch.map((m) => m.messageId),
      failedMessageIds: batch.filter((m) => failed.has(m.messageId)).map((m) => m.messageId),
      result,
    });
  }
}

/**
 * The messages of a batch that failed: all of them for an error; with `ReportBatchItemFailures`, those the
 * response names — and all of them when an `itemIdentifier` is empty, not a string or not in the batch, as
 * Lambda treats such a response as a failure of the whole batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export function failedItems(
  mapping: Pick<DeployedEventSourceMapping, 'reportBatchItemFailures'>,
  batch: readonly QueuedMessage[],
  result: Pick<InvocationResult, 'ok' | 'result'>,
): Set<string> {
  const all = new Set(batch.map((m) => m.messageId));
  if (!result.ok) return all;
  if (!mapping.reportBatchItemFailures) return new Set();
  const response = result.result;
  if (response === null || typeof response !== 'object') return new Set();
  const items = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return all;
  const failed = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

/** A message as Lambda puts it in an SQS event's `Records`. */
export function sqsRecord(m: QueuedMessage, eventSourceArn: string, awsRegion: string) {
  const messageAttributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(m.attributes)) {
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { binaryValue: value.BinaryValue }),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType,
    };
  }
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle ?? '',
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: m.senderId,
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
    },
    messageAttributes,
    md5OfBody: m.md5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: eventSourceArn,
    awsRegion,
  };
}
