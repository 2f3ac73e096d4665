/**
 * One HTTPS request with a deadline, through Node's global agent (which trusts what the runtime trusts:
 * public CAs on Lambda, plus `NODE_EXTRA_CA_CERTS`). No retries, no redirects followed: the caller decides
 * by the answer.
 *
 * @module
 */
import { request } from 'node:https';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** The request did not get an answer: refused, reset, or no answer before the deadline. */
export class HttpFailure extends Error {
  override readonly name: string = 'HttpFailure';
}

/** Answers are read up to this size; the rest is dropped (error bodies are short). */
const MAX_ANSWER = 64 * 1024;

export function httpsRequest(
  url: URL,
  o: {
    method: 'GET' | 'POST';
    timeoutMs: number;
    body?: string;
    headers?: Record<string, string>;
  },
): Promise<HttpAnswer> {
  if (url.protocol !== 'https:') {
    return Promise.reject(
      new HttpFailure(`refusing to send to a ${url.protocol} URL: only https is allowed`),
    );
  }
  const payload = Buffer.from(o.body ?? '');
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method,
        headers: {
          ...(o.body === undefined ? {} : { 'content-length': String(payload.length) }),
          ...o.headers,
        },
        timeout: o.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER),
          }),
        );
        res.on('error', (error) => reject(new HttpFailure(`answer broke off: ${error.message}`)));
      },
    );
    // The whole exchange, not just idle time, is bounded: a trickling answer cannot hold a sender.
    const deadline = setTimeout(
      () => req.destroy(new HttpFailure(`no answer within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    req.on('timeout', () => req.destroy(new HttpFailure(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', (error) =>
      reject(
        error instanceof HttpFailure
          ? error
          : new HttpFailure(`${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}`),
      ),
    );
    req.on('close', () => clearTimeout(deadline));
    req.end(o.body === undefined ? undefined : payload);
  });
}
