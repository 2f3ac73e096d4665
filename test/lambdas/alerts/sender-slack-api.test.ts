import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { T0 } from '../../local/sink/sink-fixture.ts';
import { alert } from './alert-fixture.ts';
import { channelId, clock, deps, episode, headerOf, req, send, sink, sqs } from './slack-api-fixture.ts';

describe('sendBatch: Slack Web API (bot token)', () => {
  it('one thread per episode: the alarm, then what Nightshift did, then the resolution; the first message shows the current state', async () => {
    clock.now = T0;
    const d = deps();
    const key = episode('00');
    const firing = alert({ key, severity: 'critical', title: 'api-5xx is in ALARM' });
    const rollback = alert({
      key: 'nightshift#rollback#api#1',
      source: 'nightshift',
      title: 'Rollback Performed: api',
      action: 'Nightshift rolled api back to :1',
      episode: key,
      automated: true,
    });
    const resolved = alert({ key, status: 'resolved', title: 'api-5xx resolved after 12 min (api)' });
    const before = sink.slack.messages(channelId).length;
    for (const [a, outcome] of [
      [firing, 'sent'],
      [rollback, 'sent'],
      [resolved, 'sent'],
      [resolved, 'already-sent'],
    ] as const) {
      const out = await send(d, req(d, a, key));
      expect(out.outcomes.map((o) => o.outcome)).toEqual([outcome]);
    }
    const top = sink.slack.messages(channelId).slice(before);
    expect(top).toHaveLength(1);
    const parent = top[0];
    if (!parent) throw new Error('no first message');
    const replies = sink.slack.thread(channelId, parent.ts);
    expect(replies.map(headerOf)).toEqual([
      expect.stringContaining('Rollback Performed: api'),
      'Resolved: api-5xx resolved after 12 min (api)',
    ]);
    // Updated twice: with the rollback, then resolved; it still names what Nightshift did.
    expect(parent.edits).toHaveLength(2);
    expect(headerOf(parent)).toBe('Resolved: api-5xx is in ALARM');
    expect(JSON.stringify(parent.blocks)).toContain('Nightshift rolled api back to :1');
    expect(JSON.stringify(parent.blocks)).toContain('resolved after 12 min');
  });

  it('a reply whose first message has no ts yet waits (retried), never posts unthreaded; then it threads', async () => {
    clock.now = T0 + 600_000;
    const d = deps();
    const key = episode('10');
    const before = sink.slack.messages(channelId).length;
    const resolved = alert({ key, status: 'resolved', title: 'api-5xx resolved after 3 min (api)' });
    const early = await send(d, req(d, resolved, key));
    expect(early.outcomes).toEqual([
      expect.objectContaining({
        outcome: 'retry',
        reason: expect.stringContaining('waiting for the first message'),
      }),
    ]);
    expect(sink.slack.messages(channelId)).toHaveLength(before);
    await send(d, req(d, alert({ key }), key));
    const late = await send(d, req(d, resolved, key));
    expect(late.outcomes.map((o) => o.outcome)).toEqual(['sent']);
    const [parent] = sink.slack.messages(channelId).slice(before);
    expect(parent && sink.slack.thread(channelId, parent.ts)).toHaveLength(1);
  });

  it('a first message already posted (the sender died before marking it) is not posted again', async () => {
    clock.now = T0 + 1_200_000;
    const d = deps();
    const key = episode('20');
    const firing = alert({ key });
    await d.threads?.record(key, { ts: '1796284800.000001', channel: channelId, parent: firing }, clock.now);
    const before = sink.slack.messages(channelId).length;
    const out = await send(d, req(d, firing, key));
    expect(out.outcomes.map((o) => o.outcome)).toEqual(['sent']);
    expect(sink.slack.messages(channelId)).toHaveLength(before);
  });

  it('an alert without a thread is a message of its own; a refused token goes to the DLQ and is never in the reason', async () => {
    clock.now = T0 + 1_800_000;
    const d = deps();
    const before = sink.slack.messages(channelId).length;
    const own = alert({
      key: 'nightshift#snapshot#db#1',
      source: 'nightshift',
      title: 'Snapshot Skipped: db',
    });
    expect((await send(d, req(d, own))).outcomes.map((o) => o.outcome)).toEqual(['sent']);
    expect(sink.slack.messages(channelId)).toHaveLength(before + 1);

    const wrong = 'xoxb-1-2-notatokenofthisworkspace';
    const bad = deps({ token: wrong });
    const out = await send(bad, req(bad, alert({ key: episode('30') }), episode('30')));
    expect(out.outcomes).toEqual([
      expect.objectContaining({ outcome: 'dead-lettered', reason: expect.stringContaining('invalid_auth') }),
    ]);
    const parked = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(parked).toHaveLength(1);
    expect(JSON.stringify([out, parked])).not.toContain(wrong);
  });
});
