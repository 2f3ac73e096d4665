import { describe, expect, it } from 'vitest';
import { deploymentEvent, fire, h, MIN, run, T0, useRollbackHarness } from './harness.ts';

useRollbackHarness();

const failedPages = () => h.bus.published.filter((e) => e.detailType === 'Rollback Failed');

describe('ecs-rollback when its own rollback deployment fails', () => {
  it('sends the Rollback Failed page on the retry when publishing it failed (noted only once it is out)', async () => {
    await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(h.world.state.updates).toHaveLength(1);
    h.now += 5 * MIN;
    const failed = deploymentEvent('SERVICE_DEPLOYMENT_FAILED', 'ecs-svc/1', h.now);
    h.bus.control.failNext = 1;
    await expect(run(failed)).rejects.toThrow('boom');
    expect(failedPages()).toHaveLength(0);
    h.now += MIN; // Lambda's retry
    const retry = await run(failed);
    expect(retry.result).toMatchObject({ outcome: 'recorded', reason: expect.stringContaining('failed') });
    expect(failedPages()).toHaveLength(1);
    h.now += MIN; // a duplicate delivery after the page went out changes nothing
    await run(failed);
    expect(failedPages()).toHaveLength(1);
  });
});
