/**
 * The built-in emulator of the Azure AI model inference API: a plain node:http server that serves
 * simulated models in both endpoint styles.
 *
 * - Serverless (one host per model): `POST /<sim>/chat/completions`, `GET /<sim>/info`.
 * - Foundry multi-model: `POST /chat/completions` (or `/models/chat/completions`) with `model` in
 *   the body naming the sim; `GET /info?model=<sim>` (the query may be omitted with one sim).
 * - The OpenAI v1 surface, multi-model (`model` in the body) or under a sim: `/openai/v1/...`
 *   (Azure OpenAI / Foundry v1), `/v1/...` (OpenAI, Ollama, vLLM) and `/inference/...` (GitHub
 *   Models), each serving `chat/completions` and `responses`. The v1 flavour honours
 *   `stream_options` and passes unknown keys through, as those services do.
 * - The OpenAI Batch API under every v1 prefix (`files`, `batches`; see `batch-routes.ts`), on a
 *   compressed clock (`batch-service.ts`), answering each line as a live call would be answered.
 * - `GET /_emulator/stats`: request counters as JSON.
 *
 * Every model request, whatever its route, goes through {@link dispatch}: route → auth →
 * interventions → answer. The one intervention is fault injection (`faults.ts`): a sim with
 * `faults` configured answers some chat requests with a 429, a 5xx, a stall, a reset, ...
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { answerChat, answerInfo, answerResponses } from "./answer.js";
import { matchBatchPath, serveBatchApi, type BatchRouteContext } from "./batch-routes.js";
import { BatchService } from "./batch-service.js";
import { DEFAULT_BATCH_DURATION_MS, DEFAULT_MAX_FILE_BYTES } from "./batch-spec.js";
import { readBody, sendJson, type Exchange } from "./exchange.js";
import { FaultPlanner, serveFault } from "./faults.js";
import {
  invalidRequest,
  notFound,
  parseExtraParameters,
  UNAUTHORIZED_BODY,
  validateChatBody,
  type WireError,
} from "./protocol.js";
import { validateResponsesBody } from "./responses.js";
import { SimModelSpec, type SimModelSpecInput } from "./spec.js";
import { StatsTracker, type EmulatorStats } from "./stats.js";
import { http } from "../util/node-http.js";

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** Simulated models by name; each is parsed through `SimModelSpec`, which fills in defaults. */
  models: Record<string, SimModelSpecInput>;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Suppresses the one-line-per-request log on stderr. @default false */
  quiet?: boolean;
  /** Server-wide Batch API options; a sim's own `batch` settings take precedence. */
  batch?: EmulatorBatchOptions;
}

/** Server-wide options of the emulator's Batch API (`/files`, `/batches`). */
export interface EmulatorBatchOptions {
  /**
   * Real milliseconds a batch takes from creation to completion, for sims that do not set
   * `batch.durationMs`: the emulator's compressed 24 h window. @default 300
   */
  durationMs?: number;
  /** Largest file `POST /files` accepts, in bytes. @default 209715200 (200 MB) */
  maxFileBytes?: number;
  /**
   * The batch clock, ms since the epoch. Tests pass a hand-moved clock to step a batch through
   * its lifecycle without waiting. @default Date.now
   */
  clock?: () => number;
}

