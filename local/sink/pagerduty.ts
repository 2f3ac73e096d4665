/**
 * PagerDuty's Events API v2 as the sink serves it: `POST /v2/enqueue` (alert events) and
 * `POST /v2/change/enqueue` (change events), validated as PagerDuty's published schema states
 * (PagerDuty/api-schema `reference/events-v2/openapiv3.json`: `routing_key` and `event_action` required,
 * `event_action` trigger|acknowledge|resolve, `payload` {summary, source, severity} required with severity
 * critical|warning|error|info, `timestamp` date-time, `custom_details` object, links[{href, text?}],
 * images[{src, href?, alt?}]) and its docs (PagerDuty/developer-docs `docs/events-API-v2`: routing key 32
 * characters, `dedup_key` at most 255, `summary` at most 1024, payloads at most 512 KB).
 *
 * Answers: 202 `{status: 'success', message: 'Event processed', dedup_key}`; 400 `{status: 'invalid event',
 * message: 'Event object is invalid', errors}` naming each failing field; a body that is not JSON gets the
 * schema's Error example `{status: 'Unrecognized object', message: 'Event object format is unrecognized',
 * errors: ['JSON parse error']}`; 429 past {@link PAGERDUTY_EVENTS_PER_MINUTE} per routing key.
 *
 * A well-formed routing key that names no integration is accepted (202) and the event dropped: the API is
 * asynchronous and reports nothing more (PagerDuty/pdpyras#94: 202 "Event processed", no incident anywhere).
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { blank, validateAlert, validateChange, validateContext } from './pagerduty-validation.ts';
import { isObject, jsonAnswer, parseJson, type SinkAnswer } from './wire.ts';

/**
 * Events a routing key may send per minute before 429. PagerDuty "dynamically adjust[s]" its limits per
 * service (developer-docs 01-Overview); 120/min is the figure its community forum gives per integration key.
 */
export const PAGERDUTY_EVENTS_PER_MINUTE = 120;
/** Largest body PagerDuty takes: 512 KB. */
export const PAGERDUTY_MAX_BYTES = 512 * 1024;

/** One alert, from the trigger that opened it; its log holds every event applied to it. */
export interface PagerDutyAlert {
  readonly service: string;
  /** The integration's opaque label (never the routing key). */
  readonly integration: string;
  readonly dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  readonly openedAt: number;
  acknowledgedAt?: number;
  resolvedAt?: number;
  readonly log: {
    readonly at: number;
    readonly action: string;
    readonly summary?: string;
    readonly severity?: string;
  }[];
}

/** One change event as its service keeps it. */
export interface PagerDutyChange {
  readonly at: number;
  readonly integration: string;
  readonly summary: string;
  readonly payload: Record<string, unknown>;
  readonly links: unknown[];
}

/** What the sink did with an event. */
export type PagerDutyDisposition =
  | 'opened'
  | 'appended'
  | 'acknowledged'
  | 'resolved'
  | 'dropped'
  | 'change'
  | 'invalid'
  | 'throttled';

/** What an Events API request came to; `body` has the routing key replaced by the integration's label. */
export interface PagerDutyOutcome {
  readonly answer: SinkAnswer;
  readonly label: string;
  readonly body: unknown;
  readonly disposition: PagerDutyDisposition;
  readonly dedupKey?: string;
}

interface Integration {
  readonly service: string;
  readonly label: string;
}

const invalid = (errors: string[]): SinkAnswer =>
  jsonAnswer(400, { status: 'invalid event', message: 'Event object is invalid', errors });
const unrecognized = (): SinkAnswer =>
  jsonAnswer(400, {
    status: 'Unrecognized object',
    message: 'Event object format is unrecognized',
    errors: ['JSON parse error'],
  });
const throttled = (): SinkAnswer =>
  jsonAnswer(429, {
    status: 'throttle event',
    message: 'Requests for this service are arriving too quickly. Please retry later.',
  });

/** Integrations, alerts by (routing key, dedup_key), and change events per service. */
export class PagerDutyEvents {
  private readonly integrations = new Map<string, Integration>();
  private readonly open = new Map<string, PagerDutyAlert>();
  private readonly alertList: PagerDutyAlert[] = [];
  private readonly changeList: (PagerDutyChange & { readonly service: string })[] = [];
  private readonly recent = new Map<string, number[]>();

  /** A new Events API v2 integration on `service`: its 32-character routing key. */
  createIntegration(o: { readonly service: string }): string {
    const key = randomBytes(16).toString('hex');
    this.integrations.set(key, {
      service: o.service,
      label: `pd:${o.service}#${this.integrations.size + 1}`,
    });
    return key;
  }

  /** The opaque label of the integration a routing key belongs to (never the key). */
  labelOf(routingKey: unknown): string {
    if (typeof routingKey !== 'string') return 'pd:no-key';
    return this.integrations.get(routingKey)?.label ?? 'pd:unknown-key';
  }

