/**
 * What the redeployment of start-time readers keeps in the state table: which consumers of which rotation
 * still need their new deployment (the `redeploy` map of the secret's `rotation#<parameter>` `state` item,
 * written with the rotation's completion by {@link RotationLocks.complete}), and the per-service claim
 * (`claim#<service ARN>`, shared with the rollback runbooks) a redeployment takes while it makes one.
 *
 * @module
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAt, isConditionFailure } from '#shared/dynamo';
import { queryAll } from '#shared/query';
import { claimKey, type ObservedServiceClaim, observedServiceClaim } from '#shared/service-claim';

/** A consumer that reads the secret at start: what UpdateService names. */
export interface StartReader {
  readonly cluster: string;
  readonly service: string;
  readonly serviceArn: string;
}

/** A rotation's redeployments still to make. */
export interface PendingRedeploy {
  readonly rotationId: string;
  /** Service ARN → the consumer; removed once its redeployment is made. */
  readonly pending: Readonly<Record<string, { readonly cluster: string; readonly service: string }>>;
}

/** A redeployment's claim outlives any lease, then goes: it is no suspect and has no cooldown to keep. */
const CLAIM_TTL_DAYS = 1;

/** The item a rotation writes when it takes a service's claim (the contract shared with the rollbacks). */
export interface RedeployClaim {
  readonly episodeId: string;
  readonly owner: string;
  readonly leaseUntil: number;
  readonly reason: string;
  readonly claimedAt: number;
}

/** The `redeploy` attribute of the state item a rotation's completion writes. */
export function redeployRecord(rotationId: string, readers: readonly StartReader[]) {
  return {
    rotationId,
    pending: Object.fromEntries(
      readers.map((r) => [r.serviceArn, { cluster: r.cluster, service: r.service }]),
    ),
    done: {},
  };
}

export class RedeployStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private stateKey(parameter: string) {
    return { pk: `rotation#${parameter}`, sk: 'state' };
  }

  /** The redeployments the last finished rotation still owes, strongly consistent; none: undefined. */
  async pending(parameter: string): Promise<PendingRedeploy | undefined> {
    const out = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: this.stateKey(parameter), ConsistentRead: true }),
    );
    const r = out.Item?.redeploy as { rotationId?: unknown; pending?: unknown } | undefined;
    if (!r || typeof r.rotationId !== 'string' || typeof r.pending !== 'object' || r.pending === null) {
      return undefined;
    }
    const pending: Record<string, { cluster: string; service: string }> = {};
    for (const [arn, c] of Object.entries(r.pending as Record<string, unknown>)) {
      const { cluster, service } = (c ?? {}) as { cluster?: unknown; service?: unknown };
      if (typeof cluster === 'string' && typeof service === 'string') pending[arn] = { cluster, service };
    }
    return Object.keys(pending).length === 0 ? undefined : { rotationId: r.rotationId, pending };
  }

  /**
   * A consumer's redeployment is made (or no longer owed): off the list, when the list is still this
   * rotation's (a newer rotation's list stays as it is). Idempotent.
   */
  async markDone(parameter: string, rotationId: string, serviceArn: string, now: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.stateKey(parameter),
          UpdateExpression: 'SET redeploy.done.#arn = :now REMOVE redeploy.pending.#arn',
          ConditionExpression: 'redeploy.rotationId = :id',
          ExpressionAttributeNames: { '#arn': serviceArn },
          ExpressionAttributeValues: { ':id': rotationId, ':now': now },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * The service's claim, strongly consistent (a stale read could hand it out twice). A query, as the
   * rollbacks read it.
   */
  async loadClaim(serviceArn: string): Promise<ObservedServiceClaim | undefined> {
    const key = claimKey(serviceArn);
    const [item] = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': key.pk, ':sk': key.sk },
      ConsistentRead: true,
    });
    return item ? observedServiceClaim(item) : undefined;
  }

  /**
   * Takes the service's claim for a redeployment, only if it is still exactly what was observed (none, or
   * the same episode, owner and lease). False: another writer got there first. Any other failure throws.
   */
  async takeClaim(
    serviceArn: string,
    claim: RedeployClaim,
    observed: ObservedServiceClaim | undefined,
    now: number,
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...claimKey(serviceArn),
            kind: 'redeploy',
            runbook: 'rotation',
            stage: 'claimed',
            ...claim,
            expiresAt: expiresAt(now, CLAIM_TTL_DAYS),
          },
          ...(observed
            ? {
                ConditionExpression: 'episodeId = :prev AND #owner = :owner AND leaseUntil = :lease',
                ExpressionAttributeNames: { '#owner': 'owner' },
                ExpressionAttributeValues: {
                  ':prev': observed.episodeId,
                  ':owner': observed.owner,
                  ':lease': observed.leaseUntil,
                },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The redeployment was made: published, lease ended. False when the claim is no longer this run's. */
  async publishClaim(
    serviceArn: string,
    episodeId: string,
    owner: string,
    updatedAt: number,
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKey(serviceArn),
          UpdateExpression: 'SET #stage = :published, leaseUntil = :zero, updatedAt = :at, expiresAt = :ttl',
          ConditionExpression: '#owner = :me AND episodeId = :episode',
          ExpressionAttributeNames: { '#owner': 'owner', '#stage': 'stage' },
          ExpressionAttributeValues: {
            ':published': 'published',
            ':zero': 0,
            ':at': updatedAt,
            ':ttl': expiresAt(updatedAt, CLAIM_TTL_DAYS),
            ':me': owner,
            ':episode': episodeId,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * The redeployment could not be made: the lease ends now so a rollback (or the next run) need not wait it
   * out. Best effort: a lease not ended runs out by itself.
   */
  async endClaimLease(serviceArn: string, episodeId: string, owner: string, now: number): Promise<void> {
    await this.documents
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKey(serviceArn),
          UpdateExpression: 'SET leaseUntil = :past',
          ConditionExpression: '#owner = :me AND episodeId = :episode AND #stage = :claimed',
          ExpressionAttributeNames: { '#owner': 'owner', '#stage': 'stage' },
          ExpressionAttributeValues: {
            ':past': now - 1,
            ':me': owner,
            ':episode': episodeId,
            ':claimed': 'claimed',
          },
        }),
      )
      .catch(() => undefined);
  }
}
