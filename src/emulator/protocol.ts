/**
 * The wire format of the Azure AI model inference API as the emulator speaks it: request
 * validation with the error bodies real endpoints send (see shared/docs/azure-ai-inference.md),
 * and builders for completions and stream chunks. No HTTP here: the server decides status codes
 * and headers, this module decides what the JSON looks like.
 */
import type { SimRequest } from "./models.js";
import { readTools, type SimTool, type SimToolCall } from "./tools.js";

/** A JSON error response: status and body. */
export interface WireError {
  status: number;
  body: unknown;
}

/** Body keys the serverless API knows. Note `n` is not among them: real endpoints reject it. */
export const KNOWN_BODY_KEYS: ReadonlySet<string> = new Set([
  "messages",
  "model",
  "temperature",
  "top_p",
  "max_tokens",
  "seed",
  "stop",
  "stream",
  "presence_penalty",
  "frequency_penalty",
  "response_format",
  "tools",
  "tool_choice",
  "modalities",
]);

/** How the service treats unknown body keys (`extra-parameters` header). */
export type ExtraParameters = "error" | "drop" | "pass-through";

/**
 * Reads the `extra-parameters` header. `allow` is the old spelling of pass-through still sent by
 * some SDK tests; anything unrecognised falls back to the service default, `error`.
 */
export function parseExtraParameters(header: string | undefined): ExtraParameters {
  const value = header?.trim().toLowerCase();
  if (value === "drop") return "drop";
  if (value === "pass-through" || value === "allow") return "pass-through";
  return "error";
}

/** The gateway's 401: note it has no `error` key, unlike every other error body. */
export const UNAUTHORIZED_BODY = {
  statusCode: 401,
  message:
    "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
} as const;

/** An OpenAI-style 400: `{"error":{"message","type","param","code"}}`. */
export function invalidRequest(message: string, param: string | null, code: string | null, status = 400): WireError {
  return { status, body: { error: { message, type: "invalid_request_error", param, code } } };
}

/** A 404 in the Azure `{"error":{"code","message"}}` shape. */
export function notFound(message: string, code = "404"): WireError {
  return { status: 404, body: { error: { code, message } } };
}

/** A chat request after validation. */
export interface ChatRequest {
  /** The `model` body key, when given. */
  model?: string;
  sim: SimRequest;
  stream: boolean;
  /** `stream_options.include_usage`, honoured only when it was passed through to the model. */
  includeUsage: boolean;
  /** Function tools offered, and `tool_choice` as sent. */
  tools?: SimTool[];
  toolChoice?: unknown;
}

type Validated = { ok: true; request: ChatRequest } | { ok: false; error: WireError };

const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/**
 * Validates a parsed chat-completions body. Unknown keys are checked first, as the serverless
 * front end does, then each known parameter's type. `null` counts as absent, as in the OpenAI API.
 */
