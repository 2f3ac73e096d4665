import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type EventPattern,
  InvalidEventPatternError,
  matchesPattern,
  validatePattern,
} from '../../../local/events/pattern.ts';

/** One vector of test/fixtures/event-patterns.json (see event-patterns.NOTES.md). */
interface PatternVector {
  name: string;
  feature: string;
  pattern: EventPattern;
  event: unknown;
  matches: boolean;
  disputed?: boolean;
  event_text?: string;
  pattern_text?: string;
  note?: string;
}

// The fixtures live next to the repo (/work/shared), not inside it (/work/main).
const fixtures = new URL('../../fixtures/', import.meta.url);

function readJson(relative: string): unknown {
  return JSON.parse(readFileSync(new URL(relative, fixtures), 'utf8'));
}

const vectors = readJson('event-patterns.json') as PatternVector[];
const undisputed = vectors.filter((v) => v.disputed !== true);

describe('matchesPattern', () => {
  describe('documented vectors (event-patterns.json)', () => {
    it('has exactly one disputed vector, which is left out of the table below', () => {
      // The 300 vs 300.0 vector: the docs say no match, AWS-validated tests say match, and
      // JSON.parse turns 300.0 into 300 anyway, so it can't be tested from parsed JSON.
      expect(vectors.filter((v) => v.disputed === true).map((v) => v.name)).toEqual([
        'exact: numbers compare by string representation - pattern 300 vs event 300.0',
      ]);
      expect(undisputed).toHaveLength(vectors.length - 1);
    });

    it.each(undisputed.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
      expect(matchesPattern(vector.pattern, vector.event)).toBe(vector.matches);
    });
  });

  describe('realistic events', () => {
    const alarm = readJson('events/cloudwatch-alarm-state-change-single-metric.json');
    const serverAlarmPattern: EventPattern = {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [{ prefix: 'Server' }], state: { value: ['ALARM'] } },
    };

    it('matches a CloudWatch alarm entering ALARM when the alarm name has the prefix', () => {
      expect(matchesPattern(serverAlarmPattern, alarm)).toBe(true);
    });

    it('does not match the same event when the state filter asks for OK', () => {
      const okPattern: EventPattern = { ...serverAlarmPattern, detail: { state: { value: ['OK'] } } };
      expect(matchesPattern(okPattern, alarm)).toBe(false);
    });

    it('matches fields inside arrays of objects (detail.configuration.metrics[].metricStat)', () => {
      const pattern: EventPattern = {
        detail: { configuration: { metrics: { metricStat: { metric: { name: ['CPUUtilization'] } } } } },
      };
      expect(matchesPattern(pattern, alarm)).toBe(true);
    });
  });

  describe('arrays of objects', () => {
    const event = {
      detail: {
        items: [
          { name: 'a', size: 1 },
          { name: 'b', size: 2 },
        ],
      },
    };

    it('matches when both fields come from the same array element', () => {
      expect(matchesPattern({ detail: { items: { name: ['b'], size: [2] } } }, event)).toBe(true);
    });

    it('does not match when the fields are only satisfied by different elements', () => {
      // event-ruler's "array consistency": not on the docs pages, but how the service behaves.
      expect(matchesPattern({ detail: { items: { name: ['a'], size: [2] } } }, event)).toBe(false);
    });
  });

  describe('operators beyond the vectors', () => {
    it('treats exists:false as satisfied by a missing field inside an OR with anything-but', () => {
      const pattern = { state: [{ 'anything-but': 'initializing' }, { exists: false }] };
      expect(matchesPattern(pattern, {})).toBe(true);
      expect(matchesPattern(pattern, { state: 'initializing' })).toBe(false);
    });

    it('does not let a string equal a number or a boolean', () => {
      expect(matchesPattern({ n: ['5'] }, { n: 5 })).toBe(false);
      expect(matchesPattern({ b: ['true'] }, { b: true })).toBe(false);
      expect(matchesPattern({ b: [true] }, { b: true })).toBe(true);
    });

    it('matches IPv6 CIDR blocks in compressed form and rejects other families', () => {
      const pattern = { ip: [{ cidr: '2001:db8::/32' }] };
      expect(matchesPattern(pattern, { ip: '2001:db8:ffff::1' })).toBe(true);
      expect(matchesPattern(pattern, { ip: '2001:db9::1' })).toBe(false);
      expect(matchesPattern(pattern, { ip: '10.0.0.1' })).toBe(false);
    });

    it('lets one wildcard match several middle segments in order', () => {
      const pattern = { f: [{ wildcard: 'a*b*c' }] };
      expect(matchesPattern(pattern, { f: 'axxbyyc' })).toBe(true);
      expect(matchesPattern(pattern, { f: 'acb' })).toBe(false);
    });
  });
});

describe('validatePattern', () => {
  describe('accepts well-formed patterns', () => {
    it.each(undisputed.map((v) => [v.name, v.pattern] as const))('%s', (_name, pattern) => {
      expect(() => validatePattern(pattern)).not.toThrow();
    });
  });

  describe('rejects malformed patterns', () => {
    it.each([
      ['a non-object pattern', ['aws.ec2'], '<root>'],
      ['a leaf that is not an array', { source: 'aws.ec2' }, 'source'],
      ['an empty leaf array', { source: [] }, 'source'],
      ['an unknown operator', { detail: { state: [{ prefixx: 'x' }] } }, 'detail.state[0]'],
      ['an operator object with two keys', { a: [{ prefix: 'x', suffix: 'y' }] }, 'a[0]'],
      ['a non-numeric numeric bound', { n: [{ numeric: ['>', '5'] }] }, 'n[0].numeric[1]'],
      ['an unknown numeric operator', { n: [{ numeric: ['!=', 5] }] }, 'n[0].numeric[0]'],
      ['a numeric range with two lower bounds', { n: [{ numeric: ['>', 1, '>=', 5] }] }, 'n[0].numeric'],
      ['a non-boolean exists', { a: [{ exists: 'yes' }] }, 'a[0].exists'],
      ['an invalid CIDR', { ip: [{ cidr: '10.0.0.0/33' }] }, 'ip[0].cidr'],
      ['an invalid wildcard escape', { f: [{ wildcard: 'a\\b' }] }, 'f[0].wildcard'],
      [
        'an unknown anything-but operator',
        { a: [{ 'anything-but': { numeric: ['>', 1] } }] },
        'a[0].anything-but',
      ],
      ['a non-object $or branch', { $or: [{ a: ['x'] }, 'b'] }, '$or[1]'],
    ])('throws for %s', (_what, pattern, path) => {
      let error: unknown;
      try {
        validatePattern(pattern);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidEventPatternError);
      expect(error).toMatchObject({ name: 'InvalidEventPatternError', path });
      expect(String(error)).toContain(path);
    });

    it('makes matchesPattern throw the same error', () => {
      expect(() => matchesPattern({ source: 'aws.ec2' }, { source: 'aws.ec2' })).toThrow(
        InvalidEventPatternError,
      );
    });
  });
});
