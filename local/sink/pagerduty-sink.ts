/**
 * PagerDuty Events API v2 as the sink serves it: validation as PagerDuty's published schema states it
 * (PagerDuty/api-schema `reference/events-v2/openapiv3.json`, docs `events-API-v2`), alerts opened,
 * appended to and resolved by `dedup_key` per integration, change events kept per service, and a rate
 * limit per routing key. Answers: 202 `{status, message, dedup_key}`, 400 `{status: 'invalid event',
 * message, errors}`, 429.
 *
 * Where PagerDuty's docs say nothing — a well-formed routing key that names no integration — the sink
 * answers 400 with "Invalid routing key", so a wrong key ends in the DLQ instead of vanishing.
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** One alert (PagerDuty's unit before incidents): its log holds every trigger sent while it was open. */
export interface SinkPagerDutyAlert {
  readonly dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  readonly openedAt: number;
  resolvedAt?: number;
  readonly log: { at: number; action: string; summary?: string; severity?: string }[];
}

export interface SinkAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Events per minute per routing key before 429 (community figure; PagerDuty adjusts it per service). */
export const PAGERDUTY_EVENTS_PER_MINUTE = 120;

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const invalid = (errors: string[]): SinkAnswer => ({
  status: 400,
  body: { status: 'invalid event', message: 'Event object is invalid', errors },
});
const str = (v: unknown) => typeof v === 'string';

