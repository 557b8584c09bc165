/**
 * The decision layer: Newcombe's paired interval (reference values from an independent
 * implementation, scripts/newcombe_reference.py, and seeded coverage simulations), Holm,
 * Connor's rows-needed, unbiased pass@k / pass^k, and the recommendation rules of
 * src/report/decision.ts, each of which failed (or did not exist) before issue 9.
 */
import { describe, expect, it } from "vitest";
import { decideDataset, type DecisionModel } from "../src/report/decision.js";
import {
  adjustFamily,
  comparePair,
  holmAdjust,
  minimumDetectableDifference,
  mulberry32,
  newcombePairedInterval,
  pairedRowsNeeded,
  passAtK,
  passHatK,
  type PairVerdict,
} from "../src/stats/index.js";

/** |actual − expected| ≤ rel·|expected|. 1e-8 covers the normal quantile (Acklam, 1.15e-9 relative). */
function close(actual: number, expected: number, rel = 1e-8): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

function table(both: number, onlyA: number, onlyB: number, neither: number): [number[], number[]] {
  const rep = (v: number, k: number) => Array.from({ length: k }, () => v);
  return [
    [...rep(1, both), ...rep(1, onlyA), ...rep(0, onlyB), ...rep(0, neither)],
    [...rep(1, both), ...rep(0, onlyA), ...rep(1, onlyB), ...rep(0, neither)],
  ];
}

describe("Newcombe method 10 paired interval", () => {
  it("matches the independent reference implementation at 95% and 90%", () => {
    // python3 scripts/newcombe_reference.py (standard library only, corrected phi).
    const cases: [[number, number, number, number], [number, number], [number, number]][] = [
      [
        [130, 40, 15, 15],
        [0.05318458847664924, 0.19604905394117778],
        [0.06482643195095013, 0.18464320637710058],
      ],
      [
        [60, 9, 7, 44],
        [-0.04986319209965655, 0.08284566817981175],
        [-0.03936999874941505, 0.07245408907009687],
      ],
      [
        [28, 2, 0, 0],
        [-0.05665215635044704, 0.2132345836261691],
        [-0.02719830259985835, 0.1827155628750875],
      ],
      [
        [45, 1, 3, 1],
        [-0.14854730982535141, 0.06061928611655103],
        [-0.1273865804018685, 0.04084825986869191],
      ],
    ];
    for (const [[a, b, c, d], ci95, ci90] of cases) {
      const t = { both: a, onlyA: b, onlyB: c, neither: d };
      const [lo, hi] = newcombePairedInterval(t)!;
      close(lo, ci95[0]);
      close(hi, ci95[1]);
      const [lo90, hi90] = newcombePairedInterval(t, 0.9)!;
      close(lo90, ci90[0]);
      close(hi90, ci90[1]);
    }
    expect(newcombePairedInterval({ both: 0, onlyA: 0, onlyB: 0, neither: 0 })).toBeNull();
  });

  /** Share of seeded datasets whose 95% interval covers the true difference. */
  function coverage(n: number, pA: number, pB: number, discordance: number, sims: number, seed: number): number {
    // Cell probabilities with the given margins and share of discordant rows.
    const b = (discordance + (pA - pB)) / 2;
    const c = (discordance - (pA - pB)) / 2;
    const a = pA - b;
    const rng = mulberry32(seed);
    let covered = 0;
    for (let s = 0; s < sims; s++) {
      const t = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
      for (let i = 0; i < n; i++) {
        const u = rng();
        if (u < a) t.both++;
        else if (u < a + b) t.onlyA++;
        else if (u < a + b + c) t.onlyB++;
        else t.neither++;
      }
      const [lo, hi] = newcombePairedInterval(t)!;
      if (lo <= pA - pB + 1e-12 && pA - pB - 1e-12 <= hi) covered++;
    }
    return covered / sims;
  }

  it("covers at least 93% at n = 30 and n = 50, accuracies near 0.95 included, and at n = 300 (seeded)", () => {
    const scenarios: [number, number, number][] = [
      [0.95, 0.97, 0.04], // the case the percentile bootstrap covered only 87% of the time at n = 50
      [0.95, 0.95, 0.06],
      [0.8, 0.85, 0.15],
      [0.5, 0.5, 0.3],
    ];
    const seen: string[] = [];
    for (const n of [30, 50, 300]) {
      for (const [i, [pA, pB, disc]] of scenarios.entries()) {
        const cov = coverage(n, pA, pB, disc, n === 300 ? 1000 : 2000, 1000 * n + i);
        seen.push(`n=${n} ${pA}/${pB}: ${cov}`);
        expect(cov, `n = ${n}, accuracies ${pA} vs ${pB}, discordance ${disc}`).toBeGreaterThanOrEqual(0.93);
      }
    }
    expect(seen).toHaveLength(12);
  });

  it("replaces the bootstrap for one-trial pass/fail comparisons", () => {
    const [a, b] = table(130, 40, 15, 15);
    const v = comparePair(a, b, { binary: true, names: ["x", "y"] });
    expect(v.intervalMethod).toBe("newcombe");
    close(v.interval![0], 0.05318458847664924);
    const cont = comparePair([0.2, 0.4, 0.9], [0.1, 0.3, 0.5], { binary: false, names: ["x", "y"] });
    expect(cont.intervalMethod).toBe("bootstrap");
  });
});

