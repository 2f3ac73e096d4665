import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '#shared/query';
import type { VerificationRecord } from './plan.ts';

const PK = 'restore-verify';
const TTL_DAYS = 90;

/** Verification progress in the state table: one item per temporary instance (partition `restore-verify`). */
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

  /** Records a requested restore; false when that instance already has a record (a duplicate tick). */
  async start(record: VerificationRecord, nowMs: number): Promise<boolean> {
    return this.documents
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: PK,
            sk: record.instanceId,
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

  /** Moves a record from one state to the next; false when another invocation moved it first. */
  async advance(
    instanceId: string,
    from: VerificationRecord['state'],
    fields: Partial<VerificationRecord>,
  ): Promise<boolean> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    return this.documents
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: PK, sk: instanceId },
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
          ConditionExpression: '#state = :from',
          ExpressionAttributeNames: {
            '#state': 'state',
            ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
          },
          ExpressionAttributeValues: {
            ':from': from,
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
