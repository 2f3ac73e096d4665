/**
 * A `CloudWatch Alarm State Change` as an alert: which episode it opens, continues or resolves, and what
 * the people on call read. Pure: the open episode of the alarm comes from the state table (`state.ts`).
 *
 * An episode is the alarm's ARN plus the time it entered ALARM (`<arn>@<timestamp>`, the id the ECS
 * rollback uses). An ALARM after ALARM (a composite whose triggering children changed) continues the open
 * episode; an OK — also one reached through INSUFFICIENT_DATA — resolves it.
 *
 * @module
 */
import type { AlarmStateChange } from '#shared/alarm-event';
import { humanDuration, iso, parseAwsTimestamp } from '#shared/time';
import type { Alert, Severity } from './model.ts';
import { resolveSeverity, type SeverityConfig } from './severity.ts';

/** The episode of an alarm the state table holds as open. */
export interface OpenEpisode {
  readonly key: string;
  readonly startedAt: number;
  readonly severity: Severity;
  /** The service of the alarm when the episode opened (for the resolution a reconciler sends). */
  readonly service?: string;
}

/** How the alert router treats alarms. */
export interface AlarmAlertConfig {
  readonly severity: SeverityConfig;
  /** INSUFFICIENT_DATA opens an episode (`alert`) or is ignored. */
  readonly insufficientData: 'ignore' | 'alert';
  /** The tag naming the Nightshift service an alarm belongs to. @default 'nightshift:service' */
  readonly serviceTag?: string;
  /** Services by exact alarm name or name prefix, e.g. from the alarms that guard ECS services. */
  readonly services?: readonly {
    readonly name?: string;
    readonly prefix?: string;
    readonly service: string;
  }[];
  /** Nightshift's own alarms (function errors, DLQs, dead-man's switches): source `self`, their severity. */
  readonly ownAlarms?: readonly { readonly name: string; readonly severity: Severity }[];
  /** A runbook URL for every alarm alert (`{alarm}` is replaced by the alarm's name). */
  readonly runbookUrl?: string;
}

/** What an alarm event means: an alert to send, or nothing and why. */
export type AlarmVerdict =
  | {
      readonly kind: 'alert';
      readonly alert: Alert;
      readonly opens: boolean;
      /** An open episode this ALARM proves ended unseen (the alarm was OK in between): resolve it too. */
      readonly supersedes?: OpenEpisode;
    }
  | { readonly kind: 'ignored'; readonly reason: string };

/** The triggering alarms a composite's `reasonData` lists, shortened to their names. */
function triggeringAlarms(reasonData: string | undefined): string[] {
  if (!reasonData) return [];
  try {
    const data = JSON.parse(reasonData) as { triggeringAlarms?: { arn?: unknown }[] };
    return (data.triggeringAlarms ?? [])
      .map((t) => (typeof t.arn === 'string' ? t.arn.slice(t.arn.indexOf(':alarm:') + 7) : ''))
      .filter((name) => name.length > 0);
  } catch {
    return [];
  }
}

/** The Nightshift service of an alarm: its service tag, else the config's name or longest prefix. */
export function alarmService(
  alarmName: string,
  tags: Readonly<Record<string, string>> | undefined,
  config: AlarmAlertConfig,
): string | undefined {
  const tagKey = (config.serviceTag ?? 'nightshift:service').toLowerCase();
  const tagged = Object.entries(tags ?? {}).find(([k]) => k.toLowerCase() === tagKey)?.[1];
  if (tagged) return tagged;
  const services = config.services ?? [];
  const exact = services.find((s) => s.name === alarmName);
  if (exact) return exact.service;
  return services
    .filter((s) => s.prefix !== undefined && alarmName.startsWith(s.prefix))
    .sort((a, b) => (b.prefix?.length ?? 0) - (a.prefix?.length ?? 0))[0]?.service;
}

