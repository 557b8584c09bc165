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
import type { GetChatCompletionsParameters, ModelClient as SdkClient } from "@azure-rest/ai-inference";
import type { IncomingMessage } from "node:http";
import { Transform } from "node:stream";
import { ModelCallError } from "../errors.js";
import type { CompletionRequest } from "../types.js";
import { createAzureHttpClient } from "./azure-http-client.js";
import { COGNITIVE_SERVICES_SCOPE, tokenSourceFor, type ProviderAuth } from "./auth.js";
import { ChatStreamAccumulator, isRecord, toolCallsFromMessage, usageFromWire } from "./chat-wire.js";
import { abortedAttemptError, badResponseError, networkError, normaliseHttpError, requestIdFrom } from "./errors.js";
import { redactSecrets } from "./redact.js";
import type { ProviderFactory } from "./registry.js";
import type { HeaderBag } from "./retry-after.js";
import type { AttemptResult, ModelInfo, Provider } from "./types.js";
import { nodeRequire } from "../util/node-http.js";

// The SDK's CommonJS build, through require: its ES-module build imports `node:http` as a module,
// which on Node 22+ loads undici for nothing (see util/node-http.ts), and its ~140 files load
// faster as CommonJS. Types come from the same package; nothing here relies on `instanceof`
// with SDK classes (errors are duck-typed), so the two builds cannot disagree.
const { default: ModelClient } = nodeRequire("@azure-rest/ai-inference") as typeof import("@azure-rest/ai-inference");
const { AzureKeyCredential } = nodeRequire("@azure/core-auth") as typeof import("@azure/core-auth");
const { createSseStream } = nodeRequire("@azure/core-sse") as typeof import("@azure/core-sse");

/** Everything this provider needs; `endpoint` is already a real http(s) URL. */
export interface AzureAiInferenceSpec {
  /** The configured model name (reports, logs). */
  name: string;
  /** Base URL; `/chat/completions` and `/info` are appended. */
  endpoint: string;
  /** Model or deployment name sent in the body, for multi-model endpoints. */
  model?: string;
  /** A key (sent as `api-key` and `Authorization: Bearer`) or an Entra credential. */
  auth?: ProviderAuth;
  /** Shorthand for `auth: { kind: "key", apiKey }`. */
  apiKey?: string;
  /** `api-version` query parameter; `""` omits it; absent means the SDK's default. */
  apiVersion?: string;
  /** Value of the `extra-parameters` header; absent sends no header (service default). */
  extraParameters?: "error" | "drop" | "pass-through";
  /** Largest response body read, bytes; a larger one fails the attempt (not retried). @default 10 MiB */
  maxResponseBytes?: number;
  /** Stream the answer over SSE (records time to first token). */
  stream?: boolean;
}

/** Default cap on a response body: far above any chat completion, far below a memory problem. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * Reads a response body as text, at most `max` bytes: a server sending 50 MB (or an endless
 * stream) fails the attempt after `max` bytes instead of being buffered whole. The advertised
 * Content-Length is checked first so an oversized body is refused without reading it.
 */
async function readCapped(
  body: NodeJS.ReadableStream | undefined,
  headers: HeaderBag,
  max: number,
  status: number,
  secrets: readonly string[],
): Promise<string> {
  if (body === undefined) return "";
  const tooLarge = (seen: string) => {
    (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    return new ModelCallError(
      "bad_response",
      redactSecrets(`response body is larger than maxResponseBytes (${max} bytes; ${seen}); not read further`, secrets),
      {
        status,
        requestId: requestIdFrom(headers),
      },
    );
  };
  const declared = Number(headerValue(headers, "content-length"));
  if (Number.isFinite(declared) && declared > max) throw tooLarge(`Content-Length ${declared}`);
  // Plain listeners rather than `for await`: the async iterator costs an end-of-stream watcher
  // and a promise per chunk on every response (measurable at thousands of calls per second).
  // The outcomes are the same: the stream's own error, or a premature close like `for await`'s.
  const stream = body as NodeJS.ReadableStream & { destroyed?: boolean; errored?: Error | null };
  const prematureClose = () => Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
  // Torn down before we got to it (an abort between headers and body): its events are gone.
  if (stream.destroyed === true) throw stream.errored ?? prematureClose();
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined, text?: string) => {
      stream.off("data", onData).off("end", onEnd).off("close", onClose).off("error", finish);
      // A late error after we stopped listening must not become an uncaught exception.
      stream.on("error", () => undefined);
      if (err === undefined) resolve(text!);
      else reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > max) finish(tooLarge(`more than ${max} bytes received`));
      else chunks.push(buf);
    };
    // One chunk (a small answer) is decoded as it is, without copying it into a new Buffer first.
    const onEnd = () => finish(undefined, (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8"));
    const onClose = () => finish(prematureClose());
    stream.on("data", onData).once("end", onEnd).once("close", onClose).once("error", finish);
  });
}

