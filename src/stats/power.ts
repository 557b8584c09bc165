/**
 * Normal quantiles and minimum detectable differences (MDE): "with this many rows, how large a
 * true difference would we reliably notice?" Reports print the MDE next to every
 * "no significant difference" so that a null result is not mistaken for evidence of equality.
 *
 * All MDEs are normal approximations for a two-sided test at level `alpha` with the given
 * `power`; they are planning figures, not exact guarantees.
 */

// Acklam's rational approximations (P. J. Acklam, "An algorithm for computing the inverse normal
// cumulative distribution function", 2003). Coefficients are copied from that note.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
] as const;
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
] as const;
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
] as const;
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;

/**
 * Inverse of the standard normal CDF, Φ⁻¹(p), by Acklam's algorithm: relative error below
 * 1.15e-9 over (0, 1), which is far finer than any interval or MDE we print (one decimal of a
 * percentage point). Returns -Infinity at 0, +Infinity at 1 and NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p < P_LOW) return tail(Math.sqrt(-2 * Math.log(p)));
  // For the upper tail use 1 - p only where it is computed without much cancellation.
  if (p > 1 - P_LOW) return -tail(Math.sqrt(-2 * Math.log1p(-p)));
  const q = p - 0.5;
  const r = q * q;
  const num = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q;
  const den = ((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1;
  return num / den;
}

function tail(q: number): number {
  const num = ((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5];
  const den = (((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1;
  return num / den;
}

/** Options shared by every MDE flavour. */
interface MdeCommon {
  /** Number of paired rows (each model scored on the same n rows). */
  n: number;
  /** Two-sided significance level; default 0.05. */
  alpha?: number;
  /** Probability of detecting a true difference of the returned size; default 0.8. */
  power?: number;
}

/** MDE options for 0/1 scores (pass rates). */
export interface BinaryMdeOptions extends MdeCommon {
  kind: "binary";
  /**
   * Baseline pass rate in [0, 1], used by the two-proportion bound. Unknown → 0.5, the value with
   * the largest variance, so the bound stays conservative.
   */
  baseline?: number;
  /**
   * Share of rows on which the two models disagree (b01 + b10) / n, estimated from the data.
   * When given and positive, McNemar's paired formula is used instead of the two-proportion bound.
   */
  discordantRate?: number;
}

/** MDE options for continuous scores. */
export interface ContinuousMdeOptions extends MdeCommon {
  kind: "continuous";
  /** Standard deviation of the per-row differences a − b. */
  sdDiff: number;
}

/** Input of {@link minimumDetectableDifference}. */
export type MdeOptions = BinaryMdeOptions | ContinuousMdeOptions;

/**
 * Smallest true difference in means (in score units: 0.05 = 5 percentage points for pass rates)
 * that a two-sided test at `alpha` detects with probability `power`, given `n` paired rows.
 * Returns null when n ≤ 0 or an input is not a finite number in its range.
 *
 * - Continuous: (z₁₋α/₂ + z_power) · sdDiff / √n, the paired z-test.
 * - Binary with `discordantRate` ψ > 0: Connor's (1987, Biometrics 43:207) normal approximation
 *   for McNemar's test, n = (z₁₋α/₂·√ψ + z_power·√(ψ − δ²))² / δ², solved for δ in closed form:
 *   δ = √ψ · (z₁₋α/₂·√n + z_power·√(n − z²₁₋α/₂ + z²_power)) / (n + z²_power).
 *   If that δ exceeds ψ, no effect is detectable at the observed discordance (every disagreement
 *   would have to favour one model), so the two-proportion bound is returned instead.
 * - Binary otherwise: the unpaired two-proportion formula (Fleiss, without continuity correction)
 *   δ = z₁₋α/₂·√(2·p̄(1−p̄)/n) + z_power·√((p₁(1−p₁) + p₂(1−p₂))/n), with p₂ = p₁ ± δ moved toward
 *   0.5 (larger variance) and solved by fixed-point iteration. Paired data with positively
 *   correlated models has smaller variance, so this is a conservative (upper) bound.
 */
