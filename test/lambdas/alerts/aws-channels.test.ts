import {
  AccountSuspendedException,
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import {
  AuthorizationErrorException,
  InternalErrorException,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { alertTag, judgeAwsError, publishToSns, sendEmail } from '../../../lambdas/alerts/aws-channels.ts';
import { alert } from './alert-fixture.ts';

const ses = mockClient(SESv2Client);
const sns = mockClient(SNSClient);
beforeEach(() => {
  ses.reset();
  sns.reset();
});
const meta = (httpStatusCode?: number) => ({ $metadata: httpStatusCode ? { httpStatusCode } : {} });
const channel = { from: 'nightshift@example.com', to: ['ops@example.com'], configurationSetName: 'set-1' };

describe('email and SNS senders: what an AWS answer means', () => {
  it('sent: the message id is the receipt; the email goes through the configuration set, tagged with its alert', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const a = alert({ severity: 'critical' });
    expect(await sendEmail(a, new SESv2Client({ region: 'eu-west-1' }), channel, 'email-ops')).toEqual({
      kind: 'sent',
      receipt: 'ses message m-1',
    });
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      FromEmailAddress: 'nightshift@example.com',
      Destination: { ToAddresses: ['ops@example.com'] },
      ConfigurationSetName: 'set-1',
      EmailTags: [
        { Name: 'nightshift-receiver', Value: 'email-ops' },
        { Name: 'nightshift-alert', Value: alertTag(a) },
        { Name: 'nightshift-severity', Value: 'critical' },
      ],
    });
    expect(alertTag(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(input?.Content?.Simple?.Body?.Html?.Data).toContain('<h2>');
  });

  it.each([
    [
      'throttled (SES)',
      new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...meta(429) }),
      'retry',
    ],
    ['an SNS 500', new InternalErrorException({ message: 'oops', ...meta(500) }), 'retry'],
    ['no answer (no status)', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 'retry'],
    [
      'refused by SES',
      new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }),
      'rejected',
    ],
    [
      'a suspended account',
      new AccountSuspendedException({ message: 'suspended', ...meta(400) }),
      'rejected',
    ],
    [
      'denied by IAM',
      new AuthorizationErrorException({ message: 'not authorized', ...meta(403) }),
      'rejected',
    ],
  ])('%s → %s', (_, error, kind) => {
    const judged = judgeAwsError(error, 'SES SendEmail');
    expect(judged.kind).toBe(kind);
    if (judged.kind !== 'sent') expect(judged.reason).toContain(error.name);
  });

  it('a failed send is never "sent": SES and SNS errors come back as retry or rejected with AWS’s words', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }));
    sns.on(PublishCommand).rejects(new InternalErrorException({ message: 'Internal error', ...meta(500) }));
    const a = alert();
    expect(await sendEmail(a, new SESv2Client({ region: 'eu-west-1' }), channel, 'email-ops')).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('Email address is not verified.'),
    });
    expect(
      await publishToSns(a, new SNSClient({ region: 'eu-west-1' }), {
        topicArn: 'arn:aws:sns:eu-west-1:1:t',
      }),
    ).toMatchObject({ kind: 'retry', reason: expect.stringContaining('Internal error') });
  });

  it('SNS: published as JSON per protocol, with filterable attributes, to the configured topic only', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 's-1' });
    const topicArn = 'arn:aws:sns:eu-west-1:111122223333:tickets';
    expect(await publishToSns(alert(), new SNSClient({ region: 'eu-west-1' }), { topicArn })).toEqual({
      kind: 'sent',
      receipt: 'sns message s-1',
    });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({
      TopicArn: topicArn,
      MessageStructure: 'json',
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'warning' } },
    });
  });
});
