import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AuditLog } from '#shared/audit';
import { cloudWatchClient, documentClient, ecsClient, eventBridgeClient, ssmClient } from '#shared/clients';
import { readRunbookEnvironment } from '#shared/env';
import { observability, runbookHandler } from '#shared/middleware';
import { EventPublisher } from '#shared/publisher';
import { systemClock } from '#shared/time';
import {
  isManualConfigRollback,
  parseManualConfigRollback,
  runManualConfigRollback,
} from '../config-rollback/manual.ts';
import { RUNBOOK } from './act.ts';
import { claimTtlMs, parseRollbackRuntimeConfig } from './config.ts';
import { parseRollbackEvent } from './events.ts';
import { runRollbackRunbook } from './runbook.ts';
import { RollbackStore } from './store.ts';

const env = readRunbookEnvironment();
const config = parseRollbackRuntimeConfig(env.runbookConfig);
const o = observability(RUNBOOK);

/** Lambda entry: CloudWatch alarm state changes and ECS deployment state changes of configured services. */
export const handler = runbookHandler(o, async ({ event, redrive }, context) => {
  const deps = {
    ecs: ecsClient(),
    ssm: ssmClient(),
    cloudwatch: cloudWatchClient(),
    store: new RollbackStore(documentClient(), env.stateTableName, claimTtlMs(config)),
    audit: new AuditLog(documentClient(), env.stateTableName, config.auditRetentionDays),
    publisher: new EventPublisher(eventBridgeClient(), env.eventBusName),
    clock: systemClock,
    owner: context.awsRequestId,
    leaseMs: config.leaseSeconds * 1000,
    config,
    killSwitchParameter: env.killSwitchParameter,
  };
  // An operator's direct invoke (see config-rollback/manual.ts), or an event: shape, sizes, account and
  // Region, and event times against the real clock, all checked before anything is read.
  const result = isManualConfigRollback(event)
    ? await runManualConfigRollback(parseManualConfigRollback(event), deps, redrive !== undefined)
    : await runRollbackRunbook(
        parseRollbackEvent(event, {
          now: systemClock(),
          bounds: env.eventTimeBounds,
          origin: env.origin,
          redrive,
        }),
        deps,
      );
  // `service` is Powertools' own key (the logger drops it, metrics overwrite their default dimension, both
  // with a warning): the service a rollback guards has its own name.
  o.metrics.addDimension('guardedService', result.service);
  o.metrics.addMetric(`outcome_${result.result.outcome}`, MetricUnit.Count, 1);
  o.logger.info(`ecs-rollback finished for ${result.service}`, {
    guardedService: result.service,
    event: result.event,
    plan: result.plan?.kind,
    outcome: result.result.outcome,
    reason: result.result.reason,
    mode: result.mode,
  });
  return result;
});
