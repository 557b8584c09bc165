/**
 * Config schema for the emulator's simulated models (`emulator.models` in eval.config.json).
 * A model whose endpoint is `emulator://<name>` is served by the simulated model `<name>`.
 */
import { z } from "zod";
import { BatchSpec } from "./batch-spec.js";
import { FaultSpec } from "./fault-spec.js";

export const LatencySpec = z
  .strictObject({
    medianMs: z.number().nonnegative().default(40).describe("Median latency. @default 40"),
    p95Ms: z
      .number()
      .nonnegative()
      .default(120)
      .describe("95th percentile latency; with the median this fixes a log-normal distribution. @default 120"),
    perTokenMs: z.number().nonnegative().default(0).describe("Extra milliseconds per generated token. @default 0"),
    firstTokenMs: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        "Fixed time before the first token (streamed or not), replacing the median/p95 draw: for measuring time to first token.",
      ),
    tokensPerSecond: z
      .number()
      .positive()
      .optional()
      .describe("Generation rate after the first token, replacing perTokenMs (1000 / tokensPerSecond ms per token)."),
  })
  .describe("Latency distribution of one simulated model.");

export const SimModelSpec = z
  .strictObject({
    accuracy: z
      .number()
      .min(0)
      .max(1)
      .default(0.9)
      .describe("Probability that an answer the model can compute is right. @default 0.9"),
    style: z
      .enum(["terse", "steps"])
      .default("terse")
      .describe("`terse` answers with the result; `steps` shows its working first (more tokens). @default terse"),
    latency: LatencySpec.default({ medianMs: 40, p95Ms: 120, perTokenMs: 0 }),
    reasoningTokens: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        "Hidden reasoning tokens a reasoning model spends per answer: added to completion tokens and reported in the usage details. @default none (not a reasoning model)",
      ),
    modelName: z.string().optional().describe("Model name reported in responses and /info. @default emulated-<name>"),
    provider: z.string().default("bakeoff-emulator").describe("model_provider_name reported by /info."),
    apiKey: z
      .string()
      .optional()
      .describe(
        "When set, requests must carry this key (api-key or Bearer). Emulator keys are not secrets; real keys never go in config.",
      ),
    faults: z
      .array(FaultSpec)
      .default([])
      .describe(
        "Faults injected into chat requests, checked in order; the first that applies to a request is served instead of the answer. @default []",
      ),
    batch: BatchSpec.default({ maxLines: 100_000, faults: [], liveFaults: false }).describe(
      "The Batch API (`/files`, `/batches`) of this model: clock, limits and batch faults.",
    ),
  })
  .describe("A simulated model served by the built-in emulator.");

export type SimModelSpec = z.infer<typeof SimModelSpec>;
export type SimModelSpecInput = z.input<typeof SimModelSpec>;

/**
 * Built-in simulated models, usable as `emulator://small` and `emulator://large` without an
 * `emulator` block: a cheap, quick, sloppier model and a slower, more accurate one that shows its
 * working, so a first run (and `bakeoff run --dataset F` with no config) has a real choice.
 * A model of the same name under `emulator.models` replaces the preset.
 */
export const EMULATOR_PRESETS: Readonly<Record<"small" | "large", SimModelSpecInput>> = {
  small: { accuracy: 0.75, style: "terse", latency: { medianMs: 30, p95Ms: 90 }, modelName: "emulated-small" },
  large: {
    accuracy: 0.95,
    style: "steps",
    latency: { medianMs: 80, p95Ms: 220, perTokenMs: 1 },
    modelName: "emulated-large",
  },
};

export const EmulatorSpec = z
  .strictObject({
    models: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/), SimModelSpec)
      .default({})
      // Presets are merged in at parse time so every consumer (rules, runner, judges, serve, the
      // run.json snapshot) sees one list, and a resumed run keeps the preset it started with.
      .transform((models) => ({ ...presetModels(), ...models }))
      .describe(
        "Simulated models by name, referenced as `emulator://<name>`. `small` and `large` are built in (defined here, they replace the presets).",
      ),
  })
  .describe("The built-in emulator of the Azure AI model inference API.");
export type EmulatorSpec = z.infer<typeof EmulatorSpec>;

/** The presets, parsed (defaults filled in), as fresh objects each time. */
function presetModels(): Record<string, SimModelSpec> {
  return Object.fromEntries(Object.entries(EMULATOR_PRESETS).map(([name, spec]) => [name, SimModelSpec.parse(spec)]));
}
