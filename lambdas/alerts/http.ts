/**
 * JSON over HTTPS for the channels (see `#shared/https`), and `Retry-After`.
 *
 * @module
 */
import { type HttpAnswer, HttpFailure, httpsRequest } from '#shared/https';

export { type HttpAnswer, HttpFailure };

/** One JSON POST (Slack's and PagerDuty's APIs). */
export function postJson(
  url: URL,
  body: unknown,
  o: { timeoutMs: number; headers?: Record<string, string> },
): Promise<HttpAnswer> {
  return httpsRequest(url, {
    method: 'POST',
    timeoutMs: o.timeoutMs,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json; charset=utf-8', ...o.headers },
  });
}

/** The longest `Retry-After` honoured: a hostile or broken answer cannot park a receiver for days. */
export const MAX_RETRY_AFTER_MS = 900_000;

/** `Retry-After` in milliseconds (seconds or an HTTP date), at most 15 minutes, or undefined. */
export function retryAfterMs(headers: HttpAnswer['headers'], nowMs: number): number | undefined {
  const raw = headers['retry-after'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!text) return undefined;
  const seconds = Number(text);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : Date.parse(text) - nowMs;
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
