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

/**
 * The environment variables a Nightshift function's construct sets and its runtime reads, by what they hold:
 * the one list both sides use, so a variable one side drops or renames fails `tsc` on the other.
 */
export const RUNBOOK_ENV = {
  stateTableName: 'NIGHTSHIFT_STATE_TABLE',
  eventBusName: 'NIGHTSHIFT_EVENT_BUS',
  killSwitchParameter: 'NIGHTSHIFT_KILL_SWITCH_PARAMETER',
  runbookConfig: 'NIGHTSHIFT_RUNBOOK_CONFIG',
  account: 'NIGHTSHIFT_ACCOUNT',
  region: 'NIGHTSHIFT_REGION',
  maxEventAgeSeconds: 'NIGHTSHIFT_MAX_EVENT_AGE_SECONDS',
  clockSkewSeconds: 'NIGHTSHIFT_CLOCK_SKEW_SECONDS',
} as const;

/** Every variable of {@link RUNBOOK_ENV}, by its name, as the construct sets them. */
export type RunbookEnvVariables = Record<(typeof RUNBOOK_ENV)[keyof typeof RUNBOOK_ENV], string>;

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
    stateTableName: requiredEnv(RUNBOOK_ENV.stateTableName, env),
    eventBusName: requiredEnv(RUNBOOK_ENV.eventBusName, env),
    killSwitchParameter: requiredEnv(RUNBOOK_ENV.killSwitchParameter, env),
    runbookConfig: requiredEnv(RUNBOOK_ENV.runbookConfig, env),
    origin: {
      account: requiredEnv(RUNBOOK_ENV.account, env),
      region: requiredEnv(RUNBOOK_ENV.region, env),
    },
    eventTimeBounds: {
      maxAgeMs: positiveSeconds(RUNBOOK_ENV.maxEventAgeSeconds, env) * 1000,
      maxSkewMs: positiveSeconds(RUNBOOK_ENV.clockSkewSeconds, env) * 1000,
    },
  };
}
