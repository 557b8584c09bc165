/**
 * Provider for the Azure AI model inference API (`@azure-rest/ai-inference`): serverless and
 * managed endpoints, Foundry `/models`, Azure OpenAI deployments, GitHub Models and
 * OpenAI-compatible local servers (with `apiVersion: ""`).
 *
 * One `attempt()` is one HTTP request: the SDK's own retry policy is switched off because it
 * waits for any `Retry-After` without a cap and would multiply with bakeoff's retries. The SDK's
 * `timeout` option is not used either: it covers only the wait for headers, so the caller's
 * AbortSignal is the deadline, and it also cuts off a body that stalls half way.
 */
import ModelClient, { type ModelClient as SdkClient } from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import { ModelCallError } from "../errors.js";
import type { CompletionRequest, Usage } from "../types.js";
import { abortedAttemptError, badResponseError, networkError, normaliseHttpError, requestIdFrom } from "./errors.js";
import { redactSecrets } from "./redact.js";
import type { HeaderBag } from "./retry-after.js";
import type { AttemptResult, ModelInfo, Provider } from "./types.js";

/** Everything this provider needs; `endpoint` is already a real http(s) URL. */
export interface AzureAiInferenceSpec {
  /** The configured model name (reports, logs). */
  name: string;
  /** Base URL; `/chat/completions` and `/info` are appended. */
  endpoint: string;
  /** Model or deployment name sent in the body, for multi-model endpoints. */
  model?: string;
  apiKey: string;
  /** `api-version` query parameter; `""` omits it; absent means the SDK's default. */
  apiVersion?: string;
  /** Value of the `extra-parameters` header; absent sends no header (service default). */
  extraParameters?: "error" | "drop" | "pass-through";
}

/** Identifies bakeoff's traffic in service logs (the SDK appends its own product tokens). */
const USER_AGENT_PREFIX = "bakeoff";

/** Real keys are 32+ characters; shorter values are placeholders, not worth masking. */
const MIN_SECRET_LENGTH = 8;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The client hands over text/plain bodies as strings, even when they hold JSON. */
function parseIfJsonString(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** `usage` in camelCase, or null when the service sent none or sent nonsense. */
function toUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const promptTokens = count(raw.prompt_tokens);
  const completionTokens = count(raw.completion_tokens);
  if (promptTokens === undefined || completionTokens === undefined) return null;
  return { promptTokens, completionTokens, totalTokens: count(raw.total_tokens) ?? promptTokens + completionTokens };
}

/** Reads a 200 body as a chat completion; anything else is a `bad_response`. */
function toAttemptResult(rawBody: unknown, headers: HeaderBag, secrets: readonly string[]): AttemptResult {
  const body = parseIfJsonString(rawBody);
  if (!isRecord(body)) throw badResponseError("not a JSON object", rawBody, headers, secrets);
  const choice: unknown = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(choice)) throw badResponseError("no choices", body, headers, secrets);
  const message = choice.message;
  if (!isRecord(message)) throw badResponseError("choices[0] has no message", body, headers, secrets);
  const content = message.content;
  if (content !== null && content !== undefined && typeof content !== "string") {
    throw badResponseError("message content is not text", body, headers, secrets);
  }
  const id = typeof body.id === "string" && body.id !== "" ? body.id : undefined;
  return {
    text: content ?? null,
    // An open set: keep whatever the service said, including values newer than this code.
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: toUsage(body.usage),
    model: typeof body.model === "string" && body.model !== "" ? body.model : null,
    requestId: requestIdFrom(headers) ?? id ?? null,
    systemFingerprint: typeof body.system_fingerprint === "string" ? body.system_fingerprint : null,
  };
}

/** The parts of the SDK's `RestError` we read; duck-typed because it is a transitive package. */
interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  response?: { status?: unknown; bodyAsText?: unknown; headers?: { toJSON?: () => Record<string, string> } };
}

/**
 * Classifies anything the SDK threw. Our signal wins: once it fired, the failure is ours
 * (deadline or shutdown), whatever error the socket teardown happened to produce.
 * Errors that are neither HTTP nor network (programming errors) are rethrown untouched.
 */
