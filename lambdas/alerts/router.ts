/**
 * The alert router: an event in (an alarm state change, a `nightshift` event, a failed ECS deployment), an
 * alert out to each receiver's queue. Observe (the alarm's open episode, the silences), plan (the alert,
 * its receivers), act (enqueue, then record the episode's end). Nothing is sent from here: senders read
 * the queues, so one slow or failing receiver never holds up another.
 *
 * @module
 */

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { alarmStateChangeSchema, assertAlarmArn } from '#shared/alarm-event';
import { describeAlarms } from '#shared/alarm-state';
import type { StackOrigin } from '#shared/env';
import { InvalidEventError } from '#shared/errors';
import { boundedEventTime, type EventTimeBounds, type Redrive } from '#shared/event-time';
import { assertOwnOrigin } from '#shared/origin';
import { parseWith } from '#shared/parse';
import { scheduledTime } from '#shared/scheduled-event';
import { iso } from '#shared/time';
import { deploymentStateChangeSchema } from '../ecs-rollback/events.ts';
import { alarmAlert, episodeResolved, type OpenEpisode } from './alarm-alert.ts';
import type { RouterRuntimeConfig } from './config.ts';
import { configurationSetOf, emailFeedbackAlert, emailFeedbackSchema } from './email-feedback.ts';
import type { Alert } from './model.ts';
import { deploymentFailedAlert, nightshiftAlert, nightshiftEventSchema } from './nightshift-alert.ts';
import { DIGEST, defaultRoutes, routeAlert } from './routing.ts';
import { parseSilences, parseSilencesJson, type Silence, silencing } from './silences.ts';
import type { DigestStore, EpisodeStore } from './state.ts';

/**
 * What a receiver is sent: the alert itself; for PagerDuty, what Nightshift did about an open episode (a
 * trigger with the episode's `dedup_key`, which PagerDuty appends to that alert's log); and a change event
 * for each automated action.
 */
export type DeliveryKind = 'alert' | 'episode-note' | 'change';

/** What goes on a receiver's queue: the alert, and the key its delivery is recorded under. */
export interface DeliveryRequest {
  readonly receiver: string;
  /** `<alert key>#<status>` (one trigger and one resolve per episode and receiver), `#note` or `#change`. */
  readonly deliveryKey: string;
  readonly kind?: DeliveryKind;
  readonly alert: Alert;
  /** The episode whose Slack thread the alert belongs in (Slack receivers that got its first message). */
  readonly thread?: string;
  /** For an episode note: the episode it is added to. */
  readonly episode?: { readonly key: string; readonly severity: Alert['severity'] };
}

export interface RouterDeps {
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly cloudwatch: CloudWatchClient;
  readonly episodes: EpisodeStore;
  readonly digest: DigestStore;
  readonly clock: () => number;
  readonly config: RouterRuntimeConfig;
  readonly origin: StackOrigin;
  readonly bounds: EventTimeBounds;
  readonly redrive?: Redrive;
}

/** What the router did with one event. */
export type RouterResult =
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'reconciled'; readonly resolved: readonly string[]; readonly open: number }
  | {
      readonly outcome: 'routed';
      readonly key: string;
      readonly status: Alert['status'];
      readonly severity: Alert['severity'];
      readonly receivers: readonly string[];
      readonly kept: boolean;
      readonly mutedBy?: string;
      readonly notes: readonly string[];
    };

type Planned =
  | {
      alert: Alert;
      alarmArn?: string;
      opens: boolean;
      supersedes?: OpenEpisode & { receivers?: readonly string[] };
      receivers?: readonly string[];
      /** Receiver kinds it never goes to (an email's bounce is never emailed). */
      avoidKinds?: readonly string[];
    }
  | { ignored: string };

