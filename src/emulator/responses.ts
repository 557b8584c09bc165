/**
 * The Responses API (`POST /responses`) as the emulator speaks it: the request read into the same
 * {@link ChatRequest} the Chat route produces (so a sim answers both identically), and the
 * response object and stream events built from the same answer. Shapes follow the `openai`
 * package's types: `status` + `incomplete_details` instead of a finish reason, `output` items,
 * `input_tokens`/`output_tokens` usage with their details.
 */
import {
  invalidRequest,
  type ChatRequest,
  type ResponseIdentity,
  type UsageCounts,
  type WireError,
} from "./protocol.js";
import type { SimRequest } from "./models.js";
import { readTools, type SimToolCall } from "./tools.js";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Text of a message's content: a string, or the text of its input/output text parts. */
function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (!isRecord(part) || typeof part.type !== "string") return undefined;
    if (
      (part.type === "input_text" || part.type === "output_text" || part.type === "text") &&
      typeof part.text === "string"
    )
      texts.push(part.text);
  }
  return texts.join("\n");
}

/** Validates a Responses body into a {@link ChatRequest}. */
export function validateResponsesBody(
  body: unknown,
): { ok: true; request: ChatRequest } | { ok: false; error: WireError } {
  const fail = (message: string, param: string | null, code = "invalid_value") => ({
    ok: false as const,
    error: invalidRequest(message, param, code),
  });
  if (!isRecord(body)) return fail("Invalid type for request body: expected an object.", null, "invalid_type");
  const messages: Array<{ role: string; content: string }> = [];
  if (typeof body.instructions === "string" && body.instructions !== "")
    messages.push({ role: "system", content: body.instructions });
  const input = body.input;
  if (typeof input === "string") messages.push({ role: "user", content: input });
  else if (Array.isArray(input)) {
    for (const [i, item] of input.entries()) {
      if (!isRecord(item))
        return fail(`Invalid type for 'input[${i}]': expected an object.`, `input[${i}]`, "invalid_type");
      if (item.type === "function_call_output") {
        messages.push({
          role: "tool",
          content: typeof item.output === "string" ? item.output : JSON.stringify(item.output),
        });
        continue;
      }
      if (item.type === "function_call") continue; // the assistant's earlier call: no text
      const role = item.role;
      if (typeof role !== "string" || !["system", "developer", "user", "assistant"].includes(role)) {
        return fail(
          `Invalid value for 'input[${i}].role': expected one of 'system', 'developer', 'user' or 'assistant'.`,
          `input[${i}].role`,
        );
      }
      const text = contentText(item.content);
      if (text === undefined)
        return fail(
          `Invalid type for 'input[${i}].content': expected a string or an array of content parts.`,
          `input[${i}].content`,
          "invalid_type",
        );
      messages.push({ role, content: text });
    }
  } else return fail("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  if (messages.length === 0) return fail("Invalid 'input': empty.", "input", "empty_array");

  const sim: SimRequest = { messages };
  const max = body.max_output_tokens;
  if (max !== undefined && max !== null) {
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1)
      return fail("Invalid value for 'max_output_tokens': expected a positive integer.", "max_output_tokens");
    sim.maxTokens = max;
  }
  const text = body.text;
  const format = isRecord(text) && isRecord(text.format) ? text.format.type : undefined;
  if (format === "json_object" || format === "json_schema") sim.responseFormat = format;
  const request: ChatRequest = { sim, stream: body.stream === true, includeUsage: true };
  if (typeof body.model === "string") request.model = body.model;
  const tools = readTools(body.tools);
  if (tools !== undefined) request.tools = tools;
  if (body.tool_choice !== undefined && body.tool_choice !== null) request.toolChoice = body.tool_choice;
  return { ok: true, request };
}

/** An answer in the form the Responses builders need. */
export interface ResponsesAnswer {
  text: string | null;
  finishReason: string;
  usage: UsageCounts;
  toolCalls?: readonly SimToolCall[];
}

function usageBody(u: UsageCounts): Record<string, unknown> {
  return {
    input_tokens: u.promptTokens,
    output_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    ...(u.reasoningTokens === undefined ? {} : { output_tokens_details: { reasoning_tokens: u.reasoningTokens } }),
  };
}

function outputItems(who: ResponseIdentity, answer: ResponsesAnswer): unknown[] {
  const items: unknown[] = [];
  if (answer.text !== null) {
    items.push({
      type: "message",
      id: `msg_${who.id}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: answer.text, annotations: [] }],
    });
  }
  for (const c of answer.toolCalls ?? []) {
    items.push({
      type: "function_call",
      id: `fc_${c.id}`,
      call_id: c.id,
      name: c.name,
      arguments: c.arguments,
      status: "completed",
    });
  }
  return items;
}

/** The `response` object: `length` is `incomplete` with reason `max_output_tokens`. */
export function responseObject(who: ResponseIdentity, answer: ResponsesAnswer | null): Record<string, unknown> {
  const incomplete = answer?.finishReason === "length";
  return {
    id: who.id,
    object: "response",
    created_at: who.created,
    model: who.model,
    status: answer === null ? "in_progress" : incomplete ? "incomplete" : "completed",
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    error: null,
    output: answer === null ? [] : outputItems(who, answer),
    usage: answer === null ? null : usageBody(answer.usage),
  };
}

/** A Responses stream event: `event:` line and a `data:` JSON carrying the same `type`. */
export function responsesEvent(type: string, sequence: number, fields: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`;
}
