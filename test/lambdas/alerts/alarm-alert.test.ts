import { describe, expect, it } from 'vitest';
import { type AlarmAlertConfig, alarmAlert, type OpenEpisode } from '../../../lambdas/alerts/alarm-alert.ts';
import { alarmStateChangeSchema } from '../../../lambdas/shared/alarm-event.ts';
import { alarmChange, episodeOf, T0 } from './alarm-events.ts';

const config: AlarmAlertConfig = {
  severity: { default: 'warning' },
  insufficientData: 'ignore',
  services: [
    { prefix: 'api-', service: 'api' },
    { name: 'api-billing-export', service: 'billing' },
  ],
  runbookUrl: 'https://wiki.example.com/runbooks/{alarm}',
};
const MIN = 60_000;

function verdict(event: ReturnType<typeof alarmChange>, open?: OpenEpisode, c: AlarmAlertConfig = config) {
  // Every sample must also pass the schema the router parses with.
  expect(() => alarmStateChangeSchema.parse(event)).not.toThrow();
  return alarmAlert(event, Date.parse(event.detail.state.timestamp.replace('+0000', 'Z')), open, c);
}

describe('alarmAlert: episodes', () => {
  it('ALARM with no open episode opens one keyed by the alarm ARN and the time it entered ALARM', () => {
    const v = verdict(alarmChange('api-5xx-critical'));
    expect(v).toMatchObject({ kind: 'alert', opens: true });
    if (v.kind !== 'alert') return;
    expect(v.alert).toMatchObject({
      key: episodeOf('api-5xx-critical'),
      status: 'firing',
      severity: 'critical',
      severityOrigin: 'name',
      service: 'api',
      startedAt: T0,
    });
    expect(v.alert.links.map((l) => l.href)).toEqual([
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/api-5xx-critical',
      'https://wiki.example.com/runbooks/api-5xx-critical',
    ]);
  });

  it('the same ALARM delivered again (episode already recorded) is the same alert, not a continuation', () => {
    const open = { key: episodeOf('api-5xx-critical'), startedAt: T0, severity: 'critical' as const };
    const v = verdict(alarmChange('api-5xx-critical'), open);
    expect(v).toMatchObject({ kind: 'alert', opens: false, alert: { key: open.key, notes: [] } });
  });

  it('an ALARM after ALARM (a composite whose children changed) continues the open episode', () => {
    const open = { key: episodeOf('api-unhealthy'), startedAt: T0, severity: 'critical' as const };
    const later = alarmChange('api-unhealthy', { at: T0 + 5 * MIN, previous: { value: 'ALARM', at: T0 } });
    const v = verdict(later, open);
    expect(v).toMatchObject({
      kind: 'alert',
      opens: false,
      alert: { key: open.key, startedAt: T0, status: 'firing' },
    });
    if (v.kind === 'alert') expect(v.alert.notes.join()).toContain('continues the episode');
  });

  it('OK resolves the open episode with its key and severity, and says how long it lasted', () => {
    const open = { key: episodeOf('api-latency'), startedAt: T0, severity: 'critical' as const };
    const v = verdict(alarmChange('api-latency', { value: 'OK', at: T0 + 12 * MIN }), open);
    expect(v).toMatchObject({
      kind: 'alert',
      alert: {
        key: open.key,
        status: 'resolved',
        severity: 'critical',
        title: 'api-latency resolved after 12 minutes (api)',
      },
    });
  });

  it('OK reached through INSUFFICIENT_DATA still resolves the open episode', () => {
    const open = { key: episodeOf('api-latency'), startedAt: T0, severity: 'warning' as const };
    const ok = alarmChange('api-latency', {
      value: 'OK',
      at: T0 + 20 * MIN,
      previous: { value: 'INSUFFICIENT_DATA', at: T0 + 10 * MIN },
    });
    expect(verdict(ok, open)).toMatchObject({ kind: 'alert', alert: { key: open.key, status: 'resolved' } });
  });

  it('OK straight from ALARM with no recorded episode resolves the episode the previous state names', () => {
    const ok = alarmChange('api-latency', {
      value: 'OK',
      at: T0 + 7 * MIN,
      previous: { value: 'ALARM', at: T0 },
    });
    expect(verdict(ok)).toMatchObject({
      kind: 'alert',
      alert: { key: episodeOf('api-latency', T0), status: 'resolved', startedAt: T0 },
    });
  });

  it('OK with nothing open and no ALARM before it is ignored', () => {
    const ok = alarmChange('api-latency', {
      value: 'OK',
      previous: { value: 'INSUFFICIENT_DATA', at: T0 - MIN },
    });
    expect(verdict(ok)).toMatchObject({ kind: 'ignored' });
  });

  it('INSUFFICIENT_DATA is ignored unless config asks for it, and then opens an episode', () => {
    const event = alarmChange('api-latency', { value: 'INSUFFICIENT_DATA' });
    expect(verdict(event)).toMatchObject({ kind: 'ignored' });
    expect(verdict(event, undefined, { ...config, insufficientData: 'alert' })).toMatchObject({
      kind: 'alert',
      opens: true,
      alert: { title: 'api-latency is in INSUFFICIENT_DATA (api)' },
    });
  });
});

describe('alarmAlert: content', () => {
  it('severity and service from propagated tags; a failed propagation falls back and says so', () => {
    const tagged = verdict(
      alarmChange('worker-queue-age', { tags: { Severity: 'P1', 'nightshift:service': 'worker' } }),
    );
    expect(tagged).toMatchObject({
      alert: { severity: 'critical', severityOrigin: 'tag', service: 'worker' },
    });
    const failed = verdict(alarmChange('worker-queue-age-critical', { tagsStatus: 'FAILED_AUTHORIZATION' }));
    expect(failed).toMatchObject({ alert: { severity: 'critical', severityOrigin: 'name' } });
    if (failed.kind === 'alert')
      expect(failed.alert.notes.join()).toContain('alarmTagsStatus FAILED_AUTHORIZATION');
  });

  it('the exact configured name wins over a prefix for the service', () => {
    expect(verdict(alarmChange('api-billing-export'))).toMatchObject({ alert: { service: 'billing' } });
  });

  it("a composite's triggering alarms and the alarm's description are part of what happened", () => {
    const children = Array.from({ length: 60 }, (_, i) => ({
      arn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-child-${i}`,
      state: { value: 'ALARM', timestamp: '2026-12-01T03:00:00.000+0000' },
    }));
    const v = verdict(
      alarmChange('api-unhealthy', {
        reasonData: JSON.stringify({ triggeringAlarms: children }),
        description: 'd'.repeat(1024),
      }),
    );
    if (v.kind !== 'alert') throw new Error('expected an alert');
    expect(v.alert.reason).toContain('api-child-0, api-child-1');
    expect(v.alert.reason).toContain('api-child-59');
    expect(v.alert.reason).toContain('d'.repeat(1024));
  });
});
