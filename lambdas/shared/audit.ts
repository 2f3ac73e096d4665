import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query.ts';
import { iso } from './time.ts';

/** One line of the audit log: a decision or an action of a runbook, with its reason. */
export interface AuditEntry {
  readonly runbook: string;
  /** What was decided or done, e.g. `rollback`, `no-action`, `already-handled`, `record-candidate`. */
  readonly action: string;
  /** `performed`, `planned` (dry-run or kill switch), `skipped`, `failed`. */
  readonly outcome: 'performed' | 'planned' | 'skipped' | 'failed';
  readonly subject: string;
  readonly reason: string;
  readonly details?: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  readonly at: string;
}

const partition = (runbook: string) => `audit#${runbook}`;

/** Append-only audit log in the state table (partition `audit#<runbook>`, sorted by time). */
export class AuditLog {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async record(entry: AuditEntry, nowMs: number): Promise<void> {
    const at = iso(nowMs);
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: partition(entry.runbook),
          sk: `${at}#${crypto.randomUUID()}`,
          at,
          ...entry,
          expiresAt: Math.floor(nowMs / 1000) + this.retentionDays * 86_400,
        },
        // IAM cannot make PutItem insert-only: the random sort key and this condition keep entries unchanged.
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  }

  /** Every entry of a runbook in time order (paginated to the end). */
  async list(runbook: string): Promise<StoredAuditEntry[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partition(runbook) },
    });
    return items.map(({ pk: _pk, sk: _sk, expiresAt: _e, ...entry }) => entry as unknown as StoredAuditEntry);
  }
}