function plan(event: unknown, deps: RouterDeps, episodes: EpisodeStore): Promise<Planned> | Planned {
  const e = (event ?? {}) as { source?: unknown; 'detail-type'?: unknown };
  const now = deps.clock();
  const time = (field: string, text: string) => boundedEventTime(field, text, now, deps.bounds, deps.redrive);
  const fail = (what: string) => (problems: string) =>
    new InvalidEventError(`malformed ${what} event: ${problems}`);
  if (e.source === 'aws.cloudwatch' && e['detail-type'] === 'CloudWatch Alarm State Change') {
    const alarm = parseWith(alarmStateChangeSchema, event, fail('CloudWatch Alarm State Change'));
    assertOwnOrigin(alarm, deps.origin, 'CloudWatch Alarm State Change');
    assertAlarmArn(alarm);
    time('time', alarm.time);
    const stateAt = time('detail.state.timestamp', alarm.detail.state.timestamp);
    const arn = alarm.resources[0] ?? '';
    const candidates = [alarm.detail.state.timestamp, alarm.detail.previousState?.timestamp].flatMap((t) =>
      t ? [`${arn}@${t}`] : [],
    );
    return Promise.all([episodes.open(arn), episodes.closedAmong(candidates)]).then(([open, closed]) => {
      const verdict = alarmAlert(alarm, stateAt, open, deps.config, closed);
      return verdict.kind === 'ignored'
        ? { ignored: verdict.reason }
        : {
            alert: verdict.alert,
            alarmArn: arn,
            opens: verdict.opens,
            supersedes: verdict.supersedes,
            // A resolve goes where the firing alert went, whatever routes and silences say now.
            ...(verdict.alert.status === 'resolved' && open?.receivers ? { receivers: open.receivers } : {}),
          };
    });
  }
  if (e.source === 'nightshift') {
    const parsed = parseWith(nightshiftEventSchema, event, fail('nightshift'));
    assertOwnOrigin(parsed, deps.origin, 'nightshift event');
    const at = time('time', parsed.time);
    return {
      alert: nightshiftAlert(parsed, at, (event as { detail: Record<string, unknown> }).detail),
      opens: false,
    };
  }
  if (e.source === 'aws.ses') {
    const parsed = parseWith(emailFeedbackSchema, event, fail('SES email feedback'));
    assertOwnOrigin(parsed, deps.origin, 'SES email feedback');
    const at = time('time', parsed.time);
    const set = configurationSetOf(parsed);
    const feedback = (deps.config.emailFeedback ?? []).find((f) => f.configurationSetName === set);
    if (!feedback) {
      return {
        ignored: `configuration set ${JSON.stringify(String(set).slice(0, 64))} is not an email receiver's`,
      };
    }
    return { alert: emailFeedbackAlert(parsed, feedback.receiver, at), opens: false, avoidKinds: ['email'] };
  }
  if (e.source === 'aws.ecs' && e['detail-type'] === 'ECS Deployment State Change') {
    const parsed = parseWith(deploymentStateChangeSchema, event, fail('ECS Deployment State Change'));
    assertOwnOrigin(parsed, deps.origin, 'ECS Deployment State Change');
    const at = time('time', parsed.time);
    if (parsed.detail.eventName !== 'SERVICE_DEPLOYMENT_FAILED') {
      return { ignored: `${parsed.detail.eventName} is not an alert (only SERVICE_DEPLOYMENT_FAILED is)` };
    }
    const serviceArn = parsed.resources[0] ?? '';
    return {
      alert: deploymentFailedAlert({
        serviceArn,
        deploymentId: parsed.detail.deploymentId,
        reason: parsed.detail.reason,
        at,
      }),
      opens: false,
    };
  }
  const detailType =
    typeof e['detail-type'] === 'string' ? e['detail-type'].slice(0, 100) : String(e['detail-type']);
  throw new InvalidEventError(
    `unsupported event: source ${JSON.stringify(String(e.source).slice(0, 100))}, detail-type ${JSON.stringify(detailType)} (expected a CloudWatch Alarm State Change, a nightshift event, an ECS Deployment State Change or an SES bounce or complaint)`,
  );
}

/**
 * The silences in force: config's, and the parameter's. A parameter that cannot be read or parsed mutes
 * nothing (a failure never silences a page) and says so in the alert.
 */
async function silences(deps: RouterDeps, notes: string[]): Promise<Silence[]> {
  const fromConfig = parseSilences(deps.config.silences, 'silences');
  const name = deps.config.silencesParameter;
  if (!name) return fromConfig;
  try {
    const out = await deps.ssm.send(new GetParameterCommand({ Name: name }));
    return [...fromConfig, ...parseSilencesJson(out.Parameter?.Value ?? '[]', name)];
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return fromConfig;
    notes.push(
      `silences in ${name} not applied: ${(error as Error).name}: ${(error as Error).message.slice(0, 200)}`,
    );
    return fromConfig;
  }
}

/** What dispatching one alert did. */
interface Dispatched {
  readonly receivers: readonly string[];
  readonly kept: boolean;
  readonly mutedBy?: string;
  readonly alert: Alert;
}

