/**
 * The local world's clock. Time is virtual: it moves only when the story (or a test) advances it, so a
 * three-day-old deployment takes no time to make. Lambda workers read the same time through a
 * SharedArrayBuffer, so handlers running unmodified see the world's time through `Date`.
 */
export class VirtualClock {
  /** Shared with Lambda workers: one float64, the current virtual epoch milliseconds. */
  readonly buffer = new SharedArrayBuffer(16);
  private readonly view = new Float64Array(this.buffer);
  private timers: { at: number; seq: number; run: () => unknown }[] = [];
  private seq = 0;
  private lastLive = Number.NEGATIVE_INFINITY;
  /**
   * Awaited after each timer: the world waits here for the deliveries a timer set off (an event it emitted),
   * so time never moves on beneath an invocation that is still running — a handler reading `Date` sees the
   * time its event was delivered at, as on AWS, where delivery takes seconds.
   */
  afterTimer: () => Promise<void> = async () => undefined;

  constructor(start: number) {
    this.view[0] = start;
    this.view[1] = Date.now();
  }

  now(): number {
    return this.view[0] ?? 0;
  }

  /**
   * Time as a Lambda worker reads it: the virtual value plus the real milliseconds since it last changed,
   * never going backwards. For parts of the world that a running function talks to while time stands still
   * (the alert sink's rate limits: a sender that waits a real second must find a second has passed).
   */
  liveNow(): number {
    this.lastLive = Math.max(
      this.lastLive,
      Math.floor(this.now() + Math.max(0, Date.now() - (this.view[1] ?? 0))),
    );
    return this.lastLive;
  }

  /**
   * Moves the clock to `value`, or to the live time if that is later: while time stood still, running
   * functions saw it pass with real time, and the world's time never goes back behind what they saw.
   */
  private set(value: number): void {
    const next = Math.max(value, this.liveNow());
    if (next === this.view[0]) return;
    // Value first, then its stamp: a worker reading between the two sees the new value a little late,
    // never an old value with a new stamp (which would be time running backwards).
    this.view[0] = next;
    this.view[1] = Date.now();
  }

  /** Runs `run` when the clock reaches `at` (at once on the next advance if `at` is not in the future). */
  schedule(at: number, run: () => unknown): void {
    this.timers.push({ at, seq: this.seq++, run });
  }

  /**
   * Moves time forward to `now + ms`, firing due timers in time order; each timer sees the clock at its
   * own time. Awaits each timer, so work a timer starts (e.g. an invocation) finishes before the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.now() + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.set(Math.max(this.now(), next.at));
      await next.run();
      await this.afterTimer();
    }
    this.set(target);
  }

  /** Number of timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }
}
