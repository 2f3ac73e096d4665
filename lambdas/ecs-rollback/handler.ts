import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { AuditLog } from '#shared/audit';
import { documentClient, ecsClient, eventBridgeClient, ssmClient } from '#shared/clients';
import { readRunbookEnvironment } from '#shared/env';
import { observability, runbookHandler } from '#shared/middleware';
import { EventPublisher } from '#shared/publisher';
import { systemClock } from '#shared/time';
import { RUNBOOK } from './act.ts';
import { parseRollbackRuntimeConfig } from './config.ts';
import { parseRollbackEvent } from './events.ts';
import { runRollbackRunbook } from './runbook.ts';
import { RollbackStore } from './store.ts';

const env = readRunbookEnvironment();
const config = parseRollbackRuntimeConfig(env.runbookConfig);
const o = observability(RUNBOOK);

/** Lambda entry: CloudWatch alarm state changes and ECS deployment state changes of configured services. */
export const handler = runbookHandler(o, async ({ event }, context) => {
  const parsed = parseRollbackEvent(event);
  const result = await runRollbackRunbook(parsed, {
    ecs: ecsClient(),
    ssm: ssmClient(),
    store: new RollbackStore(documentClient(), env.stateTableName),
    audit: new AuditLog(documentClient(), env.stateTableName, config.auditRetentionDays),
    publisher: new EventPublisher(eventBridgeClient(), env.eventBusName),
    clock: systemClock,
    owner: context.awsRequestId,
    leaseMs: config.leaseSeconds * 1000,
    config,
    killSwitchParameter: env.killSwitchParameter,
  });
  o.metrics.addDimension('service', result.service);
  o.metrics.addMetric(`outcome_${result.result.outcome}`, MetricUnit.Count, 1);
  o.logger.info('ecs-rollback finished', {
    service: result.service,
    event: result.event,
    plan: result.plan?.kind,
    outcome: result.result.outcome,
    reason: result.result.reason,
    mode: result.mode,
  });
  return result;
});
