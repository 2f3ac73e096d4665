/**
 * Amazon SES (API v2) `SendEmail`, locally, over the REST JSON protocol (`POST /v2/email/outbound-emails`,
 * SigV4 signing name `ses`): verified identities, IAM as SES authorizes it, configuration sets whose
 * EventBridge destinations receive the mailbox simulator's feedback, the sandbox, the maximum sending rate
 * and the account's sending status.
 *
 * Errors as the SES v2 API reference lists them for SendEmail, with the statuses of its service model (as
 * `@aws-sdk/client-sesv2` carries it: `httpError` of each error shape):
 * `BadRequestException` 400, `MessageRejected` 400, `NotFoundException` 404, `TooManyRequestsException` 429,
 * `SendingPausedException` 400 (also `AccountSuspendedException`, `LimitExceededException`,
 * `MailFromDomainNotVerifiedException`, all 400, which the local world never needs to answer).
 *
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (request, errors)
 * - https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html
 *   (`ses:SendEmail`: resources `identity` (required), `configuration-set`, `template`; condition keys
 *   `ses:FromAddress`, `ses:FromDisplayName`, `ses:Recipients`, `ses:FeedbackAddress`, `ses:ApiVersion`)
 * - https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html (the condition keys' values)
 * - https://repost.aws/knowledge-center/ses-554-400-message-rejected-error ("Email address is not
 *   verified. The following identities failed the check in region …")
 * - https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html (the sandbox)
 * - https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html (maximum sending rate)
 *
 * @module
 */
import type { AuthorizationNeed, Caller } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import { matchRoute, type RestRoute, type RestService } from '../endpoint/rest-protocol.ts';
import type { DeployedConfigurationSet, DeployedEventDestination } from '../template/deploy-ses.ts';
import { type EmitEvent, envelope } from './envelope.ts';
import {
  feedbackRecords,
  isSimulatorAddress,
  mailObject,
  newMessageId,
  recipientOutcome,
  type SesEventRecord,
  sendRecord,
} from './ses-events.ts';
import { domainOf, MAX_MESSAGE_BYTES, readSendEmail, type SendEmailRequest } from './ses-message.ts';

/** One message SES accepted. */
export interface SentEmail {
  readonly messageId: string;
  /** `FromEmailAddress` as given (display name included). */
  readonly from: string;
  readonly to: string[];
  readonly cc: string[];
  readonly bcc: string[];
  readonly replyTo: string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  readonly configurationSetName?: string;
  readonly tags: { name: string; value: string }[];
  /** Clock time it was accepted. */
  readonly at: number;
}

/** The time the SES world reads; `schedule` (a `VirtualClock`'s) delays feedback, `liveNow` paces sending. */
export interface SesClock {
  now(): number;
  /** Time that also moves with real time while virtual time stands still (used for the sending rate). */
  liveNow?(): number;
  /** Runs `run` at clock time `at`; without it, feedback events are emitted at once, after the send. */
  schedule?(at: number, run: () => unknown): void;
}

export interface SesWorldOptions {
  readonly account: string;
  readonly region: string;
  readonly clock: SesClock;
  /** Where SES puts the events of configuration sets' EventBridge destinations (the default bus). */
  readonly emit: EmitEvent;
  readonly configurationSets?: readonly DeployedConfigurationSet[];
}

const OPERATIONS = [{ operation: 'SendEmail', method: 'POST', path: '/v2/email/outbound-emails' }] as const;

/** SES v2 `SendEmail` in the local world. */
export class SesWorld implements RestService {
  readonly signingName = 'ses';
  /** SES v2 answers an exceeded request rate with TooManyRequestsException (429). */
  readonly throttled = { code: 'TooManyRequestsException', status: 429 };
  /** Every message accepted, in order. */
  readonly sent: SentEmail[] = [];
  /**
   * Maximum sending rate, messages per second (SES's per-account quota; 14 is a common production starting
   * quota, 1 in the sandbox). Counted over the last second of {@link SesClock.liveNow} when the clock has one
   * (a sender that waits a real second finds a second has passed even while virtual time stands still),
   * else of `now()` (virtual time only). Beyond it: TooManyRequestsException "Maximum sending rate exceeded.".
   */
  sendingRate = 14;
  /**
   * The SES sandbox: when on, recipients must be verified identities too (or mailbox simulator addresses).
   * Off by default (an account with production access).
   */
  sandbox = false;
  /** The account's sending status; when `false`, SendEmail answers SendingPausedException. */
  sendingEnabled = true;
  /** How long after the send the simulated feedback (delivery, bounce, complaint) arrives, clock ms. */
  feedbackDelayMs = 1000;
  /**
   * Addresses whose mailbox no longer exists (someone left): their mail server refuses the message, and SES
   * reports a Permanent/General bounce, as for the simulator's `bounce@`.
   */
  readonly mailboxesGone = new Set<string>();
  private readonly identities = new Set<string>();
  private readonly sets = new Map<string, DeployedConfigurationSet>();
  private sendTimes: number[] = [];

