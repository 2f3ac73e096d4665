import { ConfigurationError } from './errors.ts';

/** Reads a required environment variable once, failing loudly when it is absent. */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(`environment variable ${name} is required but not set`);
  }
  return value;
}

/** The environment every Nightshift function gets from its construct. */
export interface RunbookEnvironment {
  readonly stateTableName: string;
  readonly eventBusName: string;
  readonly killSwitchParameter: string;
  /** The runbook's own configuration, JSON (parsed by the runbook with its schema). */
  readonly runbookConfig: string;
}

export function readRunbookEnvironment(env: NodeJS.ProcessEnv = process.env): RunbookEnvironment {
  return {
    stateTableName: requiredEnv('NIGHTSHIFT_STATE_TABLE', env),
    eventBusName: requiredEnv('NIGHTSHIFT_EVENT_BUS', env),
    killSwitchParameter: requiredEnv('NIGHTSHIFT_KILL_SWITCH_PARAMETER', env),
    runbookConfig: requiredEnv('NIGHTSHIFT_RUNBOOK_CONFIG', env),
  };
}
