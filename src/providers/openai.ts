/**
 * Provider for the OpenAI v1 surface: Azure OpenAI and Foundry
 * (`https://<resource>.openai.azure.com/openai/v1`, `https://<resource>.services.ai.azure.com/openai/v1`),
 * OpenAI, GitHub Models and OpenAI-compatible local servers (Ollama, vLLM, llama.cpp).
 * `api: "chat"` calls `/chat/completions`, `api: "responses"` calls `/responses`.
 *
 * Non-streamed calls go straight over node:http (`json-post.ts`: the `openai` client cost 4x the
 * CPU per call, which became latency at high concurrency); streamed calls and batch mode's routes
 * use the `openai` package's client.
 *
 * One `attempt()` is one HTTP request: the client's own retries are off (`maxRetries: 0`), because
 * bakeoff's retry layer owns retries, Retry-After, budgets and the cache in front of this. Non-2xx
 * answers are caught at the `fetch` the client uses, with their full body, so they normalise
 * exactly like the azure-ai-inference provider's (the client keeps only an `error` key).
 *
 * The request body is built by {@link buildOpenAIRequest}, a pure function, so batch mode can
 * write the very same bodies into a JSONL file.
 */
import type OpenAI from "openai";
import { ModelCallError } from "../errors.js";
import type { ChatMessage, CompletionRequest, GenerationParams, ToolCall } from "../types.js";
import { tokenSourceFor, type ProviderAuth } from "./auth.js";
import { ChatStreamAccumulator, isRecord, streamTimings, toolCallsFromMessage, usageFromWire } from "./chat-wire.js";
import { abortedAttemptError, badResponseError, networkError, normaliseHttpError, requestIdFrom } from "./errors.js";
import type { ProviderFactory } from "./registry.js";
import type { HeaderBag } from "./retry-after.js";
import { postJson } from "./json-post.js";
import type { AttemptResult, ModelInfo, Provider } from "./types.js";

/** Which OpenAI API answers. */
export type OpenAIApi = "chat" | "responses";

/** Everything this provider needs; `endpoint` is the v1 base URL (a real http(s) URL). */
export interface OpenAISpec {
  /** The configured model name (reports, logs). */
  name: string;
  /** Base URL; `/chat/completions` or `/responses` is appended. */
  endpoint: string;
  /** Model or deployment name sent as `model` (required by the v1 surface). @default name */
  model?: string;
  auth: ProviderAuth;
  /** @default "chat" */
  api?: OpenAIApi;
  /** Stream the answer over SSE (records time to first token). */
  stream?: boolean;
  /** Largest response body read, bytes; a larger one fails the attempt (not retried). @default 10 MiB */
  maxResponseBytes?: number;
}

/** Sent on non-streamed calls (the client sends its own on streamed ones). */
const USER_AGENT = "bakeoff (openai provider; node:http)";

/** Real keys are 32+ characters; shorter values are placeholders, not worth masking. */
const MIN_SECRET_LENGTH = 8;

type OpenAIModule = typeof import("openai");

/** The `openai` package, loaded on the first call only (it is slow to import; most CLI runs never need it). */
let sdk: Promise<OpenAIModule> | undefined;
const loadSdk = (): Promise<OpenAIModule> => (sdk ??= import("openai"));

/**
 * Whether `endpoint` is an Azure host (or Azure's `/openai/...` path layout): those take keys in
 * the `api-key` header, which some Azure subscription keys require; other hosts get
 * `Authorization: Bearer`.
 */
export function isAzureStyleEndpoint(endpoint: string): boolean {
  const url = new URL(endpoint);
  const host = url.hostname.toLowerCase();
  return (
    host.endsWith(".azure.com") ||
    host.endsWith(".azure.us") ||
    host.endsWith(".azure.cn") ||
    /(^|\/)openai(\/|$)/.test(url.pathname)
  );
}

