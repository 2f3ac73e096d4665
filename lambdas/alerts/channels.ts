/**
 * Sending one alert to one receiver over its API, and what the answer means: sent, retry later (429, 5xx,
 * no answer), or rejected for good (the request itself is wrong: to the DLQ with the service's words, no
 * retry). The secret (webhook URL, routing key) is passed in and never put into a result.
 *
 * @module
 */
import { type HttpAnswer, HttpFailure, postJson, retryAfterMs } from './http.ts';
import type { Alert } from './model.ts';
import { pagerDutyChangeEvent, pagerDutyEpisodeNote, pagerDutyEvent } from './pagerduty-event.ts';
import { slackMessage } from './slack-message.ts';

export type SendResult =
  | { readonly kind: 'sent'; readonly receipt: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'rejected'; readonly reason: string };

/** Per request. */
const TIMEOUT_MS = 10_000;

const PAGERDUTY_BASE = { us: 'https://events.pagerduty.com', eu: 'https://events.eu.pagerduty.com' } as const;

/** The Events API base URL of a PagerDuty receiver: its override, else its region's. */
export function pagerDutyBaseUrl(o: { region: 'us' | 'eu'; eventsBaseUrl?: string }): string {
  return (o.eventsBaseUrl ?? PAGERDUTY_BASE[o.region]).replace(/\/+$/, '');
}

/** An answer's body shortened for a reason (error bodies are short; a proxy's HTML page is not). */
const said = (answer: HttpAnswer) => answer.body.replace(/\s+/g, ' ').trim().slice(0, 500);

/**
 * A reason with every secret taken out: an API (or a proxy in front of it) may echo the request path or
 * body in its answer, and reasons reach the DLQ and the logs.
 */
function redact(result: SendResult, secrets: readonly string[]): SendResult {
  if (result.kind === 'sent') return result;
  let reason = result.reason;
  for (const secret of secrets.filter((x) => x.length >= 8)) reason = reason.replaceAll(secret, '[redacted]');
  return { ...result, reason };
}

async function exchange(
  send: () => Promise<HttpAnswer>,
  judge: (answer: HttpAnswer) => SendResult,
  what: string,
  secrets: readonly string[],
): Promise<SendResult> {
  return redact(await rawExchange(send, judge, what), secrets);
}

async function rawExchange(
  send: () => Promise<HttpAnswer>,
  judge: (answer: HttpAnswer) => SendResult,
  what: string,
): Promise<SendResult> {
  let answer: HttpAnswer;
  try {
    answer = await send();
  } catch (error) {
    if (error instanceof HttpFailure) return { kind: 'retry', reason: `${what}: ${error.message}` };
    throw error;
  }
  if (answer.status === 429) {
    const after = retryAfterMs(answer.headers, Date.now());
    return {
      kind: 'retry',
      reason: `${what}: 429 rate limited${after === undefined ? '' : ` (Retry-After ${after / 1000} s)`}`,
      ...(after === undefined ? {} : { retryAfterMs: after }),
    };
  }
  if (answer.status >= 500) return { kind: 'retry', reason: `${what}: ${answer.status} ${said(answer)}` };
  return judge(answer);
}

/** A PagerDuty delivery: the alert, a note on an open episode, or a change event. */
export type PagerDutyDelivery =
  | { readonly kind: 'alert' }
  | {
      readonly kind: 'episode-note';
      readonly episode: { readonly key: string; readonly severity: Alert['severity'] };
    }
  | { readonly kind: 'change' };

/** PagerDuty Events API v2: 202 is accepted; 400 is PagerDuty refusing the event (its `message` and `errors`). */
export function sendToPagerDuty(
  alert: Alert,
  routingKey: string,
  baseUrl: string,
  delivery: PagerDutyDelivery = { kind: 'alert' },
): Promise<SendResult> {
  const body =
    delivery.kind === 'change'
      ? pagerDutyChangeEvent(alert)
      : delivery.kind === 'episode-note'
        ? pagerDutyEpisodeNote(alert, delivery.episode)
        : pagerDutyEvent(alert);
  const event: Record<string, unknown> = { routing_key: routingKey, ...body };
  const path = delivery.kind === 'change' ? '/v2/change/enqueue' : '/v2/enqueue';
  return exchange(
    () => postJson(new URL(`${baseUrl}${path}`), event, { timeoutMs: TIMEOUT_MS }),
    (answer) => {
      if (answer.status === 202) {
        const what =
          delivery.kind === 'change' ? 'change' : `${String(event.event_action)} ${String(event.dedup_key)}`;
        return { kind: 'sent', receipt: `pagerduty ${what}` };
      }
      let detail = said(answer);
      try {
        const parsed = JSON.parse(answer.body) as { message?: unknown; errors?: unknown };
        detail = `${String(parsed.message ?? '')}${Array.isArray(parsed.errors) ? `: ${parsed.errors.map(String).join('; ')}` : ''}`;
      } catch {
        // not JSON: the body as it came
      }
      return { kind: 'rejected', reason: `PagerDuty answered ${answer.status}: ${detail.slice(0, 1000)}` };
    },
    'PagerDuty',
    [routingKey],
  );
}

