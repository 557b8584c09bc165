/**
 * Paired comparison of two models scored on the same rows: Newcombe's score interval (method 10)
 * for one-trial pass/fail scores and a paired bootstrap interval otherwise, McNemar's exact test
 * for 0/1 scores, a sign-flip permutation test for continuous scores, the TOST equivalence
 * interval, Holm adjustment across a family ({@link adjustFamily}), and {@link comparePair}, which
 * turns them into a verdict and one sentence.
 *
 * Inputs are arrays aligned by row (a[i] and b[i] are the two models' scores on row i); rows that
 * either model failed to score must already be dropped by the caller.
 */
import { meanOf, percentileBounds, resolve, type BootstrapOptions } from "./intervals.js";
import { holmAdjust } from "./multiple.js";
import { newcombePairedInterval, pairedTable, type PairedTable } from "./newcombe.js";
import { minimumDetectableDifference, normalQuantile, pairedRowsNeeded } from "./power.js";
import { DEFAULT_SEED, mulberry32, randomIndex, type Rng } from "./random.js";

// ---------------------------------------------------------------------------------------------
// Binomial distribution

// stirlerr(k) = ln k! − (k + ½)·ln k + k − ½·ln(2π) for k = 1..15, computed with mpmath at 40
// digits (mp.loggamma(k+1) - (k+0.5)*mp.log(k) + k - mp.log(mp.sqrt(2*mp.pi))). A table is used
// below 16 because the asymptotic series is not accurate enough there.
const STIRLERR = [
  0, 0.08106146679532725822, 0.041340695955409294094, 0.027677925684998339149, 0.020790672103765093112,
  0.016644691189821192163, 0.013876128823070747999, 0.011896709945891770095, 0.010411265261972096497,
  0.0092554621827127329177, 0.0083305634333628712565, 0.007573675487951840795, 0.0069428401072095298657,
  0.0064089941880042070684, 0.0059513701127588477356, 0.005554733551962801371,
] as const;

/** Error of Stirling's formula for ln k!, for integer k ≥ 1 (Loader 2000). */
function stirlerr(k: number): number {
  if (k <= 15) return STIRLERR[k]!;
  const kk = k * k;
  const s0 = 1 / 12;
  const s1 = 1 / 360;
  const s2 = 1 / 1260;
  const s3 = 1 / 1680;
  const s4 = 1 / 1188;
  if (k > 500) return (s0 - s1 / kk) / k;
  if (k > 80) return (s0 - (s1 - s2 / kk) / kk) / k;
  if (k > 35) return (s0 - (s1 - (s2 - s3 / kk) / kk) / kk) / k;
  return (s0 - (s1 - (s2 - (s3 - s4 / kk) / kk) / kk) / kk) / k;
}

/** x·ln(x/m) + m − x, evaluated without cancellation when x ≈ m (Loader 2000). */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    const v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    const v2 = v * v;
    // |v| < 0.1 so each term shrinks 100-fold; 1000 rounds is a bound that is never reached.
    for (let j = 1; j < 1000; j++) {
      ej *= v2;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/**
 * P[X = k] for X ~ Bin(n, p), by Loader's saddle-point expansion ("Fast and accurate computation
 * of binomial probabilities", 2000; the method behind R's dbinom). Everything stays in log space
 * until the final exp, so it is accurate to ~1e-15 relative for n up to 1e6 and beyond, and
 * underflows to 0 only when the probability itself is below ~1e-308.
 */
export function binomialPmf(k: number, n: number, p: number): number {
  if (!Number.isInteger(k) || k < 0 || k > n) return 0;
  const q = 1 - p;
  if (p === 0) return k === 0 ? 1 : 0;
  if (q === 0) return k === n ? 1 : 0;
  if (k === 0) return Math.exp(n * Math.log1p(-p));
  if (k === n) return Math.exp(n * Math.log(p));
  const lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * p) - bd0(n - k, n * q);
  const lf = Math.log(2 * Math.PI) + Math.log(k) + Math.log1p(-k / n);
  return Math.exp(lc - 0.5 * lf);
}

