import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalWorld } from '../../../local/world/world.ts';
import { START } from './world-fixture.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/**
 * The consumer: fails a message (as a batch item failure) while the world's time is before its `failUntil`,
 * sleeps `sleepMs` real milliseconds, and answers with when it ran (real time) and the records it saw.
 */
const HANDLER = `
export const handler = async (event) => {
  const start = performance.timeOrigin + performance.now();
  const batchItemFailures = [];
  for (const record of event.Records) {
    const body = JSON.parse(record.body);
    if (body.sleepMs) await new Promise((resolve) => setTimeout(resolve, body.sleepMs));
    if (body.failUntil && Date.now() < body.failUntil) batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures, start, end: performance.timeOrigin + performance.now(), records: event.Records };
};
`;

const PRODUCER = `
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
const sqs = new SQSClient({});
export const handler = async (event) => {
  const out = await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify(event) }));
  return out.MessageId;
};
`;

let dir: string;
let world: LocalWorld;

/** A tiny stack: a queue with a DLQ and a consumer reporting batch item failures, a slow consumer limited to
 * two concurrent invocations, a mapping whose role may not read its queue, and a scheduled function whose
 * failed invocations go to an SQS destination. */
function synthesize(): string {
  const handlerDir = join(dir, 'handler');
  mkdirSync(handlerDir, { recursive: true });
  writeFileSync(join(handlerDir, 'index.mjs'), HANDLER);
  const outdir = join(dir, 'cdk.out');
  const app = new App({ outdir });
  const stack = new Stack(app, 'SqsTiny', { env: { account: ACCOUNT, region: REGION } });
  const fn = (id: string, options: Partial<lambda.FunctionProps> = {}) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(handlerDir),
      timeout: Duration.seconds(10),
      ...options,
    });
  const deadLetters = new sqs.Queue(stack, 'DeadLetters');
  const work = new sqs.Queue(stack, 'Work', {
    visibilityTimeout: Duration.seconds(30),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 2 },
  });
  fn('Consumer').addEventSource(new SqsEventSource(work, { batchSize: 10, reportBatchItemFailures: true }));
  // Sends its event to Work, by the URL the template puts in its environment, with the SDK bundled.
  const producerDir = join(dir, 'producer');
  buildSync({
    stdin: { contents: PRODUCER, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(producerDir, 'index.mjs'),
    banner: { js: "import{createRequire}from'node:module';const require=createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const producer = fn('Producer', {
    code: lambda.Code.fromAsset(producerDir),
    environment: { QUEUE_URL: work.queueUrl },
  });
  work.grantSendMessages(producer);
  const slow = new sqs.Queue(stack, 'Slow');
  fn('SlowConsumer').addEventSource(new SqsEventSource(slow, { batchSize: 1, maxConcurrency: 2 }));
  const locked = new sqs.Queue(stack, 'Locked');
  new lambda.EventSourceMapping(stack, 'Unprivileged', {
    target: fn('Outsider'),
    eventSourceArn: locked.queueArn,
  });
  // Fails every scheduled event (it has no Records); its one attempt goes to the SQS destination.
  const failures = new sqs.Queue(stack, 'Failures');
  new events.Rule(stack, 'Hourly', {
    schedule: events.Schedule.rate(Duration.hours(1)),
    targets: [
      new targets.LambdaFunction(
        fn('Failing', { retryAttempts: 0, onFailure: new SqsDestination(failures) }),
      ),
    ],
  });
  app.synth();
  return outdir;
}

let outdir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nightshift-sqs-'));
  outdir = synthesize();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  world = await LocalWorld.start({
    cloudAssemblyDir: outdir,
    account: ACCOUNT,
    region: REGION,
    start: START,
  });
});
afterEach(() => world.close());