/** A request ready to send: the path below the base URL and the JSON body. */
export interface OpenAIRequest {
  path: "/chat/completions" | "/responses";
  body: Record<string, unknown>;
}

/**
 * The body of one request, as a pure function of the model entry and the request (no I/O, no
 * clock): the live provider sends it, batch mode writes it into its input file.
 *
 * Responses has no `seed`, `stop`, `presence_penalty` or `frequency_penalty`; they are left out
 * rather than rejected by the service. `max_tokens` becomes `max_output_tokens` and
 * `response_format` becomes `text.format`.
 */
export function buildOpenAIRequest(
  spec: { name: string; model?: string | undefined; api?: OpenAIApi | undefined; stream?: boolean | undefined },
  request: CompletionRequest,
): OpenAIRequest {
  const model = spec.model ?? spec.name;
  const stream = spec.stream === true;
  if ((spec.api ?? "chat") === "chat") {
    return {
      path: "/chat/completions",
      body: {
        model,
        messages: request.messages,
        ...request.params,
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      },
    };
  }
  return {
    path: "/responses",
    body: { model, ...responsesBody(request.messages, request.params), ...(stream ? { stream: true } : {}) },
  };
}

/** The Responses-API form of messages and parameters. */
function responsesBody(messages: readonly ChatMessage[], params: GenerationParams): Record<string, unknown> {
  const p = params as GenerationParams & { tools?: unknown; tool_choice?: unknown };
  const body: Record<string, unknown> = { input: messages.flatMap(toResponsesInput) };
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.max_tokens !== undefined) body.max_output_tokens = p.max_tokens;
  const format = p.response_format;
  if (format !== undefined && format.type !== "text") {
    if (format.type === "json_object") body.text = { format: { type: "json_object" } };
    else {
      // Chat nests {name, schema, strict} under json_schema; Responses puts them on the format.
      const js = isRecord(format.json_schema) ? format.json_schema : {};
      body.text = { format: { type: "json_schema", name: typeof js.name === "string" ? js.name : "output", ...js } };
    }
  }
  if (Array.isArray(p.tools)) body.tools = p.tools.map(toResponsesTool);
  if (p.tool_choice !== undefined) body.tool_choice = toResponsesToolChoice(p.tool_choice);
  return body;
}

/** Chat tools are `{type: "function", function: {name, ...}}`; Responses flattens them. */
function toResponsesTool(tool: unknown): unknown {
  if (!isRecord(tool) || tool.type !== "function" || !isRecord(tool.function)) return tool;
  return { type: "function", ...tool.function };
}

function toResponsesToolChoice(choice: unknown): unknown {
  if (isRecord(choice) && choice.type === "function" && isRecord(choice.function))
    return { type: "function", name: choice.function.name };
  return choice;
}

/** One chat message as Responses input items (an assistant turn with tool calls becomes several). */
function toResponsesInput(message: ChatMessage): unknown[] {
  const m = message as ChatMessage & { tool_calls?: unknown; tool_call_id?: unknown };
  if ((m.role as string) === "tool") {
    return [
      {
        type: "function_call_output",
        call_id: m.tool_call_id,
        output: typeof m.content === "string" ? m.content : JSON.stringify(m.content),
      },
    ];
  }
  const items: unknown[] = [];
  const content: unknown = m.content;
  if (typeof content === "string") {
    if (content !== "" || !Array.isArray(m.tool_calls)) items.push({ role: m.role, content });
  } else if (Array.isArray(content)) {
    items.push({ role: m.role, content: content.map((part) => toResponsesPart(part, m.role)) });
  }
  if (Array.isArray(m.tool_calls)) {
    for (const c of m.tool_calls) {
      if (!isRecord(c) || !isRecord(c.function)) continue;
      items.push({ type: "function_call", call_id: c.id, name: c.function.name, arguments: c.function.arguments });
    }
  }
  return items;
}