/**
 * P[X ≤ k] for X ~ Bin(n, p), n a non-negative integer. Sums pmf terms outward from k with the
 * ratio P[X = j−1] / P[X = j] = j·q / ((n−j+1)·p), always on the side of the mode away from the
 * bulk, so the terms shrink and the sum stops once they no longer change it. The complement is
 * used above the mode, where 1 − (small upper tail) loses nothing that matters.
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1], got ${p}`);
  k = Math.floor(k);
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p === 0) return 1;
  if (p === 1) return 0;
  const q = 1 - p;
  const mode = Math.floor((n + 1) * p);
  if (k < mode) {
    let term = binomialPmf(k, n, p);
    let sum = term;
    for (let j = k; j > 0 && term > sum * 1e-17; j--) {
      term *= (j * q) / ((n - j + 1) * p);
      sum += term;
    }
    return Math.min(1, sum);
  }
  let term = binomialPmf(k + 1, n, p);
  let upper = term;
  for (let j = k + 1; j < n && term > upper * 1e-17; j++) {
    term *= ((n - j) * p) / ((j + 1) * q);
    upper += term;
  }
  return Math.max(0, 1 - upper);
}

// ---------------------------------------------------------------------------------------------
// Tests and intervals

/** Result of {@link mcnemarExact}. */
export interface McNemarResult {
  pValue: number;
  /** b01 + b10: rows on which the two models disagree. */
  discordant: number;
}

/**
 * Exact (conditional) McNemar test: under H₀ each discordant row is equally likely to favour
 * either model, so min(b01, b10) ~ Bin(b01 + b10, ½) and the two-sided p-value is
 * min(1, 2·P[X ≤ min(b01, b10)]). Exact rather than the χ² version because eval sets often have
 * few discordant rows, where the χ² approximation is poor. No discordant rows gives p = 1.
 */
export function mcnemarExact(b01: number, b10: number): McNemarResult {
  for (const c of [b01, b10]) {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`McNemar counts must be non-negative integers, got ${c}`);
  }
  const discordant = b01 + b10;
  if (discordant === 0) return { pValue: 1, discordant };
  return { pValue: Math.min(1, 2 * binomialCdf(Math.min(b01, b10), discordant, 0.5)), discordant };
}

/** Row-by-row tallies from A's point of view. */
export interface WinsTiesLosses {
  /** Rows where a[i] > b[i]. */
  wins: number;
  ties: number;
  /** Rows where a[i] < b[i]. */
  losses: number;
}

/** Counts rows where A scored higher than, equal to, or lower than B. */
export function winsTiesLosses(a: ArrayLike<number>, b: ArrayLike<number>): WinsTiesLosses {
  checkAligned(a, b);
  let wins = 0;
  let losses = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) wins++;
    else if (a[i]! < b[i]!) losses++;
  }
  return { wins, ties: a.length - wins - losses, losses };
}

/** Mean difference mean(a) − mean(b) with its paired bootstrap interval; nulls when n = 0. */
export type PairedDiff =
  { meanDiff: number; low: number; high: number; n: number } | { meanDiff: null; low: null; high: null; n: 0 };

/**
 * Paired percentile bootstrap for mean(a) − mean(b): resample row indices with replacement (the
 * same index for both models, which keeps the row-level correlation that makes paired designs
 * powerful), take the difference of means on each resample, and report the type-7 quantiles
 * at (1−c)/2 and (1+c)/2. Deterministic for a seed; identical arrays give exactly [0, 0].
 */
export function pairedBootstrapDiff(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: BootstrapOptions = {},
): PairedDiff {
  checkAligned(a, b);
  const n = a.length;
  if (n === 0) return { meanDiff: null, low: null, high: null, n: 0 };
  const { resamples, confidence, rng } = resolve(opts);
  const diffs = differences(a, b);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    // The mean of per-row differences on a resample equals its difference of means.
    for (let i = 0; i < n; i++) sum += diffs[randomIndex(rng, n)]!;
    stats[r] = sum / n;
  }
  const [low, high] = percentileBounds(stats, confidence);
  return { meanDiff: meanOf(a) - meanOf(b), low, high, n };
}

/** Options of {@link signFlipTest}. */
export interface SignFlipOptions {
  /** Monte Carlo sign assignments; default 10000. Enumeration is exact when 2^m ≤ this. */
  permutations?: number;
  seed?: number;
}

