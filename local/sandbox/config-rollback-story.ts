import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterHistoryCommand } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditLog } from '../../lambdas/shared/audit.ts';
import type { NightshiftConfig } from '../../lib/config/schema.ts';
import type { LocalWorld } from '../world/world.ts';
import type { Narrate, StoryCheck } from './ecs-rollback-story.ts';
import { WEBHOOK_TIMEOUT, WebhooksApp } from './webhooks-app.ts';

const MIN = 60_000;

/**
 * The config rollback story: `WEBHOOK_TIMEOUT_MS` (read by `api` at start, good since day 0) is set to 1 and
 * `api` redeployed to pick it up; 10 minutes later its success-rate alarm fires; Nightshift blames the config
 * change (the most recent change in effect), writes 5000 back as a new version labelled with the version it
 * restores, and redeploys `api`; the ECS rollback runbook does not also act; the alarm clears.
 */
export async function runConfigRollbackStory(
  world: LocalWorld,
  config: NightshiftConfig,
  narrate: Narrate,
): Promise<StoryCheck[]> {
  const app = new WebhooksApp(world, config);
  const { api } = app;
  const [successRate = ''] = app.alarmsOf(api);
  const before = world.events.published.length;
  const updatesBefore = world.ecs.updates.length;
  const deliveriesBefore = world.deliveries.length;
  const revisionBefore = app.running(api).taskDefinition;

  narrate(`someone sets ${WEBHOOK_TIMEOUT.parameter} to 1 (ms) and redeploys api to pick it up`);
  const bad = await app.putConfig(WEBHOOK_TIMEOUT.parameter, '1');
  await app.redeploy(api);
  await world.advance(6 * MIN);
  narrate('the redeployment completed: every api task now times its webhooks out after 1 ms');

  await world.advance(10 * MIN);
  narrate(`${successRate} enters ALARM`);
  await app.setAlarm(successRate, 'ALARM', 'Threshold Crossed: webhook success rate 3.1% < 95%');
  await world.settle();
  for (const e of world.events.published.slice(before)) {
    if (String(e['detail-type']).startsWith('Config Rollback') || e['detail-type'] === 'Config Rolled Back') {
      narrate(`${e['detail-type']}: ${String(e.detail.reason)}`);
    }
  }

  await world.advance(6 * MIN);
  narrate("Nightshift's redeployment completed; the webhooks succeed again and the alarm clears");
  await app.setAlarm(successRate, 'OK', 'Threshold not crossed');
  await world.settle();

  const published = world.events.published.slice(before);
  const updates = world.ecs.updates.slice(updatesBefore).filter((u) => u.service === api.service);
  const nightshiftUpdates = updates.filter((u) => u.caller.includes(':assumed-role/'));
  const rolledBack = published.filter((e) => e['detail-type'] === 'Config Rolled Back');
  const ecsActed = published.filter((e) =>
    ['Rollback Performed', 'Rollback Ineffective'].includes(e['detail-type']),
  );
  const history =
    (await app.ssm.send(new GetParameterHistoryCommand({ Name: WEBHOOK_TIMEOUT.parameter, MaxResults: 50 })))
      .Parameters ?? [];
  const latest = history.at(-1);
  const restoredVersion = history.find((v) => v.Value === WEBHOOK_TIMEOUT.good)?.Version;
  const service = [...world.ecs.services.values()].find((s) => s.serviceName === api.service);
  const primary = service?.deployments.find((d) => d.status === 'PRIMARY');
  const failures = world.deliveries.slice(deliveriesBefore).filter((d) => !d.result.ok);
  // Each Parameter Store Change of the parameter, as the audit log has it (Nightshift's write-back its own).
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
  const changes = (
    await new AuditLog(documents, world.app.tables[0]?.tableName ?? '', 1).list('ecs-rollback')
  )
    .filter((e) => e.action === 'config-change' && e.details?.parameter === WEBHOOK_TIMEOUT.parameter)
    .sort((a, b) => Number(a.details?.latestVersion ?? 0) - Number(b.details?.latestVersion ?? 0));
  for (const c of changes) narrate(`audit: ${c.reason}`);
  const own = changes.filter((c) => c.details?.own === true);
  return [
    {
      what: 'config rollback: the known-good value written back as a new version, labelled',
      ok:
        latest?.Value === WEBHOOK_TIMEOUT.good &&
        (latest.Version ?? 0) > bad &&
        (latest.Labels ?? []).includes(`nightshift-restored-v${restoredVersion}`),
      detail: `v${latest?.Version} = ${latest?.Value} [${(latest?.Labels ?? []).join(', ')}]; history kept (${history.length} versions)`,
    },
    {
      what: 'config rollback: api redeployed once by Nightshift, same revision',
      ok:
        nightshiftUpdates.length === 1 &&
        nightshiftUpdates[0]?.force === true &&
        nightshiftUpdates[0]?.taskDefinition === undefined &&
        app.running(api).taskDefinition === revisionBefore,
      detail: `${nightshiftUpdates.length} UpdateService by Nightshift (force-new-deployment); api still on ${revisionBefore.split('/').at(-1)}`,
    },
    {
      what: "config rollback: api's tasks started after the restore",
      ok:
        primary !== undefined &&
        primary.rolloutState === 'COMPLETED' &&
        primary.createdAt >= (latest?.LastModifiedDate?.getTime() ?? Number.POSITIVE_INFINITY),
      detail: `primary deployment ${primary?.rolloutState}, created ${primary ? new Date(primary.createdAt).toISOString() : '—'}`,
    },
    {
      what: 'config rollback: one Config Rolled Back, and the ECS rollback did not also act',
      ok: rolledBack.length === 1 && ecsActed.length === 0,
      detail: `${rolledBack.length} Config Rolled Back; ${ecsActed.length} task-definition rollback events`,
    },
    {
      what: "config rollback: each Parameter Store Change in the audit log, Nightshift's write-back known as its own",
      ok:
        changes.some((c) => c.details?.latestVersion === bad && c.details.own === false) &&
        own.length > 0 &&
        own.every((c) => c.details?.latestVersion === latest?.Version),
      detail: `${changes.length} change(s) audited (v${bad} by the operator; v${latest?.Version}: ${own.length} line(s) as Nightshift's own)`,
    },
    {
      what: 'config rollback: every invocation succeeded',
      ok: failures.length === 0,
      detail: `${failures.length} failed${failures[0] ? `: ${failures[0].result.error?.message}` : ''}`,
    },
  ];
}
