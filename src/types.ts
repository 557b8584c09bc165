/**
 * The data that flows through a run, stage to stage. Everything the journal stores is defined
 * here so that resume, compare, reports and Weave sync read the same shapes the runner wrote.
 */
import type { ModelErrorKind } from "./errors.js";

/** A part of a multimodal message: text, or an image by URL (https or a data: URL), passed through as is. */
export type ContentPart =
  { type: "text"; text: string } | { type: "image_url"; image_url: { url: string; detail?: "auto" | "low" | "high" } };

/** A function call in an assistant turn of a conversation (Chat wire form). */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * A chat message as sent to a model (Chat Completions wire form). Rendered prompts are plain
 * text; a dataset row may carry a whole conversation with parts, tool calls and tool results.
 */
export interface ChatMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  /** Text, multimodal parts, or null on an assistant turn that only called tools. */
  content: string | ContentPart[] | null;
  /** Assistant turns: the functions it called. */
  tool_calls?: WireToolCall[];
  /** Tool turns: the call this result answers. */
  tool_call_id?: string;
}

/** A message whose content is plain text (rendered prompts, judge prompts). */
export type TextMessage = ChatMessage & { role: "system" | "developer" | "user" | "assistant"; content: string };

/** The text of a message (text parts joined by newlines; images and tool calls have none). */
export function messageText(message: ChatMessage): string {
  const c = message.content;
  if (typeof c === "string") return c;
  if (c === null) return "";
  return c.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
}

/** A function tool offered to the model (Chat wire form). */
export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** One dataset row after column mapping and template rendering. */
export interface Row {
  /** Stable id: the mapped id column, or `<file basename>:<line>` when the dataset has none. */
  id: string;
  /** Name of the dataset (from config, or the file's base name). */
  dataset: string;
  /** 1-based line where the row starts in its file (for error messages and `file:line` ids). */
  line: number;
  /** Messages to send: optional system message, then the rendered user prompt. */
  messages: ChatMessage[];
  /** Expected answer, when the dataset maps one. */
  expected?: string;
  /** Every column of the source row, as strings (template variables, tags such as `critical`). */
  vars: Record<string, string>;
  /**
   * Generation parameters for this row (the dataset's `params` and the row's own `params`
   * column, the row winning), sent over the model's own params.
   */
  params?: GenerationParams;
}

/** Generation parameters passed to the model (wire names). */
export interface GenerationParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  response_format?: { type: "text" } | { type: "json_object" } | { type: "json_schema"; json_schema: unknown };
  /** Functions the model may call. */
  tools?: ToolDefinition[];
  /** `none`, `auto`, `required`, or a named function. */
  tool_choice?: "none" | "auto" | "required" | { type: "function"; function: { name: string } };
}

export interface CompletionRequest {
  messages: ChatMessage[];
  params: GenerationParams;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Of `promptTokens`, those served from the provider's prompt cache (priced at `cachedInputPerMillion`). */
  cachedPromptTokens?: number;
  /** Of `completionTokens`, those spent on hidden reasoning (billed as output, not in the text). */
  reasoningTokens?: number;
}

/** One function call a model asked for. `arguments` is the JSON text exactly as the model wrote it. */
export interface ToolCall {
  /** The call id the model assigned (tool results refer to it). */
  id: string;
  name: string;
  arguments: string;
}

/**
 * Finish reason as the service said it (`stop`, `length`, `content_filter`, `tool_calls`, or any
 * string a newer service invents), `null` when it sent none, or `"error"` for a failed call.
 */
export type FinishReason = string | null;

/** Serialisable description of a failed call (the journal form of {@link ModelCallError}). */
export interface CallErrorInfo {
  kind: ModelErrorKind;
  message: string;
  status?: number;
  code?: string;
}

/** The outcome of one model call, including every retry it took. One shape for every provider. */
export interface Completion {
  text: string | null;
  finishReason: FinishReason;
  usage: Usage | null;
  /** Wall time of the successful (or last) attempt, ms. */
  latencyMs: number;
  /** Time to first token, ms (streamed calls only). */
  ttftMs?: number;
  /** Output tokens per second after the first token (streamed calls with usage only). */
  outputTokensPerSec?: number;
  /** Function calls the model asked for instead of (or besides) text. */
  toolCalls?: ToolCall[];
  /** Model name the service reported in the response. */
  model: string | null;
  /** The service's request id (apim-request-id, x-request-id or the response id). */
  requestId: string | null;
  /** `system_fingerprint` when the service sends one (model identity across redeploys). */
  systemFingerprint?: string | null;
  /** Number of HTTP attempts made (1 = no retry). */
  attempts: number;
  /** Outcome of each attempt in order: `ok`, an error kind, with status where there was one. */
  attemptLog?: AttemptOutcome[];
  error?: CallErrorInfo;
  /**
   * Set when the answer came from the response cache (`--cache` hit or `--replay`) rather than a
   * model call made by this run; absent for calls that reached the model.
   */
  cached?: true;
  /**
   * Set when the answer came through the Batch API (batch mode): the batch's id. Such calls have
   * no latency of their own (`latencyMs` 0) and are priced at `pricing.batchDiscount`.
   */
  batch?: { id: string };
}

export interface AttemptOutcome {
  outcome: "ok" | ModelErrorKind;
  status?: number;
  /** How long the runner waited before the next attempt, ms. */
  waitMs?: number;
}

/** One scorer's verdict on one output. */
export interface Score {
  /** Numeric score, usually 0..1. `null` when the scorer could not score (see `error`). */
  value: number | null;
  /** Pass/fail for binary scorers; absent for continuous ones. */
  pass?: boolean;
  /** Short human-readable reason (judge rationale, extracted answer, ...). */
  reason?: string;
  /** The scorer itself failed on this row. */
  error?: string;
  /**
   * The model call the scorer made (LLM judges), recorded like any other call so its tokens,
   * latency, retries and errors are auditable. Absent for scorers that call no model.
   */
  call?: ScorerCall;
}

/** A scorer's own model call: the {@link Completion} plus the configured name of the model. */
export interface ScorerCall extends Completion {
  /** Configured name of the model called (e.g. the judge's `name`), as `model` in a journal line. */
  name: string;
}

/**
 * One line of `predictions.jsonl`: the durable outcome of one row × model × trial.
 * `v` is the journal format version. Lines are append-only; if a key appears twice (a resumed
 * run re-trying errors), the last line wins.
 */
export interface PredictionRecord {
  v: 1;
  /** `<dataset>/<rowId>/<model>/<trial>`: unique per run. */
  key: string;
  dataset: string;
  rowId: string;
  line: number;
  model: string;
  trial: number;
  input: { messages: ChatMessage[]; vars: Record<string, string> };
  expected?: string;
  output: Completion;
  scores: Record<string, Score>;
  startedAt: string;
  endedAt: string;
}

/** Builds the journal key for a row × model × trial. */
export function predictionKey(dataset: string, rowId: string, model: string, trial: number): string {
  return `${dataset}/${rowId}/${model}/${trial}`;
}