/**
 * Two-sided paired permutation (sign-flip) test of H₀: the per-row differences are symmetric
 * about 0. The statistic is |Σ dᵢ|; zero differences are dropped since flipping them changes
 * nothing. With m non-zero differences and 2^m ≤ `permutations`, all sign patterns are
 * enumerated and the p-value is exact; otherwise `permutations` random patterns are drawn from
 * the seeded PRNG and p = (1 + #{|Σ| ≥ observed}) / (1 + permutations), which is never 0 and is a
 * valid p-value (Phipson & Smyth 2010). Sums within 1e-9 (relative) of the observed one count as
 * "as extreme", so rounding noise cannot flip ties. Cost is O(permutations · n).
 * Chosen over a t-test because scores are bounded and often skewed; for 0/1 data it reduces to
 * the exact sign test, i.e. McNemar's exact test.
 */
export function signFlipTest(diffs: ArrayLike<number>, opts: SignFlipOptions = {}): number {
  const permutations = opts.permutations ?? 10_000;
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw new RangeError(`permutations must be a positive integer, got ${permutations}`);
  }
  const nonZero: number[] = [];
  for (let i = 0; i < diffs.length; i++) if (diffs[i] !== 0) nonZero.push(diffs[i]!);
  const m = nonZero.length;
  if (m === 0) return 1;
  let observed = 0;
  let scale = 0;
  for (const d of nonZero) {
    observed += d;
    scale += Math.abs(d);
  }
  const threshold = Math.abs(observed) - 1e-9 * scale;

  if (m < 31 && 2 ** m <= permutations) {
    let extreme = 0;
    for (let mask = 0; mask < 2 ** m; mask++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += mask & (1 << i) ? -nonZero[i]! : nonZero[i]!;
      if (Math.abs(s) >= threshold) extreme++;
    }
    return extreme / 2 ** m;
  }

  const rng: Rng = mulberry32(opts.seed ?? DEFAULT_SEED);
  let extreme = 0;
  for (let r = 0; r < permutations; r++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < m; i++) {
      // One 32-bit draw supplies 32 signs.
      if (i % 32 === 0) bits = rng() * 4294967296;
      s += (bits >>> (i % 32)) & 1 ? -nonZero[i]! : nonZero[i]!;
    }
    if (Math.abs(s) >= threshold) extreme++;
  }
  return (1 + extreme) / (1 + permutations);
}

// ---------------------------------------------------------------------------------------------
// Verdict

/** Options of {@link comparePair}. */
export interface ComparePairOptions {
  /** True for one 0/1 score per row (McNemar + Newcombe), false otherwise (sign-flip + bootstrap). */
  binary: boolean;
  /** Two-sided significance level; the interval is at confidence 1 − alpha. Default 0.05. */
  alpha?: number;
  seed?: number;
  /** Display names of A and B, used in the sentence. */
  names: [string, string];
  /** Bootstrap resamples for the interval of continuous scores; default 2000. */
  resamples?: number;
  /** Sign-flip permutations for continuous scores; default 10000. */
  permutations?: number;
  /**
   * Smallest difference that matters, in score units (0.02 = 2 points). When given, the verdict
   * also says whether A and B are equivalent within it (TOST: the 1 − 2·alpha interval lies inside
   * ±margin) and how many rows would detect a difference of that size.
   */
  margin?: number;
}

/** Which model a comparison favours. */
export type Verdict = "A better" | "B better" | "no significant difference";

/** Everything {@link comparePair} concluded about A vs B on their shared rows. */
export interface PairVerdict {
  names: [string, string];
  n: number;
  meanA: number | null;
  meanB: number | null;
  /** meanA − meanB. */
  diff: number | null;
  /**
   * Interval for `diff` at confidence 1 − alpha: Newcombe's method 10 for binary scores, the
   * paired percentile bootstrap otherwise (`intervalMethod`).
   */
  interval: [number, number] | null;
  intervalMethod: "newcombe" | "bootstrap";
  /** The same interval at 1 − 2·alpha (90% for alpha 0.05): the TOST equivalence interval. */
  equivalenceInterval: [number, number] | null;
  /** Unadjusted p-value of the test. */
  pValue: number;
  /**
   * p-value after the multiple-testing adjustment of its family (Holm), when there was one;
   * `significant` is decided on this value. Equal to `pValue` for a single comparison.
   */
  pAdjusted: number;
  /** Comparisons in the family `pAdjusted` was adjusted over (1 = none). */
  family: number;
  test: "mcnemar-exact" | "sign-flip";
  alpha: number;
  wins: number;
  ties: number;
  losses: number;
  significant: boolean;
  verdict: Verdict;
  /** Minimum detectable difference at power 0.8 (score units), or null when not computable. */
  mde: number | null;
  /** The margin the equivalence and rows-needed figures use (score units); null without one. */
  margin: number | null;
  /** Equivalent within ±margin (TOST); null without a margin or without data. */
  equivalent: boolean | null;
  /** Rows needed to detect a `margin`-sized difference at power 0.8 (Connor); null when unknown. */
  rowsNeeded: number | null;
  /** "points" when every score is in [0, 1] (differences printed ×100), else "raw". */
  scale: "points" | "raw";
  sentence: string;
}

