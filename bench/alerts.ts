/**
 * Alerts in the local world: router and sender overhead per alert, invocations per alert, and what a month
 * of 200 alerts a day would cost; then 500 alerts with the sink failing 30 % of requests (500, 429 with
 * Retry-After, timeouts): each delivered or in a DLQ with its reason, no page twice, never more than one
 * Slack message per second per hook.
 *
 * Run: `npm run bench` (appends to bench/results.md).
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { LocalCertificateAuthority } from '../local/postgres/tls.ts';
import { drainAlerts } from '../local/sandbox/alerts-story.ts';
import { exampleAlerts, exampleAppConfig } from '../local/sandbox/example-config.ts';
import { synthesize } from '../local/sandbox/synth.ts';
import { AlertSink } from '../local/sink/sink.ts';
import { LocalWorld } from '../local/world/world.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const START = Date.parse('2026-12-01T00:00:00Z');
const work = mkdtempSync(join(tmpdir(), 'nightshift-alerts-bench-'));
const ca = await LocalCertificateAuthority.create('Nightshift alerts bench CA');
const caFile = join(work, 'ca.pem');
writeFileSync(caFile, ca.certificatePem);
let live: (() => number) | undefined;
const sink = await AlertSink.start({ ca, now: () => live?.() ?? START });
mkdirSync(join(work, 'cdk.out'), { recursive: true });
const alerts = exampleAlerts(sink.url);
const { stackName } = synthesize(join(work, 'cdk.out'), {
  ...exampleAppConfig,
  ecsRollback: exampleAppConfig.ecsRollback ? { ...exampleAppConfig.ecsRollback, enabled: false } : undefined,
  alerts: {
    ...alerts,
    alarms: [{ prefix: 'bench-' }],
    // Pages go to PagerDuty; only the chat team's alarms go to Slack as well (a Slack storm is issue 9's).
    routes: [
      { match: { alarmPrefix: ['bench-chat-'] }, receivers: ['pagerduty', 'slack'] },
      { match: { severity: ['critical'] }, receivers: ['pagerduty'] },
    ],
  },
});
const world = await LocalWorld.start({
  cloudAssemblyDir: join(work, 'cdk.out'),
  account: '123456789012',
  region: 'eu-west-1',
  stackName,
  start: START,
  extraCaBundle: caFile,
});
live = () => world.clock.liveNow();
const ssm = new SSMClient(world.operatorConfig());
const webhook = sink.slack.createWebhook({ channel: '#bench' });
const routingKey = sink.pagerduty.createIntegration({ service: 'bench' });
for (const [Name, Value] of [
  ['/nightshift/alerts/slack-webhook', webhook],
  ['/nightshift/alerts/pagerduty-routing-key', routingKey],
] as const) {
  await ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite: true }));
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const isRouter = (f: string) => f.includes('AlertRoutingRouter');

/** Fires `n` alarms named `<prefix><i>-critical`, a few at a time, and lets the senders finish. */
async function fire(prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const name = `${prefix}${String(i).padStart(3, '0')}-critical`;
    world.cloudwatch.putAlarm(name);
    world.cloudwatch.setState(name, 'ALARM', 'Threshold Crossed: bench');
    if (i % 20 === 19) await world.settle();
  }
  await drainAlerts(world, 60 * 60_000);
}

// 1. Overhead: 200 alerts, no faults (one day's worth at the figure the cost is estimated for).
const sinkRtt: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await new Promise<void>((resolve) => {
    const req = request(`${sink.url}/v2/enqueue`, { method: 'POST', ca: ca.certificatePem }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.end('{}');
  });
  sinkRtt.push(performance.now() - t);
}
const before = { rule: world.deliveries.length, sqs: world.sqsDeliveries.length };
await fire('bench-calm-', 200);
const routerRuns = world.deliveries.slice(before.rule).filter((d) => isRouter(d.function));
const senderRuns = world.sqsDeliveries.slice(before.sqs);
const routerMs = routerRuns.map((d) => d.result.durationMs);
const perMessageMs = senderRuns.flatMap((d) =>
  d.messageIds.map(() => d.result.durationMs / d.messageIds.length),
);
const sinkMs = quantile(sinkRtt, 0.5);
const routerInvocations = routerRuns.length / 200;
const senderInvocations = senderRuns.length / 200;
// Monthly cost at 200 alerts a day (us-east-1 list prices): Lambda arm64 $0.0000133334 per GB-s and $0.20 per
// million requests, 256 MB; SQS $0.40 per million requests (send, receive, delete per message, plus the event
// source's empty long polls: ~3 a minute per poller, 5 pollers per queue); DynamoDB on demand $0.625 per
// million writes and $0.125 per million reads (router ~4 writes, 3 reads; sender ~3 writes, 1 read per message).
const perMonth = 200 * 30;
const gbSeconds = (ms: number) => (ms / 1000) * 0.25;
const lambda =
  perMonth *
  (routerInvocations * (0.2e-6 + gbSeconds(quantile(routerMs, 0.5)) * 0.0000133334) +
    senderInvocations * (0.2e-6 + gbSeconds(quantile(perMessageMs, 0.5) * 1.5) * 0.0000133334));
