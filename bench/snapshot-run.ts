/**
 * One snapshot run over 1,000 databases with 30,000 existing snapshots (metadata only) in the local world,
 * at 20 ms per RDS call and a 25 requests/s RDS API limit, next to the floor: the minimal calls
 * (⌈snapshots ÷ 100⌉ describe pages + one create per target + one delete per expired snapshot) ÷ 25 rps.
 * Goal ≤ 1.1× the floor; also reports the calls made, throttling, failures and peak RSS (goal < 256 MB).
 *
 * Run: `npm run bench` (appends to bench/results.md).
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleAppConfig as exampleConfig } from '../local/sandbox/example-config.ts';
import { synthesize } from '../local/sandbox/synth.ts';
import { LocalWorld } from '../local/world/world.ts';

const DATABASES = 1000;
const PER_DATABASE = 30;
const RPS = 25;
const LATENCY_MS = 20;
const DAY = 86_400_000;
const root = fileURLToPath(new URL('..', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'nightshift-bench-snapshots-'));
const { config, stackName } = synthesize(dir, {
  ...exampleConfig,
  snapshots: {
    targets: { tag: { key: 'nightshift:backup', value: 'true' }, expectedTaggedInstances: DATABASES },
    quota: { manualDbSnapshots: 50_000, manualClusterSnapshots: 100 },
    maxDeletionsPerRun: DATABASES,
    rdsRequestsPerSecond: RPS,
  },
});
const world = await LocalWorld.start({
  cloudAssemblyDir: dir,
  account: config.account ?? '123456789012',
  region: config.region ?? 'eu-west-1',
  stackName,
  start: Date.parse('2026-11-22T03:00:00Z'),
});
world.rds.quotas.manualSnapshots = 50_000;
const now = world.clock.now();
for (let d = 0; d < DATABASES; d++) {
  const id = `db-${String(d).padStart(4, '0')}`;
  world.rds.addInstance({ identifier: id, engine: 'postgres', tags: { 'nightshift:backup': 'true' } });
  for (let s = 0; s < PER_DATABASE; s++) {
    // One expired snapshot per database; the rest are monthly ones kept for months.
    const expired = s === 0;
    const createTime = now - (expired ? 40 : s) * DAY;
    world.rds.addSnapshot({
      identifier: `nightshift-${id}-${new Date(createTime).toISOString().slice(0, 10).replaceAll('-', '')}-0300`,
      source: id,
      createTime,
      tags: {
        'nightshift:managed': 'true',
        'nightshift:tier': expired ? 'daily' : 'monthly',
        'nightshift:expires-at': new Date(createTime + (expired ? 7 : 365) * DAY).toISOString(),
        'nightshift:source-db': id,
      },
    });
  }
}
world.endpoint.limits.set('rds', { requestsPerSecond: RPS, latencyMs: LATENCY_MS });

const before = world.endpoint.calls.length;
const started = performance.now();
await world.runSchedulesNow();
const wallSeconds = (performance.now() - started) / 1000;
const calls = world.endpoint.calls.slice(before).filter((c) => c.service === 'rds');
const byOperation = new Map<string, number>();
for (const c of calls) byOperation.set(c.operation, (byOperation.get(c.operation) ?? 0) + 1);
const floorCalls = Math.ceil((DATABASES * PER_DATABASE) / 100) + DATABASES + DATABASES;
const floorSeconds = floorCalls / RPS;
const failures = world.deliveries.filter((d) => !d.result.ok);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
const run = world.deliveries.find((d) => d.event['detail-type'] === 'Scheduled Event');
const functionPeakMb = (run?.result.peakMemoryBytes ?? 0) / 1024 / 1024;
const created = world.rds.manualSnapshotCount('db') - (DATABASES * PER_DATABASE - DATABASES);
await world.close();
rmSync(dir, { recursive: true, force: true });

const ratio = wallSeconds / floorSeconds;
const table = [
  '',
  `## Snapshot run: ${DATABASES} databases, ${DATABASES * PER_DATABASE} snapshots, ${LATENCY_MS} ms/call, ${RPS} requests/s`,
  '',
  '| wall time | floor | ratio (goal ≤ 1.1) | RDS calls made (minimal) | throttled answers | failed invocations | function peak memory (goal < 256 MB) | bench process peak RSS |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  `| ${wallSeconds.toFixed(1)} s | ${floorSeconds.toFixed(1)} s | ${ratio.toFixed(3)}× ${ratio <= 1.1 ? '✓' : '✗'} | ${calls.length} (${floorCalls}) | ${world.endpoint.limits.throttled('rds')} | ${failures.length} | ${functionPeakMb.toFixed(0)} MB ${functionPeakMb < 256 ? '✓' : '✗'} | ${peakRssMb.toFixed(0)} MB |`,
  '',
  `Calls by operation: ${[...byOperation].map(([op, n]) => `${op} ${n}`).join(', ')}. Net snapshots created: ${created}.`,
  "Function peak memory: the V8 heap in use plus external memory of the function's isolate, sampled every 20 ms during the run (what grows with the fleet; Node's own baseline of a few tens of MB comes on top). The bench process RSS includes the local world itself (its 30,000 snapshots, DynamoDB, the endpoint).",
].join('\n');
process.stdout.write(`${table}\n`);
appendFileSync(join(root, 'bench', 'results.md'), `${table}\n`);