/**
 * Compares A and B on aligned rows. The p-value is McNemar's exact test for binary scores and the
 * sign-flip permutation test for continuous ones; the interval is Newcombe's score interval for
 * binary scores and the paired percentile bootstrap otherwise. `significant` requires BOTH
 * p < alpha AND an interval that excludes 0 on the side of the observed difference: the two can
 * disagree near the boundary, and requiring both keeps the printed sentence self-consistent.
 * {@link adjustFamily} re-decides `significant` on Holm-adjusted p-values.
 */
export function comparePair(a: ArrayLike<number>, b: ArrayLike<number>, opts: ComparePairOptions): PairVerdict {
  checkAligned(a, b);
  checkAlpha(opts.alpha);
  if (!opts.binary) return verdictOf(a.length, { a, b }, opts);
  checkBinary(a, b);
  return verdictOf(a.length, { table: pairedTable(a, b) }, opts);
}

/**
 * {@link comparePair} of binary scores from their paired 2×2 table: every statistic of the binary
 * path (means, wins and losses, Newcombe, McNemar, MDE, rows needed) is a function of the four
 * counts, so this gives the same verdict, bit for bit, without aligned arrays of the rows. For a
 * caller that can count the table from its own per-row columns (the report's statistics, in the
 * tail of a run, where each pass over every row runs in code not yet optimised).
 */
export function comparePairedTable(table: PairedTable, opts: Omit<ComparePairOptions, "binary">): PairVerdict {
  checkAlpha(opts.alpha);
  for (const c of [table.both, table.onlyA, table.onlyB, table.neither]) {
    if (!Number.isInteger(c) || c < 0)
      throw new RangeError(`paired table counts must be non-negative integers, got ${c}`);
  }
  return verdictOf(table.both + table.onlyA + table.onlyB + table.neither, { table }, { ...opts, binary: true });
}

function checkAlpha(value: number | undefined): void {
  const alpha = value ?? 0.05;
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
}

