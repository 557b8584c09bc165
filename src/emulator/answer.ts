/**
 * Turns a validated request into a response on the wire: runs the simulation, waits out the
 * simulated latency, and writes either one `chat.completion` or an SSE stream paced token by token.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { sendJson, serviceHeaders, wait, type Exchange } from "./exchange.js";
import { modelNameFor, simulateAnswer } from "./models.js";
import { completionBody, streamChunks, streamPieces, type ChatRequest, type ResponseIdentity } from "./protocol.js";
import type { SimModelSpec } from "./spec.js";

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

/** A chat completion id in the service's format (`chatcmpl-` and 29 random characters). */
function completionId(): string {
  return `chatcmpl-${randomBytes(22).toString("base64url").slice(0, 29)}`;
}

/** Answers `POST .../chat/completions` for one simulated model. */
export async function answerChat(
  ex: Exchange,
  sim: { name: string; spec: SimModelSpec; fingerprint: string },
  request: ChatRequest,
): Promise<void> {
  const answer = simulateAnswer(sim.name, sim.spec, request.sim);
  const override = latencyOverride(ex);
  const baseMs = override ?? answer.latency.baseMs;
  const perTokenMs = override === undefined ? answer.latency.perTokenMs : 0;
  const who: ResponseIdentity = {
    id: completionId(),
    created: Math.floor(Date.now() / 1000),
    model: modelNameFor(sim.name, sim.spec),
    systemFingerprint: sim.fingerprint,
  };
  const usage = { promptTokens: answer.promptTokens, completionTokens: answer.completionTokens };
  const sessionHeader = { "azureml-model-session": `emulator-${sim.name}` };

  if (!request.stream) {
    if (!(await wait(baseMs + perTokenMs * answer.completionTokens, ex.signal))) return;
    sendJson(ex, 200, completionBody(who, answer.text, answer.finishReason, usage), sessionHeader);
    return;
  }

  // Streams open at once with the prompt-filter event, as Azure's do; the first token follows
  // after the model's base latency, then tokens arrive at the per-token rate.
  ex.res.writeHead(200, {
    ...serviceHeaders(ex),
    ...sessionHeader,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  const send = (data: unknown): void => {
    if (ex.res.destroyed) return;
    ex.res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  };
  send(streamChunks.promptFilter());
  if (!(await wait(baseMs, ex.signal))) return;
  send(streamChunks.role(who));
  // Pace against a schedule rather than sleeping per piece, so timer granularity does not
  // accumulate into a slower stream than configured.
  const start = performance.now();
  let charsSent = 0;
  for (const piece of streamPieces(answer.text)) {
    charsSent += piece.length;
    const due = (perTokenMs * charsSent) / 4;
    if (!(await wait(due - (performance.now() - start), ex.signal))) return;
    send(streamChunks.content(who, piece));
  }
  send(streamChunks.finish(who, answer.finishReason));
  if (request.includeUsage) send(streamChunks.usage(who, usage));
  send("[DONE]");
  ex.res.end();
}

/** Answers `GET .../info` for one simulated model. */
export function answerInfo(ex: Exchange, sim: { name: string; spec: SimModelSpec }): void {
  sendJson(ex, 200, {
    model_name: modelNameFor(sim.name, sim.spec),
    model_type: "chat-completion",
    model_provider_name: sim.spec.provider,
  });
}
