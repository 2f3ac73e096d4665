/**
 * What the alert router keeps in the state table: the open episode of each alarm (partition
 * `alert-episodes`, sort key the alarm ARN, so the reconciler lists them in one query) and the alerts held
 * for the digest (`alert-digest#<UTC day>`). Every item has a TTL; only the router writes them.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { expiresAt, isConditionFailure } from '#shared/dynamo';
import { queryAll } from '#shared/query';
import type { OpenEpisode } from './alarm-alert.ts';
import type { Alert } from './model.ts';

/** An episode open longer than this is forgotten (the reconciler resolves what CloudWatch shows as OK). */
const EPISODE_TTL_DAYS = 30;
/** Digest items outlive the day they are read on by a week, for a late or repeated digest. */
const DIGEST_TTL_DAYS = 8;
export const EPISODES_PARTITION = 'alert-episodes';

const ttl = expiresAt;

/** An open episode with the alarm it belongs to. */
export interface StoredEpisode extends OpenEpisode {
  readonly alarmArn: string;
  readonly alarmName: string;
  /** The receivers its firing alert was queued for (what Nightshift did is added to their incidents). */
  readonly receivers?: readonly string[];
}

function episodeOf(item: Record<string, unknown> | undefined): StoredEpisode | undefined {
  if (!item || typeof item.key !== 'string' || typeof item.sk !== 'string') return undefined;
  return {
    alarmArn: item.sk,
    alarmName: String(item.alarmName ?? item.sk.slice(item.sk.indexOf(':alarm:') + 7)),
    key: item.key,
    startedAt: Number(item.startedAt),
    severity: item.severity as OpenEpisode['severity'],
    ...(typeof item.service === 'string' ? { service: item.service } : {}),
    ...(item.receivers instanceof Set || Array.isArray(item.receivers)
      ? { receivers: [...(item.receivers as Iterable<string>)].map(String) }
      : {}),
  };
}

/** Open alarm episodes, one item per alarm ARN. */
export class EpisodeStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(alarmArn: string) {
    return { pk: EPISODES_PARTITION, sk: alarmArn };
  }

  async open(alarmArn: string): Promise<StoredEpisode | undefined> {
    const out = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(alarmArn), ConsistentRead: true }),
    );
    return episodeOf(out.Item);
  }

  /** Every open episode (the reconciler's list). */
  async list(): Promise<StoredEpisode[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': EPISODES_PARTITION },
      ConsistentRead: true,
    });
    return items.flatMap((i) => episodeOf(i) ?? []);
  }

  /**
   * Records the episode as open unless one already is (or, with `replacing`, unless another than that
   * one is); returns the episode that is open afterwards (this one, or the one a concurrent delivery
   * recorded first).
   */
  async start(episode: StoredEpisode, nowMs: number, replacing?: string): Promise<StoredEpisode> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(episode.alarmArn), ...episode, expiresAt: ttl(nowMs, EPISODE_TTL_DAYS) },
          ConditionExpression: replacing
            ? 'attribute_not_exists(pk) OR #key = :replacing'
            : 'attribute_not_exists(pk)',
          ...(replacing
            ? {
                ExpressionAttributeNames: { '#key': 'key' },
                ExpressionAttributeValues: { ':replacing': replacing },
              }
            : {}),
        }),
      );
      return episode;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.open(episode.alarmArn)) ?? episode;
    }
  }

  /** Records the receivers the episode's firing alert was queued for (while it is the open one). */
  async addReceivers(alarmArn: string, key: string, receivers: readonly string[]): Promise<void> {
    if (receivers.length === 0) return;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(alarmArn),
          UpdateExpression: 'ADD receivers :receivers',
          ConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: { ':receivers': new Set(receivers), ':key': key },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private closedKey(key: string) {
    return { pk: EPISODES_PARTITION, sk: `closed#${createHash('sha256').update(key).digest('hex')}` };
  }

  /** Records that an episode was resolved, for as long as an episode is kept: it never opens again. */
  async markClosed(key: string, nowMs: number): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...this.closedKey(key), closedAt: nowMs, expiresAt: ttl(nowMs, EPISODE_TTL_DAYS) },
      }),
    );
  }

  /** Which of `keys` were resolved already. */
  async closedAmong(keys: readonly string[]): Promise<Set<string>> {
    const closed = new Set<string>();
    for (const key of new Set(keys)) {
      const out = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: this.closedKey(key), ConsistentRead: true }),
      );
      if (out.Item) closed.add(key);
    }
    return closed;
  }

  /** Closes the episode if it is still the open one (a newer episode is left alone). */
  async close(alarmArn: string, key: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(alarmArn),
          ConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: { ':key': key },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** Alerts held for the daily digest: info alerts and muted ones, by UTC day. */
export class DigestStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Keeps the alert for the digest; the same alert kept twice is one item. */
  async keep(alert: Alert, why: string, nowMs: number): Promise<void> {
    const day = new Date(alert.at).toISOString().slice(0, 10);
    const sk = createHash('sha256').update(`${alert.key}#${alert.status}`).digest('hex');
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `alert-digest#${day}`,
          sk,
          alert,
          why,
          keptAt: nowMs,
          expiresAt: ttl(nowMs, DIGEST_TTL_DAYS),
        },
      }),
    );
  }
}
