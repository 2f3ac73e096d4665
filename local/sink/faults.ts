/**
 * Faults the sink injects in front of a service's real answer: a status code (with the body that service
 * sends for it), a request held until the client gives up, or a real answer sent late.
 *
 * @module
 */
import { jsonAnswer, type SinkAnswer, textAnswer } from './wire.ts';

/** The services the sink plays; a fault names one. */
export type SinkService = 'slack-webhook' | 'slack-api' | 'pagerduty';

/** What a fault does to a request. */
export type SinkFaultKind = 'status' | 'timeout' | 'latency';

/** A fault to inject with {@link FaultInjector.inject}. */
export interface SinkFault {
  readonly service: SinkService;
  /** `status`: answer with {@link status}; `timeout`: never answer; `latency`: answer late. */
  readonly kind: SinkFaultKind;
  /** The status a `status` fault answers with. @default 500 */
  readonly status?: number;
  /** `Retry-After` (seconds) of a 429 `status` fault. @default 1 */
  readonly retryAfterSeconds?: number;
  /** Real milliseconds a `latency` fault delays the answer by. @default 1000 */
  readonly latencyMs?: number;
  /** How many requests the fault hits before it is spent. @default unlimited */
  readonly count?: number;
  /** Chance (0–1) that a request is hit. @default 1 */
  readonly probability?: number;
  /** Source of randomness for {@link probability}. @default Math.random */
  readonly random?: () => number;
}

interface Armed {
  readonly fault: SinkFault;
  left: number;
}

/** Injected faults, drawn per request, with counts of how many requests each kind hit. */
export class FaultInjector {
  private readonly armed: Armed[] = [];
  private readonly hits = new Map<string, number>();

  /** Arms a fault; faults of a service are drawn in the order they were injected. */
  inject(fault: SinkFault): void {
    this.armed.push({ fault, left: fault.count ?? Number.POSITIVE_INFINITY });
  }

  /** Disarms every fault (counts are kept). */
  clear(): void {
    this.armed.length = 0;
  }

  /** How many requests faults hit, per `service/kind` (e.g. `pagerduty/timeout`). */
  counts(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.hits);
  }

  /** The faults that hit this request of `service` (each one spends one of its count). */
  draw(service: SinkService): SinkFault[] {
    const drawn: SinkFault[] = [];
    for (const entry of this.armed) {
      const { fault } = entry;
      if (fault.service !== service || entry.left <= 0) continue;
      if ((fault.random ?? Math.random)() >= (fault.probability ?? 1)) continue;
      entry.left -= 1;
      drawn.push(fault);
      const key = `${service}/${fault.kind}`;
      this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
    }
    return drawn;
  }
}

/**
 * The answer a `status` fault gives, shaped as each service sends it: Slack webhooks a short text body
 * (`rollup_error` is its documented 500 body — api.slack.com/changelog/2016-05-17-changes-to-errors-for-
 * incoming-webhooks), Slack's Web API `{ok:false,error}`, PagerDuty its Error schema `{status, message}`
 * (PagerDuty/api-schema reference/events-v2/openapiv3.json, components.responses.Error).
 */
export function faultAnswer(fault: SinkFault): SinkAnswer {
  const status = fault.status ?? 500;
  const retry: Record<string, string> =
    status === 429 ? { 'retry-after': String(fault.retryAfterSeconds ?? 1) } : {};
  switch (fault.service) {
    case 'slack-webhook':
      return textAnswer(status, SLACK_WEBHOOK_BODIES[status] ?? 'rollup_error', retry);
    case 'slack-api':
      return jsonAnswer(status, { ok: false, error: SLACK_API_ERRORS[status] ?? 'internal_error' }, retry);
    case 'pagerduty':
      return jsonAnswer(status, PAGERDUTY_BODIES[status] ?? PAGERDUTY_BODIES[500], retry);
  }
}

const SLACK_WEBHOOK_BODIES: Record<number, string> = {
  429: 'rate_limited',
  500: 'rollup_error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

const SLACK_API_ERRORS: Record<number, string> = {
  429: 'ratelimited',
  500: 'internal_error',
  502: 'internal_error',
  503: 'service_unavailable',
};

const PAGERDUTY_BODIES: Record<number, { status: string; message: string }> = {
  429: {
    status: 'throttle event',
    message: 'Requests for this service are arriving too quickly. Please retry later.',
  },
  500: { status: 'Internal Server Error', message: 'The server encountered an error processing the event.' },
  502: { status: 'Bad Gateway', message: 'The server encountered an error processing the event.' },
  503: { status: 'Service Unavailable', message: 'The service is temporarily unavailable.' },
};
