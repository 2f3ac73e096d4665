/**
 * The adversarial review of the alerts path, kept as regression tests: each `// was FINDING n` is an attack
 * that succeeded before its fix (late OKs, reopened episodes, muted resolves, unbounded Retry-After, secrets
 * echoed in answers, lost DLQ writes, silent SQS dead-lettering, the bus policy of two stacks); the others
 * are attacks that held up.
 */
import { createServer, globalAgent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterRuntimeConfig, SenderRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { DeliveryLedger, Pacer } from '../../../lambdas/alerts/deliveries.ts';
import { type DeliveryRequest, type RouterDeps, routeEvent } from '../../../lambdas/alerts/router.ts';
import { type SenderDeps, sendBatch } from '../../../lambdas/alerts/sender.ts';
import { slackMessage } from '../../../lambdas/alerts/slack-message.ts';
import { DigestStore, EpisodeStore } from '../../../lambdas/alerts/state.ts';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { ACCOUNT, alarmChange, arnOf, episodeOf, REGION, T0 } from './alarm-events.ts';
import { alert } from './alert-fixture.ts';

const sqs = mockClient(SQSClient);
const ssm = mockClient(SSMClient);
const cw = mockClient(CloudWatchClient);

interface Scripted {
  status: number;
  body: string;
  headers?: Record<string, string>;
}
let answers: Scripted[] = [];
const received: { path: string; body: Record<string, unknown> }[] = [];
let server: Server;
let base = '';
let table: Awaited<ReturnType<typeof startStateTable>>;

beforeAll(async () => {
  const ca = await LocalCertificateAuthority.create('attack test CA');
  const cert = await ca.issueServerCertificate();
  globalAgent.options.ca = [...rootCertificates, ca.certificatePem];
  server = createServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
      const next = answers.shift() ?? { status: 200, body: 'ok' };
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
  ssm.reset();
  cw.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
});

// ---------------------------------------------------------------------------------------------------------
// Router harness (as router.test.ts)

const routerConfig: RouterRuntimeConfig = {
  auditRetentionDays: 400,
  receivers: {
    pagerduty: { kind: 'pagerduty', queueUrl: 'https://sqs/q-pagerduty' },
    slack: { kind: 'slack', queueUrl: 'https://sqs/q-slack' },
  },
  routes: [],
  severity: { tagKey: 'severity', fromName: true, alarms: [], default: 'warning' },
  silences: [],
  silencesParameter: '/nightshift/silences',
  insufficientData: 'ignore',
  services: [{ prefix: 'api-', service: 'api' }],
  ownAlarms: [],
};

function routerDeps(o: Partial<RouterDeps> = {}): RouterDeps {
  return {
    sqs: new SQSClient({ region: REGION }),
    ssm: new SSMClient({ region: REGION }),
    cloudwatch: new CloudWatchClient({ region: REGION }),
    episodes: new EpisodeStore(table.documents, table.tableName),
    digest: new DigestStore(table.documents, table.tableName),
    clock: () => T0 + 60_000,
    config: routerConfig,
    origin: { account: ACCOUNT, region: REGION },
    bounds: { maxAgeMs: 3 * 3600_000, maxSkewMs: 300_000 },
    ...o,
  };
}
const queued = () =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((c) => JSON.parse(c.args[0].input.MessageBody ?? '{}') as DeliveryRequest);
const episodes = () => new EpisodeStore(table.documents, table.tableName);
const MIN = 60_000;

describe('attack: out-of-order and duplicate alarm deliveries', () => {
  it('a late OK of an episode that a newer ALARM superseded must not resolve the newer episode', async () => {
    const name = 'late-ok-critical';
    await routeEvent(alarmChange(name), routerDeps());
    // E2 enters ALARM at +20 min; the OK at +10 min in between has not arrived yet.
    await routeEvent(
      alarmChange(name, { at: T0 + 20 * MIN, previous: { value: 'OK', at: T0 + 10 * MIN } }),
      routerDeps({ clock: () => T0 + 21 * MIN }),
    );
    expect((await episodes().open(arnOf(name)))?.key).toBe(episodeOf(name, T0 + 20 * MIN));
    sqs.resetHistory();
    // Now the lost OK of +10 min (previous: ALARM at T0, i.e. episode E1) is delivered late.
    const lateOk = alarmChange(name, {
      value: 'OK',
      at: T0 + 10 * MIN,
      previous: { value: 'ALARM', at: T0 },
    });
    await routeEvent(lateOk, routerDeps({ clock: () => T0 + 22 * MIN }));
    // was FINDING 1: the OK of E1 resolves E2 (the alarm is in ALARM) and closes it: the incident is gone.
    expect(queued().map((q) => q.deliveryKey)).not.toContain(`${episodeOf(name, T0 + 20 * MIN)}#resolved`);
    expect((await episodes().open(arnOf(name)))?.key).toBe(episodeOf(name, T0 + 20 * MIN));
  });

  it('an ALARM delivered after its own OK must not open (page) an episode that is already over', async () => {
    const name = 'ooo-critical';
    // The OK (previous: ALARM at T0) arrives first: the resolve of episode arn@T0 is queued.
    await routeEvent(
      alarmChange(name, { value: 'OK', at: T0 + MIN, previous: { value: 'ALARM', at: T0 } }),
      routerDeps({ clock: () => T0 + 2 * MIN }),
    );
    expect(queued().map((q) => q.deliveryKey)).toEqual([
      `${episodeOf(name)}#resolved`,
      `${episodeOf(name)}#resolved`,
    ]);
    sqs.resetHistory();
    // Then the ALARM of T0 itself (EventBridge does not order deliveries).
    const r = await routeEvent(alarmChange(name), routerDeps({ clock: () => T0 + 3 * MIN }));
    // What the reconciler would later send to close it is the same delivery key the early OK used, which
    // the senders' ledger already holds as sent: the trigger is new, its resolve can never be sent again.
    const pd = new DeliveryLedger(table.documents, table.tableName, 'pagerduty-ooo');
    await pd.claim(`${episodeOf(name)}#resolved`, 's1', T0, 90_000);
    await pd.markSent(`${episodeOf(name)}#resolved`, 's1', T0, 'pagerduty resolve');
    expect(await pd.claim(`${episodeOf(name)}#firing`, 's2', T0 + 3 * MIN, 90_000)).toMatchObject({
      kind: 'claimed',
    });
    expect(await pd.claim(`${episodeOf(name)}#resolved`, 's3', T0 + 8 * MIN, 90_000)).toMatchObject({
      kind: 'sent',
    });
    // was FINDING 2: the late ALARM is routed (a new page, firing after its resolve) and reopens the episode.
    expect(r).toMatchObject({ outcome: 'ignored' });
  });

  it('a duplicate ALARM after the OK must not reopen the episode (a rollback note would open a new incident)', async () => {
    const name = 'dup-critical';
    await routeEvent(alarmChange(name), routerDeps());
    await routeEvent(
      alarmChange(name, { value: 'OK', at: T0 + MIN, previous: { value: 'ALARM', at: T0 } }),
      routerDeps({ clock: () => T0 + 2 * MIN }),
    );
    expect(await episodes().open(arnOf(name))).toBeUndefined();
    // EventBridge delivers at least once: the ALARM again.
    await routeEvent(alarmChange(name), routerDeps({ clock: () => T0 + 3 * MIN }));
    sqs.resetHistory();
    await routeEvent(
      {
        version: '0',
        id: crypto.randomUUID(),
        source: 'nightshift',
        'detail-type': 'Rollback Performed',
        account: ACCOUNT,
        region: REGION,
        time: new Date(T0 + 3 * MIN).toISOString(),
        resources: [],
        detail: {
          severity: 'warning',
          eventKey: `ecs-rollback#svc#${episodeOf(name)}#performed`,
          service: 'api',
          episode: episodeOf(name),
        },
      },
      routerDeps({ clock: () => T0 + 4 * MIN }),
    );
    // was FINDING 2: the episode was reopened, so a note (a PagerDuty trigger on the resolved dedup_key, i.e. a
    // new incident whose resolve is already spent) is queued.
    expect(queued().map((q) => q.kind)).not.toContain('episode-note');
  });

  it('held: 100 concurrent deliveries of two different episodes converge on one open episode', async () => {
    const name = 'race-critical';
    const e1 = alarmChange(name);
    const e2 = alarmChange(name, { at: T0 + 2 * MIN, previous: { value: 'OK', at: T0 + MIN } });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        routeEvent(i % 2 ? e1 : e2, routerDeps({ clock: () => T0 + 3 * MIN })).catch((e: Error) => e),
      ),
    );
    const open = await episodes().open(arnOf(name));
    expect([episodeOf(name), episodeOf(name, T0 + 2 * MIN)]).toContain(open?.key);
  });
});

