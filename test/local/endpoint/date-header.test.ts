/**
 * The endpoint sends no `Date` header: the world's functions read a virtual clock days from real time, and
 * the SDK would take the gap for clock skew — every 4xx then counts as retryable, and the retries drain its
 * budget until a real 500 gets none (found in the rotation story: a 500 failed at its first attempt).
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';

const operator = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted' as const,
};
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [
    new SsmWorld({
      account: '123456789012',
      region: 'eu-west-1',
      clock: { now: () => Date.now() } as never,
      emit: () => undefined,
    }),
  ],
  callerFor: (key) => (key === operator.accessKeyId ? operator : undefined),
});
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
    const ssm = new SSMClient({
      endpoint: endpoint.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
      maxAttempts: 5,
    });
    const error = await ssm.send(new GetParameterCommand({ Name: '/missing' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ParameterNotFound', $metadata: { attempts: 1 } });
    expect((error as { $metadata: { clockSkewCorrected?: boolean } }).$metadata.clockSkewCorrected).not.toBe(
      true,
    );
  });
});
