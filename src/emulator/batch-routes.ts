/**
 * The HTTP side of the emulator's Batch API, under every OpenAI v1 prefix the emulator serves
 * (`/openai/v1/...`, `/v1/...`, Azure's older `/openai/...?api-version=`, and the same under a
 * sim, `/<sim>/openai/v1/...`):
 *
 * - `POST files` (multipart: `file`, `purpose=batch`), `GET files`, `GET files/{id}`,
 *   `GET files/{id}/content` (the raw bytes), `DELETE files/{id}`;
 * - `POST batches`, `GET batches` (newest first, `after`/`limit`), `GET batches/{id}`,
 *   `POST batches/{id}/cancel`.
 *
 * Wire shapes follow the `openai` package (FileObject, Batch, CursorPage). Errors are OpenAI's
 * `{"error":{"message","type","param","code"}}`; auth is the chat routes' (api-key or Bearer).
 */
import type { IncomingMessage } from "node:http";
import { fileObject, pageOf, type StoredFile } from "./batch-files.js";
import { checkInput, checkUpload, endpointApi, type CheckedInput } from "./batch-input.js";
import type { BatchService, BatchSim } from "./batch-service.js";
import { readBodyBytes, sendJson, serviceHeaders, type Exchange } from "./exchange.js";
import { multipartBoundary, parseMultipart } from "./multipart.js";
import { invalidRequest, UNAUTHORIZED_BODY, type WireError } from "./protocol.js";
import type { StatsTracker } from "./stats.js";

/** What the batch routes need from the server. */
export interface BatchRouteContext {
  sims: ReadonlyMap<string, BatchSim>;
  service: BatchService;
  stats: StatsTracker;
  /** The chat routes' key check for one sim's key (undefined: no key needed). */
  authorised: (req: IncomingMessage, apiKey: string | undefined) => boolean;
  /** Largest upload accepted, bytes. */
  maxFileBytes: number;
}

/** A path below a v1 prefix that names the Batch API, with the sim it is served under, if any. */
export interface BatchPath {
  /** The sim whose own endpoint this is; undefined on the multi-model root. */
  sim: BatchSim | undefined;
  /** `["files", ...]` or `["batches", ...]`. */
  rest: string[];
}

/**
 * Matches `openai/v1/...`, `v1/...`, `openai/...` and the same under a sim (`<sim>/openai/v1/...`)
 * below `files`/`batches`.
 */
export function matchBatchPath(path: readonly string[], sims: ReadonlyMap<string, BatchSim>): BatchPath | undefined {
  const below = (p: readonly string[]): string[] | undefined => {
    // `/openai/files` is Azure OpenAI's data plane before v1 (`?api-version=...`, the AzureOpenAI client).
    const rest = p[0] === "openai" ? (p[1] === "v1" ? p.slice(2) : p.slice(1)) : p[0] === "v1" ? p.slice(1) : undefined;
    return rest !== undefined && (rest[0] === "files" || rest[0] === "batches") ? rest : undefined;
  };
  const multi = below(path);
  if (multi !== undefined) return { sim: undefined, rest: multi };
  const sim = path[0] === undefined ? undefined : sims.get(path[0]);
  const served = sim === undefined ? undefined : below(path.slice(1));
  return served === undefined ? undefined : { sim, rest: served };
}

