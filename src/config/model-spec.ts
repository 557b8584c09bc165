/**
 * The schema of one model entry (`models[]`), in its own module so that scorers can define judge
 * models with the very same fields without importing the whole config schema (a module cycle).
 */
import { z } from "zod";

/** A name that becomes part of file names and ids. */
export const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "use letters, digits, '_', '.' or '-' (it names files and ids)");

export const GenerationParamsSpec = z
  .strictObject({
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: z.number().int().positive().optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string()).max(4).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    response_format: z
      .union([
        z.strictObject({ type: z.literal("text") }),
        z.strictObject({ type: z.literal("json_object") }),
        z.strictObject({ type: z.literal("json_schema"), json_schema: z.record(z.string(), z.unknown()) }),
      ])
      .optional(),
  })
  .describe("Generation parameters sent with every request (wire names).");

export const PricingSpec = z
  .strictObject({
    inputPerMillion: z.number().nonnegative().describe("Price per million prompt tokens."),
    outputPerMillion: z.number().nonnegative().describe("Price per million completion tokens."),
    currency: z.string().default("USD"),
  })
  .describe("Per-token prices, for cost in reports.");

export const ProviderName = z.enum(["azure-ai-inference"]);
export type ProviderName = z.infer<typeof ProviderName>;

export const ModelSpec = z
  .strictObject({
    name: identifier.describe("Name used on the command line (--models) and in reports."),
    provider: ProviderName.default("azure-ai-inference").describe("Client used to call the model. @default azure-ai-inference"),
    endpoint: z
      .string()
      .min(1)
      .describe(
        "Endpoint URL (serverless, Foundry '/models', Azure OpenAI deployment URL, GitHub Models), or `emulator://<sim>` for the built-in emulator.",
      ),
    model: z.string().optional().describe("Model/deployment name sent in the request body (multi-model endpoints)."),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .optional()
      .describe("Name of the environment variable holding the key. Required for real endpoints."),
    apiVersion: z
      .string()
      .optional()
      .describe("api-version query parameter; '' omits it (OpenAI-compatible servers). @default the SDK's"),
    extraParameters: z
      .enum(["error", "drop", "pass-through"])
      .optional()
      .describe("extra-parameters header: what the service does with body keys it does not know."),
    params: GenerationParamsSpec.default({}),
    concurrency: z.number().int().positive().optional().describe("Most calls in flight to this model. @default the global limit"),
    adaptive: z
      .boolean()
      .default(true)
      .describe(
        "Lower this model's concurrency when it answers 429 (halving, at most once per round of calls) and raise it back by one after each round of successes, never above `concurrency`; the limit it settled on is in run.json. false keeps the limit fixed. @default true",
      ),
    rpm: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Requests per minute this deployment allows (its quota); bakeoff paces requests to stay under it, retries included."),
    tpm: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "Tokens per minute this deployment allows (its quota); bakeoff paces requests to stay under it, charging an estimate (prompt chars / 4 + max_tokens, or 256) and correcting it with the reported usage.",
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(120_000)
      .describe("Deadline for one attempt, covering headers and body. @default 120000"),
    pricing: PricingSpec.optional(),
  })
  .describe("A model to evaluate.");

export type ModelSpec = z.infer<typeof ModelSpec>;
export type PricingSpec = z.infer<typeof PricingSpec>;
