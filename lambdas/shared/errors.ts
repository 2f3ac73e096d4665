/** Base of every error Nightshift raises on purpose. */
export class NightshiftError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The event does not have the shape the runbook needs; nothing was changed. */
export class InvalidEventError extends NightshiftError {}

/** A required environment variable is missing or malformed. */
export class ConfigurationError extends NightshiftError {}

/** The event names a resource the runbook is not configured for; nothing was changed. */
export class UnknownResourceError extends NightshiftError {}

/** An AWS call failed in a way the runbook cannot recover from in this invocation. */
export class AwsCallError extends NightshiftError {}

/** The name AWS SDK v3 gives a service exception, or undefined for anything else. */
export function awsErrorName(error: unknown): string | undefined {
  if (error instanceof Error && '$metadata' in error) return error.name;
  return undefined;
}