/** Silences, routes, then one message per receiver; muted, info and undeliverable alerts kept for the digest. */
interface DispatchOptions {
  /** The receivers an episode's firing alert reached: its resolve goes to them, never muted or re-routed. */
  readonly episodeReceivers?: readonly string[];
  /** The alert is an alarm episode's (its key is the episode): Slack receivers thread it. */
  readonly episodic?: boolean;
  readonly avoidKinds?: readonly string[];
}

async function dispatch(
  input: Alert,
  deps: RouterDeps,
  now: number,
  o: DispatchOptions = {},
): Promise<Dispatched> {
  const { episodeReceivers } = o;
  const notes: string[] = [];
  const silence = episodeReceivers ? undefined : silencing(input, await silences(deps, notes), now);
  const alert = { ...input, notes: [...input.notes, ...notes] };
  const { config } = deps;
  const kinds = (kind: string) =>
    Object.keys(config.receivers).filter((n) => config.receivers[n]?.kind === kind);
  const defaults = defaultRoutes({ pagerduty: kinds('pagerduty'), slack: kinds('slack') });
  const decision = routeAlert(alert, config.routes, defaults);
  const avoid = (r: string) => (o.avoidKinds ?? []).includes(config.receivers[r]?.kind ?? '');
  const sendTo = (
    episodeReceivers
      ? episodeReceivers.filter((r) => config.receivers[r])
      : silence
        ? []
        : decision.receivers.filter((r) => r !== DIGEST && config.receivers[r])
  ).filter((r) => !avoid(r));
  if (sendTo.length === 0 && !silence && !episodeReceivers && decision.receivers.some(avoid)) {
    // Every receiver its routes name is one it must not go to (an email's bounce, routed to email only):
    // the defaults take it instead.
    sendTo.push(...routeAlert(alert, [], defaults).receivers.filter((r) => r !== DIGEST && !avoid(r)));
  }
  // Never lost silently: what reaches no receiver is at least kept for the digest.
  const kept = silence !== undefined || decision.receivers.includes(DIGEST) || sendTo.length === 0;
  const enqueue = (request: DeliveryRequest) =>
    deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: config.receivers[request.receiver]?.queueUrl,
        MessageBody: JSON.stringify(request),
      }),
    );
  const at = alert.episode?.lastIndexOf('@') ?? -1;
  const found = alert.episode && at > 0 ? await deps.episodes.open(alert.episode.slice(0, at)) : undefined;
  const open = found && found.key === alert.episode ? found : undefined;
  const slack = kinds('slack');
  // A Slack receiver threads what belongs to an episode whose first message it got (or gets now).
  const thread = (receiver: string) =>
    !slack.includes(receiver)
      ? undefined
      : o.episodic
        ? alert.key
        : open?.receivers?.includes(receiver)
          ? open.key
          : undefined;
  for (const receiver of sendTo) {
    const t = thread(receiver);
    await enqueue({
      receiver,
      kind: 'alert',
      deliveryKey: `${alert.key}#${alert.status}`,
      alert,
      ...(t ? { thread: t } : {}),
    });
  }
  // Context for the responder, never a new page: sent whatever the silences say.
  const pagerduty = kinds('pagerduty');
  if (alert.episode) {
    if (open) {
      for (const receiver of (open.receivers ?? []).filter((r) => pagerduty.includes(r))) {
        await enqueue({
          receiver,
          kind: 'episode-note',
          deliveryKey: `${alert.key}#note`,
          alert,
          episode: { key: open.key, severity: open.severity },
        });
      }
    }
  }
  if (alert.automated) {
    for (const receiver of pagerduty)
      await enqueue({ receiver, kind: 'change', deliveryKey: `${alert.key}#change`, alert });
  }
  if (kept)
    await deps.digest.keep(alert, silence ? `muted: ${silence.comment}` : 'routed to the digest', now);
  return { receivers: sendTo, kept, ...(silence ? { mutedBy: silence.comment } : {}), alert };
}

const routed = (d: Dispatched): RouterResult => ({
  outcome: 'routed',
  key: d.alert.key,
  status: d.alert.status,
  severity: d.alert.severity,
  receivers: d.receivers,
  kept: d.kept,
  ...(d.mutedBy ? { mutedBy: d.mutedBy } : {}),
  notes: d.alert.notes,
});

