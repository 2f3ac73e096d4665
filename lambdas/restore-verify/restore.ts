import {
  CreateDBInstanceCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { awsErrorName, isTransientAwsError } from '#shared/errors';
import type { VerifyDeps } from './deps.ts';
import { clusterMemberId } from './identifiers.ts';
import type { VerifyAction } from './plan.ts';

/** RDS's answers to a request for a copy that exists already (instance, cluster). */
const ALREADY_EXISTS = ['DBInstanceAlreadyExistsFault', 'DBClusterAlreadyExistsFault'];

/**
 * Asks RDS for the copy (for Aurora, the cluster, then one small instance to serve it), tagged at creation
 * and never publicly accessible. Returns RDS's refusal (`InvalidDBSnapshotStateFault: …`): the
 * verification's verdict. Throws what is worth asking again on a later tick (see {@link restoreRefusal}).
 * A request made again (not `create`) takes AlreadyExists for the copy its lost predecessor made.
 */
export async function requestRestore(
  action: Extract<VerifyAction, { kind: 'restore' }>,
  deps: Pick<VerifyDeps, 'rds' | 'config'>,
): Promise<string | undefined> {
  const { record } = action;
  const tags = [
    { Key: 'nightshift:managed', Value: 'true' },
    { Key: 'nightshift:source-db', Value: record.database },
    { Key: 'nightshift:expires-at', Value: new Date(action.expiresAt).toISOString() },
    { Key: 'nightshift:run-id', Value: action.runId },
  ];
  const securityGroups =
    deps.config.securityGroupIds.length > 0 ? [...deps.config.securityGroupIds] : undefined;
  const tolerateExisting = (mayExist: boolean) => (error: unknown) => {
    if (!mayExist || !ALREADY_EXISTS.includes(awsErrorName(error) ?? '')) throw error;
  };
  try {
    if (record.kind === 'cluster') {
      await deps.rds
        .send(
          new RestoreDBClusterFromSnapshotCommand({
            DBClusterIdentifier: record.copyId,
            SnapshotIdentifier: record.snapshotId,
            Engine: 'aurora-postgresql',
            DBSubnetGroupName: deps.config.subnetGroupName,
            VpcSecurityGroupIds: securityGroups,
            Tags: tags,
          }),
        )
        .catch(tolerateExisting(!action.create));
      // Its member can exist only if an earlier request of this same verification made it.
      await deps.rds
        .send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: clusterMemberId(record.copyId),
            DBClusterIdentifier: record.copyId,
            Engine: 'aurora-postgresql',
            DBInstanceClass: deps.config.clusterInstanceClass ?? 'db.t4g.medium',
            PubliclyAccessible: false,
            Tags: tags,
          }),
        )
        .catch(tolerateExisting(true));
    } else {
      await deps.rds
        .send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier: record.copyId,
            DBSnapshotIdentifier: record.snapshotId,
            DBInstanceClass: deps.config.instanceClass,
            DBSubnetGroupName: deps.config.subnetGroupName,
            VpcSecurityGroupIds: securityGroups,
            PubliclyAccessible: false,
            MultiAZ: false,
            Tags: tags,
          }),
        )
        .catch(tolerateExisting(!action.create));
    }
    return undefined;
  } catch (error) {
    return restoreRefusal(error);
  }
}

/**
 * Whether a failed restore request is RDS's answer — a verdict, returned as `Name: message` — or worth
 * asking again on a later tick (rethrown): throttling, 5xx, timeouts and dropped connections once the SDK's
 * own retries ran out, and anything that is not an AWS service error at all.
 */
export function restoreRefusal(error: unknown): string {
  const name = awsErrorName(error);
  if (name === undefined || isTransientAwsError(error)) throw error;
  return `${name}: ${(error as Error).message}`;
}
