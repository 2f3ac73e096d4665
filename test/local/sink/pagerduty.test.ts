import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGERDUTY_EVENTS_PER_MINUTE } from '../../../local/sink/pagerduty.ts';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { type FakeClock, post, startSink, T0 } from './sink-fixture.ts';

describe('AlertSink PagerDuty Events API v2', () => {
  let sink: AlertSink;
  let clock: FakeClock;
  let ca: string;
  beforeAll(async () => {
    ({ sink, clock, ca } = await startSink());
  });
  afterAll(() => sink.close());

  const enqueue = (body: unknown) => post(`${sink.url}/v2/enqueue`, body, { ca });
  const trigger = (routing_key: string, dedup_key: string | undefined, summary = 'CPU high') => ({
    routing_key,
    event_action: 'trigger',
    ...(dedup_key === undefined ? {} : { dedup_key }),
    payload: {
      summary,
      source: 'checkout-api',
      severity: 'critical',
      timestamp: '2026-12-03T08:00:00.000+0000',
    },
  });

  describe('alert lifecycle by dedup_key', () => {
    it('opens on trigger, appends a repeated trigger to the log, acknowledges and resolves', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'lifecycle' });
      clock.now = T0;
      const opened = await enqueue(trigger(key, 'checkout/cpu'));
      expect([opened.status, opened.json()]).toEqual([
        202,
        { status: 'success', message: 'Event processed', dedup_key: 'checkout/cpu' },
      ]);
      clock.now = T0 + 60_000;
      await enqueue(trigger(key, 'checkout/cpu', 'CPU still high'));
      clock.now = T0 + 120_000;
      await enqueue({ routing_key: key, event_action: 'acknowledge', dedup_key: 'checkout/cpu' });
      clock.now = T0 + 180_000;
      await enqueue({ routing_key: key, event_action: 'resolve', dedup_key: 'checkout/cpu' });
      const [alert, ...others] = sink.pagerduty.alerts('lifecycle');
      expect(others).toEqual([]);
      expect(alert).toMatchObject({
        dedupKey: 'checkout/cpu',
        status: 'resolved',
        openedAt: T0,
        resolvedAt: T0 + 180_000,
      });
      expect(alert?.log.map((e) => [e.action, e.summary])).toEqual([
        ['trigger', 'CPU high'],
        ['trigger', 'CPU still high'],
        ['acknowledge', undefined],
        ['resolve', undefined],
      ]);
    });

    it('opens a new alert for a trigger after resolve, and drops resolves of unknown or resolved alerts', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'reopen' });
      await enqueue(trigger(key, 'k'));
      await enqueue({ routing_key: key, event_action: 'resolve', dedup_key: 'k' });
      const again = await enqueue({ routing_key: key, event_action: 'resolve', dedup_key: 'k' });
      const unknown = await enqueue({ routing_key: key, event_action: 'acknowledge', dedup_key: 'never' });
      await enqueue(trigger(key, 'k'));
      expect([again.status, unknown.status]).toEqual([202, 202]);
      expect(sink.pagerduty.alerts('reopen').map((a) => a.status)).toEqual(['resolved', 'triggered']);
      expect(sink.requests.filter((r) => r.label.startsWith('pd:reopen')).map((r) => r.disposition)).toEqual([
        'opened',
        'resolved',
        'dropped',
        'dropped',
        'opened',
      ]);
    });

    it('generates a dedup_key for a trigger without one, so each opens its own alert', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'nodedup' });
      const a = (await enqueue(trigger(key, undefined))).json();
      const b = (await enqueue(trigger(key, undefined))).json();
      expect(a.dedup_key).toEqual(expect.any(String));
      expect(a.dedup_key).not.toBe(b.dedup_key);
      expect(sink.pagerduty.alerts('nodedup')).toHaveLength(2);
    });

    it('accepts and drops an event for a well-formed routing key of no integration', async () => {
      const reply = await enqueue(trigger('0'.repeat(32), 'x'));
      expect(reply.status).toBe(202);
      expect(sink.requests.at(-1)).toMatchObject({ label: 'pd:unknown-key', disposition: 'dropped' });
    });
  });

  describe('invalid events', () => {
    it.each([
      [
        'a short routing key',
        (k: string) => ({ ...trigger(k, 'd'), routing_key: 'abc' }),
        ["Length of 'routing_key' is incorrect (should be 32 characters)"],
      ],
      [
        'an unknown event_action',
        (k: string) => ({ ...trigger(k, 'd'), event_action: 'open' }),
        ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"],
      ],
      [
        'a 256-character dedup_key',
        (k: string) => trigger(k, 'd'.repeat(256)),
        ["Length of 'dedup_key' is incorrect (should be 1 to 255 characters)"],
      ],
      [
        'a resolve without dedup_key',
        (k: string) => ({ routing_key: k, event_action: 'resolve' }),
        ["'dedup_key' is missing or blank"],
      ],
      [
        'a trigger without payload',
        (k: string) => ({ routing_key: k, event_action: 'trigger' }),
        ["'payload' is missing or blank"],
      ],
      [
        'a 1025-character summary',
        (k: string) => trigger(k, 'd', 's'.repeat(1025)),
        ["Length of 'payload.summary' is incorrect (should be 1 to 1024 characters)"],
      ],
      [
        'no source and a bad severity',
        (k: string) => ({
          routing_key: k,
          event_action: 'trigger',
          payload: { summary: 's', severity: 'high' },
        }),
        [
          "'payload.source' is missing or blank",
          "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
        ],
      ],
      [
        'a timestamp that is not ISO 8601',
        (k: string) => ({
          ...trigger(k, 'd'),
          payload: { ...trigger(k, 'd').payload, timestamp: 'yesterday' },
        }),
        ["'payload.timestamp' is invalid (must be an ISO 8601 date-time)"],
      ],
      [
        'a link without href',
        (k: string) => ({ ...trigger(k, 'd'), links: [{ text: 'runbook' }] }),
        ["'links[0].href' is missing or blank"],
      ],
    ])('answers 400 invalid event for %s, naming the field', async (_name, make, errors) => {
      const key = sink.pagerduty.createIntegration({ service: 'invalid' });
      const reply = await enqueue(make(key));
      expect([reply.status, reply.json()]).toEqual([
        400,
        { status: 'invalid event', message: 'Event object is invalid', errors },
      ]);
      expect(sink.pagerduty.alerts('invalid')).toEqual([]);
    });

    it('answers a body that is not JSON with the schema’s parse error', async () => {
      const reply = await enqueue('{not json');
      expect([reply.status, reply.json()]).toEqual([
        400,
        {
          status: 'Unrecognized object',
          message: 'Event object format is unrecognized',
          errors: ['JSON parse error'],
        },
      ]);
    });

    it('refuses a body over 512 KB', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'big' });
      const body = {
        ...trigger(key, 'd'),
        payload: { ...trigger(key, 'd').payload, custom_details: { blob: 'x'.repeat(512 * 1024) } },
      };
      const reply = await enqueue(body);
      expect(reply.status).toBe(400);
      expect(reply.json().errors).toEqual(['Event object is larger than 512 KB']);
    });
  });

  describe('rate limit', () => {
    it(`answers 429 past ${PAGERDUTY_EVENTS_PER_MINUTE} events a minute per routing key, and again after the minute`, async () => {
      const key = sink.pagerduty.createIntegration({ service: 'throttled' });
      clock.now = T0 + 1_000_000;
      const statuses = [];
      for (let i = 0; i <= PAGERDUTY_EVENTS_PER_MINUTE; i++)
        statuses.push((await enqueue(trigger(key, `k${i}`))).status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(PAGERDUTY_EVENTS_PER_MINUTE);
      expect(statuses.at(-1)).toBe(429);
      clock.now += 60_000;
      expect((await enqueue(trigger(key, 'later'))).status).toBe(202);
    });
  });

  describe('change events', () => {
    it('answers 202 Change event processed and keeps them per service without dedup', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'changes' });
      const body = {
        routing_key: key,
        payload: { summary: 'Secret rotated', source: 'nightshift' },
        links: [{ href: 'https://example.com' }],
      };
      const first = await post(`${sink.url}/v2/change/enqueue`, body, { ca });
      await post(`${sink.url}/v2/change/enqueue`, body, { ca });
      expect([first.status, first.json()]).toEqual([
        202,
        { status: 'success', message: 'Change event processed' },
      ]);
      expect(sink.pagerduty.changes('changes').map((c) => c.summary)).toEqual([
        'Secret rotated',
        'Secret rotated',
      ]);
      expect(sink.pagerduty.alerts('changes')).toEqual([]);
    });

    it('refuses a change event without summary', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'changes-bad' });
      const reply = await post(`${sink.url}/v2/change/enqueue`, { routing_key: key, payload: {} }, { ca });
      expect(reply.json()).toMatchObject({
        status: 'invalid event',
        errors: ["'payload.summary' is missing or blank"],
      });
    });
  });

  describe('records', () => {
    it('replace the routing key with its integration label everywhere', async () => {
      const key = sink.pagerduty.createIntegration({ service: 'secret' });
      await enqueue(trigger(key, 'd'));
      expect(sink.requests.at(-1)).toMatchObject({
        label: expect.stringMatching(/^pd:secret#\d+$/),
        body: { routing_key: expect.stringMatching(/^pd:secret#/) },
      });
      expect(JSON.stringify(sink.requests)).not.toContain(key);
      expect(JSON.stringify(sink.pagerduty.alerts('secret'))).not.toContain(key);
    });
  });
});
