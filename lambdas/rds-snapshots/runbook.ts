import type { RDSClient } from '@aws-sdk/client-rds';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AuditLog } from '#shared/audit';
import { mapLimit } from '#shared/concurrency';
import { awsErrorName, NightshiftError } from '#shared/errors';
import { readKillSwitch } from '#shared/kill-switch';
import type { RunbookMetrics } from '#shared/middleware';
import type { EventPublisher } from '#shared/publisher';
import { listDatabases, listSnapshots, selectTargets } from '#shared/rds-inventory';
import { type Clock, iso } from '#shared/time';
import type { SnapshotRuntimeConfig } from './config.ts';
import {
  type CreateAction,
  type DeleteAction,
  planSnapshots,
  type SnapshotAlert,
  type SnapshotPlan,
} from './plan.ts';
import { type CreateOutcome, createSnapshot, deleteSnapshot } from './rds.ts';

export const RUNBOOK = 'rds-snapshots';

export interface SnapshotDeps {
  readonly rds: RDSClient;
  readonly ssm: SSMClient;
  readonly audit: AuditLog;
  readonly publisher: EventPublisher;
  readonly metrics: RunbookMetrics;
  readonly clock: Clock;
  readonly config: SnapshotRuntimeConfig;
  readonly killSwitchParameter: string;
  /**
   * The scheduled time of this run, already bounded by the handler: identity only. It names the run's
   * snapshots and its run id, so a retry or a second delivery of the same run takes no second snapshot; the
   * plan's "now" is always {@link clock}.
   */
  readonly scheduledAt: number;
}

export interface SnapshotRunResult {
  readonly runbook: typeof RUNBOOK;
  readonly plan: SnapshotPlan;
  readonly outcome: 'performed' | 'planned';
  /** Snapshots this invocation took. */
  readonly created: number;
  /** Snapshots this invocation deleted. */
  readonly deleted: number;
  /** Planned creates and deletes another delivery of the same run (or a person) had already done. */
  readonly alreadyDone: number;
  readonly failed: number;
  readonly skipped: number;
  readonly reason: string;
}

