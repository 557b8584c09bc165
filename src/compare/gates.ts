/**
 * Evaluates gates against a run (and, for regression and critical gates, its comparison with a
 * baseline). Pure: takes summaries and a comparison, returns outcomes; the CLI turns a failed
 * gate into exit code 1.
 */
import { UsageError } from "../errors.js";
import type { ModelSummary, RunSummary } from "../report/summary.js";
import { formatAmount, formatP } from "../stats/paired.js";
import type { CompareResult } from "./compare.js";
import { needsBaseline, type GateSpec } from "./gate-spec.js";
import { describeGate } from "./rules.js";

/** The outcome of one gate. */
export interface GateOutcome {
  rule: string;
  gate: GateSpec;
  /**
   * `not comparable`: the gate needs the baseline but the runs cannot be compared (too few of the
   * baseline's rows matched, a model missing). It decides nothing, and the CLI exits 2, never 0.
   */
  status: "pass" | "fail" | "skipped" | "not comparable";
  /** One line per model (× scorer) checked; failures first. */
  details: string[];
  /**
   * Regression gates: per model × scorer, the drop the gate can detect at this n (80% power),
   * and a warning when that is larger than the gate's threshold (the gate would miss such a drop).
   */
  power?: {
    model: string;
    scorer: string;
    n: number;
    detectableDrop: number | null;
    scale: "points" | "raw";
    warning?: string;
  }[];
}

/** All gate outcomes, and whether any failed. */
export interface GateReport {
  /** No gate failed and none was `not comparable`. */
  passed: boolean;
  /** False when a gate needing the baseline could not be evaluated (the CLI exits 2). */
  comparable: boolean;
  outcomes: GateOutcome[];
}

/** What gates are evaluated against. */
export interface GateInput {
  /** The run being judged. */
  summary: RunSummary;
  /** Its comparison with a baseline, when there is one. */
  comparison?: CompareResult;
}

/**
 * Evaluates every gate. Gates needing a baseline are `skipped` (with a note) when there is none.
 * @throws UsageError when a gate names a model or scorer the run does not have (a typo must not
 * pass silently).
 */
export function evaluateGates(gates: readonly GateSpec[], input: GateInput): GateReport {
  const outcomes = gates.map((gate) => evaluateGate(gate, input));
  return {
    passed: outcomes.every((o) => o.status !== "fail" && o.status !== "not comparable"),
    comparable: outcomes.every((o) => o.status !== "not comparable"),
    outcomes,
  };
}

