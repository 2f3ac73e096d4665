/** A fault the endpoint injects, so the SDK's own retry logic is what copes. */
export interface FaultRule {
  /** Service by signing name (`ecs`, `ssm`, `events`, `monitoring`, `dynamodb`, `rds`); any when absent. */
  readonly service?: string;
  /** Operation name (e.g. `UpdateService`); any when absent. */
  readonly operation?: string;
  /**
   * `barrier`: the first `count` matching requests are held until all `count` have arrived, then go on
   * together, so concurrent callers meet at one point whatever their timing (e.g. two deliveries of one
   * event both observe the world before either acts). Needs `count`; a barrier never filled holds for ever.
   */
  readonly kind: 'throttle' | 'server-error' | 'latency' | 'drop' | 'barrier';
  /** How many matching requests to hit; unlimited when absent. */
  readonly count?: number;
  /** Matching requests let through before the rule starts to hit (e.g. fail a step's second put). @default 0 */
  readonly skip?: number;
  /** Probability per matching request (0-1) when `count` is absent. @default 1 */
  readonly probability?: number;
  /** For `latency`: added delay in real milliseconds. */
  readonly latencyMs?: number;
}

/** Decides, request by request, which fault applies; counts what it injected. */
export class FaultInjector {
  private readonly rules: { rule: FaultRule; left: number; skip: number; waiting: (() => void)[] }[] = [];
  readonly injected: { service: string; operation: string; kind: FaultRule['kind'] }[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): void {
    if (rule.kind === 'barrier' && (rule.count === undefined || rule.count < 1)) {
      throw new Error('a barrier fault needs a count of requests to wait for');
    }
    this.rules.push({
      rule,
      left: rule.count ?? Number.POSITIVE_INFINITY,
      skip: rule.skip ?? 0,
      waiting: [],
    });
  }

  /**
   * Holds a request that {@link pick} gave a `barrier` rule until `count` requests have arrived at it, then
   * releases them all.
   */
  meet(rule: FaultRule): Promise<void> {
    const entry = this.rules.find((e) => e.rule === rule);
    if (!entry) return Promise.resolve();
    return new Promise<void>((resolve) => {
      entry.waiting.push(resolve);
      if (entry.waiting.length >= (rule.count ?? 1)) for (const release of entry.waiting.splice(0)) release();
    });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** The faults for this request (latency may combine with one failure). */
  pick(service: string, operation: string): FaultRule[] {
    const hits: FaultRule[] = [];
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.service && rule.service !== service) continue;
      if (rule.operation && rule.operation !== operation) continue;
      if (entry.left <= 0) continue;
      if (entry.skip > 0) {
        entry.skip -= 1;
        continue;
      }
      if (rule.count === undefined && this.random() >= (rule.probability ?? 1)) continue;
      entry.left -= 1;
      hits.push(rule);
      this.injected.push({ service, operation, kind: rule.kind });
    }
    return hits;
  }
}
