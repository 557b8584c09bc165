/**
 * Fixed-size log-bucket histogram for percentiles of positive values (latencies), so that summary
 * memory does not grow with the number of results.
 *
 * Error bound: buckets grow by γ = (1 + α) / (1 − α) with α = 0.005, and a bucket reports
 * 2γ^i / (γ + 1), which is within α = 0.5% (relative) of every value in the bucket. So for values
 * in [MIN_VALUE, MAX_VALUE] a percentile is within 0.5% of the exact nearest-rank percentile
 * (the value at sorted index ⌈p·n⌉ − 1). Results are also clamped to the exact min and max seen.
 * Values below MIN_VALUE (including 0) share one bucket reported as the exact minimum; values
 * above MAX_VALUE share one reported as the exact maximum. With the defaults this is ~2,540
 * buckets (20 KB) whatever the number of values.
 */

const ALPHA = 0.005;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LOG_GAMMA = Math.log(GAMMA);

/** Documented relative error of {@link LogHistogram.percentile} inside the covered range. */
export const HISTOGRAM_RELATIVE_ERROR = ALPHA;

export class LogHistogram {
  /** Smallest value with its own bucket (1 µs when values are milliseconds). */
  static readonly MIN_VALUE = 1e-3;
  /** Largest value with its own bucket (~27.8 hours in milliseconds). */
  static readonly MAX_VALUE = 1e8;

  private readonly offset = Math.floor(Math.log(LogHistogram.MIN_VALUE) / LOG_GAMMA);
  private readonly counts = new Float64Array(Math.ceil(Math.log(LogHistogram.MAX_VALUE) / LOG_GAMMA) - this.offset + 2);
  private underflow = 0;
  private overflow = 0;
  private n = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;

  /** Records one value; non-finite values are ignored (they carry no latency information). */
  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.n++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value < LogHistogram.MIN_VALUE) {
      this.underflow++;
      return;
    }
    if (value > LogHistogram.MAX_VALUE) {
      this.overflow++;
      return;
    }
    this.counts[Math.ceil(Math.log(value) / LOG_GAMMA) - this.offset]!++;
  }

  get count(): number {
    return this.n;
  }

  /** Exact arithmetic mean, or null when empty. */
  mean(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }

  /** Nearest-rank percentile for `p` in [0, 1] (see the module comment for the bound), or null when empty. */
  percentile(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.max(1, Math.ceil(p * this.n));
    if (rank <= this.underflow) return this.min;
    if (rank > this.n - this.overflow) return this.max;
    let seen = this.underflow;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const estimate = (2 * GAMMA ** (i + this.offset)) / (GAMMA + 1);
        return Math.min(this.max, Math.max(this.min, estimate));
      }
    }
    return this.max;
  }
}
