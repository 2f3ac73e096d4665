import { describe, expect, it } from 'vitest';
import { alarmAlert } from '../../../lambdas/alerts/alarm-alert.ts';
import { emailMessage } from '../../../lambdas/alerts/email-message.ts';
import {
  dedupKey,
  PAGERDUTY_LIMITS,
  pagerDutyChangeEvent,
  pagerDutyEvent,
} from '../../../lambdas/alerts/pagerduty-event.ts';
import { SLACK_LIMITS, slackMessage } from '../../../lambdas/alerts/slack-message.ts';
import { SNS_SUBJECT_MAX, snsMessage } from '../../../lambdas/alerts/sns-message.ts';
import { escapeMrkdwn, truncate } from '../../../lambdas/alerts/text.ts';
import { readSendEmail } from '../../../local/services/ses-message.ts';
import { MAX_MESSAGE_BYTES as SNS_MAX_BYTES } from '../../../local/services/sns-publish.ts';
import { validateAlert, validateChange } from '../../../local/sink/pagerduty-validation.ts';
import { blockKitProblem } from '../../../local/sink/slack-block-kit.ts';
import { alarmChange, T0 } from './alarm-events.ts';
import { alert } from './alert-fixture.ts';

/** The largest real content: AWS's maximum description, 4,000 characters of reason data, 60 triggering alarms. */
function largestAlert() {
  const children = Array.from({ length: 60 }, (_, i) => ({
    arn: `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${'api-dependency-health-check-'.padEnd(60, 'x')}-${i}`,
    state: { value: 'ALARM', timestamp: '2026-12-01T03:00:00.000+0000' },
  }));
  const event = alarmChange(`api-${'very-long-alarm-name-'.repeat(11)}critical`, {
    description: 'D'.repeat(1024),
    reason: 'R'.repeat(1023),
    reasonData: JSON.stringify({ triggeringAlarms: children, padding: 'p'.repeat(4000) }),
  });
  const v = alarmAlert(event, T0, undefined, { severity: {}, insufficientData: 'ignore' });
  if (v.kind !== 'alert') throw new Error('expected an alert');
  return v.alert;
}

describe('truncate', () => {
  it.each([
    ['short text stays', 'abc', 10, 'abc'],
    ['exactly the limit stays', 'x'.repeat(10), 10, 'x'.repeat(10)],
  ])('%s', (_, text, max, expected) => expect(truncate(text, max)).toBe(expected));

  it('long text is cut to the limit with a marker saying how much was cut', () => {
    const out = truncate('y'.repeat(5000), 3000);
    expect(out).toHaveLength(3000);
    expect(out).toMatch(/ … \[truncated: \d+ more characters\]$/);
    const cut = Number(/truncated: (\d+)/.exec(out)?.[1]);
    expect(out.indexOf(' …') + cut).toBe(5000);
  });

  it('mrkdwn control characters are escaped', () => expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c'));
});

describe('slackMessage: Block Kit within its limits', () => {
  it('the largest real content fits: header ≤ 150, sections ≤ 3,000 with a visible marker, ≤ 50 blocks', () => {
    const message = slackMessage(largestAlert());
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const header = message.blocks[0] as { type: string; text: { text: string } };
    expect(header.type).toBe('header');
    expect(header.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.header);
    const sections = message.blocks.filter((b) => b.type === 'section') as { text: { text: string } }[];
    for (const s of sections) expect(s.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.section);
    expect(sections.some((s) => s.text.text.includes('[truncated:'))).toBe(true);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallback);
  });

  it('a resolution says so in the header and the fallback text', () => {
    const m = slackMessage(alert({ status: 'resolved', title: 'api-5xx resolved after 12 minutes' }));
    expect(m.text).toContain('Resolved: api-5xx resolved after 12 minutes');
    expect((m.blocks[0] as { text: { text: string } }).text.text).toBe(
      'Resolved: api-5xx resolved after 12 minutes',
    );
  });

  it('what Nightshift did, links and notes each get a block', () => {
    const m = slackMessage(
      alert({
        action: 'rolled api back to :1',
        links: [{ text: 'Alarm', href: 'https://console.example/alarm' }],
        notes: ['severity from name'],
      }),
    );
    expect(m.blocks.map((b) => b.type)).toEqual([
      'header',
      'section',
      'section',
      'section',
      'section',
      'context',
    ]);
    expect(JSON.stringify(m.blocks)).toContain('<https://console.example/alarm|Alarm>');
  });
});

