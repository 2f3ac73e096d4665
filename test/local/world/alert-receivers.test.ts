import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NightshiftConfigInput } from '../../../lib/config/schema.ts';
import { drainAlerts } from '../../../local/sandbox/alerts-story.ts';
import { exampleAppConfig } from '../../../local/sandbox/example-config.ts';
import type { AlertSink } from '../../../local/sink/sink.ts';
import type { LocalWorld } from '../../../local/world/world.ts';
import { startSinkWorld } from './alerts-fixture.ts';

const BOT_TOKEN_PARAMETER = '/nightshift/alerts/slack-bot-token';
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ops-tickets`;
const OTHER_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:someone-elses`;

let world: LocalWorld;
let sink: AlertSink;
let token = '';
let channel = '';
let cdkOut = '';

/** The example app alerting to a Slack channel by bot token, to email (SES) and to an SNS topic. */
function config(slackApiBaseUrl: string): NightshiftConfigInput {
  return {
    ...exampleAppConfig,
    ecsRollback: exampleAppConfig.ecsRollback
      ? { ...exampleAppConfig.ecsRollback, enabled: false }
      : undefined,
    alerts: {
      receivers: {
        'slack-bot': {
          kind: 'slack',
          botTokenParameter: BOT_TOKEN_PARAMETER,
          channel: 'C0INCIDENTS1',
          apiBaseUrl: slackApiBaseUrl,
        },
        email: {
          kind: 'email',
          identity: 'example.com',
          from: 'nightshift@example.com',
          to: ['oncall@example.com', 'bounce@simulator.amazonses.com'],
        },
        tickets: { kind: 'sns', topicArn: TOPIC },
      },
      routes: [
        { match: { severity: ['critical'] }, receivers: ['slack-bot', 'email', 'tickets'] },
        { match: { severity: ['warning'] }, receivers: ['slack-bot', 'tickets'] },
      ],
      alarms: [{ prefix: 'checkout-' }],
    },
  };
}

let close: () => Promise<void>;
beforeAll(async () => {
  ({ world, sink, cdkOut, close } = await startSinkWorld((url) => config(`${url}/api`), 'receivers'));
  // The channel id config names, and a bot in it; the token goes where config says, as a person would put it.
  channel = sink.slack.createChannel('C0INCIDENTS1');
  token = sink.slack.createBotToken({ channels: ['C0INCIDENTS1'] });
  await new SSMClient(world.operatorConfig()).send(
    new PutParameterCommand({ Name: BOT_TOKEN_PARAMETER, Value: token, Type: 'SecureString' }),
  );
  world.ses.verifyIdentity('example.com');
  world.sns.createTopic('ops-tickets');
  world.sns.createTopic('someone-elses');
}, 120_000);
afterAll(() => close?.());

const roleOf = (fragment: string) => {
  const fn = world.app.functions.find((f) => f.logicalId.includes(fragment));
  if (!fn) throw new Error(`no function ${fragment}`);
  return fn.logicalId;
};
const header = (m: { blocks: readonly unknown[] }) =>
  String((m.blocks[0] as { text?: { text?: string } }).text?.text);

