import { readFileSync } from 'node:fs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { AuditLog } from '#shared/audit';
import { documentClient, ecsClient, eventBridgeClient, ssmClient } from '#shared/clients';
import { readRunbookEnvironment } from '#shared/env';
import { observability, runbookHandler, runbookMetrics } from '#shared/middleware';
import { pace, TokenBucket } from '#shared/pacing';
import { EventPublisher } from '#shared/publisher';
import { scheduledTime } from '#shared/scheduled-event';
import { systemClock } from '#shared/time';
import { isBootstrapRequest, runBootstrap } from './bootstrap.ts';
import { parseRotationRuntimeConfig } from './config.ts';
import { kindSteps } from './kinds.ts';
import { RotationLocks } from './lock.ts';
import { type RedeployOutcome, rotateAndRedeploy } from './redeploy.ts';
import { RedeployStore } from './redeploy-store.ts';
import { type RotateOutcome, RUNBOOK } from './rotate.ts';

const env = readRunbookEnvironment();
const config = parseRotationRuntimeConfig(env.runbookConfig);
const o = observability(RUNBOOK);
// One bucket per container: secrets falling due together stay under SSM's throughput, leaving the rest
// of the account's quota to the apps that read their parameters.
const ssm = pace(ssmClient(), new TokenBucket(config.ssmRequestsPerSecond));
// The database kinds verify TLS against the bundle shipped beside the code (the construct sets the path).
const caFile = process.env.NIGHTSHIFT_RDS_CA_BUNDLE;
const caBundle = caFile ? readFileSync(caFile, 'utf8') : undefined;
// A Lambda test's client, made when a secret first needs it.
let lambda: LambdaClient | undefined;
const lambdaClient = () => {
  lambda ??= new LambdaClient({});
  return lambda;
};
const kinds = kindSteps({ ...(caBundle === undefined ? {} : { caBundle }), lambda: lambdaClient });

/** A rotation run failed for one or more secrets (each has its `Rotation Failed` or `Consumers Redeploy Failed` event). */
class RotationRunError extends Error {
  override readonly name = 'RotationRunError';
}

/**
 * Lambda entry: the rotation schedule's `Scheduled Event`, every configured secret one after another; or an
 * operator's direct invoke `{ "bootstrap": { "parameter": "…", "apply": false } }` (see `bootstrap.ts`).
 */
export const handler = runbookHandler(o, async ({ event, redrive }, context) => {
  const shared = {
    ssm,
    locks: new RotationLocks(documentClient(), env.stateTableName),
    events: new EventPublisher(eventBridgeClient(), env.eventBusName),
    audit: new AuditLog(documentClient(), env.stateTableName, config.auditRetentionDays),
    clock: systemClock,
    killSwitchParameter: env.killSwitchParameter,
    dryRun: config.dryRun,
  };
  if (isBootstrapRequest(event)) {
    const out = await runBootstrap(event, config.secrets, {
      ...shared,
      // The rotation lock's owner while apply holds it.
      owner: context.awsRequestId,
      ...(caBundle ? { caBundle } : {}),
      // Redriven from the dead-letter queue: a dry run answers again, an apply is refused.
      redriven: redrive !== undefined,
    });
    o.logger.info('bootstrap finished', { parameter: out.parameter, outcome: out.outcome });
    return out;
  }
  scheduledTime(event, { now: systemClock(), bounds: env.eventTimeBounds, origin: env.origin, redrive });
  const deps = {
    ...shared,
    owner: context.awsRequestId,
    leaseMs: config.leaseSeconds * 1000,
    kinds,
    metrics: runbookMetrics(o.metrics),
    ecs: ecsClient(),
    redeploys: new RedeployStore(documentClient(), env.stateTableName),
  };
  const outcomes: {
    parameter: string;
    outcome: RotateOutcome['outcome'] | 'failed';
    redeploy?: RedeployOutcome;
    reason?: string;
  }[] = [];
  for (const secret of config.secrets) {
    try {
      const out = await rotateAndRedeploy(secret, deps);
      outcomes.push({
        parameter: secret.parameter,
        outcome: out.rotation.outcome,
        ...(out.redeploy.outcome === 'none' ? {} : { redeploy: out.redeploy }),
      });
    } catch (error) {
      // One secret's failure never stops the others; the run fails at the end so it is retried.
      outcomes.push({
        parameter: secret.parameter,
        outcome: 'failed',
        reason: `${(error as Error).name}: ${(error as Error).message.slice(0, 300)}`,
      });
    }
  }
  // Outcomes name parameters and reasons, never values.
  o.logger.info('rotation run finished', { outcomes });
  const failed = outcomes.filter((x) => x.outcome === 'failed');
  if (failed.length > 0) {
    throw new RotationRunError(
      `rotation failed for ${failed.map((f) => `${f.parameter} (${f.reason})`).join('; ')}`,
    );
  }
  return { outcomes };
});
