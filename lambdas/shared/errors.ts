/**
 * Base of every error Nightshift raises on purpose.
 *
 * Each class names itself with a string (`override readonly name = '…'`): bundles are minified, so a name
 * taken from the class (`new.target.name`) would reach Lambda, the logs and the audit log as `Bc` or `dR`.
 */
export class NightshiftError extends Error {
  override readonly name: string = 'NightshiftError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The event does not have the shape the runbook needs, or a value outside its bounds; nothing was changed. */
export class InvalidEventError extends NightshiftError {
  override readonly name: string = 'InvalidEventError';
}

/** A required environment variable or the runtime configuration is missing or malformed. */
export class ConfigurationError extends NightshiftError {
  override readonly name: string = 'ConfigurationError';
}

/** The event names a resource the runbook is not configured for; nothing was changed. */
export class UnknownResourceError extends NightshiftError {
  override readonly name: string = 'UnknownResourceError';
}

/** The event comes from another account or Region than the stack's; nothing was changed. */
export class ForeignEventError extends NightshiftError {
  override readonly name: string = 'ForeignEventError';
}

/** An AWS call failed in a way the runbook cannot recover from in this invocation. */
export class AwsCallError extends NightshiftError {
  override readonly name: string = 'AwsCallError';
}

/** The name AWS SDK v3 gives a service exception, or undefined for anything else. */
export function awsErrorName(error: unknown): string | undefined {
  if (error instanceof Error && '$metadata' in error) return error.name;
  return undefined;
}

/**
 * Whether an AWS error is worth retrying later rather than a verdict: throttling, 5xx, timeouts and
 * dropped connections (what the SDK itself retries, once its retries ran out).
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const retryable = (error as { $retryable?: unknown }).$retryable;
  if (retryable) return true;
  if ((meta?.httpStatusCode ?? 0) >= 500) return true;
  if (meta?.httpStatusCode === 429) return true;
  if (/throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(error.name)) return true;
  const code = (error as { code?: string }).code;
  return (
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(code ?? '') || error.name === 'TimeoutError'
  );
}
