import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ForeignEventError, InvalidEventError } from '#shared/errors';
import { unwrapInvocation } from '#shared/invocation';
import { scheduledTime } from '#shared/scheduled-event';

/** AWS's documented sample (test/fixtures/events/SOURCES.md), moved to the test's clock. */
const sample = JSON.parse(
  readFileSync(new URL('../../fixtures/events/scheduled-event.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const origin = { account: String(sample.account), region: String(sample.region) };
const at = '2026-12-01T03:00:00Z';
const event = { ...sample, time: at };
const context = {
  now: Date.parse(at) + 1_000,
  bounds: { maxAgeMs: 7_500_000, maxSkewMs: 300_000 },
  origin,
};

describe('scheduledTime', () => {
  it("returns the event's time as identity when it is a real delivery", () => {
    expect(scheduledTime(event, context)).toBe(Date.parse(at));
  });

  it.each([
    ['time in 2099', { time: '2099-01-01T00:00:00Z' }, InvalidEventError, /time: 2099-01-01T00:00:00Z/],
    ['time in 1971', { time: '1971-01-01T00:00:00Z' }, InvalidEventError, /time: 1971-01-01T00:00:00Z/],
    ['another account', { account: '999999999999' }, ForeignEventError, /account "999999999999"/],
    ['another Region', { region: 'ap-south-2' }, ForeignEventError, /region "ap-south-2"/],
    ['a wrong detail-type', { 'detail-type': 'Nope' }, InvalidEventError, /detail-type/],
    ['an oversized resource', { resources: ['x'.repeat(5_000)] }, InvalidEventError, /resources\.0: Too big/],
  ])('refuses %s naming the field', (_, change, type, message) => {
    const call = () => scheduledTime({ ...event, ...change }, context);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  it('takes an old time only through an operator redrive', () => {
    const old = { ...event, time: '2026-11-29T03:00:00Z' };
    expect(() => scheduledTime(old, context)).toThrow(/before now/);
    const invocation = unwrapInvocation({ redrive: { reason: 'replay from the DLQ' }, event: old });
    expect(scheduledTime(invocation.event, { ...context, redrive: invocation.redrive })).toBe(
      Date.parse('2026-11-29T03:00:00Z'),
    );
  });

  it('refuses a redrive without a reason', () => {
    expect(() => unwrapInvocation({ redrive: {}, event })).toThrow(/malformed redrive: redrive.reason/);
  });
});

describe('error names', () => {
  it('are strings on the class, so they survive minified bundles', () => {
    expect(new InvalidEventError('x').name).toBe('InvalidEventError');
    expect(new ForeignEventError('x').name).toBe('ForeignEventError');
  });
});
