import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { cloudWatchClient, documentClient, ssmClient } from '#shared/clients';
import { readRunbookEnvironment } from '#shared/env';
import { observability, runbookHandler } from '#shared/middleware';
import { systemClock } from '#shared/time';
import { parseRouterRuntimeConfig } from '../alerts/config.ts';
import { routeEvent } from '../alerts/router.ts';
import { DigestStore, EpisodeStore } from '../alerts/state.ts';

const env = readRunbookEnvironment();
const config = parseRouterRuntimeConfig(env.runbookConfig);
const o = observability('alert-router');
const sqs = new SQSClient({});

/** Lambda entry: alarm state changes, `nightshift` events and failed ECS deployments, to receivers' queues. */
export const handler = runbookHandler(o, async ({ event, redrive }) => {
  const result = await routeEvent(event, {
    sqs,
    ssm: ssmClient(),
    cloudwatch: cloudWatchClient(),
    episodes: new EpisodeStore(documentClient(), env.stateTableName),
    digest: new DigestStore(documentClient(), env.stateTableName),
    clock: systemClock,
    config,
    origin: env.origin,
    bounds: env.eventTimeBounds,
    redrive,
  });
  o.metrics.addMetric(`alert_${result.outcome}`, MetricUnit.Count, 1);
  // The alert's text is not logged: reasons and descriptions may hold what users consider sensitive.
  o.logger.info(
    'alert routed',
    result.outcome === 'routed' ? { ...result, notes: result.notes.length } : result,
  );
  return result;
});