function fromThrown(err: unknown, signal: AbortSignal, host: string, secrets: readonly string[]): ModelCallError {
  if (err instanceof ModelCallError) return err;
  if (signal.aborted) return abortedAttemptError(signal);
  if (typeof err !== "object" || err === null) throw err;
  const e = err as SdkError;
  const response = e.response;
  if (response !== undefined && typeof response.status === "number") {
    // The SDK throws (PARSE_ERROR) when a body labelled application/json does not parse.
    const headers = response.headers?.toJSON?.() ?? {};
    const text = typeof response.bodyAsText === "string" ? response.bodyAsText : undefined;
    if (response.status === 200) return badResponseError("not valid JSON", text ?? "", headers, secrets);
    return normaliseHttpError(response.status, text, headers, secrets);
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  const message = typeof e.message === "string" && e.message !== "" ? e.message : "the connection failed";
  // PARSE_ERROR without a response: the body stream broke (connection reset mid-body).
  if (code === "PARSE_ERROR") return networkError(`${host} closed the connection in the middle of the response (${message})`, undefined, secrets);
  if (code !== undefined || e.name === "RestError" || e.name === "AbortError") return networkError(`calling ${host}: ${message}`, code, secrets);
  throw err;
}

function makeClient(spec: AzureAiInferenceSpec): SdkClient {
  const url = new URL(spec.endpoint);
  return ModelClient(spec.endpoint.replace(/\/+$/, ""), new AzureKeyCredential(spec.apiKey), {
    // bakeoff's retry layer owns retries, bounded; the pipeline's would multiply them.
    retryOptions: { maxRetries: 0 },
    // The config names an http:// URL on purpose (local emulator, Ollama, vLLM).
    allowInsecureConnection: url.protocol === "http:",
    // Only pass apiVersion when configured: the SDK's default applies otherwise, and "" omits it.
    ...(spec.apiVersion === undefined ? {} : { apiVersion: spec.apiVersion }),
    userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
  });
}

/**
 * Creates a {@link Provider} for an Azure AI model inference endpoint.
 * `attempt()` throws {@link ModelCallError} for every failure: HTTP errors normalised from the
 * body, `bad_response` for a 200 that is not a chat completion, `network`, and `timeout` or
 * `aborted` according to the signal's reason.
 */
export function createAzureAiInferenceProvider(spec: AzureAiInferenceSpec): Provider {
  const client = makeClient(spec);
  // For network error messages: the host only, never the full URL (it may carry a query).
  const host = new URL(spec.endpoint).host;
  // Masking a very short "key" (emulator placeholders such as "x") would mangle every message.
  const secrets = spec.apiKey.length >= MIN_SECRET_LENGTH ? [spec.apiKey] : [];
  const headers = spec.extraParameters === undefined ? undefined : { "extra-parameters": spec.extraParameters };

  async function attempt(request: CompletionRequest, signal: AbortSignal): Promise<AttemptResult> {
    if (signal.aborted) throw abortedAttemptError(signal);
    const body = {
      messages: request.messages,
      ...request.params,
      ...(spec.model === undefined ? {} : { model: spec.model }),
    };
    try {
      const res = await client.path("/chat/completions").post({
        // Our param types are wire names but looser than the SDK's (json_schema is `unknown`).
        body,
        ...(headers === undefined ? {} : { headers }),
        abortSignal: signal,
      });
      if (res.status !== "200") throw normaliseHttpError(Number(res.status), res.body, res.headers, secrets);
      return toAttemptResult(res.body, res.headers, secrets);
    } catch (err) {
      throw fromThrown(err, signal, host, secrets);
    }
  }

  async function info(signal: AbortSignal): Promise<ModelInfo | null> {
    if (signal.aborted) throw abortedAttemptError(signal);
    try {
      const res = await client.path("/info").get({ abortSignal: signal });
      // Azure OpenAI and GitHub Models have no /info route.
      if (res.status === "404" || res.status === "405") return null;
      if (res.status !== "200") throw normaliseHttpError(Number(res.status), res.body, res.headers, secrets);
      const raw = parseIfJsonString(res.body);
      if (!isRecord(raw) || typeof raw.model_name !== "string") {
        throw new ModelCallError("bad_response", redactSecrets(`GET /info answered 200 without a model_name`, secrets), {
          status: 200,
          requestId: requestIdFrom(res.headers),
        });
      }
      return {
        modelName: raw.model_name,
        ...(typeof raw.model_type === "string" ? { modelType: raw.model_type } : {}),
        ...(typeof raw.model_provider_name === "string" ? { providerName: raw.model_provider_name } : {}),
      };
    } catch (err) {
      throw fromThrown(err, signal, host, secrets);
    }
  }

  return { modelName: spec.name, attempt, info };
}
