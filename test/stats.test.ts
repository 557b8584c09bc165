/**
 * Tests for src/stats. Every expected number names its source. Reference values were computed with
 * Python 3 + SciPy 1.17.1 + NumPy 2.4.6 (and mpmath 1.3.0 where stated); the Python snippets are
 * quoted next to each value. Resampling results are checked against an independent Python
 * re-implementation of mulberry32 and the percentile bootstrap:
 *
 *   M = 0xffffffff
 *   def mulberry32(seed):
 *       state = [seed & M]
 *       def nxt():
 *           state[0] = (state[0] + 0x6d2b79f5) & M
 *           t = state[0]
 *           t = ((t ^ (t >> 15)) * (t | 1)) & M
 *           t = (t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & M)) & M)) & M
 *           return ((t ^ (t >> 14)) & M) / 4294967296
 *       return nxt
 *   def boot(vals, B=2000, conf=0.95, seed=0x5eedba4e):
 *       rng = mulberry32(seed); n = len(vals); out = []
 *       for _ in range(B):
 *           s = 0.0
 *           for i in range(n): s += vals[math.floor(rng() * n)]
 *           out.append(s / n)
 *       t = (1 - conf) / 2
 *       return numpy.quantile(out, t), numpy.quantile(out, 1 - t)   # NumPy default = type 7
 */
import { describe, expect, it } from "vitest";
import {
  binomialCdf,
  binomialPmf,
  bootstrapMeanInterval,
  comparePair,
  comparePairedTable,
  DEFAULT_SEED,
  mcnemarExact,
  meanInterval,
  minimumDetectableDifference,
  mulberry32,
  normalQuantile,
  pairedBootstrapDiff,
  paretoFront,
  signFlipTest,
  wilsonInterval,
  winsTiesLosses,
  type PairVerdict,
} from "../src/stats/index.js";

