import { describe, expect, it } from 'vitest';
import { humanDuration, parseAwsTimestamp } from '../../../lambdas/shared/time.ts';

describe('parseAwsTimestamp', () => {
  describe('accepts the forms AWS writes', () => {
    it.each([
      [
        'CloudWatch alarm state, offset without colon',
        '2019-10-02T17:04:40.985+0000',
        Date.UTC(2019, 9, 2, 17, 4, 40, 985),
      ],
      ['EventBridge envelope time', '2019-10-02T17:04:40Z', Date.UTC(2019, 9, 2, 17, 4, 40)],
      ['ECS updatedAt with milliseconds', '2020-05-23T11:11:11.123Z', Date.UTC(2020, 4, 23, 11, 11, 11, 123)],
      ['an offset with a colon', '2019-10-02T19:04:40+02:00', Date.UTC(2019, 9, 2, 17, 4, 40)],
      ['a negative offset without colon', '2019-10-02T12:04:40.000-0500', Date.UTC(2019, 9, 2, 17, 4, 40)],
    ])('parses %s', (_what, text, expected) => {
      expect(parseAwsTimestamp(text)).toBe(expected);
    });
  });

  describe('rejects what is not a timestamp', () => {
    it.each(['yesterday', '2019-10-02', '2019-10-02T17:04:40', '2019-13-02T17:04:40Z', ''])(
      'returns undefined for %j',
      (text) => {
        expect(parseAwsTimestamp(text)).toBeUndefined();
      },
    );
  });
});

describe('humanDuration', () => {
  it.each([
    [60_000, '1 minute'],
    [20 * 60_000, '20 minutes'],
    [125 * 60_000, '2 hours 5 minutes'],
    [3 * 86_400_000, '3 days'],
  ])('renders %i ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
