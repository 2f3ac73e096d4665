import {
  AddTagsToResourceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsErrorName } from '#shared/errors';
import { DEFAULT_CHECKS, judge, verdict } from './checks.ts';
import { runChecks } from './database.ts';
import { auditVerify as audit, type VerifyDeps } from './deps.ts';
import { clusterMemberId } from './identifiers.ts';
import { deletePassword, readPassword, storePassword } from './passwords.ts';
import type { DatabaseKind, VerificationRecord, VerifyAction } from './plan.ts';
import { requestRestore } from './restore.ts';

/**
 * Carries out one planned action. Each is idempotent and ordered so that a fault or crash between any two
 * steps leaves what the next tick needs to finish it: nothing here decides what is due (the plan did).
 */
export async function act(action: VerifyAction, deps: VerifyDeps): Promise<void> {
  const now = deps.clock();
  switch (action.kind) {
    case 'restore': {
      const { record } = action;
      if (action.create && !(await deps.store.start(record, now))) return;
      const refusal = await requestRestore(action, deps);
      if (refusal !== undefined) {
        return finish(
          record,
          { passed: false, reason: `RDS refused the restore of ${record.snapshotId}: ${refusal}` },
          deps,
          // RDS refused to create it: there is no copy to delete (and IAM lets the function delete only
          // tagged copies, so deleting a name that does not exist is refused, as on AWS).
          { copyExists: false },
        );
      }
      if (!(await deps.store.advance(record, { state: 'restoring' }))) return;
      await audit(deps, 'restore', 'performed', record.database, action.reason);
      return;
    }
    case 'reset-password':
      return resetPassword(action.record, deps);
    case 'check':
      return check(action.record, deps);
    case 'fail':
      return finish(action.record, { passed: false, reason: action.reason }, deps);
    case 'no-snapshot': {
      const { marker } = action;
      // Published before the marker that says so is recorded: a failed PutEvents leaves no marker, so the
      // next tick alerts again (at least once), instead of a marker that silences a lost alert.
      await deps.publisher.publish({
        detailType: 'Restore Verification Failed',
        severity: 'critical',
        eventKey: `restore-verify#${marker.kind}#${marker.copyId}#no-snapshot`,
        detail: { database: marker.database, kind: marker.kind, reason: action.reason },
      });
      if (!(await deps.store.start(marker, now))) return;
      deps.metrics.add('RestoreVerified', 0, { database: marker.database });
      await audit(deps, 'verify', 'failed', marker.database, action.reason);
      return;
    }
    case 'delete-copy':
      return deleteCopy(action.copyId, action.copyKind, action.reason, deps);
    case 'delete-password':
      await deletePassword(action.copyId, deps.ssm);
      await audit(deps, 'delete-password', 'performed', action.copyId, action.reason);
      return;
  }
}

/**
 * Sets the copy's master password to a one-time value. The value is stored in SSM first and the state says
 * `resetting` last: a crash between any two steps leaves a `restoring` record whose next reset reuses the
 * stored value, never a `resetting` record whose password does not exist. (A `resetting` record that lost
 * its password is planned a new one: it moves from `resetting` to `resetting`.)
 */
async function resetPassword(record: VerificationRecord, deps: VerifyDeps): Promise<void> {
  const password = await storePassword(record.copyId, deps.ssm);
  // An Aurora copy's master password belongs to the cluster, not to its instance. Only the password is sent
  // (never PubliclyAccessible or security groups: the role may not change those).
  if (record.kind === 'cluster') {
    await deps.rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: record.copyId,
        MasterUserPassword: password,
        ApplyImmediately: true,
      }),
    );
  } else {
    await deps.rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: record.copyId,
        MasterUserPassword: password,
        ApplyImmediately: true,
      }),
    );
  }
  const now = deps.clock();
  const advanced = await deps.store.advance(record, {
    state: 'resetting',
    resetAt: now,
    availableAt: now,
  });
  if (!advanced) return;
  await audit(
    deps,
    'reset-password',
    'performed',
    record.database,
    `${record.copyId}: one-time master password set (kept in SSM, never logged)`,
  );
}

async function check(record: VerificationRecord, deps: VerifyDeps): Promise<void> {
  const checks = deps.config.checks.length > 0 ? deps.config.checks : DEFAULT_CHECKS;
  const endpoint = await endpointOf(record, deps.rds);
  const password = await readPassword(record.copyId, deps.ssm);
  let result: { passed: boolean; reason: string };
  try {
    const values = await runChecks({ ...endpoint, password, caBundle: deps.caBundle }, checks);
    result = verdict(checks.map((c, i) => judge(c, values[i], record.snapshotTime)));
  } catch (error) {
    // RDS applies a new master password asynchronously: a refusal soon after the reset is retried next tick.
    const refused = (error as { code?: string }).code === '28P01';
    if (refused && deps.clock() - (record.resetAt ?? 0) < 30 * 60_000) {
      await audit(
        deps,
        'check',
        'skipped',
        record.database,
        `${record.copyId}: one-time password not applied yet; retrying`,
      );
      return;
    }
    result = {
      passed: false,
      reason: `could not connect to the restored copy over TLS: ${(error as Error).message}`,
    };
  }
  await finish(record, result, deps);
}

