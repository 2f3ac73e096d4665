import { describe, expect, it } from 'vitest';
import { nextRun, parseRate, scheduleProblem } from '../../../lib/config/schedule.ts';

describe('schedule expressions', () => {
  describe('accepts what EventBridge accepts', () => {
    it.each([
      'cron(0 3 * * ? *)',
      'cron(0 4 ? * SUN *)',
      'cron(*/10 * * * ? *)',
      'rate(1 day)',
      'rate(5 minutes)',
      'rate(1 hour)',
    ])('accepts %s', (e) => {
      expect(scheduleProblem(e)).toBeUndefined();
    });
  });

  describe('rejects what it does not', () => {
    it.each([
      ['0 3 * * *', 'must be cron(...) or rate(...)'],
      ['cron(0 3 * * *)', 'invalid cron'],
      ['cron(0 3 * * * *)', 'invalid cron'],
      ['cron(61 3 * * ? *)', 'invalid cron'],
      ['rate(1 days)', 'singular for 1'],
      ['rate(5 minute)', 'singular for 1'],
      ['rate(0 hours)', 'singular for 1'],
    ])('rejects %s', (e, problem) => {
      expect(scheduleProblem(e)).toContain(problem);
    });
  });

  it('parses rates to milliseconds', () => {
    expect(parseRate('rate(5 minutes)')).toBe(300_000);
    expect(parseRate('rate(1 day)')).toBe(86_400_000);
  });

  it.each([
    ['cron(0 3 * * ? *)', '2026-11-22T03:00:00Z', '2026-11-23T03:00:00.000Z'],
    ['cron(0 3 * * ? *)', '2026-11-22T02:59:00Z', '2026-11-22T03:00:00.000Z'],
    ['cron(0 4 ? * SUN *)', '2026-11-22T05:00:00Z', '2026-11-29T04:00:00.000Z'],
    ['rate(10 minutes)', '2026-11-22T05:00:00Z', '2026-11-22T05:10:00.000Z'],
  ])('finds the next run of %s after %s', (e, from, next) => {
    expect(new Date(nextRun(e, Date.parse(from)) ?? 0).toISOString()).toBe(next);
  });
});
