/**
 * Turns a validated request into a response on the wire: runs the simulation, waits out the
 * simulated latency, and writes either one complete answer or an SSE stream paced token by token,
 * in the Chat Completions or the Responses format. Both formats carry the very same answer
 * (text, tool calls, finish reason, usage), so every API flavour records identically.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { sendJson, serviceHeaders, wait, type Exchange } from "./exchange.js";
import { countTokens, modelNameFor, simulateAnswer } from "./models.js";
import {
  completionBody,
  streamChunks,
  streamPieces,
  type ChatRequest,
  type ResponseIdentity,
  type UsageCounts,
} from "./protocol.js";
import { responseObject, responsesEvent, type ResponsesAnswer } from "./responses.js";
import type { SimModelSpec } from "./spec.js";
import { chooseToolCall, type SimToolCall } from "./tools.js";

/**
 * Request header that fixes the simulated latency of one call, in ms, replacing the model's
 * distribution and per-token time. Lets tests make a call slow (to hold it in flight) or instant.
 */
export const LATENCY_OVERRIDE_HEADER = "x-emulator-latency-ms";

/** The latency override carried by a request, if it has a valid one. */
function latencyOverride(ex: Exchange): number | undefined {
  const raw = ex.req.headers[LATENCY_OVERRIDE_HEADER];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** A completion id in the service's format (`chatcmpl-`/`resp_` and random characters). */
function completionId(prefix: string): string {
  return `${prefix}${randomBytes(22).toString("base64url").slice(0, 29)}`;
}

type SimRef = { name: string; spec: SimModelSpec; fingerprint: string };

/** The simulated answer with tool calls and reasoning applied, and its pacing. */
interface Planned {
  text: string | null;
  finishReason: string;
  usage: UsageCounts;
  toolCalls?: SimToolCall[];
  /** Wait before the first token, ms. */
  firstMs: number;
  /** Wait per generated token after the first, ms. */
  perTokenMs: number;
  /** Visible completion tokens (what the pacing covers). */
  visibleTokens: number;
}

/** @param override a fixed latency from {@link LATENCY_OVERRIDE_HEADER}, if the request set one */
function plan(override: number | undefined, sim: SimRef, request: ChatRequest): Planned {
  const answer = simulateAnswer(sim.name, sim.spec, request.sim);
  const latency = sim.spec.latency;
  const firstMs = override ?? latency.firstTokenMs ?? answer.latency.baseMs;
  const perTokenMs =
    override !== undefined
      ? 0
      : latency.tokensPerSecond !== undefined
        ? 1000 / latency.tokensPerSecond
        : answer.latency.perTokenMs;
  const lastUser = [...request.sim.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  // A tool result in the conversation means the model has its data: it answers in text.
  const hasToolResult = request.sim.messages.some((m) => m.role === "tool");
  const call = hasToolResult ? undefined : chooseToolCall(request.tools, request.toolChoice, lastUser);
  const reasoning = sim.spec.reasoningTokens;
  const visibleTokens = call === undefined ? answer.completionTokens : countTokens(call.name + call.arguments);
  const usage: UsageCounts = {
    promptTokens: answer.promptTokens,
    completionTokens: visibleTokens + (reasoning ?? 0),
    ...(reasoning === undefined ? {} : { reasoningTokens: reasoning }),
  };
  if (call !== undefined)
    return { text: null, finishReason: "tool_calls", usage, toolCalls: [call], firstMs, perTokenMs, visibleTokens };
  return { text: answer.text, finishReason: answer.finishReason, usage, firstMs, perTokenMs, visibleTokens };
}

function identity(sim: SimRef, prefix: string): ResponseIdentity {
  return {
    id: completionId(prefix),
    created: Math.floor(Date.now() / 1000),
    model: modelNameFor(sim.name, sim.spec),
    systemFingerprint: sim.fingerprint,
  };
}

function openStream(ex: Exchange, sim: SimRef): (raw: string) => void {
  ex.res.writeHead(200, {
    ...serviceHeaders(ex),
    "azureml-model-session": `emulator-${sim.name}`,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  return (raw) => {
    if (!ex.res.destroyed) ex.res.write(raw);
  };
}

/**
 * Emits `pieces` paced against a schedule (first token after `firstMs`, then `perTokenMs` per
 * token of about four characters) rather than sleeping per piece, so timer granularity does not
 * accumulate into a slower stream than configured. False when the client left.
 */
async function paced(
  ex: Exchange,
  p: Planned,
  pieces: readonly string[],
  emit: (piece: string) => void,
): Promise<boolean> {
  // From the request's arrival: reading and checking the body is part of the time to first token.
  const start = ex.startedAt ?? performance.now();
  let chars = 0;
  for (const [i, piece] of pieces.entries()) {
    const due = p.firstMs + (i === 0 ? 0 : (p.perTokenMs * chars) / 4);
    if (!(await wait(due - (performance.now() - start), ex.signal))) return false;
    emit(piece);
    chars += piece.length;
  }
  return true;
}

/** Answers `POST .../chat/completions` for one simulated model. */
export async function answerChat(ex: Exchange, sim: SimRef, request: ChatRequest): Promise<void> {
  const p = plan(latencyOverride(ex), sim, request);
  const who = identity(sim, "chatcmpl-");
  const sessionHeader = { "azureml-model-session": `emulator-${sim.name}` };

  if (!request.stream) {
    if (!(await wait(p.firstMs + p.perTokenMs * p.visibleTokens, ex.signal))) return;
    sendJson(ex, 200, completionBody(who, p.text, p.finishReason, p.usage, p.toolCalls), sessionHeader);
    return;
  }

  // Streams open at once with the prompt-filter event, as Azure's do; the first token follows
  // after the first-token delay, then tokens arrive at the configured rate.
  const write = openStream(ex, sim);
  const send = (data: unknown): void => write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  send(streamChunks.promptFilter());
  send(streamChunks.role(who));
  const ok =
    p.toolCalls !== undefined
      ? await paced(ex, p, [""], () => p.toolCalls!.forEach((c, i) => send(streamChunks.toolCall(who, c, i))))
      : await paced(ex, p, streamPieces(p.text ?? ""), (piece) => send(streamChunks.content(who, piece)));
  if (!ok) return;
  send(streamChunks.finish(who, p.finishReason));
  if (request.includeUsage) send(streamChunks.usage(who, p.usage));
  send("[DONE]");
  ex.res.end();
}

/** Answers `POST .../responses` for one simulated model. */
export async function answerResponses(ex: Exchange, sim: SimRef, request: ChatRequest): Promise<void> {
  const p = plan(latencyOverride(ex), sim, request);
  const who = identity(sim, "resp_");
  const answer: ResponsesAnswer = {
    text: p.text,
    finishReason: p.finishReason,
    usage: p.usage,
    ...(p.toolCalls ? { toolCalls: p.toolCalls } : {}),
  };

  if (!request.stream) {
    if (!(await wait(p.firstMs + p.perTokenMs * p.visibleTokens, ex.signal))) return;
    sendJson(ex, 200, responseObject(who, answer));
    return;
  }

  const write = openStream(ex, sim);
  let seq = 0;
  const event = (type: string, fields: Record<string, unknown>): void => write(responsesEvent(type, seq++, fields));
  event("response.created", { response: responseObject(who, null) });
  event("response.in_progress", { response: responseObject(who, null) });
  let ok: boolean;
  if (p.toolCalls !== undefined) {
    ok = await paced(ex, p, [""], () => {
      p.toolCalls!.forEach((c, i) => {
        const item = {
          type: "function_call",
          id: `fc_${c.id}`,
          call_id: c.id,
          name: c.name,
          arguments: "",
          status: "in_progress",
        };
        event("response.output_item.added", { output_index: i, item });
        event("response.function_call_arguments.delta", { output_index: i, item_id: item.id, delta: c.arguments });
        event("response.function_call_arguments.done", { output_index: i, item_id: item.id, arguments: c.arguments });
        event("response.output_item.done", {
          output_index: i,
          item: { ...item, arguments: c.arguments, status: "completed" },
        });
      });
    });
  } else {
    const itemId = `msg_${who.id}`;
    event("response.output_item.added", {
      output_index: 0,
      item: { type: "message", id: itemId, status: "in_progress", role: "assistant", content: [] },
    });
    event("response.content_part.added", {
      output_index: 0,
      item_id: itemId,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    ok = await paced(ex, p, streamPieces(p.text ?? ""), (delta) =>
      event("response.output_text.delta", { output_index: 0, item_id: itemId, content_index: 0, delta }),
    );
    if (ok)
      event("response.output_text.done", { output_index: 0, item_id: itemId, content_index: 0, text: p.text ?? "" });
  }
  if (!ok) return;
  const final = responseObject(who, answer);
  event(final.status === "incomplete" ? "response.incomplete" : "response.completed", { response: final });
  ex.res.end();
}

/**
 * The complete (non-streamed) answer body of a chat request, without waiting: what a Batch API
 * line gets. It is built by the same plan and builders as a live call, so a batched row carries
 * the same text, finish reason and usage as the same request sent live.
 */
export function chatCompletionBody(sim: SimRef, request: ChatRequest): unknown {
  const p = plan(undefined, sim, request);
  return completionBody(identity(sim, "chatcmpl-"), p.text, p.finishReason, p.usage, p.toolCalls);
}

/** As {@link chatCompletionBody}, for a Responses request. */
export function responsesBody(sim: SimRef, request: ChatRequest): Record<string, unknown> {
  const p = plan(undefined, sim, request);
  return responseObject(identity(sim, "resp_"), {
    text: p.text,
    finishReason: p.finishReason,
    usage: p.usage,
    ...(p.toolCalls ? { toolCalls: p.toolCalls } : {}),
  });
}

/** Answers `GET .../info` for one simulated model. */
export function answerInfo(ex: Exchange, sim: { name: string; spec: SimModelSpec }): void {
  sendJson(ex, 200, {
    model_name: modelNameFor(sim.name, sim.spec),
    model_type: "chat-completion",
    model_provider_name: sim.spec.provider,
  });
}
