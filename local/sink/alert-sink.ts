/**
 * The alert sink: Slack incoming webhooks and PagerDuty Events API v2 on loopback over HTTPS (a certificate
 * from the world's CA), answering as those services do — limits, errors and rate limits included — with
 * state, a record of every request, and injectable faults. Functions reach it only through what a user
 * configures: the webhook URL in its SSM parameter and PagerDuty's `eventsBaseUrl`.
 *
 * Time is the world's live clock (virtual time plus the real time since it last moved, as the functions
 * read it), so "one message per second per hook" means what it means to a sender that waits.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LocalCertificateAuthority } from '../postgres/tls.ts';
import { blockKitProblem } from './block-kit.ts';
import { PagerDutySink, type SinkAnswer } from './pagerduty-sink.ts';

export type SinkService = 'slack-webhook' | 'pagerduty';

/** A fault the sink injects instead of (or before) its real answer. */
export interface SinkFault {
  readonly service: SinkService;
  /** `status`: answer with it; `timeout`: never answer; `latency`: answer late (real ms). */
  readonly kind: 'status' | 'timeout' | 'latency';
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly latencyMs?: number;
  /** How many requests to hit; every matching one when absent. */
  readonly count?: number;
  /** Probability per request when `count` is absent. @default 1 */
  readonly probability?: number;
}

/** One request as the sink saw and answered it. Never holds a webhook secret or a routing key. */
export interface SinkRequest {
  readonly service: SinkService;
  readonly operation: 'webhook' | 'enqueue' | 'change';
  /** The hook's channel, or the PagerDuty service: an opaque label, never the secret. */
  readonly label: string;
  readonly at: number;
  readonly status: number;
  readonly fault?: SinkFault['kind'];
  readonly body: unknown;
}

interface Hook {
  readonly channel: string;
  readonly label: string;
  revoked: boolean;
  /** Accepted message times, for the rate limit. */
  readonly sent: number[];
}

/** Slack allows bursts over one message per second per hook; beyond this many in a second it answers 429. */
export const SLACK_BURST = 1;

