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
  /** Bumped by every redraw: two senders redrawing at once never overwrite each other's state. */
  readonly version: number;
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
      return {
        ts: item.ts,
        channel: item.channel,
        parent: JSON.parse(String(item.parent)) as Alert,
        version: Number(item.version ?? 0),
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Stores what the first message shows now, if nobody redrew it since `from` was read: false when someone
   * did (read again and redraw from theirs).
   */
  async redraw(thread: string, from: SlackThread, parent: Alert, nowMs: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(thread),
          UpdateExpression: 'SET parent = :parent, version = :next, expiresAt = :ttl',
          ConditionExpression: 'ts = :ts AND (attribute_not_exists(version) OR version = :version)',
          ExpressionAttributeValues: {
            ':parent': JSON.stringify(parent),
            ':ts': from.ts,
            ':version': from.version,
            ':next': from.version + 1,
            ':ttl': expiresAt(nowMs, THREAD_TTL_DAYS),
          },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }

  /**
   * Records the first message. The first record stands (a resent first message is not the thread), unless
   * `replacing` names the one that was deleted. Retried in place: a first message posted but not recorded
   * would be posted again by the retry.
   */
  async record(
    thread: string,
    value: Omit<SlackThread, 'version'>,
    nowMs: number,
    o: { replacing?: string; sleep?: (ms: number) => Promise<void> } = {},
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
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
              version: 0,
              postedAt: nowMs,
              expiresAt: expiresAt(nowMs, THREAD_TTL_DAYS),
            },
            ConditionExpression: o.replacing ? 'ts = :gone' : 'attribute_not_exists(pk)',
            ...(o.replacing ? { ExpressionAttributeValues: { ':gone': o.replacing } } : {}),
          }),
        );
        return;
      } catch (error) {
        if (isConditionFailure(error)) return;
        if (attempt >= RECORD_ATTEMPTS) throw error;
        await (o.sleep ?? defaultSleep)(100 * 2 ** attempt);
      }
    }
  }
}

/** Tries to record a posted first message before giving up (the SDK retries each try as well). */
const RECORD_ATTEMPTS = 4;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
