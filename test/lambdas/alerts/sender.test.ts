import { createServer, globalAgent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SenderRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { DeliveryLedger, Pacer } from '../../../lambdas/alerts/deliveries.ts';
import type { DeliveryRequest } from '../../../lambdas/alerts/router.ts';
import { type SenderDeps, sendBatch } from '../../../lambdas/alerts/sender.ts';
import { SlackThreads } from '../../../lambdas/alerts/threads.ts';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { alert } from './alert-fixture.ts';

/** A stand-in HTTPS API: answers what each test scripts and records what it was sent. */
interface Scripted {
  status: number;
  body: string;
  headers?: Record<string, string>;
  hang?: boolean;
}
let answers: Scripted[] = [];
const received: { path: string; body: Record<string, unknown> }[] = [];
let server: Server;
let base = '';
let table: Awaited<ReturnType<typeof startStateTable>>;
const sqs = mockClient(SQSClient);
const ROUTING_KEY = 'R0UTINGKEY0123456789abcdefABCDEF';

beforeAll(async () => {
  const ca = await LocalCertificateAuthority.create('sender test CA');
  const cert = await ca.issueServerCertificate();
  // As NODE_EXTRA_CA_CERTS does for a Lambda process (the world's bootstrap does the same for workers).
  globalAgent.options.ca = [...rootCertificates, ca.certificatePem];
  server = createServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
      const next = answers.shift() ?? {
        status: 202,
        body: '{"status":"success","message":"Event processed"}',
      };
      if (next.hang) return; // never answers: the sender's deadline must end it
      res.writeHead(next.status, next.headers).end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  table = await startStateTable();
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await table.stop();
});
beforeEach(() => {
  answers = [];
  received.length = 0;
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

let now = Date.parse('2026-12-01T03:00:00Z');
function deps(kind: 'pagerduty' | 'slack', o: Partial<SenderDeps> = {}): SenderDeps {
  const receiver = `${kind}-${crypto.randomUUID().slice(0, 8)}`;
  const config: SenderRuntimeConfig = {
    auditRetentionDays: 400,
    receiver,
    queueUrl: 'https://sqs/queue',
    deadLetterQueueUrl: 'https://sqs/dlq',
    maxAttempts: 3,
    maxReceives: 1000,
    leaseSeconds: 90,
    channel:
      kind === 'pagerduty'
        ? { kind: 'pagerduty', routingKeyParameter: '/pd', baseUrl: base }
        : { kind: 'slack-webhook', webhookUrlParameter: '/slack' },
  };
  return {
    sqs: new SQSClient({ region: 'eu-west-1' }),
    ledger: new DeliveryLedger(table.documents, table.tableName, receiver),
    pacer: new Pacer(table.documents, table.tableName, receiver),
    secret: async (name) =>
      name === '/pd' ? ROUTING_KEY : `${base}/services/T000/B000/hooksecret0123456789ab`,
    clock: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    config,
    owner: crypto.randomUUID(),
    ...o,
  };
}

let seq = 0;
function record(request: DeliveryRequest, attempt = 1): SQSRecord {
  seq += 1;
  return {
    messageId: `m-${seq}`,
    receiptHandle: `rh-${seq}`,
    body: JSON.stringify(request),
    attributes: {
      ApproximateReceiveCount: String(attempt),
      SentTimestamp: String(now),
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: String(now),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:queue',
    awsRegion: 'eu-west-1',
  };
}
const request = (d: SenderDeps, overrides = {}): DeliveryRequest => {
  const a = alert({ severity: 'critical', ...overrides });
  return { receiver: d.config.receiver, deliveryKey: `${a.key}#${a.status}`, alert: a };
};
const dlq = () => sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);

describe('sendBatch: PagerDuty', () => {
  it('a trigger is sent once with the routing key and dedup key; the same request again sends nothing', async () => {
    const d = deps('pagerduty');
    const r = request(d);
    const first = await sendBatch([record(r), record(r)], d);
    expect(first.outcomes.map((o) => o.outcome)).toEqual(['sent', 'already-sent']);
    expect(first.response.batchItemFailures).toEqual([]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      path: '/v2/enqueue',
      body: { routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: r.alert.key },
    });
    await sendBatch([record(r)], { ...d, owner: 'another-invocation' });
    expect(received).toHaveLength(1);
  });

  it('400 goes to the DLQ with PagerDuty’s message at once (no retry); the claim is released for a replay', async () => {
    const d = deps('pagerduty');
    answers.push({
      status: 400,
      body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'summary\' is incorrect"]}',
    });
    const r = request(d);
    const out = await sendBatch([record(r)], d);
    expect(out.outcomes[0]).toMatchObject({
      outcome: 'dead-lettered',
      reason: expect.stringContaining("Length of 'summary' is incorrect"),
    });
    expect(out.response.batchItemFailures).toEqual([]);
    expect(dlq()[0]).toMatchObject({
      QueueUrl: 'https://sqs/dlq',
      MessageAttributes: {
        failureReason: { StringValue: expect.stringContaining('PagerDuty answered 400') },
      },
    });
    expect(JSON.stringify(dlq())).not.toContain(ROUTING_KEY);
    // The replay after the fix is a fresh delivery.
    expect((await sendBatch([record(r)], d)).outcomes[0]?.outcome).toBe('sent');
  });

  it('429, 5xx and no answer are retried with backoff; after the last attempt the alert goes to the DLQ with the reason', async () => {
    const d = deps('pagerduty');
    const r = request(d);
    answers.push({ status: 429, body: '', headers: { 'retry-after': '60' } });
    const throttled = await sendBatch([record(r, 1)], d);
    expect(throttled.response.batchItemFailures).toEqual([
      { itemIdentifier: throttled.outcomes[0]?.messageId },
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input.VisibilityTimeout).toBe(60);
    answers.push({ status: 503, body: 'unavailable' });
    const down = await sendBatch([record(r, 2)], d);
    expect(down.outcomes[0]).toMatchObject({ outcome: 'retry', reason: 'PagerDuty: 503 unavailable' });
    answers.push({ status: 0, body: '', hang: true });
    const last = await sendBatch([record(r, 3)], d);
    expect(last.outcomes[0]).toMatchObject({
      outcome: 'dead-lettered',
      reason: expect.stringMatching(/no answer within 10000 ms.*gave up after 3 attempts/),
    });
  }, 20_000);
});

describe('sendBatch: PagerDuty notes and change events', () => {
  it("a note is a trigger with the episode's dedup_key and severity; a change event goes to /v2/change/enqueue", async () => {
    const d = deps('pagerduty');
    const a = alert({
      key: 'ecs-rollback#svc#ep#performed',
      severity: 'warning',
      title: 'Rollback Performed: api',
      action: 'rolled back',
    });
    const episode = {
      key: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx@2026-12-01T03:00:00.000+0000',
      severity: 'critical' as const,
    };
    const out = await sendBatch(
      [
        record({
          receiver: d.config.receiver,
          kind: 'episode-note',
          deliveryKey: `${a.key}#note`,
          alert: a,
          episode,
        }),
        record({ receiver: d.config.receiver, kind: 'change', deliveryKey: `${a.key}#change`, alert: a }),
      ],
      d,
    );
    expect(out.outcomes.map((o) => o.outcome)).toEqual(['sent', 'sent']);
    expect(received[0]).toMatchObject({
      path: '/v2/enqueue',
      body: {
        event_action: 'trigger',
        dedup_key: episode.key,
        payload: { severity: 'critical', summary: 'Nightshift: Rollback Performed: api — rolled back' },
      },
    });
    expect(received[1]).toMatchObject({
      path: '/v2/change/enqueue',
      body: { routing_key: ROUTING_KEY, payload: { summary: 'Rollback Performed: api — rolled back' } },
    });
    expect(received[1]?.body).not.toHaveProperty('dedup_key');
  });

  it('a note or change event on a Slack queue goes to the DLQ, naming why', async () => {
    const d = deps('slack');
    const a = alert();
    const out = await sendBatch(
      [record({ receiver: d.config.receiver, kind: 'change', deliveryKey: `${a.key}#change`, alert: a })],
      d,
    );
    expect(out.outcomes[0]?.reason).toContain('a change delivery is for PagerDuty only');
  });
});

describe('sendBatch: Slack webhooks', () => {
  it('200 ok is sent; a 200 with another body is not taken for success; a revoked hook (404) goes to the DLQ', async () => {
    const d = deps('slack');
    answers.push(
      { status: 200, body: 'ok' },
      { status: 200, body: 'something else' },
      { status: 404, body: 'no_service' },
    );
    const out = await sendBatch(
      [record(request(d, { key: 'a' })), record(request(d, { key: 'b' })), record(request(d, { key: 'c' }))],
      d,
    );
    expect(out.outcomes.map((o) => [o.outcome, o.reason])).toEqual([
      ['sent', undefined],
      ['dead-lettered', 'Slack answered 200: something else'],
      ['dead-lettered', 'Slack answered 404: no_service'],
    ]);
    expect(received[0]?.path).toBe('/services/T000/B000/hooksecret0123456789ab');
    expect(JSON.stringify(out)).not.toContain('hooksecret');
    expect(JSON.stringify(dlq())).not.toContain('hooksecret');
  });

  it('messages to one hook are at least a second apart, across two senders', async () => {
    const d = deps('slack');
    const times: number[] = [];
    const at = {
      ...d,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    answers.push(...Array.from({ length: 6 }, () => ({ status: 200, body: 'ok' })));
    const recordTime = server.listeners('request')[0];
    server.prependListener('request', () => times.push(now));
    const a = sendBatch(
      [1, 2, 3].map((i) => record(request(d, { key: `p${i}` }))),
      at,
    );
    const b = sendBatch(
      [4, 5, 6].map((i) => record(request(d, { key: `p${i}` }))),
      { ...at, owner: 'second' },
    );
    await Promise.all([a, b]);
    server.removeAllListeners('request');
    if (recordTime) server.on('request', recordTime as never);
    expect(times).toHaveLength(6);
    const sorted = [...times].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++)
      expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('a malformed or misrouted message goes to the DLQ, naming what is wrong', async () => {
    const d = deps('slack');
    const bad = { ...record(request(d)), body: '{"receiver":"x"}' };
    const other = record({ ...request(d), receiver: 'someone-else' });
    const out = await sendBatch([bad, other], d);
    expect(out.outcomes.map((o) => o.reason)).toEqual([
      expect.stringContaining('malformed delivery request: deliveryKey'),
      `request for receiver someone-else reached ${d.config.receiver}'s queue`,
    ]);
  });
});

describe('sendBatch: Slack Web API answers', () => {
  const TOKEN = 'xoxb-111-222-echoedbacktokenvalue0123';
  const bot = (): SenderDeps => {
    const d = deps('slack');
    return {
      ...d,
      threads: new SlackThreads(table.documents, table.tableName, d.config.receiver),
      secret: async () => TOKEN,
      config: {
        ...d.config,
        channel: {
          kind: 'slack-api',
          botTokenParameter: '/bot',
          channel: 'C0123456789',
          baseUrl: `${base}/api`,
        },
      },
    };
  };

  it('sends with the token as a bearer header; a proxy that echoes it back never puts it in a reason or the DLQ', async () => {
    const d = bot();
    answers.push(
      { status: 502, body: `<html>bad gateway for Authorization: Bearer ${TOKEN}</html>` },
      { status: 200, body: JSON.stringify({ ok: false, error: 'channel_not_found', echo: TOKEN }) },
      { status: 200, body: JSON.stringify({ ok: true, channel: 'C0123456789', ts: '1796284800.000100' }) },
    );
    const out = await sendBatch(
      [
        record(request(d, { key: 'x1' })),
        record(request(d, { key: 'x2' })),
        record(request(d, { key: 'x3' })),
      ],
      d,
    );
    expect(out.outcomes.map((o) => o.outcome)).toEqual(['retry', 'dead-lettered', 'sent']);
    expect(out.outcomes[0]?.reason).toContain('[redacted]');
    expect(out.outcomes[1]?.reason).toBe('Slack chat.postMessage answered 200 channel_not_found');
    expect(received.map((r) => r.path)).toEqual([
      '/api/chat.postMessage',
      '/api/chat.postMessage',
      '/api/chat.postMessage',
    ]);
    expect(JSON.stringify([out, dlq()])).not.toContain(TOKEN);
  });
});
