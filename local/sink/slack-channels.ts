/**
 * Slack's side of the sink: channels with their messages in order, threads (parent `ts` → replies),
 * edits, and the per-key rate limit Slack applies to posting (one message a second, short bursts allowed).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';

/** One message as a channel holds it; `text` and `blocks` are its current content. */
export interface SlackMessage {
  readonly ts: string;
  readonly channel: string;
  /** Virtual time (epoch ms) it was posted. */
  readonly at: number;
  text: string;
  blocks: unknown[];
  /** The parent's `ts` when this is a reply. */
  readonly threadTs?: string;
  /** Who posted it: a webhook's or a bot token's opaque label. */
  readonly by: string;
  /** Earlier contents, oldest first, each with the virtual time it was replaced. */
  readonly edits: { readonly at: number; readonly text: string; readonly blocks: unknown[] }[];
}

interface Channel {
  readonly id: string;
  readonly name: string;
  readonly messages: SlackMessage[];
  /** Replies by parent ts (including replies to a ts that names no message: see slack-api.ts). */
  readonly threads: Map<string, SlackMessage[]>;
  lastMicros: number;
}

/** Slack's documented posting rate: one message a second per hook or channel. */
export const SLACK_MESSAGES_PER_SECOND = 1;

/**
 * Messages Slack lets through at once before it starts answering 429 ("short bursts >1 allowed",
 * https://api.slack.com/docs/rate-limits). Slack does not publish the burst; the sink chooses 3.
 */
export const SLACK_BURST = 3;

/** A token bucket (capacity {@link SLACK_BURST}, one token a second) per key, on virtual time. */
export class PostingRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly accepted = new Map<string, number[]>();

  constructor(private readonly burst: number = SLACK_BURST) {}

  /** Takes a token for `key` at `at`: undefined when allowed, else the `Retry-After` seconds. */
  take(key: string, at: number): number | undefined {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at };
    const tokens = Math.min(
      this.burst,
      bucket.tokens + (Math.max(0, at - bucket.at) / 1000) * SLACK_MESSAGES_PER_SECOND,
    );
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at });
      return Math.max(1, Math.ceil((1 - tokens) / SLACK_MESSAGES_PER_SECOND));
    }
    this.buckets.set(key, { tokens: tokens - 1, at });
    const times = this.accepted.get(key) ?? [];
    times.push(at);
    this.accepted.set(key, times);
    return undefined;
  }

  /** The most messages accepted for `key` within any 1-second window. */
  maxPerSecond(key: string): number {
    return maxInWindow(this.accepted.get(key) ?? [], 1000);
  }
}

/** The most of `times` (epoch ms) within any window of `windowMs` (half-open). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/** A Slack message timestamp (`1700000000.000100`) from microseconds since the epoch. */
export function formatTs(micros: number): string {
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

/** Slack's `ts` shape: seconds, a dot, six digits. */
export const TS_PATTERN = /^\d{1,12}\.\d{6}$/;

/** The workspace's channels, found by name (`#ops`) or id (`C…`). */
export class SlackChannels {
  private readonly byName = new Map<string, Channel>();
  private readonly byId = new Map<string, Channel>();

  /** The channel named `name`, created when it does not exist yet. */
  ensure(name: string): Channel {
    const existing = this.byName.get(name);
    if (existing) return existing;
    const channel: Channel = {
      id: `C${randomBytes(5).toString('hex').toUpperCase()}`,
      name,
      messages: [],
      threads: new Map(),
      lastMicros: 0,
    };
    this.byName.set(name, channel);
    this.byId.set(channel.id, channel);
    return channel;
  }

  /** The channel a name or id refers to. */
  find(nameOrId: string): Channel | undefined {
    return this.byName.get(nameOrId) ?? this.byId.get(nameOrId);
  }

  /** Posts a message (a reply when `threadTs` is set) and returns it with its new, unique `ts`. */
  post(
    channel: Channel,
    o: { at: number; text: string; blocks: unknown[]; by: string; threadTs?: string },
  ): SlackMessage {
    // Unique and increasing per channel, from the virtual clock: like Slack's, seconds.micros.
    channel.lastMicros = Math.max(o.at * 1000, channel.lastMicros + 100);
    const message: SlackMessage = {
      ts: formatTs(channel.lastMicros),
      channel: channel.name,
      at: o.at,
      text: o.text,
      blocks: o.blocks,
      by: o.by,
      edits: [],
      ...(o.threadTs === undefined ? {} : { threadTs: o.threadTs }),
    };
    if (o.threadTs === undefined) channel.messages.push(message);
    else {
      const replies = channel.threads.get(o.threadTs) ?? [];
      replies.push(message);
      channel.threads.set(o.threadTs, replies);
    }
    return message;
  }

  /** The message (top-level or reply) with `ts` in `channel`. */
  message(channel: Channel, ts: string): SlackMessage | undefined {
    return (
      channel.messages.find((m) => m.ts === ts) ??
      [...channel.threads.values()].flat().find((m) => m.ts === ts)
    );
  }

  /** Top-level messages of a channel, in order. */
  messages(name: string): readonly SlackMessage[] {
    return this.find(name)?.messages ?? [];
  }

  /** Replies to the message `ts` in a channel, in order. */
  thread(name: string, ts: string): readonly SlackMessage[] {
    return this.find(name)?.threads.get(ts) ?? [];
  }

  /** Every message of a channel, replies included (for rate windows). */
  all(name: string): readonly SlackMessage[] {
    const channel = this.find(name);
    return channel ? [...channel.messages, ...[...channel.threads.values()].flat()] : [];
  }
}