/**
 * A Slack incoming webhook: 200 with the body `ok` is posted. Anything else is not: a 200 with another body
 * is reported rather than taken for success (a hook that "answers 200 and posts nothing").
 */
export function sendToSlackWebhook(alert: Alert, webhookUrl: string): Promise<SendResult> {
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    return Promise.resolve({ kind: 'rejected', reason: 'the webhook URL parameter does not hold a URL' });
  }
  return exchange(
    () => postJson(url, slackMessage(alert), { timeoutMs: TIMEOUT_MS }),
    (answer) =>
      answer.status === 200 && answer.body.trim() === 'ok'
        ? { kind: 'sent', receipt: 'slack webhook ok' }
        : { kind: 'rejected', reason: `Slack answered ${answer.status}: ${said(answer)}` },
    'Slack',
    [webhookUrl, url.pathname, url.pathname.split('/').pop() ?? ''],
  );
}

/** Slack Web API errors a later try may cure; every other `ok: false` is the request or the token at fault. */
const SLACK_TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** Errors that refuse the token itself: the next read of its parameter skips the cache. */
export const SLACK_TOKEN_REFUSED = new Set([
  'not_authed',
  'invalid_auth',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

/** A Web API answer: sent with the message's `ts` and channel id, or why not (Slack's `error`). */
export type SlackApiResult =
  | { readonly kind: 'sent'; readonly receipt: string; readonly ts: string; readonly channel: string }
  | (Exclude<SendResult, { kind: 'sent' }> & { readonly error?: string });

/**
 * One Slack Web API call (`chat.postMessage`, `chat.update`) with a bot token. Slack answers 200 with
 * `ok: true` and the message's `ts`, or 200 with `ok: false` and an `error`; 429 with `Retry-After` when
 * rate limited.
 */
export async function callSlackApi(
  baseUrl: string,
  method: 'chat.postMessage' | 'chat.update',
  token: string,
  body: Record<string, unknown>,
): Promise<SlackApiResult> {
  let url: URL;
  try {
    url = new URL(`${baseUrl.replace(/\/+$/, '')}/${method}`);
  } catch {
    return { kind: 'rejected', reason: `the Slack API base URL is not a URL (${method})` };
  }
  let error: string | undefined;
  const result = await exchange(
    () => postJson(url, body, { timeoutMs: TIMEOUT_MS, headers: { authorization: `Bearer ${token}` } }),
    (answer) => {
      let parsed: { ok?: unknown; error?: unknown; ts?: unknown; channel?: unknown } = {};
      try {
        parsed = JSON.parse(answer.body) as typeof parsed;
      } catch {
        // not JSON: judged below as an answer without ok
      }
      if (answer.status === 200 && parsed.ok === true && typeof parsed.ts === 'string') {
        const channel = typeof parsed.channel === 'string' ? parsed.channel : String(body.channel);
        return {
          kind: 'sent',
          receipt: `slack ${method} ts=${parsed.ts}`,
          ts: parsed.ts,
          channel,
        } as SendResult;
      }
      error = typeof parsed.error === 'string' ? parsed.error.slice(0, 100) : undefined;
      const reason = `Slack ${method} answered ${answer.status}${error ? ` ${error}` : `: ${said(answer)}`}`;
      return error && SLACK_TRANSIENT.has(error) ? { kind: 'retry', reason } : { kind: 'rejected', reason };
    },
    `Slack ${method}`,
    [token],
  );
  return { ...result, ...(error ? { error } : {}) } as SlackApiResult;
}
