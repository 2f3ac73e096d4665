/**
 * Config rollback: one episode in the local world, as in the sandbox's story. `api` reads
 * `WEBHOOK_TIMEOUT_MS` at start; the value is known-good for 3 days, then set to 1 and `api` redeployed; 10
 * minutes later its alarm fires. Measured from the alarm to a settled world: the wall time, the ECS rollback
 * function's invocations (cold or warm, their durations), the AWS calls the functions made by service and
 * operation, and what was done (one write-back, one label, one force-new deployment, no task-definition
 * rollback). ECS, SSM and CloudWatch answer at 10 ms a call, as a nearby Region would.
 *
 * Run: `npm run bench` (appends to bench/results.md), or alone: `npx tsx bench/config-rollback.ts`.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetParameterHistoryCommand } from '@aws-sdk/client-ssm';
import { exampleAppConfig } from '../local/sandbox/example-config.ts';
import { synthesize } from '../local/sandbox/synth.ts';
import { WEBHOOK_TIMEOUT, WebhooksApp } from '../local/sandbox/webhooks-app.ts';
import { LocalWorld } from '../local/world/world.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const LATENCY_MS = 10;
const root = fileURLToPath(new URL('..', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'nightshift-bench-config-rollback-'));
const { config, stackName } = synthesize(dir, exampleAppConfig);
const world = await LocalWorld.start({
  cloudAssemblyDir: dir,
  account: config.account ?? '123456789012',
  region: config.region ?? 'eu-west-1',
  stackName,
  start: Date.parse('2026-11-16T08:00:00Z'),
});
const app = new WebhooksApp(world, config);
const { api } = app;
const [alarm = ''] = app.alarmsOf(api);
await app.install();
await world.advance(3 * DAY);
const bad = await app.putConfig(WEBHOOK_TIMEOUT.parameter, '1');
await app.redeploy(api);
await world.advance(16 * MIN);
for (const service of ['ecs', 'ssm', 'monitoring'])
  world.endpoint.limits.set(service, { latencyMs: LATENCY_MS });

const operatorKey = world.operatorConfig().credentials.accessKeyId;
const callsBefore = world.endpoint.calls.length;
const deliveriesBefore = world.deliveries.length;
const eventsBefore = world.events.published.length;
const updatesBefore = world.ecs.updates.length;
const started = performance.now();
await app.setAlarm(alarm, 'ALARM', 'Threshold Crossed: webhook success rate 3.1% < 95%');
await world.settle();
const wallMs = performance.now() - started;

const calls = world.endpoint.calls.slice(callsBefore).filter((c) => c.caller !== operatorKey);
const runs = world.deliveries.slice(deliveriesBefore).filter((d) => d.function.includes('EcsRollback'));
const published = world.events.published.slice(eventsBefore).map((e) => String(e['detail-type']));
const updates = world.ecs.updates.slice(updatesBefore).filter((u) => u.caller.includes(':assumed-role/'));
const history =
  (await app.ssm.send(new GetParameterHistoryCommand({ Name: WEBHOOK_TIMEOUT.parameter, MaxResults: 50 })))
    .Parameters ?? [];
const latest = history.at(-1);
await world.close();
rmSync(dir, { recursive: true, force: true });

const byService = new Map<string, Map<string, number>>();
for (const c of calls) {
  const ops = byService.get(c.service) ?? new Map<string, number>();
  ops.set(c.operation, (ops.get(c.operation) ?? 0) + 1);
  byService.set(c.service, ops);
}
const total = (ops?: Map<string, number>) => [...(ops?.values() ?? [])].reduce((a, b) => a + b, 0);
const restored = latest?.Value === WEBHOOK_TIMEOUT.good && (latest.Version ?? 0) > bad;
const rolledBack = published.filter((t) => t === 'Config Rolled Back').length;
const ecsActed = published.filter((t) => t === 'Rollback Performed').length;
const forced = updates.filter((u) => u.force && u.taskDefinition === undefined).length;
const invocations = runs.map(
  (r) =>
    `${String(r.event['detail-type'])} ${(r.result.durationMs / 1000).toFixed(2)} s${r.result.coldStart ? ' (cold)' : ''}`,
);
const failed = runs.filter((r) => !r.result.ok).length;

const table = [
  '',
  `## Config rollback: one episode (a bad config value read at start), ECS, SSM and CloudWatch at ${LATENCY_MS} ms/call`,
  '',
  '| outcome | wall time (alarm → settled) | ECS rollback invocations | ECS calls | SSM calls | CloudWatch calls | DynamoDB calls | EventBridge calls | failed invocations |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  `| ${restored ? `v${latest?.Version} = ${latest?.Value} [${(latest?.Labels ?? []).join(', ')}], ${forced} force-new deployment, ${rolledBack} Config Rolled Back, ${ecsActed} task-definition rollback ✓` : 'not restored ✗'} | ${(wallMs / 1000).toFixed(2)} s | ${invocations.join(', ')} | ${total(byService.get('ecs'))} | ${total(byService.get('ssm'))} | ${total(byService.get('monitoring'))} | ${total(byService.get('dynamodb'))} | ${total(byService.get('events'))} | ${failed} |`,
  '',
  `Calls by operation (every function, the alert router's included): ${[...byService]
    .map(([service, ops]) => `${service} ${[...ops].map(([op, n]) => `${op} ${n}`).join(', ')}`)
    .join('; ')}. Wall time includes the router's delivery of the alarm and of Nightshift's own events.`,
].join('\n');
process.stdout.write(`${table}\n`);
appendFileSync(join(root, 'bench', 'results.md'), `${table}\n`);