export function validateChatBody(body: unknown, extra: ExtraParameters): Validated {
  const fail = (error: WireError): Validated => ({ ok: false, error });
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return fail(
      invalidRequest(
        `Invalid type for request body: expected an object, but got ${typeName(body)} instead.`,
        null,
        "invalid_type",
      ),
    );
  }
  const obj = body as Record<string, unknown>;
  const unknownKeys = Object.keys(obj).filter((k) => !KNOWN_BODY_KEYS.has(k));
  if (unknownKeys.length > 0 && extra === "error") {
    const list = unknownKeys.map((k) => `'${k}'`).join(", ");
    return fail({
      status: 400,
      body: {
        detail: `Extra parameters [${list}] are not allowed when extra-parameters is not set or set to be 'error'. Check the model's documentation, or set extra-parameters to 'drop' or 'pass-through'.`,
      },
    });
  }

  const messages = validateMessages(obj["messages"]);
  if ("error" in messages) return fail(messages.error);

  const numberParam = (key: string, min: number, max: number, integer = false): number | undefined | WireError => {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      return invalidRequest(
        `Invalid type for '${key}': expected a number, but got ${typeName(v)} instead.`,
        key,
        "invalid_type",
      );
    }
    if ((integer && !Number.isInteger(v)) || v < min || v > max) {
      const range = `${integer ? "an integer " : ""}${Number.isFinite(max) ? `between ${min} and ${max}` : `at least ${min}`}`;
      return invalidRequest(`Invalid value for '${key}': expected ${range}, but got ${v}.`, key, "invalid_value");
    }
    return v;
  };
  const checks = {
    temperature: numberParam("temperature", 0, 2),
    top_p: numberParam("top_p", 0, 1),
    presence_penalty: numberParam("presence_penalty", -2, 2),
    frequency_penalty: numberParam("frequency_penalty", -2, 2),
    max_tokens: numberParam("max_tokens", 1, Number.POSITIVE_INFINITY, true),
    seed: numberParam("seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true),
  };
  for (const v of Object.values(checks)) if (isWireError(v)) return fail(v);

  const stop = obj["stop"];
  let stops: string[] | undefined;
  if (typeof stop === "string") stops = [stop];
  else if (Array.isArray(stop) && stop.length <= 4 && stop.every((s) => typeof s === "string")) stops = stop;
  else if (stop !== undefined && stop !== null) {
    return fail(
      invalidRequest(
        "Invalid value for 'stop': expected a string or an array of at most 4 strings.",
        "stop",
        "invalid_value",
      ),
    );
  }

  const stream = obj["stream"];
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") {
    return fail(
      invalidRequest(
        `Invalid type for 'stream': expected a boolean, but got ${typeName(stream)} instead.`,
        "stream",
        "invalid_type",
      ),
    );
  }

  const model = obj["model"];
  if (model !== undefined && model !== null && typeof model !== "string") {
    return fail(
      invalidRequest(
        `Invalid type for 'model': expected a string, but got ${typeName(model)} instead.`,
        "model",
        "invalid_type",
      ),
    );
  }

  const format = obj["response_format"];
  let responseFormat: SimRequest["responseFormat"];
  if (format !== undefined && format !== null) {
    if (typeof format !== "object" || Array.isArray(format)) {
      return fail(
        invalidRequest(
          `Invalid type for 'response_format': expected an object, but got ${typeName(format)} instead.`,
          "response_format",
          "invalid_type",
        ),
      );
    }
    const type = (format as Record<string, unknown>)["type"];
    if (type !== "text" && type !== "json_object" && type !== "json_schema") {
      return fail(
        invalidRequest(
          "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
          "response_format.type",
          "invalid_value",
        ),
      );
    }
    responseFormat = type;
  }

  // stream_options is not an API key; a pass-through endpoint hands it to the model, which honours it.
  const streamOptions = extra === "pass-through" ? obj["stream_options"] : undefined;
  const includeUsage =
    typeof streamOptions === "object" &&
    streamOptions !== null &&
    (streamOptions as Record<string, unknown>)["include_usage"] === true;

  const sim: SimRequest = { messages: messages.value };
  const seed = checks.seed as number | undefined;
  const maxTokens = checks.max_tokens as number | undefined;
  if (seed !== undefined) sim.seed = seed;
  if (maxTokens !== undefined) sim.maxTokens = maxTokens;
  if (stops !== undefined) sim.stop = stops;
  if (responseFormat !== undefined) sim.responseFormat = responseFormat;
  const request: ChatRequest = { sim, stream: stream === true, includeUsage };
  if (typeof model === "string") request.model = model;
  const tools = readTools(obj["tools"]);
  if (tools !== undefined) request.tools = tools;
  if (obj["tool_choice"] !== undefined && obj["tool_choice"] !== null) request.toolChoice = obj["tool_choice"];
  return { ok: true, request };
}

function isWireError(v: unknown): v is WireError {
  return typeof v === "object" && v !== null && "status" in v;
}

/**
 * Messages must be a non-empty array of `{role, content}`. Content may be a string or an array of
 * parts (text parts are joined; image and audio parts carry no text the simulation can use), and
 * may be null on an assistant turn that called tools.
 */
function validateMessages(value: unknown): { value: Array<{ role: string; content: string }> } | { error: WireError } {
  if (value === undefined || value === null) {
    return {
      error: invalidRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter"),
    };
  }
  if (!Array.isArray(value)) {
    return {
      error: invalidRequest(
        `Invalid type for 'messages': expected an array, but got ${typeName(value)} instead.`,
        "messages",
        "invalid_type",
      ),
    };
  }
  if (value.length === 0) {
    return {
      error: invalidRequest(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        "messages",
        "empty_array",
      ),
    };
  }
  const out: Array<{ role: string; content: string }> = [];
  for (const [i, m] of value.entries()) {
    const param = `messages[${i}]`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      return {
        error: invalidRequest(
          `Invalid type for '${param}': expected an object, but got ${typeName(m)} instead.`,
          param,
          "invalid_type",
        ),
      };
    }
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== "string" || !ROLES.has(role)) {
      return {
        error: invalidRequest(
          `Invalid value for '${param}.role': expected one of 'system', 'developer', 'user', 'assistant' or 'tool'.`,
          `${param}.role`,
          "invalid_value",
        ),
      };
    }
    const text = contentText(content, role);
    if (text === undefined) {
      return {
        error: invalidRequest(
          `Invalid type for '${param}.content': expected a string or an array of content parts, but got ${typeName(content)} instead.`,
          `${param}.content`,
          "invalid_type",
        ),
      };
    }
    out.push({ role, content: text });
  }
  return { value: out };
}

