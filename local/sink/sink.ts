/**
 * The alert sink: Slack (incoming webhooks and the Web API's chat methods) and PagerDuty's Events API v2
 * on loopback over HTTPS (a certificate from the world's CA), answering as those services do — limits,
 * errors and rate limits included — with state, a record of every request, and injectable faults.
 * Functions reach it only through what a user configures: a webhook URL, a bot token with Slack's API base
 * URL, or PagerDuty's `eventsBaseUrl` (paths `/v2/enqueue`, `/v2/change/enqueue`).
 *
 * Time is the world's clock (`now`, epoch ms): rate limits, message timestamps and alert times read it.
 * Fault latency is real time (it delays bytes on a socket).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { LocalCertificateAuthority } from '../postgres/tls.ts';
import {
  FaultInjector,
  faultAnswer,
  type SinkFault,
  type SinkFaultKind,
  type SinkService,
} from './faults.ts';
import { PagerDutyEvents } from './pagerduty.ts';
import { type SlackApiMethod, SlackWebApi } from './slack-api.ts';
import { maxInWindow, SlackChannels, type SlackMessage } from './slack-channels.ts';
import { SlackWebhooks } from './slack-webhooks.ts';
import { isObject, parseJson, type SinkAnswer, textAnswer } from './wire.ts';

export type { SinkFault, SinkFaultKind, SinkService } from './faults.ts';
export type { PagerDutyAlert, PagerDutyChange } from './pagerduty.ts';
export type { SlackMessage } from './slack-channels.ts';

/** The operation a request asked for. */
export type SinkOperation = 'webhook' | 'chat.postMessage' | 'chat.update' | 'enqueue' | 'change' | 'unknown';

/**
 * One request as the sink saw and answered it. Holds no secret: the hook, bot or integration is named by
 * an opaque label, a PagerDuty body's `routing_key` is replaced by that label, and headers are not kept.
 */
export interface SinkRequest {
  readonly service: SinkService;
  readonly operation: SinkOperation;
  readonly label: string;
  /** Virtual time the request arrived. */
  readonly at: number;
  /** The status answered; 0 while unanswered (a `timeout` fault never answers). */
  readonly status: number;
  readonly body: unknown;
  /** Faults that hit the request. */
  readonly faults: readonly SinkFaultKind[];
  /** Slack's error string, when it refused. */
  readonly error?: string;
  /** What PagerDuty did with an event (opened, appended, resolved, dropped, …). */
  readonly disposition?: string;
  /** The Slack message's ts, or the PagerDuty dedup_key. */
  readonly ref?: string;
}

/** Options of {@link AlertSink.start}. */
export interface AlertSinkOptions {
  /** The world's CA; the sink's server certificate is issued by it for localhost and 127.0.0.1. */
  readonly ca: LocalCertificateAuthority;
  /** The world's virtual clock, epoch ms. */
  readonly now: () => number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const API_METHODS: readonly string[] = ['chat.postMessage', 'chat.update'];

/** Slack and PagerDuty on `https://127.0.0.1:<random port>`. */
export class AlertSink {
  /** Every request, in arrival order. */
  readonly requests: readonly SinkRequest[] = [];
  /** Slack: hooks, bot tokens, channels, threads. */
  readonly slack;
  /** PagerDuty: integrations, alerts, change events. */
  readonly pagerduty;
  private readonly channels = new SlackChannels();
  private readonly webhooks: SlackWebhooks;
  private readonly api: SlackWebApi;
  private readonly events = new PagerDutyEvents();
  private readonly faultInjector = new FaultInjector();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    /** Base URL: `https://127.0.0.1:<port>` (PagerDuty's `eventsBaseUrl`, Slack's API base is `<url>/api`). */
    readonly url: string,
    private readonly now: () => number,
  ) {
    this.webhooks = new SlackWebhooks(() => this.url, this.channels);
    this.api = new SlackWebApi(this.channels);
    const { channels, webhooks, api, events } = this;
    this.slack = {
      /** A new incoming webhook posting to `channel`; its URL holds the secret. */
      createWebhook: (o: { readonly channel: string }): string => webhooks.createWebhook(o),
      /** Revokes a webhook: it answers 404 `no_service` from now on. */
      revokeWebhook: (url: string): void => webhooks.revokeWebhook(url),
      /** A new bot token (`xoxb-…`) whose bot is in `channels`. */
      createBotToken: (o: { readonly channels: readonly string[] }): string => api.createBotToken(o),
      /** Makes a channel exist (a bot not in it gets `not_in_channel`, not `channel_not_found`). */
      createChannel: (name: string): string => channels.ensure(name).id,
      /** Top-level messages of a channel (by name or id), in order. */
      messages: (channel: string): readonly SlackMessage[] => channels.messages(channel),
      /** Replies to `ts` in a channel, in order. */
      thread: (channel: string, ts: string): readonly SlackMessage[] => channels.thread(channel, ts),
      /** The most accepted messages within any 1-second window: of a hook (by its label) or a channel. */
      maxPerSecond: (channelOrHookLabel: string): number =>
        channelOrHookLabel.startsWith('hook:')
          ? webhooks.rate.maxPerSecond(channelOrHookLabel)
          : maxInWindow(
              channels.all(channelOrHookLabel).map((m) => m.at),
              1000,
            ),
    };
    this.pagerduty = {
      /** A new Events API v2 integration on `service`: its 32-character routing key. */
      createIntegration: (o: { readonly service: string }): string => events.createIntegration(o),
      /** Alerts of a service with their status and log, in the order they opened. */
      alerts: (service: string) => events.alerts(service),
      /** Change events of a service, in order. */
      changes: (service: string) => events.changes(service),
    };
  }

