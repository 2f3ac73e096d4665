/**
 * Slack incoming webhooks: `POST /services/T…/B…/<secret>` with a JSON message, answered as Slack does
 * in plain text. Statuses and bodies from Slack's changelog "Improving error conditions for Incoming
 * Webhooks" (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks):
 * 400 `invalid_payload`; plus 400 `no_text` for a message without text or blocks (gitlab-org/gitlab#332611),
 * 400 `invalid_blocks` for a broken Block Kit limit, 404 `no_service` for a revoked or unknown hook, and
 * 429 `rate_limited` with `Retry-After` beyond one message a second (https://api.slack.com/docs/rate-limits).
 * The 429 body is not pinned down: older rate-limit docs (quoted in os/slacker#40) and Slack's 2016 email
 * (maknz/slack#36) describe a JSON object of recent counts; current references list `rate_limited`. Clients
 * should act on the status and `Retry-After`, so the sink sends the short string like its other errors.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { blockKitProblem } from './slack-block-kit.ts';
import { PostingRate, type SlackChannels } from './slack-channels.ts';
import { isObject, parseJson, type SinkAnswer, textAnswer } from './wire.ts';

interface Hook {
  readonly channel: string;
  readonly label: string;
  revoked: boolean;
}

/** What a webhook request came to: the answer, the hook's label, and what the sink did with it. */
export interface WebhookOutcome {
  readonly answer: SinkAnswer;
  readonly label: string;
  readonly body: unknown;
  readonly error?: string;
  readonly ts?: string;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random characters of [A-Za-z0-9], as Slack's webhook secrets are. */
function secret(length: number): string {
  return [...randomBytes(length)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
}

const upperId = (prefix: string) => `${prefix}${randomBytes(5).toString('hex').toUpperCase()}`;

/** The incoming webhooks of the sink's workspace. */
export class SlackWebhooks {
  private readonly hooks = new Map<string, Hook>();
  /** One bucket per hook (by label). */
  readonly rate = new PostingRate();

  constructor(
    private readonly baseUrl: () => string,
    private readonly channels: SlackChannels,
  ) {}

  /** A new hook posting to `channel`: `https://127.0.0.1:<port>/services/T…/B…/<24-char secret>`. */
  createWebhook(o: { readonly channel: string }): string {
    this.channels.ensure(o.channel);
    const path = `/services/${upperId('T')}/${upperId('B')}/${secret(24)}`;
    this.hooks.set(path, {
      channel: o.channel,
      label: `hook:${o.channel}#${this.hooks.size + 1}`,
      revoked: false,
    });
    return `${this.baseUrl()}${path}`;
  }

  /** Revokes a hook: from now on it answers 404 `no_service`. */
  revokeWebhook(url: string): void {
    const hook = this.hooks.get(new URL(url).pathname);
    if (hook) hook.revoked = true;
  }

  /** The opaque label of the hook at `path` (never the secret). */
  labelOf(path: string): string {
    return this.hooks.get(path)?.label ?? 'hook:unknown';
  }

  /** The labels of the hooks posting to `channel`. */
  labelsFor(channel: string): string[] {
    return [...this.hooks.values()].filter((h) => h.channel === channel).map((h) => h.label);
  }

  /** Handles `POST <path>` with body `raw` at virtual time `at`. */
  handle(path: string, raw: Buffer, at: number): WebhookOutcome {
    const hook = this.hooks.get(path);
    const label = hook?.label ?? 'hook:unknown';
    const parsed = parseJson(raw);
    const body = parsed?.value;
    const refuse = (status: number, error: string, headers: Record<string, string> = {}): WebhookOutcome => ({
      answer: textAnswer(status, error, headers),
      label,
      body,
      error,
    });
    if (!hook || hook.revoked) return refuse(404, 'no_service');
    if (!parsed || !isObject(body)) return refuse(400, 'invalid_payload');
    const { text, blocks } = body;
    if (text !== undefined && typeof text !== 'string') return refuse(400, 'invalid_payload');
    const hasText = typeof text === 'string' && text.length > 0;
    if (!hasText && (blocks === undefined || (Array.isArray(blocks) && blocks.length === 0))) {
      return refuse(400, 'no_text');
    }
    if (blocks !== undefined && blockKitProblem(blocks)) return refuse(400, 'invalid_blocks');
    const retryAfter = this.rate.take(label, at);
    if (retryAfter !== undefined) return refuse(429, 'rate_limited', { 'retry-after': String(retryAfter) });
    const channel = this.channels.ensure(hook.channel);
    const message = this.channels.post(channel, {
      at,
      text: hasText ? (text as string) : '',
      blocks: Array.isArray(blocks) ? blocks : [],
      by: label,
    });
    return { answer: textAnswer(200, 'ok'), label, body, ts: message.ts };
  }
}
