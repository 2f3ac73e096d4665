/**
 * SES bounce and complaint events as alerts. SES accepting an email is not delivery: the email receivers'
 * configuration set publishes bounces and complaints to EventBridge ("Email Bounced", "Email Complaint
 * Received", source `aws.ses`), and each becomes an alert to the other receivers — a permanent bounce or a
 * complaint a warning, a transient bounce info. Pure.
 *
 * Event format: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 * (the `detail` of the EventBridge event is the same object).
 *
 * @module
 */
import * as z from 'zod/mini';
import { bounded } from '#shared/parse';
import type { Alert } from './model.ts';

export const EMAIL_FEEDBACK_TYPES = ['Email Bounced', 'Email Complaint Received'] as const;

const address = z.string().check(z.maxLength(320));
/** A remote mail server's words may be long: cut, never a reason to refuse the event. */
const cut = (max: number) =>
  z.pipe(
    z.string(),
    z.transform((s: string) => s.slice(0, max)),
  );
const feedbackId = z.optional(z.string().check(z.maxLength(256)));

export const emailFeedbackSchema = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.enum(EMAIL_FEEDBACK_TYPES),
  time: bounded.timestamp(),
  region: bounded.id(),
  account: bounded.id(),
  resources: z.array(bounded.arn()).check(z.maxLength(10)),
  detail: z.object({
    eventType: z.enum(['Bounce', 'Complaint']),
    mail: z.object({
      messageId: z.string().check(z.minLength(1), z.maxLength(256)),
      destination: z.array(address).check(z.maxLength(100)),
      tags: z.optional(z.record(z.string(), z.array(z.string().check(z.maxLength(256))))),
    }),
    bounce: z.optional(
      z.object({
        bounceType: z.string().check(z.maxLength(64)),
        feedbackId,
        bounceSubType: z.optional(z.string().check(z.maxLength(64))),
        bouncedRecipients: z
          .array(
            z.object({
              emailAddress: address,
              diagnosticCode: z.optional(cut(1000)),
            }),
          )
          .check(z.maxLength(100)),
      }),
    ),
    complaint: z.optional(
      z.object({
        complainedRecipients: z.array(z.object({ emailAddress: address })).check(z.maxLength(100)),
        complaintFeedbackType: z.optional(z.string().check(z.maxLength(64))),
        feedbackId,
      }),
    ),
  }),
});
export type EmailFeedbackEvent = z.infer<typeof emailFeedbackSchema>;

/** The configuration set an event names: its tag, else its resource ARN. */
export function configurationSetOf(event: EmailFeedbackEvent): string | undefined {
  const tagged = event.detail.mail.tags?.['ses:configuration-set']?.[0];
  if (tagged) return tagged;
  const arn = event.resources.find((r) => r.includes(':configuration-set/'));
  return arn?.slice(arn.indexOf(':configuration-set/') + ':configuration-set/'.length);
}

/** The alert a bounce or complaint makes about the email receiver `receiver`. */
export function emailFeedbackAlert(event: EmailFeedbackEvent, receiver: string, at: number): Alert {
  const { detail } = event;
  const bounce = detail.eventType === 'Bounce' ? detail.bounce : undefined;
  const people =
    (bounce ? bounce.bouncedRecipients : detail.complaint?.complainedRecipients)?.map(
      (r) => r.emailAddress,
    ) ?? detail.mail.destination;
  const permanent = bounce?.bounceType === 'Permanent';
  const what = bounce
    ? `${bounce.bounceType}${bounce.bounceSubType ? `/${bounce.bounceSubType}` : ''} bounce`
    : `complaint${detail.complaint?.complaintFeedbackType ? ` (${detail.complaint.complaintFeedbackType})` : ''}`;
  const diagnostics = (bounce?.bouncedRecipients ?? []).flatMap((r) =>
    r.diagnosticCode ? [`${r.emailAddress}: ${r.diagnosticCode}`] : [],
  );
  return {
    // One message may bounce more than once (recipients fail at different times): SES's feedback id tells.
    key: `ses-feedback#${detail.mail.messageId}#${detail.eventType}#${(bounce?.feedbackId ?? detail.complaint?.feedbackId ?? people.join(',')).slice(0, 300)}`,
    source: 'self',
    status: 'firing',
    severity: bounce && !permanent ? 'info' : 'warning',
    severityOrigin: 'default',
    title: `Alert email to receiver ${receiver} not delivered: ${what}`,
    resource: `ses message ${detail.mail.messageId}`,
    reason: [
      `SES reported a ${what} for ${people.slice(0, 10).join(', ')}${people.length > 10 ? ` and ${people.length - 10} more` : ''}.`,
      ...diagnostics.slice(0, 10),
    ].join('\n'),
    action: bounce
      ? permanent
        ? `SES stops sending to these addresses (its suppression list): fix the address in receiver ${receiver}, or remove it from the account's suppression list`
        : 'SES retried and gave up for now; later alerts are still sent'
      : `the recipient marked Nightshift's alert as spam: later emails to them may be suppressed; check receiver ${receiver}`,
    links: [],
    startedAt: at,
    at,
    notes: ['sent to the other receivers, never by email'],
  };
}
