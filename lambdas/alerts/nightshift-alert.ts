/**
 * `nightshift` events and ECS deployment failures as alerts. Pure.
 *
 * A `nightshift` event carries its severity and a deterministic `detail.eventKey` (the same action
 * reported twice has one key): the alert's identity. It is not an episode: it fires once and never resolves.
 *
 * @module
 */
import * as z from 'zod/mini';
import { bounded } from '#shared/parse';
import { MAX_EVENT_KEY } from '#shared/publisher';
import { type Alert, SEVERITIES } from './model.ts';

/** `nightshift` event detail: the fields every runbook's events share; the rest is shown as it is. */
export const nightshiftEventSchema = z.object({
  source: z.literal('nightshift'),
  'detail-type': z.string().check(z.minLength(1), z.maxLength(128)),
  time: bounded.timestamp(),
  region: bounded.id(),
  account: bounded.id(),
  resources: z.array(bounded.arn()).check(z.maxLength(10)),
  detail: z.object({
    severity: z.enum(SEVERITIES),
    eventKey: z.string().check(z.minLength(1), z.maxLength(MAX_EVENT_KEY)),
    service: z.optional(z.string().check(z.maxLength(255))),
    database: z.optional(z.string().check(z.maxLength(255))),
    /** The SSM parameter a rotation event is about. */
    parameter: z.optional(z.string().check(z.maxLength(2048))),
    reason: z.optional(z.string().check(z.maxLength(4096))),
    episode: z.optional(z.string().check(z.maxLength(MAX_EVENT_KEY))),
  }),
});
export type NightshiftAlertEvent = z.infer<typeof nightshiftEventSchema>;

/** What each detail-type says Nightshift did, for the alert's "action" line. */
const ACTIONS: Readonly<Record<string, string>> = {
  'Rollback Performed': 'Nightshift rolled the service back to its last known-good revision',
  'Rollback Skipped': 'Nightshift did not roll back: see the reason',
  'Config Rolled Back':
    'Nightshift wrote the known-good config version back (a new version, labelled) and redeployed start-time readers',
  'Config Rollback Skipped': 'Nightshift did not roll the config back: see the reason',
  'Rollback Ineffective': 'Nightshift rolled back, and the alarm still fires: a person must look',
  'Rollback Failed': "Nightshift's rollback deployment failed: a person must look",
  'Deployment Alarms Not Restored': "Nightshift could not restore the service's deployment alarms",
  'Snapshot Skipped': 'Nightshift skipped this snapshot: see the reason',
  'Snapshot Quota Warning': 'Nightshift keeps snapshotting; the quota is near',
  'Snapshot Run Completed': 'Nightshift finished a snapshot run',
  'Restore Verified': 'Nightshift restored the latest snapshot and checked it',
  'Restore Verification Failed': 'Nightshift could not prove this backup restores: a person must look',
  'Rotation Started': 'Nightshift started rotating this secret',
  'Rotation Succeeded':
    'Nightshift rotated the secret: its plain name returns the new value; the old one stays readable as :previous through the grace period',
  'Rotation Failed':
    'Nightshift could not finish this rotation; the next run resumes it. A person must look at the reason',
  'Rotation Abandoned': 'Nightshift gave this rotation up (its pending value was deleted); a new one starts',
  'Rotation Blocked': 'Nightshift cannot rotate this secret until a person acts: see the reason',
  'Rotation Due Soon': 'A person must put the new value in the pending place before the due date',
  'Rotation Overdue': 'Overdue: a person must put the new value in the pending place',
  'Consumers Redeployed':
    'Nightshift redeployed this consumer (same revision) after the rotation: its new tasks read the new value',
  'Consumers Redeploy Deferred':
    'Nightshift did not redeploy this consumer yet (a rollback is in flight or in its cooldown): the next runs retry; see the reason for what it means meanwhile',
  'Consumers Redeploy Failed':
    "Nightshift's redeployment of this consumer after the rotation did not complete: the next run retries. A person must look at the reason",
};

/** What Nightshift changed (or decided not to, on purpose): these also go to PagerDuty as change events. */
const AUTOMATED = new Set([
  'Rollback Performed',
  'Rollback Skipped',
  'Config Rolled Back',
  'Config Rollback Skipped',
  'Rollback Ineffective',
  'Rollback Failed',
  'Snapshot Skipped',
  'Restore Verification Failed',
  'Rotation Succeeded',
  'Rotation Failed',
  'Rotation Abandoned',
  'Consumers Redeployed',
]);

/** Detail fields shown as they are, each shortened; the rest of the detail stays in the event. */
function detailFacts(detail: Record<string, unknown>): string[] {
  const skip = new Set(['severity', 'eventKey', 'reason', 'service', 'database', 'parameter']);
  return Object.entries(detail)
    .filter(([k, v]) => !skip.has(k) && v !== undefined && v !== null && typeof v !== 'object')
    .slice(0, 20)
    .map(([k, v]) => `${k.slice(0, 64)}: ${String(v).slice(0, 300)}`);
}

/** The alert a `nightshift` event makes. */
export function nightshiftAlert(
  event: NightshiftAlertEvent,
  at: number,
  raw: Record<string, unknown>,
): Alert {
  const { detail } = event;
  const detailType = event['detail-type'];
  const subject = detail.service ?? detail.database ?? detail.parameter;
  const facts = detailFacts(raw);
  return {
    key: detail.eventKey,
    source: 'nightshift',
    status: 'firing',
    severity: detail.severity,
    severityOrigin: 'event',
    title: `${detailType}${subject ? `: ${subject}` : ''}`,
    ...(detail.service ? { service: detail.service } : {}),
    resource: event.resources[0] ?? subject ?? detailType,
    reason: [detail.reason ?? detailType, ...facts].join('\n'),
    action: ACTIONS[detailType] ?? `Nightshift: ${detailType}`,
    links: [],
    startedAt: at,
    at,
    notes: detail.episode ? [`about alarm episode ${detail.episode}`] : [],
    ...(detail.episode ? { episode: detail.episode } : {}),
    ...(AUTOMATED.has(detailType) ? { automated: true } : {}),
  };
}

/** The alert an `ECS Deployment State Change` `SERVICE_DEPLOYMENT_FAILED` makes. */
export function deploymentFailedAlert(o: {
  serviceArn: string;
  deploymentId: string;
  reason?: string;
  at: number;
  service?: string;
}): Alert {
  const name = o.service ?? o.serviceArn.slice(o.serviceArn.lastIndexOf('/') + 1);
  return {
    key: `ecs-deployment#${o.serviceArn}#${o.deploymentId}#failed`,
    source: 'ecs-deployment',
    status: 'firing',
    severity: 'warning',
    severityOrigin: 'default',
    title: `ECS deployment failed: ${name}`,
    service: name,
    resource: o.serviceArn,
    reason: o.reason ?? `deployment ${o.deploymentId} failed`,
    action:
      'ECS rolls the service back when its circuit breaker is on; Nightshift watches the alarms that guard it',
    links: [],
    startedAt: o.at,
    at: o.at,
    notes: [],
  };
}
