/**
 * The sink's HTTP answers as plain data (status, headers, body), so each service's contract is a pure
 * function of the request and its state, and the server only writes what it is handed.
 *
 * @module
 */

/** One HTTP answer: what the sink writes back for a request. */
export interface SinkAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A `text/plain` answer, as Slack's incoming webhooks send (`ok`, `invalid_payload`, …). */
export function textAnswer(status: number, body: string, headers: Record<string, string> = {}): SinkAnswer {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}

/** An `application/json` answer, as Slack's Web API and PagerDuty's Events API send. */
export function jsonAnswer(status: number, value: unknown, headers: Record<string, string> = {}): SinkAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

/** A request body parsed as JSON, or `undefined` when it is not JSON. */
export function parseJson(raw: Buffer): { readonly value: unknown } | undefined {
  try {
    return { value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return undefined;
  }
}

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
