/**
 * Client-side pacing: a token bucket in front of an SDK client, so a runbook that works through a large fleet
 * stays under the API's rate limit instead of leaning on throttling and retries. Every attempt (retries
 * included) takes a token.
 */
/** Real time for the bucket; tests pass their own. */
export interface PacingClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realTime: PacingClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst = Math.max(1, Math.floor(perSecond)),
    private readonly clock: PacingClock = realTime,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves when a request may go. Callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      for (;;) {
        const now = this.clock.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await this.clock.sleep(((1 - this.tokens) / this.perSecond) * 1000);
      }
    });
    this.queue = turn;
    return turn;
  }
}

interface MiddlewareStackLike {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
    options: { step: 'finalizeRequest'; name: string; priority: 'low' },
  ): void;
}

/** Paces every request (each attempt) of a client through `bucket`. */
export function pace<T extends { middlewareStack: unknown }>(client: T, bucket: TokenBucket): T {
  (client.middlewareStack as MiddlewareStackLike).add(
    (next) => async (args) => {
      await bucket.take();
      return next(args);
    },
    // After the retry middleware, so every attempt is paced.
    { step: 'finalizeRequest', name: 'nightshiftPacing', priority: 'low' },
  );
  return client;
}