export class PagerDutySink {
  private readonly services = new Map<string, string>();
  private readonly alertsByKey = new Map<string, SinkPagerDutyAlert[]>();
  private readonly changeEvents = new Map<
    string,
    { at: number; summary: string; body: Record<string, unknown> }[]
  >();
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly now: () => number) {}

  /** A new Events API v2 integration on `service`: its 32-character routing key. */
  createIntegration(o: { service: string }): string {
    const key = randomBytes(16).toString('hex');
    this.services.set(key, o.service);
    return key;
  }

  /** The service a routing key belongs to (the label records use instead of the key). */
  serviceOf(routingKey: unknown): string | undefined {
    return typeof routingKey === 'string' ? this.services.get(routingKey) : undefined;
  }

  alerts(service: string): SinkPagerDutyAlert[] {
    return [...this.alertsByKey.entries()]
      .filter(([k]) => k.startsWith(`${service}\n`))
      .flatMap(([, v]) => v);
  }

  changes(service: string) {
    return this.changeEvents.get(service) ?? [];
  }

  private throttled(key: string): boolean {
    const now = this.now();
    const times = (this.recent.get(key) ?? []).filter((t) => t > now - 60_000);
    if (times.length >= PAGERDUTY_EVENTS_PER_MINUTE) return true;
    times.push(now);
    this.recent.set(key, times);
    return false;
  }

  private routing(body: Record<string, unknown>, errors: string[]): string | undefined {
    const key = body.routing_key;
    if (!str(key)) errors.push("'routing_key' is missing or not a string");
    else if ((key as string).length !== 32)
      errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    else if (!this.services.has(key as string)) errors.push('Invalid routing key');
    return errors.length === 0 ? this.services.get(key as string) : undefined;
  }

  private links(body: Record<string, unknown>, errors: string[]): void {
    if (body.links !== undefined) {
      if (!Array.isArray(body.links)) errors.push("'links' must be an array");
      else
        for (const [i, l] of body.links.entries())
          if (!str((l as { href?: unknown })?.href)) errors.push(`'links[${i}].href' is required`);
    }
    if (body.images !== undefined) {
      if (!Array.isArray(body.images)) errors.push("'images' must be an array");
      else
        for (const [i, im] of body.images.entries())
          if (!str((im as { src?: unknown })?.src)) errors.push(`'images[${i}].src' is required`);
    }
  }

  /** `POST /v2/enqueue`. */
  enqueue(body: Record<string, unknown>, bytes: number): SinkAnswer {
    const errors: string[] = [];
    if (bytes > 512 * 1024) errors.push('Event object is larger than 512 KB');
    const service = this.routing(body, errors);
    const action = body.event_action;
    if (!['trigger', 'acknowledge', 'resolve'].includes(String(action))) {
      errors.push("'event_action' is missing or invalid (should be trigger, acknowledge or resolve)");
    }
    const dedup = body.dedup_key;
    if (dedup !== undefined && (!str(dedup) || (dedup as string).length > 255))
      errors.push("Length of 'dedup_key' is incorrect (should be 1 to 255 characters)");
    if (action !== 'trigger' && dedup === undefined)
      errors.push("'dedup_key' is required for acknowledge and resolve");
    const payload = body.payload as Record<string, unknown> | undefined;
    if (action === 'trigger') {
      if (!payload || typeof payload !== 'object') errors.push("'payload' is missing");
      else {
        if (!str(payload.summary) || (payload.summary as string).length === 0)
          errors.push("'payload.summary' is missing");
        else if ((payload.summary as string).length > 1024)
          errors.push("Length of 'payload.summary' is incorrect (should be 1 to 1024 characters)");
        if (!str(payload.source) || (payload.source as string).length === 0)
          errors.push("'payload.source' is missing");
        if (!SEVERITIES.includes(String(payload.severity)))
          errors.push("'payload.severity' is invalid (should be critical, error, warning or info)");
        if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp))))
          errors.push("'payload.timestamp' is not ISO 8601");
        for (const f of ['component', 'group', 'class'] as const)
          if (payload[f] !== undefined && !str(payload[f])) errors.push(`'payload.${f}' must be a string`);
        if (
          payload.custom_details !== undefined &&
          (typeof payload.custom_details !== 'object' || payload.custom_details === null)
        )
          errors.push("'payload.custom_details' must be an object");
      }
    }
    this.links(body, errors);
    if (errors.length > 0 || !service) return invalid(errors);
    if (this.throttled(String(body.routing_key))) return throttle();
    const key = str(dedup) ? (dedup as string) : randomUUID().replaceAll('-', '');
    const list = this.alertsByKey.get(`${service}\n${key}`) ?? [];
    this.alertsByKey.set(`${service}\n${key}`, list);
    const open = list.find((a) => a.status !== 'resolved');
    const at = this.now();
    if (action === 'trigger') {
      const entry = {
        at,
        action: 'trigger',
        summary: String(payload?.summary),
        severity: String(payload?.severity),
      };
      if (open) open.log.push(entry);
      else list.push({ dedupKey: key, status: 'triggered', openedAt: at, log: [entry] });
    } else if (open) {
      // Acknowledge and resolve of an unknown or resolved alert are dropped (still 202), as PagerDuty does.
      open.status = action === 'resolve' ? 'resolved' : 'acknowledged';
      if (action === 'resolve') open.resolvedAt = at;
      open.log.push({ at, action: String(action) });
    }
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
  }

  /** `POST /v2/change/enqueue`: shown on the service, never notifying; no dedup_key. */
  change(body: Record<string, unknown>, bytes: number): SinkAnswer {
    const errors: string[] = [];
    if (bytes > 512 * 1024) errors.push('Event object is larger than 512 KB');
    const service = this.routing(body, errors);
    const payload = body.payload as Record<string, unknown> | undefined;
    if (!payload || !str(payload.summary) || (payload.summary as string).length === 0)
      errors.push("'payload.summary' is missing");
    else if ((payload.summary as string).length > 1024)
      errors.push("Length of 'payload.summary' is incorrect (should be 1 to 1024 characters)");
    this.links(body, errors);
    if (errors.length > 0 || !service) return invalid(errors);
    if (this.throttled(String(body.routing_key))) return throttle();
    const list = this.changeEvents.get(service) ?? [];
    const { routing_key: _secret, ...kept } = body;
    list.push({ at: this.now(), summary: String(payload?.summary), body: kept });
    this.changeEvents.set(service, list);
    return { status: 202, body: { status: 'success', message: 'Change event processed' } };
  }
}

function throttle(): SinkAnswer {
  return {
    status: 429,
    body: {
      status: 'throttle event',
      message: 'Requests for this service are arriving too quickly. Please retry later.',
    },
  };
}