/** Passes `stream` through, failing it with `tooLarge()` once more than `max` bytes went by. */
function capStream(stream: IncomingMessage, max: number, tooLarge: () => Error): Transform {
  let size = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > max) done(tooLarge());
      else done(null, chunk);
    },
  });
  stream.on("error", (err) => capped.destroy(err));
  capped.on("error", () => stream.destroy());
  return stream.pipe(capped);
}

function oversizeError(max: number, headers: HeaderBag, secrets: readonly string[]): ModelCallError {
  return new ModelCallError(
    "bad_response",
    redactSecrets(`streamed response is larger than maxResponseBytes (${max} bytes); not read further`, secrets),
    {
      status: 200,
      requestId: requestIdFrom(headers),
    },
  );
}

function headerValue(headers: HeaderBag, name: string): string | undefined {
  // The SDK hands headers over with lower-case names: look the name up before scanning them all.
  const direct = headers[name];
  if (direct !== undefined) return Array.isArray(direct) ? direct[0] : String(direct);
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v);
  return undefined;
}

/** A body as the SDK would have handed it over: parsed JSON when it is JSON, else the text. */
function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Identifies bakeoff's traffic in service logs (the SDK appends its own product tokens). */
const USER_AGENT_PREFIX = "bakeoff";

/** Real keys are 32+ characters; shorter values are placeholders, not worth masking. */
const MIN_SECRET_LENGTH = 8;

/** The client hands over text/plain bodies as strings, even when they hold JSON. */
function parseIfJsonString(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
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
  const toolCalls = toolCallsFromMessage(message);
  return {
    text: content ?? null,
    // An open set: keep whatever the service said, including values newer than this code.
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: usageFromWire(body.usage),
    ...(toolCalls === undefined ? {} : { toolCalls }),
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
  if (code === "PARSE_ERROR")
    return networkError(`${host} closed the connection in the middle of the response (${message})`, undefined, secrets);
  if (code !== undefined || e.name === "RestError" || e.name === "AbortError")
    return networkError(`calling ${host}: ${message}`, code, secrets);
  throw err;
}

/**
 * Pipeline policies the client installs that do nothing for bakeoff but cost CPU on every call
 * (~60-90 µs of a ~500 µs call at 0 ms latency, measured with `--cpu-prof`; see BENCHMARKS.md):
 * - `InferenceTracingPolicy` (the package's own OpenTelemetry gen-ai spans) builds a tracing
 *   client, parses the request URL and `JSON.parse`s the request body twice per call, even
 *   when no OpenTelemetry instrumenter is registered; `tracingPolicy` (core's HTTP spans)
 *   starts a no-op span and context per call. bakeoff registers no instrumenter (its tracing
 *   is the journal and Weave), so both only ever produced no-op spans.
 * - `defaultRetryPolicy`: already set to `maxRetries: 0` (bakeoff's retry layer owns retries,
 *   Retry-After and their caps: providers/retry.ts), so it only wraps each call in logging.
 *   test/retry.test.ts proves the covered behaviour through this provider and a real server:
 *   429 + Retry-After waits and retries, 5xx backs off, `maxAttempts` requests and no more.
 * - `formDataPolicy` and `multipartPolicy`: they rewrite form-data and multipart bodies; bakeoff
 *   sends a JSON body only (the SDK has stringified it before they run), so each was one more
 *   async layer per call doing nothing.
 * - `wrapAbortSignalLikePolicy`: turns a signal that is not a real `AbortSignal` into one for
 *   the SDK's own HTTP client; ours (azure-http-client.ts) takes either, and bakeoff's signals are
 *   real ones, so it was an async layer with a try/finally per call doing nothing.
 * Everything that shapes the request on the wire stays (key headers, api-version, user agent,
 * client request id, Accept-Encoding and decompression, proxy, redirects, AZURE_LOG_LEVEL logs).
 */
const UNUSED_POLICIES = [
  "InferenceTracingPolicy",
  "tracingPolicy",
  "defaultRetryPolicy",
  "formDataPolicy",
  "multipartPolicy",
  "wrapAbortSignalLikePolicy",
] as const;

/**
 * The HTTP client every ModelClient of the process sends through (azure-http-client.ts: the
 * SDK's pipeline unchanged, one cheaper request at its end), so they share one keep-alive pool
 * as they shared the SDK's cached default client before.
 */
let httpClient: ReturnType<typeof createAzureHttpClient> | undefined;

function makeClient(spec: AzureAiInferenceSpec & { auth: ProviderAuth }): SdkClient {
  const url = new URL(spec.endpoint);
  const credential = spec.auth.kind === "key" ? new AzureKeyCredential(spec.auth.apiKey) : spec.auth.credential;
  const client = ModelClient(spec.endpoint.replace(/\/+$/, ""), credential, {
    credentials: { scopes: [COGNITIVE_SERVICES_SCOPE] },
    // bakeoff's retry layer owns retries, bounded; the pipeline's would multiply them.
    retryOptions: { maxRetries: 0 },
    // The config names an http:// URL on purpose (local emulator, Ollama, vLLM).
    allowInsecureConnection: url.protocol === "http:",
    // Only pass apiVersion when configured: the SDK's default applies otherwise, and "" omits it.
    ...(spec.apiVersion === undefined ? {} : { apiVersion: spec.apiVersion }),
    userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
    httpClient: (httpClient ??= createAzureHttpClient()),
  });
  for (const name of UNUSED_POLICIES) client.pipeline.removePolicy({ name });
  if (spec.auth.kind === "entra") {
    // The SDK's bearer policy refuses plain http, which local endpoints (the emulator, a
    // gateway on loopback) use; this one does the same job with the same cached token source
    // the openai provider uses, so every model on one credential shares one token.
    const tokens = tokenSourceFor(spec.auth.credential);
    client.pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
    client.pipeline.addPolicy({
      name: "bakeoffEntraToken",
      sendRequest: async (request, next) => {
        request.headers.set("authorization", `Bearer ${await tokens()}`);
        return next(request);
      },
    });
  }
  return client;
}

/** Reads a whole error body from a streamed response, as text (bounded: error bodies are small). */
async function readText(stream: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    if (size < limit) chunks.push(buf);
    size += buf.length;
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, limit);
}