describe('attack: forged and malformed events', () => {
  const nightshift = (detail: Record<string, unknown>, o: Record<string, unknown> = {}) => ({
    version: '0',
    id: crypto.randomUUID(),
    source: 'nightshift',
    'detail-type': 'Restore Verification Failed',
    account: ACCOUNT,
    region: REGION,
    time: new Date(T0).toISOString(),
    resources: [],
    detail,
    ...o,
  });

  it('held: wrong account/Region, ARN not matching the name, odd detail types, 1,025-char keys are refused', async () => {
    const wrongRegion = { ...alarmChange('x-critical'), region: 'us-east-1' };
    await expect(routeEvent(wrongRegion, routerDeps())).rejects.toThrow(/region|ARN/);
    const otherArn = {
      ...alarmChange('x-critical'),
      resources: [arnOf('someone-elses-alarm')],
    };
    await expect(routeEvent(otherArn, routerDeps())).rejects.toThrow(/resources\.0/);
    const prefixed = { ...alarmChange('x-critical'), resources: [`evil${arnOf('x-critical')}`] };
    await expect(routeEvent(prefixed, routerDeps())).rejects.toThrow(/resources\.0/);
    await expect(
      routeEvent(nightshift({ severity: 'critical', eventKey: 'k', reason: 42 }), routerDeps()),
    ).rejects.toThrow(/detail\.reason/);
    await expect(
      routeEvent(nightshift({ severity: 'critical', eventKey: 'k'.repeat(1025) }), routerDeps()),
    ).rejects.toThrow(/detail\.eventKey/);
    await expect(routeEvent(nightshift({ severity: 'PAGE', eventKey: 'k' }), routerDeps())).rejects.toThrow(
      /detail\.severity/,
    );
    expect(queued()).toEqual([]);
  });

  it('held: a 1,024-character eventKey routes, and its PagerDuty dedup_key is hashed', async () => {
    const r = await routeEvent(
      nightshift({ severity: 'critical', eventKey: 'k'.repeat(1024), reason: 'x' }),
      routerDeps(),
    );
    expect(r).toMatchObject({ outcome: 'routed', receivers: ['pagerduty', 'slack'] });
    expect(queued()[0]?.deliveryKey).toHaveLength(1024 + '#firing'.length);
  });

  it('a nightshift event with a huge detail field *name* makes a bounded alert', async () => {
    const r = await routeEvent(
      nightshift({ severity: 'warning', eventKey: 'huge-key', reason: 'r', ['k'.repeat(200_000)]: 'v' }),
      routerDeps(),
    );
    expect(r).toMatchObject({ outcome: 'routed' });
    // was FINDING 12: detail keys are copied into the reason unbounded (values are cut to 300, keys are not):
    // the reason, the SQS message, the digest item and PagerDuty's custom_details carry 200 kB.
    expect(queued()[0]?.alert.reason.length).toBeLessThan(20_000);
  });
});

