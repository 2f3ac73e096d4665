/**
 * SQS, locally, over the AWS JSON 1.0 protocol the SDK speaks (`AmazonSQS.<Operation>`): the stack's
 * standard queues with their delays, visibility timeouts, redrive policies and message move tasks.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { DeployedQueue } from '../template/deployed-types.ts';
import type { VirtualClock } from '../world/clock.ts';
import { LocalQueue, type MessageAttributeValue, type QueuedMessage } from './sqs-queue.ts';
import {
  batchEntries,
  checkMessage,
  checkVisibility,
  invalid,
  MAX_MESSAGE_BYTES,
  QUEUE_ATTRIBUTES,
  type SqsInput,
  senderIdOf,
  wireMessage,
} from './sqs-wire.ts';

/** The stack's queues over the JSON protocol; `receive` and friends also serve the event source pollers. */
export class SqsWorld implements JsonService {
  readonly signingName = 'sqs';
  readonly targetPrefix = 'AmazonSQS';
  readonly jsonVersion = '1.0' as const;
  private readonly queues = new Map<string, LocalQueue>();
  /**
   * When set, GetQueueUrl answers URLs on this endpoint: the SDK sends a request to its QueueUrl's host unless
   * the client's endpoint is configured in code. @default the template's URLs
   */
  endpointUrl?: string;
  private readonly moveTasks: {
    handle: string;
    source: string;
    destination?: string;
    moved: number;
    failure?: string;
    at: number;
  }[] = [];

  constructor(
    private readonly o: {
      account: string;
      region: string;
      clock: VirtualClock;
      queues: readonly DeployedQueue[];
    },
  ) {
    for (const q of o.queues) {
      if (q.fifo) {
        throw new Error(`queue ${q.queueName}: FIFO queues are not implemented by the local SQS`);
      }
      this.queues.set(q.arn, new LocalQueue(q, o.clock, (arn) => this.queues.get(arn)));
    }
  }

  /** A queue by ARN (the pollers' and the tests' way in). */
  queue(arn: string): LocalQueue | undefined {
    return this.queues.get(arn);
  }

  private byUrl(url: string | undefined): LocalQueue {
    // The SDK may send the URL as configured or with the endpoint's host: the path names the queue.
    const name = (url ?? '').replace(/\/+$/, '').split('/').pop() ?? '';
    const account = (url ?? '').split('/').slice(-2, -1)[0];
    const found = [...this.queues.values()].find(
      (q) => q.definition.queueName === name && (account === undefined || account === this.o.account),
    );
    if (!found) throw new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
    return found;
  }

  private byArn(arn: string | undefined, field: string): LocalQueue {
    const queue = this.queues.get(arn ?? '');
    if (!queue)
      throw invalid(`Value ${JSON.stringify(arn)} for parameter ${field} is invalid: no such queue.`);
    return queue;
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    const i = input as SqsInput;
    const action = `sqs:${operation.replace(/Batch$/, '')}`;
    if (operation === 'GetQueueUrl') {
      return [{ action, resources: [`arn:aws:sqs:${this.o.region}:${this.o.account}:${i.QueueName ?? ''}`] }];
    }
    if (operation === 'StartMessageMoveTask' || operation === 'ListMessageMoveTasks') {
      // Moving needs receive and delete on the source and send on the destination, as AWS documents.
      const needs: AuthorizationNeed[] = [
        { action: `sqs:${operation}`, resources: [i.SourceArn ?? ''] },
        { action: 'sqs:ReceiveMessage', resources: [i.SourceArn ?? ''] },
        { action: 'sqs:DeleteMessage', resources: [i.SourceArn ?? ''] },
        { action: 'sqs:GetQueueAttributes', resources: [i.SourceArn ?? ''] },
      ];
      if (i.DestinationArn) needs.push({ action: 'sqs:SendMessage', resources: [i.DestinationArn] });
      return operation === 'StartMessageMoveTask' ? needs : needs.slice(0, 1);
    }
    let arn: string;
    try {
      arn = this.byUrl(i.QueueUrl).arn;
    } catch {
      arn = `arn:aws:sqs:${this.o.region}:${this.o.account}:${(i.QueueUrl ?? '').split('/').pop() ?? ''}`;
    }
    return [{ action, resources: [arn] }];
  }

