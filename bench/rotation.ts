/**
 * Rotation: 50 generated secrets falling due together, rotated by the bundled function in the local world,
 * with SSM answering at 10 ms a call and limited to its default 40 requests a second (throttling beyond).
 * Reports the run's wall time, the SSM calls per rotation by operation, throttled answers and failures.
 *
 * Run: `npm run bench` (appends to bench/results.md).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { exampleAppConfig } from '../local/sandbox/example-config.ts';
import { synthesize } from '../local/sandbox/synth.ts';
import { envelope } from '../local/services/envelope.ts';
import { LocalWorld } from '../local/world/world.ts';

const SECRETS = 50;
const SSM_RPS = 40;
const LATENCY_MS = 10;
const DAY = 86_400_000;
const root = fileURLToPath(new URL('..', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'nightshift-bench-rotation-'));
const names = Array.from({ length: SECRETS }, (_, i) => `/bench/api-key-${String(i).padStart(2, '0')}`);
const { config, stackName } = synthesize(dir, {
  ...exampleAppConfig,
  rotation: {
    secrets: names.map((parameter) => ({ parameter, kind: 'generated' as const, cadenceDays: 30 })),
  },
});
const world = await LocalWorld.start({
  cloudAssemblyDir: dir,
  account: config.account ?? '123456789012',
  region: config.region ?? 'eu-west-1',
  stackName,
  start: Date.parse('2026-11-16T08:00:00Z'),
});
const operator = new SSMClient(world.operatorConfig());
for (const Name of names)
  await operator.send(new PutParameterCommand({ Name, Value: `first-${Name}`, Type: 'SecureString' }));
await world.advance(31 * DAY);
world.endpoint.limits.set('ssm', { requestsPerSecond: SSM_RPS, latencyMs: LATENCY_MS });

const rule = world.app.rules.find((r) => r.name.includes('Rotation') && r.scheduleExpression);
if (!rule) throw new Error('no rotation schedule in the app');
const before = world.endpoint.calls.length;
const started = performance.now();
await world.runSchedulesNowWith(
  envelope(world.options, 'aws.events', 'Scheduled Event', world.clock.now(), [rule.arn], {}),
);
const wallSeconds = (performance.now() - started) / 1000;
const calls = world.endpoint.calls.slice(before).filter((c) => c.service === 'ssm');
const byOperation = new Map<string, number>();
for (const c of calls) byOperation.set(c.operation, (byOperation.get(c.operation) ?? 0) + 1);
const run = world.deliveries.find((d) => d.function.includes('Rotation'));
const rotated = names.filter((n) => world.ssm.history(n).length === 2).length;
const throttled = world.endpoint.limits.throttled('ssm');
await world.close();
rmSync(dir, { recursive: true, force: true });

const table = [
  '',
  `## Rotation: ${SECRETS} generated secrets due together, SSM at ${LATENCY_MS} ms/call and ${SSM_RPS} requests/s`,
  '',
  '| secrets rotated | wall time (run) | per rotation | SSM calls per rotation | throttled answers (goal 0) | failed invocations |',
  '| --- | --- | --- | --- | --- | --- |',
  `| ${rotated} / ${SECRETS} | ${wallSeconds.toFixed(1)} s | ${(wallSeconds / SECRETS).toFixed(2)} s | ${(calls.length / SECRETS).toFixed(1)} | ${throttled} ${throttled === 0 ? '✓' : '✗'} | ${run?.result.ok ? 0 : 1} |`,
  '',
  `SSM calls by operation (all ${SECRETS}): ${[...byOperation].map(([op, n]) => `${op} ${n}`).join(', ')}. The function paces itself at 10 requests/s (\`rotation.ssmRequestsPerSecond\`), a quarter of SSM's default throughput, which the account's apps share.`,
].join('\n');
process.stdout.write(`${table}\n`);
appendFileSync(join(root, 'bench', 'results.md'), `${table}\n`);
