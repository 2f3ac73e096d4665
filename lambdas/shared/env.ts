import { ConfigurationError } from './errors.ts';
import type { EventTimeBounds } from './event-time.ts';

/** Reads a required environment variable once, failing loudly when it is absent. */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(`environment variable ${name} is required but not set`);
  }
  return value;
}

function positiveSeconds(name: string, env: NodeJS.ProcessEnv): number {
  const text = requiredEnv(name, env);
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigurationError(
      `environment variable ${name} must be a positive number of seconds (got ${JSON.stringify(text)})`,
    );
  }
  return seconds;
}

/** Where the stack is deployed: events from anywhere else change nothing. */
export interface StackOrigin {
  readonly account: string;
  readonly region: string;
}

/** The environment every Nightshift function gets from its construct. */
export interface RunbookEnvironment {
  readonly stateTableName: string;
  readonly eventBusName: string;
  readonly killSwitchParameter: string;
  /** The runbook's own configuration, JSON (parsed by the runbook with its schema). */
  readonly runbookConfig: string;
  readonly origin: StackOrigin;
  /** How old or early an event's time may be: from the rule's and the function's maximum event ages. */
  readonly eventTimeBounds: EventTimeBounds;
}

export function readRunbookEnvironment(env: NodeJS.ProcessEnv = process.env): RunbookEnvironment {
  return {
    stateTableName: requiredEnv('NIGHTSHIFT_STATE_TABLE', env),
    eventBusName: requiredEnv('NIGHTSHIFT_EVENT_BUS', env),
    killSwitchParameter: requiredEnv('NIGHTSHIFT_KILL_SWITCH_PARAMETER', env),
    runbookConfig: requiredEnv('NIGHTSHIFT_RUNBOOK_CONFIG', env),
    origin: {
      account: requiredEnv('NIGHTSHIFT_ACCOUNT', env),
      region: requiredEnv('NIGHTSHIFT_REGION', env),
    },
    eventTimeBounds: {
      maxAgeMs: positiveSeconds('NIGHTSHIFT_MAX_EVENT_AGE_SECONDS', env) * 1000,
      maxSkewMs: positiveSeconds('NIGHTSHIFT_CLOCK_SKEW_SECONDS', env) * 1000,
    },
  };
}
