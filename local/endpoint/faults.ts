/** A fault the endpoint injects, so the SDK's own retry logic is what copes. */
export interface FaultRule {
  /** Service by signing name (`ecs`, `ssm`, `events`, `monitoring`, `dynamodb`, `rds`); any when absent. */
  readonly service?: string;
  /** Operation name (e.g. `UpdateService`); any when absent. */
  readonly operation?: string;
  readonly kind: 'throttle' | 'server-error' | 'latency' | 'drop';
  /** How many matching requests to hit; unlimited when absent. */
  readonly count?: number;
  /** Probability per matching request (0-1) when `count` is absent. @default 1 */
  readonly probability?: number;
  /** For `latency`: added delay in real milliseconds. */
  readonly latencyMs?: number;
}

/** Decides, request by request, which fault applies; counts what it injected. */
export class FaultInjector {
  private readonly rules: { rule: FaultRule; left: number }[] = [];
  readonly injected: { service: string; operation: string; kind: FaultRule['kind'] }[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(rule: FaultRule): void {
    this.rules.push({ rule, left: rule.count ?? Number.POSITIVE_INFINITY });
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
      if (rule.count === undefined && this.random() >= (rule.probability ?? 1)) continue;
      entry.left -= 1;
      hits.push(rule);
      this.injected.push({ service, operation, kind: rule.kind });
    }
    return hits;
  }
}