/** Serves one Batch API request. */
export async function serveBatchApi(ctx: BatchRouteContext, ex: Exchange, at: BatchPath): Promise<void> {
  const method = ex.req.method ?? "GET";
  if (at.sim !== undefined) ctx.stats.attribute(ex.ticket, at.sim.name, "info");
  // A sim's own endpoint takes that sim's key; the multi-model root takes any sim's key (the
  // batch's model is checked against it once the lines name one).
  const keyOk =
    at.sim !== undefined
      ? ctx.authorised(ex.req, at.sim.spec.apiKey)
      : [...ctx.sims.values()].some((s) => ctx.authorised(ex.req, s.spec.apiKey));
  if (!keyOk) return sendError(ex, { status: 401, body: UNAUTHORIZED_BODY });
  const scope = at.sim === undefined ? "*" : `sim:${at.sim.name}`;
  const [resource, id, action, ...extra] = at.rest;
  const allow = (wanted: string): boolean => {
    if (method === wanted) return true;
    sendJson(
      ex,
      405,
      {
        error: {
          message: `Method ${method} is not allowed; use ${wanted}.`,
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      },
      { allow: wanted },
    );
    return false;
  };
  if (extra.length > 0) return sendError(ex, notFound("Resource not found", null));

  if (resource === "files") {
    if (id === undefined) {
      if (method === "POST") return uploadFile(ctx, ex, scope);
      if (allow("GET")) listFiles(ctx, ex, scope);
      return;
    }
    const file = ctx.service.files.get(scope, id);
    if (action === "content") {
      if (!allow("GET")) return;
      if (file === undefined) return sendError(ex, noSuchFile(id));
      return sendBytes(ex, file);
    }
    if (action !== undefined) return sendError(ex, notFound("Resource not found", null));
    if (method === "DELETE") {
      if (!ctx.service.files.delete(scope, id)) return sendError(ex, noSuchFile(id));
      return sendJson(ex, 200, { id, object: "file", deleted: true });
    }
    if (!allow("GET")) return;
    if (file === undefined) return sendError(ex, noSuchFile(id));
    return sendJson(ex, 200, fileObject(file));
  }

  // batches
  if (id === undefined) {
    if (method === "POST") return createBatch(ctx, ex, scope, at.sim);
    if (!allow("GET")) return;
    const limit = limitParam(ex, 20, 100);
    if (limit === undefined) return;
    const after = ex.url.searchParams.get("after") ?? undefined;
    return sendJson(
      ex,
      200,
      pageOf(ctx.service.list(scope), after, limit, (b) => b),
    );
  }
  if (action === "cancel") {
    if (!allow("POST")) return;
    const cancelled = ctx.service.cancel(scope, id);
    if (cancelled === undefined) return sendError(ex, noSuchBatch(id));
    if (!cancelled.ok) {
      return sendError(
        ex,
        invalidRequest(`Cannot cancel a batch with status '${String(cancelled.batch["status"])}'.`, null, null, 409),
      );
    }
    return sendJson(ex, 200, cancelled.batch);
  }
  if (action !== undefined) return sendError(ex, notFound("Resource not found", null));
  if (!allow("GET")) return;
  const batch = ctx.service.get(scope, id);
  if (batch === undefined) return sendError(ex, noSuchBatch(id));
  sendJson(ex, 200, batch);
}

// --- Files -------------------------------------------------------------------------------

async function uploadFile(ctx: BatchRouteContext, ex: Exchange, scope: string): Promise<void> {
  const boundary = multipartBoundary(headerValue(ex.req, "content-type"));
  if (boundary === undefined) {
    return sendError(
      ex,
      invalidRequest(
        "Invalid Content-Type header: expected multipart/form-data with a boundary.",
        null,
        "invalid_content_type",
      ),
    );
  }
  // Room for the form's own headers around the largest file.
  const raw = await readBodyBytes(ex.req, ctx.maxFileBytes + 64 * 1024);
  if (!raw.ok) {
    if (raw.reason === "too_large")
      sendError(
        ex,
        invalidRequest(`File is larger than the ${ctx.maxFileBytes} bytes allowed.`, "file", "file_too_large", 413),
      );
    return;
  }
  const form = parseMultipart(raw.bytes, boundary);
  if (!form.ok)
    return sendError(ex, invalidRequest(`Could not parse the multipart form: ${form.message}.`, null, null));
  const purpose = form.parts.find((p) => p.name === "purpose" && p.filename === undefined)?.data.toString("utf8");
  if (purpose === undefined)
    return sendError(
      ex,
      invalidRequest("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter"),
    );
  if (purpose !== "batch") {
    return sendError(
      ex,
      invalidRequest(
        `Invalid value for 'purpose': ${JSON.stringify(purpose)}. The emulator serves only 'batch' files.`,
        "purpose",
        "invalid_value",
      ),
    );
  }
  const file = form.parts.find((p) => p.name === "file");
  if (file === undefined)
    return sendError(ex, invalidRequest("Missing required parameter: 'file'.", "file", "missing_required_parameter"));
  if (file.data.length > ctx.maxFileBytes)
    return sendError(
      ex,
      invalidRequest(`File is larger than the ${ctx.maxFileBytes} bytes allowed.`, "file", "file_too_large", 413),
    );
  const problem = checkUpload(file.data);
  if (problem !== undefined) return sendError(ex, invalidRequest(problem, "file", "invalid_file_format"));
  // Copy out of the request buffer so the rest of the form is not kept alive with it.
  const stored = ctx.service.files.add(scope, file.filename ?? "upload.jsonl", "batch", Buffer.from(file.data));
  ctx.stats.fileUploaded();
  sendJson(ex, 200, fileObject(stored));
}

function listFiles(ctx: BatchRouteContext, ex: Exchange, scope: string): void {
  const limit = limitParam(ex, 10_000, 10_000);
  if (limit === undefined) return;
  const order = ex.url.searchParams.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc")
    return sendError(
      ex,
      invalidRequest("Invalid value for 'order': expected 'asc' or 'desc'.", "order", "invalid_value"),
    );
  const purpose = ex.url.searchParams.get("purpose") ?? undefined;
  const after = ex.url.searchParams.get("after") ?? undefined;
  sendJson(ex, 200, pageOf(ctx.service.files.list(scope, purpose, order), after, limit, fileObject));
}

function sendBytes(ex: Exchange, file: StoredFile): void {
  if (ex.res.headersSent || ex.res.destroyed) return;
  ex.res.writeHead(200, {
    ...serviceHeaders(ex),
    "content-type": "application/octet-stream",
    "content-length": file.data.length,
    "content-disposition": `attachment; filename="${file.filename}"`,
  });
  ex.res.end(file.data);
}

// --- Batches -----------------------------------------------------------------------------

async function createBatch(
  ctx: BatchRouteContext,
  ex: Exchange,
  scope: string,
  routeSim: BatchSim | undefined,
): Promise<void> {
  const raw = await readBodyBytes(ex.req, 1024 * 1024);
  if (!raw.ok) {
    if (raw.reason === "too_large")
      sendError(ex, invalidRequest("Request body is too large.", null, "request_too_large", 413));
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.bytes.toString("utf8"));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return sendError(
      ex,
      invalidRequest(`We could not parse the JSON body of your request. (${reason})`, null, "invalid_json"),
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return sendError(ex, invalidRequest("Invalid type for request body: expected an object.", null, "invalid_type"));
  const params = body as Record<string, unknown>;
  const required = (key: string): WireError | undefined =>
    params[key] === undefined || params[key] === null
      ? invalidRequest(`Missing required parameter: '${key}'.`, key, "missing_required_parameter")
      : undefined;
  for (const key of ["input_file_id", "endpoint", "completion_window"]) {
    const missing = required(key);
    if (missing !== undefined) return sendError(ex, missing);
  }
  const api = endpointApi(params["endpoint"]);
  if (api === undefined) {
    return sendError(
      ex,
      invalidRequest(
        `Invalid value for 'endpoint': ${JSON.stringify(params["endpoint"])}. Supported: '/v1/chat/completions', '/v1/responses' (or without '/v1').`,
        "endpoint",
        "invalid_value",
      ),
    );
  }
  if (params["completion_window"] !== "24h") {
    return sendError(
      ex,
      invalidRequest(
        `Invalid value for 'completion_window': ${JSON.stringify(params["completion_window"])}. Supported: '24h'.`,
        "completion_window",
        "invalid_value",
      ),
    );
  }
  const metadata = readMetadata(params["metadata"]);
  if ("error" in metadata) return sendError(ex, metadata.error);
  const inputId = params["input_file_id"];
  const input = typeof inputId === "string" ? ctx.service.files.get(scope, inputId) : undefined;
  if (input === undefined) return sendError(ex, noSuchFile(String(inputId), "input_file_id"));
  if (input.purpose !== "batch") {
    return sendError(
      ex,
      invalidRequest(`File ${input.id} has purpose '${input.purpose}', not 'batch'.`, "input_file_id", "invalid_value"),
    );
  }

  let checked: CheckedInput = checkInput(input.data, api, Number.MAX_SAFE_INTEGER);
  let sim = routeSim;
  if (sim === undefined && checked.ok) {
    // On the multi-model root the lines' body.model names the sim.
    const model = checked.model;
    sim = model === undefined ? undefined : ctx.sims.get(model);
    if (model === undefined)
      checked = failed(
        "missing_required_parameter",
        "Every request needs 'body.model' naming the model.",
        "body.model",
      );
    else if (sim === undefined)
      checked = failed(
        "model_not_found",
        `The model ${JSON.stringify(model)} does not exist. Models served here: ${[...ctx.sims.keys()].join(", ") || "(none)"}.`,
        "body.model",
      );
    else if (!ctx.authorised(ex.req, sim.spec.apiKey)) return sendError(ex, { status: 401, body: UNAUTHORIZED_BODY });
  }
  if (sim !== undefined && checked.ok && checked.lines.length > sim.spec.batch.maxLines) {
    checked = failed(
      "too_many_requests",
      `The input file has ${checked.lines.length} requests; a batch may hold at most ${sim.spec.batch.maxLines}.`,
      null,
    );
  }
  const endpoint = params["endpoint"] as string;
  sendJson(ex, 200, ctx.service.create(scope, input, endpoint, metadata.value, sim, checked));
}

function failed(code: string, message: string, param: string | null): CheckedInput {
  return { ok: false, errors: [{ code, message, param, line: null }] };
}

/** Metadata as the service takes it: at most 16 string values, keys ≤ 64 and values ≤ 512 characters. */
function readMetadata(value: unknown): { value: Record<string, string> | null } | { error: WireError } {
  if (value === undefined || value === null) return { value: null };
  const bad = (message: string) => ({ error: invalidRequest(message, "metadata", "invalid_value") });
  if (typeof value !== "object" || Array.isArray(value)) return bad("Invalid type for 'metadata': expected an object.");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 16) return bad("Invalid 'metadata': at most 16 keys.");
  for (const [k, v] of entries) {
    if (k.length > 64) return bad(`Invalid 'metadata': key ${JSON.stringify(k)} is longer than 64 characters.`);
    if (typeof v !== "string" || v.length > 512)
      return bad(`Invalid 'metadata.${k}': expected a string of at most 512 characters.`);
  }
  return { value: Object.fromEntries(entries) as Record<string, string> };
}

// --- Helpers -----------------------------------------------------------------------------

/** The `limit` query parameter, within [1, max]; sends the 400 and returns undefined when invalid. */
function limitParam(ex: Exchange, fallback: number, max: number): number | undefined {
  const raw = ex.url.searchParams.get("limit");
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    sendError(
      ex,
      invalidRequest(`Invalid value for 'limit': expected an integer from 1 to ${max}.`, "limit", "invalid_value"),
    );
    return undefined;
  }
  return n;
}

function notFound(message: string, param: string | null): WireError {
  return invalidRequest(message, param, null, 404);
}

function noSuchFile(id: string, param = "id"): WireError {
  return notFound(`No such File object: ${id}`, param);
}

function noSuchBatch(id: string): WireError {
  return notFound(`No such Batch object: ${id}`, "id");
}

function sendError(ex: Exchange, error: WireError): void {
  sendJson(ex, error.status, error.body);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
