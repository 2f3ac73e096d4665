import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '#shared/errors';
import { boundedEventTime } from '#shared/event-time';

const now = Date.parse('2026-12-01T03:00:00Z');
const bounds = { maxAgeMs: 2 * 3_600_000 + 300_000, maxSkewMs: 300_000 };

describe('boundedEventTime', () => {
  describe('accepts the times of real deliveries', () => {
    it.each([
      ['now', '2026-12-01T03:00:00Z'],
      ['within the skew ahead', '2026-12-01T03:04:59Z'],
      ['as old as a delivery can be', '2026-12-01T00:55:00Z'],
      ["in CloudWatch's +0000 form", '2026-12-01T02:59:00.123+0000'],
    ])('returns the time when it is %s', (_, text) => {
      expect(boundedEventTime('time', text, now, bounds)).toBe(Date.parse(text.replace('+0000', 'Z')));
    });
  });

  describe('refuses times no delivery can have, naming the field and the value', () => {
    it.each([
      ['2099-01-01T00:00:00Z', /time: 2099-01-01T00:00:00Z is .* after now/],
      ['1971-01-01T00:00:00Z', /time: 1971-01-01T00:00:00Z is .* before now/],
      ['2026-12-01T03:05:01Z', /after now/],
      ['2026-12-01T00:54:59Z', /before now/],
      ['not a time', /time: "not a time" is not an ISO-8601 timestamp/],
    ])('throws InvalidEventError for %s', (text, message) => {
      const call = () => boundedEventTime('time', text, now, bounds);
      expect(call).toThrow(InvalidEventError);
      expect(call).toThrow(message);
    });
  });

  it('accepts an old time when an operator redrives it, never a future one', () => {
    const redrive = { reason: 'DLQ redrive after the outage' };
    expect(boundedEventTime('time', '2026-11-28T03:00:00Z', now, bounds, redrive)).toBe(
      Date.parse('2026-11-28T03:00:00Z'),
    );
    expect(() => boundedEventTime('time', '2099-01-01T00:00:00Z', now, bounds, redrive)).toThrow(/after now/);
  });
});