describe('alerts to a Slack bot, email and SNS in the local world', () => {
  it('one episode: a thread in Slack (first message kept current), an email with text and HTML, an SNS message; its OK resolves each', async () => {
    world.cloudwatch.putAlarm('checkout-5xx-critical', { description: 'checkout 5xx above 5 %' });
    world.cloudwatch.setState('checkout-5xx-critical', 'ALARM', 'Threshold Crossed: 7.2 % 5xx');
    await drainAlerts(world);
    // The episode's own messages (the bounces of its emails come as messages of their own, below).
    const episode = () =>
      sink.slack.messages(channel).filter((m) => header(m).includes('checkout-5xx-critical'));
    expect(episode()).toHaveLength(1);
    const mail = world.ses.sent.filter((m) => m.subject?.includes('checkout-5xx-critical'));
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({
      from: 'nightshift@example.com',
      subject: '[CRITICAL] checkout-5xx-critical is in ALARM',
      text: expect.stringContaining('What happened:'),
      html: expect.stringContaining('<h2>checkout-5xx-critical is in ALARM</h2>'),
    });
    const published = world.sns.messages(TOPIC);
    expect(published).toHaveLength(1);
    expect(published[0]?.messageStructure).toBe('json');
    expect(JSON.parse(JSON.parse(published[0]?.message ?? '{}').default)).toMatchObject({
      status: 'firing',
      severity: 'critical',
      alarmName: 'checkout-5xx-critical',
    });
    expect(published[0]?.messageAttributes.severity).toEqual({ dataType: 'String', stringValue: 'critical' });

    await world.advance(12 * 60_000);
    world.cloudwatch.setState('checkout-5xx-critical', 'OK', 'Threshold Crossed: 0.1 % 5xx');
    await drainAlerts(world);
    const parent = episode()[0];
    expect(episode()).toHaveLength(1);
    expect(parent && sink.slack.thread(channel, parent.ts).map(header)).toEqual([
      expect.stringMatching(/^Resolved: checkout-5xx-critical resolved after 1\d minutes/),
    ]);
    expect(parent && header(parent)).toBe('Resolved: checkout-5xx-critical is in ALARM');
    expect(parent?.edits).toHaveLength(1);
    expect(world.ses.sent.filter((m) => m.subject?.startsWith('[CRITICAL] Resolved:'))).toHaveLength(1);
    expect(
      world.sns
        .messages(TOPIC)
        .filter((m) => m.subject?.includes('checkout-5xx-critical'))
        .map((m) => m.messageAttributes.status?.stringValue),
    ).toEqual(['firing', 'resolved']);
  }, 120_000);

  it('the bounce SES reports for an alert email comes back as a warning to Slack and SNS, never by email', async () => {
    await world.advance(5_000);
    await drainAlerts(world);
    const before = world.ses.sent.length;
    const bounced = world.routed.filter((e) => e['detail-type'] === 'Email Bounced');
    // Both alert emails went to the mailbox simulator's bounce address too: SES reported each.
    expect(bounced).toHaveLength(2);
    const warnings = sink.slack
      .messages(channel)
      .filter((m) => header(m).includes('Alert email to receiver email not delivered'));
    expect(warnings).toHaveLength(2);
    expect(JSON.stringify(warnings[0]?.blocks)).toContain('bounce@simulator.amazonses.com');
    expect(world.sns.messages(TOPIC).filter((m) => m.subject?.includes('not delivered'))).toHaveLength(2);
    expect(world.ses.sent.length).toBe(before);
  });

  it('IAM: the email sender sends only as its address and identity; the SNS sender publishes only to its topic', async () => {
    const ses = new SESv2Client(world.functionConfig(roleOf('Receiveremail')));
    const send = (from: string, to = 'oncall@example.com') =>
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [to] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
        }),
      );
    await expect(send('ceo@example.com')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(send('nightshift@example.com', 'someone@elsewhere.example')).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    const sns = new SNSClient(world.functionConfig(roleOf('Receivertickets')));
    await expect(sns.send(new PublishCommand({ TopicArn: OTHER_TOPIC, Message: 'x' }))).rejects.toMatchObject(
      {
        $metadata: { httpStatusCode: 403 },
      },
    );
    // Nobody else may publish there or send mail: the Slack sender and the router.
    for (const other of ['Receiverslackbot', 'AlertRoutingRouter']) {
      const client = new SNSClient(world.functionConfig(roleOf(other)));
      await expect(client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'x' }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
    }
  });

  it('the bot token appears nowhere: not in the template, the logs, the events, the queues or the state', () => {
    const files = (d: string): string[] =>
      readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
    for (const file of files(cdkOut).filter((f) => /\.json$/.test(f))) {
      expect(readFileSync(file, 'utf8')).not.toContain(token);
    }
    const everything = JSON.stringify({
      routed: world.routed,
      deliveries: world.deliveries,
      sqs: world.sqsDeliveries,
      published: world.sns.published,
      sent: world.ses.sent,
      recorded: sink.requests,
    });
    expect(everything).not.toContain(token);
  });
});
