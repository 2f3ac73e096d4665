import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../lambdas/alerts/model.ts';
import {
  parseSilences,
  parseSilencesJson,
  type Silence,
  SilenceError,
  silencing,
} from '../../../lambdas/alerts/silences.ts';
import { alert } from './alert-fixture.ts';

const NOW = Date.parse('2026-12-01T03:00:00Z');
const HOUR = 3600_000;

const window = { startsAt: NOW - HOUR, endsAt: NOW + HOUR };
const apiWarnings: Silence = { comment: 'api migration', matchers: { service: ['api'] }, ...window };
const apiPages: Silence = {
  comment: 'api cut-over',
  matchers: { service: ['api'], severity: ['critical', 'warning'] },
  ...window,
};
const billingPrefix: Silence = {
  comment: 'billing load test',
  matchers: { alarmPrefix: ['billing-'] },
  ...window,
};

describe('silencing', () => {
  it.each<[string, Partial<Alert>, Silence[], string | undefined]>([
    ['mutes a warning of the named service', { severity: 'warning' }, [apiWarnings], 'api migration'],
    [
      'never mutes a critical alert by a silence that does not name critical',
      { severity: 'critical' },
      [apiWarnings],
      undefined,
    ],
    [
      'mutes a critical alert when the silence names critical',
      { severity: 'critical' },
      [apiPages],
      'api cut-over',
    ],
    [
      "leaves another service's alert alone",
      { service: 'worker', severity: 'warning' },
      [apiWarnings],
      undefined,
    ],
    [
      'mutes by alarm prefix',
      { alarmName: 'billing-queue', severity: 'info' },
      [billingPrefix],
      'billing load test',
    ],
    [
      'needs every matcher: the right service but not the severity',
      { severity: 'info' },
      [apiPages],
      undefined,
    ],
    [
      'before its start it mutes nothing',
      { severity: 'warning' },
      [{ ...apiWarnings, startsAt: NOW + 1 }],
      undefined,
    ],
    [
      'at its end it mutes nothing (the end is exclusive)',
      { severity: 'warning' },
      [{ ...apiWarnings, endsAt: NOW }],
      undefined,
    ],
  ])('%s', (_, overrides, silences, comment) => {
    expect(silencing(alert(overrides), silences, NOW)?.comment).toBe(comment);
  });
});

describe('parseSilences: a clear error naming the field, and nothing muted', () => {
  const good = {
    comment: 'db maintenance (ops-142)',
    matchers: { service: ['api'] },
    startsAt: '2026-12-01T02:00:00Z',
    endsAt: '2026-12-01T04:00:00+00:00',
  };

  it('parses what a person writes in the parameter', () => {
    expect(parseSilencesJson(JSON.stringify([good]), '/nightshift/silences')).toEqual([
      { comment: good.comment, matchers: good.matchers, startsAt: NOW - HOUR, endsAt: NOW + HOUR },
    ]);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'no matcher would mute everything',
      [{ ...good, matchers: {} }],
      /\/nightshift\/silences\[0\]\.matchers is empty/,
    ],
    [
      'an end before the start',
      [{ ...good, endsAt: '2026-12-01T01:00:00Z' }],
      /\[0\]\.endsAt 2026-12-01T01:00:00Z is not after startsAt/,
    ],
    ['longer than 14 days', [{ ...good, endsAt: '2026-12-31T00:00:00Z' }], /\[0\] lasts more than 14 days/],
    [
      'an unknown matcher (a typo must not widen a silence)',
      [{ ...good, matchers: { servce: ['api'] } }],
      /0\.matchers/,
    ],
    ['a severity that is not one', [{ ...good, matchers: { severity: ['P1'] } }], /0\.matchers\.severity\.0/],
    ['an empty matcher list', [{ ...good, matchers: { service: [] } }], /0\.matchers\.service/],
    ['a time that is not ISO 8601', [{ ...good, startsAt: 'tomorrow' }], /0\.startsAt/],
    ['no comment', [{ ...good, comment: '' }], /0\.comment/],
    [
      'critical muted for everything (no service or alarm prefix named)',
      [{ ...good, matchers: { severity: ['critical', 'warning', 'info'] } }],
      /\[0\]\.matchers mutes critical alerts without naming a service or alarmPrefix/,
    ],
    [
      'a misplaced matcher at the top level (a typo must not widen a silence)',
      [{ ...good, severity: ['warning'] }],
      /0: Unrecognized key: "severity"|0\b.*severity/,
    ],
  ])('%s', (_, input, message) => {
    expect(() => parseSilences(input, '/nightshift/silences')).toThrow(SilenceError);
    expect(() => parseSilences(input, '/nightshift/silences')).toThrow(message);
  });

  it('refuses a parameter that is not JSON, naming it', () => {
    expect(() => parseSilencesJson('{not json', '/nightshift/silences')).toThrow(
      '/nightshift/silences is not JSON',
    );
  });

  it('the error class keeps its name through bundling (a static name)', () => {
    expect(new SilenceError('x').name).toBe('SilenceError');
  });
});
