import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { type FakeClock, post, startSink, T0 } from './sink-fixture.ts';

describe('AlertSink Slack Web API', () => {
  let sink: AlertSink;
  let clock: FakeClock;
  let ca: string;
  let token: string;
  beforeAll(async () => {
    ({ sink, clock, ca } = await startSink());
    token = sink.slack.createBotToken({ channels: ['#ops', '#rate', '#edits'] });
    sink.slack.createChannel('#private');
  });
  afterAll(() => sink.close());

  /** Calls a method with the bot token, another token, or (`null`) none. */
  const call = (method: string, body: unknown, auth: string | null = token) =>
    post(`${sink.url}/api/${method}`, body, {
      ca,
      headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
    });

  describe('chat.postMessage', () => {
    it('posts with a unique, increasing ts and answers ok with channel, ts and message', async () => {
      clock.now = T0;
      const first = (await call('chat.postMessage', { channel: '#ops', text: 'one' })).json();
      const second = (await call('chat.postMessage', { channel: '#ops', text: 'two' })).json();
      expect(first).toMatchObject({
        ok: true,
        channel: expect.stringMatching(/^C/),
        ts: expect.stringMatching(/^\d+\.\d{6}$/),
      });
      expect(first.message).toMatchObject({ text: 'one', ts: first.ts });
      expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
      expect(String(first.ts).split('.')[0]).toBe(String(T0 / 1000));
      expect(sink.slack.messages('#ops').map((m) => m.text)).toEqual(['one', 'two']);
    });

    it('threads a reply under its parent', async () => {
      clock.now = T0 + 10_000;
      const parent = (await call('chat.postMessage', { channel: '#ops', text: 'parent' })).json();
      const reply = (
        await call('chat.postMessage', { channel: '#ops', text: 'reply', thread_ts: parent.ts })
      ).json();
      expect(reply).toMatchObject({ ok: true, message: { thread_ts: parent.ts } });
      expect(sink.slack.thread('#ops', String(parent.ts)).map((m) => m.text)).toEqual(['reply']);
      expect(sink.slack.messages('#ops').map((m) => m.text)).not.toContain('reply');
    });

    it('accepts a well-formed thread_ts naming no message, filing the reply out of the channel', async () => {
      clock.now = T0 + 20_000;
      const reply = (
        await call('chat.postMessage', { channel: '#ops', text: 'lost', thread_ts: '1600000000.000100' })
      ).json();
      expect(reply.ok).toBe(true);
      expect(sink.slack.messages('#ops').map((m) => m.text)).not.toContain('lost');
      expect(sink.slack.thread('#ops', '1600000000.000100').map((m) => m.text)).toEqual(['lost']);
    });

    it.each([
      ['no token', { channel: '#ops', text: 'x' }, null, 'not_authed'],
      ['an unknown token', { channel: '#ops', text: 'x' }, 'xoxb-1-2-nope', 'invalid_auth'],
      ['an unknown channel', { channel: '#nowhere', text: 'x' }, undefined, 'channel_not_found'],
      ['a channel the bot is not in', { channel: '#private', text: 'x' }, undefined, 'not_in_channel'],
      ['neither text nor blocks', { channel: '#ops' }, undefined, 'no_text'],
      [
        'text over 40,000 characters',
        { channel: '#ops', text: 'x'.repeat(40_001) },
        undefined,
        'msg_too_long',
      ],
      [
        'a 3001-character section',
        { channel: '#ops', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }] },
        undefined,
        'invalid_blocks',
      ],
      [
        'a malformed thread_ts',
        { channel: '#ops', text: 'x', thread_ts: '0' },
        undefined,
        'invalid_thread_ts',
      ],
    ])('answers HTTP 200 ok:false for %s', async (_name, body, auth, error) => {
      const reply = await call('chat.postMessage', body, auth === undefined ? token : auth);
      expect([reply.status, reply.json()]).toEqual([200, { ok: false, error }]);
    });

    it('answers HTTP 429 ratelimited with Retry-After past the burst on one channel', async () => {
      clock.now = T0 + 100_000;
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push(await call('chat.postMessage', { channel: '#rate', text: `m${i}` }));
      expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(statuses[3]?.headers['retry-after']).toBe('1');
      expect(statuses[3]?.json()).toEqual({ ok: false, error: 'ratelimited' });
      clock.now += 1_000;
      expect((await call('chat.postMessage', { channel: '#rate', text: 'later' })).status).toBe(200);
      expect(sink.slack.maxPerSecond('#rate')).toBe(3);
    });
  });

  describe('chat.update', () => {
    it('replaces the content and keeps each earlier content with the time it was replaced', async () => {
      clock.now = T0 + 200_000;
      const posted = (await call('chat.postMessage', { channel: '#edits', text: 'firing' })).json();
      clock.now += 60_000;
      const updated = await call('chat.update', { channel: posted.channel, ts: posted.ts, text: 'resolved' });
      expect(updated.json()).toMatchObject({ ok: true, ts: posted.ts, text: 'resolved' });
      const [message] = sink.slack.messages('#edits');
      expect(message?.text).toBe('resolved');
      expect(message?.edits).toEqual([{ at: T0 + 260_000, text: 'firing', blocks: [] }]);
    });

    it('answers message_not_found for an unknown ts and cant_update_message for another poster', async () => {
      const missing = await call('chat.update', { channel: '#edits', ts: '1000000000.000100', text: 'x' });
      const hook = sink.slack.createWebhook({ channel: '#edits' });
      clock.now += 10_000;
      await post(hook, { text: 'from a hook' }, { ca });
      const hookMessage = sink.slack.messages('#edits').at(-1);
      const foreign = await call('chat.update', { channel: '#edits', ts: hookMessage?.ts, text: 'x' });
      expect(missing.json()).toEqual({ ok: false, error: 'message_not_found' });
      expect(foreign.json()).toEqual({ ok: false, error: 'cant_update_message' });
    });
  });

  describe('records', () => {
    it('never hold the bot token', () => {
      expect(sink.requests.some((r) => r.operation === 'chat.update')).toBe(true);
      expect(JSON.stringify(sink.requests)).not.toContain(token);
      expect(sink.requests.at(-1)?.label).toBe('bot#1');
    });
  });
});
