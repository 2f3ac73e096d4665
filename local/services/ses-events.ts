/**
 * What the local SES world publishes through a configuration set's EventBridge destination: the Amazon SES
 * mailbox simulator's outcomes (delivery, hard bounce, complaint, suppression-list bounce, out-of-office) as
 * SES email sending events on the default bus, `source: aws.ses`.
 *
 * The event's `detail` is the SES event record (`eventType`, `mail`, and `bounce` / `complaint` / `delivery`
 * / `send`), as SES publishes it to every destination type; `mail.tags` carries the automatic tags
 * (`ses:configuration-set`, `ses:from-domain`, `ses:caller-identity`, `ses:source-ip`, `ses:operation`) and
 * the message's `EmailTags`, each as a list of values.
 *
 * - https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html (detail-types, default bus)
 * - https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ses.html (source `aws.ses`)
 * - https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html (record fields)
 * - https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html (example records)
 * - https://docs.aws.amazon.com/ses/latest/DeveloperGuide/mailbox-simulator.html (mailbox simulator)
 *
 * @module
 */

/** The outcome the mailbox simulator (or an ordinary recipient) produces for one recipient. */
export type RecipientOutcome = 'delivery' | 'bounce' | 'suppressed' | 'complaint' | 'ooto';

const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

/**
 * The simulator scenario of an address (`bounce@simulator.amazonses.com`, also with a label:
 * `bounce+label1@…`); any other address is delivered.
 */
export function recipientOutcome(address: string): RecipientOutcome {
  const at = address.lastIndexOf('@');
  if (address.slice(at + 1).toLowerCase() !== SIMULATOR_DOMAIN) return 'delivery';
  const box = (address.slice(0, at).split('+')[0] ?? '').toLowerCase();
  if (box === 'bounce') return 'bounce';
  if (box === 'suppressionlist') return 'suppressed';
  if (box === 'complaint') return 'complaint';
  if (box === 'ooto') return 'ooto';
  return 'delivery';
}

/** Whether the address is one of the mailbox simulator's (which the SES sandbox lets you send to). */
export function isSimulatorAddress(address: string): boolean {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase() === SIMULATOR_DOMAIN;
}

/** What the event builders need of one sent message. */
export interface MailFacts {
  readonly messageId: string;
  /** `FromEmailAddress` as given, display name included. */
  readonly source: string;
  readonly sourceArn: string;
  readonly account: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly contentType: string;
  readonly sentAt: number;
  readonly tags: Readonly<Record<string, string[]>>;
}

/** The `mail` object of an SES event record. */
export function mailObject(m: MailFacts): Record<string, unknown> {
  const headers = [
    { name: 'From', value: m.source },
    ...(m.to.length > 0 ? [{ name: 'To', value: m.to.join(', ') }] : []),
    ...(m.cc.length > 0 ? [{ name: 'Cc', value: m.cc.join(', ') }] : []),
    { name: 'Subject', value: m.subject },
    { name: 'MIME-Version', value: '1.0' },
    { name: 'Content-Type', value: m.contentType },
  ];
  return {
    timestamp: new Date(m.sentAt).toISOString(),
    source: m.source,
    sourceArn: m.sourceArn,
    sendingAccountId: m.account,
    messageId: m.messageId,
    destination: [...m.to, ...m.cc, ...m.bcc],
    headersTruncated: false,
    headers,
    commonHeaders: {
      from: [m.source],
      ...(m.to.length > 0 ? { to: [...m.to] } : {}),
      ...(m.cc.length > 0 ? { cc: [...m.cc] } : {}),
      messageId: m.messageId,
      date: new Date(m.sentAt).toUTCString(),
      subject: m.subject,
    },
    tags: m.tags,
  };
}

/** An SES event record: its EventBridge detail-type and its `detail`. */
export interface SesEventRecord {
  /** SES v2 event type as `MatchingEventTypes` names it, e.g. `BOUNCE`. */
  readonly matchingType: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

const REPORTING_MTA = 'dsn; a8-96.smtp-out.amazonses.com';

function feedbackId(now: number): string {
  const hex = Math.floor(now).toString(16).padStart(12, '0').slice(-12);
  return `0100${hex}-${crypto.randomUUID()}-000000`;
}

/** The `Send` record, published when SES accepts the message. */
export function sendRecord(mail: Record<string, unknown>): SesEventRecord {
  return { matchingType: 'SEND', detailType: 'Email Sent', detail: { eventType: 'Send', mail, send: {} } };
}

/**
 * The feedback records for the message's recipients, at `now`: one `Delivery` for every recipient whose
 * mail server accepted it (ordinary addresses, `success@`, `ooto@`, `complaint@`), one `Bounce` per bounce
 * kind (`bounce@`: Permanent/General 5.1.1; `suppressionlist@`: Permanent/Suppressed), one `Complaint`.
 */
export function feedbackRecords(
  mail: Record<string, unknown>,
  recipients: readonly string[],
  sentAt: number,
  now: number,
  /** What happens to each recipient: the simulator's scenarios, unless the world says otherwise. */
  outcomeOf: (address: string) => RecipientOutcome = recipientOutcome,
): SesEventRecord[] {
  const of = (outcome: RecipientOutcome) => recipients.filter((r) => outcomeOf(r) === outcome);
  const timestamp = new Date(now).toISOString();
  const records: SesEventRecord[] = [];
  const delivered = recipients.filter((r) => !['bounce', 'suppressed'].includes(outcomeOf(r)));
  if (delivered.length > 0) {
    records.push({
      matchingType: 'DELIVERY',
      detailType: 'Email Delivered',
      detail: {
        eventType: 'Delivery',
        mail,
        delivery: {
          timestamp,
          processingTimeMillis: Math.max(0, Math.round(now - sentAt)),
          recipients: delivered,
          smtpResponse: '250 2.6.0 Message received',
          reportingMTA: 'a8-70.smtp-out.amazonses.com',
        },
      },
    });
  }
  const bounce = (list: string[], subType: string, diagnosticCode: string) => {
    if (list.length === 0) return;
    records.push({
      matchingType: 'BOUNCE',
      detailType: 'Email Bounced',
      detail: {
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: subType,
          bouncedRecipients: list.map((emailAddress) => ({
            emailAddress,
            action: 'failed',
            status: '5.1.1',
            diagnosticCode,
          })),
          timestamp,
          feedbackId: feedbackId(now),
          reportingMTA: REPORTING_MTA,
        },
        mail,
      },
    });
  };
  bounce(of('bounce'), 'General', 'smtp; 550 5.1.1 user unknown');
  bounce(
    of('suppressed'),
    'Suppressed',
    'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.',
  );
  const complained = of('complaint');
  if (complained.length > 0) {
    records.push({
      matchingType: 'COMPLAINT',
      detailType: 'Email Complaint Received',
      detail: {
        eventType: 'Complaint',
        complaint: {
          complainedRecipients: complained.map((emailAddress) => ({ emailAddress })),
          timestamp,
          feedbackId: feedbackId(now),
          userAgent: 'Amazon SES Mailbox Simulator',
          complaintFeedbackType: 'abuse',
          arrivalDate: new Date(sentAt).toISOString(),
        },
        mail,
      },
    });
  }
  return records;
}

/** A new SES message id: `0100<hex time>-<uuid>-000000`, shaped like the ids SES returns. */
export function newMessageId(now: number): string {
  return feedbackId(now);
}