/** A running emulator. */
export interface EmulatorHandle {
  /** Base URL, e.g. `http://127.0.0.1:54321` (the Foundry-style endpoint). */
  url: string;
  port: number;
  /** Serverless-style endpoint of one simulated model: `url + "/" + sim`. */
  endpointFor(sim: string): string;
  /** A snapshot of the request counters. */
  stats(): EmulatorStats;
  /** Zeroes the counters (requests still in flight stay counted as in flight). */
  resetStats(): void;
  /** Stops listening and closes every connection, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
}

/** A simulated model as the server holds it. */
interface Sim {
  name: string;
  spec: SimModelSpec;
  /** `system_fingerprint`: stable while the spec is unchanged, like a real model deployment. */
  fingerprint: string;
}

/** A request body read and parsed as JSON; `ok: false` once the 400/413 has been sent. */
type JsonBody = { ok: true; value: unknown } | { ok: false };

/**
 * Which API surface a path belongs to: the Azure AI model inference API, or the OpenAI v1 surface
 * (chat completions and responses; unknown keys pass through, `stream_options` is honoured).
 */
type Flavour = "inference" | "v1";

/** What a model route answers. */
type Api = "chat" | "responses";

/** Splits a v1 prefix (`openai/v1`, `v1`, `inference`) off a path. */
function splitFlavour(path: readonly string[]): { flavour: Flavour; rest: string[] } {
  if (path[0] === "openai" && path[1] === "v1") return { flavour: "v1", rest: path.slice(2) };
  if (path[0] === "v1" || path[0] === "inference") return { flavour: "v1", rest: path.slice(1) };
  return { flavour: "inference", rest: [...path] };
}

/** The model API a path (below any prefix) names, if any. */
function apiOf(rest: readonly string[], flavour: Flavour): Api | undefined {
  if (rest.length === 2 && rest[0] === "chat" && rest[1] === "completions") return "chat";
  if (rest.length === 1 && rest[0] === "responses" && flavour === "v1") return "responses";
  return undefined;
}

/** A model request that has been routed to a sim. */
interface ModelCall {
  ex: Exchange;
  sim: Sim;
  route: "chat" | "info";
  /**
   * The request's JSON body, read on first use and memoised: serverless routes read it only after
   * auth, so a request with a bad key is refused without buffering its body.
   */
  body: () => Promise<JsonBody>;
}

/**
 * A hook every model request passes after auth and before the model answers. Returns true when it
 * has sent the response itself (e.g. an injected 429), which ends the request there.
 */
type Intervention = (call: ModelCall) => Promise<boolean>;

/** Request bodies above this are refused with 413 rather than buffered. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const SIM_NAME = /^[A-Za-z0-9_.-]+$/;

function loadSims(models: Record<string, SimModelSpecInput>): Map<string, Sim> {
  const sims = new Map<string, Sim>();
  const issues: ConfigIssue[] = [];
  for (const [name, input] of Object.entries(models)) {
    if (!SIM_NAME.test(name))
      issues.push({ path: `emulator.models.${name}`, message: "use letters, digits, '_', '.' or '-'" });
    const parsed = SimModelSpec.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({
          path: ["emulator", "models", name, ...issue.path.map(String)].join("."),
          message: issue.message,
        });
      }
      continue;
    }
    // Neither the key, the injected faults nor the batch clock are part of the model's identity.
    const { apiKey: _key, faults: _faults, batch: _batch, ...identity } = parsed.data;
    const fingerprint = `fp_${createHash("sha256")
      .update(JSON.stringify([name, identity]))
      .digest("hex")
      .slice(0, 10)}`;
    sims.set(name, { name, spec: parsed.data, fingerprint });
  }
  if (issues.length > 0) throw new ConfigError("emulator options", issues);
  return sims;
}

/**
 * Starts the emulator and resolves once it is listening.
 * @throws ConfigError when a simulated model's spec is invalid.
 */
export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const sims = loadSims(options.models);
  const stats = new StatsTracker();
  const faults = new FaultPlanner();
  const injectFault: Intervention = async (call) => {
    if (call.route !== "chat" || call.sim.spec.faults.length === 0) return false;
    const body = await call.body();
    if (!body.ok) return true; // unreadable body: the 400/413 has been sent
    const fault = faults.choose(call.sim, body.value);
    if (fault === undefined) return false;
    stats.fault(fault.kind);
    await serveFault(call.ex, call.sim, fault, body.value);
    return true;
  };
  const interventions: Intervention[] = [injectFault];
  const batches = new BatchService(stats, {
    defaultDurationMs: options.batch?.durationMs ?? DEFAULT_BATCH_DURATION_MS,
    ...(options.batch?.clock ? { clock: options.batch.clock } : {}),
    // Sims with batch.liveFaults draw from the live planner, so attempts count across both.
    liveFault: (sim, body) => {
      const fault = faults.choose(sim, body);
      if (fault !== undefined) stats.fault(fault.kind);
      return fault;
    },
  });
  const batchContext: BatchRouteContext = {
    sims,
    service: batches,
    stats,
    authorised,
    maxFileBytes: options.batch?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
  };
  const log =
    options.quiet === true ? undefined : (line: string): void => void process.stderr.write(`[emulator] ${line}\n`);

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      // A bug in the emulator: answer 500 if we still can, never crash the process running it.
      log?.(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "InternalServerError", message: "The emulator failed." } }));
      } else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const segments = url.pathname
      .split("/")
      .filter((s) => s !== "")
      .map(safeDecode);
    if (segments[0] === "_emulator") {
      if (req.method === "GET" && segments.length === 2 && segments[1] === "stats") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(stats.snapshot()));
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "404", message: "Resource not found" } }));
      }
      return;
    }

    const started = performance.now();
    const abort = new AbortController();
    const ex: Exchange = {
      req,
      res,
      url,
      requestId: randomUUID(),
      apiVersion: url.searchParams.get("api-version"),
      signal: abort.signal,
      ticket: stats.begin(url.searchParams.get("api-version")),
      startedAt: started,
    };
    res.on("close", () => {
      // 'close' also follows a normal finish; only an unfinished response means the client left
      // (or close() cut the connection), and then pending waits must stop.
      const finished = res.writableFinished;
      if (!finished) abort.abort();
      // 499 (nginx's "client closed request") when the client left before any response.
      const status = res.headersSent ? res.statusCode : 499;
      // 'close' comes right after 'finish' (the last byte handed to the socket): the service time.
      stats.end(ex.ticket, status, finished ? performance.now() - started : undefined);
      log?.(
        `${req.method} ${url.pathname} ${status}${finished ? "" : " (client gone)"} ${Math.round(performance.now() - started)}ms`,
      );
    });
    await route(ex, segments);
  }

  async function route(ex: Exchange, segments: string[]): Promise<void> {
    const method = ex.req.method ?? "GET";
    // "/models" is the Foundry path prefix; strip it unless a sim is literally named "models".
    const path = segments[0] === "models" && !sims.has("models") ? segments.slice(1) : segments;
    // The Batch API (files, batches) under any v1 prefix, its own routes and auth.
    const batchPath = matchBatchPath(path, sims);
    if (batchPath !== undefined) return serveBatchApi(batchContext, ex, batchPath);
    // Multi-model: the model is named in the body.
    const multi = splitFlavour(path);
    const multiApi = apiOf(multi.rest, multi.flavour);
    if (multiApi !== undefined)
      return requireMethod(ex, method, "POST", () => modelMultiModel(ex, multiApi, multi.flavour));
    if (path.length === 1 && path[0] === "info") return requireMethod(ex, method, "GET", () => infoMultiModel(ex));
    // Serverless: the first segment names the sim.
    const [a, ...after] = path;
    if (a !== undefined) {
      const served = splitFlavour(after);
      const api = apiOf(served.rest, served.flavour);
      if (api !== undefined)
        return requireMethod(ex, method, "POST", () => modelServerless(ex, a, api, served.flavour));
      if (after.length === 1 && after[0] === "info")
        return requireMethod(ex, method, "GET", () => infoServerless(ex, a));
    }
    sendError(ex, notFound("Resource not found"));
  }

  async function requireMethod(ex: Exchange, method: string, wanted: string, next: () => Promise<void>): Promise<void> {
    if (method !== wanted)
      return sendJson(
        ex,
        405,
        { error: { code: "405", message: `Method ${method} is not allowed; use ${wanted}.` } },
        { allow: wanted },
      );
    return next();
  }

  async function modelServerless(ex: Exchange, name: string, api: Api, flavour: Flavour): Promise<void> {
    const sim = sims.get(name);
    if (sim === undefined) return sendError(ex, notFound("Resource not found"));
    let read: Promise<JsonBody> | undefined;
    const body = (): Promise<JsonBody> => (read ??= readJson(ex));
    await dispatch({ ex, sim, route: "chat", body }, async () => {
      const parsed = await body();
      if (parsed.ok) await answerModel(ex, sim, parsed.value, api, flavour);
    });
  }

  async function modelMultiModel(ex: Exchange, api: Api, flavour: Flavour): Promise<void> {
    // The model is named in the body, so the body is read before routing and auth.
    const body = await readJson(ex);
    if (!body.ok) return;
    const model =
      typeof body.value === "object" && body.value !== null
        ? (body.value as Record<string, unknown>)["model"]
        : undefined;
    // Foundry also routes on this header when the body names no model.
    const sim = resolveModel(
      ex,
      typeof model === "string" && model !== "" ? model : headerValue(ex.req, "x-ms-model-mesh-model-name"),
    );
    if (sim !== undefined)
      await dispatch({ ex, sim, route: "chat", body: async () => body }, () =>
        answerModel(ex, sim, body.value, api, flavour),
      );
  }

  async function infoServerless(ex: Exchange, name: string): Promise<void> {
    const sim = sims.get(name);
    if (sim === undefined) return sendError(ex, notFound("Resource not found"));
    await dispatch({ ex, sim, route: "info", body: noBody }, async () => answerInfo(ex, sim));
  }

  async function infoMultiModel(ex: Exchange): Promise<void> {
    const only = sims.size === 1 ? [...sims.keys()][0] : undefined;
    const sim = resolveModel(ex, ex.url.searchParams.get("model") ?? only);
    if (sim !== undefined) await dispatch({ ex, sim, route: "info", body: noBody }, async () => answerInfo(ex, sim));
  }

  /** The sim a multi-model request names; sends the error and returns undefined otherwise. */
  function resolveModel(ex: Exchange, model: string | undefined): Sim | undefined {
    if (model === undefined || model === "") {
      sendError(ex, {
        status: 400,
        body: {
          error: {
            code: "no_model_name",
            message:
              "No model specified in request. Please provide a model name in the request body or as a x-ms-model-mesh-model-name header.",
          },
        },
      });
      return undefined;
    }
    const sim = sims.get(model);
    if (sim === undefined) {
      sendError(
        ex,
        notFound(
          `Unknown model: ${model}. Models served here: ${[...sims.keys()].join(", ") || "(none)"}.`,
          "unknown_model",
        ),
      );
    }
    return sim;
  }

  /** The one path every model request takes once routed: auth, interventions, then the answer. */
  async function dispatch(call: ModelCall, answer: () => Promise<void>): Promise<void> {
    stats.attribute(call.ex.ticket, call.sim.name, call.route);
    if (!authorised(call.ex.req, call.sim.spec.apiKey))
      return sendError(call.ex, { status: 401, body: UNAUTHORIZED_BODY });
    for (const intervene of interventions) if (await intervene(call)) return;
    await answer();
  }

  async function answerModel(ex: Exchange, sim: Sim, body: unknown, api: Api, flavour: Flavour): Promise<void> {
    if (api === "responses") {
      const validated = validateResponsesBody(body);
      if (!validated.ok) return sendError(ex, validated.error);
      return answerResponses(ex, sim, validated.request);
    }
    // The v1 surface has no extra-parameters header: it takes OpenAI's keys (stream_options...).
    const extra = flavour === "v1" ? "pass-through" : parseExtraParameters(headerValue(ex.req, "extra-parameters"));
    const validated = validateChatBody(body, extra);
    if (!validated.ok) return sendError(ex, validated.error);
    await answerChat(ex, sim, validated.request);
  }

  /** Reads and parses the JSON body; sends 400/413 itself when it cannot. */
  async function readJson(ex: Exchange): Promise<JsonBody> {
    const raw = await readBody(ex.req, MAX_BODY_BYTES);
    if (!raw.ok) {
      if (raw.reason === "too_large") {
        sendError(
          ex,
          invalidRequest(`Request body is larger than ${MAX_BODY_BYTES} bytes.`, null, "request_too_large", 413),
        );
      }
      return { ok: false };
    }
    try {
      return { ok: true, value: JSON.parse(raw.text) as unknown };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      sendError(
        ex,
        invalidRequest(`We could not parse the JSON body of your request. (${reason})`, null, "invalid_json"),
      );
      return { ok: false };
    }
  }

  // Errors sent before the body was read need no special care: node:http discards an unread
  // request body once the response ends, keeping the keep-alive connection usable.
  function sendError(ex: Exchange, error: WireError): void {
    sendJson(ex, error.status, error.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

  const { port, address } = server.address() as AddressInfo;
  const url = `http://${hostForUrl(address)}:${port}`;
  log?.(`listening on ${url} (${[...sims.keys()].join(", ") || "no models"})`);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    endpointFor: (sim: string) => `${url}/${encodeURIComponent(sim)}`,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close: () => {
      batches.close();
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** GET routes have no body. */
const noBody = async (): Promise<JsonBody> => ({ ok: true, value: undefined });

/**
 * Checks `api-key: KEY` or `Authorization: Bearer KEY`. Without a configured key anything passes.
 * A plain comparison is fine: emulator keys are test fixtures, not secrets.
 */
function authorised(req: IncomingMessage, apiKey: string | undefined): boolean {
  if (apiKey === undefined) return true;
  if (headerValue(req, "api-key") === apiKey) return true;
  const bearer = /^Bearer\s+(.+)$/i.exec(headerValue(req, "authorization") ?? "");
  return bearer?.[1]?.trim() === apiKey;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The host part of a URL for a listening address: wildcard binds are reached via loopback. */
function hostForUrl(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}
