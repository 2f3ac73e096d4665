import { randomBytes } from 'node:crypto';
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  type DBCluster,
  type DBInstance,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
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
import type { RunbookMetrics } from '#shared/middleware';
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
export class VerifyTickError extends NightshiftError {
  override readonly name: string = 'VerifyTickError';
}

/** The runbook's settings, from the construct. */
export interface VerifyRuntimeConfig {
  readonly dryRun: boolean;
  readonly targets: TargetSelection;
  readonly instanceClass: string;
  /** Class of the one instance added to a restored Aurora cluster. @default 'db.t4g.medium' */
  readonly clusterInstanceClass?: string;
  readonly subnetGroupName?: string;
  readonly securityGroupIds: readonly string[];
  readonly checks: readonly Check[];
  readonly restoreTimeoutMinutes: number;
  readonly instanceTtlHours: number;
}

export interface VerifyDeps {
  readonly rds: RDSClient;
  readonly ssm: SSMClient;
  readonly store: VerificationStore;
  readonly audit: AuditLog;
  readonly publisher: EventPublisher;
  readonly metrics: RunbookMetrics;
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
  const newest = new Map<string, { snapshotId: string; createdAt: number; kind: 'instance' | 'cluster' }>();
  for (const s of snapshots) {
    if (s.status !== 'available' || !isNightshiftSnapshot(s)) continue;
    const best = newest.get(s.database);
    if (!best || s.createdAt > best.createdAt)
      newest.set(s.database, { snapshotId: s.id, createdAt: s.createdAt, kind: s.kind });
  }
  const copies = await observeCopies(deps.rds);
  copyKinds = new Map(copies.map((c) => [c.id, c.kind]));
  const instances = copies.map(({ kind: _kind, ...view }) => view);
  const actions = planVerification({
    now,
    dueSince: deps.dueSince,
    rules: {
      restoreTimeoutMs: deps.config.restoreTimeoutMinutes * 60_000,
      instanceTtlMs: deps.config.instanceTtlHours * 3_600_000,
    },
    targets: targets.map((t) => t.id),
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

/** Which temporary copies are clusters; set by each tick's observation for its actions. */
let copyKinds = new Map<string, 'instance' | 'cluster'>();

/** The member instance added to a restored cluster (RDS serves a cluster through its instances). */
export const clusterMemberId = (copyId: string) =>
  copyId.length <= 61 ? `${copyId}-1` : `${copyId.slice(0, 59)}-1`;

/**
 * Temporary copies: instances named `nightshift-verify-*`, and clusters of that name, which count as
 * available once a member instance is; a password change RDS has not applied yet keeps a copy waiting.
 */
async function observeCopies(rds: RDSClient) {
  const instances: DBInstance[] = [];
  let marker: string | undefined;
  do {
    const page = await rds.send(new DescribeDBInstancesCommand({ MaxRecords: 100, Marker: marker }));
    instances.push(...(page.DBInstances ?? []));
    marker = page.Marker;
  } while (marker);
  const clusters: DBCluster[] = [];
  marker = undefined;
  do {
    const page: { DBClusters?: DBCluster[]; Marker?: string } = await rds.send(
      new DescribeDBClustersCommand({ MaxRecords: 100, Marker: marker }),
    );
    clusters.push(...(page.DBClusters ?? []));
    marker = page.Marker;
  } while (marker);
  const expiry = (tags: { Key?: string; Value?: string }[] | undefined) => {
    const ms = Date.parse(tags?.find((t) => t.Key === 'nightshift:expires-at')?.Value ?? '');
    return Number.isNaN(ms) ? undefined : ms;
  };
  const waiting = (status: string, pending: boolean) =>
    pending && status === 'available' ? 'resetting-master-credentials' : status;
  return [
    ...instances
      .filter((i) => !i.DBClusterIdentifier && i.DBInstanceIdentifier?.startsWith(VERIFY_PREFIX))
      .map((i) => ({
        id: i.DBInstanceIdentifier ?? '',
        kind: 'instance' as const,
        status: waiting(i.DBInstanceStatus ?? '', i.PendingModifiedValues?.MasterUserPassword !== undefined),
        expiresAt: expiry(i.TagList),
      })),
    ...clusters
      .filter((c) => c.DBClusterIdentifier?.startsWith(VERIFY_PREFIX))
      .map((c) => {
        const member = instances.find((i) => i.DBClusterIdentifier === c.DBClusterIdentifier);
        const status =
          c.Status === 'available' && member?.DBInstanceStatus !== 'available'
            ? 'creating'
            : (c.Status ?? '');
        return {
          id: c.DBClusterIdentifier ?? '',
          kind: 'cluster' as const,
          status: waiting(status, c.PendingModifiedValues?.MasterUserPassword !== undefined),
          expiresAt: expiry(c.TagList),
        };
      }),
  ];
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
        kind: action.databaseKind,
      };
      if (!(await deps.store.start(record, now))) return;
      const tags = [
        { Key: 'nightshift:managed', Value: 'true' },
        { Key: 'nightshift:source-db', Value: action.database },
        { Key: 'nightshift:expires-at', Value: new Date(action.expiresAt).toISOString() },
        { Key: 'nightshift:run-id', Value: `verify-${new Date(deps.dueSince).toISOString()}` },
      ];
      try {
        if (action.databaseKind === 'cluster') {
          // An Aurora copy: the cluster, then one small instance to serve it.
          await deps.rds.send(
            new RestoreDBClusterFromSnapshotCommand({
              DBClusterIdentifier: action.instanceId,
              SnapshotIdentifier: action.snapshotId,
              Engine: 'aurora-postgresql',
              DBSubnetGroupName: deps.config.subnetGroupName,
              VpcSecurityGroupIds:
                deps.config.securityGroupIds.length > 0 ? [...deps.config.securityGroupIds] : undefined,
              Tags: tags,
            }),
          );
          await deps.rds.send(
            new CreateDBInstanceCommand({
              DBInstanceIdentifier: clusterMemberId(action.instanceId),
              DBClusterIdentifier: action.instanceId,
              Engine: 'aurora-postgresql',
              DBInstanceClass: deps.config.clusterInstanceClass ?? 'db.t4g.medium',
              PubliclyAccessible: false,
              Tags: tags,
            }),
          );
        } else {
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
              Tags: tags,
            }),
          );
        }
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
        // An Aurora copy's master password belongs to the cluster, not to its instance.
        if (action.record.kind === 'cluster') {
          await deps.rds.send(
            new ModifyDBClusterCommand({
              DBClusterIdentifier: action.record.instanceId,
              MasterUserPassword: password,
              ApplyImmediately: true,
            }),
          );
        } else {
          await deps.rds.send(
            new ModifyDBInstanceCommand({
              DBInstanceIdentifier: action.record.instanceId,
              MasterUserPassword: password,
              ApplyImmediately: true,
            }),
          );
        }
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
  const endpoint = await endpointOf(record, deps.rds);
  const parameter = await deps.ssm.send(
    new GetParameterCommand({ Name: passwordParameter(record.instanceId), WithDecryption: true }),
  );
  let result: { passed: boolean; reason: string };
  try {
    const values = await runChecks(
      {
        ...endpoint,
        password: parameter.Parameter?.Value ?? '',
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

/** Where to connect to a copy: an instance's endpoint, or an Aurora cluster's writer endpoint. */
async function endpointOf(record: VerificationRecord, rds: RDSClient) {
  if (record.kind === 'cluster') {
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: record.instanceId }));
    const c = out.DBClusters?.[0];
    return {
      host: c?.Endpoint ?? '',
      port: c?.Port ?? 5432,
      user: c?.MasterUsername ?? 'postgres',
      database: c?.DatabaseName ?? 'postgres',
      arn: c?.DBClusterArn,
    };
  }
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: record.instanceId }));
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
  const tolerate = (names: string[]) => (error: unknown) => {
    if (!names.includes(awsErrorName(error) ?? '')) throw error;
  };
  if (copyKinds.get(instanceId) === 'cluster') {
    // The instance first; RDS refuses to delete a cluster that still has one, so a later tick finishes.
    await deps.rds
      .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: clusterMemberId(instanceId) }))
      .catch(tolerate(['DBInstanceNotFoundFault', 'InvalidDBInstanceStateFault']));
    await deps.rds
      .send(new DeleteDBClusterCommand({ DBClusterIdentifier: instanceId, SkipFinalSnapshot: true }))
      .catch(tolerate(['DBClusterNotFoundFault', 'InvalidDBClusterStateFault']));
  } else {
    await deps.rds
      .send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: instanceId,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      )
      .catch(tolerate(['DBInstanceNotFoundFault', 'InvalidDBInstanceStateFault']));
  }
  await deps.ssm
    .send(new DeleteParameterCommand({ Name: passwordParameter(instanceId) }))
    .catch((error: unknown) => {
      if (awsErrorName(error) !== 'ParameterNotFound') throw error;
    });
  await audit(deps, 'delete-copy', 'performed', instanceId, `deleted ${instanceId}: ${reason}`);
}
