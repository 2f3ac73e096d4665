import type { NightshiftConfig } from '../../lib/config/schema.ts';
import type { AwsEvent } from '../services/envelope.ts';
import type { LocalWorld } from '../world/world.ts';
import { PLANTED_SECRET, WebhooksApp } from './webhooks-app.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** A check the story makes of itself; the sandbox fails when one does not hold. */
export interface StoryCheck {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Narration lines printed between steps. */
export type Narrate = (line: string) => void;

/**
 * The ECS rollback story: `api` at rev 1 earns known-good; rev 2 is deployed and completes; 20 minutes later
 * its alarm fires and Nightshift rolls back; the same alarm is delivered twice more; a second alarm of `api`
 * fires in the same episode; then an alarm of `worker`, deployed 3 days ago, gets "no action".
 */
export async function runEcsRollbackStory(
  world: LocalWorld,
  config: NightshiftConfig,
  narrate: Narrate,
): Promise<StoryCheck[]> {
  const app = new WebhooksApp(world, config);
  const { api, worker } = app;
  const [successRate = '', fiveXx = '', unhealthy = ''] = app.alarmsOf(api);

  narrate(
    'day 0: webhooks-api rev 1 and webhooks-worker rev 1 are deployed (the first deployments Nightshift sees)',
  );
  await app.install();
  await world.advance(10 * MIN);

  narrate(
    '3 days later: api rev 1 stayed primary through its 2-hour bake window with alarms quiet: known-good',
  );
  await world.advance(3 * DAY - 10 * MIN);

  narrate('deploy webhooks-api rev 2 (a new image under a new tag)');
  await app.deploy(api, 'v2');
  await world.advance(5 * MIN);
  narrate('rev 2 rollout completed; it looks fine');

  await world.advance(20 * MIN);
  narrate(`20 minutes later: ${successRate} enters ALARM`);
  const before = world.events.published.length;
  await app.setAlarm(successRate, 'ALARM', 'Threshold Crossed: webhook success rate 81.2% < 95%');
  await world.settle();

  narrate('EventBridge delivers the same alarm event twice more (at-least-once delivery)');
  const alarmEvent = world.deliveries.find(
    (d) =>
      d.event.detail.alarmName === successRate &&
      (d.event.detail.state as { value?: string })?.value === 'ALARM',
  )?.event as AwsEvent | undefined;
  if (alarmEvent) {
    world.route(alarmEvent);
    world.route(alarmEvent);
  }
  await world.settle();

  await world.advance(MIN);
  narrate(`a second alarm of api (${fiveXx}) enters ALARM in the same episode`);
  await app.setAlarm(fiveXx, 'ALARM', 'Threshold Crossed: 5xx rate 7.4% > 2%');
  await world.settle();

  await world.advance(5 * MIN);
  narrate('the rollback deployment completed; the alarms recover');
  for (const name of [successRate, fiveXx, unhealthy])
    await app.setAlarm(name, 'OK', 'Threshold not crossed');
  await world.settle();

  await world.advance(30 * MIN);
  narrate(`${app.workerAlarm} enters ALARM; webhooks-worker was deployed 3 days ago`);
  await app.setAlarm(app.workerAlarm, 'ALARM', 'Threshold Crossed: oldest message 912 s > 300 s');
  await world.settle();

  // The story checks itself against the world, not against the runbook's own account of it.
  const published = world.events.published.slice(before);
  const performed = published.filter((e) => e['detail-type'] === 'Rollback Performed');
  const rollbacks = app.rollbacksBy(api);
  const running = app.running(api);
  const rev1Digest = world.registry.resolve(app.image(api, 'v1'));
  const failures = world.deliveries.filter((d) => !d.result.ok);
  const output = JSON.stringify([world.events.published, [...world.lambdas.values()].map((l) => l.logs)]);
  const apiService = [...world.ecs.services.values()].find((s) => s.serviceName === api.service);
  return [
    {
      what: 'exactly one UpdateService rolled api back',
      ok: rollbacks.length === 1,
      detail: `${rollbacks.length} by Nightshift, to ${rollbacks[0]?.taskDefinition?.split('/').at(-1)}`,
    },
    {
      what: 'exactly one Rollback Performed event',
      ok: performed.length === 1,
      detail: `${performed.length} published`,
    },
    {
      what: 'api runs the image rev 1 ran, by digest',
      ok: running.image.endsWith(rev1Digest),
      detail: `${running.taskDefinition.split('/').at(-1)} runs ${running.image.split('/').at(-1)}`,
    },
    {
      what: 'api deployment alarms restored after the rollback',
      ok: apiService?.deploymentConfiguration.alarms?.enable === true,
      detail: `enable=${apiService?.deploymentConfiguration.alarms?.enable}`,
    },
    {
      what: 'worker got no action',
      ok: published.some((e) => e['detail-type'] === 'Rollback Skipped' && e.detail.service === worker.name),
      detail: 'Rollback Skipped published for worker',
    },
    {
      what: 'every invocation succeeded',
      ok: failures.length === 0,
      detail: `${world.deliveries.length} deliveries, ${failures.length} failed${failures[0] ? `: ${failures[0].result.error?.message}` : ''}`,
    },
    {
      what: 'no secret in events or logs',
      ok: !output.includes(PLANTED_SECRET),
      detail: 'planted task-definition secret not found',
    },
  ];
}