describe('pagerDutyEvent', () => {
  it('trigger: summary ≤ 1,024, severity mapped, custom details say what Nightshift did, links kept', () => {
    const a = largestAlert();
    const e = pagerDutyEvent({ ...a, action: 'Nightshift rolled api back' }) as {
      event_action: string;
      dedup_key: string;
      payload: { summary: string; severity: string; source: string; custom_details: Record<string, unknown> };
      links: unknown[];
    };
    expect(e.event_action).toBe('trigger');
    expect(e.payload.summary.length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.summary);
    expect(e.payload.severity).toBe('critical');
    expect(e.payload.custom_details.what_nightshift_did).toBe('Nightshift rolled api back');
    expect(e.dedup_key.length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.dedupKey);
    expect(e.links).toHaveLength(1);
    expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThan(512 * 1024);
  });

  it('resolve carries only the same dedup_key', () => {
    const firing = pagerDutyEvent(alert()) as { dedup_key: string };
    expect(pagerDutyEvent(alert({ status: 'resolved' }))).toEqual({
      event_action: 'resolve',
      dedup_key: firing.dedup_key,
    });
  });

  it('a key longer than 255 characters is hashed, the same way every time', () => {
    const long = `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${'x'.repeat(255)}@2026-12-01T03:00:00.000+0000`;
    expect(dedupKey(long)).toHaveLength('nightshift:sha256:'.length + 64);
    expect(dedupKey(long)).toBe(dedupKey(long));
    expect(dedupKey(`${long}y`)).not.toBe(dedupKey(long));
    expect(dedupKey('short')).toBe('short');
  });
});

describe("the largest real content passes the sink's validation (Slack's and PagerDuty's rules)", () => {
  it('Block Kit, the trigger and the change event of a 1,024-character description, 4,000 characters of reason data and 60 triggering alarms', () => {
    const a = { ...largestAlert(), action: 'Nightshift rolled api back' };
    expect(blockKitProblem(slackMessage(a).blocks)).toBeUndefined();
    const key = { routing_key: 'R'.repeat(32) };
    const errors: string[] = [];
    validateAlert({ ...key, ...pagerDutyEvent(a) }, errors);
    validateChange({ ...key, ...pagerDutyChangeEvent(a) }, errors);
    expect(errors).toEqual([]);
    // And the cut is visible to the reader.
    expect(JSON.stringify(slackMessage(a).blocks)).toContain('[truncated:');
  });
});

describe('email and SNS', () => {
  const hostile = alert({
    title: 'api <script>alert(1)</script>\r\nBcc: everyone@example.com',
    reason: 'why <b>bold</b> & more',
    links: [
      { text: 'console', href: 'https://console.aws.amazon.com/cloudwatch/home' },
      { text: 'trap', href: 'javascript:alert(1)' },
    ],
    action: 'Nightshift rolled api back to :1',
    severity: 'critical',
  });

  it('the subject has severity, service and title on one line; HTML is escaped; only https links are anchors', () => {
    const m = emailMessage(hostile);
    expect(m.subject).toMatch(/^\[CRITICAL\] api: api <script>/);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;');
    expect(m.html).toContain('<a href="https://console.aws.amazon.com/cloudwatch/home">console</a>');
    expect(m.html).not.toContain('href="javascript:');
    expect(m.text).toContain('What Nightshift did:\nNightshift rolled api back to :1');
    expect(emailMessage({ ...hostile, status: 'resolved' }).subject).toContain('Resolved: ');
  });

  it('SNS: JSON for machines, a summary for email, a short line for SMS; a subject SNS accepts; filterable attributes', () => {
    const m = snsMessage(hostile);
    expect(m.subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX);
    expect(m.subject).toMatch(/^[\x20-\x7e]+$/);
    const entries = JSON.parse(m.message) as { default: string; email: string; sms: string };
    expect(JSON.parse(entries.default)).toMatchObject({ version: 1, key: hostile.key, severity: 'critical' });
    expect(entries.email).toContain('What happened:');
    expect(entries.sms.length).toBeLessThanOrEqual(140);
    expect(m.attributes).toEqual({ severity: 'critical', status: 'firing', source: 'alarm', service: 'api' });
  });

  it("the largest real content fits: SES's request rules and SNS's 256 KB and subject rules, the cut visible", () => {
    const a = { ...largestAlert(), action: 'Nightshift rolled api back' };
    const mail = emailMessage(a);
    expect(() =>
      readSendEmail({
        FromEmailAddress: 'nightshift@example.com',
        Destination: { ToAddresses: ['ops@example.com'] },
        Content: {
          Simple: {
            Subject: { Data: mail.subject },
            Body: { Text: { Data: mail.text }, Html: { Data: mail.html } },
          },
        },
      }),
    ).not.toThrow();
    expect(mail.subject.length).toBeLessThanOrEqual(200);
    expect(mail.subject).toContain('[truncated:');
    const sns = snsMessage(a);
    expect(Buffer.byteLength(sns.message) + 100).toBeLessThan(SNS_MAX_BYTES);
    expect(sns.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
  });
});