/** |actual − expected| ≤ rel·|expected| (for values spanning many orders of magnitude). */
function expectRelClose(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

/** Rows as aligned 0/1 arrays from a 2×2 table, in the order both-right, A-only, B-only, both-wrong. */
function table(bothRight: number, aOnly: number, bOnly: number, bothWrong: number): [number[], number[]] {
  const rep = (v: number, k: number): number[] => Array.from({ length: k }, () => v);
  return [
    [...rep(1, bothRight), ...rep(1, aOnly), ...rep(0, bOnly), ...rep(0, bothWrong)],
    [...rep(1, bothRight), ...rep(0, aOnly), ...rep(1, bOnly), ...rep(0, bothWrong)],
  ];
}

describe("mulberry32", () => {
  it("matches the Python re-implementation (header) for the default seed and seed 1", () => {
    const d = mulberry32(DEFAULT_SEED);
    // Python: r = mulberry32(0x5eedba4e); [r() for _ in range(3)]
    expect([d(), d(), d()]).toEqual([0.360087571432814, 0.39510552235879004, 0.3223097121808678]);
    const s = mulberry32(1);
    // Python: r = mulberry32(1); [r() for _ in range(3)]
    expect([s(), s(), s()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });
});

describe("normalQuantile (Acklam, documented relative error < 1.15e-9)", () => {
  // scipy.stats.norm.ppf(p) for each p.
  const cases: [number, number][] = [
    [0.975, 1.959963984540054],
    [0.8, 0.8416212335729143],
    [0.01, -2.3263478740408408],
    [0.995, 2.5758293035489004],
    [0.02425, -1.972961051311885],
    [1e-10, -6.361340902404056],
    [1 - 1e-12, 7.0344869100478356],
  ];
  it.each(cases)("Φ⁻¹(%s) ≈ %s", (p, expected) => expectRelClose(normalQuantile(p), expected, 1.2e-9));
  it("is exactly 0 at 0.5 and infinite at the ends", () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe("wilsonInterval", () => {
  // scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
  it("8/10 at 95% is [0.4902, 0.9433]", () => {
    const w = wilsonInterval(8, 10);
    expect(w.mean).toBe(0.8);
    expect(w.low).toBeCloseTo(0.4901624715366418, 9);
    expect(w.high).toBeCloseTo(0.9433178485456248, 9);
  });
  it("0/10 is [0, 0.2775] with the lower bound exactly 0", () => {
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(0, 10).high).toBeCloseTo(0.27753279986288926, 9);
  });
  it("10/10 is [0.7225, 1] with the upper bound exactly 1", () => {
    expect(wilsonInterval(10, 10).low).toBeCloseTo(0.7224672001371109, 9);
    expect(wilsonInterval(10, 10).high).toBe(1);
  });
  it("45/100 at 90% is [0.3706, 0.5321]", () => {
    const w = wilsonInterval(45, 100, 0.9);
    expect(w.low).toBeCloseTo(0.370560970694454, 9);
    expect(w.high).toBeCloseTo(0.5320733013838636, 9);
  });
  it("1/1 is [0.2065, 1]", () => {
    expect(wilsonInterval(1, 1).low).toBeCloseTo(0.20654931437723745, 9);
  });
  it("n = 0 gives nulls, not NaN", () => {
    expect(wilsonInterval(0, 0)).toEqual({ mean: null, low: null, high: null });
  });
  it("rejects impossible counts", () => {
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
  });
});

describe("bootstrapMeanInterval", () => {
  // The grid i/199, i = 0..199: mean exactly 0.5.
  const grid = Array.from({ length: 200 }, (_, i) => i / 199);

  it("matches the independent Python bootstrap for seed 42 and covers the true mean", () => {
    const r = bootstrapMeanInterval(grid, { seed: 42 });
    // Python: boot([i/199 for i in range(200)], seed=42) = (0.46027135678391945, 0.538951633165829)
    expect(r.low).toBeCloseTo(0.46027135678391945, 12);
    expect(r.high).toBeCloseTo(0.538951633165829, 12);
    expect(r.mean).toBeCloseTo(0.5, 15);
    expect(r.low! < 0.5 && 0.5 < r.high!).toBe(true);
    // Sanity against normal theory: 1.959964 · sd(grid, ddof=1) / √200 = 0.04030903676790227
    // (numpy.std(grid, ddof=1)); the bootstrap half-width should be within 10% of it.
    expect(Math.abs((r.high! - r.low!) / 2 / 0.04030903676790227 - 1)).toBeLessThan(0.1);
  });

  it("is byte-for-byte reproducible for a seed and accepts Float64Array", () => {
    const a = bootstrapMeanInterval(grid, { seed: 7 });
    const b = bootstrapMeanInterval(Float64Array.from(grid), { seed: 7 });
    expect(b).toEqual(a);
    expect(bootstrapMeanInterval(grid, { seed: 8 })).not.toEqual(a);
    expect(bootstrapMeanInterval(grid)).toEqual(bootstrapMeanInterval(grid, { seed: DEFAULT_SEED }));
  });

  it("handles empty and constant data", () => {
    expect(bootstrapMeanInterval([])).toEqual({ mean: null, low: null, high: null });
    expect(bootstrapMeanInterval([0.3, 0.3, 0.3])).toEqual({ mean: 0.3, low: 0.3, high: 0.3 });
  });
});

describe("meanInterval", () => {
  it("uses Wilson for binary data", () => {
    expect(meanInterval([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], "binary")).toEqual(wilsonInterval(8, 10));
  });
  it("uses the bootstrap for continuous data", () => {
    const v = [0.1, 0.5, 0.9, 0.4];
    expect(meanInterval(v, "continuous", { seed: 3 })).toEqual(bootstrapMeanInterval(v, { seed: 3 }));
  });
  it("rejects non-0/1 values declared binary", () => {
    expect(() => meanInterval([1, 0.5], "binary")).toThrow(RangeError);
  });
});

describe("binomial distribution", () => {
  // scipy.stats.binom.pmf(k, n, p), scipy.stats.binom.cdf(k, n, p)
  const cases: [number, number, number, number, number][] = [
    [3, 10, 0.3, 0.2668279319999998, 0.6496107184000002],
    [7, 10, 0.3, 0.009001691999999992, 0.9984096136],
    [0, 20, 0.1, 0.12157665459056922, 0.12157665459056925],
    [50, 100, 0.5, 0.07958923738717875, 0.5397946186935889],
    [400, 1000, 0.37, 0.003810328130974439, 0.9766949451853649],
    [499000, 1_000_000, 0.5, 0.00010798197801891438, 0.0228041499326948],
  ];
  it.each(cases)("k=%s n=%s p=%s", (k, n, p, pmf, cdf) => {
    expectRelClose(binomialPmf(k, n, p), pmf, 1e-10);
    expectRelClose(binomialCdf(k, n, p), cdf, 1e-10);
  });
  it("handles the edges", () => {
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialPmf(11, 10, 0.5)).toBe(0);
  });
});

describe("mcnemarExact", () => {
  // Each expected value is scipy.stats.binomtest(min(b01, b10), b01 + b10, 0.5).pvalue, which is
  // the same two-sided exact test: for p = ½ the distribution is symmetric, so it equals
  // min(1, 2·P[X ≤ min]).
  it("3 vs 9 discordant: p = 0.14599609375", () => {
    // Hand check: 2·(C(12,0)+C(12,1)+C(12,2)+C(12,3))/2^12 = 2·(1+12+66+220)/4096 = 598/4096.
    // Loader's log-space pmf is accurate to ~1e-15 relative, not bit-exact, hence the tolerance.
    expect(mcnemarExact(3, 9).discordant).toBe(12);
    expectRelClose(mcnemarExact(3, 9).pValue, 598 / 4096, 1e-12);
    expectRelClose(mcnemarExact(9, 3).pValue, 0.14599609375, 1e-12);
  });
  it("0 vs 5: p = 2/32 = 0.0625; 6 vs 0: 2/64 = 0.03125", () => {
    expectRelClose(mcnemarExact(0, 5).pValue, 0.0625, 1e-12);
    expectRelClose(mcnemarExact(6, 0).pValue, 0.03125, 1e-12);
  });
  it("10 vs 20: p = 0.09873714670538905", () => {
    expectRelClose(mcnemarExact(10, 20).pValue, 0.09873714670538905, 1e-10);
  });
  it("stays accurate deep in the tail and at n = 1e6", () => {
    // binomtest(1000, 1100).pvalue = 2.3274498138260934e-187
    expectRelClose(mcnemarExact(1000, 100).pValue, 2.3274498138260934e-187, 1e-9);
    // binomtest(499000, 1000000).pvalue = 0.0456082998653896
    expectRelClose(mcnemarExact(499_000, 501_000).pValue, 0.0456082998653896, 1e-9);
  });
  it("no discordant rows or a balanced split gives p = 1", () => {
    expect(mcnemarExact(0, 0)).toEqual({ pValue: 1, discordant: 0 });
    expect(mcnemarExact(4, 4).pValue).toBe(1);
    expect(mcnemarExact(0, 1).pValue).toBe(1);
  });
  it("rejects non-integer counts", () => {
    expect(() => mcnemarExact(1.5, 2)).toThrow(RangeError);
  });
});

describe("winsTiesLosses", () => {
  it("counts from A's side", () => {
    expect(winsTiesLosses([1, 0.5, 0, 0.2], [0, 0.5, 1, 0.1])).toEqual({ wins: 2, ties: 1, losses: 1 });
  });
  it("requires aligned arrays", () => {
    expect(() => winsTiesLosses([1], [1, 0])).toThrow(RangeError);
  });
});

describe("pairedBootstrapDiff", () => {
  it("identical arrays give diff 0 and the interval [0, 0]", () => {
    const a = [0.2, 0.9, 0.4, 1, 0];
    expect(pairedBootstrapDiff(a, [...a])).toEqual({ meanDiff: 0, low: 0, high: 0, n: 5 });
  });
  it("matches the Python paired bootstrap on per-row differences", () => {
    const [a, b] = table(130, 40, 15, 15);
    // Python: boot([x - y for x, y in zip(a, b)]) = (0.055, 0.195); diff (170 - 145)/200 = 0.125
    const r = pairedBootstrapDiff(a, b);
    expect(r.meanDiff).toBeCloseTo(0.125, 15);
    expect(r.low).toBeCloseTo(0.055, 12);
    expect(r.high).toBeCloseTo(0.195, 12);
  });
  it("empty input gives nulls", () => {
    expect(pairedBootstrapDiff([], [])).toEqual({ meanDiff: null, low: null, high: null, n: 0 });
  });
});

describe("signFlipTest", () => {
  it("is exact by enumeration for few non-zero differences", () => {
    // Hand: non-zero diffs 0.5, 0.2, 0.3, -0.1 (observed |Σ| = 0.9). Of the 16 sign patterns only
    // ±(0.5+0.2+0.3+0.1) = ±1.1 and ±(0.5+0.2+0.3-0.1) = ±0.9 reach 0.9, so p = 4/16.
    expect(signFlipTest([0.5, 0.2, 0.3, -0.1, 0])).toBe(0.25);
  });
  it("equals McNemar's exact test on 0/1 differences", () => {
    // 3 wins, 0 losses: sign test p = 2/8, McNemar 2·(1/2)^3 = 0.25.
    expect(signFlipTest([1, 1, 1, 0, 0])).toBe(0.25);
    expectRelClose(mcnemarExact(0, 3).pValue, 0.25, 1e-12);
  });
  it("Monte Carlo p is close to the exact p and reproducible", () => {
    const ds = Array.from({ length: 20 }, (_, i) => ((i * 37) % 11) / 10 - 0.3);
    // Exact p over all 2^19 patterns of the 19 non-zero values, by Python enumeration
    // (itertools.product([1, -1], repeat=19), same 1e-9 tie tolerance) = 0.01924896240234375.
    const p = signFlipTest(ds, { permutations: 10_000 });
    // Allow 4 Monte Carlo standard errors: 4·√(p(1−p)/10000) ≈ 0.0055.
    expect(Math.abs(p - 0.01924896240234375)).toBeLessThan(0.0055);
    expect(signFlipTest(ds, { permutations: 10_000 })).toBe(p);
  });
  it("all-zero differences give p = 1", () => {
    expect(signFlipTest([0, 0, 0])).toBe(1);
  });
});

describe("minimumDetectableDifference", () => {
  it("matches Connor's McNemar formula solved numerically (scipy.optimize.brentq)", () => {
    // brentq(lambda d: (za*sqrt(psi) + zb*sqrt(psi - d*d))**2 / d**2 - n, 1e-9, psi) with
    // za = norm.ppf(0.975), zb = norm.ppf(0.8): n=200, psi=0.2 → 0.08807269345160358;
    // n=800 → 0.04423170481481222.
    expectRelClose(
      minimumDetectableDifference({ kind: "binary", n: 200, discordantRate: 0.2 })!,
      0.08807269345160358,
      1e-8,
    );
    expectRelClose(
      minimumDetectableDifference({ kind: "binary", n: 800, discordantRate: 0.2 })!,
      0.04423170481481222,
      1e-8,
    );
  });
  it("uses the two-proportion (Fleiss) bound without a discordant rate", () => {
    // brentq on za*sqrt(2*pb*(1-pb)/n) + zb*sqrt((p1*(1-p1) + p2*(1-p2))/n) - d, p2 = p1 ± d
    // toward 0.5: n=100 p1=0.7 → 0.1926567550831788; n=400 p1=0.1 → 0.06731123634970321;
    // n=100, unknown baseline (0.5) → 0.19322515092981005.
    expectRelClose(minimumDetectableDifference({ kind: "binary", n: 100, baseline: 0.7 })!, 0.1926567550831788, 1e-8);
    expectRelClose(minimumDetectableDifference({ kind: "binary", n: 400, baseline: 0.1 })!, 0.06731123634970321, 1e-8);
    expectRelClose(minimumDetectableDifference({ kind: "binary", n: 100 })!, 0.19322515092981005, 1e-8);
  });
  it("falls back to the two-proportion bound when the McNemar MDE exceeds the discordant rate", () => {
    // Closed form with n=20, psi=0.05 gives 0.132 > 0.05; Fleiss n=20, p1=0.5 → 0.39505601224658266.
    expectRelClose(
      minimumDetectableDifference({ kind: "binary", n: 20, discordantRate: 0.05, baseline: 0.5 })!,
      0.39505601224658266,
      1e-8,
    );
  });
  it("continuous: (z0.975 + z0.8)·sd/√n", () => {
    // (1.959963984540054 + 0.8416212335729143) · 0.3 / √100 = 0.08404755654338905
    expectRelClose(
      minimumDetectableDifference({ kind: "continuous", n: 100, sdDiff: 0.3 })!,
      0.08404755654338905,
      1e-8,
    );
  });
  it("decreases as n grows", () => {
    const ns = [25, 50, 100, 200, 400, 800];
    for (const opts of [{ discordantRate: 0.2 }, { baseline: 0.8 }]) {
      const mdes = ns.map((n) => minimumDetectableDifference({ kind: "binary", n, ...opts })!);
      for (let i = 1; i < mdes.length; i++) expect(mdes[i]!).toBeLessThan(mdes[i - 1]!);
    }
  });
  it("returns null for n = 0", () => {
    expect(minimumDetectableDifference({ kind: "continuous", n: 0, sdDiff: 1 })).toBeNull();
  });
});

describe("comparePair", () => {
  const names: [string, string] = ["large", "small"];

  it("comparePairedTable gives comparePair's binary verdict from the 2×2 table alone, to the bit", () => {
    const rng = mulberry32(7);
    const tables: [number, number, number, number][] = [
      [0, 0, 0, 0],
      [5, 0, 0, 0],
      [0, 0, 0, 9],
      [130, 40, 15, 15],
      [1, 2, 3, 4],
      [2400, 700, 300, 1600],
    ];
    for (let k = 0; k < 20; k++)
      tables.push([0, 0, 0, 0].map(() => Math.floor(rng() * 60)) as [number, number, number, number]);
    for (const [both, onlyA, onlyB, neither] of tables) {
      // Rows shuffled: the table does not depend on their order, comparePair's verdict neither.
      const rows = [
        ...Array<[number, number]>(both).fill([1, 1]),
        ...Array<[number, number]>(onlyA).fill([1, 0]),
        ...Array<[number, number]>(onlyB).fill([0, 1]),
        ...Array<[number, number]>(neither).fill([0, 0]),
      ].sort(() => rng() - 0.5);
      for (const margin of [undefined, 0.02]) {
        const opts = { names, alpha: 0.05, ...(margin === undefined ? {} : { margin }) };
        const fromRows = comparePair(
          rows.map((r) => r[0]),
          rows.map((r) => r[1]),
          { ...opts, binary: true },
        );
        expect(comparePairedTable({ both, onlyA, onlyB, neither }, opts)).toEqual(fromRows);
      }
    }
    expect(() => comparePairedTable({ both: 1.5, onlyA: 0, onlyB: 0, neither: 0 }, { names })).toThrow(RangeError);
    expect(() => comparePairedTable({ both: 1, onlyA: 0, onlyB: 0, neither: 0 }, { names, alpha: 0.7 })).toThrow(
      RangeError,
    );
  });

  it("clear win (binary)", () => {
    // 130 both right, 40 only large, 15 only small, 15 both wrong.
    const [a, b] = table(130, 40, 15, 15);
    const v = comparePair(a, b, { binary: true, names });
    // diff = (170 − 145)/200; Newcombe method 10 CI from scripts/newcombe_reference.py
    // (0.05318458847664924, 0.19604905394117778);
    // p = scipy.stats.binomtest(15, 55).pvalue = 0.0010158471941252854.
    expect(v).toMatchObject({
      n: 200,
      meanA: 0.85,
      meanB: 0.725,
      wins: 40,
      ties: 145,
      losses: 15,
      significant: true,
      verdict: "A better",
      test: "mcnemar-exact",
    });
    expectRelClose(v.pValue, 0.0010158471941252854, 1e-10);
    expectRelClose(v.interval![0], 0.05318458847664924, 1e-8);
    expectRelClose(v.interval![1], 0.19604905394117778, 1e-8);
    expect(v.sentence).toBe("large better than small by 12.5 points (95% CI 5.3 to 19.6, McNemar p = 0.001, n = 200)");
  });

  it("the same data in the other order says small is worse, with the interval flipped", () => {
    const [a, b] = table(130, 40, 15, 15);
    const v = comparePair(b, a, { binary: true, names: ["small", "large"] });
    expect(v.verdict).toBe("B better");
    expect(v.sentence).toBe("large better than small by 12.5 points (95% CI 5.3 to 19.6, McNemar p = 0.001, n = 200)");
  });

  it("no difference (binary) reports the MDE", () => {
    // 60 both right, 9 only large, 7 only small, 44 both wrong: diff 2/120 = +1.7 points;
    // Newcombe CI (-0.04986319209965655, 0.08284566817981175); p = binomtest(7, 16).pvalue = 0.803619384765625;
    // MDE = Connor brentq with n=120, psi=16/120 → 0.09247167967010676 (9.2 points).
    const [a, b] = table(60, 9, 7, 44);
    const v = comparePair(a, b, { binary: true, names });
    expect(v.significant).toBe(false);
    expect(v.verdict).toBe("no significant difference");
    expectRelClose(v.mde!, 0.09247167967010676, 1e-8);
    expect(v.sentence).toBe(
      "no significant difference between large and small at this sample size " +
        "(large minus small = +1.7 points, 95% CI -5.0 to 8.3, McNemar p = 0.804, n = 120; " +
        "minimum detectable difference ≈ 9.2 points)",
    );
  });

  it("continuous scores use the sign-flip test", () => {
    // Non-zero diffs 0.5, 0.2, 0.3, -0.1: exact p = 0.25 (see signFlipTest above).
    const v = comparePair([0.9, 0.6, 0.8, 0.3, 0.5], [0.4, 0.4, 0.5, 0.4, 0.5], { binary: false, names });
    expect(v.test).toBe("sign-flip");
    expect(v.pValue).toBe(0.25);
    expect(v.significant).toBe(false);
    expect(v.scale).toBe("points");
    expect(v.sentence).toMatch(/sign-flip test p = 0\.250, n = 5; minimum detectable difference ≈ \d+\.\d points\)$/);
  });

  it("identical arrays: zero difference, p = 1, and an honest interval (4 rows say little)", () => {
    const a = [1, 0, 1, 1];
    const v = comparePair(a, [...a], { binary: true, names });
    expect(v).toMatchObject({ diff: 0, pValue: 1, significant: false, intervalMethod: "newcombe" });
    // Newcombe (3, 0, 0, 1): ±0.42716620538637595 (scripts/newcombe_reference.py), not [0, 0].
    expectRelClose(v.interval![1], 0.42716620538637595, 1e-8);
    expectRelClose(v.interval![0], -0.42716620538637595, 1e-8);
  });

  it("no shared rows", () => {
    const v = comparePair([], [], { binary: true, names });
    expect(v.sentence).toBe("no rows scored for both large and small; nothing to compare");
    expect(v.diff).toBeNull();
  });
});

describe("paretoFront", () => {
  it("keeps non-dominated models, including exact ties, and skips unknown costs", () => {
    const front = paretoFront([
      { name: "cheap", cost: 1, quality: 0.5 },
      { name: "cheap-twin", cost: 1, quality: 0.5 }, // identical: neither dominates
      { name: "good", cost: 2, quality: 0.7 },
      { name: "worse-same-price", cost: 2, quality: 0.6 }, // dominated by good (same cost, lower quality)
      { name: "pricey", cost: 3, quality: 0.6 }, // dominated by good
      { name: "best", cost: 5, quality: 0.9 },
      { name: "unknown", cost: Number.NaN, quality: 1 },
    ]);
    expect([...front].sort()).toEqual(["best", "cheap", "cheap-twin", "good"]);
  });
  it("same quality at a lower cost dominates", () => {
    expect(
      paretoFront([
        { name: "a", cost: 1, quality: 0.5 },
        { name: "b", cost: 2, quality: 0.5 },
      ]),
    ).toEqual(new Set(["a"]));
  });
});

describe("PairVerdict shape", () => {
  it("is plain JSON-serialisable data", () => {
    const [a, b] = table(5, 2, 1, 2);
    const v: PairVerdict = comparePair(a, b, { binary: true, names: ["x", "y"] });
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });
});