function contentText(content: unknown, role: string): string | undefined {
  if (typeof content === "string") return content;
  if ((content === null || content === undefined) && role === "assistant") return "";
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part !== "object" || part === null) return undefined;
    const { type, text } = part as Record<string, unknown>;
    if (typeof type !== "string") return undefined;
    if (type === "text") {
      if (typeof text !== "string") return undefined;
      texts.push(text);
    }
  }
  return texts.join("\n");
}

/** The content filter verdict real Azure responses attach; the emulator never filters. */
const SAFE = { filtered: false, severity: "safe" } as const;
const CONTENT_FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE } as const;
const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: CONTENT_FILTER_RESULTS }] as const;

/** Identity of one response, shared by a completion or all chunks of one stream. */
export interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
}

/** Token counts for the `usage` object. */
export interface UsageCounts {
  promptTokens: number;
  /** Includes `reasoningTokens`, as the services count them. */
  completionTokens: number;
  /** Hidden reasoning tokens (reasoning models); reported in the usage details. */
  reasoningTokens?: number;
}

function usageBody(u: UsageCounts): Record<string, unknown> {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    // Only reasoning models report details (as on the real services' older deployments).
    ...(u.reasoningTokens === undefined ? {} : { completion_tokens_details: { reasoning_tokens: u.reasoningTokens } }),
  };
}

/** Tool calls in Chat's wire form. */
export function wireToolCalls(calls: readonly SimToolCall[]): unknown[] {
  return calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
}

/** A non-streaming `chat.completion`, shaped like the recorded Azure responses. */
export function completionBody(
  who: ResponseIdentity,
  text: string | null,
  finishReason: string,
  usage: UsageCounts,
  toolCalls?: readonly SimToolCall[],
): unknown {
  return {
    id: who.id,
    object: "chat.completion",
    created: who.created,
    model: who.model,
    system_fingerprint: who.systemFingerprint,
    prompt_filter_results: PROMPT_FILTER_RESULTS,
    choices: [
      {
        index: 0,
        finish_reason: finishReason,
        logprobs: null,
        message: {
          role: "assistant",
          content: text,
          ...(toolCalls === undefined ? {} : { tool_calls: wireToolCalls(toolCalls) }),
        },
        content_filter_results: CONTENT_FILTER_RESULTS,
      },
    ],
    usage: usageBody(usage),
  };
}

/**
 * The chunks of a streamed completion, in order, as in the recorded Azure stream: a prompt-filter
 * chunk with `choices: []` and blank identity, a role chunk, one chunk per content piece, a final
 * empty delta with the finish reason, and (when asked for) a usage chunk with `choices: []`.
 */
export const streamChunks = {
  promptFilter(): unknown {
    return { choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: PROMPT_FILTER_RESULTS };
  },
  role(who: ResponseIdentity): unknown {
    return chunk(who, { delta: { role: "assistant", content: "" }, finish_reason: null, content_filter_results: {} });
  },
  content(who: ResponseIdentity, piece: string): unknown {
    return chunk(who, {
      delta: { content: piece },
      finish_reason: null,
      content_filter_results: CONTENT_FILTER_RESULTS,
    });
  },
  /** A whole tool call in one delta (name and arguments), as short calls arrive. */
  toolCall(who: ResponseIdentity, call: SimToolCall, index: number): unknown {
    return chunk(who, {
      delta: {
        tool_calls: [
          { index, id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } },
        ],
      },
      finish_reason: null,
      content_filter_results: {},
    });
  },
  finish(who: ResponseIdentity, finishReason: string): unknown {
    return chunk(who, { delta: {}, finish_reason: finishReason, content_filter_results: {} });
  },
  usage(who: ResponseIdentity, usage: UsageCounts): unknown {
    return { ...chunk(who, null), usage: usageBody(usage) };
  },
};

function chunk(who: ResponseIdentity, choice: Record<string, unknown> | null): Record<string, unknown> {
  return {
    choices: choice === null ? [] : [{ index: 0, logprobs: null, ...choice }],
    created: who.created,
    id: who.id,
    model: who.model,
    object: "chat.completion.chunk",
    system_fingerprint: who.systemFingerprint,
  };
}

/**
 * Splits text into token-sized stream pieces the way real streams look ("There", " are", " 5",
 * ",", "280"): words with their leading space, digit runs of up to three, single punctuation.
 */
export function streamPieces(text: string): string[] {
  return text.match(/\s?\p{L}+|\s?\d{1,3}|\s?[^\s\p{L}\d]|\s+/gu) ?? [];
}
