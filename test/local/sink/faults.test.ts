import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { post, startSink } from './sink-fixture.ts';

describe('AlertSink faults', () => {
  let sink: AlertSink;
  let ca: string;
  beforeEach(async () => {
    ({ sink, ca } = await startSink());
  });
  afterEach(() => sink.close());

  const pdTrigger = (routing_key: string) => ({
    routing_key,
    event_action: 'trigger',
    dedup_key: 'd',
    payload: { summary: 's', source: 'src', severity: 'error' },
  });

  describe('status', () => {
    it.each([
      ['slack-webhook', 503, 'Service Unavailable'],
      ['slack-webhook', 500, 'rollup_error'],
    ] as const)('answers a %s request with %i and the body Slack sends', async (service, status, body) => {
      const url = sink.slack.createWebhook({ channel: '#f' });
      sink.inject({ service, kind: 'status', status, count: 1 });
      const faulted = await post(url, { text: 'x' }, { ca });
      const next = await post(url, { text: 'x' }, { ca });
      expect([faulted.status, faulted.text, next.status]).toEqual([status, body, 200]);
      expect(sink.slack.messages('#f')).toHaveLength(1);
      expect(sink.faultCounts()).toEqual({ 'slack-webhook/status': 1 });
    });

    it('answers 429 with Retry-After for PagerDuty and processes nothing', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'svc' });
      sink.inject({ service: 'pagerduty', kind: 'status', status: 429, retryAfterSeconds: 30 });
      const reply = await post(`${sink.url}/v2/enqueue`, pdTrigger(key), { ca });
      expect([reply.status, reply.headers['retry-after'], reply.json().status]).toEqual([
        429,
        '30',
        'throttle event',
      ]);
      expect(sink.pagerduty.alerts('svc')).toEqual([]);
      sink.clearFaults();
      expect((await post(`${sink.url}/v2/enqueue`, pdTrigger(key), { ca })).status).toBe(202);
    });

    it('answers the Web API with {ok:false} for a 500', async () => {
      const token = sink.slack.createBotToken({ channels: ['#api'] });
      sink.inject({ service: 'slack-api', kind: 'status', status: 500 });
      const reply = await post(
        `${sink.url}/api/chat.postMessage`,
        { channel: '#api', text: 'x' },
        { ca, headers: { authorization: `Bearer ${token}` } },
      );
      expect([reply.status, reply.json()]).toEqual([500, { ok: false, error: 'internal_error' }]);
    });

    it('hits only as often as its probability draws', async () => {
      const url = sink.slack.createWebhook({ channel: '#p' });
      const draws = [0.1, 0.9, 0.2, 0.8];
      sink.inject({
        service: 'slack-webhook',
        kind: 'status',
        status: 502,
        probability: 0.5,
        random: () => draws.shift() ?? 1,
      });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(url, { text: `m${i}` }, { ca })).status);
      expect(statuses).toEqual([502, 200, 502, 200]);
    });
  });

  describe('timeout', () => {
    it('never answers, so the client gives up; the request is recorded unanswered', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'slow' });
      sink.inject({ service: 'pagerduty', kind: 'timeout', count: 1 });
      await expect(post(`${sink.url}/v2/enqueue`, pdTrigger(key), { ca, timeoutMs: 300 })).rejects.toThrow(
        'client timeout',
      );
      expect(sink.requests.at(-1)).toMatchObject({ status: 0, faults: ['timeout'] });
      expect(sink.pagerduty.alerts('slow')).toEqual([]);
      expect((await post(`${sink.url}/v2/enqueue`, pdTrigger(key), { ca })).status).toBe(202);
    });

    it('lets the sink close while a request is held', async () => {
      const url = sink.slack.createWebhook({ channel: '#held' });
      sink.inject({ service: 'slack-webhook', kind: 'timeout' });
      const pending = post(url, { text: 'x' }, { ca, timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      await sink.close();
      await expect(pending).rejects.toThrow();
    });
  });

  describe('latency', () => {
    it('delays the real answer', async () => {
      const url = sink.slack.createWebhook({ channel: '#late' });
      sink.inject({ service: 'slack-webhook', kind: 'latency', latencyMs: 250, count: 1 });
      const started = performance.now();
      const reply = await post(url, { text: 'x' }, { ca });
      expect(reply.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(240);
      expect(sink.slack.messages('#late')).toHaveLength(1);
    });
  });

  describe('records', () => {
    it('keep faulted requests without their routing key, with the faults that hit them', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'faulted' });
      sink.inject({ service: 'pagerduty', kind: 'status', status: 503, count: 1 });
      await post(`${sink.url}/v2/enqueue`, pdTrigger(key), { ca });
      expect(sink.requests.at(-1)).toMatchObject({
        status: 503,
        faults: ['status'],
        label: 'pd:faulted#1',
        body: { routing_key: 'pd:faulted#1' },
      });
      expect(JSON.stringify(sink.requests)).not.toContain(key);
    });
  });
});
