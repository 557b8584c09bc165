/**
 * Reading Chat Completions answers, shared by every provider that speaks that wire format
 * (`azure-ai-inference`, `openai` with `api: "chat"`): usage with its details, tool calls, and
 * the accumulation of a streamed answer chunk by chunk. Pure functions over parsed JSON.
 */
import type { ToolCall, Usage } from "../types.js";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * `usage` in camelCase, or null when the service sent none or sent nonsense. Reads both wire
 * spellings: Chat (`prompt_tokens`, `completion_tokens_details.reasoning_tokens`,
 * `prompt_tokens_details.cached_tokens`) and Responses (`input_tokens`,
 * `output_tokens_details.reasoning_tokens`, `input_tokens_details.cached_tokens`).
 */
export function usageFromWire(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const promptTokens = count(raw.prompt_tokens) ?? count(raw.input_tokens);
  const completionTokens = count(raw.completion_tokens) ?? count(raw.output_tokens);
  if (promptTokens === undefined || completionTokens === undefined) return null;
  const promptDetails = isRecord(raw.prompt_tokens_details)
    ? raw.prompt_tokens_details
    : isRecord(raw.input_tokens_details)
      ? raw.input_tokens_details
      : {};
  const completionDetails = isRecord(raw.completion_tokens_details)
    ? raw.completion_tokens_details
    : isRecord(raw.output_tokens_details)
      ? raw.output_tokens_details
      : {};
  const cached = count(promptDetails.cached_tokens);
  const reasoning = count(completionDetails.reasoning_tokens);
  const usage: Usage = {
    promptTokens,
    completionTokens,
    totalTokens: count(raw.total_tokens) ?? promptTokens + completionTokens,
  };
  // Zero is recorded too: "none were cached" is a fact, and tells reports the field exists.
  // (Assigned rather than spread in: this runs once per answer, and `...(x ? {} : {...})` costs
  // an object and a copy each.)
  if (cached !== undefined) usage.cachedPromptTokens = cached;
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

/** `message.tool_calls` of a chat completion as {@link ToolCall}s (undefined when none). */
export function toolCallsFromMessage(message: Record<string, unknown>): ToolCall[] | undefined {
  const raw = message.tool_calls;
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const calls: ToolCall[] = [];
  for (const c of raw) {
    if (!isRecord(c) || !isRecord(c.function)) continue;
    const fn = c.function;
    calls.push({
      id: typeof c.id === "string" ? c.id : "",
      name: typeof fn.name === "string" ? fn.name : "",
      arguments: typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
    });
  }
  return calls.length > 0 ? calls : undefined;
}

/** What a finished stream adds up to. */
export interface StreamedAnswer {
  text: string | null;
  finishReason: string | null;
  usage: Usage | null;
  model: string | null;
  id: string | null;
  systemFingerprint: string | null;
  toolCalls?: ToolCall[];
  /** ms from the start of the attempt to the first content or tool-call delta. */
  ttftMs?: number;
  /** Output tokens per second between the first token and the end of the stream. */
  outputTokensPerSec?: number;
}

/**
 * Adds up `chat.completion.chunk`s. Text deltas are concatenated, tool-call deltas merged by
 * `index` (the name arrives once, the arguments in pieces), the usage comes from the final chunk
 * (`stream_options.include_usage`), and the first token's arrival time is noted.
 */
export class ChatStreamAccumulator {
  private readonly parts: string[] = [];
  private readonly calls = new Map<number, ToolCall>();
  private finish: string | null = null;
  private sawFinish = false;
  private usage: Usage | null = null;
  private model: string | null = null;
  private id: string | null = null;
  private fingerprint: string | null = null;
  private firstTokenAt: number | undefined;
  private lastTokenAt: number | undefined;

  /** @param startedAt performance.now() when the attempt began */
  constructor(private readonly startedAt: number) {}

  /** Whether a finish reason arrived: a stream without one was cut off. */
  get finished(): boolean {
    return this.sawFinish;
  }

  add(chunk: unknown, now: number = performance.now()): void {
    if (!isRecord(chunk)) return;
    if (typeof chunk.model === "string" && chunk.model !== "") this.model = chunk.model;
    if (typeof chunk.id === "string" && chunk.id !== "") this.id = chunk.id;
    if (typeof chunk.system_fingerprint === "string") this.fingerprint = chunk.system_fingerprint;
    const usage = usageFromWire(chunk.usage);
    if (usage !== null) this.usage = usage;
    const choice: unknown = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) return;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    if (typeof delta.content === "string" && delta.content !== "") {
      this.firstTokenAt ??= now;
      this.lastTokenAt = now;
      this.parts.push(delta.content);
    }
    if (Array.isArray(delta.tool_calls)) {
      this.firstTokenAt ??= now;
      this.lastTokenAt = now;
      for (const d of delta.tool_calls) this.addToolCallDelta(d);
    }
    if (typeof choice.finish_reason === "string") {
      this.finish = choice.finish_reason;
      this.sawFinish = true;
    }
  }

  private addToolCallDelta(d: unknown): void {
    if (!isRecord(d)) return;
    const index = typeof d.index === "number" ? d.index : this.calls.size;
    const call = this.calls.get(index) ?? { id: "", name: "", arguments: "" };
    if (typeof d.id === "string") call.id = d.id;
    const fn = isRecord(d.function) ? d.function : {};
    if (typeof fn.name === "string") call.name += fn.name;
    if (typeof fn.arguments === "string") call.arguments += fn.arguments;
    this.calls.set(index, call);
  }

  /** The answer so far; call once the stream has ended. */
  result(): StreamedAnswer {
    const toolCalls = [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
    return {
      text: this.parts.length > 0 ? this.parts.join("") : toolCalls.length > 0 ? null : "",
      finishReason: this.finish,
      usage: this.usage,
      model: this.model,
      id: this.id,
      systemFingerprint: this.fingerprint,
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
      ...streamTimings(this.startedAt, this.firstTokenAt, this.lastTokenAt, this.usage),
    };
  }
}

/**
 * ttftMs and output tokens per second from the timestamps of a stream (0.1 ms resolution). The
 * rate counts the visible tokens after the first (hidden reasoning happens before it) over the
 * time from the first to the last token: the generation speed, independent of queueing.
 */
export function streamTimings(
  startedAt: number,
  firstTokenAt: number | undefined,
  lastTokenAt: number | undefined,
  usage: Usage | null,
): { ttftMs?: number; outputTokensPerSec?: number } {
  if (firstTokenAt === undefined) return {};
  const ttftMs = Math.round((firstTokenAt - startedAt) * 10) / 10;
  const visible = usage === null ? 0 : usage.completionTokens - (usage.reasoningTokens ?? 0);
  const seconds = lastTokenAt === undefined ? 0 : (lastTokenAt - firstTokenAt) / 1000;
  // One token, or everything in one chunk, leaves no interval to measure a rate over.
  if (visible < 2 || seconds <= 0.0005) return { ttftMs };
  return { ttftMs, outputTokensPerSec: Math.round(((visible - 1) / seconds) * 10) / 10 };
}
