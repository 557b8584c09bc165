/**
 * The shape of eval.config.json. Types are derived from this schema; `bakeoff schema --write`
 * turns it into eval.config.schema.json for editors. Every key has a description and a default
 * where one makes sense.
 */
import { z } from "zod";
import { GateSpec } from "../compare/gate-spec.js";
import { EmulatorSpec } from "../emulator/spec.js";
import { ScorerSpec } from "../scoring/spec.js";
import { parseDuration } from "../util/duration.js";
import { DEFAULT_DECISION } from "./decision-defaults.js";
import { GenerationParamsSpec, identifier, ModelSpec, PricingSpec, ProviderName } from "./model-spec.js";

export { GenerationParamsSpec, ModelSpec, PricingSpec, ProviderName };

export const ColumnsSpec = z
  .strictObject({
    id: z
      .string()
      .default("id")
      .describe("Column holding a stable row id. Rows without one get `<file>:<line>`. @default id"),
    prompt: z
      .string()
      .default("prompt")
      .describe("Column holding the user prompt (ignored when `template` is set). @default prompt"),
    system: z
      .string()
      .default("system")
      .describe("Column holding a per-row system message, if present. @default system"),
    expected: z
      .string()
      .default("expected")
      .describe("Column holding the expected answer, if present. @default expected"),
    messages: z
      .string()
      .optional()
      .describe(
        "JSONL: field holding a whole conversation (roles, content parts such as images, tool calls); replaces prompt and system. @default messages",
      ),
    params: z
      .string()
      .optional()
      .describe(
        "JSONL: field holding this row's generation parameters (temperature, response_format, tools, ...), over the model's. @default params",
      ),
  })
  .describe("Which columns of the file play which part.");

export const DatasetSpec = z
  .strictObject({
    name: identifier.optional().describe("Name used in ids and reports. @default the file's base name"),
    path: z.string().min(1).describe("CSV or JSONL file, relative to the config file."),
    format: z.enum(["csv", "jsonl"]).optional().describe("@default from the extension (.csv, .tsv, .jsonl, .ndjson)"),
    delimiter: z.string().min(1).max(4).optional().describe("CSV field delimiter. @default ',' (tab for .tsv)"),
    columns: ColumnsSpec.default({ id: "id", prompt: "prompt", system: "system", expected: "expected" }),
    template: z
      .string()
      .optional()
      .describe("User prompt template with {{column}} variables, e.g. 'Q: {{question}}\\nA:'."),
    system: z.string().optional().describe("System message for every row (a row's own system column wins)."),
    params: GenerationParamsSpec.optional().describe(
      "Generation parameters for every row of this dataset, over the models' own (e.g. tools, response_format; a json_schema may name a `schemaFile` relative to the dataset file). A row's `params` wins.",
    ),
    scorers: z.array(ScorerSpec).default([]).describe("Scorers for this dataset (added to the global ones)."),
    limit: z.number().int().positive().optional().describe("Use only the first N rows."),
    maxPromptChars: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe("Rows whose rendered prompt is longer are rejected. @default 100000"),
  })
  .describe("A prompt dataset.");

export const RetrySpec = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(20).default(5).describe("Attempts per call, first included. @default 5"),
    baseDelayMs: z
      .number()
      .int()
      .nonnegative()
      .default(500)
      .describe("First backoff delay; doubles each retry, with jitter. @default 500"),
    maxDelayMs: z.number().int().nonnegative().default(30_000).describe("Cap on one backoff delay. @default 30000"),
    maxRetryAfterMs: z
      .number()
      .int()
      .nonnegative()
      .default(60_000)
      .describe("Cap on a server's Retry-After (a server asking for a day must not hang the run). @default 60000"),
  })
  .describe("Retry policy, owned by bakeoff (the SDK's own retries are off).");

export const WeaveSpec = z
  .strictObject({
    project: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, "use 'entity/project'")
      .optional()
      .describe("W&B Weave project as 'entity/project'. The key comes from WANDB_API_KEY."),
    enabled: z.boolean().default(true).describe("Set false to turn Weave logging off. @default true"),
    flushTimeoutSec: z
      .number()
      .positive()
      .default(60)
      .describe(
        "Longest wait for Weave uploads to finish at the end of a run (without progress); then bakeoff exits and says how to upload later with weave-sync. @default 60",
      ),
  })
  .describe("Logging runs to W&B Weave.");

export const DecisionSpec = z
  .strictObject({
    primary: z
      .record(z.string(), z.string().min(1))
      .optional()
      .describe(
        'The scorer each dataset\'s verdict is decided on, by dataset name, e.g. {"arithmetic": "numeric"}. @default each dataset\'s first scorer',
      ),
    margin: z
      .number()
      .gt(0)
      .max(100)
      .default(5)
      .describe(
        "Smallest difference that matters, in points (score × 100): models whose 90% interval lies within ±margin are called equivalent, and an inconclusive verdict says how many rows would detect a difference this large. @default 5",
      ),
    maxErrorRate: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe(
        "A model whose share of failed calls on a dataset is above this is never recommended for it. @default 0.05",
      ),
    costMatters: z
      .boolean()
      .default(true)
      .describe(
        "Whether cost breaks ties: equivalent models → ship the cheaper, and a gain is weighed against its cost. @default true",
      ),
    alpha: z
      .number()
      .gt(0)
      .max(0.2)
      .default(0.05)
      .describe(
        "Significance level of the paired tests (family-wise, Holm-adjusted); equivalence uses the 1 − 2·alpha interval. @default 0.05",
      ),
    minBaselineMatch: z
      .number()
      .gt(0)
      .max(1)
      .default(0.9)
      .describe(
        "Share of the baseline's rows the candidate must have for a comparison to count; below it, regression and critical gates stop with exit 2 (baseline not comparable). @default 0.9",
      ),
  })
  .describe("How the verdict is decided: which scorer counts, what difference matters, and what disqualifies a model.");