  /** Starts the sink on 127.0.0.1 at a random port. */
  static async start(o: AlertSinkOptions): Promise<AlertSink> {
    const certificate = await o.ca.issueServerCertificate();
    let sink: AlertSink | undefined;
    const server = createServer(
      { cert: certificate.certificatePem, key: certificate.privateKeyPem },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => void sink?.serve(req, Buffer.concat(chunks), res));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const started = new AlertSink(
      server,
      `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      o.now,
    );
    server.on('secureConnection', (socket: Socket) => {
      started.sockets.add(socket);
      socket.on('close', () => started.sockets.delete(socket));
    });
    sink = started;
    return started;
  }

  /** Arms a fault in front of a service's answers. */
  inject(fault: SinkFault): void {
    this.faultInjector.inject(fault);
  }

  /** Disarms every fault. */
  clearFaults(): void {
    this.faultInjector.clear();
  }

  /** How many requests injected faults hit, per `service/kind`. */
  faultCounts(): Readonly<Record<string, number>> {
    return this.faultInjector.counts();
  }

  /** Same as `slack.maxPerSecond`. */
  maxPerSecond(channelOrHookLabel: string): number {
    return this.slack.maxPerSecond(channelOrHookLabel);
  }

  /** Closes the server, dropping held (timed-out) and delayed requests. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const { service, operation } = route(path);
    const record: Mutable<SinkRequest> = {
      service,
      operation,
      label: this.labelOf(service, path, req, raw),
      at: this.now(),
      status: 0,
      body: sanitize(parseJson(raw)?.value, this.events),
      faults: [],
    };
    (this.requests as SinkRequest[]).push(record);
    const faults = this.faultInjector.draw(service);
    record.faults = faults.map((f) => f.kind);
    const latency = faults.reduce((ms, f) => ms + (f.kind === 'latency' ? (f.latencyMs ?? 1000) : 0), 0);
    if (latency > 0) await this.delay(latency);
    if (faults.some((f) => f.kind === 'timeout')) return; // held until the client gives up or the sink closes
    const failing = faults.find((f) => f.kind === 'status');
    if (failing) return write(res, record, faultAnswer(failing));
    if (req.method !== 'POST' || operation === 'unknown') {
      return write(res, record, textAnswer(req.method === 'POST' ? 404 : 405, 'not_found'));
    }
    const at = this.now();
    if (service === 'slack-webhook') {
      const outcome = this.webhooks.handle(path, raw, at);
      Object.assign(record, optional({ error: outcome.error, ref: outcome.ts }));
      return write(res, record, outcome.answer);
    }
    if (service === 'slack-api') {
      const outcome = this.api.handle(operation as SlackApiMethod, req.headers.authorization, raw, at);
      Object.assign(record, optional({ error: outcome.error, ref: outcome.ts }));
      return write(res, record, outcome.answer);
    }
    const outcome = operation === 'change' ? this.events.change(raw, at) : this.events.enqueue(raw, at);
    Object.assign(record, optional({ disposition: outcome.disposition, ref: outcome.dedupKey }));
    return write(res, record, outcome.answer);
  }

  private labelOf(service: SinkService, path: string, req: IncomingMessage, raw: Buffer): string {
    if (service === 'slack-webhook') return this.webhooks.labelOf(path);
    if (service === 'slack-api') return this.api.labelOf(req.headers.authorization);
    const body = parseJson(raw)?.value;
    return this.events.labelOf(isObject(body) ? body.routing_key : undefined);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** Which service and operation a path belongs to. */
function route(path: string): { service: SinkService; operation: SinkOperation } {
  if (path.startsWith('/services/')) return { service: 'slack-webhook', operation: 'webhook' };
  if (path.startsWith('/api/')) {
    const method = path.slice('/api/'.length);
    return {
      service: 'slack-api',
      operation: API_METHODS.includes(method) ? (method as SinkOperation) : 'unknown',
    };
  }
  if (path === '/v2/enqueue') return { service: 'pagerduty', operation: 'enqueue' };
  if (path === '/v2/change/enqueue') return { service: 'pagerduty', operation: 'change' };
  return { service: 'pagerduty', operation: 'unknown' };
}

/** A parsed body without secrets: PagerDuty's `routing_key` becomes its label, a Slack `token` is dropped. */
function sanitize(body: unknown, events: PagerDutyEvents): unknown {
  if (!isObject(body)) return body;
  const { token: _token, ...rest } = body;
  return 'routing_key' in rest ? { ...rest, routing_key: events.labelOf(rest.routing_key) } : rest;
}

function optional(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

function write(res: ServerResponse, record: Mutable<SinkRequest>, answer: SinkAnswer): void {
  record.status = answer.status;
  if (res.destroyed) return;
  res.writeHead(answer.status, answer.headers).end(answer.body);
}