/** Chat content parts (`text`, `image_url`) as Responses parts (`input_text`, `input_image`). */
function toResponsesPart(part: unknown, role: string): unknown {
  if (!isRecord(part)) return part;
  if (part.type === "text") return { type: role === "assistant" ? "output_text" : "input_text", text: part.text };
  if (part.type === "image_url") {
    const image = isRecord(part.image_url) ? part.image_url : { url: part.image_url };
    return {
      type: "input_image",
      image_url: image.url,
      ...(typeof image.detail === "string" ? { detail: image.detail } : {}),
    };
  }
  return part;
}

/**
 * The finish reason of a Responses answer, which has none: `completed` is `stop` (or
 * `tool_calls` when it called functions, as Chat says), `incomplete` maps its reason
 * (`max_output_tokens` → `length`, `content_filter` → `content_filter`, others kept as said).
 */
export function responsesFinishReason(
  status: unknown,
  incompleteDetails: unknown,
  calledTools: boolean,
): string | null {
  if (status === "completed") return calledTools ? "tool_calls" : "stop";
  if (status === "incomplete") {
    const reason = isRecord(incompleteDetails) ? incompleteDetails.reason : undefined;
    if (reason === "max_output_tokens") return "length";
    if (typeof reason === "string" && reason !== "") return reason;
    return "length";
  }
  return typeof status === "string" ? status : null;
}

/** What a Responses body (final, or inside a stream's terminal event) says. */
interface ResponsesAnswer {
  text: string | null;
  finishReason: string | null;
  usage: ReturnType<typeof usageFromWire>;
  model: string | null;
  id: string | null;
  toolCalls?: ToolCall[];
}

function readResponsesBody(body: unknown, headers: HeaderBag, secrets: readonly string[]): ResponsesAnswer {
  if (!isRecord(body) || !Array.isArray(body.output))
    throw badResponseError("not a response object", body, headers, secrets);
  if (body.status === "failed") {
    const error = isRecord(body.error) ? body.error : {};
    const message = typeof error.message === "string" ? error.message : "the response failed";
    // A failure the service reports inside a 200: treated as a server fault (retryable).
    throw new ModelCallError("server", `The service failed the response: ${message}`, {
      status: 200,
      ...(typeof error.code === "string" ? { code: error.code } : {}),
      requestId: requestIdFrom(headers),
    });
  }
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const item of body.output) {
    if (!isRecord(item)) continue;
    if (item.type === "message" && Array.isArray(item.content)) {
      for (const part of item.content)
        if (isRecord(part) && part.type === "output_text" && typeof part.text === "string") texts.push(part.text);
    } else if (item.type === "function_call") {
      toolCalls.push({
        id: typeof item.call_id === "string" ? item.call_id : typeof item.id === "string" ? item.id : "",
        name: typeof item.name === "string" ? item.name : "",
        arguments: typeof item.arguments === "string" ? item.arguments : "",
      });
    }
  }
  return {
    text: texts.length > 0 ? texts.join("") : toolCalls.length > 0 ? null : "",
    finishReason: responsesFinishReason(body.status, body.incomplete_details, toolCalls.length > 0),
    usage: usageFromWire(body.usage),
    model: typeof body.model === "string" && body.model !== "" ? body.model : null,
    id: typeof body.id === "string" && body.id !== "" ? body.id : null,
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
  };
}

function readChatBody(body: unknown, headers: HeaderBag, secrets: readonly string[]): AttemptResult {
  if (!isRecord(body)) throw badResponseError("not a JSON object", body, headers, secrets);
  const choice: unknown = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) throw badResponseError("no choices", body, headers, secrets);
  const content = choice.message.content;
  if (content !== null && content !== undefined && typeof content !== "string")
    throw badResponseError("message content is not text", body, headers, secrets);
  const toolCalls = toolCallsFromMessage(choice.message);
  const id = typeof body.id === "string" && body.id !== "" ? body.id : null;
  const result: AttemptResult = {
    text: content ?? null,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    usage: usageFromWire(body.usage),
    model: typeof body.model === "string" && body.model !== "" ? body.model : null,
    requestId: requestIdFrom(headers) ?? id,
    systemFingerprint: typeof body.system_fingerprint === "string" ? body.system_fingerprint : null,
  };
  // Assigned, not spread in: once per answer, and a spread costs an object and a copy.
  if (toolCalls !== undefined) result.toolCalls = toolCalls;
  return result;
}

