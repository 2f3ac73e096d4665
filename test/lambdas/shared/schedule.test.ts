import { describe, expect, it } from 'vitest';
import { lastDue } from '../../../lambdas/shared/schedule.ts';

describe('lastDue', () => {
  it.each([
    ['cron(0 5 ? * SUN *)', '2026-11-25T12:00:00Z', '2026-11-22T05:00:00.000Z'],
    ['cron(0 5 ? * SUN *)', '2026-11-22T05:00:00Z', '2026-11-22T05:00:00.000Z'],
    ['cron(0 5 ? * SUN *)', '2026-11-22T04:59:00Z', '2026-11-15T05:00:00.000Z'],
    ['rate(7 days)', '2026-11-22T05:00:00Z', '2026-11-15T05:00:00.000Z'],
  ])('finds when %s last came due before %s', (expression, now, expected) => {
    expect(new Date(lastDue(expression, Date.parse(now)) ?? 0).toISOString()).toBe(expected);
  });
});