describe("Holm adjustment", () => {
  it("matches the step-down formula (statsmodels multipletests method='holm')", () => {
    // Sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, max(1·0.04, 0.06) = 0.06.
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((want, i) => close(adj[i]!, want, 1e-12));
    expect(holmAdjust([0.6, 0.9])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });

  it("keeps 3 identical models × 3 scorers at ≤ 5% runs with any false 'better' (was 29.5% unadjusted)", () => {
    // 400 seeded runs of 200 rows; each scorer has its own pass probability; models are identical
    // in distribution (independent draws), so every "better" is false.
    const rng = mulberry32(20261129);
    const runs = 400;
    let anyRaw = 0;
    let anyHolm = 0;
    for (let r = 0; r < runs; r++) {
      const verdicts: PairVerdict[] = [];
      for (const p of [0.6, 0.75, 0.9]) {
        const models = [0, 1, 2].map(() => Array.from({ length: 200 }, () => (rng() < p ? 1 : 0)));
        for (let i = 0; i < 3; i++)
          for (let j = i + 1; j < 3; j++)
            verdicts.push(comparePair(models[i]!, models[j]!, { binary: true, names: [`m${i}`, `m${j}`] }));
      }
      if (verdicts.some((v) => v.significant)) anyRaw++;
      if (adjustFamily(verdicts).some((v) => v.significant)) anyHolm++;
    }
    expect(anyHolm / runs).toBeLessThanOrEqual(0.05);
    expect(anyRaw / runs).toBeGreaterThan(anyHolm / runs);
  });

  it("re-decides each verdict on its adjusted p and keeps the unadjusted one", () => {
    const [a, b] = table(60, 12, 4, 24); // McNemar p = 0.0768 alone
    const [c, d] = table(60, 15, 4, 21); // p = 2·P(X ≤ 4 | 19) = 0.0192 alone; 3 × 0.0192 > 0.05 after Holm
    const [e, f] = table(60, 9, 9, 22);
    const raw = [a, c, e].map((x, i) => comparePair(x, [b, d, f][i]!, { binary: true, names: ["p", "q"] }));
    expect(raw[1]!.significant).toBe(true);
    const adj = adjustFamily(raw);
    expect(adj[1]!.pValue).toBe(raw[1]!.pValue);
    close(adj[1]!.pAdjusted, Math.min(1, 3 * raw[1]!.pValue), 1e-12);
    expect(adj[1]!.significant).toBe(false);
    expect(adj[1]!.sentence).toContain("Holm-adjusted over 3 comparisons");
  });
});

describe("rows needed (Connor) and the MDE agree", () => {
  it("is the inverse of the minimum detectable difference", () => {
    for (const [psi, delta] of [
      [0.2, 0.05],
      [0.1, 0.03],
      [0.4, 0.1],
    ] as const) {
      const n = pairedRowsNeeded({ delta, discordantRate: psi })!;
      expect(minimumDetectableDifference({ kind: "binary", n, discordantRate: psi })!).toBeLessThanOrEqual(
        delta + 1e-12,
      );
      expect(minimumDetectableDifference({ kind: "binary", n: n - 1, discordantRate: psi })!).toBeGreaterThan(delta);
    }
    // ψ = 0.2, δ = 0.05: (1.959964·√0.2 + 0.841621·√0.1975)² / 0.0025 = 625.55 → 626.
    expect(pairedRowsNeeded({ delta: 0.05, discordantRate: 0.2 })).toBe(626);
  });
});

describe("unbiased pass@k and pass^k", () => {
  it("follow Chen et al. and Yao et al.", () => {
    expect(passAtK(5, 2, 3)).toBeCloseTo(1 - 1 / 10, 14); // 1 − C(3,3)/C(5,3)
    expect(passHatK(5, 2, 3)).toBe(0); // C(2,3) = 0
    expect(passHatK(5, 4, 2)).toBeCloseTo(6 / 10, 14); // C(4,2)/C(5,2)
    expect(passAtK(3, 0, 3)).toBe(0);
    expect(passHatK(3, 3, 3)).toBe(1);
    expect(passAtK(2, 1, 3)).toBeNull(); // fewer trials than k
  });
});

// ---------------------------------------------------------------------------------------------
// Recommendation rules

const model = (
  name: string,
  quality: number,
  costPerPass: number | null,
  extra: Partial<DecisionModel> = {},
): DecisionModel => ({
  name,
  quality,
  results: 200,
  errors: 0,
  criticalFailures: [],
  costPerPass,
  ...extra,
});
const settings = {
  dataset: "qa",
  scorer: "exact",
  kind: "binary" as const,
  margin: 0.05,
  maxErrorRate: 0.05,
  costMatters: true,
};
const verdict = (t: [number, number, number, number], names: [string, string]) => {
  const [a, b] = table(...t);
  return comparePair(a, b, { binary: true, names, margin: 0.05 });
};

describe("decideDataset", () => {
  it("significantly better: names the winner, the gain, the interval and the cost ratio", () => {
    const d = decideDataset({
      ...settings,
      models: [model("large", 0.85, 4.8), model("small", 0.725, 1)],
      pairs: [verdict([130, 40, 15, 15], ["large", "small"])],
    });
    expect(d.outcome).toBe("better");
    expect(d.recommended).toBe("large");
    expect(d.sentence).toBe(
      "qa · exact: large is better than small by 12.5 points (95% CI 5.3 to 19.6, p = 0.001) at 4.8× the cost per pass — ship large if the gain is worth the cost",
    );
  });

  it("not significant and inside ±margin: equivalent, and only then ship the cheaper", () => {
    // 2,000 rows, 60 discordant split 31/29: 90% CI well inside ±5 points.
    const d = decideDataset({
      ...settings,
      models: [model("large", 0.801, 10), model("small", 0.8, 2.1)],
      pairs: [verdict([1571, 31, 29, 369], ["large", "small"])],
    });
    expect(d.outcome).toBe("equivalent");
    expect(d.recommended).toBe("small");
    expect(d.sentence).toMatch(
      /^qa · exact: large and small are equivalent within 5 points \(90% CI -?\d+\.\d to \d+\.\d\) — ship the cheaper, small \(21% of the cost per pass\)$/,
    );
  });

  it("not significant and not shown equivalent: inconclusive with the rows needed, never 'ship'", () => {
    // The --limit 5 case: 20 points apart on 5 rows.
    const d = decideDataset({
      ...settings,
      models: [model("large", 1, 10), model("small", 0.8, 1)],
      pairs: [verdict([4, 1, 0, 0], ["large", "small"])],
    });
    expect(d.outcome).toBe("inconclusive");
    expect(d.recommended).toBeNull();
    expect(d.sentence).not.toMatch(/ship/);
    expect(d.sentence).toMatch(
      /^qa · exact: inconclusive: large leads small by 20\.0 points \(95% CI -?\d+\.\d to \d+\.\d, p = 1\.000, n = 5\); about [\d,]+ rows are needed to detect a 5-point difference$/,
    );
    expect(d.rowsNeeded).toBe(pairedRowsNeeded({ delta: 0.05, discordantRate: 0.2 }));
  });

  it("a tie is a tie, not 'the highest quality'", () => {
    const d = decideDataset({
      ...settings,
      models: [model("large", 0.8, 10), model("small", 0.8, 1)],
      pairs: [verdict([30, 5, 5, 10], ["large", "small"])],
    });
    expect(d.outcome).toBe("inconclusive");
    // Equal quality: the cheaper is named first.
    expect(d.sentence).toMatch(
      /^qa · exact: inconclusive: small and large tie \(95% CI -?\d+\.\d to \d+\.\d, n = 50\); about [\d,]+ rows are needed/,
    );
    expect(d.sentence).not.toMatch(/highest/);
  });

  it("a model above the error ceiling or failing a critical row is never recommended, and the sentence says why", () => {
    const pairs = [verdict([130, 40, 15, 15], ["large", "small"])];
    const errs = decideDataset({
      ...settings,
      models: [model("large", 0.85, 4.8, { errors: 98 }), model("small", 0.725, 1)],
      pairs,
    });
    expect(errs.recommended).toBe("small");
    expect(errs.sentence).toBe(
      "qa · exact: small is the only eligible model (not eligible: large failed 49% of calls (ceiling 5%))",
    );
    const crit = decideDataset({
      ...settings,
      models: [model("large", 0.85, 4.8), model("small", 0.725, 1, { criticalFailures: ["qa/r7"] })],
      pairs,
    });
    expect(crit.recommended).toBe("large");
    expect(crit.sentence).toContain("small failed critical row qa/r7");
    const none = decideDataset({
      ...settings,
      models: [model("large", 0.85, 4.8, { errors: 200 }), model("small", 0.725, 1, { criticalFailures: ["qa/r7"] })],
      pairs,
    });
    expect(none.outcome).toBe("none");
    expect(none.sentence).toBe(
      "qa · exact: no model can be recommended: large failed 100% of calls (ceiling 5%); small failed critical row qa/r7",
    );
  });

  it("considers every model on the cost/quality front, not only the strongest cheaper one", () => {
    // mid is significantly better than cheap and equivalent to top, which costs more: ship mid.
    const models = [model("top", 0.901, 10), model("mid", 0.9, 3), model("cheap", 0.7, 1)];
    const pairs = [
      verdict([1780, 22, 20, 178], ["top", "mid"]),
      verdict([1400, 400, 0, 200], ["mid", "cheap"]),
      verdict([1400, 402, 0, 198], ["top", "cheap"]),
    ];
    const d = decideDataset({ ...settings, models, pairs });
    expect(d.outcome).toBe("equivalent");
    expect(d.recommended).toBe("mid");
    expect(d.sentence).toMatch(
      /top and mid are equivalent within 5 points .* — ship the cheaper, mid \(30% of the cost per pass\)$/,
    );
  });

  it("without cost (or when cost does not matter) equivalence does not pick a model", () => {
    const d = decideDataset({
      ...settings,
      costMatters: false,
      models: [model("large", 0.801, 10), model("small", 0.8, 2.1)],
      pairs: [verdict([1571, 31, 29, 369], ["large", "small"])],
    });
    expect(d.outcome).toBe("equivalent");
    expect(d.recommended).toBeNull();
    expect(d.sentence).toMatch(/choose on other grounds$/);
  });
});

describe("the decision config block", () => {
  const base = {
    datasets: [{ path: "x.jsonl" }],
    models: [{ name: "a", endpoint: "emulator://a" }],
    emulator: { models: { a: {} } },
  };
  it("is optional, with documented defaults", async () => {
    const { parseConfig } = await import("../src/index.js");
    expect(parseConfig(base).config.decision).toEqual({
      margin: 5,
      maxErrorRate: 0.05,
      costMatters: true,
      alpha: 0.05,
      minBaselineMatch: 0.9,
    });
    const set = parseConfig({
      ...base,
      decision: {
        primary: { x: "numeric" },
        margin: 2,
        maxErrorRate: 0.01,
        costMatters: false,
        alpha: 0.01,
        minBaselineMatch: 0.95,
      },
    });
    expect(set.config.decision).toEqual({
      primary: { x: "numeric" },
      margin: 2,
      maxErrorRate: 0.01,
      costMatters: false,
      alpha: 0.01,
      minBaselineMatch: 0.95,
    });
  });
  it("reports a bad value with its JSON path", async () => {
    const { parseConfig } = await import("../src/index.js");
    expect(() => parseConfig({ ...base, decision: { margin: -1 } })).toThrow(/decision\.margin/);
    expect(() => parseConfig({ ...base, decision: { errors: 1 } })).toThrow(/decision/);
  });
});
