/**
 * Which receivers get an alert: routes tried in order, Alertmanager-style. A route matches when every
 * matcher it has matches (a matcher is a list: any of its values); the first match wins unless it says
 * `continue`, then later routes are tried too. With no match — or when every match said `continue`, so
 * no route claimed the alert — the default routes decide as well. `digest` is the
 * receiver that holds an alert for the daily digest. Pure.
 *
 * @module
 */
import type { Alert, AlertSource, Severity } from './model.ts';

/** The receiver that keeps an alert (in the state table, with a TTL) for the digest instead of sending it. */
export const DIGEST = 'digest';

/** What a route matches; every matcher given must match, each by any of its values. */
export interface RouteMatch {
  readonly severity?: readonly Severity[];
  readonly service?: readonly string[];
  readonly source?: readonly AlertSource[];
  readonly alarmPrefix?: readonly string[];
}

export interface Route {
  /** No matcher: every alert. */
  readonly match?: RouteMatch;
  /** Receiver names from `alerts.receivers`, or `digest`. */
  readonly receivers: readonly string[];
  /** Keep trying later routes after this one matched. @default false */
  readonly continue?: boolean;
}

/** The routing decision for one alert: its receivers (each once, in route order) and the routes that matched. */
export interface RoutingDecision {
  readonly receivers: readonly string[];
  /** Indexes of the matched routes; `default` when none matched and the defaults decided. */
  readonly matched: readonly number[] | 'default';
}

/** critical → every PagerDuty and Slack receiver; warning → Slack; info → the digest (receiver names). */
export function defaultRoutes(names: { pagerduty?: readonly string[]; slack?: readonly string[] }): Route[] {
  const chat = names.slack ?? [];
  return [
    { match: { severity: ['critical'] }, receivers: [...(names.pagerduty ?? []), ...chat] },
    { match: { severity: ['warning'] }, receivers: chat },
    { match: { severity: ['info'] }, receivers: [DIGEST] },
  ];
}

/** Routes `alert` through `routes`, falling back to `defaults` when none matches. */
export function routeAlert(
  alert: Alert,
  routes: readonly Route[],
  defaults: readonly Route[],
): RoutingDecision {
  const matched = walk(alert, routes);
  const fallback = receiversOf(defaults, walk(alert, defaults));
  if (matched.length === 0) return { receivers: fallback, matched: 'default' };
  const claimed = routes[matched[matched.length - 1] as number]?.continue !== true;
  const receivers = receiversOf(routes, matched);
  return { receivers: claimed ? receivers : [...new Set([...receivers, ...fallback])], matched };
}

function walk(alert: Alert, routes: readonly Route[]): number[] {
  const matched: number[] = [];
  for (const [index, route] of routes.entries()) {
    if (!matches(alert, route.match)) continue;
    matched.push(index);
    if (!route.continue) break;
  }
  return matched;
}

function receiversOf(routes: readonly Route[], indexes: readonly number[]): string[] {
  return [...new Set(indexes.flatMap((i) => routes[i]?.receivers ?? []))];
}

/** Whether every matcher `match` has matches the alert (an empty list matches nothing). */
export function matches(alert: Alert, match: RouteMatch | undefined): boolean {
  if (!match) return true;
  const { severity, service, source, alarmPrefix } = match;
  if (severity && !severity.includes(alert.severity)) return false;
  if (source && !source.includes(alert.source)) return false;
  if (service && (alert.service === undefined || !service.includes(alert.service))) return false;
  if (alarmPrefix) {
    const name = alert.alarmName;
    if (name === undefined || !alarmPrefix.some((prefix) => name.startsWith(prefix))) return false;
  }
  return true;
}