/** The verdict over `n` rows, from their binary table or their aligned continuous scores. */
function verdictOf(
  n: number,
  rows: { table: PairedTable } | { a: ArrayLike<number>; b: ArrayLike<number> },
  opts: ComparePairOptions,
): PairVerdict {
  const alpha = opts.alpha ?? 0.05;
  const names: [string, string] = [opts.names[0], opts.names[1]];
  const table = "table" in rows ? rows.table : undefined;
  const test = table ? "mcnemar-exact" : "sign-flip";
  // A binary table's wins are the rows only A passed (a > b), its losses those only B passed.
  const { wins, ties, losses } =
    "table" in rows
      ? { wins: rows.table.onlyA, ties: n - rows.table.onlyA - rows.table.onlyB, losses: rows.table.onlyB }
      : winsTiesLosses(rows.a, rows.b);
  const scale = "table" in rows || (inUnitRange(rows.a) && inUnitRange(rows.b)) ? "points" : "raw";
  const margin = opts.margin !== undefined && opts.margin > 0 ? opts.margin : null;
  const intervalMethod = table ? "newcombe" : "bootstrap";

  if (n === 0) {
    const v: PairVerdict = {
      names,
      n,
      meanA: null,
      meanB: null,
      diff: null,
      interval: null,
      intervalMethod,
      equivalenceInterval: null,
      pValue: 1,
      pAdjusted: 1,
      family: 1,
      test,
      alpha,
      wins,
      ties,
      losses,
      significant: false,
      verdict: "no significant difference",
      mde: null,
      margin,
      equivalent: null,
      rowsNeeded: null,
      scale,
      sentence: "",
    };
    v.sentence = verdictSentence(v);
    return v;
  }

  // 0/1 scores sum exactly, so a table's means are meanOf's to the bit.
  const meanA = "table" in rows ? (rows.table.both + rows.table.onlyA) / n : meanOf(rows.a);
  const meanB = "table" in rows ? (rows.table.both + rows.table.onlyB) / n : meanOf(rows.b);
  const diff = meanA - meanB;
  let interval: [number, number];
  let equivalenceInterval: [number, number];
  let pValue: number;
  let mde: number | null;
  let rowsNeeded: number | null = null;
  if ("table" in rows) {
    const { table } = rows;
    interval = newcombePairedInterval(table, 1 - alpha)!;
    equivalenceInterval = newcombePairedInterval(table, 1 - 2 * alpha)!;
    // wins = rows A right and B wrong (b10), losses = rows B right and A wrong (b01).
    pValue = mcnemarExact(losses, wins).pValue;
    const discordantRate = (wins + losses) / n;
    const baseline = (meanA + meanB) / 2;
    mde = minimumDetectableDifference({
      kind: "binary",
      n,
      alpha,
      baseline,
      discordantRate: discordantRate > 0 ? discordantRate : undefined,
    });
    if (margin !== null && margin < 1)
      rowsNeeded = pairedRowsNeeded({ delta: margin, discordantRate, baseline, alpha });
  } else {
    const { a, b } = rows;
    // Only the sign-flip test and the SD use the row differences (not the binary path).
    const diffs = differences(a, b);
    const boot = pairedBootstrapDiff(a, b, { confidence: 1 - alpha, seed: opts.seed, resamples: opts.resamples });
    const boot90 = pairedBootstrapDiff(a, b, { confidence: 1 - 2 * alpha, seed: opts.seed, resamples: opts.resamples });
    interval = [boot.low ?? 0, boot.high ?? 0];
    equivalenceInterval = [boot90.low ?? 0, boot90.high ?? 0];
    pValue = signFlipTest(diffs, { seed: opts.seed, permutations: opts.permutations });
    const sd = n > 1 ? sampleSd(diffs) : null;
    mde = sd !== null ? minimumDetectableDifference({ kind: "continuous", n, alpha, sdDiff: sd }) : null;
    // Paired z-test sample size, the inverse of the continuous MDE.
    if (margin !== null && sd !== null && sd > 0) {
      const z = normalQuantile(1 - alpha / 2) + normalQuantile(0.8);
      rowsNeeded = Math.ceil(((z * sd) / margin) ** 2);
    }
  }
  const equivalent = margin === null ? null : equivalenceInterval[0] > -margin && equivalenceInterval[1] < margin;
  const v: PairVerdict = {
    names,
    n,
    meanA,
    meanB,
    diff,
    interval,
    intervalMethod,
    equivalenceInterval,
    pValue,
    pAdjusted: pValue,
    family: 1,
    test,
    alpha,
    wins,
    ties,
    losses,
    significant: false,
    verdict: "no significant difference",
    mde,
    margin,
    equivalent,
    rowsNeeded,
    scale,
    sentence: "",
  };
  return decide(v);
}

/** Sets `significant`, `verdict` and `sentence` from `pAdjusted` and the interval. */
function decide(v: PairVerdict): PairVerdict {
  const excludesZero =
    v.diff !== null && v.interval !== null && ((v.diff > 0 && v.interval[0] > 0) || (v.diff < 0 && v.interval[1] < 0));
  v.significant = v.diff !== null && v.pAdjusted < v.alpha && excludesZero;
  v.verdict = !v.significant ? "no significant difference" : v.diff! > 0 ? "A better" : "B better";
  v.sentence = verdictSentence(v);
  return v;
}

/**
 * Holm-adjusts a family of verdicts (every model pair × scorer of one report) and re-decides each
 * one on its adjusted p-value. Returns new objects; the unadjusted `pValue` is kept. A family of
 * one is returned unchanged.
 */
