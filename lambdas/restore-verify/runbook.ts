import { randomBytes } from 'node:crypto';
import {
  AddTagsToResourceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { AuditLog } from '#shared/audit';
import { awsErrorName, NightshiftError } from '#shared/errors';
import { readKillSwitch } from '#shared/kill-switch';
import type { EventPublisher } from '#shared/publisher';
import type { Clock } from '#shared/time';
import { isNightshiftSnapshot } from '../rds-snapshots/plan.ts';
import { listDatabases, listSnapshots } from '../rds-snapshots/rds.ts';
import { selectTargets, type TargetSelection } from '../rds-snapshots/targets.ts';
import { type Check, DEFAULT_CHECKS, judge, verdict } from './checks.ts';
import { runChecks } from './database.ts';
import { VERIFY_PREFIX } from './identifiers.ts';
import { planVerification, type VerificationRecord, type VerifyAction } from './plan.ts';
import type { VerificationStore } from './store.ts';

export const RUNBOOK = 'restore-verify';

/** A tick some of whose actions failed; the others were carried out, the next tick converges. */
export class VerifyTickError extends NightshiftError {}

/** The runbook's settings, from the construct. */
export interface VerifyRuntimeConfig {
  readonly dryRun: boolean;
  readonly targets: TargetSelection;
  readonly instanceClass: string;
  readonly subnetGroupName?: string;
  readonly securityGroupIds: readonly string[];
  readonly checks: readonly Check[];
  readonly restoreTimeoutMinutes: number;
  readonly instanceTtlHours: number;
}

export interface VerifyMetrics {
  add(name: string, value: number, dimensions?: Record<string, string>): void;
}

export interface VerifyDeps {
  readonly rds: RDSClient;
  readonly ssm: SSMClient;
  readonly store: VerificationStore;
  readonly audit: AuditLog;
  readonly publisher: EventPublisher;
  readonly metrics: VerifyMetrics;
  readonly clock: Clock;
  readonly config: VerifyRuntimeConfig;
  readonly killSwitchParameter: string;
  /** PEM of the CA bundle RDS server certificates chain to. */
  readonly caBundle: string;
  /** When the verification schedule last came due. */
  readonly dueSince: number;
}

/** Where a temporary copy's one-time password lives while it is needed (deleted with the copy). */
export const passwordParameter = (instanceId: string) => `/nightshift/restore-verify/${instanceId}`;

/** observe → plan → act: one reconcile tick of restore verification. */
export async function runVerifyTick(
  deps: VerifyDeps,
): Promise<{ actions: VerifyAction[]; outcome: 'performed' | 'planned' }> {
  const now = deps.clock();
  const [databases, snapshots, records] = await Promise.all([
    listDatabases(deps.rds),
    listSnapshots(deps.rds),
    deps.store.list(),
  ]);
  const { targets } = selectTargets(databases, deps.config.targets);
  const newest = new Map<string, { snapshotId: string; createdAt: number }>();
  for (const s of snapshots) {
    if (s.kind !== 'instance' || s.status !== 'available' || !isNightshiftSnapshot(s)) continue;
    const best = newest.get(s.database);
    if (!best || s.createdAt > best.createdAt)
      newest.set(s.database, { snapshotId: s.id, createdAt: s.createdAt });
  }
  const instances = databases
    .filter((d) => d.kind === 'instance' && d.id.startsWith(VERIFY_PREFIX))
    .map((d) => {
      const expires = Date.parse(d.tags['nightshift:expires-at'] ?? '');
      // A password change RDS has not applied yet: the copy is not ready for the checks.
      const status =
        d.pendingPassword && d.status === 'available' ? 'resetting-master-credentials' : d.status;
      return { id: d.id, status, expiresAt: Number.isNaN(expires) ? undefined : expires };
    });
  const actions = planVerification({
    now,
    dueSince: deps.dueSince,
    rules: {
      restoreTimeoutMs: deps.config.restoreTimeoutMinutes * 60_000,
      instanceTtlMs: deps.config.instanceTtlHours * 3_600_000,
    },
    targets: targets.filter((t) => t.kind === 'instance').map((t) => t.id),
    snapshots: [...newest].map(([database, s]) => ({ database, ...s })),
    records,
    instances,
  });
  const killSwitch = await readKillSwitch(deps.ssm, deps.killSwitchParameter);
  const hold = killSwitch.engaged ? killSwitch.reason : deps.config.dryRun ? 'dry-run' : undefined;
  if (hold !== undefined) {
    for (const a of actions)
      await audit(deps, a.kind, 'planned', subjectOf(a), `${a.reason} — not carried out: ${hold}`);
    return { actions, outcome: 'planned' };
  }
  // One action's failure must not hold up the others (least of all the deletes); each is recorded.
  const failures: string[] = [];
  for (const action of actions) {
    try {
      await act(action, deps);
    } catch (error) {
      const why = `${(error as Error).name}: ${(error as Error).message}`;
      failures.push(`${action.kind} ${subjectOf(action)}: ${why}`);
      await audit(
        deps,
        action.kind,
        'failed',
        subjectOf(action),
        `${action.reason} — failed, retried next tick: ${why}`,
      );
    }
  }
  if (failures.length > 0)
    throw new VerifyTickError(`${failures.length} action(s) failed: ${failures.join('; ')}`);
  return { actions, outcome: 'performed' };
}

function subjectOf(a: VerifyAction): string {
  return 'record' in a ? a.record.database : 'database' in a ? a.database : a.instanceId;
}

function audit(
  deps: VerifyDeps,
  action: string,
  outcome: 'performed' | 'planned' | 'skipped' | 'failed',
  subject: string,
  reason: string,
) {
  return deps.audit.record({ runbook: RUNBOOK, action, outcome, subject, reason }, deps.clock());
}

async function act(action: VerifyAction, deps: VerifyDeps): Promise<void> {
  const now = deps.clock();
  switch (action.kind) {
    case 'restore': {
      const record: VerificationRecord = {
        database: action.database,
        snapshotId: action.snapshotId,
        snapshotTime: action.snapshotTime,
        instanceId: action.instanceId,
        requestedAt: now,
        state: 'restoring',
      };
      if (!(await deps.store.start(record, now))) return;
      try {
        await deps.rds.send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier: action.instanceId,
            DBSnapshotIdentifier: action.snapshotId,
            DBInstanceClass: deps.config.instanceClass,
            DBSubnetGroupName: deps.config.subnetGroupName,
            VpcSecurityGroupIds:
              deps.config.securityGroupIds.length > 0 ? [...deps.config.securityGroupIds] : undefined,
            PubliclyAccessible: false,
            MultiAZ: false,
            Tags: [
              { Key: 'nightshift:managed', Value: 'true' },
              { Key: 'nightshift:source-db', Value: action.database },
              { Key: 'nightshift:expires-at', Value: new Date(action.expiresAt).toISOString() },
              { Key: 'nightshift:run-id', Value: `verify-${new Date(deps.dueSince).toISOString()}` },
            ],
          }),
        );
      } catch (error) {
        const why = `${(error as Error).name}: ${(error as Error).message}`;
        return finish(
          record,
          { passed: false, reason: `RDS refused the restore of ${action.snapshotId}: ${why}` },
          deps,
        );
      }
      await audit(deps, 'restore', 'performed', action.database, action.reason);
      return;
    }
    case 'reset-password': {
      if (
        !(await deps.store.advance(action.record.instanceId, 'restoring', {
          state: 'resetting',
          resetAt: now,
          availableAt: now,
        }))
      )
        return;
      // A one-time password for this copy only; it lives in SSM (SecureString) until the copy is deleted.
      const password = randomBytes(24).toString('base64url');
      try {
        await deps.ssm.send(
          new PutParameterCommand({
            Name: passwordParameter(action.record.instanceId),
            Value: password,
            Type: 'SecureString',
            Overwrite: true,
          }),
        );
        await deps.rds.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: action.record.instanceId,
            MasterUserPassword: password,
            ApplyImmediately: true,
          }),
        );
      } catch (error) {
        // RDS may refuse right after a restore (backing-up, modifying): try again on a later tick.
        await deps.store.advance(action.record.instanceId, 'resetting', { state: 'restoring' });
        throw error;
      }
      await audit(
        deps,
        'reset-password',
        'performed',
        action.record.database,
        `${action.record.instanceId}: one-time master password set (kept in SSM, never logged)`,
      );
      return;
    }
    case 'check':
      return check(action.record, deps);
    case 'fail':
      return finish(action.record, { passed: false, reason: action.reason }, deps);
    case 'no-snapshot': {
      const marker: VerificationRecord = {
        database: action.database,
        snapshotId: '',
        snapshotTime: 0,
        instanceId: `none-${action.database}-${deps.dueSince}`,
        requestedAt: now,
        state: 'failed',
        reason: action.reason,
      };
      if (!(await deps.store.start(marker, now))) return;
      await deps.publisher.publish({
        detailType: 'Restore Verification Failed',
        severity: 'critical',
        detail: { database: action.database, reason: action.reason },
      });
      deps.metrics.add('RestoreVerified', 0, { database: action.database });
      await audit(deps, 'verify', 'failed', action.database, action.reason);
      return;
    }
    case 'delete-instance':
      return deleteCopy(action.instanceId, action.reason, deps);
  }
}