  constructor(private readonly o: SesWorldOptions) {
    for (const set of o.configurationSets ?? []) this.sets.set(set.name, set);
  }

  /** Verifies an identity: an email address or a domain (which also covers its subdomains). */
  verifyIdentity(identity: string): void {
    this.identities.add(identity.toLowerCase());
  }

  /** Adds a configuration set (for tests; deployed ones come from the template). */
  createConfigurationSet(
    name: string,
    eventDestinations: readonly DeployedEventDestination[] = [],
  ): DeployedConfigurationSet {
    const set: DeployedConfigurationSet = {
      logicalId: name,
      name,
      arn: this.arn(`configuration-set/${name}`),
      eventDestinations: [...eventDestinations],
    };
    this.sets.set(name, set);
    return set;
  }

  route(method: string, path: string): RestRoute | undefined {
    return matchRoute(OPERATIONS, method, path);
  }

  /**
   * `ses:SendEmail` on the identity that authorizes the From address (the address itself when verified, else
   * the verified domain it belongs to, else its own domain) and, when one is named, on the configuration
   * set; with the condition keys SES sets for it.
   */
  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    if (operation !== 'SendEmail') {
      throw new AwsServiceError('UnknownOperationException', `local SES does not implement ${operation}`);
    }
    const request = readSendEmail(input);
    const context = {
      'ses:FromAddress': request.from.address,
      'ses:FromDisplayName': request.from.displayName,
      'ses:Recipients': [...request.to, ...request.cc, ...request.bcc].map((a) => a.address),
      'ses:FeedbackAddress':
        typeof input.FeedbackForwardingEmailAddress === 'string'
          ? input.FeedbackForwardingEmailAddress
          : undefined,
      'ses:ApiVersion': '2',
    };
    const identityArn =
      request.fromIdentityArn ?? this.arn(`identity/${this.identityOf(request.from.address)}`);
    // One need per resource: authorize() evaluates one need's resources together.
    const needs: AuthorizationNeed[] = [{ action: 'ses:SendEmail', resources: [identityArn], context }];
    if (request.configurationSetName !== undefined) {
      needs.push({
        action: 'ses:SendEmail',
        resources: [this.arn(`configuration-set/${request.configurationSetName}`)],
        context,
      });
    }
    return needs;
  }

  async handle(operation: string, input: Record<string, unknown>, caller: Caller): Promise<unknown> {
    if (operation !== 'SendEmail') {
      throw new AwsServiceError('UnknownOperationException', `local SES does not implement ${operation}`);
    }
    return { MessageId: this.send(readSendEmail(input), caller) };
  }

  private send(request: SendEmailRequest, caller: Caller): string {
    if (!this.sendingEnabled) {
      throw new AwsServiceError(
        'SendingPausedException',
        'Sending is paused for this account. For more information, please check the Amazon SES Developer Guide.',
        400,
      );
    }
    const setName = request.configurationSetName;
    const set = setName === undefined ? undefined : this.sets.get(setName);
    if (setName !== undefined && !set) {
      throw new AwsServiceError('NotFoundException', `Configuration set <${setName}> does not exist.`, 404);
    }
    const recipients = [...request.to, ...request.cc, ...request.bcc].map((a) => a.address);
    const unverified = [request.from.address].filter((a) => !this.verifiedFor(a));
    if (this.sandbox) {
      unverified.push(...recipients.filter((r) => !isSimulatorAddress(r) && !this.verifiedFor(r)));
    }
    if (unverified.length > 0) {
      throw new AwsServiceError(
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region ${this.o.region.toUpperCase()}: ${[...new Set(unverified)].join(', ')}`,
        400,
      );
    }
    if (request.size > MAX_MESSAGE_BYTES) {
      throw new AwsServiceError(
        'MessageRejected',
        `Message length is more than ${MAX_MESSAGE_BYTES} bytes long: '${request.size}'.`,
        400,
      );
    }
    this.pace();

    const at = this.o.clock.now();
    const messageId = newMessageId(at);
    this.sent.push({
      messageId,
      from: request.from.written,
      to: request.to.map((a) => a.written),
      cc: request.cc.map((a) => a.written),
      bcc: request.bcc.map((a) => a.written),
      replyTo: request.replyTo,
      subject: request.subject,
      ...(request.text !== undefined ? { text: request.text } : {}),
      ...(request.html !== undefined ? { html: request.html } : {}),
      ...(setName !== undefined ? { configurationSetName: setName } : {}),
      tags: request.tags,
      at,
    });
    if (set) this.publish(set, request, messageId, at, recipients, caller);
    return messageId;
  }

  /** Counts the message against the maximum sending rate, or refuses it. */
  private pace(): void {
    const now = this.o.clock.liveNow?.() ?? this.o.clock.now();
    this.sendTimes = this.sendTimes.filter((t) => t > now - 1000 && t <= now);
    if (this.sendTimes.length >= this.sendingRate) {
      throw new AwsServiceError('TooManyRequestsException', 'Maximum sending rate exceeded.', 429);
    }
    this.sendTimes.push(now);
  }

  /**
   * Publishes the message's events to the set's enabled EventBridge destinations whose matching types
   * include them: `Send` at once, the feedback (delivery, bounce, complaint) {@link feedbackDelayMs} later by
   * the clock's scheduler, or at once after the send when the clock has none.
   */
  private publish(
    set: DeployedConfigurationSet,
    request: SendEmailRequest,
    messageId: string,
    sentAt: number,
    recipients: string[],
    caller: Caller,
  ): void {
    const destinations = set.eventDestinations.filter((d) => d.enabled && d.eventBridge);
    if (destinations.length === 0) return;
    const tags: Record<string, string[]> = {
      'ses:operation': ['SendEmail'],
      'ses:configuration-set': [set.name],
      'ses:source-ip': ['127.0.0.1'],
      'ses:from-domain': [domainOf(request.from.address)],
      'ses:caller-identity': [callerIdentity(caller)],
    };
    for (const tag of request.tags) tags[tag.name] = [...(tags[tag.name] ?? []), tag.value];
    const mail = mailObject({
      messageId,
      source: request.from.written,
      sourceArn: this.arn(`identity/${this.identityOf(request.from.address)}`),
      account: this.o.account,
      to: request.to.map((a) => a.written),
      cc: request.cc.map((a) => a.written),
      bcc: request.bcc.map((a) => a.written),
      subject: request.subject,
      contentType:
        request.text !== undefined && request.html !== undefined
          ? 'multipart/alternative'
          : request.html !== undefined
            ? 'text/html; charset=UTF-8'
            : 'text/plain; charset=UTF-8',
      sentAt,
      tags,
    });
    const deliver = (records: SesEventRecord[], now: number) => {
      for (const record of records) {
        if (!destinations.some((d) => d.matchingEventTypes.includes(record.matchingType))) continue;
        this.o.emit(envelope(this.o, 'aws.ses', record.detailType, now, [set.arn], record.detail));
      }
    };
    deliver([sendRecord(mail)], sentAt);
    const feedbackAt = sentAt + this.feedbackDelayMs;
    const outcome = (address: string) =>
      this.mailboxesGone.has(address.toLowerCase()) ? 'bounce' : recipientOutcome(address);
    const feedback = () =>
      deliver(feedbackRecords(mail, recipients, sentAt, feedbackAt, outcome), feedbackAt);
    if (this.o.clock.schedule) this.o.clock.schedule(feedbackAt, feedback);
    else feedback();
  }

  /** Whether an address may be used: it, its domain or a parent domain is a verified identity. */
  private verifiedFor(address: string): boolean {
    return this.identities.has(address.toLowerCase()) || this.verifiedDomain(domainOf(address)) !== undefined;
  }

  private verifiedDomain(domain: string): string | undefined {
    const labels = domain.split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join('.');
      if (this.identities.has(candidate)) return candidate;
    }
    return undefined;
  }

  /** The identity that authorizes sending from an address: the address if verified, else its (verified) domain. */
  private identityOf(address: string): string {
    if (this.identities.has(address.toLowerCase())) return address;
    return this.verifiedDomain(domainOf(address)) ?? domainOf(address);
  }

  private arn(resource: string): string {
    return `arn:aws:ses:${this.o.region}:${this.o.account}:${resource}`;
  }
}

/** The IAM identity SES names in `ses:caller-identity`: a role session's role, else the ARN's last part. */
function callerIdentity(caller: Caller): string {
  const role = /:assumed-role\/([^/]+)\//.exec(caller.principalArn)?.[1];
  return role ?? caller.principalArn.split(/[/:]/).at(-1) ?? caller.principalArn;
}
