import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '#shared/query';
import type { VerificationRecord } from './plan.ts';

const PK = 'restore-verify';
const TTL_DAYS = 90;

/** The sort key of a verification: its kind and copy, so an instance and a cluster of one name never meet. */
const sortKey = (record: Pick<VerificationRecord, 'kind' | 'copyId'>) => `${record.kind}#${record.copyId}`;

/**
 * Verification progress in the state table: one item per temporary copy (partition `restore-verify`, sort
 * key `instance#<copy>` or `cluster#<copy>`), kept 90 days.
 */
export class VerificationStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<VerificationRecord[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': PK },
      ConsistentRead: true,
    });
    return items.map(({ pk: _pk, sk: _sk, expiresAt: _e, ...r }) => r as unknown as VerificationRecord);
  }

  /** Records a requested restore; false when that copy already has a record (a concurrent tick's). */
  async start(record: VerificationRecord, nowMs: number): Promise<boolean> {
    return this.documents
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: PK,
            sk: sortKey(record),
            ...record,
            expiresAt: Math.floor(nowMs / 1000) + TTL_DAYS * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .then(
        () => true,
        (error: unknown) => {
          if (
            error instanceof ConditionalCheckFailedException ||
            (error as Error).name === 'ConditionalCheckFailedException'
          )
            return false;
          throw error;
        },
      );
  }

  /** Moves a record on from the state it was observed in; false when another invocation moved it first. */
  async advance(record: VerificationRecord, fields: Partial<VerificationRecord>): Promise<boolean> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    return this.documents
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: PK, sk: sortKey(record) },
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
          ConditionExpression: '#state = :from',
          ExpressionAttributeNames: {
            '#state': 'state',
            ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
          },
          ExpressionAttributeValues: {
            ':from': record.state,
            ...Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])),
          },
        }),
      )
      .then(
        () => true,
        (error: unknown) => {
          if ((error as Error).name === 'ConditionalCheckFailedException') return false;
          throw error;
        },
      );
  }
}
