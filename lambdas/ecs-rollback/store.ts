import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAt, isConditionFailure } from '#shared/dynamo';
import { queryAll } from '#shared/query';
import { claimKey } from '#shared/service-claim';
import { iso } from '#shared/time';
import { parseClaimItem } from './claim-item.ts';
import type { AlarmWindow, RevisionRecord, RollbackClaim } from './model.ts';

const RECORD_TTL_DAYS = 180;

/** What the state table holds about one service. */
export interface ServiceState {
  readonly revisions: RevisionRecord[];
  readonly alarmWindows: AlarmWindow[];
  readonly claim?: RollbackClaim;
}

/** The runbook's own history of a service: revisions, alarm windows, announcements (ecs-rollback only). */
export const historyKey = (serviceArn: string) => `ecs-rollback#${serviceArn}`;
export { claimKey } from '#shared/service-claim';

const pk = historyKey;

/**
 * The ECS rollback runbook's state in the state table: revision records, alarm windows and the per-service
 * claim. All writes that decide "who acts" are conditional, so concurrent deliveries cannot both win.
 */
export class RollbackStore {
  /**
   * @param claimTtlMs how long a claim outlives its last write (at least the bake window plus the cooldown:
   *   a published claim is the cooldown and "never a loop" record); a claim nobody finishes expires by itself.
   */
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly claimTtlMs: number,
  ) {}

  /** The claim's TTL (epoch seconds) for a write at `nowMs`. */
  private claimExpiry(nowMs: number): number {
    return Math.ceil((nowMs + this.claimTtlMs) / 1000);
  }

  /** Everything about a service: its history (one paginated query) and its claim, both strongly consistent. */
  async load(serviceArn: string): Promise<ServiceState> {
    const revisions: RevisionRecord[] = [];
    const alarmWindows: AlarmWindow[] = [];
    const [items, claim] = await Promise.all([
      queryAll(this.documents, {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk(serviceArn) },
        ConsistentRead: true,
      }),
      this.loadClaim(serviceArn),
    ]);
    for (const item of items) {
      const { pk: _pk, sk, expiresAt: _e, ...data } = item as Record<string, unknown> & { sk: string };
      if (sk.startsWith('rev#')) revisions.push(data as unknown as RevisionRecord);
      else if (sk.startsWith('alarm#')) alarmWindows.push(data as unknown as AlarmWindow);
    }
    return { revisions, alarmWindows, claim };
  }

  /**
   * The service's claim, strongly consistent (a stale read could hand out a claim twice). A query, not
   * GetItem, so the function needs no read action beyond the Query it already has.
   */
  async loadClaim(serviceArn: string): Promise<RollbackClaim | undefined> {
    const key = claimKey(serviceArn);
    const [item] = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': key.pk, ':sk': key.sk },
      ConsistentRead: true,
    });
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, expiresAt: _e, ...data } = item;
    return parseClaimItem(serviceArn, data);
  }

  /**
   * Records a revision; a record seen again keeps its first `primarySince` (ECS delivers events at least once
   * and out of order) and gains what the new sighting adds.
   */
  async putRevision(serviceArn: string, record: RevisionRecord, nowMs: number): Promise<void> {
    const { deploymentId, primarySince, ...rest } = record;
    const fields = Object.entries({ ...rest, expiresAt: expiry(nowMs) }).filter(([, v]) => v !== undefined);
    const sets = fields.map((_, i) => `#f${i} = :f${i}`);
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(serviceArn), sk: `rev#${deploymentId}` },
        UpdateExpression: `SET deploymentId = :id, primarySince = if_not_exists(primarySince, :since), ${sets.join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(fields.map(([k], i) => [`#f${i}`, k])),
        ExpressionAttributeValues: {
          ':id': deploymentId,
          ':since': primarySince,
          ...Object.fromEntries(fields.map(([, v], i) => [`:f${i}`, v])),
        },
      }),
    );
  }

  /** Opens an alarm window (idempotent: the same episode opens the same window). */
  async openAlarmWindow(serviceArn: string, window: AlarmWindow, nowMs: number): Promise<void> {
    await this.documents
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: pk(serviceArn), sk: windowKey(window), ...window, expiresAt: expiry(nowMs) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch(ignoreConditionFailure);
  }

  /** Closes windows whose alarm left ALARM (or is gone), each at its own end; one already closed stays as it is. */
  async closeAlarmWindows(
    serviceArn: string,
    closes: readonly { readonly window: AlarmWindow; readonly end: number }[],
  ): Promise<void> {
    for (const { window, end } of closes) {
      await this.documents
        .send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: pk(serviceArn), sk: windowKey(window) },
            UpdateExpression: 'SET #end = :end',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#end)',
            ExpressionAttributeNames: { '#end': 'end' },
            ExpressionAttributeValues: { ':end': end },
          }),
        )
        .catch(ignoreConditionFailure);
    }
  }

  /**
   * Claims the service for a rollback. Succeeds only if the claim is still what was observed: absent, or the
   * observed claim of an earlier episode, published or unfinished, whose lease has passed (a conditional write
   * on that stale lease). Returns false when another invocation won.
   */
  async acquire(
    serviceArn: string,
    claim: RollbackClaim,
    observed: RollbackClaim | undefined,
    nowMs: number,
  ): Promise<boolean> {
    return this.documents
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...claimKey(serviceArn), ...claim, expiresAt: this.claimExpiry(nowMs) },
          ...(observed
            ? {
                ConditionExpression:
                  '#episodeId = :prev AND #owner = :owner AND #leaseUntil = :lease AND (#stage = :published OR #leaseUntil < :now)',
                ExpressionAttributeNames: {
                  '#episodeId': 'episodeId',
                  '#owner': 'owner',
                  '#leaseUntil': 'leaseUntil',
                  '#stage': 'stage',
                },
                ExpressionAttributeValues: {
                  ':prev': observed.episodeId,
                  ':owner': observed.owner,
                  ':lease': observed.leaseUntil,
                  ':published': 'published',
                  ':now': nowMs,
                },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      )
      .then(() => true, falseOnConditionFailure);
  }

  /** Takes over an unfinished claim whose lease expired. Returns false when someone else took it first. */
  async takeOver(
    serviceArn: string,
    observed: RollbackClaim,
    owner: string,
    leaseUntil: number,
    nowMs: number,
  ): Promise<boolean> {
    return this.update(
      serviceArn,
      { owner, leaseUntil, expiresAt: this.claimExpiry(nowMs) },
      '#owner = :o0 AND #leaseUntil = :l0 AND #stage = :s0 AND #leaseUntil < :now',
      {
        ':o0': observed.owner,
        ':l0': observed.leaseUntil,
        ':s0': observed.stage,
        ':now': nowMs,
      },
    );
  }

  /** Moves the claim on; only its owner can. */
  async advance(
    serviceArn: string,
    owner: string,
    fields: Partial<RollbackClaim>,
    nowMs: number,
  ): Promise<boolean> {
    return this.update(serviceArn, { ...fields, expiresAt: this.claimExpiry(nowMs) }, '#owner = :owner', {
      ':owner': owner,
    });
  }

  /** Lets a retry resume at once after a failure (the lease would otherwise hold it off). */
  async release(serviceArn: string, owner: string, nowMs: number): Promise<void> {
    await this.update(serviceArn, { leaseUntil: nowMs }, '#owner = :owner AND #stage <> :published', {
      ':owner': owner,
      ':published': 'published',
    });
  }

  /** Claims the one "rollback ineffective" escalation of a rollback. */
  async claimEscalation(
    serviceArn: string,
    claim: RollbackClaim,
    episodeId: string,
    nowMs: number,
    leaseUntil: number,
  ): Promise<boolean> {
    return this.update(
      serviceArn,
      { ineffective: { episodeId, stage: 'claimed', leaseUntil }, expiresAt: this.claimExpiry(nowMs) },
      '#episodeId = :claimEpisode AND (attribute_not_exists(#ineffective) OR (#ineffective.#stage = :claimed AND #ineffective.#leaseUntil < :now))',
      { ':claimEpisode': claim.episodeId, ':claimed': 'claimed', ':now': nowMs },
    );
  }

  /** Lets the retry of a failed escalation send it. */
  async releaseEscalation(serviceArn: string, episodeId: string, nowMs: number): Promise<void> {
    await this.update(
      serviceArn,
      { ineffective: { episodeId, stage: 'claimed', leaseUntil: nowMs } },
      '#ineffective.#episodeId = :e AND #ineffective.#stage = :claimed',
      { ':e': episodeId, ':claimed': 'claimed' },
    );
  }

  /**
   * Takes the announcement of an episode's decision, under a lease: `mine` to announce it now, `announced`
   * when it was, `in-flight` while another invocation's unexpired lease holds it (that one may yet fail).
   */
  async markAnnounced(
    serviceArn: string,
    episodeId: string,
    nowMs: number,
    leaseUntil: number,
  ): Promise<'mine' | 'announced' | 'in-flight'> {
    const key = { pk: pk(serviceArn), sk: `announced#${episodeId}` };
    const mine = await this.documents
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, leaseUntil, expiresAt: expiry(nowMs) },
          ConditionExpression:
            'attribute_not_exists(pk) OR (attribute_not_exists(#announced) AND #leaseUntil < :now)',
          ExpressionAttributeNames: { '#announced': 'announced', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      )
      .then(() => true, falseOnConditionFailure);
    if (mine) return 'mine';
    const [item] = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': key.pk, ':sk': key.sk },
      ConsistentRead: true,
    });
    return item?.announced === true ? 'announced' : 'in-flight';
  }

  /** Notes that the announcement went out. */
  async completeAnnouncement(serviceArn: string, episodeId: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(serviceArn), sk: `announced#${episodeId}` },
        UpdateExpression: 'SET #announced = :true',
        ExpressionAttributeNames: { '#announced': 'announced' },
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  /** Lets the retry of a failed announcement send it at once (else the lease runs out by itself). */
  async releaseAnnouncement(serviceArn: string, episodeId: string, nowMs: number): Promise<void> {
    await this.documents
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pk(serviceArn), sk: `announced#${episodeId}` },
          UpdateExpression: 'SET #leaseUntil = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#announced)',
          ExpressionAttributeNames: { '#leaseUntil': 'leaseUntil', '#announced': 'announced' },
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      )
      .catch(ignoreConditionFailure);
  }

  async completeEscalation(serviceArn: string, claim: RollbackClaim, episodeId: string): Promise<void> {
    await this.update(
      serviceArn,
      { ineffective: { episodeId, stage: 'published', leaseUntil: 0 } },
      '#episodeId = :claimEpisode AND #ineffective.#episodeId = :e',
      { ':claimEpisode': claim.episodeId, ':e': episodeId },
    );
  }

  /** Notes that Nightshift's rollback deployment completed; returns false if it was already noted. */
  async markRollbackCompleted(
    serviceArn: string,
    deployedArn: string,
    completedAt: number,
  ): Promise<boolean> {
    return this.update(
      serviceArn,
      // The "never a loop" window runs a bake window from completion: the claim outlives it.
      { completedAt, expiresAt: this.claimExpiry(completedAt) },
      '#deployTaskDefinitionArn = :arn AND #stage = :published AND attribute_not_exists(#completedAt)',
      { ':arn': deployedArn, ':published': 'published' },
    );
  }

  /** Notes that Nightshift's rollback deployment failed; returns false if it was already noted. */
  async markRollbackFailed(serviceArn: string, deployedArn: string, failedAt: number): Promise<boolean> {
    return this.update(
      serviceArn,
      { failedAt },
      '#deployTaskDefinitionArn = :arn AND #stage = :published AND attribute_not_exists(#completedAt) AND attribute_not_exists(#failedAt)',
      { ':arn': deployedArn, ':published': 'published' },
    );
  }

  private async update(
    serviceArn: string,
    fields: Record<string, unknown>,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    return this.documents
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKey(serviceArn),
          UpdateExpression: `SET ${entries.map((_, i) => `#u${i} = :u${i}`).join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            ...Object.fromEntries(
              CONDITION_NAMES.filter((n) => condition.includes(`#${n}`)).map((n) => [`#${n}`, n]),
            ),
            ...Object.fromEntries(entries.map(([k], i) => [`#u${i}`, k])),
          },
          ExpressionAttributeValues: {
            ...values,
            ...Object.fromEntries(entries.map(([, v], i) => [`:u${i}`, v])),
          },
        }),
      )
      .then(() => true, falseOnConditionFailure);
  }
}

/** Attribute names conditions refer to as `#name` (several, like `owner`, are DynamoDB reserved words). */
const CONDITION_NAMES = [
  'owner',
  'stage',
  'leaseUntil',
  'episodeId',
  'ineffective',
  'deployTaskDefinitionArn',
  'completedAt',
  'failedAt',
];

function windowKey(window: AlarmWindow): string {
  return `alarm#${window.alarmName}#${iso(window.start)}`;
}

function expiry(nowMs: number): number {
  return expiresAt(nowMs, RECORD_TTL_DAYS);
}

function falseOnConditionFailure(error: unknown): false {
  if (isConditionFailure(error)) return false;
  throw error;
}

function ignoreConditionFailure(error: unknown): void {
  if (!isConditionFailure(error)) throw error;
}
