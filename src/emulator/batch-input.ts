/**
 * Checks a Batch API input file the way the services do: at upload, the file as a whole (UTF-8,
 * no byte-order mark, not empty), and when a batch is created, every line (JSON, `custom_id`,
 * `method`, `url`, `body`, unique ids, one model, one endpoint). Line problems fail the batch with
 * `errors.data[]` naming each line, as the real validation step does.
 */

/** One error in a failed batch's `errors.data`. */
export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the input file, or null for the file as a whole. */
  line: number | null;
}

/** A line accepted for processing. */
export interface InputLine {
  customId: string;
  /** 1-based line number in the input file. */
  line: number;
  api: "chat" | "responses";
  body: Record<string, unknown>;
}

/** The URLs a line may name, per API; `/v1/...` (OpenAI) and bare (Azure) spellings alike. */
const URL_API: Readonly<Record<string, "chat" | "responses">> = {
  "/v1/chat/completions": "chat",
  "/chat/completions": "chat",
  "/v1/responses": "responses",
  "/responses": "responses",
};

/** The API a batch `endpoint` (or a line's `url`) names; undefined when the emulator does not serve it. */
export function endpointApi(endpoint: unknown): "chat" | "responses" | undefined {
  return typeof endpoint === "string" ? URL_API[endpoint] : undefined;
}

/** Errors past this many are not listed (the batch has failed anyway). */
const MAX_LISTED_ERRORS = 1000;

/** What `POST /files` refuses outright; undefined when the file can be stored. */
export function checkUpload(data: Buffer): string | undefined {
  if (data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf)
    return "The file starts with a UTF-8 byte-order mark (BOM). Batch input files must be UTF-8 JSONL without a BOM.";
  if (data.length === 0) return "The file is empty.";
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return "The file is not valid UTF-8.";
  }
  return undefined;
}

export type CheckedInput =
  { ok: true; lines: InputLine[]; model: string | undefined } | { ok: false; errors: BatchError[] };

/**
 * Validates every line of an input file for a batch on `endpoint`.
 * @param maxLines the most requests one file may hold
 */
export function checkInput(data: Buffer, endpoint: "chat" | "responses", maxLines: number): CheckedInput {
  const errors: BatchError[] = [];
  const error = (code: string, message: string, line: number | null, param: string | null = null): void => {
    if (errors.length < MAX_LISTED_ERRORS) errors.push({ code, message, param, line });
  };
  const rows = data.toString("utf8").split("\n");
  if (rows[rows.length - 1] === "") rows.pop(); // the final newline ends the last line
  if (rows.length === 0)
    return {
      ok: false,
      errors: [{ code: "empty_file", message: "The input file is empty.", param: null, line: null }],
    };
  if (rows.length > maxLines)
    return {
      ok: false,
      errors: [
        {
          code: "too_many_requests",
          message: `The input file has ${rows.length} requests; a batch may hold at most ${maxLines}.`,
          param: null,
          line: null,
        },
      ],
    };
  const lines: InputLine[] = [];
  const seen = new Map<string, number>();
  let model: { name: string; line: number } | undefined;
  for (const [i, raw] of rows.entries()) {
    const n = i + 1;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      error("invalid_json_line", `Line ${n} is not valid JSON.`, n);
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      error("invalid_json_line", `Line ${n} is not a JSON object.`, n);
      continue;
    }
    const obj = value as Record<string, unknown>;
    let bad = false;
    for (const key of ["custom_id", "method", "url", "body"]) {
      if (obj[key] === undefined || obj[key] === null) {
        error("missing_required_parameter", `Line ${n} is missing the required parameter '${key}'.`, n, key);
        bad = true;
      }
    }
    if (bad) continue;
    const { custom_id: customId, method, url, body } = obj;
    if (typeof customId !== "string" || customId === "") {
      error("invalid_value", `Line ${n}: 'custom_id' must be a non-empty string.`, n, "custom_id");
      continue;
    }
    if (method !== "POST") {
      error("invalid_value", `Line ${n}: 'method' must be 'POST'.`, n, "method");
      continue;
    }
    const api = endpointApi(url);
    if (api === undefined) {
      error(
        "invalid_url",
        `Line ${n}: 'url' ${JSON.stringify(url)} is not supported; use /v1/chat/completions or /v1/responses.`,
        n,
        "url",
      );
      continue;
    }
    if (api !== endpoint) {
      error("invalid_url", `Line ${n}: 'url' ${JSON.stringify(url)} does not match the batch's endpoint.`, n, "url");
      continue;
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      error("invalid_value", `Line ${n}: 'body' must be a JSON object.`, n, "body");
      continue;
    }
    const first = seen.get(customId);
    if (first !== undefined) {
      error(
        "duplicate_custom_id",
        `Line ${n}: custom_id ${JSON.stringify(customId)} is already used on line ${first}; custom_id must be unique within a batch.`,
        n,
        "custom_id",
      );
      continue;
    }
    seen.set(customId, n);
    const lineModel = (body as Record<string, unknown>)["model"];
    if (lineModel !== undefined && typeof lineModel !== "string") {
      error("invalid_value", `Line ${n}: 'body.model' must be a string.`, n, "body.model");
      continue;
    }
    if (typeof lineModel === "string") {
      if (model === undefined) model = { name: lineModel, line: n };
      else if (model.name !== lineModel) {
        error(
          "mismatched_model",
          `Line ${n}: body.model ${JSON.stringify(lineModel)} differs from ${JSON.stringify(model.name)} on line ${model.line}; every request in a batch must use the same model.`,
          n,
          "body.model",
        );
        continue;
      }
    }
    lines.push({ customId, line: n, api, body: body as Record<string, unknown> });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, lines, model: model?.name };
}
