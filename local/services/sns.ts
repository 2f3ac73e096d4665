/**
 * Amazon SNS, locally: topics (standard and FIFO, optionally encrypted with a KMS key) and `Publish`, spoken
 * over the AWS Query protocol so `@aws-sdk/client-sns` works against it unmodified. Published messages are
 * recorded for tests and the sandbox; nothing is delivered to subscribers.
 *
 * @module
 */
import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { QueryParams, QueryResult, QueryService } from '../endpoint/query-protocol.ts';
import {
  invalidParameter,
  type PublishInput,
  publishInput,
  publishTarget,
  validTopicName,
} from './sns-publish.ts';

export type { PublishedAttribute } from './sns-publish.ts';

/** A topic of the world. */
export interface SnsTopic {
  readonly arn: string;
  readonly topicName: string;
  /** The topic's KMS key (SSE), as a key or alias ARN; absent for an unencrypted topic. */
  readonly kmsMasterKeyArn?: string;
}

/** A message published to a topic: the checked request, and what SNS gave it. */
export interface PublishedMessage extends PublishInput {
  readonly messageId: string;
  /** FIFO topics: the message's sequence number. */
  readonly sequenceNumber?: string;
  /** When it was published, by the world's clock (epoch milliseconds). */
  readonly at: number;
}

export interface SnsWorldOptions {
  readonly account: string;
  readonly region: string;
  readonly clock: { now(): number };
  /** Topics that exist from the start (e.g. a deployed app's `topics`). */
  readonly topics?: readonly { arn: string; topicName: string; kmsMasterKeyArn?: string }[];
}

/** SNS's AWS managed key: its key policy lets every principal of the account use it through SNS. */
const AWS_MANAGED_KEY = /^(?:arn:aws[a-z-]*:kms:[^:]*:\d{12}:)?alias\/aws\/sns$/;

/**
 * A topic's `KmsMasterKeyId` as an ARN: ARNs as given, `alias/…` as the alias's ARN, a key id as the key's.
 */
export function kmsKeyArn(keyId: string, where: { account: string; region: string }): string {
  if (keyId.startsWith('arn:')) return keyId;
  return `arn:aws:kms:${where.region}:${where.account}:${keyId.startsWith('alias/') ? keyId : `key/${keyId}`}`;
}

/**
 * The local SNS world: topics by ARN and `Publish`, validated as AWS validates it and recorded in
 * {@link published}. Other actions answer `InvalidAction`.
 */
export class SnsWorld implements QueryService {
  readonly signingName = 'sns';
  readonly version = '2010-03-31';
  readonly xmlns = 'http://sns.amazonaws.com/doc/2010-03-31/';
  /** How SNS answers a call IAM denies. */
  readonly accessDenied = { code: 'AuthorizationError', status: 403 } as const;
  /** Every message published, in order. */
  readonly published: PublishedMessage[] = [];
  /** Topics by ARN. */
  readonly topics = new Map<string, SnsTopic>();
  private sequence = 0n;

  constructor(private readonly options: SnsWorldOptions) {
    for (const t of options.topics ?? []) this.addTopic(t);
  }

  /** `kms:ViaService` of the KMS calls SNS makes for a publisher. */
  private get viaService(): string {
    return `sns.${this.options.region}.amazonaws.com`;
  }

  // ---- operator helpers (in-process; not over the wire) -------------------------------------------------

  /**
   * Creates a topic (`<name>.fifo` for a FIFO topic) and returns its ARN. Creating an existing topic again
   * with the same key returns its ARN, as CreateTopic does.
   *
   * @throws Error for an invalid name, or an existing topic with another key.
   */
  createTopic(name: string, o: { kmsMasterKeyArn?: string } = {}): string {
    if (!validTopicName(name)) {
      throw new Error(
        `invalid topic name ${JSON.stringify(name)}: 1-256 of A-Z, a-z, 0-9, '-' and '_' (and '.fifo')`,
      );
    }
    const arn = `arn:aws:sns:${this.options.region}:${this.options.account}:${name}`;
    const kms = o.kmsMasterKeyArn === undefined ? undefined : kmsKeyArn(o.kmsMasterKeyArn, this.options);
    const existing = this.topics.get(arn);
    if (existing) {
      if (existing.kmsMasterKeyArn !== kms) throw new Error(`topic ${name} exists with another KMS key`);
      return arn;
    }
    this.addTopic({ arn, topicName: name, ...(kms === undefined ? {} : { kmsMasterKeyArn: kms }) });
    return arn;
  }

  /** The messages published to a topic, in order. */
  messages(topicArn: string): PublishedMessage[] {
    return this.published.filter((m) => m.topicArn === topicArn);
  }

  private addTopic(t: SnsTopic): void {
    this.topics.set(t.arn, {
      arn: t.arn,
      topicName: t.topicName,
      ...(t.kmsMasterKeyArn === undefined
        ? {}
        : { kmsMasterKeyArn: kmsKeyArn(t.kmsMasterKeyArn, this.options) }),
    });
  }

  // ---- the API ----------------------------------------------------------------------------------------------

  /**
   * `sns:Publish` on the topic; for a topic encrypted with a customer managed key, also `kms:GenerateDataKey`
   * and `kms:Decrypt` on the key, which AWS requires of a publisher.
   *
   * @throws {@link AwsServiceError} `InvalidAction` for another action, `InvalidParameter` for a Publish that
   *   names no topic.
   */
  authorization(action: string, params: QueryParams): AuthorizationNeed[] {
    if (action !== 'Publish') throw invalidAction(action);
    const topicArn = publishTarget(params);
    const needs: AuthorizationNeed[] = [{ action: 'sns:Publish', resources: [topicArn] }];
    const key = this.topics.get(topicArn)?.kmsMasterKeyArn;
    if (key !== undefined && !AWS_MANAGED_KEY.test(key)) {
      needs.push(
        // SNS calls KMS on the publisher's behalf: the request reaches KMS via SNS.
        { action: 'kms:GenerateDataKey', resources: [key], context: { 'kms:ViaService': this.viaService } },
        { action: 'kms:Decrypt', resources: [key], context: { 'kms:ViaService': this.viaService } },
      );
    }
    return needs;
  }

  async handle(action: string, params: QueryParams): Promise<QueryResult> {
    if (action !== 'Publish') throw invalidAction(action);
    return { result: this.publish(params) };
  }

  private publish(params: QueryParams): Record<string, unknown> {
    const topicArn = publishTarget(params);
    const topic = this.topics.get(topicArn);
    if (!topic) throw new AwsServiceError('NotFound', 'Topic does not exist', 404);
    const fifo = topic.topicName.endsWith('.fifo');
    const input = publishInput(params, topicArn, fifo);
    if (fifo && input.messageDeduplicationId === undefined) {
      // The local world has no topic attributes, so no ContentBasedDeduplication either.
      throw invalidParameter(
        'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    }
    const messageId = crypto.randomUUID();
    const sequenceNumber = fifo ? (10n ** 19n + ++this.sequence).toString() : undefined;
    this.published.push({
      ...input,
      messageId,
      ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
      at: this.options.clock.now(),
    });
    return {
      MessageId: messageId,
      ...(sequenceNumber === undefined ? {} : { SequenceNumber: sequenceNumber }),
    };
  }
}

const invalidAction = (action: string) =>
  new AwsServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