/** observe → plan → act for one scheduled snapshot run. */
export async function runSnapshotRunbook(deps: SnapshotDeps): Promise<SnapshotRunResult> {
  const { config } = deps;
  const [databases, snapshots] = await Promise.all([listDatabases(deps.rds), listSnapshots(deps.rds)]);
  const { targets, missing } = selectTargets(databases, config.targets);
  // The real clock decides what expired and what tier is due; the event's time only names the run.
  const now = deps.clock();
  const { scheduledAt } = deps;
  const runId = `run-${iso(scheduledAt)}`;
  const plan = planSnapshots({
    now,
    scheduledAt,
    runId,
    rules: {
      retention: config.retention,
      maxDeletionsPerRun: config.maxDeletionsPerRun,
      quota: config.quota,
    },
    targets,
    snapshots,
  });
  const alerts: SnapshotAlert[] = [
    ...missing.map((m) => ({
      severity: 'critical' as const,
      subject: `missing#${m}`,
      reason: `${m} is configured as a snapshot target but does not exist`,
    })),
    ...plan.alerts,
  ];

  // Age of each target's newest available snapshot before this run: what the dead-man's switch watches.
  for (const t of targets) {
    const newest = Math.max(
      0,
      ...snapshots
        .filter((s) => s.kind === t.kind && s.database === t.id && s.status === 'available')
        .map((s) => s.createdAt),
    );
    if (newest > 0) deps.metrics.add('SnapshotAgeHours', (now - newest) / 3_600_000, { database: t.id });
  }

  const killSwitch = await readKillSwitch(deps.ssm, deps.killSwitchParameter);
  const hold = killSwitch.engaged ? killSwitch.reason : config.dryRun ? 'dry-run' : undefined;
  const record = (
    action: string,
    outcome: 'performed' | 'planned' | 'skipped' | 'failed',
    subject: string,
    reason: string,
    details?: Record<string, unknown>,
  ) => deps.audit.record({ runbook: RUNBOOK, action, outcome, subject, reason, details }, deps.clock());

  if (hold !== undefined) {
    const reason = `would delete ${plan.deletes.length} and create ${plan.creates.length} snapshot(s) — not carried out: ${hold}`;
    await record('snapshot-run', 'planned', 'all', reason, {
      deletes: plan.deletes.map((d) => d.snapshot.id),
      creates: plan.creates.map((c) => c.snapshotId),
    });
    return {
      runbook: RUNBOOK,
      plan,
      outcome: 'planned',
      created: 0,
      deleted: 0,
      alreadyDone: 0,
      failed: 0,
      skipped: 0,
      reason,
    };
  }

  // What THIS invocation did, counted as each call returns (a failing audit write afterwards does not hide it).
  // Another delivery of the same scheduled event may be acting at the same time (EventBridge delivers at
  // least once): what it did first counts as done here, never as done by this invocation.
  const done = { created: 0, deleted: 0, alreadyTaken: 0, alreadyDeleted: 0, quotaSkipped: 0 };

  // Prune first: it makes room under the quota for this run's snapshots.
  const deletions = await mapLimit(plan.deletes, config.concurrency, async (d: DeleteAction) => {
    const outcome = await deleteSnapshot(deps.rds, d.snapshot);
    if (outcome === 'deleted') {
      done.deleted += 1;
      await record(
        'delete-snapshot',
        'performed',
        d.snapshot.database,
        `deleted ${d.snapshot.id}: ${d.reason}`,
      );
      return;
    }
    done.alreadyDeleted += 1;
    await record(
      'delete-snapshot',
      'skipped',
      d.snapshot.database,
      `${d.snapshot.id} ${outcome === 'already-gone' ? 'is already gone' : 'is already being deleted'} (by another delivery of this run, or by hand): ${d.reason}`,
    );
  });
  const creations = await mapLimit(plan.creates, config.concurrency, async (c: CreateAction) => {
    let outcome: CreateOutcome;
    try {
      outcome = await createSnapshot(deps.rds, c);
    } catch (error) {
      const name = awsErrorName(error);
      if (!name?.startsWith('SnapshotQuotaExceeded')) throw error;
      done.quotaSkipped += 1;
      alerts.push({
        severity: 'critical',
        subject: `${c.target.kind}#${c.target.id}`,
        database: c.target.id,
        reason: `no snapshot of ${c.target.id}: RDS refused it, the manual snapshot quota is full (${name})`,
      });
      await record('create-snapshot', 'skipped', c.target.id, `quota full: ${c.snapshotId} not created`);
      return;
    }
    if (outcome === 'created') {
      done.created += 1;
      await record('create-snapshot', 'performed', c.target.id, `created ${c.snapshotId}: ${c.reason}`, {
        tier: c.tier,
      });
      return;
    }
    done.alreadyTaken += 1;
    await record(
      'create-snapshot',
      'skipped',
      c.target.id,
      `${c.snapshotId} already taken by another delivery (or an earlier attempt) of this run: it carries run id ${runId}`,
    );
  });
  const failures = [...deletions, ...creations].filter(
    (r): r is PromiseRejectedResult => r.status === 'rejected',
  );
  for (const f of failures) {
    const error = f.reason as Error;
    await record('snapshot-action', 'failed', 'run', `${error.name}: ${error.message}`);
  }
  for (const alert of alerts) {
    await deps.publisher.publish({
      detailType: alert.severity === 'critical' ? 'Snapshot Skipped' : 'Snapshot Quota Warning',
      severity: alert.severity,
      eventKey: `rds-snapshots#${alert.subject}#${runId}#${alert.severity === 'critical' ? 'skipped' : 'quota-warning'}`,
      detail: { database: alert.database, reason: alert.reason, runId },
    });
  }
  const { created, deleted } = done;
  const alreadyDone = done.alreadyTaken + done.alreadyDeleted;
  const reason = `created ${created}, deleted ${deleted}, already done by another delivery ${alreadyDone} (${done.alreadyTaken} snapshot(s) taken, ${done.alreadyDeleted} deletion(s)), kept ${plan.kept.length} expired, ${alerts.filter((a) => a.severity === 'critical').length} alert(s), ${failures.length} failure(s)`;
  await record('snapshot-run', failures.length === 0 ? 'performed' : 'failed', 'all', reason);
  await deps.publisher.publish({
    detailType: 'Snapshot Run Completed',
    eventKey: `rds-snapshots#run#${runId}#${failures.length === 0 ? 'completed' : 'completed-with-failures'}`,
    severity: failures.length === 0 ? 'info' : 'warning',
    detail: { runId, created, deleted, alreadyDone, failed: failures.length, reason },
  });
  if (failures.length > 0) {
    // Fail the invocation (error alarm, retry): the retry re-observes and converges, reusing this run's names.
    throw new SnapshotRunError(
      `snapshot run ${runId} finished with ${failures.length} failure(s): ${reason}`,
    );
  }
  deps.metrics.add('SnapshotRunSucceeded', 1);
  const planned = plan.alerts.filter((a) => a.severity === 'critical').length;
  return {
    runbook: RUNBOOK,
    plan,
    outcome: 'performed',
    created,
    deleted,
    alreadyDone,
    failed: 0,
    skipped: planned + done.quotaSkipped,
    reason,
  };
}

/** A run that could not carry out every action; what it did is recorded, the retry converges. */
export class SnapshotRunError extends NightshiftError {
  override readonly name: string = 'SnapshotRunError';
}
