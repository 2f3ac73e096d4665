import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SqsWorld } from '../../../local/services/sqs.ts';
import type { DeployedQueue } from '../../../local/template/deployed-types.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const queue = (name: string, extra: Partial<DeployedQueue> = {}): DeployedQueue => ({
  logicalId: name,
  queueName: name,
  arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  url: `http://sqs.${REGION}.localhost/${ACCOUNT}/${name}`,
  visibilityTimeoutSeconds: 30,
  delaySeconds: 0,
  messageRetentionSeconds: 345_600,
  fifo: false,
  ...extra,
});
const dlq = queue('work-dlq');
const work = queue('work', { redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 } });
const delayed = queue('delayed', { delaySeconds: 60 });
const other = queue('other');
const shortLived = queue('short-lived', { messageRetentionSeconds: 60 });

const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: `arn:aws:iam::${ACCOUNT}:user/operator`,
  policies: 'unrestricted',
};
/** May receive from `work` but not send to it. */
const reader: Caller = {
  accessKeyId: 'AKIAREADER0000000000',
  secretAccessKey: 'reader-secret',
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/fn`,
  policies: [
    {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['sqs:ReceiveMessage'], Resource: work.arn }],
    },
  ],
};
const callers = [operator, reader];

const clock = new VirtualClock(Date.parse('2026-11-20T00:00:00Z'));
let sqs: SqsWorld;
const endpoint = new LocalEndpoint({
  account: ACCOUNT,
  region: REGION,
  services: [
    {
      signingName: 'sqs',
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      authorization: (operation, input) => sqs.authorization(operation, input),
      handle: (operation, input, caller) => sqs.handle(operation, input, caller),
    },
  ],
  callerFor: (key) => callers.find((c) => c.accessKeyId === key),
});
const client = (c: Caller = operator) =>
  new SQSClient({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    maxAttempts: 1,
  });
const receive = (
  QueueUrl: string,
  extra: Partial<{ VisibilityTimeout: number; MaxNumberOfMessages: number }> = {},
) =>
  client().send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      ...extra,
    }),
  );

beforeAll(() => endpoint.listen());
afterAll(() => endpoint.close());
beforeEach(() => {
  sqs = new SqsWorld({
    account: ACCOUNT,
    region: REGION,
    clock,
    queues: [work, dlq, delayed, other, shortLived],
  });
});

describe('SqsWorld', () => {
  describe('sending and receiving, like SQS', () => {
    it('hides a received message for its visibility timeout, then delivers it again with a higher receive count', async () => {
      const sent = await client().send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'hello' }));
      const first = await receive(other.url, { VisibilityTimeout: 20 });
      expect(first.Messages?.map((m) => [m.MessageId, m.Body])).toEqual([[sent.MessageId, 'hello']]);
      expect(first.Messages?.[0]?.Attributes).toMatchObject({
        ApproximateReceiveCount: '1',
        SenderId: expect.stringMatching(/^AIDA[0-9A-F]{17}$/),
      });
      expect((await receive(other.url)).Messages).toBeUndefined();
      await clock.advance(19_000);
      expect((await receive(other.url)).Messages).toBeUndefined();
      await clock.advance(1_000);
      const again = await receive(other.url);
      expect(again.Messages?.[0]?.Attributes).toMatchObject({
        ApproximateReceiveCount: '2',
        SentTimestamp: String(first.Messages?.[0]?.Attributes?.SentTimestamp),
      });
    });

    it('deletes a received message for good', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'once' }));
      const [m] = (await receive(other.url, { VisibilityTimeout: 0 })).Messages ?? [];
      await client().send(new DeleteMessageCommand({ QueueUrl: other.url, ReceiptHandle: m?.ReceiptHandle }));
      await clock.advance(60_000);
      expect((await receive(other.url)).Messages).toBeUndefined();
    });

    it('delays a message by the queue default or by the DelaySeconds of the message', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: delayed.url, MessageBody: 'queue delay' }));
      await client().send(
        new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'own', DelaySeconds: 5 }),
      );
      const attributes = await client().send(
        new GetQueueAttributesCommand({ QueueUrl: delayed.url, AttributeNames: ['All'] }),
      );
      expect(attributes.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
      await clock.advance(5_000);
      expect((await receive(other.url)).Messages?.map((m) => m.Body)).toEqual(['own']);
      expect((await receive(delayed.url)).Messages).toBeUndefined();
      await clock.advance(55_000);
      expect((await receive(delayed.url)).Messages?.map((m) => m.Body)).toEqual(['queue delay']);
    });

    it('changes the visibility of an in-flight message, and refuses one that is not in flight', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'x' }));
      const [m] = (await receive(other.url)).Messages ?? [];
      await client().send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: other.url,
          ReceiptHandle: m?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      const [again] = (await receive(other.url)).Messages ?? [];
      expect(again?.MessageId).toBe(m?.MessageId);
      await expect(
        client().send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: other.url,
            ReceiptHandle: m?.ReceiptHandle,
            VisibilityTimeout: 10,
          }),
        ),
      ).rejects.toMatchObject({ name: 'MessageNotInflight' });
    });

    it('refuses a message over 1 MiB and takes one of exactly 1 MiB', async () => {
      const max = 1_048_576;
      await expect(
        client().send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'x'.repeat(max + 1) })),
      ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
      const ok = await client().send(
        new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'x'.repeat(max) }),
      );
      expect(ok.MessageId).toBeTruthy();
    });

    it('refuses a MaxNumberOfMessages outside 1–10', async () => {
      await expect(receive(other.url, { MaxNumberOfMessages: 11 })).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
    });

    it('returns message and system attributes only when the receive asks for them', async () => {
      await client().send(
        new SendMessageCommand({
          QueueUrl: other.url,
          MessageBody: 'tagged',
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'alert' } },
        }),
      );
      const plain = await client().send(
        new ReceiveMessageCommand({ QueueUrl: other.url, VisibilityTimeout: 0 }),
      );
      expect(plain.Messages?.[0]).not.toHaveProperty('MessageAttributes');
      expect(plain.Messages?.[0]).not.toHaveProperty('Attributes');
      const asked = await client().send(
        new ReceiveMessageCommand({
          QueueUrl: other.url,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      expect(asked.Messages?.[0]?.MessageAttributes).toEqual({
        kind: { DataType: 'String', StringValue: 'alert' },
      });
      expect(asked.Messages?.[0]?.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    });

    it('drops a message once its retention period is over', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: shortLived.url, MessageBody: 'x' }));
      await clock.advance(59_000);
      const attributes = await client().send(
        new GetQueueAttributesCommand({
          QueueUrl: shortLived.url,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      expect(attributes.Attributes).toEqual({ ApproximateNumberOfMessages: '1' });
      await clock.advance(1_000);
      expect((await receive(shortLived.url)).Messages).toBeUndefined();
    });

    it('empties a queue with PurgeQueue', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'x' }));
      await client().send(new PurgeQueueCommand({ QueueUrl: other.url }));
      expect((await receive(other.url)).Messages).toBeUndefined();
    });
  });

  describe('batches', () => {
    it('sends up to 10 entries, reporting a bad entry in Failed and sending the others', async () => {
      const out = await client().send(
        new SendMessageBatchCommand({
          QueueUrl: other.url,
          Entries: [
            { Id: 'a', MessageBody: 'one' },
            { Id: 'b', MessageBody: 'two', DelaySeconds: 901 },
            { Id: 'c', MessageBody: 'three' },
          ],
        }),
      );
      expect(out.Successful?.map((s) => s.Id)).toEqual(['a', 'c']);
      expect(out.Failed).toEqual([
        expect.objectContaining({ Id: 'b', SenderFault: true, Code: 'InvalidParameterValue' }),
      ]);
      expect((await receive(other.url)).Messages?.map((m) => m.Body)).toEqual(['one', 'three']);
    });

    it('refuses more than 10 entries, no entries, and ids that are not distinct', async () => {
      const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' }));
      const send = (Entries: { Id: string; MessageBody: string }[]) =>
        client().send(new SendMessageBatchCommand({ QueueUrl: other.url, Entries }));
      await expect(send(entries(11))).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
      await expect(send([])).rejects.toMatchObject({ name: 'EmptyBatchRequest' });
      await expect(
        send([
          { Id: 'same', MessageBody: 'x' },
          { Id: 'same', MessageBody: 'y' },
        ]),
      ).rejects.toMatchObject({
        name: 'BatchEntryIdsNotDistinct',
      });
      const half = 'x'.repeat(524_289);
      await expect(
        send([
          { Id: 'a', MessageBody: half },
          { Id: 'b', MessageBody: half },
        ]),
      ).rejects.toMatchObject({ name: 'BatchRequestTooLong' });
    });

    it('deletes a batch, reporting a receipt handle that is not valid in Failed', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: other.url, MessageBody: 'x' }));
      const [m] = (await receive(other.url)).Messages ?? [];
      const out = await client().send(
        new DeleteMessageBatchCommand({
          QueueUrl: other.url,
          Entries: [
            { Id: 'good', ReceiptHandle: m?.ReceiptHandle },
            { Id: 'bad', ReceiptHandle: 'not-a-handle' },
          ],
        }),
      );
      expect(out.Successful?.map((s) => s.Id)).toEqual(['good']);
      expect(out.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);
    });
  });

  describe('dead-letter queues and redrive', () => {
    it('moves a message to the DLQ on the receive that would exceed maxReceiveCount', async () => {
      await client().send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'poison' }));
      expect((await receive(work.url, { VisibilityTimeout: 0 })).Messages).toHaveLength(1);
      expect((await receive(work.url, { VisibilityTimeout: 0 })).Messages).toHaveLength(1);
      expect((await receive(work.url, { VisibilityTimeout: 0 })).Messages).toBeUndefined();
      const dead = await receive(dlq.url, { VisibilityTimeout: 0 });
      expect(dead.Messages?.map((m) => m.Body)).toEqual(['poison']);
    });

    it('redrives the DLQ back to its source queue as new messages, with a message move task', async () => {
      const sent = await client().send(
        new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'retry me' }),
      );
      for (let i = 0; i < 3; i++) await receive(work.url, { VisibilityTimeout: 0 });
      const [dead] = (await receive(dlq.url, { VisibilityTimeout: 0 })).Messages ?? [];
      expect(dead?.Attributes?.DeadLetterQueueSourceArn).toBe(work.arn);
      const task = await client().send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
      expect(task.TaskHandle).toBeTruthy();
      const tasks = await client().send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn }));
      expect(tasks.Results?.[0]).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 });
      expect((await receive(dlq.url)).Messages).toBeUndefined();
      const [back] = (await receive(work.url)).Messages ?? [];
      expect(back?.Body).toBe('retry me');
      expect(back?.MessageId).not.toBe(sent.MessageId);
      expect(back?.Attributes?.ApproximateReceiveCount).toBe('1');
    });

    it('refuses a message move task from a queue that is no queue’s DLQ', async () => {
      await expect(
        client().send(new StartMessageMoveTaskCommand({ SourceArn: other.arn })),
      ).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
    });
  });

  describe('errors the SDK surfaces', () => {
    it('answers QueueDoesNotExist for a queue URL or name it does not have', async () => {
      const url = `http://sqs.${REGION}.localhost/${ACCOUNT}/missing`;
      await expect(
        client().send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
      ).rejects.toMatchObject({
        name: 'QueueDoesNotExist',
        $metadata: { httpStatusCode: 400 },
      });
      await expect(client().send(new GetQueueUrlCommand({ QueueName: 'missing' }))).rejects.toMatchObject({
        name: 'QueueDoesNotExist',
      });
    });

    it('refuses a caller without sqs:SendMessage on the queue', async () => {
      await expect(
        client(reader).send(new SendMessageCommand({ QueueUrl: work.url, MessageBody: 'x' })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(
        (await client(reader).send(new ReceiveMessageCommand({ QueueUrl: work.url }))).Messages,
      ).toBeUndefined();
    });
  });
});
