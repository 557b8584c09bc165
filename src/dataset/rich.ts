/**
 * Rich rows: a JSONL row may carry a whole conversation (`messages`: roles system, developer,
 * user, assistant with tool calls, tool with its call id; content as text or parts, images passed
 * through) and its own generation parameters (`params`: temperature, response_format, tools...).
 * Problems name the file, the line and the JSON path inside the row.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { GenerationParamsSpec } from "../config/model-spec.js";
import { DatasetError } from "../errors.js";
import type { ChatMessage, ContentPart, GenerationParams, WireToolCall } from "../types.js";

type Where = { file: string; line: number };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

function fail(where: Where, column: string, path: string, message: string): never {
  throw new DatasetError(`${path}: ${message}`, { ...where, column });
}

function readPart(part: unknown, where: Where, column: string, path: string): ContentPart {
  if (!isRecord(part)) fail(where, column, path, "a content part must be an object");
  if (part.type === "text") {
    if (typeof part.text !== "string") fail(where, column, `${path}.text`, "must be a string");
    return { type: "text", text: part.text };
  }
  if (part.type === "image_url") {
    const image = typeof part.image_url === "string" ? { url: part.image_url } : part.image_url;
    if (!isRecord(image) || typeof image.url !== "string" || image.url === "")
      fail(where, column, `${path}.image_url.url`, "must be a URL (https:// or data:)");
    const detail = image.detail;
    if (detail !== undefined && detail !== "auto" && detail !== "low" && detail !== "high")
      fail(where, column, `${path}.image_url.detail`, "must be auto, low or high");
    return { type: "image_url", image_url: { url: image.url, ...(detail === undefined ? {} : { detail }) } };
  }
  return fail(
    where,
    column,
    `${path}.type`,
    `unknown content part type ${JSON.stringify(part.type)}; use "text" or "image_url"`,
  );
}

function readToolCalls(value: unknown, where: Where, column: string, path: string): WireToolCall[] {
  if (!Array.isArray(value)) fail(where, column, path, "must be an array");
  return value.map((c, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(c) || !isRecord(c.function))
      fail(where, column, p, 'must be {id, type: "function", function: {name, arguments}}');
    if (typeof c.id !== "string") fail(where, column, `${p}.id`, "must be a string");
    if (typeof c.function.name !== "string") fail(where, column, `${p}.function.name`, "must be a string");
    const args = c.function.arguments;
    // Arguments are JSON text on the wire; an object in the file is accepted and serialised.
    const text = typeof args === "string" ? args : JSON.stringify(args ?? {});
    return { id: c.id, type: "function", function: { name: c.function.name, arguments: text } };
  });
}

/** Validates a row's conversation. @throws DatasetError naming the JSON path. */
export function readMessages(value: unknown, where: Where, column: string): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, column, column, "must be a non-empty array of messages");
  const messages = value.map((m, i): ChatMessage => {
    const path = `${column}[${i}]`;
    if (!isRecord(m)) fail(where, column, path, "a message must be an object");
    const role = m.role;
    if (typeof role !== "string" || !ROLES.has(role))
      fail(where, column, `${path}.role`, "must be system, developer, user, assistant or tool");
    const content = m.content;
    let out: ChatMessage["content"];
    if (typeof content === "string") out = content;
    else if (Array.isArray(content)) out = content.map((p, j) => readPart(p, where, column, `${path}.content[${j}]`));
    else if ((content === null || content === undefined) && role === "assistant" && m.tool_calls !== undefined)
      out = null;
    else fail(where, column, `${path}.content`, "must be a string or an array of content parts");
    const msg: ChatMessage = { role: role as ChatMessage["role"], content: out };
    if (m.tool_calls !== undefined) {
      if (role !== "assistant") fail(where, column, `${path}.tool_calls`, "only assistant messages call tools");
      msg.tool_calls = readToolCalls(m.tool_calls, where, column, `${path}.tool_calls`);
    }
    if (role === "tool") {
      if (typeof m.tool_call_id !== "string")
        fail(where, column, `${path}.tool_call_id`, "a tool message needs the id of the call it answers");
      msg.tool_call_id = m.tool_call_id;
    }
    return msg;
  });
  if (!messages.some((m) => m.role === "user")) fail(where, column, column, "has no user message");
  return messages;
}

let paramsSchema: typeof GenerationParamsSpec | undefined;

/**
 * Loads the schema row params are checked with. zod and the config schemas are loaded only by
 * runs that need them (a valid config is checked without them: config/load.ts), so the dataset
 * layer loads this on the first row that has params, before mapping it.
 */
export async function loadRowParamsSchema(): Promise<void> {
  paramsSchema ??= (await import("../config/model-spec.js")).GenerationParamsSpec;
}

/**
 * Validates a row's generation parameters (after {@link loadRowParamsSchema}).
 * @throws DatasetError naming the JSON path.
 */
export function readRowParams(value: unknown, where: Where, column: string): GenerationParams {
  if (paramsSchema === undefined) throw new Error("readRowParams: loadRowParamsSchema() was not awaited");
  const parsed = paramsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(where, column, [column, ...issue.path.map(String)].join("."), issue.message);
  }
  return parsed.data;
}

/**
 * A dataset's `params` with `response_format.json_schema.schemaFile` (relative to the dataset
 * file) replaced by the schema it holds. @throws DatasetError when the file is missing or not JSON.
 */
export async function resolveDatasetParams(
  params: GenerationParams | undefined,
  datasetFile: string,
): Promise<GenerationParams | undefined> {
  const format = params?.response_format;
  if (params === undefined || format?.type !== "json_schema" || !isRecord(format.json_schema)) return params;
  const { schemaFile, ...rest } = format.json_schema;
  if (typeof schemaFile !== "string") return params;
  const path = resolve(dirname(datasetFile), schemaFile);
  let schema: unknown;
  try {
    schema = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new DatasetError(
      `params.response_format.json_schema.schemaFile: cannot read ${schemaFile} as JSON (${err instanceof Error ? err.message : String(err)})`,
      { file: datasetFile },
    );
  }
  const name = typeof rest.name === "string" ? rest.name : "output";
  return { ...params, response_format: { type: "json_schema", json_schema: { ...rest, name, schema } } };
}
