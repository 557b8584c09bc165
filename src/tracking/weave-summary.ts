/**
 * The per-model numbers a Weave evaluation's summary carries. Weave's auto-summary keeps only
 * numbers and booleans (a `finish_reason` string vanishes), so finish reasons are counted here and
 * sent as numbers next to score means, error rate, latency and tokens.
 *
 * Computed incrementally from the records the sink sees, so the caller only calls `finish()`.
 * (src/report/summary.ts did not exist when this was written; this is the minimal Weave-only form.)
 */
import type { PredictionRecord } from "../types.js";

/** Finish-reason buckets reported as numbers. `other` = a reason a newer service invented; `none` = null. */
export const FINISH_BUCKETS = ["stop", "length", "content_filter", "tool_calls", "error", "other", "none"] as const;
export type FinishBucket = (typeof FINISH_BUCKETS)[number];

/** Summary of one model in one run, all numbers (or null where nothing could be measured). */
export interface WeaveModelSummary {
  model: string;
  /** Predictions seen (rows × trials). */
  n: number;
  /** Failed model calls. */
  errors: number;
  error_rate: number;
  finish_reason_count: Record<FinishBucket, number>;
  finish_reason_rate: Record<FinishBucket, number>;
  /** Per scorer: mean of numeric values, pass rate of pass/fail verdicts, how many scored and failed. */
  scores: Record<string, { mean: number | null; pass_rate: number | null; n: number; errors: number }>;
  /** Latency of successful calls, ms. */
  latency_ms: { p50: number | null; p95: number | null; mean: number | null };
  tokens: { prompt: number; completion: number; total: number };
}

/** Which bucket a record's outcome falls in. A prompt blocked by the filter counts as content_filter. */
export function finishBucket(rec: PredictionRecord): FinishBucket {
  const out = rec.output;
  if (out.error) return out.error.kind === "content_filter" ? "content_filter" : "error";
  const reason = out.finishReason;
  if (reason === null) return "none";
  return (FINISH_BUCKETS as readonly string[]).includes(reason) ? (reason as FinishBucket) : "other";
}

interface ScoreAcc {
  sum: number;
  valued: number;
  passed: number;
  judged: number;
  errors: number;
}

interface ModelAcc {
  n: number;
  errors: number;
  finish: Record<FinishBucket, number>;
  scores: Map<string, ScoreAcc>;
  latencies: number[];
  tokens: { prompt: number; completion: number; total: number };
}

/** Accumulates {@link WeaveModelSummary} values one record at a time. Memory: one number per call. */
export class WeaveSummaryAccumulator {
  private readonly models = new Map<string, ModelAcc>();

  /** Adds one record. */
  add(rec: PredictionRecord): void {
    const acc = this.modelAcc(rec.model);
    acc.n++;
    const bucket = finishBucket(rec);
    acc.finish[bucket]++;
    if (rec.output.error) acc.errors++;
    else if (Number.isFinite(rec.output.latencyMs)) acc.latencies.push(rec.output.latencyMs);
    const usage = rec.output.usage;
    if (usage) {
      acc.tokens.prompt += usage.promptTokens || 0;
      acc.tokens.completion += usage.completionTokens || 0;
      acc.tokens.total += usage.totalTokens || 0;
    }
    for (const [name, score] of Object.entries(rec.scores ?? {})) {
      let s = acc.scores.get(name);
      if (!s) acc.scores.set(name, (s = { sum: 0, valued: 0, passed: 0, judged: 0, errors: 0 }));
      if (score.error !== undefined) s.errors++;
      if (typeof score.value === "number" && Number.isFinite(score.value)) {
        s.sum += score.value;
        s.valued++;
      }
      if (typeof score.pass === "boolean") {
        s.judged++;
        if (score.pass) s.passed++;
      }
    }
  }

  /** The summaries so far, in the order models were first seen. */
  result(): WeaveModelSummary[] {
    return [...this.models.entries()].map(([model, acc]) => toSummary(model, acc));
  }

  private modelAcc(model: string): ModelAcc {
    let acc = this.models.get(model);
    if (!acc) {
      acc = {
        n: 0,
        errors: 0,
        finish: zeroBuckets(),
        scores: new Map(),
        latencies: [],
        tokens: { prompt: 0, completion: 0, total: 0 },
      };
      this.models.set(model, acc);
    }
    return acc;
  }
}

function zeroBuckets(): Record<FinishBucket, number> {
  return Object.fromEntries(FINISH_BUCKETS.map((b) => [b, 0])) as Record<FinishBucket, number>;
}

function toSummary(model: string, acc: ModelAcc): WeaveModelSummary {
  const rate = (k: number): number => (acc.n === 0 ? 0 : k / acc.n);
  const sorted = [...acc.latencies].sort((a, b) => a - b);
  const scores: WeaveModelSummary["scores"] = {};
  for (const [name, s] of acc.scores) {
    scores[name] = {
      mean: s.valued === 0 ? null : s.sum / s.valued,
      pass_rate: s.judged === 0 ? null : s.passed / s.judged,
      n: s.valued,
      errors: s.errors,
    };
  }
  return {
    model,
    n: acc.n,
    errors: acc.errors,
    error_rate: rate(acc.errors),
    finish_reason_count: { ...acc.finish },
    finish_reason_rate: Object.fromEntries(FINISH_BUCKETS.map((b) => [b, rate(acc.finish[b])])) as Record<
      FinishBucket,
      number
    >,
    scores,
    latency_ms: {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      mean: sorted.length === 0 ? null : sorted.reduce((a, b) => a + b, 0) / sorted.length,
    },
    tokens: { ...acc.tokens },
  };
}

/** Nearest-rank percentile of an ascending list; null when empty. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] ?? null;
}
