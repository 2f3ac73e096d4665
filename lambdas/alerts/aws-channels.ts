/**
 * The AWS receivers: email through SES v2 `SendEmail`, and SNS `Publish`. The SDK retries what AWS marks
 * retryable; what is still failing after that is a retry for the sender (throttling, 5xx, no answer) or
 * a refusal (the request or the permissions are wrong: to the DLQ with AWS's words).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SendResult } from './channels.ts';
import { emailMessage } from './email-message.ts';
import type { Alert } from './model.ts';
import { snsMessage } from './sns-message.ts';

/** Errors that say "later", whatever their status. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ThrottledException',
  'InternalFailure',
  'InternalError',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSThrottlingException',
  'TimeoutError',
  // These clear with time: the daily quota resets, credentials refresh, sending is resumed.
  'LimitExceededException',
  'SendingPausedException',
  'ExpiredTokenException',
  'ExpiredToken',
  'RequestExpired',
]);

/** What an SDK error means for the sender. */
export function judgeAwsError(error: unknown, what: string): SendResult {
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = e.$metadata?.httpStatusCode;
  const reason = `${what}: ${e.name}${status ? ` (${status})` : ''}: ${String(e.message).slice(0, 500)}`;
  const transient =
    TRANSIENT.has(e.name) ||
    e.$retryable !== undefined ||
    status === undefined ||
    status === 429 ||
    status >= 500;
  return transient ? { kind: 'retry', reason } : { kind: 'rejected', reason };
}

/** The alert an email shows, as an SES tag value. */
export const alertTag = (alert: Alert) =>
  createHash('sha256').update(`${alert.key}#${alert.status}`).digest('hex').slice(0, 32);

export interface EmailChannel {
  readonly from: string;
  readonly to: readonly string[];
  readonly configurationSetName?: string;
}

/** SES accepting a message is not delivery: bounces and complaints come back through the configuration set. */
export async function sendEmail(
  alert: Alert,
  ses: SESv2Client,
  channel: EmailChannel,
  receiver: string,
): Promise<SendResult> {
  const message = emailMessage(alert);
  try {
    const out = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: channel.from,
        Destination: { ToAddresses: [...channel.to] },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: message.text, Charset: 'UTF-8' },
              Html: { Data: message.html, Charset: 'UTF-8' },
            },
          },
        },
        ...(channel.configurationSetName ? { ConfigurationSetName: channel.configurationSetName } : {}),
        // Tags come back in bounce and complaint events: which receiver, which alert (a hash of its key and
        // status: tag values allow only letters, digits, `_`, `-`, `.` and `@`), which severity.
        EmailTags: [
          { Name: 'nightshift-receiver', Value: receiver },
          { Name: 'nightshift-alert', Value: alertTag(alert) },
          { Name: 'nightshift-severity', Value: alert.severity },
        ],
      }),
    );
    return { kind: 'sent', receipt: `ses message ${out.MessageId ?? 'unknown'}` };
  } catch (error) {
    return judgeAwsError(error, 'SES SendEmail');
  }
}

export async function publishToSns(
  alert: Alert,
  sns: SNSClient,
  channel: { readonly topicArn: string },
): Promise<SendResult> {
  const message = snsMessage(alert);
  try {
    const out = await sns.send(
      new PublishCommand({
        TopicArn: channel.topicArn,
        Subject: message.subject,
        Message: message.message,
        MessageStructure: 'json',
        MessageAttributes: Object.fromEntries(
          Object.entries(message.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    );
    return { kind: 'sent', receipt: `sns message ${out.MessageId ?? 'unknown'}` };
  } catch (error) {
    return judgeAwsError(error, 'SNS Publish');
  }
}
