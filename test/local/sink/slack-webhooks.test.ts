import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { type FakeClock, post, startSink, T0 } from './sink-fixture.ts';

describe('AlertSink Slack incoming webhooks', () => {
  let sink: AlertSink;
  let clock: FakeClock;
  let ca: string;
  beforeAll(async () => {
    ({ sink, clock, ca } = await startSink());
  });
  afterAll(() => sink.close());

  const fresh = (channel: string) => sink.slack.createWebhook({ channel });

  describe('webhook URLs', () => {
    it('gives a Slack-shaped URL on the sink with a 24-character secret', () => {
      const url = fresh('#shape');
      expect(url).toMatch(
        /^https:\/\/127\.0\.0\.1:\d+\/services\/T[0-9A-F]{10}\/B[0-9A-F]{10}\/[A-Za-z0-9]{24}$/,
      );
    });
  });

  describe('accepting messages', () => {
    it('answers 200 ok in text/plain and keeps the message in its channel at virtual time', async () => {
      clock.now = T0 + 1_000;
      const reply = await post(fresh('#ok'), { text: 'disk full' }, { ca });
      expect([reply.status, reply.text]).toEqual([200, 'ok']);
      expect(reply.headers['content-type']).toMatch(/^text\/plain/);
      expect(sink.slack.messages('#ok').map((m) => [m.text, m.at])).toEqual([['disk full', T0 + 1_000]]);
    });

    it('takes a 3000-character section', async () => {
      const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3000) } }];
      const reply = await post(fresh('#limits'), { blocks }, { ca });
      expect(reply.status).toBe(200);
    });
  });

  describe('refusing messages as Slack does', () => {
    it.each([
      ['a body that is not JSON', 'text=hello', 400, 'invalid_payload'],
      ['a JSON array', [1, 2], 400, 'invalid_payload'],
      ['text that is not a string', { text: 42 }, 400, 'invalid_payload'],
      ['neither text nor blocks', { username: 'bot' }, 400, 'no_text'],
      [
        'a 3001-character section',
        { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }] },
        400,
        'invalid_blocks',
      ],
      ['an unknown block type', { text: 't', blocks: [{ type: 'banner' }] }, 400, 'invalid_blocks'],
    ])('answers %s with %i %s', async (_name, body, status, error) => {
      const url = fresh('#refused');
      const reply = await post(url, body, { ca });
      expect([reply.status, reply.text]).toEqual([status, error]);
    });

    it('answers 404 no_service for a revoked hook and an unknown one', async () => {
      const url = fresh('#revoked');
      sink.slack.revokeWebhook(url);
      const revoked = await post(url, { text: 'x' }, { ca });
      const unknown = await post(`${sink.url}/services/T0/B0/${'a'.repeat(24)}`, { text: 'x' }, { ca });
      expect([revoked.status, revoked.text, unknown.status, unknown.text]).toEqual([
        404,
        'no_service',
        404,
        'no_service',
      ]);
      expect(sink.slack.messages('#revoked')).toEqual([]);
    });
  });

  describe('rate limit', () => {
    it('allows a short burst, then answers 429 rate_limited with Retry-After until a second passes', async () => {
      clock.now = T0 + 100_000;
      const url = fresh('#rate');
      const burst = [];
      for (let i = 0; i < 4; i++) burst.push(await post(url, { text: `m${i}` }, { ca }));
      expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(burst[3]?.text).toBe('rate_limited');
      expect(burst[3]?.headers['retry-after']).toBe('1');
      clock.now += 1_000;
      expect((await post(url, { text: 'after' }, { ca })).status).toBe(200);
      expect((await post(url, { text: 'too soon' }, { ca })).status).toBe(429);
      expect(sink.slack.messages('#rate').map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'after']);
      expect(sink.maxPerSecond('#rate')).toBe(3);
    });

    it('lets a sender that waits a second between messages through every time', async () => {
      clock.now = T0 + 200_000;
      const url = fresh('#steady');
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await post(url, { text: `m${i}` }, { ca })).status);
        clock.now += 1_000;
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(sink.maxPerSecond('#steady')).toBe(1);
    });
  });

  describe('records', () => {
    it('names the hook by an opaque label, never by its secret', async () => {
      const url = fresh('#records');
      await post(url, { text: 'hello' }, { ca });
      const secret = url.split('/').at(-1) ?? '';
      const record = sink.requests.at(-1);
      expect(record).toMatchObject({
        service: 'slack-webhook',
        operation: 'webhook',
        status: 200,
        body: { text: 'hello' },
      });
      expect(record?.label).toMatch(/^hook:#records#\d+$/);
      expect(JSON.stringify(sink.requests)).not.toContain(secret);
    });
  });
});