/** The console page of an alarm. */
export function alarmConsoleUrl(region: string, alarmName: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarmName)}`;
}

/**
 * The alert an alarm state change makes, given the alarm's open episode (if the state table has one).
 *
 * @param stateAt when the alarm entered its state (`detail.state.timestamp`, checked against delivery bounds)
 */
export function alarmAlert(
  event: AlarmStateChange,
  stateAt: number,
  recorded: OpenEpisode | undefined,
  config: AlarmAlertConfig,
  /** Episode keys already resolved (the state table's closed markers): never opened or resolved again. */
  closed: ReadonlySet<string> = new Set(),
): AlarmVerdict {
  const { detail } = event;
  const arn = event.resources[0] ?? '';
  const state = detail.state.value;
  const firing = state === 'ALARM' || (state === 'INSUFFICIENT_DATA' && config.insufficientData === 'alert');
  const ownKey = `${arn}@${detail.state.timestamp}`;
  let open = recorded;
  let supersedes: OpenEpisode | undefined;
  if (firing && open && open.key !== ownKey && detail.previousState?.value === 'OK') {
    if (stateAt < open.startedAt) {
      return {
        kind: 'ignored',
        reason: `alarm ${detail.alarmName}: this ALARM of ${detail.state.timestamp} is older than the episode open since ${iso(open.startedAt)} (a late delivery)`,
      };
    }
    // The alarm was OK in between and that OK never arrived: the recorded episode is over, this is a new one.
    supersedes = open;
    open = undefined;
  }
  if (firing && !open && closed.has(ownKey)) {
    return {
      kind: 'ignored',
      reason: `alarm ${detail.alarmName}: the episode of ${detail.state.timestamp} was already resolved (a late or repeated ALARM)`,
    };
  }
  if (!firing && open && state === 'OK' && stateAt < open.startedAt) {
    return {
      kind: 'ignored',
      reason: `alarm ${detail.alarmName}: this OK of ${detail.state.timestamp} is older than the episode open since ${iso(open.startedAt)} (a late delivery)`,
    };
  }
  if (!firing && state === 'INSUFFICIENT_DATA') {
    return {
      kind: 'ignored',
      reason: `alarm ${detail.alarmName} is INSUFFICIENT_DATA, which config ignores (alerts.insufficientData); an open episode stays open until OK`,
    };
  }
  // No open episode recorded (its ALARM event was lost or came before Nightshift): an OK straight from
  // ALARM still names the episode it ends; PagerDuty drops a resolve for a key it never saw.
  const previous = detail.previousState;
  const lastAlarm = !firing && !open && previous?.value === 'ALARM' ? previous.timestamp : undefined;
  if (!firing && !open && (lastAlarm === undefined || closed.has(`${arn}@${lastAlarm}`))) {
    return {
      kind: 'ignored',
      reason: `alarm ${detail.alarmName} is OK and has no open episode: nothing to resolve`,
    };
  }
  const own = config.ownAlarms?.find((a) => a.name === detail.alarmName);
  const decided = own
    ? { severity: own.severity, origin: 'config' as const, notes: [] }
    : resolveSeverity(
        { alarmName: detail.alarmName, tags: detail.alarmTags, tagsStatus: detail.alarmTagsStatus },
        config.severity,
      );
  const key = open?.key ?? (lastAlarm ? `${arn}@${lastAlarm}` : ownKey);
  const startedAt = open?.startedAt ?? (lastAlarm ? (parseAwsTimestamp(lastAlarm) ?? stateAt) : stateAt);
  const children = triggeringAlarms(detail.state.reasonData);
  const description = detail.configuration?.description;
  const reasonParts = [
    detail.state.reason ?? `entered ${state}`,
    ...(children.length > 0 ? [`triggering alarms: ${children.join(', ')}`] : []),
    ...(description ? [`alarm description: ${description}`] : []),
  ];
  const links = [
    { text: 'Alarm in the CloudWatch console', href: alarmConsoleUrl(event.region, detail.alarmName) },
  ];
  if (config.runbookUrl) {
    links.push({
      text: 'Runbook',
      href: config.runbookUrl.replaceAll('{alarm}', encodeURIComponent(detail.alarmName)),
    });
  }
  const service = alarmService(detail.alarmName, detail.alarmTags, config);
  const title = firing
    ? `${detail.alarmName} is in ${state}${service ? ` (${service})` : ''}`
    : `${detail.alarmName} resolved after ${humanDuration(Math.max(0, stateAt - startedAt))}${service ? ` (${service})` : ''}`;
  const notes = [...decided.notes];
  if (supersedes) notes.push(`the episode open since ${iso(supersedes.startedAt)} ended unseen: resolved`);
  if (open && firing && open.key !== ownKey)
    notes.push(`continues the episode open since ${iso(open.startedAt)}`);
  return {
    kind: 'alert',
    opens: firing && !open,
    ...(supersedes ? { supersedes } : {}),
    alert: {
      key,
      source: own ? 'self' : 'alarm',
      status: firing ? 'firing' : 'resolved',
      // A resolution keeps the episode's severity, so it reaches whoever the firing alert reached.
      severity: !firing && open ? open.severity : decided.severity,
      severityOrigin: decided.origin,
      title,
      ...(service ? { service } : {}),
      alarmName: detail.alarmName,
      resource: arn,
      reason: reasonParts.join('\n'),
      links,
      startedAt,
      at: stateAt,
      notes,
    },
  };
}

/**
 * The resolution of an episode whose OK never arrived: CloudWatch shows the alarm OK (or gone), or a later
 * ALARM proves it was OK in between. Same key and severity as the episode, so it closes what it opened.
 */
export function episodeResolved(
  episode: OpenEpisode & { readonly alarmArn: string; readonly alarmName: string; readonly service?: string },
  o: { readonly at: number; readonly why: string; readonly region: string },
): Alert {
  return {
    key: episode.key,
    source: 'alarm',
    status: 'resolved',
    severity: episode.severity,
    severityOrigin: 'config',
    title: `${episode.alarmName} resolved${episode.service ? ` (${episode.service})` : ''}`,
    ...(episode.service ? { service: episode.service } : {}),
    alarmName: episode.alarmName,
    resource: episode.alarmArn,
    reason: o.why,
    links: [{ text: 'Alarm in the CloudWatch console', href: alarmConsoleUrl(o.region, episode.alarmName) }],
    startedAt: episode.startedAt,
    at: o.at,
    notes: ['resolved by Nightshift: the OK state change was not delivered'],
  };
}
