import { globalAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SenderRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { DeliveryLedger, Pacer } from '../../../lambdas/alerts/deliveries.ts';
import type { Alert } from '../../../lambdas/alerts/model.ts';
import type { DeliveryRequest } from '../../../lambdas/alerts/router.ts';
import { type SenderDeps, sendBatch } from '../../../lambdas/alerts/sender.ts';
import { SlackThreads } from '../../../lambdas/alerts/threads.ts';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { startSink, T0 } from '../../local/sink/sink-fixture.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { alert } from './alert-fixture.ts';

let sink: AlertSink;
let clock: { now: number };
let table: Awaited<ReturnType<typeof startStateTable>>;
let token = '';
let channelId = '';
const sqs = mockClient(SQSClient);

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

function deps(o: { token?: string } = {}): SenderDeps {
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
function record(request: DeliveryRequest): SQSRecord {
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

const episode = (suffix: string) =>
  `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx@2026-12-03T08:${suffix}:00.000Z`;
const req = (d: SenderDeps, a: Alert, thread?: string): DeliveryRequest => ({
  receiver: d.config.receiver,
  deliveryKey: `${a.key}#${a.status}`,
  alert: a,
  ...(thread ? { thread } : {}),
});
/** One message at a time, a second and a half apart (the channel's pacing is tested elsewhere). */
async function send(d: SenderDeps, r: DeliveryRequest) {
  clock.now += 1_500;
  return sendBatch([record(r)], d);
}
const headerOf = (m: { blocks: readonly unknown[] }) =>
  String((m.blocks[0] as { text?: { text?: string } }).text?.text);

describe('sendBatch: Slack Web API (bot token)', () => {
  it('one thread per episode: the alarm, then what Nightshift did, then the resolution; the first message shows the current state', async () => {
    clock.now = T0;
    const d = deps();
    const key = episode('00');
    const firing = alert({ key, severity: 'critical', title: 'api-5xx is in ALARM' });
    const rollback = alert({
      key: 'nightshift#rollback#api#1',
      source: 'nightshift',
      title: 'Rollback Performed: api',
      action: 'Nightshift rolled api back to :1',
      episode: key,
      automated: true,
    });
    const resolved = alert({ key, status: 'resolved', title: 'api-5xx resolved after 12 min (api)' });
    const before = sink.slack.messages(channelId).length;
    for (const [a, outcome] of [
      [firing, 'sent'],
      [rollback, 'sent'],
      [resolved, 'sent'],
      [resolved, 'already-sent'],
    ] as const) {
      const out = await send(d, req(d, a, key));
      expect(out.outcomes.map((o) => o.outcome)).toEqual([outcome]);
    }
    const top = sink.slack.messages(channelId).slice(before);
    expect(top).toHaveLength(1);
    const parent = top[0];
    if (!parent) throw new Error('no first message');
    const replies = sink.slack.thread(channelId, parent.ts);
    expect(replies.map(headerOf)).toEqual([
      expect.stringContaining('Rollback Performed: api'),
      'Resolved: api-5xx resolved after 12 min (api)',
    ]);
    // Updated twice: with the rollback, then resolved; it still names what Nightshift did.
    expect(parent.edits).toHaveLength(2);
    expect(headerOf(parent)).toBe('Resolved: api-5xx is in ALARM');
    expect(JSON.stringify(parent.blocks)).toContain('Nightshift rolled api back to :1');
    expect(JSON.stringify(parent.blocks)).toContain('resolved after 12 min');
  });

  it('a reply whose first message has no ts yet waits (retried), never posts unthreaded; then it threads', async () => {
    clock.now = T0 + 600_000;
    const d = deps();
    const key = episode('10');
    const before = sink.slack.messages(channelId).length;
    const resolved = alert({ key, status: 'resolved', title: 'api-5xx resolved after 3 min (api)' });
    const early = await send(d, req(d, resolved, key));
    expect(early.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'retry',
        reason: expect.stringContaining('waiting for the first message'),
      }),
    ]);
    expect(sink.slack.messages(channelId)).toHaveLength(before);
    await send(d, req(d, alert({ key }), key));
    const late = await send(d, req(d, resolved, key));
    expect(late.outcomes.map((o) => o.outcome)).toEqual(['sent']);
    const [parent] = sink.slack.messages(channelId).slice(before);
    expect(parent && sink.slack.thread(channelId, parent.ts)).toHaveLength(1);
  });

  it('a first message already posted (the sender died before marking it) is not posted again', async () => {
    clock.now = T0 + 1_200_000;
    const d = deps();
    const key = episode('20');
    const firing = alert({ key });
    await d.threads?.record(key, { ts: '1796284800.000001', channel: channelId, parent: firing }, clock.now);
    const before = sink.slack.messages(channelId).length;
    const out = await send(d, req(d, firing, key));
    expect(out.outcomes.map((o) => o.outcome)).toEqual(['sent']);
    expect(sink.slack.messages(channelId)).toHaveLength(before);
  });

  it('an alert without a thread is a message of its own; a refused token goes to the DLQ and is never in the reason', async () => {
    clock.now = T0 + 1_800_000;
    const d = deps();
    const before = sink.slack.messages(channelId).length;
    const own = alert({
      key: 'nightshift#snapshot#db#1',
      source: 'nightshift',
      title: 'Snapshot Skipped: db',
    });
    expect((await send(d, req(d, own))).outcomes.map((o) => o.outcome)).toEqual(['sent']);
    expect(sink.slack.messages(channelId)).toHaveLength(before + 1);

    const wrong = 'xoxb-1-2-notatokenofthisworkspace';
    const bad = deps({ token: wrong });
    const out = await send(bad, req(bad, alert({ key: episode('30') }), episode('30')));
    expect(out.outcomes).toEqual([
      expect.objectContaining({ outcome: 'dead-lettered', reason: expect.stringContaining('invalid_auth') }),
    ]);
    const parked = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(parked).toHaveLength(1);
    expect(JSON.stringify([out, parked])).not.toContain(wrong);
  });
});