/**
 * What a 2xx answer body of the `chat` or `responses` API says, as a pure function: the live
 * provider and batch ingestion (each output line's `response.body`) both read answers here, so a
 * batched call records exactly what the same live call would.
 * @throws ModelCallError (`bad_response` for a body that is not an answer, `server` for a failed response)
 */
export function parseOpenAIBody(
  api: OpenAIApi,
  body: unknown,
  headers: HeaderBag,
  secrets: readonly string[] = [],
): AttemptResult {
  if (api === "chat") return readChatBody(body, headers, secrets);
  const answer = readResponsesBody(body, headers, secrets);
  return { ...fromResponsesAnswer(answer), requestId: requestIdFrom(headers) ?? answer.id };
}

/** A non-2xx response caught at the client's fetch, with the body the client would drop. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Default cap on a response body: far above any chat completion, far below a memory problem. */
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/**
 * The fetch the client uses: the global one, except that a non-2xx answer is read here and
 * thrown as an {@link HttpFailure} (the client has no retries, so it hands the error straight
 * back), and a body is cut off after `maxBytes` (streamed or not) with a non-retried
 * `bad_response`, so a 50 MB answer is never buffered whole.
 */
function cappedFetch(maxBytes: number): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const tooLarge = (seen: string) =>
      new ModelCallError(
        "bad_response",
        `response body is larger than maxResponseBytes (${maxBytes} bytes; ${seen}); not read further`,
        {
          status: res.status,
          requestId: requestIdFrom(Object.fromEntries(res.headers)),
        },
      );
    const declared = Number(res.headers.get("content-length"));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(`Content-Length ${declared}`);
    }
    if (!res.ok) {
      const body = await res.text().catch(() => "");
      throw new HttpFailure(res.status, body.slice(0, 64 * 1024), Object.fromEntries(res.headers));
    }
    // A declared length within the cap bounds an uncompressed body already (HTTP framing ends it
    // there): no byte-counting stream, which costs a web-stream pipe and a new Response per call.
    // A compressed body is decoded by fetch, so its size is only known while it is read.
    const bounded = res.headers.has("content-length") && !res.headers.has("content-encoding");
    if (res.body === null || bounded) return res;
    let size = 0;
    const capped = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size > maxBytes) controller.error(tooLarge(`more than ${maxBytes} bytes received`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The first error in `err`'s cause chain matching `test`. */
function inCauses<T>(err: unknown, test: (e: unknown) => e is T): T | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    if (test(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Classifies anything the client (or fetch) threw. Our signal wins: once it fired, the failure
 * is ours (deadline or shutdown). Errors that are neither HTTP nor network are rethrown.
 */
function fromThrown(
  err: unknown,
  signal: AbortSignal,
  host: string,
  secrets: readonly string[],
  m: OpenAIModule | undefined,
): ModelCallError {
  if (err instanceof ModelCallError) return err;
  if (signal.aborted) return abortedAttemptError(signal);
  const own = inCauses(err, (e): e is ModelCallError => e instanceof ModelCallError);
  if (own !== undefined) return own;
  const http = inCauses(err, (e): e is HttpFailure => e instanceof HttpFailure);
  if (http !== undefined) return normaliseHttpError(http.status, parseJsonText(http.body), http.headers, secrets);
  if (m !== undefined && err instanceof m.APIError && typeof err.status === "number") {
    const api = err as { status: number; error: unknown; headers?: Iterable<readonly [string, string]> };
    return normaliseHttpError(api.status, { error: api.error }, Object.fromEntries(api.headers ?? []), secrets);
  }
  if (
    (m !== undefined && err instanceof m.APIConnectionError) ||
    err instanceof TypeError ||
    (err instanceof Error && err.name === "AbortError")
  ) {
    const coded = inCauses(err, (e): e is { code: string } => typeof (e as { code?: unknown }).code === "string");
    const detail = inCauses(
      err.cause ?? err,
      (e): e is Error => e instanceof Error && e.message !== "" && e.message !== "Connection error.",
    );
    return networkError(`calling ${host}: ${detail?.message ?? err.message}`, coded?.code, secrets);
  }
  throw err;
}

/** Response headers of the client's raw response as a plain bag. */
function headersOf(response: Response): HeaderBag {
  return Object.fromEntries(response.headers);
}

/**
 * An `openai` client for `spec`'s endpoint with bakeoff's auth headers, no client retries and
 * the body cap, for other v1 routes than completions (batch mode's `/files` and `/batches`).
 * Non-2xx answers reject with an error whose HTTP status {@link openAIHttpStatus} reads.
 */
export async function createOpenAIClient(
  spec: Pick<OpenAISpec, "name" | "endpoint" | "auth" | "maxResponseBytes">,
): Promise<OpenAI> {
  return makeClient(await loadSdk(), spec);
}

/** The HTTP status of a failed request made through a {@link createOpenAIClient} client, if it got one. */
export function openAIHttpStatus(err: unknown): number | undefined {
  return inCauses(err, (e): e is HttpFailure => e instanceof HttpFailure)?.status;
}

/**
 * A failed request of a {@link createOpenAIClient} client as a {@link ModelCallError}, classified
 * like a failed completion (auth, rate_limit, server, network, ...).
 */
export function openAIRequestError(err: unknown, endpoint: string, secrets: readonly string[] = []): ModelCallError {
  return fromThrown(err, new AbortController().signal, new URL(endpoint).host, secrets, undefined);
}

function makeClient(m: OpenAIModule, spec: Pick<OpenAISpec, "endpoint" | "auth" | "maxResponseBytes">): OpenAI {
  const azure = isAzureStyleEndpoint(spec.endpoint);
  const keyHeaders: Record<string, string | null> =
    spec.auth.kind === "key" && azure ? { "api-key": spec.auth.apiKey, authorization: null } : {};
  return new m.OpenAI({
    baseURL: spec.endpoint.replace(/\/+$/, ""),
    // Entra: a cached, self-refreshing token source the client calls before each request.
    apiKey: spec.auth.kind === "key" ? spec.auth.apiKey : tokenSourceFor(spec.auth.credential),
    // bakeoff's retry layer owns retries; the client's would multiply them.
    maxRetries: 0,
    // The caller's AbortSignal is the per-attempt deadline; this only keeps the client's own
    // 10-minute default from cutting a long stream first.
    timeout: 2_147_483_647,
    fetch: cappedFetch(spec.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES),
    defaultHeaders: keyHeaders as Record<string, string>,
  });
}

/**
 * Creates a {@link Provider} for an OpenAI v1 endpoint. `attempt()` throws {@link ModelCallError}
 * for every failure, classified exactly as the azure-ai-inference provider classifies them.
 */
export function createOpenAIProvider(spec: OpenAISpec): Provider {
  let module: OpenAIModule | undefined;
  let clientPromise: Promise<OpenAI> | undefined;
  const clientFor = (): Promise<OpenAI> =>
    (clientPromise ??= loadSdk().then((m) => {
      module = m;
      return makeClient(m, spec);
    }));
  const host = new URL(spec.endpoint).host;
  const secrets = spec.auth.kind === "key" && spec.auth.apiKey.length >= MIN_SECRET_LENGTH ? [spec.auth.apiKey] : [];
  const api = spec.api ?? "chat";
  const base = spec.endpoint.replace(/\/+$/, "");
  const urls: Partial<Record<OpenAIRequest["path"], URL>> = {};
  const maxBytes = spec.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // The headers the client sends for auth, plus the JSON ones; Entra tokens come from the same
  // cached, self-refreshing source the client would call before each request.
  const azure = isAzureStyleEndpoint(spec.endpoint);
  const fixedHeaders: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": USER_AGENT,
    ...(spec.auth.kind === "key"
      ? azure
        ? { "api-key": spec.auth.apiKey }
        : { authorization: `Bearer ${spec.auth.apiKey}` }
      : {}),
  };
  const tokenSource = spec.auth.kind === "key" ? undefined : tokenSourceFor(spec.auth.credential);
  const requestHeaders = async (): Promise<Record<string, string>> =>
    tokenSource === undefined ? fixedHeaders : { ...fixedHeaders, authorization: `Bearer ${await tokenSource()}` };

  /**
   * Not `async`: a non-streamed call hands back `post()`'s own promise, where an async wrapper
   * returning it would add a promise and a thenable-resolution job per call. Every failure is
   * still a rejection, never a synchronous throw.
   */
  function attempt(request: CompletionRequest, signal: AbortSignal): Promise<AttemptResult> {
    try {
      if (signal.aborted) throw abortedAttemptError(signal);
      const { path, body } = buildOpenAIRequest(spec, request);
      return spec.stream !== true ? post(path, body, signal) : attemptStreamed(body, signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async function attemptStreamed(body: Record<string, unknown>, signal: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    try {
      const client = await clientFor();
      return await (api === "chat"
        ? streamChat(client, body, signal, started)
        : streamResponses(client, body, signal, started));
    } catch (err) {
      throw fromThrown(err, signal, host, secrets, module);
    }
  }

  /**
   * A non-streamed call over node:http (src/providers/json-post.ts says why not the client): the
   * same URL, body and auth headers the client would send, and the same classification of what
   * comes back (non-2xx through {@link normaliseHttpError}, a 2xx body through
   * {@link parseOpenAIBody}).
   */
  async function post(path: OpenAIRequest["path"], body: Record<string, unknown>, signal: AbortSignal) {
    // Outside the try: a credential that cannot produce a token fails as it did through the
    // client (its own error, not a network fault). A key needs no await (one promise less per call).
    const headers = tokenSource === undefined ? fixedHeaders : await requestHeaders();
    try {
      const url = (urls[path] ??= new URL(base + path));
      const res = await postJson(url, headers, JSON.stringify(body), signal, maxBytes);
      if (signal.aborted) throw abortedAttemptError(signal);
      if (res.status < 200 || res.status > 299)
        throw normaliseHttpError(res.status, parseJsonText(res.text.slice(0, 64 * 1024)), res.headers, secrets);
      return parseOpenAIBody(api, parseJsonText(res.text), res.headers, secrets);
    } catch (err) {
      if (err instanceof ModelCallError) throw err;
      if (signal.aborted) throw abortedAttemptError(signal);
      const coded = inCauses(err, (e): e is { code: string } => typeof (e as { code?: unknown }).code === "string");
      const message = err instanceof Error && err.message !== "" ? err.message : String(err);
      throw networkError(`calling ${host}: ${message}`, coded?.code, secrets);
    }
  }

  async function streamChat(
    client: OpenAI,
    body: Record<string, unknown>,
    signal: AbortSignal,
    started: number,
  ): Promise<AttemptResult> {
    const { data: stream, response } = await client.chat.completions.create(body as never, { signal }).withResponse();
    const headers = headersOf(response);
    const acc = new ChatStreamAccumulator(started);
    for await (const chunk of stream as unknown as AsyncIterable<unknown>) {
      if (isRecord(chunk) && isRecord(chunk.error)) throw normaliseHttpError(500, chunk, headers, secrets);
      acc.add(chunk);
    }
    if (signal.aborted) throw abortedAttemptError(signal);
    // The client ends quietly when the connection closes early; no finish reason means cut off.
    if (!acc.finished)
      throw networkError(`${host} ended the stream before the answer was complete`, "STREAM_CUT", secrets);
    const answer = acc.result();
    return {
      text: answer.text,
      finishReason: answer.finishReason,
      usage: answer.usage,
      model: answer.model,
      requestId: requestIdFrom(headers) ?? answer.id,
      systemFingerprint: answer.systemFingerprint,
      ...(answer.toolCalls === undefined ? {} : { toolCalls: answer.toolCalls }),
      ...(answer.ttftMs === undefined ? {} : { ttftMs: answer.ttftMs }),
      ...(answer.outputTokensPerSec === undefined ? {} : { outputTokensPerSec: answer.outputTokensPerSec }),
    };
  }

  async function streamResponses(
    client: OpenAI,
    body: Record<string, unknown>,
    signal: AbortSignal,
    started: number,
  ): Promise<AttemptResult> {
    const { data: stream, response } = await client.responses.create(body as never, { signal }).withResponse();
    const headers = headersOf(response);
    let firstTokenAt: number | undefined;
    let lastTokenAt: number | undefined;
    let final: unknown;
    for await (const event of stream as unknown as AsyncIterable<unknown>) {
      const type = isRecord(event) && typeof event.type === "string" ? event.type : "";
      if (type === "response.output_text.delta" || type === "response.function_call_arguments.delta") {
        lastTokenAt = performance.now();
        firstTokenAt ??= lastTokenAt;
      } else if (type === "response.completed" || type === "response.incomplete" || type === "response.failed")
        final = (event as { response?: unknown }).response;
      else if (type === "error") {
        const e = event as { message?: unknown; code?: unknown };
        throw new ModelCallError(
          "server",
          `The service reported an error in the stream: ${typeof e.message === "string" ? e.message : "unknown"}`,
          {
            ...(typeof e.code === "string" ? { code: e.code } : {}),
            requestId: requestIdFrom(headers),
          },
        );
      }
    }
    if (signal.aborted) throw abortedAttemptError(signal);
    if (final === undefined)
      throw networkError(`${host} ended the stream before the answer was complete`, "STREAM_CUT", secrets);
    const answer = readResponsesBody(final, headers, secrets);
    return {
      ...fromResponsesAnswer(answer),
      requestId: requestIdFrom(headers) ?? answer.id,
      ...streamTimings(started, firstTokenAt, lastTokenAt, answer.usage),
    };
  }

  // The v1 surface has no `/info` route (model identity comes with each response).
  const info = async (signal: AbortSignal): Promise<ModelInfo | null> => {
    if (signal.aborted) throw abortedAttemptError(signal);
    return null;
  };

  return { modelName: spec.name, attempt, info };
}

function fromResponsesAnswer(answer: ResponsesAnswer): AttemptResult {
  return {
    text: answer.text,
    finishReason: answer.finishReason,
    usage: answer.usage,
    model: answer.model,
    requestId: answer.id,
    systemFingerprint: null,
    ...(answer.toolCalls === undefined ? {} : { toolCalls: answer.toolCalls }),
  };
}

/** The `openai` entry of the provider registry. */
export const openaiProvider: ProviderFactory<"openai"> = {
  create: (spec, auth, options) =>
    createOpenAIProvider({
      name: spec.name,
      endpoint: spec.endpoint,
      auth,
      ...(spec.model === undefined ? {} : { model: spec.model }),
      ...(spec.api === undefined ? {} : { api: spec.api }),
      ...(spec.stream === undefined ? {} : { stream: spec.stream }),
      ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    }),
};
