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
      ['cron(0 3 * * *)', 'a cron needs 6 fields (minutes hours day-of-month month day-of-week year), got 5'],
      [
        'cron(0 3 * * * *)',
        'sets both day-of-month ("*") and day-of-week ("*"); EventBridge needs "?" in one of them: cron(0 3 * * ? *)',
      ],
      [
        'cron(0 4 * * SUN *)',
        'sets both day-of-month ("*") and day-of-week ("SUN"); EventBridge needs "?" in one of them: cron(0 4 ? * SUN *)',
      ],
      ['cron(0 3 ? * ? *)', 'has "?" in both day-of-month and day-of-week; only one may be "?"'],
      ['cron(61 3 * * ? *)', 'is not a valid EventBridge cron: minutes 61 is above 59'],
      [
        'cron(0 3 ? * FUNDAY *)',
        'is not a valid EventBridge cron: day-of-week "FUNDAY" is not a valid value there',
      ],
      ['rate(1 days)', 'singular for 1'],
      ['rate(5 minute)', 'singular for 1'],
      ['rate(0 hours)', 'singular for 1'],
    ])('rejects %s', (e, problem) => {
      expect(scheduleProblem(e)).toContain(problem);
    });

    it('says each problem once, without the parser’s echo of the input', () => {
      const problem = scheduleProblem('cron(61 25 * * ? *)') ?? '';
      expect(problem).toBe('is not a valid EventBridge cron: minutes 61 is above 59; hours 25 is above 23');
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