const queueNamed = (part: string) => {
  const queue = world.app.queues.find((q) => q.logicalId.startsWith(part));
  if (!queue) throw new Error(`no queue ${part}`);
  return queue;
};
const client = () => new SQSClient({ ...world.operatorConfig(), maxAttempts: 1 });
async function send(part: string, bodies: unknown[]): Promise<string[]> {
  const out = await client().send(
    new SendMessageBatchCommand({
      QueueUrl: queueNamed(part).url,
      Entries: bodies.map((body, i) => ({ Id: `m${i}`, MessageBody: JSON.stringify(body) })),
    }),
  );
  await world.settle();
  return (out.Successful ?? []).map((s) => s.MessageId ?? '');
}
async function count(part: string) {
  const { Attributes } = await client().send(
    new GetQueueAttributesCommand({ QueueUrl: queueNamed(part).url, AttributeNames: ['All'] }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}
const functionNamed = (part: string) => world.app.functions.find((f) => f.logicalId.startsWith(part));
const deliveriesOf = (part: string) =>
  world.sqsDeliveries.filter((d) => d.function === functionNamed(part)?.functionName);

describe('SQS event source mappings in the local world', () => {
  it('invokes the function with the batch as Lambda sends it, and deletes the messages it handled', async () => {
    const ids = await send('Work', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const [delivery, ...more] = deliveriesOf('Consumer');
    expect(more).toEqual([]);
    expect(delivery?.messageIds).toEqual(ids);
    const records = (delivery?.result.result as { records?: Record<string, unknown>[] } | undefined)?.records;
    expect(records?.[0]).toMatchObject({
      messageId: ids[0],
      body: '{"n":1}',
      eventSource: 'aws:sqs',
      eventSourceARN: queueNamed('Work').arn,
      awsRegion: REGION,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(START) },
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(await count('Work')).toBe(0);
  });

  it('retries only the reported batch item failures, after the visibility timeout', async () => {
    const [ok, failing] = await send('Work', [{ n: 1 }, { n: 2, failUntil: START + 10_000 }]);
    expect(deliveriesOf('Consumer').map((d) => d.failedMessageIds)).toEqual([[failing]]);
    await world.advance(29_000);
    expect(deliveriesOf('Consumer')).toHaveLength(1);
    await world.advance(1_000);
    const retry = deliveriesOf('Consumer')[1];
    expect(retry?.messageIds).toEqual([failing]);
    expect(retry?.failedMessageIds).toEqual([]);
    expect(retry?.messageIds).not.toContain(ok);
    expect(await count('Work')).toBe(0);
  });

  it('moves a message received maxReceiveCount times to the DLQ, and a redrive brings it back', async () => {
    const [id] = await send('Work', [{ failUntil: START + 10 * 60_000 }]);
    await world.advance(60_000);
    expect(deliveriesOf('Consumer').map((d) => d.messageIds)).toEqual([[id], [id]]);
    expect(await count('Work')).toBe(0);
    expect(await count('DeadLetters')).toBe(1);

    await world.advance(10 * 60_000);
    await client().send(new StartMessageMoveTaskCommand({ SourceArn: queueNamed('DeadLetters').arn }));
    await world.settle();
    const last = deliveriesOf('Consumer').at(-1);
    expect(deliveriesOf('Consumer')).toHaveLength(3);
    expect(last?.result.ok).toBe(true);
    expect(last?.failedMessageIds).toEqual([]);
    expect(await count('DeadLetters')).toBe(0);
    expect(await count('Work')).toBe(0);
  });

  it('runs at most MaximumConcurrency invocations at once', async () => {
    await send(
      'Slow',
      Array.from({ length: 6 }, () => ({ sleepMs: 300 })),
    );
    const runs = deliveriesOf('SlowConsumer').map((d) => d.result.result as { start: number; end: number });
    expect(runs).toHaveLength(6);
    // How many were running when each one started.
    const running = runs.map((r) => runs.filter((o) => o.start <= r.start && r.start < o.end).length);
    expect(Math.max(...running)).toBe(2);
  });

  it('does not poll for a function whose role may not receive from the queue, and says why', async () => {
    expect(world.eventSources.refused).toEqual([
      expect.objectContaining({
        mapping: expect.stringContaining('Unprivileged'),
        reason: expect.stringContaining('sqs:ReceiveMessage'),
      }),
    ]);
    await send('Locked', [{ n: 1 }]);
    expect(deliveriesOf('Outsider')).toEqual([]);
    expect(await count('Locked')).toBe(1);
  });

  it('puts the record of an asynchronous invocation that failed on its SQS on-failure destination', async () => {
    await world.runSchedulesNow();
    const { Messages } = await client().send(
      new ReceiveMessageCommand({ QueueUrl: queueNamed('Failures').url }),
    );
    expect(JSON.parse(Messages?.[0]?.Body ?? '{}')).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 1 },
      requestPayload: { 'detail-type': 'Scheduled Event' },
      responsePayload: { errorType: 'TypeError' },
    });
    expect(world.deadLetters.get(queueNamed('Failures').arn)).toHaveLength(1);
  });

  it('lets a function send to a queue by the URL in its environment, and the mapping delivers the message', async () => {
    const producer = world.lambdas.get(functionNamed('Producer')?.logicalId ?? '');
    const sent = await producer?.invoke({ n: 42 });
    expect(sent?.error).toBeUndefined();
    await world.settle();
    expect(deliveriesOf('Consumer').map((d) => d.messageIds)).toEqual([[sent?.result]]);
  });
});
