import { describe, expect, it } from 'vitest';
import { closestKey, describeValue, levenshtein, unknownKeyMessage } from '../../../lib/config/problems.ts';

describe('config problems', () => {
  describe('levenshtein', () => {
    it.each([
      ['', '', 0],
      ['abc', '', 3],
      ['kitten', 'sitting', 3],
      ['prefx', 'prefix', 1],
      ['schedule', 'schedule', 0],
    ])('%s → %s is %i', (a, b, distance) => {
      expect(levenshtein(a, b)).toBe(distance);
      expect(levenshtein(b, a)).toBe(distance);
    });
  });

  describe('did you mean', () => {
    const keys = ['enabled', 'dryRun', 'bakeWindowMinutes', 'cooldownMinutes', 'services', 'serviceTagKey'];
    it.each([
      ['dryrun', 'dryRun'],
      ['cooldownMinute', 'cooldownMinutes'],
      ['bakeWindow', 'bakeWindowMinutes'],
      ['servces', 'services'],
      ['enable', 'enabled'],
    ])('suggests the key %s meant', (typo, meant) => {
      expect(closestKey(typo, keys)).toBe(meant);
    });

    it('suggests nothing when no key is near', () => {
      expect(closestKey('region', keys)).toBeUndefined();
      expect(unknownKeyMessage('region', ['a', 'b'])).toBe('unknown key; the keys here are a, b');
    });
  });

  it('shows a value as JSON cut to 60 characters', () => {
    expect(describeValue('api')).toBe('"api"');
    expect(describeValue({ a: 'x'.repeat(100) })).toHaveLength(60);
    expect(describeValue({ a: 'x'.repeat(100) }).endsWith('…')).toBe(true);
  });
});
