/**
 * The Slack Web API sender tests' world: the alert sink (its Slack workspace, a bot in one channel), the
 * state table, SQS mocked, and a clock the tests move by hand.
 */
import { globalAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { SenderRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { DeliveryLedger, Pacer } from '../../../lambdas/alerts/deliveries.ts';
import type { Alert } from '../../../lambdas/alerts/model.ts';
import type { DeliveryRequest } from '../../../lambdas/alerts/router.ts';
import { type SenderDeps, sendBatch } from '../../../lambdas/alerts/sender.ts';
import { SlackThreads } from '../../../lambdas/alerts/threads.ts';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { startSink } from '../../local/sink/sink-fixture.ts';
import { startStateTable } from '../../support/dynamo.ts';

export let sink: AlertSink;
export let clock: { now: number };
export let table: Awaited<ReturnType<typeof startStateTable>>;
export let token = '';
export let channelId = '';
export const sqs = mockClient(SQSClient);

beforeAll(async () => {
  let ca: string;
  ({ sink, clock, ca } = await startSink());
  globalAgent.options.ca = [...rootCertificates, ca];
  token = sink.slack.createBotToken({ channels: ['#incidents'] });
  channelId = sink.slack.createChannel('#incidents');
  table = await startStateTable();
});
afterAll(async () => {
  await sink.close();
  await table.stop();
});
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

export function deps(o: { token?: string } = {}): SenderDeps {
  const receiver = `slack-bot-${crypto.randomUUID().slice(0, 8)}`;
  const config: SenderRuntimeConfig = {
    auditRetentionDays: 400,
    receiver,
    queueUrl: 'https://sqs/queue',
    deadLetterQueueUrl: 'https://sqs/dlq',
    maxAttempts: 3,
    maxReceives: 1000,
    leaseSeconds: 90,
    channel: { kind: 'slack-api', botTokenParameter: '/bot', channel: channelId, baseUrl: `${sink.url}/api` },
  };
  return {
    sqs: new SQSClient({ region: 'eu-west-1' }),
    ledger: new DeliveryLedger(table.documents, table.tableName, receiver),
    pacer: new Pacer(table.documents, table.tableName, receiver),
    threads: new SlackThreads(table.documents, table.tableName, receiver),
    secret: async () => o.token ?? token,
    clock: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
    },
    config,
    owner: crypto.randomUUID(),
  };
}

let seq = 0;
export function record(request: DeliveryRequest): SQSRecord {
  seq += 1;
  return {
    messageId: `m-${seq}`,
    receiptHandle: `rh-${seq}`,
    body: JSON.stringify(request),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(clock.now),
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: String(clock.now),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:queue',
    awsRegion: 'eu-west-1',
  };
}

export const episode = (suffix: string) =>
  `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx@2026-12-03T08:${suffix}:00.000Z`;
export const req = (d: SenderDeps, a: Alert, thread?: string): DeliveryRequest => ({
  receiver: d.config.receiver,
  deliveryKey: `${a.key}#${a.status}`,
  alert: a,
  ...(thread ? { thread } : {}),
});
/** One message at a time, a second and a half apart (the channel's pacing is tested elsewhere). */
export async function send(d: SenderDeps, r: DeliveryRequest) {
  clock.now += 1_500;
  return sendBatch([record(r)], d);
}
export const headerOf = (m: { blocks: readonly unknown[] }) =>
  String((m.blocks[0] as { text?: { text?: string } }).text?.text);