describe('attack: the reconciler', () => {
  const tick = (at: number) => ({
    version: '0',
    id: 'tick',
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    account: ACCOUNT,
    region: REGION,
    time: new Date(at).toISOString(),
    resources: [],
    detail: {},
  });

  it('held: a composite alarm in ALARM on the second page of DescribeAlarms keeps its episode', async () => {
    const name = 'rec-composite-critical';
    await routeEvent(alarmChange(name), routerDeps());
    sqs.resetHistory();
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [], NextToken: 'p2' })
      .resolves({
        CompositeAlarms: [
          {
            AlarmName: name,
            AlarmArn: arnOf(name),
            StateValue: 'ALARM',
            StateTransitionedTimestamp: new Date(T0),
          },
        ],
      });
    await routeEvent(tick(T0 + 5 * MIN), routerDeps({ clock: () => T0 + 5 * MIN }));
    expect(queued().filter((q) => q.deliveryKey.includes(name))).toEqual([]);
    expect((await episodes().open(arnOf(name)))?.key).toBe(episodeOf(name));
    const inputs = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(inputs[0]?.AlarmTypes).toEqual(['CompositeAlarm', 'MetricAlarm']);
    expect(inputs[1]?.NextToken).toBe('p2');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Slack and PagerDuty messages

describe('attack: mrkdwn injection', () => {
  it('held: an alarm name or reason with <!channel> and <https://evil|click> is escaped in the blocks', () => {
    const m = slackMessage(
      alert({
        title: '<!channel> api is in ALARM',
        reason: '<!here> see <https://evil.example|click here>',
        service: '<!channel>',
        notes: ['<https://evil.example|note>'],
        action: '<!subteam^S1>',
      }),
    );
    const blocks = JSON.stringify(m.blocks.slice(1));
    expect(blocks).not.toMatch(/<!|<https/);
  });

  it('the fallback text (what notifications show) is escaped too', () => {
    const m = slackMessage(
      alert({ title: '<!channel> api is in ALARM', reason: '<https://evil.example|click here>' }),
    );
    // was FINDING 8: the top-level `text` carries title and first reason line unescaped.
    expect(m.text).not.toMatch(/<!channel>|<https:\/\/evil/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Sender harness (as sender.test.ts)

let now = Date.parse('2026-12-01T03:00:00Z');
const HOOK_PATH = '/services/T000/B000/hooksecret0123456789ab';
function senderDeps(kind: 'pagerduty' | 'slack', o: Partial<SenderDeps> = {}): SenderDeps {
  const receiver = `${kind}-${crypto.randomUUID().slice(0, 8)}`;
  const config: SenderRuntimeConfig = {
    auditRetentionDays: 400,
    receiver,
    queueUrl: 'https://sqs/queue',
    deadLetterQueueUrl: 'https://sqs/dlq',
    maxAttempts: 8,
    maxReceives: 100,
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
    secret: async (name) => (name === '/pd' ? 'R0UTINGKEY' : `${base}${HOOK_PATH}`),
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

describe('attack: secrets in reasons', () => {
  it('an answer that echoes the request path (a proxy error page) must not put the webhook into the DLQ or logs', async () => {
    const d = senderDeps('slack');
    answers.push({ status: 404, body: `<html>Not Found: POST ${HOOK_PATH}</html>` });
    const out = await sendBatch([record(request(d, { key: 'echo-404' }))], d);
    answers.push({ status: 502, body: `Bad gateway for https://hooks.slack.com${HOOK_PATH}` });
    const out2 = await sendBatch([record(request(d, { key: 'echo-502' }))], d);
    // was FINDING 7: `said(answer)` copies the body verbatim into failureReason (DLQ) and the logged outcomes.
    expect(JSON.stringify([out, out2, dlq()])).not.toContain('hooksecret');
  });

  it('held: a refused routing key and a timeout do not leak the key', async () => {
    const d = senderDeps('pagerduty');
    answers.push({ status: 400, body: '{"status":"invalid event","message":"Event object is invalid"}' });
    const out = await sendBatch([record(request(d, { key: 'pd-400' }))], d);
    expect(out.outcomes[0]?.outcome).toBe('dead-lettered');
    expect(JSON.stringify([out, dlq()])).not.toContain('R0UTINGKEY');
  });
});

describe('attack: faults in the sender', () => {
  it('the DLQ SendMessage failing must not throw the whole batch away after the record was forgotten', async () => {
    const d = senderDeps('slack');
    sqs
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    answers.push({ status: 404, body: 'no_service' }, { status: 200, body: 'ok' });
    const batch = [record(request(d, { key: 'dlq-fails-1' })), record(request(d, { key: 'dlq-fails-2' }))];
    // was FINDING 10: sendBatch rejects: the second message is never tried, no batchItemFailures are reported
    // (SQS retries the whole batch), and the first one's ledger record is already deleted.
    await expect(sendBatch(batch, d)).resolves.toBeDefined();
  });

  it('a secret that cannot be read is counted: after maxAttempts the alert goes to the DLQ with the reason', async () => {
    const d = senderDeps('slack', {
      secret: async () => {
        throw Object.assign(new Error('User is not authorized to perform ssm:GetParameter'), {
          name: 'AccessDeniedException',
        });
      },
    });
    const r = request(d, { key: 'secret-denied' });
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 12; attempt++) {
      now += 60_000;
      const out = await sendBatch([record(r, attempt)], d);
      outcomes.push(out.outcomes[0]?.outcome ?? '');
    }
    // was FINDING 11: a thrown send is released as "not an attempt": it cycles every 30 s until SQS's own
    // maxReceiveCount (100, ~50 min) moves it to the DLQ with no failureReason.
    expect(outcomes).toContain('dead-lettered');
  });

  it('a Slack message paced over and over is parked by the sender with its reason before SQS would move it silently', async () => {
    const d = senderDeps('slack');
    const r = request(d, { key: 'paced-forever' });
    const herd = [1, 2, 3, 4, 5].map((i) => record(request(d, { key: `herd-${i}` })));
    // A 429 (or another sender) holds the hook 10 s ahead: every message received meanwhile is paced…
    await d.pacer.holdUntil(now + 10_000, now);
    // …to the same instant (no slot is reserved: a known limit, see the README), each receive counted by SQS.
    await sendBatch(herd, d);
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 101; attempt++) {
      await d.pacer.holdUntil(now + 5_000, now);
      outcomes.push((await sendBatch([record(r, attempt)], d)).outcomes[0]?.outcome ?? '');
    }
    // Before SQS would move it silently at maxReceives, the sender parks it with a reason.
    expect(outcomes.indexOf('dead-lettered')).toBe(98);
  });

  it('a 429 with an absurd Retry-After must not hold every Slack alert of the receiver for a month', async () => {
    const d = senderDeps('slack');
    answers.push({ status: 429, body: '', headers: { 'retry-after': String(30 * 86_400) } });
    await sendBatch([record(request(d, { key: 'ra-1' }))], d);
    const next = await sendBatch([record(request(d, { key: 'ra-2' }))], d);
    const seconds = Number(/next slot in (\d+) s/.exec(next.outcomes[0]?.reason ?? '')?.[1] ?? 0);
    // was FINDING 5: Retry-After is not capped: pacer nextAt = now + 30 days for every sender of the hook.
    expect(seconds).toBeLessThanOrEqual(900);
  });

  it('held: a 200 that is not `ok` is not taken for sent; a duplicate after "sent" sends nothing', async () => {
    const d = senderDeps('slack');
    answers.push({ status: 200, body: 'invalid_payload' });
    const r = request(d, { key: 'not-ok' });
    const out = await sendBatch([record(r)], d);
    expect(out.outcomes[0]?.outcome).toBe('dead-lettered');
    now += 5_000;
    const again = await sendBatch([record(r), record(r)], { ...d, owner: 'other' });
    expect(again.outcomes.map((o) => o.outcome)).toEqual(['sent', 'already-sent']);
  });

  it('held: a crash between send and mark: the claim is taken over only after the lease', async () => {
    const d = senderDeps('pagerduty');
    const key = 'crash#firing';
    expect(await d.ledger.claim(key, 'crashed', now, 90_000)).toMatchObject({ kind: 'claimed' });
    expect(await d.ledger.claim(key, 'next', now + 89_000, 90_000)).toMatchObject({ kind: 'busy' });
    expect(await d.ledger.claim(key, 'next', now + 91_000, 90_000)).toMatchObject({ kind: 'claimed' });
    // the crashed sender's late mark does not count as the taker's
    await d.ledger.markSent(key, 'crashed', now + 92_000, 'late');
    expect(await d.ledger.claim(key, 'third', now + 200_000, 90_000)).toMatchObject({ kind: 'claimed' });
  });
});

describe('attack: resolutions that never reach the incident', () => {
  const tick = (at: number) => ({
    version: '0',
    id: 'tick',
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    account: ACCOUNT,
    region: REGION,
    time: new Date(at).toISOString(),
    resources: [],
    detail: {},
  });

  it('a silence that starts during an episode must not swallow its resolve (the page was already sent)', async () => {
    const name = 'api-silenced-later-critical';
    const r = await routeEvent(alarmChange(name), routerDeps());
    expect(r).toMatchObject({ receivers: ['pagerduty', 'slack'] });
    // The on-call opens a maintenance silence for api while the incident is open.
    ssm.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify([
          {
            comment: 'maintenance of api, pages included',
            matchers: { service: ['api'], severity: ['critical', 'warning'] },
            startsAt: new Date(T0 + MIN).toISOString(),
            endsAt: new Date(T0 + 3 * 3600_000).toISOString(),
          },
        ]),
      },
    });
    sqs.resetHistory();
    await routeEvent(
      alarmChange(name, { value: 'OK', at: T0 + 5 * MIN, previous: { value: 'ALARM', at: T0 } }),
      routerDeps({ clock: () => T0 + 6 * MIN }),
    );
    // was FINDING 4: the resolve is muted and the episode closed: PagerDuty's incident stays open for good
    // (the episode's recorded `receivers` are not used for its resolve; same for the reconciler).
    expect(queued().map((q) => [q.receiver, q.deliveryKey])).toContainEqual([
      'pagerduty',
      `${episodeOf(name)}#resolved`,
    ]);
  });

  it('the reconciler must not resolve an episode on an OK older than the episode (a stale or lagging read)', async () => {
    const name = 'rec-stale-critical';
    await routeEvent(alarmChange(name), routerDeps());
    sqs.resetHistory();
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: name,
          AlarmArn: arnOf(name),
          StateValue: 'OK',
          // CloudWatch's record says OK since an hour *before* the episode's ALARM.
          StateTransitionedTimestamp: new Date(T0 - 3600_000),
        },
      ],
    });
    await routeEvent(tick(T0 + 2 * MIN), routerDeps({ clock: () => T0 + 2 * MIN }));
    // was FINDING 9: resolved anyway ("OK since 02:00", before the 03:00 ALARM): transitionedAt is not
    // compared with the episode's start.
    expect(queued().filter((q) => q.deliveryKey.includes(name))).toEqual([]);
  });
});