function evaluateGate(gate: GateSpec, input: GateInput): GateOutcome {
  const rule = describeGate(gate);
  checkNames(gate, rule, input.summary);
  if (needsBaseline(gate) && !input.comparison) {
    return {
      rule,
      gate,
      status: "skipped",
      details: ["no baseline to compare with (give one: bakeoff compare, or run --baseline)"],
    };
  }
  if (needsBaseline(gate) && input.comparison && !input.comparison.comparable) {
    return {
      rule,
      gate,
      status: "not comparable",
      details: [`baseline not comparable: ${input.comparison.notComparableReasons.join("; ")}`],
    };
  }
  const fails: string[] = [];
  const oks: string[] = [];
  const models = input.summary.models.filter((m) => gate.model === undefined || m.model === gate.model);
  let power: GateOutcome["power"];
  switch (gate.kind) {
    case "regression":
      power = [];
      for (const c of input.comparison!.changes) {
        if (!matches(gate, c.model, c.scorer)) continue;
        const drop = c.diff === null ? 0 : -c.diff;
        const dropUnits = c.scale === "points" ? drop * 100 : drop;
        const unit = c.scale === "points" ? " points" : "";
        const errs = c.candidateErrors > 0 ? `, ${c.candidateErrors} failed calls counted as failures` : "";
        const line = `${c.model} ${c.scorer}: ${c.diff === null ? "n/a" : `${c.diff < 0 && Number(formatAmount(Math.abs(c.diff), c.scale)) !== 0 ? "-" : "+"}${formatAmount(Math.abs(c.diff), c.scale)}${unit}`} (${formatP(c.pValue)}, n = ${c.n}${errs})`;
        // The drop must be real (paired test and interval agree) and matter (above minEffect).
        if (c.significant && drop > 0 && c.pValue < gate.alpha && dropUnits > gate.minEffect)
          fails.push(`${line}: significant drop larger than ${gate.minEffect}${unit}`);
        else oks.push(line);
        const mdeUnits = c.mde === null ? null : c.scale === "points" ? c.mde * 100 : c.mde;
        const entry: NonNullable<GateOutcome["power"]>[number] = {
          model: c.model,
          scorer: c.scorer,
          n: c.n,
          detectableDrop: c.mde,
          scale: c.scale,
        };
        const wanted = gate.minEffect > 0 ? gate.minEffect : null;
        if (mdeUnits !== null && wanted !== null && mdeUnits > wanted) {
          entry.warning = `${c.model} ${c.scorer}: at n = ${c.n} this gate cannot reliably detect a ${wanted}${unit === " points" ? "-point" : ""} drop (80% power only from ≈ ${formatAmount(c.mde!, c.scale)}${unit})`;
        }
        power.push(entry);
      }
      break;
    case "critical": {
      const rows = input.comparison!.flips.filter(
        (f) => f.critical && f.direction === "pass→fail" && matches(gate, f.model, f.scorer),
      );
      for (const f of rows) fails.push(`${f.model} ${f.scorer}: critical row ${f.dataset}/${f.rowId} newly fails`);
      if (rows.length === 0) oks.push("no critical row newly fails");
      break;
    }
    case "floor":
      for (const m of models) {
        for (const [scorer, s] of Object.entries(m.scores)) {
          if (gate.scorer !== undefined && scorer !== gate.scorer) continue;
          if (s.mean === null) continue;
          const line = `${m.model} ${scorer}: mean ${s.mean.toFixed(3)} (floor ${gate.min})`;
          (s.mean < gate.min ? fails : oks).push(line);
        }
      }
      break;
    case "errors":
      for (const m of models) rateCheck(m, m.errors, "error rate", gate.max, fails, oks);
      break;
    case "truncation":
      for (const m of models)
        rateCheck(m, m.finishReasons.length ?? 0, "truncation (finish_reason length) rate", gate.max, fails, oks);
      break;
    case "p95":
      for (const m of models) {
        const p95 = m.latencyMs.p95;
        if (p95 === null) continue;
        (p95 > gate.maxMs ? fails : oks).push(
          `${m.model}: p95 latency ${Math.round(p95)} ms (budget ${gate.maxMs} ms)`,
        );
      }
      break;
  }
  const outcome: GateOutcome = { rule, gate, status: fails.length > 0 ? "fail" : "pass", details: [...fails, ...oks] };
  if (power !== undefined) outcome.power = power;
  return outcome;
}

function rateCheck(m: ModelSummary, count: number, what: string, max: number, fails: string[], oks: string[]): void {
  if (m.n === 0) return;
  const rate = count / m.n;
  (rate > max ? fails : oks).push(
    `${m.model}: ${what} ${(rate * 100).toFixed(1)}% (${count}/${m.n}; ceiling ${(max * 100).toFixed(1)}%)`,
  );
}

function matches(gate: GateSpec, model: string, scorer: string): boolean {
  return (
    (gate.model === undefined || gate.model === model) &&
    (!("scorer" in gate) || gate.scorer === undefined || gate.scorer === scorer)
  );
}

function checkNames(gate: GateSpec, rule: string, summary: RunSummary): void {
  const models = summary.models.map((m) => m.model);
  if (gate.model !== undefined && !models.includes(gate.model)) {
    throw new UsageError(
      `gate "${rule}": no model "${gate.model}" in the run (models: ${models.join(", ") || "none"})`,
    );
  }
  if ("scorer" in gate && gate.scorer !== undefined) {
    const scorers = new Set(summary.models.flatMap((m) => Object.keys(m.scores)));
    if (!scorers.has(gate.scorer)) {
      throw new UsageError(
        `gate "${rule}": no scorer "${gate.scorer}" in the run (scorers: ${[...scorers].join(", ") || "none"})`,
      );
    }
  }
}
