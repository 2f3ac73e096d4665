import { readFileSync } from 'node:fs';
import { AuditLog } from '#shared/audit';
import { documentClient, eventBridgeClient, rdsClient, ssmClient } from '#shared/clients';
import { readRunbookEnvironment, requiredEnv } from '#shared/env';
import { ConfigurationError } from '#shared/errors';
import { observability, runbookHandler, runbookMetrics } from '#shared/middleware';
import { EventPublisher } from '#shared/publisher';
import { lastDue } from '#shared/schedule';
import { scheduledTime } from '#shared/scheduled-event';
import { systemClock } from '#shared/time';
import { parseVerifyRuntimeConfig } from './config.ts';
import { RUNBOOK, runVerifyTick } from './runbook.ts';
import { VerificationStore } from './store.ts';

const env = readRunbookEnvironment();
const config = parseVerifyRuntimeConfig(env.runbookConfig);
const caBundle = readFileSync(requiredEnv('NIGHTSHIFT_RDS_CA_BUNDLE'), 'utf8');
const o = observability(RUNBOOK);

/** Lambda entry: the reconciler's frequent `Scheduled Event` tick. */
export const handler = runbookHandler(o, async ({ event, redrive }) => {
  // The tick's time is only checked: what is due is decided by the real clock, never by the event.
  const now = systemClock();
  scheduledTime(event, { now, bounds: env.eventTimeBounds, origin: env.origin, redrive });
  const dueSince = lastDue(config.schedule, now);
  if (dueSince === undefined)
    throw new ConfigurationError(`schedule ${config.schedule} is not a cron or rate expression`);
  const result = await runVerifyTick({
    rds: rdsClient(),
    ssm: ssmClient(),
    store: new VerificationStore(documentClient(), env.stateTableName),
    audit: new AuditLog(documentClient(), env.stateTableName, config.auditRetentionDays),
    publisher: new EventPublisher(eventBridgeClient(), env.eventBusName),
    metrics: runbookMetrics(o.metrics),
    clock: systemClock,
    config,
    killSwitchParameter: env.killSwitchParameter,
    caBundle,
    dueSince,
  });
  o.logger.info('restore-verify tick', {
    outcome: result.outcome,
    actions: result.actions.map((a) => a.kind),
  });
  return {
    outcome: result.outcome,
    actions: result.actions.map((a) => ({ kind: a.kind, reason: a.reason })),
  };
});
