import { describe, expect, it } from 'vitest';
import { type PacingClock, TokenBucket } from '../../../lambdas/shared/pacing.ts';

/** A clock that only moves when the bucket sleeps. */
function fakeClock(): PacingClock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces to the rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(50, 5, clock);
    const at: number[] = [];
    for (let i = 0; i < 15; i++) {
      await bucket.take();
      at.push(clock.t);
    }
    expect(at.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    // Then one every 20 ms (50/s).
    expect(at.slice(5).map((t) => Math.round(t))).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
  });

  it('serves concurrent callers in order, one token each', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 1, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(Math.round(clock.t)).toBe(300);
  });
});
