/**
 * Adaptive concurrency for one model: AIMD, the scheme TCP uses for congestion. A 429 halves the
 * model's limit; a run of successes as long as the limit raises it by one. Halving reacts fast to
 * a quota being hit; the slow climb keeps the model near the highest limit its deployment takes
 * instead of oscillating around it.
 */

/** An attempt outcome as the retry layer reports it: `ok`, `rate_limit`, or another error kind. */
export type ObservedOutcome = "ok" | "rate_limit" | (string & {});

/** One change of the limit, as passed to `onChange`. */
export interface LimitChange {
  from: number;
  to: number;
  /** `down` after a 429, `up` after a run of successes. */
  direction: "down" | "up";
}

/** How the limit moved over a run; O(1) memory whatever the run's length. */
export interface ConcurrencyHistory {
  /** The lowest limit reached. */
  min: number;
  /** Times the limit was lowered. */
  decreases: number;
  /** Times the limit was raised. */
  increases: number;
}

/** Options for {@link AdaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** The limit to start from (the configured concurrency). */
  initial: number;
  /** Never go below this. @default 1 */
  min?: number;
  /** Never go above this. @default initial: a deployment is never pushed past what was configured. */
  max?: number;
  /** Called after every change, with the new limit (e.g. to resize the model's limiter). */
  onChange?: (limit: number, change: LimitChange) => void;
}

/** Multiplicative decrease: halve, as TCP does; gentler factors take longer to escape a storm. */
const DECREASE_FACTOR = 0.5;

/**
 * An AIMD controller of one model's concurrency limit. Feed it every attempt's outcome with
 * {@link observe}; it calls `onChange` whenever the limit moves.
 *
 * - Decrease: a `rate_limit` halves the limit (rounded down, at least `min`), but at most once
 *   per window: not again until as many attempts as were allowed in flight at the last decrease
 *   have completed. Those attempts were sent before the decrease, so their 429s say nothing
 *   about the new limit; without the window one burst would collapse the limit to `min`.
 * - Increase: after `limit` consecutive `ok` attempts (one window of successes) the limit rises
 *   by one, up to `max`. A 429 restarts the count.
 * - Any other outcome (timeouts, 5xx, aborts) counts towards the window but neither raises nor
 *   lowers the limit: they are not evidence about the quota.
 */
export class AdaptiveConcurrency {
  private current: number;
  private readonly lower: number;
  private readonly upper: number;
  private readonly onChange: ((limit: number, change: LimitChange) => void) | undefined;
  /** Attempts completed since the last decrease; the first 429 of a run acts at once. */
  private sinceDecrease = Number.POSITIVE_INFINITY;
  /** Attempts that must complete after a decrease before the next one (the limit before it). */
  private window = 0;
  private okStreak = 0;
  private readonly stats: ConcurrencyHistory;

  constructor(options: AdaptiveConcurrencyOptions) {
    const initial = Math.max(1, Math.floor(options.initial));
    this.lower = Math.max(1, Math.floor(options.min ?? 1));
    this.upper = Math.max(this.lower, Math.floor(options.max ?? initial));
    this.current = Math.min(Math.max(initial, this.lower), this.upper);
    this.onChange = options.onChange;
    this.stats = { min: this.current, decreases: 0, increases: 0 };
  }

  /** The current limit. */
  get limit(): number {
    return this.current;
  }

  /** How the limit moved so far; `limit` is where it settled. */
  history(): ConcurrencyHistory {
    return { ...this.stats };
  }

  /** Records one attempt's outcome; may change the limit. */
  observe(outcome: ObservedOutcome): void {
    this.sinceDecrease++;
    if (outcome === "ok") {
      this.okStreak++;
      if (this.okStreak >= this.current && this.current < this.upper) {
        this.okStreak = 0;
        this.stats.increases++;
        this.set(this.current + 1, "up");
      }
      return;
    }
    if (outcome !== "rate_limit") return;
    this.okStreak = 0;
    if (this.sinceDecrease < this.window) return;
    const next = Math.max(this.lower, Math.floor(this.current * DECREASE_FACTOR));
    if (next === this.current) return; // already at the floor: nothing to change or report
    this.window = this.current;
    this.sinceDecrease = 0;
    this.stats.decreases++;
    this.stats.min = Math.min(this.stats.min, next);
    this.set(next, "down");
  }

  private set(to: number, direction: LimitChange["direction"]): void {
    const from = this.current;
    this.current = to;
    this.onChange?.(to, { from, to, direction });
  }
}