  async handle(
    operation: string,
    input: Record<string, unknown>,
    caller: { principalArn: string },
  ): Promise<unknown> {
    const i = input as SqsInput;
    switch (operation) {
      case 'GetQueueUrl': {
        const q = [...this.queues.values()].find((x) => x.definition.queueName === i.QueueName);
        if (!q) throw new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
        const base = this.endpointUrl;
        return { QueueUrl: base ? `${base}/${this.o.account}/${q.definition.queueName}` : q.definition.url };
      }
      case 'GetQueueAttributes': {
        const all = this.attributes(this.byUrl(i.QueueUrl));
        const names = i.AttributeNames ?? [];
        const unknown = names.find((n) => n !== 'All' && !QUEUE_ATTRIBUTES.includes(n));
        if (unknown !== undefined)
          throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${unknown}.`);
        const picked = Object.entries(all).filter(([n]) => names.includes('All') || names.includes(n));
        return picked.length === 0 ? {} : { Attributes: Object.fromEntries(picked) };
      }
      case 'SendMessage': {
        const m = this.send(this.byUrl(i.QueueUrl), i, senderIdOf(caller.principalArn));
        return { MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody };
      }
      case 'SendMessageBatch': {
        const queue = this.byUrl(i.QueueUrl);
        const entries = batchEntries(i);
        const Successful: unknown[] = [];
        const Failed: unknown[] = [];
        for (const e of entries) {
          try {
            const m = this.send(queue, e, senderIdOf(caller.principalArn));
            Successful.push({ Id: e.Id, MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody });
          } catch (error) {
            if (!(error instanceof AwsServiceError)) throw error;
            Failed.push({ Id: e.Id, SenderFault: true, Code: error.code, Message: error.message });
          }
        }
        return { Successful, Failed };
      }
      case 'ReceiveMessage': {
        const max = i.MaxNumberOfMessages ?? 1;
        if (!Number.isInteger(max) || max < 1 || max > 10) {
          throw invalid(
            `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
          );
        }
        const visibility = i.VisibilityTimeout;
        if (visibility !== undefined) checkVisibility(visibility);
        const messages = this.byUrl(i.QueueUrl).receive(max, visibility);
        const system = [...(i.MessageSystemAttributeNames ?? []), ...(i.AttributeNames ?? [])];
        return messages.length === 0
          ? {}
          : { Messages: messages.map((m) => wireMessage(m, system, i.MessageAttributeNames ?? [])) };
      }
      case 'DeleteMessage':
        this.deleteOne(this.byUrl(i.QueueUrl), i.ReceiptHandle);
        return {};
      case 'DeleteMessageBatch':
        return this.batch(i, (queue, e) => this.deleteOne(queue, e.ReceiptHandle));
      case 'ChangeMessageVisibility':
        this.changeOne(this.byUrl(i.QueueUrl), i.ReceiptHandle, i.VisibilityTimeout);
        return {};
      case 'ChangeMessageVisibilityBatch':
        return this.batch(i, (queue, e) => this.changeOne(queue, e.ReceiptHandle, e.VisibilityTimeout));
      case 'PurgeQueue':
        this.byUrl(i.QueueUrl).purge();
        return {};
      case 'StartMessageMoveTask':
        return { TaskHandle: this.move(i.SourceArn, i.DestinationArn) };
      case 'ListMessageMoveTasks': {
        const max = (input.MaxResults as number | undefined) ?? 1;
        if (!Number.isInteger(max) || max < 1 || max > 10) {
          throw invalid(
            `Value ${max} for parameter MaxResults is invalid. Reason: Must be between 1 and 10.`,
          );
        }
        this.byArn(i.SourceArn, 'SourceArn');
        // The most recent first; tasks complete at once here, and only a running task has a TaskHandle.
        return {
          Results: this.moveTasks
            .filter((t) => t.source === i.SourceArn)
            .reverse()
            .slice(0, max)
            .map((t) => ({
              Status: t.failure ? 'FAILED' : 'COMPLETED',
              ...(t.failure ? { FailureReason: t.failure } : {}),
              SourceArn: t.source,
              ...(t.destination ? { DestinationArn: t.destination } : {}),
              ApproximateNumberOfMessagesMoved: t.moved,
              ApproximateNumberOfMessagesToMove: t.moved,
              StartedTimestamp: t.at,
            })),
        };
      }
      default:
        throw new AwsServiceError('UnsupportedOperation', `local SQS does not implement ${operation}`);
    }
  }

  private batch(i: SqsInput, one: (queue: LocalQueue, e: NonNullable<SqsInput['Entries']>[number]) => void) {
    const queue = this.byUrl(i.QueueUrl);
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const e of batchEntries(i)) {
      try {
        one(queue, e);
        Successful.push({ Id: e.Id });
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        Failed.push({ Id: e.Id, SenderFault: true, Code: error.code, Message: error.message });
      }
    }
    return { Successful, Failed };
  }

  private send(
    queue: LocalQueue,
    e: {
      MessageBody?: string;
      DelaySeconds?: number;
      MessageAttributes?: Record<string, MessageAttributeValue>;
    },
    senderId: string,
  ): QueuedMessage {
    const body = checkMessage(e);
    return queue.send({ body, delaySeconds: e.DelaySeconds, attributes: e.MessageAttributes, senderId });
  }

  private deleteOne(queue: LocalQueue, handle: string | undefined): void {
    if (!handle || !queue.delete(handle)) {
      throw new AwsServiceError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle ?? ''}" is not a valid receipt handle.`,
      );
    }
  }

  private changeOne(queue: LocalQueue, handle: string | undefined, seconds: number | undefined): void {
    const visibility = checkVisibility(seconds);
    if (!handle || !queue.handleLooksValid(handle)) {
      throw new AwsServiceError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle ?? ''}" is not a valid receipt handle.`,
      );
    }
    if (!queue.changeVisibility(handle, visibility)) {
      throw new AwsServiceError(
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
  }

  /** A message move task, done at once: every message of a DLQ back to where it came from (or `destination`). */
  private move(sourceArn: string | undefined, destinationArn: string | undefined): string {
    const source = this.byArn(sourceArn, 'SourceArn');
    const isDlq = [...this.queues.values()].some(
      (q) => q.definition.redrivePolicy?.deadLetterTargetArn === source.arn,
    );
    if (!isDlq) throw invalid('Source queue must be configured as a Dead Letter Queue.');
    const destination = destinationArn ? this.byArn(destinationArn, 'DestinationArn') : undefined;
    let moved = 0;
    let unmovable = 0;
    for (const m of source.drain()) {
      const target = destination ?? (m.sourceArn ? this.queues.get(m.sourceArn) : undefined);
      if (!target) {
        // Sent straight to the DLQ (not by a redrive): no source to return to without a DestinationArn.
        source.send({ ...m, delaySeconds: 0 });
        unmovable += 1;
        continue;
      }
      // A redriven message is a new message: new id, new enqueue time, its retention period anew.
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
      target.send({ body: m.body, attributes: m.attributes, senderId: m.senderId, delaySeconds: 0 });
      moved += 1;
    }
    const handle = randomUUID();
    this.moveTasks.push({
      handle,
      source: source.arn,
      destination: destinationArn,
      moved,
      ...(unmovable > 0
        ? { failure: `${unmovable} messages have no source queue to return to: give a DestinationArn` }
        : {}),
      at: this.o.clock.now(),
    });
    return handle;
  }

  private attributes(queue: LocalQueue): Record<string, string> {
    const { visible, inFlight, delayed } = queue.counts();
    const d = queue.definition;
    return {
      QueueArn: d.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      VisibilityTimeout: String(d.visibilityTimeoutSeconds),
      DelaySeconds: String(d.delaySeconds),
      MessageRetentionPeriod: String(d.messageRetentionSeconds),
      MaximumMessageSize: String(MAX_MESSAGE_BYTES),
      ...(d.redrivePolicy ? { RedrivePolicy: JSON.stringify(d.redrivePolicy) } : {}),
    };
  }
}