async function check(record: VerificationRecord, deps: VerifyDeps): Promise<void> {
  const checks = deps.config.checks.length > 0 ? deps.config.checks : DEFAULT_CHECKS;
  const described = await deps.rds.send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: record.instanceId }),
  );
  const instance = described.DBInstances?.[0];
  const parameter = await deps.ssm.send(
    new GetParameterCommand({ Name: passwordParameter(record.instanceId), WithDecryption: true }),
  );
  let result: { passed: boolean; reason: string };
  try {
    const values = await runChecks(
      {
        host: instance?.Endpoint?.Address ?? '',
        port: instance?.Endpoint?.Port ?? 5432,
        user: instance?.MasterUsername ?? 'postgres',
        password: parameter.Parameter?.Value ?? '',
        database: instance?.DBName ?? 'postgres',
        caBundle: deps.caBundle,
      },
      checks,
    );
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
        `${record.instanceId}: one-time password not applied yet; retrying`,
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

/** Records the verdict once (the winner of the state change publishes), then removes the copy. */
async function finish(
  record: VerificationRecord,
  result: { passed: boolean; reason: string },
  deps: VerifyDeps,
): Promise<void> {
  const now = deps.clock();
  const state = result.passed ? 'verified' : 'failed';
  const minutes = (record.availableAt ?? now) - record.requestedAt;
  // Tag and publish before the verdict is recorded: if either fails, the record still says the check is
  // due, the next tick runs it again, and the event is not lost (at least once).
  if (result.passed) {
    const described = await deps.rds
      .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: record.instanceId }))
      .catch(() => undefined);
    const arn = described?.DBInstances?.[0]?.DBInstanceArn?.replace(
      /:db:[^:]+$/,
      `:snapshot:${record.snapshotId}`,
    );
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
    detail: {
      database: record.database,
      snapshot: record.snapshotId,
      copy: record.instanceId,
      reason: result.reason,
      restoreMinutes: Math.round(minutes / 60_000),
    },
  });
  if (!(await deps.store.advance(record.instanceId, record.state, { state, reason: result.reason }))) return;
  deps.metrics.add('RestoreVerified', result.passed ? 1 : 0, { database: record.database });
  deps.metrics.add('RestoreMinutes', minutes / 60_000, { database: record.database });
  await audit(
    deps,
    'verify',
    result.passed ? 'performed' : 'failed',
    record.database,
    `${record.snapshotId}: ${result.reason}`,
  );
  await deleteCopy(record.instanceId, `its verification is done (${state})`, deps);
}

async function deleteCopy(instanceId: string, reason: string, deps: VerifyDeps): Promise<void> {
  try {
    await deps.rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        SkipFinalSnapshot: true,
        DeleteAutomatedBackups: true,
      }),
    );
  } catch (error) {
    const name = awsErrorName(error);
    if (name !== 'DBInstanceNotFoundFault' && name !== 'InvalidDBInstanceStateFault') throw error;
  }
  await deps.ssm
    .send(new DeleteParameterCommand({ Name: passwordParameter(instanceId) }))
    .catch((error: unknown) => {
      if (awsErrorName(error) !== 'ParameterNotFound') throw error;
    });
  await audit(deps, 'delete-copy', 'performed', instanceId, `deleted ${instanceId}: ${reason}`);
}
