import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { InvalidServiceLimitError, RateLimits } from '../../../local/endpoint/rate-limit.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { RdsWorld } from '../../../local/services/rds.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted',
};

/** A hand-driven real-time clock for the bucket itself. */
function manualTime() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RateLimits', () => {
  describe('admits requests like a token bucket', () => {
    it('admits a burst, throttles beyond it, and refills at requestsPerSecond', () => {
      const time = manualTime();
      const limits = new RateLimits(time.now).set('rds', { requestsPerSecond: 4, burst: 2 });
      expect([limits.admit('rds'), limits.admit('rds'), limits.admit('rds')]).toEqual([true, true, false]);
      time.advance(250);
      expect([limits.admit('rds'), limits.admit('rds')]).toEqual([true, false]);
      time.advance(10_000);
      expect([limits.admit('rds'), limits.admit('rds'), limits.admit('rds')]).toEqual([true, true, false]);
      expect(limits.throttled('rds')).toBe(3);
    });

    it('bursts one second of requests by default', () => {
      const time = manualTime();
      const limits = new RateLimits(time.now).set('rds', { requestsPerSecond: 25 });
      const admitted = Array.from({ length: 30 }, () => limits.admit('rds')).filter(Boolean).length;
      expect(admitted).toBe(25);
    });

    it('keeps services apart and admits everything for a service without a rate', () => {
      const limits = new RateLimits(manualTime().now)
        .set('rds', { requestsPerSecond: 1 })
        .set('ssm', { latencyMs: 20 });
      expect([limits.admit('rds'), limits.admit('rds')]).toEqual([true, false]);
      expect(Array.from({ length: 100 }, () => limits.admit('ssm')).every(Boolean)).toBe(true);
      expect(limits.admit('ecs')).toBe(true);
      expect([limits.throttled('rds'), limits.throttled('ssm'), limits.throttled('ecs')]).toEqual([1, 0, 0]);
      expect([limits.latencyMs('ssm'), limits.latencyMs('rds'), limits.latencyMs('ecs')]).toEqual([20, 0, 0]);
    });

    it('admits everything again once a limit is deleted, keeping the count', () => {
      const limits = new RateLimits(manualTime().now).set('rds', { requestsPerSecond: 1 });
      limits.admit('rds');
      limits.admit('rds');
      expect(limits.delete('rds')).toBe(true);
      expect(limits.admit('rds')).toBe(true);
      expect(limits.get('rds')).toBeUndefined();
      expect(limits.throttled('rds')).toBe(1);
    });

    it.each([[{ requestsPerSecond: 0 }], [{ requestsPerSecond: -1 }], [{ burst: 0.5 }], [{ latencyMs: -5 }]])(
      'refuses a limit it cannot enforce: %o',
      (limit) => {
        expect(() => new RateLimits().set('rds', limit)).toThrow(InvalidServiceLimitError);
      },
    );
  });
});

describe('LocalEndpoint limits', () => {
  const rds = new RdsWorld({
    account: '123456789012',
    region: 'eu-west-1',
    clock: new VirtualClock(Date.parse('2026-11-20T00:00:00Z')),
  });
  const ssm = new SsmWorld({ clock: new VirtualClock(Date.parse('2026-11-20T00:00:00Z')) });
  let endpoint: LocalEndpoint;
  const config = (maxAttempts: number) => ({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    maxAttempts,
  });

  beforeAll(async () => {
    rds.addSnapshot({ identifier: 'nightshift-1', source: 'orders' });
    ssm.put('/app/url', 'https://example.test');
  });
  beforeEach(async () => {
    await endpoint?.close();
    endpoint = new LocalEndpoint({
      account: '123456789012',
      region: 'eu-west-1',
      services: [ssm],
      queryServices: [rds],
      callerFor: (key) => (key === operator.accessKeyId ? operator : undefined),
    });
    await endpoint.listen();
  });
  afterAll(() => endpoint.close());

  describe('throttles a Query service over its rate', () => {
    it('answers Throttling / Rate exceeded (400) that the SDK retries with backoff until every call succeeds', async () => {
      endpoint.limits.set('rds', { requestsPerSecond: 8, burst: 2 });
      const client = new RDSClient(config(10));
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => client.send(new DescribeDBSnapshotsCommand({}))),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(endpoint.limits.throttled('rds')).toBeGreaterThan(0);
      const throttled = endpoint.calls.filter((c) => c.error === 'Throttling');
      expect(throttled).toHaveLength(endpoint.limits.throttled('rds'));
      expect(throttled.every((c) => c.status === 400 && c.operation === 'DescribeDBSnapshots')).toBe(true);
      expect(endpoint.count('rds', 'DescribeDBSnapshots', (c) => c.status === 200)).toBe(12);
    });

    it('answers the throttling error itself when the SDK may not retry', async () => {
      endpoint.limits.set('rds', { requestsPerSecond: 1, burst: 1 });
      const client = new RDSClient(config(1));
      await client.send(new DescribeDBSnapshotsCommand({}));
      await expect(client.send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      });
    });
  });

  describe('throttles a JSON service over its rate', () => {
    it('answers ThrottlingException that the SDK retries until every call succeeds', async () => {
      endpoint.limits.set('ssm', { requestsPerSecond: 8, burst: 2 });
      const client = new SSMClient(config(10));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => client.send(new GetParameterCommand({ Name: '/app/url' }))),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(endpoint.limits.throttled('ssm')).toBeGreaterThan(0);
      expect(
        endpoint.calls.filter((c) => c.service === 'ssm' && c.error === 'ThrottlingException'),
      ).toHaveLength(endpoint.limits.throttled('ssm'));
      await expect(
        new SSMClient(config(1))
          .send(new GetParameterCommand({ Name: '/app/url' }))
          .then(() => new SSMClient(config(1)).send(new GetParameterCommand({ Name: '/app/url' }))),
      ).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    });
  });

  describe('adds latency', () => {
    it('delays every call to the service by at least latencyMs of real time, and no other service', async () => {
      endpoint.limits.set('rds', { latencyMs: 40 });
      const client = new RDSClient(config(1));
      await client.send(new DescribeDBSnapshotsCommand({}));
      const started = performance.now();
      for (let n = 0; n < 3; n++) await client.send(new DescribeDBSnapshotsCommand({}));
      expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 40 - 3);
      expect(endpoint.limits.latencyMs('ssm')).toBe(0);
    });
  });
});
