/**
 * An alert as an SNS message (`MessageStructure: json`): the alert as JSON for machines (SQS, Lambda,
 * HTTPS subscribers and anything without its own entry), a readable summary for email subscribers and a
 * short line for SMS; message attributes for subscription filter policies. Pure.
 *
 * @module
 */
import { emailMessage } from './email-message.ts';
import type { Alert } from './model.ts';
import { truncate } from './text.ts';

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
export const SNS_SUBJECT_MAX = 100;
/** One SMS segment of GSM characters is 160; the line stays within it. */
const SMS_MAX = 140;
/** The email entry's share of SNS's 256 KB. */
const EMAIL_MAX = 60_000;

export interface SnsMessage {
  readonly subject: string;
  /** The JSON object SNS reads per protocol (`default`, `email`, `sms`), serialised. */
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** What JSON subscribers receive: the alert's fields, versioned. */
export function alertDocument(alert: Alert) {
  return {
    version: 1,
    key: alert.key,
    status: alert.status,
    severity: alert.severity,
    source: alert.source,
    title: alert.title,
    ...(alert.service ? { service: alert.service } : {}),
    ...(alert.alarmName ? { alarmName: alert.alarmName } : {}),
    resource: alert.resource,
    reason: alert.reason,
    ...(alert.action ? { action: alert.action } : {}),
    links: alert.links,
    startedAt: new Date(alert.startedAt).toISOString(),
    at: new Date(alert.at).toISOString(),
    notes: alert.notes,
    ...(alert.episode ? { episode: alert.episode } : {}),
  };
}

const ascii = (text: string) =>
  text
    .replace(/[\r\n\t\v\f]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();

export function snsMessage(alert: Alert): SnsMessage {
  const mail = emailMessage(alert);
  // Cut first: the cut's marker (…) is not ASCII either.
  const subject = ascii(truncate(mail.subject, SNS_SUBJECT_MAX)) || 'Nightshift alert';
  return {
    subject,
    message: JSON.stringify({
      default: JSON.stringify(alertDocument(alert)),
      email: truncate(mail.text, EMAIL_MAX),
      sms: truncate(mail.subject, SMS_MAX),
    }),
    attributes: {
      severity: alert.severity,
      status: alert.status,
      source: alert.source,
      ...(alert.service ? { service: alert.service } : {}),
    },
  };
}
