import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Invocation, unwrapInvocation } from './invocation.ts';

/** Logger and metrics of one runbook, configured once per container. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function observability(runbook: string): Observability {
  return {
    logger: new Logger({ serviceName: `nightshift-${runbook}` }),
    metrics: new Metrics({ namespace: 'Nightshift', serviceName: runbook }),
  };
}

/** Wraps a handler with the cross-cutting concerns every runbook shares: context in logs, EMF metrics. */
export function runbookHandler<TResult>(
  o: Observability,
  handle: (invocation: Invocation, context: Context) => Promise<TResult>,
): middy.MiddyfiedHandler<unknown, TResult, Error, Context> {
  return middy<unknown, TResult, Error, Context>((event: unknown, context: Context) =>
    handle(unwrapInvocation(event), context),
  )
    .use(injectLambdaContext(o.logger))
    .use(logMetrics(o.metrics))
    .use({
      onError: async (request) => {
        // The event is not logged: it may carry values users consider sensitive (alarm reasons, tags).
        o.logger.error('runbook failed; nothing further was changed by this invocation', {
          error: request.error ?? undefined,
        });
      },
    });
}

/** Where runbooks report numbers, each value with its own dimensions (e.g. per database). */
export interface RunbookMetrics {
  add(name: string, value: number, dimensions?: Record<string, string>): void;
}

/** Powertools EMF metrics behind the {@link RunbookMetrics} runbooks depend on. */
export function runbookMetrics(metrics: Metrics): RunbookMetrics {
  return {
    add: (name, value, dimensions) => {
      const metric = metrics.singleMetric();
      for (const [k, v] of Object.entries(dimensions ?? {})) metric.addDimension(k, v);
      metric.addMetric(name, MetricUnit.Count, value);
    },
  };
}