/** Where to connect to a copy: an instance's endpoint, or an Aurora cluster's writer endpoint. */
async function endpointOf(record: VerificationRecord, rds: RDSClient) {
  if (record.kind === 'cluster') {
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: record.copyId }));
    const c = out.DBClusters?.[0];
    return {
      host: c?.Endpoint ?? '',
      port: c?.Port ?? 5432,
      user: c?.MasterUsername ?? 'postgres',
      database: c?.DatabaseName ?? 'postgres',
      arn: c?.DBClusterArn,
    };
  }
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: record.copyId }));
  const i = out.DBInstances?.[0];
  return {
    host: i?.Endpoint?.Address ?? '',
    port: i?.Endpoint?.Port ?? 5432,
    user: i?.MasterUsername ?? 'postgres',
    database: i?.DBName ?? 'postgres',
    arn: i?.DBInstanceArn,
  };
}

/** Records the verdict once (the winner of the state change publishes), then removes the copy. */
async function finish(
  record: VerificationRecord,
  result: { passed: boolean; reason: string },
  deps: VerifyDeps,
  { copyExists = true }: { copyExists?: boolean } = {},
): Promise<void> {
  const now = deps.clock();
  const state = result.passed ? 'verified' : 'failed';
  const minutes = (record.availableAt ?? now) - record.requestedAt;
  // Tag and publish before the verdict is recorded: if either fails, the record still says the check is
  // due, the next tick runs it again, and the event is not lost (at least once).
  if (result.passed) {
    const copy = await endpointOf(record, deps.rds).catch(() => undefined);
    const arn =
      record.kind === 'cluster'
        ? copy?.arn?.replace(/:cluster:[^:]+$/, `:cluster-snapshot:${record.snapshotId}`)
        : copy?.arn?.replace(/:db:[^:]+$/, `:snapshot:${record.snapshotId}`);
    if (arn) {
      await deps.rds.send(
        new AddTagsToResourceCommand({
          ResourceName: arn,
          Tags: [{ Key: 'nightshift:verified-at', Value: new Date(now).toISOString() }],
        }),
      );
    }
  }
  await deps.publisher.publish({
    detailType: result.passed ? 'Restore Verified' : 'Restore Verification Failed',
    severity: result.passed ? 'info' : 'critical',
    eventKey: `restore-verify#${record.kind}#${record.copyId}#${result.passed ? 'verified' : 'failed'}`,
    detail: {
      database: record.database,
      snapshot: record.snapshotId,
      copy: record.copyId,
      reason: result.reason,
      restoreMinutes: Math.round(minutes / 60_000),
    },
  });
  if (!(await deps.store.advance(record, { state, reason: result.reason }))) return;
  deps.metrics.add('RestoreVerified', result.passed ? 1 : 0, { database: record.database });
  deps.metrics.add('RestoreMinutes', minutes / 60_000, { database: record.database });
  await audit(
    deps,
    'verify',
    result.passed ? 'performed' : 'failed',
    record.database,
    `${record.snapshotId}: ${result.reason}`,
  );
  if (copyExists) await deleteCopy(record.copyId, record.kind, `its verification is done (${state})`, deps);
  else await deletePassword(record.copyId, deps.ssm);
}

/**
 * Deletes a copy, its one-time password first: if SSM fails, the copy stays and the next tick deletes both,
 * so the password never outlives its copy unnoticed (and the janitor removes any that did).
 */
async function deleteCopy(
  copyId: string,
  kind: DatabaseKind,
  reason: string,
  deps: VerifyDeps,
): Promise<void> {
  await deletePassword(copyId, deps.ssm);
  const tolerate = (names: string[]) => (error: unknown) => {
    if (!names.includes(awsErrorName(error) ?? '')) throw error;
  };
  if (kind === 'cluster') {
    // The instance first; RDS refuses to delete a cluster that still has one, so a later tick finishes.
    await deps.rds
      .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: clusterMemberId(copyId) }))
      .catch(tolerate(['DBInstanceNotFoundFault', 'InvalidDBInstanceStateFault']));
    await deps.rds
      .send(new DeleteDBClusterCommand({ DBClusterIdentifier: copyId, SkipFinalSnapshot: true }))
      .catch(tolerate(['DBClusterNotFoundFault', 'InvalidDBClusterStateFault']));
  } else {
    await deps.rds
      .send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: copyId,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      )
      .catch(tolerate(['DBInstanceNotFoundFault', 'InvalidDBInstanceStateFault']));
  }
  await audit(deps, 'delete-copy', 'performed', copyId, `deleted ${copyId}: ${reason}`);
}