  /** Alerts of a service, in the order they were opened. */
  alerts(service: string): readonly PagerDutyAlert[] {
    return this.alertList.filter((a) => a.service === service);
  }

  /** Change events of a service, in order. */
  changes(service: string): readonly PagerDutyChange[] {
    return this.changeList.filter((c) => c.service === service);
  }

  /** Handles `POST /v2/enqueue`. */
  enqueue(raw: Buffer, at: number): PagerDutyOutcome {
    return this.handle(raw, at, validateAlert, (body, key, label) => this.applyAlert(body, key, label, at));
  }

  /** Handles `POST /v2/change/enqueue`: kept per service, never deduplicated, never notifying. */
  change(raw: Buffer, at: number): PagerDutyOutcome {
    return this.handle(raw, at, validateChange, (body, key, label) => {
      const integration = this.integrations.get(key);
      if (integration) {
        const payload = body.payload as Record<string, unknown>;
        this.changeList.push({
          service: integration.service,
          integration: label,
          at,
          summary: String(payload.summary),
          payload,
          links: Array.isArray(body.links) ? body.links : [],
        });
      }
      return {
        answer: jsonAnswer(202, { status: 'success', message: 'Change event processed' }),
        disposition: integration ? 'change' : 'dropped',
      };
    });
  }

  private handle(
    raw: Buffer,
    at: number,
    validate: (body: Record<string, unknown>, errors: string[]) => void,
    apply: (
      body: Record<string, unknown>,
      key: string,
      label: string,
    ) => { answer: SinkAnswer; disposition: PagerDutyDisposition; dedupKey?: string },
  ): PagerDutyOutcome {
    const parsed = parseJson(raw);
    if (!parsed || !isObject(parsed.value)) {
      return { answer: unrecognized(), label: 'pd:unknown', body: undefined, disposition: 'invalid' };
    }
    const event = parsed.value;
    const key = event.routing_key;
    const label = this.labelOf(key);
    const body = { ...event, ...(key === undefined ? {} : { routing_key: label }) };
    const errors: string[] = [];
    if (raw.length > PAGERDUTY_MAX_BYTES) errors.push('Event object is larger than 512 KB');
    if (blank(key)) errors.push("'routing_key' is missing or blank");
    else if ((key as string).length !== 32)
      errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    validate(event, errors);
    validateContext(event, errors);
    if (errors.length > 0) return { answer: invalid(errors), label, body, disposition: 'invalid' };
    if (this.throttle(key as string, at))
      return { answer: throttled(), label, body, disposition: 'throttled' };
    return { ...apply(event, key as string, label), label, body };
  }

  /** Sliding one-minute window per routing key, on virtual time. */
  private throttle(key: string, at: number): boolean {
    const times = (this.recent.get(key) ?? []).filter((t) => t > at - 60_000);
    this.recent.set(key, times);
    if (times.length >= PAGERDUTY_EVENTS_PER_MINUTE) return true;
    times.push(at);
    return false;
  }

  private applyAlert(
    body: Record<string, unknown>,
    key: string,
    label: string,
    at: number,
  ): { answer: SinkAnswer; disposition: PagerDutyDisposition; dedupKey: string } {
    const action = body.event_action as 'trigger' | 'acknowledge' | 'resolve';
    // Omitted on a trigger, PagerDuty makes one: every such trigger opens a new alert.
    const dedupKey = typeof body.dedup_key === 'string' ? body.dedup_key : randomUUID().replaceAll('-', '');
    const answer = jsonAnswer(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
    const integration = this.integrations.get(key);
    if (!integration) return { answer, disposition: 'dropped', dedupKey };
    const slot = `${key}\n${dedupKey}`;
    const alert = this.open.get(slot);
    const payload = isObject(body.payload) ? body.payload : {};
    if (action === 'trigger') {
      const entry = { at, action, summary: String(payload.summary), severity: String(payload.severity) };
      if (alert) {
        // "If there's already an open incident with a matching key, this event will be appended to that
        // incident's log" (PagerDuty's incident_key semantics, as quoted in community.general#7183).
        alert.log.push(entry);
        return { answer, disposition: 'appended', dedupKey };
      }
      const opened: PagerDutyAlert = {
        service: integration.service,
        integration: label,
        dedupKey,
        status: 'triggered',
        openedAt: at,
        log: [entry],
      };
      this.open.set(slot, opened);
      this.alertList.push(opened);
      return { answer, disposition: 'opened', dedupKey };
    }
    // Acknowledge or resolve of an unknown or already resolved alert is dropped, still 202.
    if (!alert) return { answer, disposition: 'dropped', dedupKey };
    alert.log.push({ at, action });
    if (action === 'acknowledge') {
      alert.status = 'acknowledged';
      alert.acknowledgedAt = at;
      return { answer, disposition: 'acknowledged', dedupKey };
    }
    alert.status = 'resolved';
    alert.resolvedAt = at;
    this.open.delete(slot); // a later trigger with the same key opens a new alert
    return { answer, disposition: 'resolved', dedupKey };
  }
}