export class AlertSink {
  readonly requests: SinkRequest[] = [];
  readonly pagerduty: PagerDutySink;
  readonly slack: {
    createWebhook(o: { channel: string }): string;
    revokeWebhook(url: string): void;
    messages(channel: string): { at: number; text: string; blocks: unknown[] }[];
  };
  private readonly hooks = new Map<string, Hook>();
  private readonly posted = new Map<string, { at: number; text: string; blocks: unknown[] }[]>();
  private readonly faults: { fault: SinkFault; left: number }[] = [];
  private readonly sockets = new Set<{ destroy(): void }>();
  readonly injected: { service: SinkService; kind: SinkFault['kind'] }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly now: () => number,
    private readonly random: () => number,
  ) {
    this.pagerduty = new PagerDutySink(now);
    this.slack = {
      createWebhook: ({ channel }) => {
        const path = `/services/T${randomBytes(5).toString('hex').toUpperCase()}/B${randomBytes(5).toString('hex').toUpperCase()}/${randomBytes(12).toString('hex')}`;
        this.hooks.set(path, {
          channel,
          label: `${channel} hook ${this.hooks.size + 1}`,
          revoked: false,
          sent: [],
        });
        return `${this.url}${path}`;
      },
      revokeWebhook: (url) => {
        const hook = this.hooks.get(new URL(url).pathname);
        if (hook) hook.revoked = true;
      },
      messages: (channel) => this.posted.get(channel) ?? [],
    };
  }

  static async start(o: {
    ca: LocalCertificateAuthority;
    now: () => number;
    random?: () => number;
  }): Promise<AlertSink> {
    const cert = await o.ca.issueServerCertificate();
    let sink: AlertSink | undefined;
    const server = createServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void sink?.serve(req.method ?? '', req.url ?? '', Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sink = new AlertSink(server, url, o.now, o.random ?? Math.random);
    const started = sink;
    server.on('connection', (s) => {
      started.sockets.add(s);
      s.on('close', () => started.sockets.delete(s));
    });
    return sink;
  }

  inject(fault: SinkFault): void {
    this.faults.push({ fault, left: fault.count ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The most messages a hook (by channel) accepted within any one second. */
  maxPerSecond(channel: string): number {
    let max = 0;
    for (const hook of this.hooks.values()) {
      if (hook.channel !== channel) continue;
      const times = [...hook.sent].sort((a, b) => a - b);
      for (let i = 0, j = 0; i < times.length; i++) {
        while ((times[i] ?? 0) - (times[j] ?? 0) >= 1000) j++;
        max = Math.max(max, i - j + 1);
      }
    }
    return max;
  }

  private pick(service: SinkService): SinkFault[] {
    const hits: SinkFault[] = [];
    for (const entry of this.faults) {
      if (entry.fault.service !== service || entry.left <= 0) continue;
      if (entry.fault.count === undefined && this.random() >= (entry.fault.probability ?? 1)) continue;
      entry.left -= 1;
      hits.push(entry.fault);
      this.injected.push({ service, kind: entry.fault.kind });
    }
    return hits;
  }

  private async serve(
    method: string,
    path: string,
    raw: Buffer,
    res: import('node:http').ServerResponse,
  ): Promise<void> {
    const service: SinkService = path.startsWith('/services/') ? 'slack-webhook' : 'pagerduty';
    const operation =
      service === 'slack-webhook' ? 'webhook' : path === '/v2/change/enqueue' ? 'change' : 'enqueue';
    const at = this.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const label =
      service === 'slack-webhook'
        ? (this.hooks.get(path)?.label ?? 'unknown hook')
        : (this.pagerduty.serviceOf((parsed as { routing_key?: unknown } | undefined)?.routing_key) ??
          'unknown key');
    const { routing_key: _secret, ...kept } = (parsed ?? {}) as Record<string, unknown>;
    const record = (status: number, fault?: SinkFault['kind']) =>
      this.requests.push({ service, operation, label, at, status, body: kept, ...(fault ? { fault } : {}) });

    const faults = this.pick(service);
    for (const f of faults.filter((x) => x.kind === 'latency'))
      await new Promise((r) => setTimeout(r, f.latencyMs ?? 1000));
    if (faults.some((f) => f.kind === 'timeout')) {
      record(0, 'timeout');
      return; // never answered; the socket closes when the sink does or the client gives up
    }
    const failing = faults.find((f) => f.kind === 'status');
    if (failing) {
      const status = failing.status ?? 500;
      record(status, 'status');
      const headers: Record<string, string> =
        status === 429 ? { 'retry-after': String(failing.retryAfterSeconds ?? 1) } : {};
      res
        .writeHead(status, { 'content-type': 'text/plain', ...headers })
        .end(status === 429 ? 'rate_limited' : 'Internal Server Error');
      return;
    }
    if (method !== 'POST') {
      record(405);
      res.writeHead(405).end();
      return;
    }
    if (service === 'pagerduty') {
      const answer: SinkAnswer =
        parsed === undefined || typeof parsed !== 'object' || parsed === null
          ? {
              status: 400,
              body: {
                status: 'invalid event',
                message: 'Event object is invalid',
                errors: ['Malformed JSON'],
              },
            }
          : operation === 'change'
            ? this.pagerduty.change(parsed as Record<string, unknown>, raw.length)
            : path === '/v2/enqueue'
              ? this.pagerduty.enqueue(parsed as Record<string, unknown>, raw.length)
              : { status: 404, body: { status: 'not found', message: 'Not Found' } };
      record(answer.status);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      return;
    }
    const [status, text, headers] = this.webhook(path, parsed, at);
    record(status);
    res.writeHead(status, { 'content-type': 'text/html', ...headers }).end(text);
  }

  /** Slack incoming webhook: 200 `ok`, or the status and error string Slack answers with. */
  private webhook(path: string, body: unknown, at: number): [number, string, Record<string, string>] {
    const hook = this.hooks.get(path);
    if (!hook || hook.revoked) return [404, 'no_service', {}];
    if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body))
      return [400, 'invalid_payload', {}];
    const { text, blocks } = body as { text?: unknown; blocks?: unknown };
    if ((typeof text !== 'string' || text.length === 0) && blocks === undefined) return [400, 'no_text', {}];
    if (blocks !== undefined && blockKitProblem(blocks)) return [400, 'invalid_blocks', {}];
    const inLastSecond = hook.sent.filter((t) => t > at - 1000).length;
    if (inLastSecond >= SLACK_BURST) return [429, 'rate_limited', { 'retry-after': '1' }];
    hook.sent.push(at);
    const list = this.posted.get(hook.channel) ?? [];
    list.push({ at, text: String(text ?? ''), blocks: (blocks as unknown[]) ?? [] });
    this.posted.set(hook.channel, list);
    return [200, 'ok', {}];
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
