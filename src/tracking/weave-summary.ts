/**
 * The per-model numbers a Weave evaluation's summary carries. Weave's auto-summary keeps only
 * numbers and booleans (a `finish_reason` string vanishes), so finish reasons are counted here and
 * sent as numbers next to score means, error rate, latency and tokens.
 *
 * Computed incrementally from the records the sink sees, so the caller only calls `finish()`.
 */
import { SummaryBuilder, type ModelSummary } from "../report/summary.js";
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
  /** Per scorer: mean, pass rate, rows scored, and successful calls it could not score. */
  scores: Record<string, { mean: number | null; pass_rate: number | null; n: number; errors: number }>;
  /** Latency of successful calls, ms. */
  latency_ms: { p50: number | null; p95: number | null; mean: number | null };
  tokens: { prompt: number; completion: number; total: number };
}

/**
 * Accumulates {@link WeaveModelSummary} values one record at a time, on top of the report's own
 * {@link SummaryBuilder}: Weave and report.md show the same numbers, and memory does not grow
 * with the number of calls (latency percentiles come from its fixed histogram).
 */
export class WeaveSummaryAccumulator {
  private readonly builder = new SummaryBuilder();

  /** Adds one record. */
  add(rec: PredictionRecord): void {
    this.builder.add(rec);
  }

  /** The summaries so far, in the order models were first seen. */
  result(): WeaveModelSummary[] {
    return this.builder.result().models.map(toWeave);
  }
}

function toWeave(m: ModelSummary): WeaveModelSummary {
  const finish = Object.fromEntries(FINISH_BUCKETS.map((b) => [b, 0])) as Record<FinishBucket, number>;
  for (const [reason, count] of Object.entries(m.finishReasons)) {
    const bucket = (FINISH_BUCKETS as readonly string[]).includes(reason) ? (reason as FinishBucket) : "other";
    finish[bucket] += count;
  }
  // A prompt blocked by the content filter is a failed call for the report, but for Weave's
  // finish-reason view it is a content_filter outcome.
  const blocked = m.errorKinds["content_filter"] ?? 0;
  finish.error -= blocked;
  finish.content_filter += blocked;
  const rate = (k: number): number => (m.n === 0 ? 0 : k / m.n);
  const scores: WeaveModelSummary["scores"] = {};
  for (const [name, s] of Object.entries(m.scores)) {
    scores[name] = { mean: s.mean, pass_rate: s.passRate ?? null, n: s.n, errors: s.errors };
  }
  return {
    model: m.model,
    n: m.n,
    errors: m.errors,
    error_rate: rate(m.errors),
    finish_reason_count: finish,
    finish_reason_rate: Object.fromEntries(FINISH_BUCKETS.map((b) => [b, rate(finish[b])])) as Record<
      FinishBucket,
      number
    >,
    scores,
    latency_ms: { p50: m.latencyMs.p50, p95: m.latencyMs.p95, mean: m.latencyMs.mean },
    tokens: { ...m.tokens },
  };
}
