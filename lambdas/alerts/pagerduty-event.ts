/**
 * An alert as a PagerDuty Events API v2 event: `trigger` with `dedup_key` = the alert's identity,
 * `resolve` with the same key; summary at most 1,024 characters, dedup_key at most 255 (longer keys are
 * hashed, deterministically). Pure. The routing key is added by the sender, never stored with the alert.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { iso } from '#shared/time';
import type { Alert } from './model.ts';
import { truncate } from './text.ts';

export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, source: 255 } as const;

/** PagerDuty's `dedup_key` for an alert key: the key itself, or a hash of it when it is too long. */
export function dedupKey(alertKey: string): string {
  if (alertKey.length <= PAGERDUTY_LIMITS.dedupKey) return alertKey;
  return `nightshift:sha256:${createHash('sha256').update(alertKey).digest('hex')}`;
}

/** The event without its routing key. */
export function pagerDutyEvent(alert: Alert): Record<string, unknown> {
  const dedup_key = dedupKey(alert.key);
  if (alert.status === 'resolved') return { event_action: 'resolve', dedup_key };
  return {
    event_action: 'trigger',
    dedup_key,
    client: 'Nightshift',
    payload: {
      summary: truncate(alert.title, PAGERDUTY_LIMITS.summary),
      source: truncate(alert.resource, PAGERDUTY_LIMITS.source),
      severity: alert.severity,
      timestamp: iso(alert.at),
      ...(alert.service ? { component: alert.service } : {}),
      class: alert.source,
      custom_details: {
        what_happened: alert.reason,
        ...(alert.action ? { what_nightshift_did: alert.action } : {}),
        ...(alert.alarmName ? { alarm: alert.alarmName } : {}),
        started: iso(alert.startedAt),
        severity_from: alert.severityOrigin,
        ...(alert.notes.length > 0 ? { notes: alert.notes } : {}),
      },
    },
    links: alert.links.map((l) => ({ href: l.href, text: l.text })),
  };
}

/**
 * What Nightshift did about an open episode, as another `trigger` with the episode's `dedup_key`:
 * PagerDuty appends it to that alert's log (no new incident, no new notification), so the responder reads
 * "Rollback Performed: api" on the incident.
 */
export function pagerDutyEpisodeNote(
  alert: Alert,
  episode: { readonly key: string; readonly severity: Alert['severity'] },
): Record<string, unknown> {
  return {
    event_action: 'trigger',
    dedup_key: dedupKey(episode.key),
    client: 'Nightshift',
    payload: {
      summary: truncate(
        `Nightshift: ${alert.title}${alert.action ? ` — ${alert.action}` : ''}`,
        PAGERDUTY_LIMITS.summary,
      ),
      source: truncate(alert.resource, PAGERDUTY_LIMITS.source),
      // The episode's severity: a note must not lower (or raise) the incident's urgency.
      severity: episode.severity,
      timestamp: iso(alert.at),
      ...(alert.service ? { component: alert.service } : {}),
      class: 'nightshift-action',
      custom_details: {
        what_nightshift_did: alert.action ?? alert.title,
        why: alert.reason,
        event_key: alert.key,
      },
    },
  };
}

/**
 * An automated action as a PagerDuty change event (`/v2/change/enqueue`): shown among the service's recent
 * changes, never notifying. Change events have no `dedup_key`: once-only comes from the delivery record.
 */
export function pagerDutyChangeEvent(alert: Alert): Record<string, unknown> {
  return {
    payload: {
      summary: truncate(
        `${alert.title}${alert.action ? ` — ${alert.action}` : ''}`,
        PAGERDUTY_LIMITS.summary,
      ),
      source: truncate(alert.resource, PAGERDUTY_LIMITS.source),
      timestamp: iso(alert.at),
      custom_details: { what_happened: alert.reason, event_key: alert.key, severity: alert.severity },
    },
    links: alert.links.map((l) => ({ href: l.href, text: l.text })),
  };
}
