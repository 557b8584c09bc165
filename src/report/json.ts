/**
 * report.json: the machine-readable report, a versioned projection of {@link RunAnalysis}. The
 * shape is documented field by field in docs/report-json.md; add fields freely, but any change
 * that removes or re-means one must bump {@link REPORT_JSON_SCHEMA}.
 */
import type { ModelManifest } from "../store/manifest.js";
import type { PairVerdict } from "../stats/index.js";
import type { ModelAnalysis, RunAnalysis } from "./analysis.js";
import { publicEndpoint } from "../providers/redact.js";

export { publicEndpoint };

/** Identifies the shape of report.json; consumers should check it before reading. */
export const REPORT_JSON_SCHEMA = "bakeoff.report/v1";

/** The document written to report.json. */
export interface ReportJson {
  schema: typeof REPORT_JSON_SCHEMA;
  run: {
    runId: string;
    status: string;
    startedAt: string;
    endedAt: string | null;
    trials: number;
    expected: number;
    recorded: number;
    configHash: string;
    tool: { name: string; version: string; node: string };
    git: { sha: string; dirty: boolean } | null;
    datasets: { name: string; rows: number; skipped: number; sha256: string }[];
    models: {
      name: string;
      provider: string;
      endpoint: string;
      deployment: string | null;
      params: Record<string, unknown>;
      servedModel: string | null;
      /** Present (true) when the model's calls went through the Batch API. */
      batched?: true;
    }[];
  };
  rows: number;
  trials: number;
  primaryScorer: string | null;
  scorers: RunAnalysis["scorers"];
  recommendation: string;
  /** Decision settings used (config `decision`, defaults applied). */
  decision: RunAnalysis["decision"];
  /** Per dataset: the verdict on its primary scorer, with its Holm-adjusted pairs. */
  decisions: RunAnalysis["decisions"];
  multipleTesting: RunAnalysis["multipleTesting"];
  models: ModelAnalysis[];
  pairs: ({ scorer: string; a: string; b: string } & Omit<PairVerdict, "names">)[];
  pareto: RunAnalysis["pareto"];
  latencyBucketsMs: number[];
  disagreements: RunAnalysis["disagreements"];
}

function modelIdentity(m: ModelManifest): ReportJson["run"]["models"][number] {
  return {
    name: m.name,
    provider: m.provider,
    endpoint: publicEndpoint(m.endpoint),
    deployment: m.deployment ?? null,
    params: m.params ?? {},
    servedModel: m.info?.modelName ?? null,
    ...(m.batched ? { batched: true as const } : {}),
  };
}

/** Builds the report.json document from an analysis. */
export function toReportJson(a: RunAnalysis): ReportJson {
  const m = a.manifest;
  return {
    schema: REPORT_JSON_SCHEMA,
    run: {
      runId: m.runId,
      status: m.status,
      startedAt: m.startedAt,
      endedAt: m.endedAt ?? null,
      trials: m.trials,
      expected: m.expected,
      recorded: a.models.reduce((n, x) => n + x.results, 0),
      configHash: m.configHash,
      tool: { ...m.tool },
      git: m.git ?? null,
      datasets: m.datasets.map((d) => ({ name: d.name, rows: d.rows, skipped: d.skipped, sha256: d.sha256 })),
      models: m.models.map(modelIdentity),
      ...(m.shard ? { shard: { index: m.shard.index, count: m.shard.count } } : {}),
      ...(m.mergedFrom ? { mergedFrom: [...m.mergedFrom] } : {}),
    },
    rows: a.rows,
    trials: a.trials,
    primaryScorer: a.primaryScorer,
    scorers: a.scorers,
    recommendation: a.recommendation,
    decision: a.decision,
    decisions: a.decisions,
    multipleTesting: a.multipleTesting,
    models: a.models,
    pairs: a.pairs.map(({ scorer, a: first, b, verdict }) => {
      const { names: _names, ...rest } = verdict;
      return { scorer, a: first, b, ...rest };
    }),
    pareto: a.pareto,
    latencyBucketsMs: [...a.latencyBucketsMs],
    disagreements: a.disagreements,
  };
}

/**
 * report.json's text: two-space indented, newline-terminated. Non-finite numbers (which JSON
 * cannot hold) become null, so a parser never meets NaN.
 */
export function renderReportJson(a: RunAnalysis): string {
  return (
    JSON.stringify(
      toReportJson(a),
      (_key, value: unknown) => (typeof value === "number" ? publicNumber(value) : value),
      2,
    ) + "\n"
  );
}

/**
 * NaN/Infinity become null; other non-integers keep 12 significant digits. Sums taken in
 * completion order differ in the last bits between runs of the same results, and that noise
 * must not make two identical runs' reports differ.
 */
function publicNumber(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Number.isInteger(value) ? value : Number(value.toPrecision(12));
}
