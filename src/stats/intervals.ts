/**
 * Confidence intervals for one model's mean score: Wilson for pass rates (0/1 scores) and a
 * seeded percentile bootstrap for continuous scores.
 */
import { normalQuantile } from "./power.js";
import { DEFAULT_SEED, mulberry32, randomIndex, type Rng } from "./random.js";

/** A mean with its confidence interval; all null when there is no data (n = 0). */
export type MeanInterval = { mean: number; low: number; high: number } | { mean: null; low: null; high: null };

/** Options of the bootstrap intervals. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples; default 2000. */
  resamples?: number;
  /** Two-sided confidence level in (0, 1); default 0.95. */
  confidence?: number;
  /** PRNG seed (see random.ts); default {@link DEFAULT_SEED}, so output is reproducible. */
  seed?: number;
}

const NO_DATA = { mean: null, low: null, high: null } as const;

/** Arithmetic mean of a non-empty array. */
export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/**
 * Wilson score interval for a binomial proportion (E. B. Wilson, JASA 22:209, 1927):
 * (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = Φ⁻¹(1 − (1−confidence)/2).
 * Chosen over the Wald interval because it keeps sensible coverage at 0/n and n/n and for small
 * n, which is exactly where small eval sets live. Bounds are clamped to [0, 1] against rounding.
 * `mean` is the plain proportion successes/n. n = 0 gives all nulls.
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): MeanInterval {
  if (!(n > 0)) return NO_DATA;
  if (!(successes >= 0 && successes <= n)) throw new RangeError(`successes must be in [0, ${n}], got ${successes}`);
  checkConfidence(confidence);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return {
    mean: p,
    // At 0/n and n/n one bound is exactly 0 or 1 in exact arithmetic; pin it instead of printing
    // a rounding residue like 1e-17.
    low: successes === 0 ? 0 : Math.max(0, center - half),
    high: successes === n ? 1 : Math.min(1, center + half),
  };
}

/**
 * Percentile bootstrap interval for the mean (Efron & Tibshirani 1993, ch. 13): draw `resamples`
 * samples of size n with replacement, take each sample's mean, and report the (1−c)/2 and
 * (1+c)/2 quantiles of those means (linear interpolation between order statistics, i.e. the
 * "type 7" rule of R and NumPy's default). Chosen because it needs no normality or variance
 * formula and behaves well for bounded scores; it is somewhat narrow for very small n (< ~20),
 * which callers should keep in mind. `mean` is the sample mean, not the bootstrap mean.
 * Deterministic for a given seed. n = 0 gives all nulls.
 */
export function bootstrapMeanInterval(values: ArrayLike<number>, opts: BootstrapOptions = {}): MeanInterval {
  const n = values.length;
  if (n === 0) return NO_DATA;
  const { resamples, confidence, rng } = resolve(opts);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[randomIndex(rng, n)]!;
    means[r] = sum / n;
  }
  const [low, high] = percentileBounds(means, confidence);
  return { mean: meanOf(values), low, high };
}

/**
 * Wilson interval when `kind` is "binary" (values must be 0 or 1), percentile bootstrap when
 * "continuous". Throws a RangeError for a non-0/1 value in binary data rather than silently
 * rounding, because that would mean the scorer kind was misdeclared.
 */
export function meanInterval(
  values: ArrayLike<number>,
  kind: "binary" | "continuous",
  opts: BootstrapOptions = {},
): MeanInterval {
  if (kind === "continuous") return bootstrapMeanInterval(values, opts);
  let successes = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0 && v !== 1) throw new RangeError(`binary scores must be 0 or 1, got ${v} at index ${i}`);
    successes += v;
  }
  return wilsonInterval(successes, values.length, opts.confidence ?? 0.95);
}

/**
 * The two-sided percentile bounds of a bootstrap distribution, at (1−c)/2 and (1+c)/2, using
 * type-7 interpolation. Sorts `stats` in place. Shared with the paired bootstrap.
 * (report/histogram.ts is approximate and positive-only by design, so it cannot serve here.)
 */
export function percentileBounds(stats: Float64Array, confidence: number): [number, number] {
  stats.sort();
  const tail = (1 - confidence) / 2;
  return [quantileSorted(stats, tail), quantileSorted(stats, 1 - tail)];
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  // When a === b return it directly, so identical resamples give an exact interval (no a + 0·NaN).
  return a === b ? a : a + (h - lo) * (b - a);
}

/** Validated resampling settings plus a fresh PRNG. Shared with the paired statistics. */
export function resolve(opts: BootstrapOptions): { resamples: number; confidence: number; rng: Rng } {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  checkConfidence(confidence);
  return { resamples, confidence, rng: mulberry32(opts.seed ?? DEFAULT_SEED) };
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
}
