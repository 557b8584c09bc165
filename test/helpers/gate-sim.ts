/**
 * Seeded simulations of the regression gate and the paired interval, shared by
 * test/gate-simulation.test.ts (which asserts the targets) and bench/decision-sim.ts (which
 * prints the figures). Each simulated dataset is n rows scored pass/fail by a baseline and a
 * candidate, drawn from a 2×2 table of cell probabilities; the gate is evaluated by the real
 * code path (comparePair as compare.ts calls it, then evaluateGates).
 */
import { evaluateGates } from "../../src/compare/gates.js";
import { scorerChange, type CompareResult } from "../../src/compare/compare.js";
import { parseGateRule } from "../../src/compare/rules.js";
import { comparePair, mulberry32, newcombePairedInterval } from "../../src/stats/index.js";

/** A paired scenario: baseline accuracy, the candidate's true change, and the discordant share. */
export interface Scenario {
  /** Baseline pass rate. */
  baseline: number;
  /** candidate − baseline pass rate (−0.05 = a 5-point drop). */
  change: number;
  /** Share of rows on which the two runs disagree. */
  discordance: number;
}

/** Cell probabilities (both pass, baseline only, candidate only, neither). */
export function cells(s: Scenario): [number, number, number, number] {
  const baseOnly = (s.discordance - s.change) / 2;
  const candOnly = (s.discordance + s.change) / 2;
  const both = s.baseline - baseOnly;
  return [both, baseOnly, candOnly, 1 - both - baseOnly - candOnly];
}

function draw(
  n: number,
  p: [number, number, number, number],
  rng: () => number,
): { base: Uint8Array; cand: Uint8Array } {
  const base = new Uint8Array(n);
  const cand = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng();
    if (u < p[0]) base[i] = cand[i] = 1;
    else if (u < p[0] + p[1]) base[i] = 1;
    else if (u < p[0] + p[1] + p[2]) cand[i] = 1;
  }
  return { base, cand };
}

/** Share of `datasets` seeded datasets on which `regression` (or the given rule) fails. */
export function gateFailureRate(s: Scenario, n: number, datasets: number, seed: number, rule = "regression"): number {
  const rng = mulberry32(seed);
  const p = cells(s);
  const gate = parseGateRule(rule);
  let failed = 0;
  for (let k = 0; k < datasets; k++) {
    const { base, cand } = draw(n, p, rng);
    const v = comparePair(cand, base, {
      binary: true,
      alpha: gate.kind === "regression" ? gate.alpha : 0.05,
      names: ["candidate", "baseline"],
    });
    const change = scorerChange(v, {
      model: "m",
      scorer: "exact",
      candidateErrors: 0,
      passToFail: v.losses,
      failToPass: v.wins,
      criticalPassToFail: 0,
    });
    const comparison = {
      changes: [change],
      flips: [],
      comparable: true,
      notComparableReasons: [],
    } as unknown as CompareResult;
    const report = evaluateGates([gate], { summary: { models: [] }, comparison });
    if (!report.passed) failed++;
  }
  return failed / datasets;
}

/** Share of seeded datasets whose 95% Newcombe interval covers the true difference. */
export function intervalCoverage(s: Scenario, n: number, datasets: number, seed: number): number {
  const rng = mulberry32(seed);
  const p = cells(s);
  let covered = 0;
  for (let k = 0; k < datasets; k++) {
    const t = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
    for (let i = 0; i < n; i++) {
      const u = rng();
      if (u < p[0]) t.both++;
      else if (u < p[0] + p[1]) t.onlyA++;
      else if (u < p[0] + p[1] + p[2]) t.onlyB++;
      else t.neither++;
    }
    // Interval for candidate − baseline: A = candidate.
    const [lo, hi] = newcombePairedInterval({ both: t.both, onlyA: t.onlyB, onlyB: t.onlyA, neither: t.neither })!;
    if (lo <= s.change + 1e-12 && s.change - 1e-12 <= hi) covered++;
  }
  return covered / datasets;
}
