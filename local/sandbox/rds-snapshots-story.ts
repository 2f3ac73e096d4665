import type { NightshiftConfig } from '../../lib/config/schema.ts';
import type { LocalWorld } from '../world/world.ts';
import type { Narrate, StoryCheck } from './ecs-rollback-story.ts';

const DAY = 86_400_000;
const TIERS = ['daily', 'weekly', 'monthly'] as const;
type Tier = (typeof TIERS)[number];

/**
 * The tiers a database should hold after nightly runs at `runs`, computed without the planner: a run is
 * monthly when no earlier run fell in its UTC month, weekly when none fell in its Monday-based week, else
 * daily; a snapshot survives while its retention has not run out at the last run.
 */
export function expectedTiers(
  runs: readonly number[],
  retention: { dailyDays: number; weeklyWeeks: number; monthlyMonths: number },
): Record<Tier, number> {
  const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
  // 1970-01-01 was a Thursday: shifting by 3 days makes whole weeks start on Mondays.
  const week = (ms: number) => Math.floor(Math.floor(ms / DAY + 3) / 7);
  const last = runs.at(-1) ?? 0;
  const counts: Record<Tier, number> = { daily: 0, weekly: 0, monthly: 0 };
  runs.forEach((run, i) => {
    const earlier = runs.slice(0, i);
    const tier: Tier = !earlier.some((e) => month(e) === month(run))
      ? 'monthly'
      : !earlier.some((e) => week(e) === week(run))
        ? 'weekly'
        : 'daily';
    const d = new Date(run);
    const expires =
      tier === 'daily'
        ? run + retention.dailyDays * DAY
        : tier === 'weekly'
          ? run + retention.weeklyWeeks * 7 * DAY
          : Date.UTC(
              d.getUTCFullYear(),
              d.getUTCMonth() + retention.monthlyMonths,
              d.getUTCDate(),
              d.getUTCHours(),
            );
    if (expires > last) counts[tier] += 1;
  });
  return counts;
}

/** The app's writes: a `webhook_events` table with a few rows received "now" (the world's time). */
export async function receiveWebhooks(
  world: LocalWorld,
  database: string,
  what: 'create' | 'insert' | 'truncate',
): Promise<void> {
  const server = await world.rds.serverOf(database);
  if (!server) return;
  const client = await server.connect('postgres');
  try {
    if (what === 'create') {
      await client.query(
        'create table if not exists webhook_events (id bigserial primary key, source text not null, received_at timestamptz not null)',
      );
    } else if (what === 'insert') {
      await client.query(
        "insert into webhook_events (source, received_at) select 'stripe', $1::timestamptz from generate_series(1, 25)",
        [new Date(world.clock.now()).toISOString()],
      );
    } else {
      await client.query('truncate webhook_events');
    }
  } finally {
    await client.end();
  }
}

/**
 * The snapshot story: two databases (one listed by name, one selected by tag) and a snapshot someone took by
 * hand; 40 simulated days of nightly runs; tier counts per database beside the counts expected on day 40.
 */
export async function runSnapshotStory(
  world: LocalWorld,
  config: NightshiftConfig,
  narrate: Narrate,
  /** What the team sets up on the databases before Nightshift's schedules start (the rotation's roles). */
  beforeSchedules?: () => Promise<void>,
): Promise<StoryCheck[]> {
  const snapshots = config.snapshots;
  if (!snapshots) throw new Error('the sandbox config has no snapshots section');
  const listed = snapshots.targets.instances[0] ?? 'webhooks-db';
  const tag = snapshots.targets.tag ?? { key: 'nightshift:backup', value: 'true' };
  world.rds.addInstance({ identifier: listed, engine: 'postgres' });
  world.rds.addInstance({ identifier: 'billing-db', engine: 'postgres', tags: { [tag.key]: tag.value } });
  world.rds.addInstance({ identifier: 'scratch-db', engine: 'postgres' });
  world.rds.addSnapshot({
    identifier: 'before-pg16-upgrade',
    source: listed,
    createTime: world.clock.now() - 200 * DAY,
  });
  narrate(
    `databases: ${listed} (listed by name), billing-db (tag ${tag.key}=${tag.value}), scratch-db (neither); one hand-made snapshot`,
  );

  // The application writes webhooks all day; each day gets its rows, stamped with the world's time.
  await world.rds.ready();
  for (const database of [listed, 'billing-db']) await receiveWebhooks(world, database, 'create');
  await beforeSchedules?.();
  world.startSchedules();
  const start = world.clock.now();
  for (let day = 1; day <= 40; day++) {
    for (const database of [listed, 'billing-db']) await receiveWebhooks(world, database, 'insert');
    await world.advance(DAY);
  }
  narrate(`40 days of nightly runs (${snapshots.schedule}) later`);

  const snapshotRule = world.app.rules.find((r) => r.scheduleExpression === snapshots.schedule)?.arn;
  const runs = world.routed
    .filter(
      (e) =>
        e['detail-type'] === 'Scheduled Event' &&
        e.resources[0] === snapshotRule &&
        Date.parse(e.time) >= start,
    )
    .map((e) => Date.parse(e.time));
  const expected = expectedTiers(runs, snapshots.retention);
  const checks: StoryCheck[] = [];
  for (const database of [listed, 'billing-db']) {
    const held = [...world.rds.snapshots.values()].filter(
      (s) => s.source === database && s.status === 'available' && s.tags.get('nightshift:managed') === 'true',
    );
    const counts = Object.fromEntries(
      TIERS.map((t) => [t, held.filter((s) => s.tags.get('nightshift:tier') === t).length]),
    ) as Record<Tier, number>;
    const line = TIERS.map((t) => `${t} ${counts[t]} (expected ${expected[t]})`).join(', ');
    narrate(`${database}: ${line}`);
    checks.push({
      what: `${database} holds the tiers expected on day 40`,
      ok: TIERS.every((t) => counts[t] === expected[t]),
      detail: line,
    });
  }
  const failures = world.deliveries.filter(
    (d) => d.event['detail-type'] === 'Scheduled Event' && !d.result.ok,
  );
  checks.push(
    {
      what: `${runs.length} nightly runs, all succeeded`,
      ok: runs.length === 40 && failures.length === 0,
      detail: `${failures.length} failed${failures[0] ? `: ${failures[0].result.error?.message}` : ''}`,
    },
    {
      what: 'the hand-made snapshot was never touched',
      ok: [...world.rds.snapshots.values()].some((s) => s.id === 'before-pg16-upgrade'),
      detail: 'before-pg16-upgrade still there',
    },
    {
      what: 'scratch-db (not a target) was never snapshotted',
      ok: ![...world.rds.snapshots.values()].some((s) => s.source === 'scratch-db'),
      detail: 'no snapshot of scratch-db',
    },
  );
  return checks;
}
