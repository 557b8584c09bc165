/**
 * The config form of gates (`gates: [...]` in eval.config.json). `--fail-on` rules are parsed
 * into the same shapes (see rules.ts) and validated by the same schema, so a rule behaves
 * identically whichever way it was given.
 */
import { z } from "zod";

const modelFilter = z
  .string()
  .min(1)
  .optional()
  .describe("Apply only to this model (by configured name). @default every model");
const scorerFilter = z.string().min(1).optional().describe("Apply only to this scorer. @default every scorer");
const rate = z.number().min(0).max(1);

export const RegressionGate = z
  .strictObject({
    kind: z.literal("regression"),
    scorer: scorerFilter,
    model: modelFilter,
    minEffect: z
      .number()
      .nonnegative()
      .default(0)
      .describe(
        "Fail only when the drop is larger than this: points (score × 100) for scores in [0, 1], raw units otherwise. @default 0",
      ),
    alpha: z.number().gt(0).max(0.5).default(0.05).describe("Significance level of the paired test. @default 0.05"),
  })
  .describe(
    "Fails when the candidate is significantly worse than the baseline (paired test and interval) by more than minEffect. Needs a baseline.",
  );

export const CriticalGate = z
  .strictObject({
    kind: z.literal("critical"),
    scorer: scorerFilter,
    model: modelFilter,
    column: z.string().min(1).default("tags").describe("Dataset column holding the row's tags. @default tags"),
    tag: z.string().min(1).default("critical").describe("Tag that marks a row as critical. @default critical"),
  })
  .describe("Fails when any row tagged critical passed in the baseline and fails in the candidate. Needs a baseline.");

export const FloorGate = z
  .strictObject({
    kind: z.literal("floor"),
    scorer: scorerFilter,
    model: modelFilter,
    min: z.number().describe("Lowest acceptable mean score (pass rate for 0/1 scorers), e.g. 0.8."),
  })
  .describe("Fails when a model's mean score is below min.");

export const ErrorRateGate = z
  .strictObject({
    kind: z.literal("errors"),
    model: modelFilter,
    max: rate.describe("Highest acceptable share of failed calls, 0..1."),
  })
  .describe("Fails when a model's error rate is above max.");

export const TruncationGate = z
  .strictObject({
    kind: z.literal("truncation"),
    model: modelFilter,
    max: rate.describe("Highest acceptable share of answers cut off (finish_reason length), 0..1."),
  })
  .describe("Fails when a model's truncation rate is above max.");

export const LatencyGate = z
  .strictObject({
    kind: z.literal("p95"),
    model: modelFilter,
    maxMs: z.number().positive().describe("Latency budget for the 95th percentile of successful calls, ms."),
  })
  .describe("Fails when a model's p95 latency is above maxMs.");

export const GateSpec = z.discriminatedUnion("kind", [
  RegressionGate,
  CriticalGate,
  FloorGate,
  ErrorRateGate,
  TruncationGate,
  LatencyGate,
]);

/** One validated gate, defaults applied. */
export type GateSpec = z.infer<typeof GateSpec>;
/** A gate as written in config (defaults optional). */
export type GateSpecInput = z.input<typeof GateSpec>;

/** Gates that compare against a baseline and are skipped without one. */
export function needsBaseline(gate: GateSpec): boolean {
  return gate.kind === "regression" || gate.kind === "critical";
}