/**
 * Creates a {@link Provider} for an Azure AI model inference endpoint.
 * `attempt()` throws {@link ModelCallError} for every failure: HTTP errors normalised from the
 * body, `bad_response` for a 200 that is not a chat completion, `network`, and `timeout` or
 * `aborted` according to the signal's reason.
 */
export function createAzureAiInferenceProvider(options: AzureAiInferenceSpec): Provider {
  const spec = { ...options, auth: options.auth ?? { kind: "key" as const, apiKey: options.apiKey ?? "" } };
  const client = makeClient(spec);
  // The route object once, not per call: each `path()` builds an object of eight closures.
  const completions = client.path("/chat/completions");
  // For network error messages: the host only, never the full URL (it may carry a query).
  const host = new URL(spec.endpoint).host;
  // Masking a very short "key" (emulator placeholders such as "x") would mangle every message.
  const secrets = spec.auth.kind === "key" && spec.auth.apiKey.length >= MIN_SECRET_LENGTH ? [spec.auth.apiKey] : [];
  // Usage arrives in a stream only with stream_options, which serverless endpoints reject as an
  // unknown key unless they pass extra parameters through; a streaming model therefore asks for
  // pass-through when the entry does not say otherwise (the rest of the body is standard keys).
  const extraParameters = spec.extraParameters ?? (spec.stream === true ? "pass-through" : undefined);
  const headers = extraParameters === undefined ? undefined : { "extra-parameters": extraParameters };
  const maxBytes = spec.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  async function attempt(request: CompletionRequest, signal: AbortSignal): Promise<AttemptResult> {
    if (signal.aborted) throw abortedAttemptError(signal);
    const body = {
      messages: request.messages,
      ...request.params,
      ...(spec.model === undefined ? {} : { model: spec.model }),
    };
    if (spec.stream === true) return attemptStreamed(body, signal);
    try {
      // Streamed, not buffered by the SDK, so the body size can be capped while it arrives.
      const res = await completions
        .post({
          // Our param types are wire names but looser than the SDK's (json_schema is `unknown`).
          body,
          ...(headers === undefined ? {} : { headers }),
          abortSignal: signal,
        })
        .asNodeStream();
      const status = Number(res.status);
      const text = await readCapped(res.body, res.headers, maxBytes, status, secrets);
      if (status !== 200) throw normaliseHttpError(status, parseBody(text), res.headers, secrets);
      const parsed = parseBody(text);
      // As the SDK did: a body labelled JSON that does not parse is "not valid JSON".
      if (typeof parsed === "string" && /json/i.test(headerValue(res.headers, "content-type") ?? ""))
        throw badResponseError("not valid JSON", text, res.headers, secrets);
      return toAttemptResult(parsed, res.headers, secrets);
    } catch (err) {
      throw fromThrown(err, signal, host, secrets);
    }
  }

  async function attemptStreamed(body: Record<string, unknown>, signal: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    let stream: IncomingMessage | undefined;
    try {
      const res = await completions
        .post({
          body: {
            ...body,
            stream: true,
            stream_options: { include_usage: true },
          } as unknown as GetChatCompletionsParameters["body"],
          ...(headers === undefined ? {} : { headers }),
          abortSignal: signal,
        })
        .asNodeStream();
      stream = res.body as IncomingMessage | undefined;
      if (stream === undefined) throw badResponseError("no response body", "", res.headers, secrets);
      if (res.status !== "200") {
        // Read (and so release) the error body: an unread one keeps the socket busy.
        throw normaliseHttpError(Number(res.status), parseIfJsonString(await readText(stream)), res.headers, secrets);
      }
      const acc = new ChatStreamAccumulator(started);
      let done = false;
      // The same body cap as an unstreamed answer: an endless stream fails instead of growing.
      for await (const event of createSseStream(
        capStream(stream, maxBytes, () => oversizeError(maxBytes, res.headers, secrets)) as unknown as IncomingMessage,
      )) {
        if (event.data === "[DONE]") {
          done = true;
          break;
        }
        if (event.data.trim() === "") continue;
        let chunk: unknown;
        try {
          chunk = JSON.parse(event.data);
        } catch {
          throw badResponseError("a stream event is not JSON", event.data, res.headers, secrets);
        }
        if (isRecord(chunk) && isRecord(chunk.error)) throw normaliseHttpError(500, chunk, res.headers, secrets);
        acc.add(chunk);
      }
      if (signal.aborted) throw abortedAttemptError(signal);
      // A stream that ends without [DONE] (or without a finish reason) was cut off: retryable.
      if (!done || !acc.finished)
        throw networkError(`${host} ended the stream before the answer was complete`, "STREAM_CUT", secrets);
      const answer = acc.result();
      return {
        text: answer.text,
        finishReason: answer.finishReason,
        usage: answer.usage,
        model: answer.model,
        requestId: requestIdFrom(res.headers) ?? answer.id,
        systemFingerprint: answer.systemFingerprint,
        ...(answer.toolCalls === undefined ? {} : { toolCalls: answer.toolCalls }),
        ...(answer.ttftMs === undefined ? {} : { ttftMs: answer.ttftMs }),
        ...(answer.outputTokensPerSec === undefined ? {} : { outputTokensPerSec: answer.outputTokensPerSec }),
      };
    } catch (err) {
      throw fromThrown(err, signal, host, secrets);
    } finally {
      // Early exits (errors, [DONE] before the socket's end) must not leave the socket half-read.
      if (stream !== undefined && !stream.readableEnded) stream.destroy();
    }
  }

  async function info(signal: AbortSignal): Promise<ModelInfo | null> {
    if (signal.aborted) throw abortedAttemptError(signal);
    try {
      // Streamed and capped like completions: /info is answered by the same server.
      const res = await client.path("/info").get({ abortSignal: signal }).asNodeStream();
      const status = Number(res.status);
      const text = await readCapped(res.body, res.headers, maxBytes, status, secrets);
      // Azure OpenAI and GitHub Models have no /info route.
      if (status === 404 || status === 405) return null;
      if (status !== 200) throw normaliseHttpError(status, parseBody(text), res.headers, secrets);
      const raw = parseBody(text);
      if (!isRecord(raw) || typeof raw.model_name !== "string") {
        throw new ModelCallError(
          "bad_response",
          redactSecrets(`GET /info answered 200 without a model_name`, secrets),
          {
            status: 200,
            requestId: requestIdFrom(res.headers),
          },
        );
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

/** The `azure-ai-inference` entry of the provider registry. */
export const azureAiInferenceProvider: ProviderFactory<"azure-ai-inference"> = {
  create: (spec, auth, options) =>
    createAzureAiInferenceProvider({
      name: spec.name,
      endpoint: spec.endpoint,
      auth,
      ...(spec.model === undefined ? {} : { model: spec.model }),
      ...(spec.apiVersion === undefined ? {} : { apiVersion: spec.apiVersion }),
      ...(spec.extraParameters === undefined ? {} : { extraParameters: spec.extraParameters }),
      ...(spec.stream === undefined ? {} : { stream: spec.stream }),
      ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    }),
};
