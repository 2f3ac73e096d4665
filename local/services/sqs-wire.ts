/**
 * The wire side of the local SQS: request shapes, the checks SQS makes of parameters and batches, and
 * received messages as the JSON protocol returns them.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { MessageAttributeValue, QueuedMessage } from './sqs-queue.ts';

/** SQS's largest message: 1 MiB (raised from 256 KiB in 2025), body and attributes together. */
export const MAX_MESSAGE_BYTES = 1_048_576;

/** `InvalidParameterValue`, as SQS answers an out-of-range parameter. */
export const invalid = (message: string) => new AwsServiceError('InvalidParameterValue', message);

export interface SqsInput {
  QueueUrl?: string;
  QueueName?: string;
  MessageBody?: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  Entries?: {
    Id?: string;
    MessageBody?: string;
    DelaySeconds?: number;
    MessageAttributes?: Record<string, MessageAttributeValue>;
    ReceiptHandle?: string;
    VisibilityTimeout?: number;
  }[];
  MaxNumberOfMessages?: number;
  VisibilityTimeout?: number;
  ReceiptHandle?: string;
  SourceArn?: string;
  DestinationArn?: string;
  AttributeNames?: string[];
  MessageSystemAttributeNames?: string[];
  MessageAttributeNames?: string[];
}

/** The queue attributes GetQueueAttributes knows (`All` asks for every one the local queue has). */
export const QUEUE_ATTRIBUTES = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'VisibilityTimeout',
  'DelaySeconds',
  'MessageRetentionPeriod',
  'MaximumMessageSize',
  'RedrivePolicy',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'ReceiveMessageWaitTimeSeconds',
  'Policy',
  'SqsManagedSseEnabled',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

/** A batch request's entries, refused like SQS refuses an empty, oversized or ambiguous batch. */
export function batchEntries(i: SqsInput): NonNullable<SqsInput['Entries']> {
  const entries = i.Entries ?? [];
  if (entries.length === 0)
    throw new AwsServiceError('EmptyBatchRequest', 'There should be at least one entry in the request.');
  if (entries.length > 10) {
    throw new AwsServiceError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  const ids = entries.map((e) => e.Id ?? '');
  if (new Set(ids).size !== ids.length)
    throw new AwsServiceError(
      'BatchEntryIdsNotDistinct',
      'Two or more batch entries in the request have the same Id.',
    );
  if (ids.some((id) => !/^[A-Za-z0-9_-]{1,80}$/.test(id))) {
    throw new AwsServiceError(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    );
  }
  const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0);
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new AwsServiceError(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${bytes} bytes.`,
    );
  }
  return entries;
}

/**
 * The body of a message to send, refused when empty, over 1 MiB with its attributes, delayed out of range
 * or with more than 10 attributes.
 */
export function checkMessage(e: {
  MessageBody?: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
}): string {
  const body = e.MessageBody ?? '';
  if (body.length === 0)
    throw new AwsServiceError('MissingParameter', 'The request must contain the parameter MessageBody.');
  const size =
    Buffer.byteLength(body) +
    Object.entries(e.MessageAttributes ?? {}).reduce(
      (n, [k, v]) =>
        n +
        Buffer.byteLength(k) +
        Buffer.byteLength(v.DataType) +
        (v.BinaryValue === undefined
          ? Buffer.byteLength(v.StringValue ?? '')
          : Buffer.from(v.BinaryValue, 'base64').length),
      0,
    );
  if (size > MAX_MESSAGE_BYTES) {
    throw invalid(
      `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`,
    );
  }
  if (
    e.DelaySeconds !== undefined &&
    (!Number.isInteger(e.DelaySeconds) || e.DelaySeconds < 0 || e.DelaySeconds > 900)
  ) {
    throw invalid(
      `Value ${e.DelaySeconds} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`,
    );
  }
  if (Object.keys(e.MessageAttributes ?? {}).length > 10) {
    const count = Object.keys(e.MessageAttributes ?? {}).length;
    throw invalid(`Number of message attributes [${count}] exceeds the allowed maximum [10].`);
  }
  return body;
}

/** A visibility timeout, 0–43200 seconds. */
export function checkVisibility(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
    throw invalid(
      `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
    );
  }
  return seconds;
}

/**
 * A received message on the wire (JSON protocol): only the system attributes (`All` or by name) and the
 * message attributes (`All`, by name or `prefix.*`) the receive asked for, as SQS answers.
 */
export function wireMessage(
  m: QueuedMessage,
  systemNames: readonly string[],
  attributeNames: readonly string[],
) {
  const system: Record<string, string> = {
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    SenderId: m.senderId,
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
    ...(m.sourceArn ? { DeadLetterQueueSourceArn: m.sourceArn } : {}),
  };
  const attributes = Object.entries(system).filter(
    ([name]) => systemNames.includes('All') || systemNames.includes(name),
  );
  const wanted = (name: string) =>
    attributeNames.some(
      (a) => a === 'All' || a === '.*' || a === name || (a.endsWith('.*') && name.startsWith(a.slice(0, -1))),
    );
  const messageAttributes = Object.entries(m.attributes).filter(([name]) => wanted(name));
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle ?? '',
    MD5OfBody: m.md5OfBody,
    Body: m.body,
    ...(attributes.length > 0 ? { Attributes: Object.fromEntries(attributes) } : {}),
    ...(messageAttributes.length > 0 ? { MessageAttributes: Object.fromEntries(messageAttributes) } : {}),
  };
}

/**
 * `SenderId` as SQS reports it: the unique id of the IAM user (`AIDA…`), or of the role with the session name
 * (`AROA…:<session>`) — deterministic stand-ins derived from the principal's ARN.
 */
export function senderIdOf(principalArn: string): string {
  const session = /:assumed-role\/([^/]+)\/(.+)$/.exec(principalArn);
  const id = createHash('sha256')
    .update(session?.[1] ?? principalArn)
    .digest('hex')
    .slice(0, 17)
    .toUpperCase();
  return session ? `AROA${id}:${session[2]}` : `AIDA${id}`;
}