export function adjustFamily(verdicts: readonly PairVerdict[]): PairVerdict[] {
  const tested = verdicts.map((v) => (v.n > 0 ? v.pValue : NaN));
  const m = tested.filter((p) => !Number.isNaN(p)).length;
  if (m <= 1) return verdicts.map((v) => ({ ...v }));
  const adjusted = holmAdjust(tested);
  return verdicts.map((v, i) => (v.n === 0 ? { ...v } : decide({ ...v, pAdjusted: adjusted[i]!, family: m })));
}

/** The verdict as one clause (no final period). */
function verdictSentence(v: PairVerdict): string {
  const { names, scale, n } = v;
  if (n === 0 || v.diff === null || v.interval === null)
    return `no rows scored for both ${names[0]} and ${names[1]}; nothing to compare`;
  const ci = `${confidenceLabel(v.alpha)} CI`;
  const adj = v.family > 1 ? `, Holm-adjusted over ${v.family} comparisons: ${formatP(v.pAdjusted)}` : "";
  const pText = `${v.test === "mcnemar-exact" ? "McNemar" : "sign-flip test"} ${formatP(v.pValue)}${adj}`;
  const unit = scale === "points" ? " points" : "";
  if (v.significant) {
    const [winner, loser] = v.diff > 0 ? names : [names[1], names[0]];
    // Express the interval for winner − loser so both bounds are positive, matching "better by".
    const [lo, hi] = v.diff > 0 ? v.interval : [-v.interval[1], -v.interval[0]];
    return (
      `${winner} better than ${loser} by ${formatAmount(Math.abs(v.diff), scale)}${unit} ` +
      `(${ci} ${formatAmount(lo, scale)} to ${formatAmount(hi, scale)}, ${pText}, n = ${n})`
    );
  }
  const mdeText =
    v.mde !== null && v.mde > 0 && Number.isFinite(v.mde)
      ? `; minimum detectable difference ≈ ${formatAmount(v.mde, scale)}${unit}`
      : "";
  const eq =
    v.equivalent === true && v.margin !== null
      ? `; equivalent within ${formatAmount(v.margin, scale)}${unit} (${confidenceLabel(2 * v.alpha)} CI inside the margin)`
      : "";
  return (
    `no significant difference between ${names[0]} and ${names[1]} at this sample size ` +
    `(${names[0]} minus ${names[1]} = ${formatSigned(v.diff, scale)}${unit}, ` +
    `${ci} ${formatAmount(v.interval[0], scale)} to ${formatAmount(v.interval[1], scale)}, ${pText}, n = ${n}${mdeText}${eq})`
  );
}

// ---------------------------------------------------------------------------------------------
// Formatting shared with pareto.ts (not part of the public API)

/** A difference in score units as printed: ×100 with one decimal for points, two decimals raw. */
export function formatAmount(value: number, scale: "points" | "raw"): string {
  const text = scale === "points" ? (value * 100).toFixed(1) : value.toFixed(2);
  // toFixed keeps the sign of tiny negatives ("-0.0"); a zero should read as zero.
  return Number(text) === 0 ? text.replace("-", "") : text;
}

/** Like {@link formatAmount} with an explicit "+" for non-negative values. */
export function formatSigned(value: number, scale: "points" | "raw"): string {
  const text = formatAmount(value, scale);
  return text.startsWith("-") ? text : `+${text}`;
}

/** "p = 0.002", or "p < 0.001" when it would round to zero at three decimals. */
export function formatP(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`;
}

export function confidenceLabel(alpha: number): string {
  return `${Number(((1 - alpha) * 100).toFixed(1))}%`;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function checkAligned(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RangeError(`paired scores must be aligned by row: got ${a.length} and ${b.length} values`);
  }
}

function checkBinary(a: ArrayLike<number>, b: ArrayLike<number>): void {
  for (const xs of [a, b]) {
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] !== 0 && xs[i] !== 1) throw new RangeError(`binary scores must be 0 or 1, got ${xs[i]} at index ${i}`);
    }
  }
}

function inUnitRange(xs: ArrayLike<number>): boolean {
  for (let i = 0; i < xs.length; i++) if (!(xs[i]! >= 0 && xs[i]! <= 1)) return false;
  return true;
}

function differences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i]! - b[i]!;
  return d;
}

/** Sample standard deviation (n − 1 denominator); n ≥ 2. */
function sampleSd(xs: Float64Array): number {
  const m = meanOf(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}
