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
import type { SlackThread, SlackThreads } from './threads.ts';

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
 * Idempotent (a retried reply returns the parent it already redrew, the same object).
 */
export function threadParent(parent: Alert, latest: Alert): Alert {
  if (latest.status === 'resolved' && latest.key === parent.key) {
    if (parent.status === 'resolved' && parent.notes.includes(latest.title)) return parent;
    return {
      ...parent,
      status: 'resolved',
      at: latest.at,
      notes: parent.notes.includes(latest.title) ? parent.notes : [latest.title, ...parent.notes],
    };
  }
  // One line per thing done: the entries are the lines of `action`.
  const did = `${latest.title}${latest.action ? `: ${latest.action}` : ''}`.replace(/\s*[\r\n]+\s*/g, ' — ');
  if (parent.action?.split('\n').includes(did)) return parent;
  return { ...parent, action: parent.action ? `${parent.action}\n${did}` : did };
}

export interface SlackApiDeps extends PacingDeps {
  readonly threads: SlackThreads;
}

/** Updating the first message failed, but it is still there for the reply (not ours to edit, too old). */
const UPDATE_NOT_POSSIBLE = new Set(['cant_update_message', 'edit_window_closed']);
/** Rounds of "someone redrew it meanwhile" before the sender gives the message back. */
const REDRAW_ROUNDS = 5;

type Judge = <T extends SendResult & { error?: string }>(r: T) => T;

/**
 * Redraws the first message with `alert`. The redraw is stored on top of the last one (conditional on its
 * version) before Slack is told, and after telling Slack the sender looks again: when another sender
 * redrew meanwhile, theirs (which includes this one) is shown. `gone`: the first message was deleted.
 */
async function redrawFirst(
  thread: string,
  first: SlackThread,
  alert: Alert,
  call: (method: 'chat.update', body: Record<string, unknown>) => ReturnType<typeof callSlackApi>,
  judged: Judge,
  deps: SlackApiDeps,
): Promise<SendResult | { kind: 'shown' } | { kind: 'gone'; parent: Alert }> {
  let current = first;
  for (let round = 0; ; round++) {
    const redrawn = threadParent(current.parent, alert);
    if (redrawn === current.parent) break;
    if (await deps.threads.redraw(thread, current, redrawn, deps.clock())) {
      current = { ...current, parent: redrawn, version: current.version + 1 };
      break;
    }
    const again = await deps.threads.get(thread);
    if (!again || round >= REDRAW_ROUNDS) {
      return { kind: 'retry', reason: 'the first message of the thread kept changing while it was redrawn' };
    }
    current = again;
  }
  for (let round = 0; round < REDRAW_ROUNDS; round++) {
    const update = judged(
      await call('chat.update', {
        channel: current.channel,
        ts: current.ts,
        ...slackMessage(current.parent),
      }),
    );
    if (update.kind === 'retry') return update;
    if (update.kind === 'rejected') {
      if (update.error === 'message_not_found') return { kind: 'gone', parent: current.parent };
      return UPDATE_NOT_POSSIBLE.has(update.error ?? '') ? { kind: 'shown' } : update;
    }
    const latest = await deps.threads.get(thread);
    if (!latest || latest.version <= current.version) break;
    current = latest;
  }
  return { kind: 'shown' };
}

/**
 * One alert to a channel with a bot token. `thread` is the episode the alert belongs to (the router sets it
 * only when this receiver got the episode's first message); `refuse` marks the token refused. A reply
 * whose first message was deleted is not filed under it (Slack accepts such a reply and shows it nowhere):
 * the episode's current state is posted as a new first message instead.
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
  const judged: Judge = (r) => {
    if (r.kind === 'rejected' && r.error && SLACK_TOKEN_REFUSED.has(r.error)) o.refuse();
    return r;
  };
  if (opens && known) return { kind: 'sent', receipt: `slack thread ${known.ts} already opened` };
  if (thread === undefined || opens || !known) {
    if (thread !== undefined && !opens) {
      return {
        kind: 'retry',
        reason: `waiting for the first message of episode ${thread.slice(0, 300)} (no ts yet); a reply never posts unthreaded`,
      };
    }
    return post(alert, opens ? { opens: thread } : {});
  }
  const redrawn = await redrawFirst(
    thread,
    known,
    alert,
    (method, body) => callSlackApi(baseUrl, method, token, body),
    judged,
    deps,
  );
  if (redrawn.kind === 'gone') return post(redrawn.parent, { opens: thread, replacing: known.ts });
  if (redrawn.kind !== 'shown') return redrawn;
  return post(alert, { under: known });

  /** Posts within the pacing; a first message is recorded before the delivery counts as sent. */
  async function post(
    message: Alert,
    p: { opens?: string; replacing?: string; under?: SlackThread },
  ): Promise<SendResult | Paced> {
    const result = await pacedSend(deps, async () =>
      judged(
        await callSlackApi(baseUrl, 'chat.postMessage', token, {
          channel: p.under ? p.under.channel : o.channel,
          ...slackMessage(message),
          ...(p.under ? { thread_ts: p.under.ts } : {}),
          unfurl_links: false,
          unfurl_media: false,
        }),
      ),
    );
    if (result.kind === 'sent' && p.opens !== undefined && 'ts' in result) {
      await deps.threads.record(
        p.opens,
        { ts: result.ts, channel: result.channel, parent: message },
        deps.clock(),
        { ...(p.replacing ? { replacing: p.replacing } : {}), sleep: deps.sleep },
      );
    }
    if (result.kind === 'sent' || result.kind === 'paced') return result;
    const { error: _error, ...rest } = result;
    return rest;
  }
}
