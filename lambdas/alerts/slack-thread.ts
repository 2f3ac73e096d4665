/**
 * Slack pacing (one message per second per hook or channel, across every sender) and the Web API's
 * threads: an episode's first message opens its thread; what Nightshift did and the resolution are
 * replies, and the first message is redrawn to show the current state. A reply whose first message has
 * no `ts` yet waits for it (a failed attempt, retried): it never posts unthreaded.
 *
 * @module
 */
import { callSlackApi, type SendResult, SLACK_TOKEN_REFUSED } from './channels.ts';
import type { Pacer } from './deliveries.ts';
import type { Alert } from './model.ts';
import { slackMessage } from './slack-message.ts';
import type { SlackThreads } from './threads.ts';

/** One second between messages per Slack hook or channel, and a little more for clocks that differ. */
const SLACK_INTERVAL_MS = 1_100;
/** A send's longest time (the request deadline in channels.ts) plus a margin. */
const SLACK_TIMEOUT_MS = 11_000;
/**
 * A sender sleeps this long at most for its Slack slot; beyond, the message comes back at its slot (a
 * storm is paced by the queue, not by senders sleeping through it).
 */
const MAX_PACING_WAIT_MS = 2_500;
/** How often a waiting sender looks at the pacing item again. */
const PACING_POLL_MS = 250;

export type Paced = { readonly kind: 'paced'; readonly untilMs: number };

interface PacingDeps {
  readonly pacer: Pacer;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Sends within this receiver's Slack pacing: waits briefly for the turn, else answers when to come back.
 * Between taking the turn and sending nothing slow may happen (read secrets before).
 */
export async function pacedSend<T extends SendResult>(
  deps: PacingDeps,
  send: () => Promise<T>,
): Promise<T | Paced> {
  const waitUntil = deps.clock() + MAX_PACING_WAIT_MS;
  for (;;) {
    // The turn is held for as long as a request may take; answered, the next one is an interval later.
    const slot = await deps.pacer.take(deps.clock(), SLACK_TIMEOUT_MS + SLACK_INTERVAL_MS);
    if (slot === true) break;
    // While another sender's message is in flight the slot may come sooner than it says: look again
    // shortly, for a little while; then give the message back (not an attempt) until about its slot.
    if (deps.clock() >= waitUntil) return { kind: 'paced', untilMs: Math.min(slot, deps.clock() + 3_000) };
    await deps.sleep(Math.max(10, Math.min(slot - deps.clock(), PACING_POLL_MS)));
  }
  try {
    return await send();
  } finally {
    await deps.pacer.finish(deps.clock() + SLACK_INTERVAL_MS, deps.clock());
  }
}

/**
 * The first message of a thread, redrawn with what came since: the latest action, or its resolution.
 * Idempotent (a retried reply redraws the same), so the redrawn alert is what the thread keeps.
 */
export function threadParent(parent: Alert, latest: Alert): Alert {
  if (latest.status === 'resolved' && latest.key === parent.key) {
    return {
      ...parent,
      status: 'resolved',
      at: latest.at,
      notes: parent.notes.includes(latest.title) ? parent.notes : [latest.title, ...parent.notes],
    };
  }
  const did = `${latest.title}${latest.action ? `: ${latest.action}` : ''}`;
  if (parent.action?.split('\n').includes(did)) return parent;
  return { ...parent, action: parent.action ? `${parent.action}\n${did}` : did };
}

export interface SlackApiDeps extends PacingDeps {
  readonly threads: SlackThreads;
}

/** Updating the first message failed for a reason that must not hold the reply back (it was deleted…). */
const UPDATE_NOT_POSSIBLE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

/**
 * One alert to a channel with a bot token. `thread` is the episode the alert belongs to (the router sets it
 * only when this receiver got the episode's first message); `refuse` marks the token refused.
 */
export async function sendToSlackApi(
  alert: Alert,
  o: {
    readonly thread?: string;
    readonly token: string;
    readonly channel: string;
    readonly baseUrl: string;
    readonly refuse: () => void;
  },
  deps: SlackApiDeps,
): Promise<SendResult | Paced> {
  const { thread, token, baseUrl } = o;
  const opens = thread !== undefined && alert.status === 'firing' && alert.key === thread;
  const known = thread === undefined ? undefined : await deps.threads.get(thread);
  const judged = <T extends SendResult & { error?: string }>(r: T): T => {
    if (r.kind === 'rejected' && r.error && SLACK_TOKEN_REFUSED.has(r.error)) o.refuse();
    return r;
  };
  if (opens && known) return { kind: 'sent', receipt: `slack thread ${known.ts} already opened` };
  if (thread !== undefined && !opens && !known) {
    return {
      kind: 'retry',
      reason: `waiting for the first message of episode ${thread.slice(0, 300)} (no ts yet); a reply never posts unthreaded`,
    };
  }
  if (known && !opens) {
    const redrawn = threadParent(known.parent, alert);
    const update = judged(
      await callSlackApi(baseUrl, 'chat.update', token, {
        channel: known.channel,
        ts: known.ts,
        ...slackMessage(redrawn),
      }),
    );
    if (update.kind === 'retry') return update;
    if (update.kind === 'rejected' && !UPDATE_NOT_POSSIBLE.has(update.error ?? '')) return update;
    if (update.kind === 'sent') await deps.threads.redraw(thread ?? '', redrawn, deps.clock());
  }
  const result = await pacedSend(deps, async () =>
    judged(
      await callSlackApi(baseUrl, 'chat.postMessage', token, {
        channel: known && !opens ? known.channel : o.channel,
        ...slackMessage(alert),
        ...(known && !opens ? { thread_ts: known.ts } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    ),
  );
  if (result.kind === 'sent' && opens && thread !== undefined && 'ts' in result) {
    await deps.threads.record(
      thread,
      { ts: result.ts, channel: result.channel, parent: alert },
      deps.clock(),
    );
  }
  if (result.kind === 'sent' || result.kind === 'paced') return result;
  const { error: _error, ...rest } = result;
  return rest;
}
