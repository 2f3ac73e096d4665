/**
 * API throughput limits of the local endpoint, per service: a token bucket (AWS throttles each API at a
 * sustained rate with some burst) and a fixed latency per call. Both run on REAL time, not the world's
 * virtual clock, because they model how fast the API answers the code calling it.
 *
 * @module
 */

/** The limits of one service's API. */
export interface ServiceLimit {
  /** Sustained requests per second; unlimited when absent. */
  readonly requestsPerSecond?: number;
  /** Requests that may arrive at once after a quiet period. @default max(1, requestsPerSecond) */
  readonly burst?: number;
  /** Real milliseconds added to every call (answered or throttled). @default 0 */
  readonly latencyMs?: number;
}

/** Thrown by {@link RateLimits.set} for a limit that cannot be enforced. */
export class InvalidServiceLimitError extends Error {
  override readonly name = 'InvalidServiceLimitError';

  constructor(service: string, detail: string) {
    super(`invalid limit for ${service}: ${detail}`);
  }
}

interface Bucket {
  readonly limit: ServiceLimit;
  tokens: number;
  at: number;
}

/**
 * Per-service rate limits and latencies, e.g. `limits.set('rds', { requestsPerSecond: 25, latencyMs: 20 })`.
 * Services are named by their SigV4 signing name (`rds`, `ecs`, `ssm`, `dynamodb`, ...).
 */
export class RateLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly throttles = new Map<string, number>();

  /** @param now Real time in milliseconds (monotonic); replaceable for tests of the bucket itself. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Sets (or replaces) a service's limit; its bucket starts full. */
  set(service: string, limit: ServiceLimit): this {
    const { requestsPerSecond: rate, burst, latencyMs } = limit;
    if (rate !== undefined && !(rate > 0))
      throw new InvalidServiceLimitError(service, 'requestsPerSecond must be > 0');
    if (burst !== undefined && !(burst >= 1))
      throw new InvalidServiceLimitError(service, 'burst must be >= 1');
    if (latencyMs !== undefined && !(latencyMs >= 0))
      throw new InvalidServiceLimitError(service, 'latencyMs must be >= 0');
    this.buckets.set(service, { limit, tokens: this.capacity(limit), at: this.now() });
    return this;
  }

  /** The service's limit, if any. */
  get(service: string): ServiceLimit | undefined {
    return this.buckets.get(service)?.limit;
  }

  /** Removes the service's limit; returns whether it had one. */
  delete(service: string): boolean {
    return this.buckets.delete(service);
  }

  /** Removes every limit (throttle counts are kept). */
  clear(): void {
    this.buckets.clear();
  }

  /** Real milliseconds each call to the service takes on top of its work. */
  latencyMs(service: string): number {
    return this.buckets.get(service)?.limit.latencyMs ?? 0;
  }

  /**
   * Takes one request's token from the service's bucket: `true` when the request may proceed, `false`
   * (and counted) when the service is over its rate.
   */
  admit(service: string): boolean {
    const bucket = this.buckets.get(service);
    const rate = bucket?.limit.requestsPerSecond;
    if (!bucket || rate === undefined) return true;
    const now = this.now();
    bucket.tokens = Math.min(this.capacity(bucket.limit), bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    this.throttles.set(service, (this.throttles.get(service) ?? 0) + 1);
    return false;
  }

  /** How many requests to the service were answered with a throttling error. */
  throttled(service: string): number {
    return this.throttles.get(service) ?? 0;
  }

  private capacity(limit: ServiceLimit): number {
    return limit.burst ?? Math.max(1, limit.requestsPerSecond ?? 1);
  }
}
