/**
 * Slack threads of one bot-token receiver: an episode's first message and its `ts`, so what follows (what
 * Nightshift did, the resolution) is posted as replies and the first message is kept current. Items live
 * in the sender's own partition (`alert-delivery#<receiver>`, sort key `thread#…`) with a TTL.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAt, isConditionFailure } from '#shared/dynamo';
import type { Alert } from './model.ts';

/** A thread outlives any episode a person would leave open; a reply to an older one waits, then DLQs. */
const THREAD_TTL_DAYS = 90;

/** An episode's first message. */
export interface SlackThread {
  readonly ts: string;
  /** The channel id Slack answered with (updates name it). */
  readonly channel: string;
  /** The alert the first message shows, to redraw it with the current state. */
  readonly parent: Alert;
}

export class SlackThreads {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly receiver: string,
  ) {}

  private key(thread: string) {
    return {
      pk: `alert-delivery#${this.receiver}`,
      sk: `thread#${createHash('sha256').update(thread).digest('hex')}`,
    };
  }

  async get(thread: string): Promise<SlackThread | undefined> {
    const out = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(thread), ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item || typeof item.ts !== 'string' || typeof item.channel !== 'string') return undefined;
    try {
      return { ts: item.ts, channel: item.channel, parent: JSON.parse(String(item.parent)) as Alert };
    } catch {
      return undefined;
    }
  }

  /** Keeps what the first message now shows (the alert with what came since), for the next redraw. */
  async redraw(thread: string, parent: Alert, nowMs: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(thread),
          UpdateExpression: 'SET parent = :parent, expiresAt = :ttl',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':parent': JSON.stringify(parent),
            ':ttl': expiresAt(nowMs, THREAD_TTL_DAYS),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Records the first message; the first record stands (a resent first message is not the thread). */
  async record(thread: string, value: SlackThread, nowMs: number): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(thread),
            thread: thread.slice(0, 1024),
            ts: value.ts,
            channel: value.channel,
            parent: JSON.stringify(value.parent),
            postedAt: nowMs,
            expiresAt: expiresAt(nowMs, THREAD_TTL_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
