/**
 * One step the CLI runs after `run --baseline`, `run --fail-on` and `compare`: compare with the
 * baseline when there is one, evaluate the gates, and write the compare files with the trend of
 * the candidate's dataset from the run index.
 */
import { summarizeRun } from "../report/run-report.js";
import { historyTable, type HistoryTable } from "../run/history.js";
import { comparabilityGroup, readRunIndex } from "../store/run-index.js";
import { readManifest, type RunStatus } from "../store/manifest.js";
import { compareRuns, type CompareResult } from "./compare.js";
import { evaluateGates, type GateReport } from "./gates.js";
import type { GateSpec } from "./gate-spec.js";
import { writeCompareFiles } from "./write.js";

/** Options of {@link checkCompare}. */
export interface CheckOptions {
  candidateDir: string;
  baselineDir?: string;
  gates: readonly GateSpec[];
  /** Where compare files go; default the candidate's run directory. */
  writeDir?: string;
  /** Output directory whose index.jsonl supplies the trend; omitted = no trend section. */
  indexDir?: string;
  /** Runs in the trend. Default 10. */
  trendRuns?: number;
  maxListed?: number;
}

/** What {@link checkCompare} found and wrote. */
export interface CheckResult {
  comparison: CompareResult | null;
  gates: GateReport;
  files: string[];
  /** Status of each run: a gate verdict on an incomplete run is not the whole story. */
  candidateStatus: RunStatus;
  baselineStatus: RunStatus | null;
}

/** Compares (when there is a baseline), evaluates gates and writes compare files. */
export async function checkCompare(options: CheckOptions): Promise<CheckResult> {
  const critical = options.gates.find((g) => g.kind === "critical");
  const alphas = options.gates.flatMap((g) => (g.kind === "regression" ? [g.alpha] : []));
  const candidate = await readManifest(options.candidateDir);
  if (options.baselineDir === undefined) {
    const { summary } = await summarizeRun(options.candidateDir, candidate);
    return {
      comparison: null,
      gates: evaluateGates(options.gates, { summary }),
      files: [],
      candidateStatus: candidate.status,
      baselineStatus: null,
    };
  }
  const comparison = await compareRuns(options.baselineDir, options.candidateDir, {
    // The tests run at the strictest level any regression gate asks for; each gate re-checks its own p.
    alpha: alphas.length > 0 ? Math.min(...alphas) : 0.05,
    ...(critical?.kind === "critical" ? { critical: { column: critical.column, tag: critical.tag } } : {}),
    ...(options.maxListed !== undefined ? { maxListed: options.maxListed } : {}),
  });
  const gates = evaluateGates(options.gates, { summary: comparison.summaries.candidate, comparison });
  let trend: HistoryTable | undefined;
  if (options.indexDir !== undefined) {
    trend = historyTable(await readRunIndex(options.indexDir), {
      group: comparabilityGroup(candidate),
      last: options.trendRuns ?? 10,
    });
  }
  const files = await writeCompareFiles(options.writeDir ?? options.candidateDir, comparison, gates, trend);
  return {
    comparison,
    gates,
    files,
    candidateStatus: candidate.status,
    baselineStatus: comparison.baseline.status as RunStatus,
  };
}
