/**
 * SES v2 `SendEmail` input, read and validated as SES does before it sends: a `Simple` message (subject,
 * text and/or HTML body) with a From address and at most 50 recipients in all, within the 40 MB message
 * size of the v2 API. `Raw` and `Template` content are refused: the local world sends `Simple` messages only.
 *
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Destination.html (50 recipients)
 * - https://docs.aws.amazon.com/ses/latest/dg/quotas.html (40 MB with the v2 API)
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';

/** Most recipients (To, CC and BCC together) one message may have. */
export const MAX_RECIPIENTS = 50;
/** Largest message the SES v2 API accepts, after encoding: 40 MB. */
export const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

/** An address as written (`"Ops" <ops@example.com>`): the bare address and the display name. */
export interface ParsedAddress {
  readonly written: string;
  readonly address: string;
  readonly displayName?: string;
}

/** A validated SendEmail request. */
export interface SendEmailRequest {
  readonly from: ParsedAddress;
  readonly to: ParsedAddress[];
  readonly cc: ParsedAddress[];
  readonly bcc: ParsedAddress[];
  readonly replyTo: string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  readonly configurationSetName?: string;
  readonly tags: { name: string; value: string }[];
  /** `FromEmailAddressIdentityArn` (sending authorization), when given. */
  readonly fromIdentityArn?: string;
  /** Bytes of the message as SES would assemble it (subject, bodies, headers, attachments). */
  readonly size: number;
}

const bad = (message: string) => new AwsServiceError('BadRequestException', message, 400);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function strings(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw bad(`${field} must be a list of email addresses.`);
  }
  return value as string[];
}

/**
 * `ops@example.com` or `Ops Team <ops@example.com>` (quotes optional) → its parts.
 *
 * @throws BadRequestException for an address without a local part or a domain.
 */
export function parseAddress(written: string): ParsedAddress {
  const angled = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(written);
  const address = (angled ? angled[2]! : written).trim();
  const name = angled?.[1]?.replace(/^"(.*)"$/, '$1').trim();
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1 || /\s/.test(address)) {
    throw bad(`Illegal address: ${written}`);
  }
  return { written, address, ...(name ? { displayName: name } : {}) };
}

/** The domain of an address, lower-cased. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Reads and validates a SendEmail input.
 *
 * @throws BadRequestException for missing or malformed content, a Simple message without
 *   `FromEmailAddress`, no recipients or more than {@link MAX_RECIPIENTS}, and `Raw` / `Template` content
 *   (which the local world does not send).
 */
export function readSendEmail(input: Record<string, unknown>): SendEmailRequest {
  const content = record(input.Content);
  if (!content) throw bad('Missing required field Content.');
  if (content.Raw !== undefined || content.Template !== undefined) {
    throw bad(
      `The local SES world sends Simple content only; ${content.Raw !== undefined ? 'Raw' : 'Template'} content is not supported.`,
    );
  }
  const simple = record(content.Simple);
  if (!simple) throw bad('Content must contain exactly one of Simple, Raw or Template.');
  if (typeof input.FromEmailAddress !== 'string' || input.FromEmailAddress === '') {
    throw bad('Missing required field FromEmailAddress: it is required when sending Simple content.');
  }
  const from = parseAddress(input.FromEmailAddress);

  const destination = record(input.Destination) ?? {};
  const to = strings(destination.ToAddresses, 'ToAddresses').map(parseAddress);
  const cc = strings(destination.CcAddresses, 'CcAddresses').map(parseAddress);
  const bcc = strings(destination.BccAddresses, 'BccAddresses').map(parseAddress);
  const count = to.length + cc.length + bcc.length;
  if (count === 0) throw bad('Missing required field Destination: the message has no recipients.');
  if (count > MAX_RECIPIENTS) throw bad(`Recipient count exceeds ${MAX_RECIPIENTS}.`);

  const subject = record(simple.Subject);
  if (typeof subject?.Data !== 'string') throw bad('Missing required field Subject.Data.');
  const body = record(simple.Body);
  const text = record(body?.Text)?.Data;
  const html = record(body?.Html)?.Data;
  if (typeof text !== 'string' && typeof html !== 'string') {
    throw bad('Missing required field Body: the message needs a Text or an Html part.');
  }

  const tags = (Array.isArray(input.EmailTags) ? input.EmailTags : []).map((t) => {
    const tag = record(t) ?? {};
    if (typeof tag.Name !== 'string' || typeof tag.Value !== 'string') {
      throw bad('Each of EmailTags needs a Name and a Value.');
    }
    return { name: tag.Name, value: tag.Value };
  });
  const headers = Array.isArray(simple.Headers) ? simple.Headers : [];
  const attachments = Array.isArray(simple.Attachments) ? simple.Attachments : [];
  const size = [
    subject.Data,
    typeof text === 'string' ? text : '',
    typeof html === 'string' ? html : '',
    ...headers.map((h) => `${String(record(h)?.Name ?? '')}: ${String(record(h)?.Value ?? '')}`),
    ...attachments.map((a) => String(record(a)?.RawContent ?? '')),
    input.FromEmailAddress,
    ...[...to, ...cc, ...bcc].map((a) => a.written),
  ].reduce((sum, part) => sum + Buffer.byteLength(part, 'utf8'), 0);

  return {
    from,
    to,
    cc,
    bcc,
    replyTo: strings(input.ReplyToAddresses, 'ReplyToAddresses'),
    subject: subject.Data,
    ...(typeof text === 'string' ? { text } : {}),
    ...(typeof html === 'string' ? { html } : {}),
    ...(typeof input.ConfigurationSetName === 'string' && input.ConfigurationSetName !== ''
      ? { configurationSetName: input.ConfigurationSetName }
      : {}),
    tags,
    ...(typeof input.FromEmailAddressIdentityArn === 'string'
      ? { fromIdentityArn: input.FromEmailAddressIdentityArn }
      : {}),
    size,
  };
}
