import { AuditLog } from '#shared/audit';
import { documentClient, eventBridgeClient, rdsClient, ssmClient } from '#shared/clients';
import { readRunbookEnvironment } from '#shared/env';
import { observability, runbookHandler, runbookMetrics } from '#shared/middleware';
import { pace, TokenBucket } from '#shared/pacing';
import { EventPublisher } from '#shared/publisher';
import { scheduledTime } from '#shared/scheduled-event';
import { systemClock } from '#shared/time';
import { parseSnapshotRuntimeConfig } from './config.ts';
import { RUNBOOK, runSnapshotRunbook } from './runbook.ts';

const env = readRunbookEnvironment();
const config = parseSnapshotRuntimeConfig(env.runbookConfig);
const o = observability(RUNBOOK);
// One bucket per container: every RDS request of every invocation here is paced under the API's rate.
const rds = pace(rdsClient(), new TokenBucket(config.requestsPerSecond));

/** Lambda entry: the snapshot schedule's `Scheduled Event`. */
export const handler = runbookHandler(o, async ({ event, redrive }) => {
  const scheduledAt = scheduledTime(event, {
    now: systemClock(),
    bounds: env.eventTimeBounds,
    origin: env.origin,
    redrive,
  });
  const result = await runSnapshotRunbook({
    rds,
    ssm: ssmClient(),
    audit: new AuditLog(documentClient(), env.stateTableName, config.auditRetentionDays),
    publisher: new EventPublisher(eventBridgeClient(), env.eventBusName),
    metrics: runbookMetrics(o.metrics),
    clock: systemClock,
    config,
    killSwitchParameter: env.killSwitchParameter,
    scheduledAt,
  });
  o.logger.info('rds-snapshots finished', { outcome: result.outcome, reason: result.reason });
  return {
    ...result,
    plan: {
      creates: result.plan.creates.length,
      deletes: result.plan.deletes.length,
      kept: result.plan.kept.length,
      alerts: result.plan.alerts,
    },
  };
});