describe('attack: the bus policy', () => {
  it('two Nightshift stacks on one account’s default bus each still publish: both exempt every Nightshift role', async () => {
    const { App, Stack } = await import('aws-cdk-lib');
    const { Template } = await import('aws-cdk-lib/assertions');
    const events = await import('aws-cdk-lib/aws-events');
    const { NIGHTSHIFT_ROLE_PATH, restrictNightshiftSource } = await import('../../../lib/bus-policy.ts');
    const env = { account: ACCOUNT, region: REGION };
    const exemptions = ['NightshiftStaging', 'NightshiftProd'].map((name) => {
      const stack = new Stack(new App(), name, { env });
      restrictNightshiftSource(stack, events.EventBus.fromEventBusName(stack, 'Bus', 'default'));
      const [policy] = Object.values(
        Template.fromStack(stack).findResources('AWS::Events::EventBusPolicy'),
      ) as {
        Properties: { Statement: { Condition: { ArnNotLike: unknown } } };
      }[];
      return JSON.stringify(policy?.Properties.Statement.Condition.ArnNotLike);
    });
    // Explicit denies add up; both statements exempt the same path, so neither locks the other stack out.
    expect(exemptions[0]).toBe(exemptions[1]);
    expect(exemptions[0]).toContain(`role${NIGHTSHIFT_ROLE_PATH}*`);
  });
});

