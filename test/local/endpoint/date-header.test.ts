/**
 * The endpoint sends no `Date` header: the world's functions read a virtual clock days from real time, and
 * the SDK would take the gap for clock skew — every 4xx then counts as retryable, and the retries drain its
 * budget until a real 500 gets none (found in the rotation story: a 500 failed at its first attempt).
 */
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { localSsm } from '../../support/local-ssm.ts';

const local = localSsm();
const endpoint = local.endpoint;
beforeAll(() => endpoint.listen());
afterAll(() => endpoint.close());
afterEach(() => vi.useRealTimers());

describe('LocalEndpoint: no Date header', () => {
  it('answers without one', async () => {
    const res = await fetch(`${endpoint.url}/`, { method: 'POST', body: '{}' });
    expect(res.headers.get('date')).toBeNull();
  });

  it('a caller whose clock is 30 days ahead (a world function) gets a 4xx at its first attempt, with no skew correction', async () => {
    vi.useFakeTimers({ now: Date.now() + 30 * 86_400_000, toFake: ['Date'] });
    const ssm = local.client({ maxAttempts: 5 });
    const error = await ssm.send(new GetParameterCommand({ Name: '/missing' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ParameterNotFound', $metadata: { attempts: 1 } });
    expect((error as { $metadata: { clockSkewCorrected?: boolean } }).$metadata.clockSkewCorrected).not.toBe(
      true,
    );
  });
});
