import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { NightshiftError } from '#shared/errors';
import { type DatabaseKind, isRdsError, type SnapshotView, TAG, tagsOf } from '#shared/rds-inventory';
import type { CreateAction } from './plan.ts';

/** The RDS calls that change snapshots; the reading is `#shared/rds-inventory`'s. */

const ALREADY_EXISTS: Record<DatabaseKind, string[]> = {
  instance: ['DBSnapshotAlreadyExistsFault', 'DBSnapshotAlreadyExists'],
  cluster: ['DBClusterSnapshotAlreadyExistsFault'],
};
const NOT_FOUND: Record<DatabaseKind, string[]> = {
  instance: ['DBSnapshotNotFoundFault', 'DBSnapshotNotFound'],
  cluster: ['DBClusterSnapshotNotFoundFault'],
};
const INVALID_STATE: Record<DatabaseKind, string[]> = {
  instance: ['InvalidDBSnapshotStateFault', 'InvalidDBSnapshotState'],
  cluster: ['InvalidDBClusterSnapshotStateFault'],
};

/** One snapshot as RDS shows it now, or undefined when it is gone. */
async function describeSnapshot(
  rds: RDSClient,
  kind: DatabaseKind,
  id: string,
): Promise<{ status: string; tags: Record<string, string> } | undefined> {
  try {
    if (kind === 'instance') {
      const out = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
      const s = out.DBSnapshots?.[0];
      return s && { status: s.Status ?? '', tags: tagsOf(s.TagList) };
    }
    const out = await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }));
    const s = out.DBClusterSnapshots?.[0];
    return s && { status: s.Status ?? '', tags: tagsOf(s.TagList) };
  } catch (error) {
    if (isRdsError(error, ...NOT_FOUND[kind])) return undefined;
    throw error;
  }
}

/**
 * What a create came to: `created` by this call, or `already-taken` by another delivery (or an earlier
 * attempt) of the same run — a snapshot of that name carrying this run's id was there first.
 */
export type CreateOutcome = 'created' | 'already-taken';

/**
 * Takes the planned snapshot. RDS refusing it because one of that name exists is "already taken" only when
 * that snapshot carries this run's id; any other holder of the name is an error, never "done".
 */
export async function createSnapshot(rds: RDSClient, action: CreateAction): Promise<CreateOutcome> {
  try {
    await sendCreate(rds, action);
    return 'created';
  } catch (error) {
    if (!isRdsError(error, ...ALREADY_EXISTS[action.target.kind])) throw error;
    const holder = await describeSnapshot(rds, action.target.kind, action.snapshotId);
    if (holder && holder.tags[TAG.runId] === action.tags[TAG.runId]) return 'already-taken';
    throw new SnapshotNameTakenError(
      `${action.snapshotId} already exists but was not taken by run ${action.tags[TAG.runId]} (${holder ? `its run tag is ${JSON.stringify(holder.tags[TAG.runId] ?? '')}` : 'it is gone again'})`,
      { cause: error },
    );
  }
}

async function sendCreate(rds: RDSClient, action: CreateAction): Promise<void> {
  const Tags = Object.entries(action.tags).map(([Key, Value]) => ({ Key, Value }));
  if (action.target.kind === 'instance') {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: action.snapshotId,
        DBInstanceIdentifier: action.target.id,
        Tags,
      }),
    );
  } else {
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: action.snapshotId,
        DBClusterIdentifier: action.target.id,
        Tags,
      }),
    );
  }
}

/**
 * What a delete came to: `deleted` by this call, `already-gone`, or `already-deleting` — deleted by another
 * delivery of the same run (or by hand), which counts as done.
 */
export type DeleteOutcome = 'deleted' | 'already-gone' | 'already-deleting';

/**
 * Deletes a snapshot. DBSnapshotNotFound means it is gone already. InvalidDBSnapshotState also answers a
 * snapshot that is not `available` for another reason, so it counts as done only when RDS then shows the
 * snapshot `deleting` (or gone); otherwise the refusal stands.
 *
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSnapshot.html#API_DeleteDBSnapshot_Errors
 */
export async function deleteSnapshot(rds: RDSClient, snapshot: SnapshotView): Promise<DeleteOutcome> {
  try {
    if (snapshot.kind === 'instance')
      await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshot.id }));
    else await rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: snapshot.id }));
    return 'deleted';
  } catch (error) {
    if (isRdsError(error, ...NOT_FOUND[snapshot.kind])) return 'already-gone';
    if (!isRdsError(error, ...INVALID_STATE[snapshot.kind])) throw error;
    const now = await describeSnapshot(rds, snapshot.kind, snapshot.id);
    if (now === undefined) return 'already-gone';
    if (now.status === 'deleting') return 'already-deleting';
    throw error;
  }
}

/** A snapshot of the planned name exists and this run did not take it. */
export class SnapshotNameTakenError extends NightshiftError {
  override readonly name: string = 'SnapshotNameTakenError';
}