describe('attack: faults in the router', () => {
  it('held: SendMessage failing after one receiver was queued fails the event; the retry converges', async () => {
    const name = 'half-queued-critical';
    sqs
      .on(SendMessageCommand)
      .resolvesOnce({ MessageId: '1' })
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(routeEvent(alarmChange(name), routerDeps())).rejects.toThrow('throttled');
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const r = await routeEvent(alarmChange(name), routerDeps());
    expect(r).toMatchObject({ outcome: 'routed', key: episodeOf(name), receivers: ['pagerduty', 'slack'] });
    expect((await episodes().open(arnOf(name)))?.receivers).toEqual(['pagerduty', 'slack']);
  });

  it('held: DynamoDB failing on close leaves the episode open (no failure reads as handled)', async () => {
    const name = 'close-fails-critical';
    await routeEvent(alarmChange(name), routerDeps());
    const failing = new EpisodeStore(table.documents, table.tableName);
    failing.close = async () => {
      throw Object.assign(new Error('throughput exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
    };
    await expect(
      routeEvent(
        alarmChange(name, { value: 'OK', at: T0 + MIN, previous: { value: 'ALARM', at: T0 } }),
        routerDeps({ episodes: failing, clock: () => T0 + 2 * MIN }),
      ),
    ).rejects.toThrow('throughput');
    expect((await episodes().open(arnOf(name)))?.key).toBe(episodeOf(name));
  });
});
