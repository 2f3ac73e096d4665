import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AlarmFacts, resolveSeverity, type SeverityConfig } from '../../../lambdas/alerts/severity.ts';

const config: SeverityConfig = {
  alarms: [
    { name: 'billing-queue-depth', severity: 'critical' },
    { prefix: 'billing-', severity: 'info' },
    { prefix: 'billing-db-', severity: 'warning' },
  ],
  default: 'warning',
};

describe('resolveSeverity: tag › name › config › default', () => {
  it.each<[string, AlarmFacts, SeverityConfig, string, string]>([
    [
      'the severity tag wins over name and config',
      { alarmName: 'billing-queue-depth-info', tags: { severity: 'critical' }, tagsStatus: 'SUCCESS' },
      config,
      'critical',
      'tag',
    ],
    [
      'a priority in the tag maps through the default P1–P4',
      { alarmName: 'x', tags: { severity: 'P3' }, tagsStatus: 'SUCCESS' },
      {},
      'warning',
      'tag',
    ],
    [
      'tag values are case-insensitive and trimmed',
      { alarmName: 'x', tags: { severity: ' Critical ' }, tagsStatus: 'SUCCESS' },
      {},
      'critical',
      'tag',
    ],
    [
      'a configured priority scheme (SEV1 → critical)',
      { alarmName: 'x', tags: { severity: 'sev1' }, tagsStatus: 'SUCCESS' },
      { priorities: { SEV1: 'critical', SEV2: 'warning' } },
      'critical',
      'tag',
    ],
    [
      'the tag key is matched ignoring case (Severity=critical)',
      { alarmName: 'x', tags: { Severity: 'critical' }, tagsStatus: 'SUCCESS' },
      {},
      'critical',
      'tag',
    ],
    [
      'a configured tag key',
      { alarmName: 'x', tags: { priority: 'P1' }, tagsStatus: 'SUCCESS' },
      { tagKey: 'priority' },
      'critical',
      'tag',
    ],
    [
      'no tag: the name convention (a word of the name)',
      { alarmName: 'api-5xx-critical' },
      config,
      'critical',
      'name',
    ],
    ['a priority word in the name', { alarmName: 'P4_api.latency' }, {}, 'info', 'name'],
    [
      'a severity inside a word is not a word of the name',
      { alarmName: 'api-criticalpath-latency' },
      {},
      'warning',
      'default',
    ],
    [
      'name convention off: config decides',
      { alarmName: 'billing-db-critical' },
      { ...config, fromName: false },
      'warning',
      'config',
    ],
    [
      'config: the exact name wins over prefixes',
      { alarmName: 'billing-queue-depth' },
      config,
      'critical',
      'config',
    ],
    ['config: the longest prefix wins', { alarmName: 'billing-db-cpu' }, config, 'warning', 'config'],
    [
      'config: a shorter prefix when the longer does not match',
      { alarmName: 'billing-api-cpu' },
      config,
      'info',
      'config',
    ],
    ['nothing says: the default', { alarmName: 'orders-cpu' }, { default: 'info' }, 'info', 'default'],
    ['nothing and no default configured: warning', { alarmName: 'orders-cpu' }, {}, 'warning', 'default'],
  ])('%s', (_, alarm, cfg, severity, origin) => {
    expect(resolveSeverity(alarm, cfg)).toMatchObject({ severity, origin });
  });

  it('falls back to name and config when tag propagation failed, and says so in the alert', () => {
    const decision = resolveSeverity(
      { alarmName: 'billing-db-cpu', tags: { severity: 'critical' }, tagsStatus: 'FAILURE' },
      config,
    );
    expect(decision).toMatchObject({ severity: 'warning', origin: 'config' });
    expect(decision.notes).toEqual([
      'alarm tags were not propagated (alarmTagsStatus FAILURE): severity from name or config',
    ]);
  });

  it('ignores an unknown tag value, naming it, and goes on to the name', () => {
    const decision = resolveSeverity({
      alarmName: 'api-P2',
      tags: { severity: 'urgent' },
      tagsStatus: 'SUCCESS',
    });
    expect(decision).toMatchObject({ severity: 'critical', origin: 'name' });
    expect(decision.notes).toEqual([
      'tag severity=urgent is neither a severity nor a configured priority: ignored',
    ]);
  });

  it('ignores a name that names two severities', () => {
    const decision = resolveSeverity({ alarmName: 'api-critical-warning' }, config);
    expect(decision).toMatchObject({ severity: 'warning', origin: 'default' });
    expect(decision.notes[0]).toContain('names critical and warning');
  });

  it("reads the tags of AWS's alarm-tags event as propagated (fixture: its tags carry no severity)", () => {
    const event = JSON.parse(
      readFileSync(
        new URL(
          '../../fixtures/events/cloudwatch-alarm-state-change-single-metric-with-alarm-tags.constructed.json',
          import.meta.url,
        ),
        'utf8',
      ),
    );
    const { alarmName, alarmTags, alarmTagsStatus } = event.detail;
    expect(
      resolveSeverity({ alarmName, tags: alarmTags, tagsStatus: alarmTagsStatus }, { default: 'info' }),
    ).toEqual({
      severity: 'info',
      origin: 'default',
      notes: [],
    });
    const tagged = { ...alarmTags, severity: 'P1' };
    expect(resolveSeverity({ alarmName, tags: tagged, tagsStatus: alarmTagsStatus })).toMatchObject({
      severity: 'critical',
      origin: 'tag',
    });
  });
});