const messagesPerAlert = senderRuns.reduce((n, d) => n + d.messageIds.length, 0) / 200;
const sqs = perMonth * messagesPerAlert * 3 * 0.4e-6 + 2 * 5 * 3 * 60 * 24 * 30 * 0.4e-6;
const dynamo =
  perMonth * (4 + 3 * messagesPerAlert) * 0.625e-6 + perMonth * (3 + messagesPerAlert) * 0.125e-6;

// 2. 500 alerts with about 30 % of the sink's requests failing: 500s, 429s with Retry-After, timeouts.
// A timed-out request costs a sender its real 10-second deadline, so they are the smaller share of the mix.
sink.inject({ service: 'pagerduty', kind: 'status', status: 500, probability: 0.14 });
sink.inject({ service: 'pagerduty', kind: 'status', status: 429, retryAfterSeconds: 5, probability: 0.14 });
sink.inject({ service: 'pagerduty', kind: 'timeout', probability: 0.02 });
sink.inject({ service: 'slack-webhook', kind: 'status', status: 500, probability: 0.14 });
sink.inject({
  service: 'slack-webhook',
  kind: 'status',
  status: 429,
  retryAfterSeconds: 2,
  probability: 0.14,
});
sink.inject({ service: 'slack-webhook', kind: 'timeout', probability: 0.02 });
const t0 = performance.now();
const v0 = world.clock.now();
const storm = sink.requests.length;
for (let i = 0; i < 500; i += 50) {
  await fire(`bench-storm-${i / 50}-`, 45);
  await fire(`bench-chat-${i / 50}-`, 5);
}
sink.clearFaults();
await drainAlerts(world, 60 * 60_000);
const faulted = sink.requests.slice(storm);
const failedShare =
  faulted.filter((r) => r.status !== 202 && r.status !== 200).length / Math.max(1, faulted.length);
const incidents = sink.pagerduty
  .alerts('bench')
  .filter((a) => a.log[0]?.summary?.includes('bench-storm') || a.log[0]?.summary?.includes('bench-chat'));
const keys = incidents.map((a) => a.dedupKey);
const parked = world.app.queues
  .filter((q) => q.logicalId.includes('DeadLetters') && q.logicalId.includes('Receiver'))
  .flatMap((q) => world.sqs.queue(q.arn)?.peek() ?? []);
const withReason = parked.filter((m) => m.attributes.failureReason?.StringValue).length;
const slackPosted = sink.slack.messages('#bench').filter((m) => m.text.includes('bench-chat')).length;
const pagesOk = incidents.length + parked.filter((m) => m.body.includes('"receiver":"pagerduty"')).length;

const table = [
  '\n## Alerts: overhead and 500 alerts with 30 % of requests failing',
  '',
  '| router per alert p50 / p99 | sender per message p50 / p99 | sink round trip (excluded) | invocations per alert (router + sender) | est. monthly cost at 200 alerts/day |',
  '| --- | --- | --- | --- | --- |',
  `| ${quantile(routerMs, 0.5).toFixed(1)} / ${quantile(routerMs, 0.99).toFixed(1)} ms | ${Math.max(0, quantile(perMessageMs, 0.5) - sinkMs).toFixed(1)} / ${Math.max(0, quantile(perMessageMs, 0.99) - sinkMs).toFixed(1)} ms | ${sinkMs.toFixed(1)} ms | ${routerInvocations.toFixed(2)} + ${senderInvocations.toFixed(2)} | Lambda $${lambda.toFixed(3)} + SQS $${sqs.toFixed(3)} + DynamoDB $${dynamo.toFixed(3)} = $${(lambda + sqs + dynamo).toFixed(2)} |`,
  '',
  '| alerts | sink requests failed | pages (unique dedup keys / alerts) | delivered or parked with a reason | Slack posts (chat alarms: 50) | max Slack messages in 1 s | virtual time | wall time |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  `| 500 | ${(failedShare * 100).toFixed(0)} % of ${faulted.length} | ${new Set(keys).size} / ${keys.length} | ${pagesOk} of 500 pages (${parked.length} parked, ${withReason} with reason) | ${slackPosted} | ${sink.maxPerSecond('#bench')} | ${((world.clock.now() - v0) / 60_000).toFixed(1)} min | ${((performance.now() - t0) / 1000).toFixed(1)} s |`,
  '',
  "Router and sender figures are local-world invocation durations (this machine, warm environments), the sender per message with the sink round trip taken off; Lambda on arm64 will differ. Cost uses us-east-1 list prices and counts the event source mappings' empty long polls (about $0.26 a month per queue), which dominate at this volume.",
].join('\n');
process.stdout.write(`${table}\n`);
appendFileSync(join(root, 'bench', 'results.md'), `${table}\n`);
await world.close();
await sink.close();
process.exit(0);
