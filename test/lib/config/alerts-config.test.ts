import { describe, expect, it } from 'vitest';
import { InvalidConfigError, validateConfig } from '../../../lib/config/define-config.ts';

const receivers = {
  pagerduty: { kind: 'pagerduty', routingKeyParameter: '/nightshift/alerts/pagerduty-routing-key' },
  slack: { kind: 'slack', webhookUrlParameter: '/nightshift/alerts/slack-webhook' },
  'slack-bot': {
    kind: 'slack',
    botTokenParameter: '/nightshift/alerts/slack-bot-token',
    channel: 'C0123456789',
  },
  email: { kind: 'email', identity: 'example.com', from: 'nightshift@example.com', to: ['ops@example.com'] },
  audit: { kind: 'sns', topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-audit' },
};

function problemsOf(alerts: unknown): string {
  try {
    validateConfig({ alerts });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('config alerts', () => {
  it('accepts every receiver kind, with the real services as defaults', () => {
    const alerts = validateConfig({
      alerts: {
        receivers,
        routes: [{ match: { severity: ['critical'] }, receivers: ['pagerduty', 'slack'] }],
      },
    }).alerts;
    expect(alerts?.receivers.slack).toMatchObject({ apiBaseUrl: 'https://slack.com/api' });
    expect(alerts?.receivers.pagerduty).toMatchObject({ region: 'us' });
    expect(alerts).toMatchObject({
      insufficientData: 'ignore',
      severity: { tagKey: 'severity', default: 'warning' },
    });
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a webhook URL where its parameter belongs (a secret in the template)',
      {
        receivers: {
          slack: { kind: 'slack', webhookUrlParameter: 'https://hooks.slack.com/services/T0/B0/x' },
        },
      },
      /alerts\.receivers\.slack\.webhookUrlParameter.*must name the SSM SecureString parameter that holds the webhook URL, not the webhook URL itself/s,
    ],
    [
      'a bot token where its parameter belongs',
      { receivers: { s: { kind: 'slack', botTokenParameter: 'xoxb-123-456', channel: 'C0123456789' } } },
      /botTokenParameter.*not the bot token itself/s,
    ],
    [
      'a route naming a receiver that does not exist, with a did-you-mean',
      { receivers, routes: [{ receivers: ['pagerdutty'] }] },
      /alerts\.routes\.0\.receivers\.0.*no receiver "pagerdutty"; did you mean "pagerduty"\?/s,
    ],
    [
      'a receiver called digest (reserved)',
      { receivers: { digest: receivers.email } },
      /"digest" is reserved/,
    ],
    [
      'a Slack receiver with both a webhook and a bot token',
      { receivers: { s: { ...receivers.slack, botTokenParameter: '/t', channel: 'C0123456789' } } },
      /needs either webhookUrlParameter, or botTokenParameter and channel \(not both\)/,
    ],
    [
      'a bot token without a channel',
      { receivers: { s: { kind: 'slack', botTokenParameter: '/t' } } },
      /botTokenParameter and channel/,
    ],
    ['an unknown receiver kind', { receivers: { s: { kind: 'teams' } } }, /alerts\.receivers\.s\.kind/],
    [
      'an http (not https) base URL',
      { receivers: { p: { ...receivers.pagerduty, eventsBaseUrl: 'http://events.pagerduty.com' } } },
      /eventsBaseUrl.*must be an https:\/\/ base URL/s,
    ],
    [
      'an SNS receiver with a queue ARN',
      { receivers: { q: { kind: 'sns', topicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' } } },
      /must be an SNS topic ARN/,
    ],
    [
      'a severity rule with both name and prefix',
      { receivers, severity: { alarms: [{ name: 'a', prefix: 'a', severity: 'info' }] } },
      /needs exactly one of name or prefix/,
    ],
    [
      'a silence in config that would mute everything',
      {
        receivers,
        silences: [
          { comment: 'x', matchers: {}, startsAt: '2026-12-01T00:00:00Z', endsAt: '2026-12-01T01:00:00Z' },
        ],
      },
      /silences\[0\]\.matchers is empty/,
    ],
    [
      'a Slack webhook path where its parameter belongs',
      {
        receivers: {
          s: { kind: 'slack', webhookUrlParameter: '/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX' },
        },
      },
      /webhookUrlParameter.*not the webhook URL itself/s,
    ],
    [
      'a PagerDuty routing key where its parameter belongs',
      { receivers: { p: { kind: 'pagerduty', routingKeyParameter: '/R0123456789abcdef0123456789abcde' } } },
      /routingKeyParameter.*not the routing key itself/s,
    ],
    [
      'receivers that leave critical alerts with no one (no PagerDuty or Slack, no catch-all route)',
      {
        receivers: { email: receivers.email },
        routes: [{ match: { severity: ['info'] }, receivers: ['email'] }],
      },
      /a critical alert no route claims would reach no one.*a warning alert no route claims would reach no one/s,
    ],
    [
      'a priority that redefines a severity word',
      { receivers, severity: { priorities: { info: 'critical' } } },
      /"info" is a severity, not a priority/,
    ],
    [
      'two priorities that differ only by case',
      { receivers, severity: { priorities: { P1: 'critical', p1: 'info' } } },
      /"p1" and "P1" are one priority/,
    ],
    [
      'a misspelled key, with a did-you-mean',
      { receivers, rotues: [] },
      /alerts\.rotues.*did you mean "routes"\?/s,
    ],
  ])('refuses %s, naming the field', (_, alerts, message) => {
    expect(problemsOf(alerts)).toMatch(message);
  });

  it('never echoes the value of a field meant to name a secret', () => {
    const key = 'R0123456789abcdef0123456789abcde';
    const message = problemsOf({ receivers: { p: { kind: 'pagerduty', routingKeyParameter: key } } });
    expect(message).toContain('alerts.receivers.p.routingKeyParameter');
    expect(message).not.toContain(key);
  });

  it('accepts email and SNS receivers only when a catch-all route ends the routes', () => {
    const alerts = { receivers: { email: receivers.email }, routes: [{ receivers: ['email'] }] };
    expect(() => validateConfig({ alerts })).not.toThrow();
  });
});
