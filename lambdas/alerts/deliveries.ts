/**
 * Exactly once per (alert, receiver, action): a sender claims the delivery with a conditional write before
 * sending and marks it sent after. A redelivered message, two rules matching one event or a retried batch
 * find the mark and send nothing. A sender that crashes between send and mark leaves a claim whose lease
 * runs out; the next attempt takes it over and sends again — never lost beats never twice (PagerDuty
 * deduplicates by `dedup_key`; a Slack message would show twice). Items live in `alert-delivery#<receiver>`
 * with a TTL; only senders write them.
 *
 * A per-receiver pacing item (`alert-rate#<receiver>`) spaces messages to a Slack hook or channel one
 * second apart across every concurrent sender, and holds them back for a 429's `Retry-After`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAt, isConditionFailure } from '#shared/dynamo';

const RECORD_TTL_DAYS = 30;
const ttl = expiresAt;

/** The outcome of claiming a delivery. */
export type Claim =
  /** This sender holds the delivery until `leaseUntil`: send, then mark. `failures`: failed sends so far. */
  | { readonly kind: 'claimed'; readonly leaseUntil: number; readonly failures: number }
  /** Already sent: nothing to do. */
  | { readonly kind: 'sent'; readonly sentAt: number }
  /** Another sender holds a live lease: try again after it. */
  | { readonly kind: 'busy'; readonly leaseUntil: number };

/** Delivery records of one receiver. */
export class DeliveryLedger {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly receiver: string,
  ) {}

  /** Sort keys are hashes: an alert key may be longer than DynamoDB's 1,024-byte sort key. */
  private key(deliveryKey: string) {
    return {
      pk: `alert-delivery#${this.receiver}`,
      sk: createHash('sha256').update(deliveryKey).digest('hex'),
    };
  }

  async claim(deliveryKey: string, owner: string, nowMs: number, leaseMs: number): Promise<Claim> {
    const leaseUntil = nowMs + leaseMs;
    try {
      const out = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(deliveryKey),
          UpdateExpression:
            'SET deliveryKey = :dk, #state = :sending, #owner = :owner, leaseUntil = :lease, claimedAt = :now, expiresAt = :ttl, failures = if_not_exists(failures, :zero)',
          // New, waiting for a retry, or a stale claim (its sender died between send and mark): take it.
          ConditionExpression:
            'attribute_not_exists(pk) OR #state = :retrying OR (#state = :sending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':dk': deliveryKey.slice(0, 1024),
            ':sending': 'sending',
            ':retrying': 'retrying',
            ':owner': owner,
            ':lease': leaseUntil,
            ':now': nowMs,
            ':ttl': ttl(nowMs, RECORD_TTL_DAYS),
            ':zero': 0,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'claimed', leaseUntil, failures: Number(out.Attributes?.failures ?? 0) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const out = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(deliveryKey), ConsistentRead: true }),
    );
    const item = out.Item;
    if (item?.state === 'sent') return { kind: 'sent', sentAt: Number(item.sentAt) };
    // Released between the two calls, or still held: either way, not ours now; the retry decides.
    return { kind: 'busy', leaseUntil: Number(item?.leaseUntil ?? nowMs) };
  }

  /** Marks the delivery sent (only while this sender's claim stands). */
  async markSent(deliveryKey: string, owner: string, nowMs: number, receipt: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(deliveryKey),
          UpdateExpression:
            'SET #state = :sent, sentAt = :now, receipt = :receipt, expiresAt = :ttl REMOVE leaseUntil',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':sent': 'sent',
            ':now': nowMs,
            ':receipt': receipt.slice(0, 512),
            ':owner': owner,
            ':ttl': ttl(nowMs, RECORD_TTL_DAYS),
          },
        }),
      );
    } catch (error) {
      // Taken over after this lease ran out: the taker sends and marks; two sends, never none.
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Gives the claim back for a retry, counting a failed send (`failed`) or not (paced, or the send never
   * started). Returns the failures counted so far; undefined when the claim was no longer this sender's.
   */
  async release(deliveryKey: string, owner: string, o: { failed: boolean }): Promise<number | undefined> {
    try {
      const out = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(deliveryKey),
          UpdateExpression: 'SET #state = :retrying REMOVE #owner, leaseUntil ADD failures :inc',
          ConditionExpression: '#owner = :owner AND #state = :sending',
          ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':sending': 'sending',
            ':retrying': 'retrying',
            ':inc': o.failed ? 1 : 0,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Number(out.Attributes?.failures ?? 0);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return undefined;
    }
  }

  /**
   * Drops the record of a delivery that goes to the DLQ (refused, or out of attempts), so a replay after
   * the fix is a fresh delivery with a fresh count.
   */
  async forget(deliveryKey: string, owner: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(deliveryKey),
          ConditionExpression: '#owner = :owner AND #state = :sending',
          ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
          ExpressionAttributeValues: { ':owner': owner, ':sending': 'sending' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** Spaces sends to one receiver: at most one per `intervalMs`, across every sender. */
export class Pacer {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly receiver: string,
  ) {}

  private key() {
    return { pk: `alert-rate#${this.receiver}`, sk: 'next' };
  }

  /**
   * Takes the next send slot if it has come: true when this sender may send now, else the epoch ms at
   * which to try again.
   */
  async take(nowMs: number, intervalMs: number): Promise<true | number> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(),
          UpdateExpression: 'SET nextAt = :next, expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(nextAt) OR nextAt <= :now',
          ExpressionAttributeValues: { ':next': nowMs + intervalMs, ':now': nowMs, ':ttl': ttl(nowMs, 1) },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const out = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(), ConsistentRead: true }),
    );
    return Number(out.Item?.nextAt ?? nowMs);
  }

  /**
   * Ends this sender's turn: the next slot is `untilMs` (its message's answer plus the interval), so the
   * interval is kept between arrivals at the API however long a request took.
   */
  async finish(untilMs: number, nowMs: number): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(),
        UpdateExpression: 'SET nextAt = :until, expiresAt = :ttl',
        ExpressionAttributeValues: { ':until': untilMs, ':ttl': ttl(nowMs, 1) },
      }),
    );
  }

  /** Holds every sender back until `untilMs` (a 429's `Retry-After`), unless they already wait longer. */
  async holdUntil(untilMs: number, nowMs: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(),
          UpdateExpression: 'SET nextAt = :until, expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(nextAt) OR nextAt < :until',
          ExpressionAttributeValues: { ':until': untilMs, ':ttl': ttl(nowMs, 1) },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