/** The decision settings with defaults applied. */
export type DecisionSpec = z.infer<typeof DecisionSpec>;

export { DEFAULT_DECISION };

/** A duration such as "90s", "30m", "2h" (a bare number is seconds). */
export const Duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== null, "use a duration such as '90s', '30m' or '2h'");

/** How `bakeoff run --shard i/n` treats the config. */
export const ShardsSpec = z
  .strictObject({
    divideLimits: z
      .boolean()
      .default(true)
      .describe(
        "Divide each model's (and LLM judge's) `rpm` and `tpm` by the number of shards in a shard run (`--shard i/n`), so n machines sharing one deployment's quota stay under it together. Set false when each shard has a quota of its own. Concurrency is per machine and is never divided. @default true",
      ),
  })
  .describe("Sharded runs (`bakeoff run --shard i/n`, then `bakeoff merge`).");
/** How batch mode (`bakeoff run --batch`, `models[].batch`) splits, submits and polls. */
export const BatchSpec = z
  .strictObject({
    maxLines: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "Most requests in one batch input file. @default 100000 for Azure endpoints (*.openai.azure.com, /openai/v1), 50000 otherwise (OpenAI)",
      ),
    maxBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Largest batch input file, bytes. @default 200000000 (200 MB, the services' limit)"),
    pollInterval: Duration.optional().describe(
      "Time between two status polls of a batch in flight. @default 60s (0.2s for emulator:// endpoints)",
    ),
    retryFailed: z
      .enum(["live", "batch"])
      .optional()
      .describe(
        "What happens to lines that failed retryably (429, 5xx, expired) or belong to a failed batch: `live` sends them as live calls, `batch` resubmits them as a new batch (twice at most; then they are recorded as failed). @default live",
      ),
    completionWindow: z.string().optional().describe("`completion_window` of each batch. @default 24h"),
  })
  .describe("Batch mode settings (models with `batch: true`, or `bakeoff run --batch`).");
export type BatchSpec = z.infer<typeof BatchSpec>;

export const ConfigSpec = z
  .strictObject({
    $schema: z.string().optional(),
    outputDir: z
      .string()
      .default("results")
      .describe("Where run directories are written, relative to the config file. @default results"),
    concurrency: z
      .number()
      .int()
      .positive()
      .max(1024)
      .default(8)
      .describe("Most model calls in flight overall. @default 8"),
    trials: z
      .number()
      .int()
      .positive()
      .max(100)
      .default(1)
      .describe("Times each row is sent to each model. @default 1"),
    datasets: z.array(DatasetSpec).min(1, "name at least one dataset"),
    models: z.array(ModelSpec).min(1, "name at least one model"),
    scorers: z.array(ScorerSpec).default([]).describe("Scorers applied to every dataset."),
    retry: RetrySpec.default({ maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 }),
    // prefault, not default: the default goes through the schema so the built-in presets are added.
    emulator: EmulatorSpec.prefault({}),
    weave: WeaveSpec.default({ enabled: true, flushTimeoutSec: 60 }),
    deadline: Duration.optional().describe(
      "Longest a run (one session) may take, e.g. '2h' or '45m'. Then calls in flight are cancelled, the rest is recorded as not run, and the run exits 3, resumable. `--max-duration` overrides it.",
    ),
    giveUpAfter: Duration.default("10m").describe(
      "Stop a model after this long of uninterrupted rate limiting (429) or failing calls; its remaining rows are not run (resume later). @default 10m",
    ),
    maxResponseBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024)
      .describe(
        "Largest response body accepted from a model; a larger one is a failed call (not retried) and is not read into memory. @default 10485760",
      ),
    gates: z
      .array(GateSpec)
      .default([])
      .describe(
        "Checks that decide the exit code of `run` and `compare` (exit 1 when one fails); `--fail-on` rules add to these.",
      ),
    decision: DecisionSpec.default(DEFAULT_DECISION),
    // Optional, not defaulted: a default would enter every config snapshot and change the config
    // hash of every unsharded run relative to runs made before shards existed.
    shards: ShardsSpec.optional(),
    batch: BatchSpec.optional(),
  })
  .describe("bakeoff evaluation config.");

export type Config = z.infer<typeof ConfigSpec>;
export type ConfigInput = z.input<typeof ConfigSpec>;
export type DatasetSpec = z.infer<typeof DatasetSpec>;
export type RetrySpec = z.infer<typeof RetrySpec>;