export function minimumDetectableDifference(opts: MdeOptions): number | null {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  const { n } = opts;
  if (!(n > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) return null;
  const zA = normalQuantile(1 - alpha / 2);
  const zB = normalQuantile(power);

  if (opts.kind === "continuous") {
    if (!(opts.sdDiff >= 0) || !Number.isFinite(opts.sdDiff)) return null;
    return ((zA + zB) * opts.sdDiff) / Math.sqrt(n);
  }

  const psi = opts.discordantRate;
  if (psi !== undefined && psi > 0 && psi <= 1) {
    const inner = n - zA * zA + zB * zB;
    if (inner >= 0) {
      const delta = (Math.sqrt(psi) * (zA * Math.sqrt(n) + zB * Math.sqrt(inner))) / (n + zB * zB);
      if (delta <= psi) return delta;
    }
  }
  const baseline = opts.baseline ?? 0.5;
  if (!(baseline >= 0 && baseline <= 1)) return null;
  return twoProportionMde(baseline, n, zA, zB);
}

function twoProportionMde(p1: number, n: number, zA: number, zB: number): number {
  const towardHalf = p1 <= 0.5 ? 1 : -1;
  // Start from the worst-case bound (all variances at 0.25), which is at or above the fixed point,
  // and iterate down to it; starting at 0 could stall at the spurious root δ = 0 when p₁ = 0.
  let delta = (zA + zB) * Math.sqrt(0.5 / n);
  // Convergence is geometric and usually reaches machine precision in a few dozen rounds; the cap
  // only keeps the loop bounded.
  for (let i = 0; i < 200; i++) {
    const p2 = Math.min(1, Math.max(0, p1 + towardHalf * delta));
    const pBar = (p1 + p2) / 2;
    const next = zA * Math.sqrt((2 * pBar * (1 - pBar)) / n) + zB * Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n);
    if (Math.abs(next - delta) <= 1e-15) return next;
    delta = next;
  }
  return delta;
}

/** Input of {@link pairedRowsNeeded}. */
export interface RowsNeededOptions {
  /** The difference to detect, in score units (0.05 = 5 points). */
  delta: number;
  /** Observed share of discordant rows (b + c)/n; unknown or 0 → the unpaired bound is used. */
  discordantRate?: number;
  /** Pass rate used by the unpaired fallback; default 0.5 (largest variance). */
  baseline?: number;
  alpha?: number;
  power?: number;
}

/**
 * Rows needed to detect a true difference `delta` between two paired pass rates with a two-sided
 * test at `alpha` and the given `power` (default 0.8): Connor (1987, Biometrics 43:207),
 * n = (z₁₋α/₂·√ψ + z_power·√(ψ − δ²))² / δ², the same formula {@link minimumDetectableDifference}
 * inverts, so "about N rows are needed to detect M points" and "minimum detectable difference at
 * this n" always agree. When the observed discordance ψ is not above δ (no disagreements seen yet,
 * or too few to produce a δ-sized difference) the unpaired two-proportion formula is used, as the
 * MDE does. Rounded up; null for an invalid input.
 */
export function pairedRowsNeeded(opts: RowsNeededOptions): number | null {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  const d = Math.abs(opts.delta);
  if (!(d > 0 && d < 1) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) return null;
  const zA = normalQuantile(1 - alpha / 2);
  const zB = normalQuantile(power);
  const psi = opts.discordantRate;
  if (psi !== undefined && psi > d && psi <= 1) {
    return Math.ceil((zA * Math.sqrt(psi) + zB * Math.sqrt(psi - d * d)) ** 2 / (d * d));
  }
  const p1 = opts.baseline ?? 0.5;
  if (!(p1 >= 0 && p1 <= 1)) return null;
  const p2 = Math.min(1, Math.max(0, p1 + (p1 <= 0.5 ? d : -d)));
  const pBar = (p1 + p2) / 2;
  const n = (zA * Math.sqrt(2 * pBar * (1 - pBar)) + zB * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (d * d);
  return Math.ceil(n);
}