/** Routes one event. Throws on a bad event (named field) or a failed write: the retry converges. */
export async function routeEvent(event: unknown, deps: RouterDeps): Promise<RouterResult> {
  if ((event as { source?: unknown } | null)?.source === 'aws.events') return reconcile(event, deps);
  const planned = await plan(event, deps, deps.episodes);
  if ('ignored' in planned) return { outcome: 'ignored', reason: planned.ignored };
  const now = deps.clock();
  let { alert } = planned;
  if (planned.supersedes && planned.alarmArn && alert.alarmName) {
    // The recorded episode ended unseen: resolve it before the new one opens in its place.
    const old = { ...planned.supersedes, alarmArn: planned.alarmArn, alarmName: alert.alarmName };
    await dispatch(
      episodeResolved(old, {
        at: alert.at,
        why: 'the alarm returned to OK before this new ALARM; that OK was not delivered',
        region: deps.origin.region,
      }),
      deps,
      now,
      { episodeReceivers: planned.supersedes.receivers, episodic: true },
    );
    await deps.episodes.markClosed(old.key, now);
  }
  if (planned.opens && planned.alarmArn && alert.alarmName) {
    // Recorded before anything is enqueued, so the OK that follows finds the episode to resolve.
    const open = await deps.episodes.start(
      {
        alarmArn: planned.alarmArn,
        alarmName: alert.alarmName,
        key: alert.key,
        startedAt: alert.startedAt,
        severity: alert.severity,
        ...(alert.service ? { service: alert.service } : {}),
      },
      now,
      planned.supersedes?.key,
    );
    if (open.key !== alert.key) alert = { ...alert, key: open.key, startedAt: open.startedAt };
  }
  const done = await dispatch(alert, deps, now, {
    ...(planned.receivers ? { episodeReceivers: planned.receivers } : {}),
    episodic: planned.alarmArn !== undefined,
    ...(planned.avoidKinds ? { avoidKinds: planned.avoidKinds } : {}),
  });
  if (alert.status === 'firing' && planned.alarmArn) {
    await deps.episodes.addReceivers(planned.alarmArn, alert.key, done.receivers);
  }
  // The episode ends only once its resolves are queued: a failure before this retries the whole event.
  if (alert.status === 'resolved' && planned.alarmArn) {
    // Closed for good first: a late or repeated ALARM of this episode never opens it again.
    await deps.episodes.markClosed(alert.key, now);
    await deps.episodes.close(planned.alarmArn, alert.key);
  }
  return routed(done);
}

/**
 * The reconciler (a schedule): every open episode whose alarm CloudWatch shows as OK, or no longer has, is
 * resolved, so no incident stays open because an OK was lost. An alarm in ALARM or INSUFFICIENT_DATA keeps
 * its episode.
 */
async function reconcile(event: unknown, deps: RouterDeps): Promise<RouterResult> {
  scheduledTime(event, {
    now: deps.clock(),
    bounds: deps.bounds,
    origin: deps.origin,
    redrive: deps.redrive,
  });
  const open = await deps.episodes.list();
  if (open.length === 0) return { outcome: 'reconciled', resolved: [], open: 0 };
  const alarms = await describeAlarms(
    deps.cloudwatch,
    open.map((e) => e.alarmName),
    { composite: true },
  );
  const resolved: string[] = [];
  for (const episode of open) {
    const alarm = alarms.get(episode.alarmName);
    if (alarm && alarm.arn === episode.alarmArn && alarm.state !== 'OK') continue;
    // An OK older than the episode is a read that lags the ALARM it opened on: wait for the next run.
    if (alarm && alarm.state === 'OK' && alarm.transitionedAt < episode.startedAt) continue;
    const now = deps.clock();
    const why =
      alarm && alarm.arn === episode.alarmArn
        ? `CloudWatch shows the alarm OK since ${iso(alarm.transitionedAt)}`
        : 'CloudWatch no longer has this alarm (deleted)';
    const at = alarm && alarm.arn === episode.alarmArn ? alarm.transitionedAt : now;
    await dispatch(episodeResolved(episode, { at, why, region: deps.origin.region }), deps, now, {
      ...(episode.receivers ? { episodeReceivers: episode.receivers } : {}),
      episodic: true,
    });
    await deps.episodes.markClosed(episode.key, now);
    await deps.episodes.close(episode.alarmArn, episode.key);
    resolved.push(episode.key);
  }
  return { outcome: 'reconciled', resolved, open: open.length - resolved.length };
}
