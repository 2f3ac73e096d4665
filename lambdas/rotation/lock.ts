/**
 * One rotation per secret at a time: a lock item (`rotation#<parameter>`, sort key `lock`) taken with a
 * conditional write, held for a lease, advanced step by step, and taken over once its lease has passed.
 * A `state` item beside it remembers when the secret was last rotated (and which consumers reading at start
 * its last rotation still owes a redeployment: `redeploy-store.ts`). Only the rotation function writes
 * these (`dynamodb:LeadingKeys` `rotation#*`); the lock has a TTL, the state item is the runbook's own.
 *
 * @module
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { expiresAt, isConditionFailure } from '#shared/dynamo';
import { type RotationStep, STEPS } from './model.ts';
import { redeployRecord, type StartReader } from './redeploy-store.ts';

/** A lock outlives any lease by far, and then goes (a crashed run's lock is taken over before that). */
const LOCK_TTL_DAYS = 7;

export interface HeldLock {
  readonly rotationId: string;
  readonly step?: RotationStep;
  readonly owner: string;
  readonly leaseUntil: number;
  readonly putVersion?: number;
  /** SHA-256 (hex) of the pending value this rotation made (or first tested): each later step checks it. */
  readonly pendingDigest?: string;
  /** An external value's digest the HTTPS check refused: it is not presented again. */
  readonly refusedDigest?: string;
}

export class RotationLocks {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(name: string, sk: 'lock' | 'state') {
    return { pk: `rotation#${name}`, sk };
  }

  async read(name: string): Promise<{ lock?: HeldLock; lastRotatedAt?: number; lastRotationId?: string }> {
    const [lock, state] = await Promise.all(
      (['lock', 'state'] as const).map((sk) =>
        this.documents.send(
          new GetCommand({ TableName: this.tableName, Key: this.key(name, sk), ConsistentRead: true }),
        ),
      ),
    );
    const l = lock?.Item;
    return {
      ...(l && typeof l.rotationId === 'string'
        ? {
            lock: {
              rotationId: l.rotationId,
              owner: String(l.owner),
              leaseUntil: Number(l.leaseUntil),
              ...((STEPS as readonly string[]).includes(String(l.step))
                ? { step: l.step as RotationStep }
                : {}),
              ...(typeof l.putVersion === 'number' ? { putVersion: l.putVersion } : {}),
              ...(typeof l.pendingDigest === 'string' ? { pendingDigest: l.pendingDigest } : {}),
              ...(typeof l.refusedDigest === 'string' ? { refusedDigest: l.refusedDigest } : {}),
            },
          }
        : {}),
      ...(state?.Item?.lastRotatedAt === undefined
        ? {}
        : { lastRotatedAt: Number(state.Item.lastRotatedAt) }),
      ...(typeof state?.Item?.rotationId === 'string' ? { lastRotationId: state.Item.rotationId } : {}),
    };
  }

  /**
   * Takes the lock for `rotationId`: when there is none, it is this owner's, or its lease has passed. The
   * same rotation taken over keeps the step already done; another rotation's lock starts from no step.
   * False: another run holds it.
   */
  async acquire(
    name: string,
    rotationId: string,
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean> {
    const values = {
      ':owner': owner,
      ':lease': now + leaseMs,
      ':now': now,
      ':ttl': expiresAt(now, LOCK_TTL_DAYS),
      ':id': rotationId,
    };
    const free = '(#owner = :owner OR leaseUntil < :now)';
    const attempt = (update: string, condition: string, extra: Record<string, unknown> = {}) =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(name, 'lock'),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#owner': 'owner',
            ...(update.includes('#step') ? { '#step': 'step' } : {}),
          },
          ExpressionAttributeValues: { ...values, ...extra },
        }),
      );
    const base =
      'SET #owner = :owner, leaseUntil = :lease, takenAt = :now, expiresAt = :ttl, rotationId = :id';
    for (const [update, condition, extra] of [
      // The same rotation, taken over: keep its step.
      [base, `rotationId = :id AND ${free}`, {}],
      // None, or another rotation's: start from no step.
      [
        `${base}, #step = :none REMOVE putVersion, pendingDigest, refusedDigest`,
        `attribute_not_exists(pk) OR ${free}`,
        { ':none': 'none' },
      ],
    ] as const) {
      try {
        await attempt(update, condition, extra);
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return false;
  }

  /** An update of the lock that holds only while it is `owner`'s; false when it no longer is. */
  private async whileOwner(
    name: string,
    owner: string,
    update: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(name, 'lock'),
          UpdateExpression: update,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', ...names },
          ExpressionAttributeValues: { ':owner': owner, ...values },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Records a finished step and renews the lease; false when the lock is no longer this owner's. */
  advance(name: string, owner: string, step: RotationStep, now: number, leaseMs: number): Promise<boolean> {
    return this.whileOwner(
      name,
      owner,
      'SET #step = :step, leaseUntil = :lease',
      { ':step': step, ':lease': now + leaseMs },
      { '#step': 'step' },
    );
  }

  /** Records the version `finish` put (before it deletes the pending value); false when no longer this owner's. */
  recordPut(name: string, owner: string, version: number): Promise<boolean> {
    return this.whileOwner(name, owner, 'SET putVersion = :v', { ':v': version });
  }

  /**
   * Pins the pending value's digest (before `create` puts it, or when a person's value is first tested);
   * false when the lock is no longer this owner's.
   */
  pinPending(name: string, owner: string, digest: string): Promise<boolean> {
    return this.whileOwner(name, owner, 'SET pendingDigest = :d', { ':d': digest });
  }

  /** Records that the check refused the value with this digest (best effort: a lost write retries it). */
  async refused(name: string, owner: string, digest: string): Promise<void> {
    await this.whileOwner(name, owner, 'SET refusedDigest = :d', { ':d': digest }).catch(() => false);
  }

  /** Lets the lock go without recording a rotation (this run found the work done). */
  async release(name: string, owner: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(name, 'lock'),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * A step failed: the lease ends now and the recorded step stays, so the invocation's retry (a minute or
   * two later) resumes at once rather than waiting out the lease. Best effort: a lease not ended expires.
   */
  async endLease(name: string, owner: string, now: number): Promise<void> {
    // A lease not ended (the lock taken over, or the write failed) runs out by itself.
    await this.whileOwner(name, owner, 'SET leaseUntil = :now', { ':now': now - 1 }).catch(() => false);
  }

  /**
   * The rotation is done: remember when, and which consumers reading at start it still owes a redeployment
   * (with it, in one write: a finished rotation never loses them), then let the lock go (in that order: a
   * crash between repeats finish). A newer rotation's list replaces an older one's: its redeployment serves
   * both.
   */
  async complete(
    name: string,
    owner: string,
    rotationId: string,
    now: number,
    startReaders: readonly StartReader[] = [],
  ): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(name, 'state'),
          lastRotatedAt: now,
          rotationId,
          ...(startReaders.length > 0 ? { redeploy: redeployRecord(rotationId, startReaders) } : {}),
        },
      }),
    );
    await this.release(name, owner);
  }
}
