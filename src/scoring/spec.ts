/**
 * Config schema for scorers. Each scorer is configured per dataset (or globally) by `type`;
 * `name` defaults to the type and must be unique within a dataset's scorer list.
 */
import { z } from "zod";
import { identifier, modelSpecUnion } from "../config/model-spec.js";

const name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '_', '.' or '-'")
  .optional()
  .describe("Name the score is recorded under. @default the scorer's type");

/** Where the reference text comes from: the row's expected answer, or a fixed value. */
const value = z.string().optional().describe("Text to compare with. @default the row's expected answer");

const normalise = {
  caseSensitive: z.boolean().default(false).describe("Compare case-sensitively. @default false"),
  trim: z.boolean().default(true).describe("Ignore leading/trailing whitespace. @default true"),
  collapseWhitespace: z.boolean().default(true).describe("Treat runs of whitespace as one space. @default true"),
  stripPunctuation: z.boolean().default(false).describe("Drop punctuation before comparing. @default false"),
};

/** An inline judge model: a `models[]` entry whose name defaults to "judge". */
export const JudgeModelInline = modelSpecUnion(
  identifier.optional().describe("Name recorded with the judge's calls. @default judge"),
).describe("A judge model defined in place, with the same fields as a models[] entry.");
export type JudgeModelInline = z.infer<typeof JudgeModelInline>;

export const JudgeScale = z
  .strictObject({
    min: z.number().describe("Lowest score the judge may give."),
    max: z.number().describe("Highest score the judge may give."),
    passAt: z
      .number()
      .optional()
      .describe("Scores at or above this pass (on the judge's scale). @default no pass/fail"),
  })
  .describe("The judge's score range; recorded values are rescaled to 0..1.");

/** The built-in deterministic scorers (compiled by `scorers.ts`). */
const builtinScorers = [
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
      flags: z
        .string()
        .regex(/^[dgimsuvy]*$/, "only JavaScript regex flags")
        .default(""),
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
      type: z.literal("tool_call"),
      name,
      function: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Function the model must call. @default the row\'s expected answer (a name, or JSON {"name", "arguments"})',
        ),
      arguments: z
        .record(z.string(), z.unknown())
        .optional()
        .describe("Arguments the call must have (compared as JSON values)."),
      match: z
        .enum(["subset", "exact"])
        .default("subset")
        .describe(
          "`subset`: the expected arguments must be there, extra ones are fine. `exact`: no extra arguments. @default subset",
        ),
      ignoreCase: z
        .boolean()
        .default(false)
        .describe("Compare string arguments trimmed and case-insensitively. @default false"),
      partialCredit: z
        .boolean()
        .default(false)
        .describe(
          "Score the share of expected arguments matched (0..1) instead of 0/1; passes only at 1. @default false",
        ),
    })
    .describe("The model called the expected function with the expected arguments (recorded tool calls)."),
  z
    .strictObject({
      type: z.literal("latency"),
      name,
      maxMs: z.number().positive().describe("Latency budget in milliseconds."),
    })
    .describe("The call's latency is within budget."),
] as const;

export const BuiltinScorerSpec = z.discriminatedUnion("type", [...builtinScorers]);
export type BuiltinScorerSpec = z.infer<typeof BuiltinScorerSpec>;

export const LlmJudgeSpec = z
  .strictObject({
    type: z.literal("llm_judge"),
    name,
    model: z
      .union([
        z.string().min(1).describe("Name of a model in `models` (it need not be one under evaluation)."),
        JudgeModelInline,
      ])
      .describe("The judge: a model's name from `models`, or a model defined in place."),
    rubric: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Grading instructions. bakeoff adds the row's input, expected answer and output in delimited sections and asks for `SCORE:` and `REASON:` lines. @default grade correctness against the expected answer",
      ),
    scale: JudgeScale.default({ min: 0, max: 1 }),
    concurrency: z
      .number()
      .int()
      .positive()
      .max(256)
      .default(4)
      .describe(
        "Most judge calls in flight for this scorer (its own limit, separate from the judged models'). @default 4",
      ),
  })
  .describe(
    "A model grades each output against a rubric; the score is rescaled to 0..1 and the judge's call is recorded.",
  );
export type LlmJudgeSpec = z.infer<typeof LlmJudgeSpec>;

export const CustomScorerSpec = z
  .strictObject({
    type: z.literal("custom"),
    name,
    module: z.string().min(1).describe("Path of a .js/.mjs (or .ts) module, relative to the config file."),
    export: z.string().min(1).default("default").describe("Name of the exported scorer function. @default default"),
    options: z.record(z.string(), z.unknown()).optional().describe("Passed to the scorer function as `options`."),
    kind: z
      .enum(["binary", "continuous", "scale"])
      .optional()
      .describe(
        "What the scores mean for statistics: `binary` (0/1 pass/fail), `continuous` (any number) or `scale` (a rating). The module may declare it instead (`export const kind` or a `kind` property on the function). @default continuous",
      ),
  })
  .describe("Your own scorer function (see `CustomScorer` in the library API).");
export type CustomScorerSpec = z.infer<typeof CustomScorerSpec>;

/** Every scorer a config may list, by `type`. */
export const ScorerSpec = z.discriminatedUnion("type", [...builtinScorers, LlmJudgeSpec, CustomScorerSpec]);

/** Any scorer spec as it appears in a validated config (defaults applied). */
export type AnyScorerSpec = z.infer<typeof ScorerSpec>;
/**
 * The built-in specs under the name `scorers.ts` compiles: its exhaustive switch covers exactly
 * these, while judges and custom scorers are built by `index.ts`. Configs hold {@link AnyScorerSpec}.
 */
export type ScorerSpec = BuiltinScorerSpec;
export type ScorerSpecInput = z.input<typeof ScorerSpec>;

export { scorerKind, scorerName, type ScorerKind } from "./names.js";
