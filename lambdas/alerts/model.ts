/**
 * The alert: what one alarm episode or one Nightshift action means to the people on call, whichever
 * receiver shows it. Pure data; the router builds it from an event, routes it and hands it to senders.
 *
 * @module
 */

import type { Severity } from '#shared/publisher';

/** How urgent an alert is (the severity every `nightshift` event carries). `critical` pages; `warning` goes to chat; `info` waits for the digest. */
export type { Severity };

/** Every severity, most urgent first. */
export const SEVERITIES = ['critical', 'warning', 'info'] as const satisfies readonly Severity[];

/** Where an alert comes from. */
export type AlertSource =
  /** A `CloudWatch Alarm State Change` of an alarm Nightshift guards or config names. */
  | 'alarm'
  /** An event a Nightshift runbook published (source `nightshift`). */
  | 'nightshift'
  /** An `ECS Deployment State Change` `SERVICE_DEPLOYMENT_FAILED`. */
  | 'ecs-deployment'
  /** Nightshift's own alarms: function errors, DLQs, dead-man's switches. */
  | 'self';

/** Every source. */
export const ALERT_SOURCES = [
  'alarm',
  'nightshift',
  'ecs-deployment',
  'self',
] as const satisfies readonly AlertSource[];

/** How a severity was decided, in the order they are tried (see `resolveSeverity`). */
export type SeverityOrigin = 'event' | 'tag' | 'name' | 'config' | 'default';

/** One alert, as routing, silences and every receiver see it. */
export interface Alert {
  /**
   * Identity: for an alarm, its episode (`<alarm ARN>#<time it entered ALARM>`, the key the rollback uses);
   * for a `nightshift` event, its `detail.eventKey`. Receivers deduplicate on it (PagerDuty's `dedup_key`).
   */
  readonly key: string;
  readonly source: AlertSource;
  /** `firing` opens or continues an episode; `resolved` closes it. */
  readonly status: 'firing' | 'resolved';
  readonly severity: Severity;
  readonly severityOrigin: SeverityOrigin;
  readonly title: string;
  /** The Nightshift service it concerns, when there is one. */
  readonly service?: string;
  /** The alarm's name (alarm sources only); routes and silences match its prefix. */
  readonly alarmName?: string;
  /** The resource: an alarm ARN, a service ARN, a DB identifier. */
  readonly resource: string;
  /** What happened and why: the reason Nightshift (or CloudWatch) recorded. */
  readonly reason: string;
  /** What Nightshift did or will do about it, when anything. */
  readonly action?: string;
  readonly links: readonly { readonly text: string; readonly href: string }[];
  /** When the episode started (epoch ms) and when this alert's event happened. */
  readonly startedAt: number;
  readonly at: number;
  /** Things the reader should know about the alert itself, e.g. "tags not propagated: severity from name". */
  readonly notes: readonly string[];
  /** For a `nightshift` event about an alarm episode (a rollback for it): that episode's key. */
  readonly episode?: string;
  /** Nightshift changed something (rolled back, skipped a snapshot…): PagerDuty shows it as a change event. */
  readonly automated?: boolean;
}
