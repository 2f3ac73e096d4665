import { request } from 'node:https';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';
import { AlertSink } from '../../../local/sink/sink.ts';

/** An HTTP answer as a client sees it. */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: () => Record<string, unknown>;
}

/** A fake clock the test moves by hand. */
export interface FakeClock {
  now: number;
}

export const T0 = Date.UTC(2026, 11, 3, 8, 0, 0);

let shared: Promise<LocalCertificateAuthority> | undefined;
/** One CA for all of a file's sinks (key generation is the slow part). */
export function testCa(): Promise<LocalCertificateAuthority> {
  shared ??= LocalCertificateAuthority.create('Nightshift sink test CA');
  return shared;
}

/** A sink on a fake clock starting at {@link T0}. */
export async function startSink(): Promise<{ sink: AlertSink; clock: FakeClock; ca: string }> {
  const ca = await testCa();
  const clock: FakeClock = { now: T0 };
  const sink = await AlertSink.start({ ca, now: () => clock.now });
  return { sink, clock, ca: ca.certificatePem };
}

/** POSTs `body` (JSON unless a string) with `node:https`, trusting only `ca`. */
export function post(
  url: string,
  body: unknown,
  o: { readonly ca: string; readonly headers?: Record<string, string>; readonly timeoutMs?: number },
): Promise<Reply> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: o.ca,
        agent: false,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(payload),
          ...o.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.setTimeout(o.timeoutMs ?? 5000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}
