/**
 * Slack's Web API for bot tokens: `POST /api/chat.postMessage` and `/api/chat.update` with
 * `Authorization: Bearer xoxb-…` and a JSON body. Slack answers HTTP 200 with `{ok: true, …}` or
 * `{ok: false, error}` (errors as listed on https://api.slack.com/methods/chat.postMessage and
 * chat.update), except rate limiting: HTTP 429 with `Retry-After` when a channel gets more than one
 * message a second beyond a short burst ("chat.postMessage generally allows posting one message per second
 * per channel", https://api.slack.com/docs/rate-limits).
 *
 * `thread_ts`: a value that is not a Slack timestamp is `invalid_thread_ts` (jenkinsci/slack-plugin#584:
 * `"0 is not a valid thread_ts"`); a well-formed one that names no message is accepted (`ok: true`) and
 * the reply is filed under that ts, never shown in the channel (python-slack-sdk#840: every post answered
 * ok, the replies "nowhere to be seen"). The sink keeps such replies in `thread(channel, ts)`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { blockKitProblem } from './slack-block-kit.ts';
import { PostingRate, type SlackChannels, type SlackMessage, TS_PATTERN } from './slack-channels.ts';
import { isObject, jsonAnswer, parseJson, type SinkAnswer } from './wire.ts';

/** Most characters of a message's `text` before Slack answers `msg_too_long`. */
export const MAX_MESSAGE_TEXT = 40_000;

/** The Web API methods the sink serves. */
export type SlackApiMethod = 'chat.postMessage' | 'chat.update';

interface Bot {
  readonly label: string;
  readonly botId: string;
  readonly channels: ReadonlySet<string>;
}

/** What a Web API request came to. */
export interface SlackApiOutcome {
  readonly answer: SinkAnswer;
  readonly label: string;
  readonly body: unknown;
  readonly error?: string;
  readonly ts?: string;
}

const ok = (value: Record<string, unknown>) => jsonAnswer(200, { ok: true, ...value });

/** The bot tokens of the sink's workspace and the two chat methods they call. */
export class SlackWebApi {
  private readonly bots = new Map<string, Bot>();
  /** One bucket per channel (by name). */
  readonly rate = new PostingRate();

  constructor(private readonly channels: SlackChannels) {}

  /** A new bot token (`xoxb-…`) whose bot is a member of `channels` (created when new). */
  createBotToken(o: { readonly channels: readonly string[] }): string {
    for (const name of o.channels) this.channels.ensure(name);
    const token = `xoxb-${randomBytes(6).readUIntBE(0, 6)}-${randomBytes(6).readUIntBE(0, 6)}-${randomBytes(12).toString('base64url')}`;
    const n = this.bots.size + 1;
    this.bots.set(token, {
      label: `bot#${n}`,
      botId: `B${String(n).padStart(8, '0')}`,
      channels: new Set(o.channels),
    });
    return token;
  }

  /** The opaque label of the bot an `Authorization` header names (never the token). */
  labelOf(authorization: string | undefined): string {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return 'bot:none';
    return this.bots.get(token)?.label ?? 'bot:unknown';
  }

  /** Handles `POST /api/<method>` with its `Authorization` header and body at virtual time `at`. */
  handle(
    method: SlackApiMethod,
    authorization: string | undefined,
    raw: Buffer,
    at: number,
  ): SlackApiOutcome {
    const parsed = parseJson(raw);
    const body = parsed?.value;
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const bot = token === undefined ? undefined : this.bots.get(token);
    const label = this.labelOf(authorization);
    const fail = (error: string): SlackApiOutcome => ({
      answer: jsonAnswer(200, { ok: false, error }),
      label,
      body,
      error,
    });
    if (token === undefined) return fail('not_authed');
    if (!bot) return fail('invalid_auth');
    if (!parsed || !isObject(body)) return fail('invalid_json');
    const channel = typeof body.channel === 'string' ? this.channels.find(body.channel) : undefined;
    if (!channel) return fail('channel_not_found');
    if (!bot.channels.has(channel.name)) return fail('not_in_channel');
    const content = this.content(body);
    if (typeof content === 'string') return fail(content);
    const reply = (message: SlackMessage, extra: Record<string, unknown> = {}): SlackApiOutcome => ({
      answer: ok({ channel: channel.id, ts: message.ts, ...extra, message: this.wire(message, bot) }),
      label,
      body,
      ts: message.ts,
    });

    if (method === 'chat.update') {
      const message = typeof body.ts === 'string' ? this.channels.message(channel, body.ts) : undefined;
      if (!message) return fail('message_not_found');
      if (message.by !== bot.label) return fail('cant_update_message');
      message.edits.push({ at, text: message.text, blocks: message.blocks });
      message.text = content.text;
      message.blocks = content.blocks;
      return reply(message, { text: message.text });
    }

    const threadTs = body.thread_ts;
    if (threadTs !== undefined && (typeof threadTs !== 'string' || !TS_PATTERN.test(threadTs))) {
      return fail('invalid_thread_ts');
    }
    const retryAfter = this.rate.take(channel.name, at);
    if (retryAfter !== undefined) {
      return {
        answer: jsonAnswer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) }),
        label,
        body,
        error: 'ratelimited',
      };
    }
    const message = this.channels.post(channel, {
      at,
      ...content,
      by: bot.label,
      ...(typeof threadTs === 'string' ? { threadTs } : {}),
    });
    return reply(message);
  }

  /** The message content of a body, or the error Slack answers for it. */
  private content(body: Record<string, unknown>): { text: string; blocks: unknown[] } | string {
    const { text, blocks } = body;
    if (text !== undefined && typeof text !== 'string') return 'invalid_arguments';
    const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
    if ((text === undefined || text.length === 0) && !hasBlocks && blocks === undefined) return 'no_text';
    if (blocks !== undefined && blockKitProblem(blocks)) return 'invalid_blocks';
    if (typeof text === 'string' && text.length > MAX_MESSAGE_TEXT) return 'msg_too_long';
    if ((text === undefined || text.length === 0) && !hasBlocks) return 'no_text';
    return { text: text ?? '', blocks: Array.isArray(blocks) ? blocks : [] };
  }

  /** A message as Slack's responses carry it. */
  private wire(message: SlackMessage, bot: Bot): Record<string, unknown> {
    return {
      type: 'message',
      subtype: 'bot_message',
      text: message.text,
      ts: message.ts,
      bot_id: bot.botId,
      ...(message.blocks.length > 0 ? { blocks: message.blocks } : {}),
      ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
      ...(message.edits.length > 0 ? { edited: { user: bot.botId, ts: message.ts } } : {}),
    };
  }
}
