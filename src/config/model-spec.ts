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
        z
          .strictObject({ type: z.literal("json_schema"), json_schema: z.record(z.string(), z.unknown()) })
          .describe(
            "`json_schema`: {name, schema, strict}; in a dataset's params, `schemaFile` (relative to the dataset file) may replace `schema`.",
          ),
      ])
      .optional(),
    tools: z
      .array(
        z.strictObject({
          type: z.literal("function"),
          function: z.strictObject({
            name: z.string().min(1),
            description: z.string().optional(),
            parameters: z.record(z.string(), z.unknown()).optional(),
            strict: z.boolean().optional(),
          }),
        }),
      )
      .optional()
      .describe("Function tools the model may call; its calls are recorded as output (score them with `tool_call`)."),
    tool_choice: z
      .union([
        z.enum(["none", "auto", "required"]),
        z.strictObject({ type: z.literal("function"), function: z.strictObject({ name: z.string().min(1) }) }),
      ])
      .optional(),
  })
  .describe("Generation parameters sent with every request (wire names).");

export const PricingSpec = z
  .strictObject({
    inputPerMillion: z.number().nonnegative().describe("Price per million prompt tokens."),
    outputPerMillion: z.number().nonnegative().describe("Price per million completion tokens."),
    cachedInputPerMillion: z
      .number()
      .nonnegative()
      .optional()
      .describe("Price per million prompt tokens served from the provider's prompt cache. @default inputPerMillion"),
    batchDiscount: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "Share taken off the price of calls answered through the Batch API (0.5 = half price, as OpenAI and Azure charge). @default 0.5",
      ),
    currency: z.string().default("USD"),
  })
  .describe("Per-token prices, for cost in reports.");

/**
 * Fields every model entry has, whatever its provider. A function so that judges can reuse them
 * with an optional `name` (see `scoring/spec.ts`).
 */
function commonFields<N extends z.ZodType>(name: N) {
  return {
    name,
    endpoint: z
      .string()
      .min(1)
      .describe(
        "Endpoint URL (serverless, Foundry '/models', Azure OpenAI deployment URL, an OpenAI v1 base URL such as https://<resource>.openai.azure.com/openai/v1, GitHub Models), or `emulator://<sim>` for the built-in emulator.",
      ),
    model: z
      .string()
      .optional()
      .describe(
        "Model/deployment name sent in the request body (multi-model endpoints; required by the OpenAI v1 surface).",
      ),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .optional()
      .describe(
        "Name of the environment variable holding the key. Required for real endpoints unless `auth` is `entra`.",
      ),
    auth: z
      .enum(["key", "entra"])
      .default("key")
      .describe(
        "`key`: the key in `apiKeyEnv`. `entra`: Microsoft Entra ID tokens from DefaultAzureCredential (az login, managed identity, workload identity, AZURE_* variables), scope https://cognitiveservices.azure.com/.default; no key anywhere. @default key",
      ),
    stream: z
      .boolean()
      .default(false)
      .describe(
        "Stream the answer over SSE: the journal then records time to first token (ttftMs) and output tokens per second. @default false",
      ),
    params: GenerationParamsSpec.default({}),
    concurrency: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Most calls in flight to this model. @default the global limit"),
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
      .describe(
        "Requests per minute this deployment allows (its quota); bakeoff paces requests to stay under it, retries included.",
      ),
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
  };
}

/** Fields only the `azure-ai-inference` provider reads. */
const azureAiInferenceFields = {
  apiVersion: z
    .string()
    .optional()
    .describe("api-version query parameter; '' omits it (OpenAI-compatible servers). @default the SDK's"),
  extraParameters: z
    .enum(["error", "drop", "pass-through"])
    .optional()
    .describe("extra-parameters header: what the service does with body keys it does not know."),
};

/** Fields only the `openai` provider reads. */
const openaiFields = {
  api: z
    .enum(["chat", "responses"])
    .default("chat")
    .describe(
      "`chat`: POST /chat/completions. `responses`: POST /responses (recommended by Microsoft for Azure OpenAI models). @default chat",
    ),
  batch: z
    .boolean()
    .optional()
    .describe(
      "Send this model's calls through the Batch API (`/files` + `/batches`, half price, answers within the completion window) instead of live; `bakeoff run --batch` sets it for every `openai` model. See the top-level `batch` block. @default false",
    ),
  batchModel: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Deployment name sent as `model` in batch requests, when the batch deployment (Azure Global-Batch / Data-Zone-Batch) differs from the live one. @default model",
    ),
};

/**
 * One schema per provider, discriminated by `provider`: a field only one provider reads is an
 * error on the others (e.g. `apiVersion` on an `openai` entry), instead of being silently ignored.
 * `provider` may be omitted and then means `azure-ai-inference` (configs written before there was
 * a choice). A new provider adds one variant here and one line in `providers/registry.ts`.
 */
export function modelSpecUnion<N extends z.ZodType>(name: N) {
  return z.discriminatedUnion("provider", [
    z.strictObject({
      provider: z
        .literal("azure-ai-inference")
        .default("azure-ai-inference")
        .describe(
          "The Azure AI model inference API (`/models/**`, retired by Microsoft on 2026-08-26 but still served by existing endpoints). @default azure-ai-inference",
        ),
      ...commonFields(name),
      ...azureAiInferenceFields,
    }),
    z.strictObject({
      provider: z
        .literal("openai")
        .describe(
          "The OpenAI v1 surface via the `openai` package: Azure OpenAI / Foundry `/openai/v1`, OpenAI, GitHub Models, Ollama, vLLM, llama.cpp.",
        ),
      ...commonFields(name),
      ...openaiFields,
    }),
  ]);
}

export const ModelSpec = modelSpecUnion(
  identifier.describe("Name used on the command line (--models) and in reports."),
).describe("A model to evaluate.");

/** The providers bakeoff knows (the discriminator of {@link ModelSpec}). */
export const ProviderName = z.enum(["azure-ai-inference", "openai"]);
export type ProviderName = z.infer<typeof ProviderName>;

export type ModelSpec = z.infer<typeof ModelSpec>;
/** The entry of one provider, e.g. `ModelSpecOf<"openai">`. */
export type ModelSpecOf<P extends ProviderName> = Extract<ModelSpec, { provider: P }>;
export type PricingSpec = z.infer<typeof PricingSpec>;
