/**
 * Config schema for scorers. Each scorer is configured per dataset (or globally) by `type`;
 * `name` defaults to the type and must be unique within a dataset's scorer list.
 */
import { z } from "zod";

const name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '_', '.' or '-'")
  .optional()
  .describe("Name the score is recorded under. @default the scorer's type");

/** Where the reference text comes from: the row's expected answer, or a fixed value. */
const value = z
  .string()
  .optional()
  .describe("Text to compare with. @default the row's expected answer");

const normalise = {
  caseSensitive: z.boolean().default(false).describe("Compare case-sensitively. @default false"),
  trim: z.boolean().default(true).describe("Ignore leading/trailing whitespace. @default true"),
  collapseWhitespace: z
    .boolean()
    .default(true)
    .describe("Treat runs of whitespace as one space. @default true"),
  stripPunctuation: z
    .boolean()
    .default(false)
    .describe("Drop punctuation before comparing. @default false"),
};

export const ScorerSpec = z.discriminatedUnion("type", [
  z
    .strictObject({ type: z.literal("exact"), name, value, ...normalise })
    .describe("Output equals the expected answer after normalisation."),
  z
    .strictObject({ type: z.literal("includes"), name, value, ...normalise })
    .describe("Output contains the expected answer (or `value`)."),
  z
    .strictObject({ type: z.literal("not_includes"), name, value, ...normalise })
    .describe("Output does not contain `value` (or the expected answer)."),
  z
    .strictObject({ type: z.literal("starts_with"), name, value, ...normalise })
    .describe("Output starts with the expected answer (or `value`)."),
  z
    .strictObject({
      type: z.literal("regex"),
      name,
      pattern: z.string().describe("JavaScript regular expression the output must match."),
      flags: z.string().regex(/^[dgimsuvy]*$/, "only JavaScript regex flags").default(""),
    })
    .describe("Output matches a regular expression."),
  z
    .strictObject({
      type: z.literal("numeric"),
      name,
      tolerance: z
        .number()
        .nonnegative()
        .default(0)
        .describe("Absolute difference still counted as correct. @default 0"),
    })
    .describe(
      "Final number in the output equals the expected number. Understands `#### N` answers and thousands separators.",
    ),
  z.strictObject({ type: z.literal("json_valid"), name }).describe("Output parses as JSON."),
  z
    .strictObject({
      type: z.literal("json_schema"),
      name,
      schema: z.record(z.string(), z.unknown()).describe("JSON Schema the parsed output must satisfy."),
    })
    .describe("Output parses as JSON and satisfies a JSON Schema."),
  z
    .strictObject({
      type: z.literal("similarity"),
      name,
      metric: z.enum(["token_f1", "levenshtein"]).default("token_f1"),
      threshold: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe("When set, the score also passes/fails at this threshold."),
    })
    .describe("Text similarity to the expected answer, 0..1."),
  z
    .strictObject({
      type: z.literal("length"),
      name,
      min: z.number().int().nonnegative().optional(),
      max: z.number().int().positive().optional(),
      unit: z.enum(["chars", "words"]).default("chars"),
    })
    .describe("Output length is within bounds."),
  z
    .strictObject({ type: z.literal("finish_stop"), name })
    .describe("The model finished with `stop` (not truncated, filtered or errored)."),
  z
    .strictObject({
      type: z.literal("latency"),
      name,
      maxMs: z.number().positive().describe("Latency budget in milliseconds."),
    })
    .describe("The call's latency is within budget."),
]);

export type ScorerSpec = z.infer<typeof ScorerSpec>;
export type ScorerSpecInput = z.input<typeof ScorerSpec>;
