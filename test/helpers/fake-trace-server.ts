/**
 * A small stand-in for the Weave trace server (node:http on 127.0.0.1, ephemeral port) that
 * records every request for assertions. Point the SDK at it with WF_TRACE_SERVER_URL and any
 * WANDB_API_KEY. Unknown routes are logged and answered `200 {}` so new SDK calls show up.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** How the server answers: normally, with an HTTP error status, or never (requests hang). */
export type FakeMode = "healthy" | 400 | 401 | 500 | "hang";

/** One request as received. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Parsed JSON body, or null for non-JSON bodies (multipart file uploads). */
  body: unknown;
  /** The raw body text, for "this string never appears" checks. */
  raw: string;
  authorization: string | undefined;
}

/** A call as assembled from upsert_batch start and end items. */
export interface RecordedCall {
  id: string;
  op_name: string;
  trace_id: string;
  parent_id: string | null;
  display_name?: string | null;
  attributes: Record<string, unknown>;
  inputs: Record<string, unknown>;
  output?: unknown;
  summary?: Record<string, unknown>;
  exception?: string;
  ended: boolean;
}

/** One feedback item as the SDK sends it (a `FeedbackCreateReq`). */
export interface FeedbackItem {
  project_id: string;
  weave_ref: string;
  feedback_type: string;
  payload: Record<string, unknown>;
  runnable_ref?: string;
  call_ref?: string;
}

export interface FakeTraceServer {
  /** Base URL, e.g. http://127.0.0.1:45678 */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Routes the fake does not know (answered 200 {}). */
  readonly unknownRoutes: Set<string>;
  mode: FakeMode;
  /** Per-route status overrides while healthy, e.g. `{"/call/upsert_batch": 400}`. */
  routeStatus: Record<string, number>;
  /** Requests per path. */
  countByRoute(): Record<string, number>;
  /** Every feedback item received, through /feedback/create or /feedback/batch/create, in arrival order. */
  feedback(): FeedbackItem[];
  /** Every call seen in call/upsert_batch, start and end merged, in start order. */
  calls(): RecordedCall[];
  /** Calls whose op name (`weave:///…/op/<name>:<digest>`) is `name`. */
  callsByOp(name: string): RecordedCall[];
  close(): Promise<void>;
}

/** Op name from an op ref URI (`weave:///e/p/op/Evaluation.evaluate:abc` → `Evaluation.evaluate`). */
export function opNameOf(ref: string): string {
  const m = /\/op\/([^:]+):/.exec(ref);
  return m?.[1] ?? ref;
}

/** Starts the fake trace server. */
export async function startFakeTraceServer(options: { mode?: FakeMode } = {}): Promise<FakeTraceServer> {
  const requests: RecordedRequest[] = [];
  const unknownRoutes = new Set<string>();
  const tables = new Map<string, unknown[]>();
  const sockets = new Set<Socket>();
  const callIndex = new Map<string, RecordedCall>();
  const callOrder: RecordedCall[] = [];
  const state = { mode: options.mode ?? "healthy" };
  const routeStatus: Record<string, number> = {};

  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const body = parseJson(raw, req.headers["content-type"]);
      requests.push({ method: req.method ?? "GET", path, body, raw, authorization: req.headers.authorization });
      if (state.mode === "hang") return; // never answer; close() destroys the socket
      if (typeof state.mode === "number") return reply(res, state.mode, { detail: `fake ${state.mode}` });
      const override = routeStatus[path];
      if (override !== undefined) return reply(res, override, { detail: `fake ${override} for ${path}` });
      if (path === "/call/upsert_batch") recordCalls(body, callIndex, callOrder);
      reply(res, 200, answer(path, body, tables, unknownRoutes));
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unknownRoutes,
    routeStatus,
    get mode() {
      return state.mode;
    },
    set mode(m: FakeMode) {
      state.mode = m;
    },
    countByRoute() {
      const counts: Record<string, number> = {};
      for (const r of requests) counts[r.path] = (counts[r.path] ?? 0) + 1;
      return counts;
    },
    feedback: () =>
      requests.flatMap((r) => {
        if (r.path === "/feedback/create") return [r.body as FeedbackItem];
        if (r.path === "/feedback/batch/create") return (r.body as { batch: FeedbackItem[] }).batch;
        return [];
      }),
    calls: () => [...callOrder],
    callsByOp: (name) => callOrder.filter((c) => opNameOf(c.op_name) === name),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A URL where nothing listens: a port that was just bound and released. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

function parseJson(raw: string, contentType: string | undefined): unknown {
  if (!contentType?.includes("json") || raw === "") return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function digestOf(value: unknown): string {
  // Digests must not contain '/' or ':' (they end up inside ref URIs).
  return createHash("sha256")
    .update(JSON.stringify(value) ?? "")
    .digest("hex")
    .slice(0, 32);
}

function answer(path: string, body: unknown, tables: Map<string, unknown[]>, unknown: Set<string>): unknown {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a fake server reads whatever the SDK sends
  const b = (body ?? {}) as Record<string, any>;
  switch (path) {
    case "/call/upsert_batch":
      return {};
    case "/obj/create":
      return { digest: digestOf(b["obj"]?.val) };
    case "/file/create":
      return { digest: randomUUID().replace(/-/g, "") };
    case "/table/create": {
      const rows = (b["table"]?.rows ?? []) as unknown[];
      const digest = digestOf(rows);
      tables.set(digest, rows);
      return { digest, row_digests: rows.map(digestOf) };
    }
    case "/table/query": {
      const rows = tables.get(b["digest"]) ?? [];
      return { rows: rows.map((val) => ({ digest: digestOf(val), val })) };
    }
    case "/feedback/create":
      return feedbackRes(b);
    case "/feedback/batch/create":
      // The trace server's FeedbackCreateBatchRes: one FeedbackCreateRes per item, in order.
      return { res: ((b["batch"] ?? []) as Record<string, unknown>[]).map(feedbackRes) };
    case "/health":
      return {};
    default:
      unknown.add(path);
      return {};
  }
}

function feedbackRes(item: Record<string, unknown>): unknown {
  return { id: randomUUID(), created_at: new Date().toISOString(), wb_user_id: "fake", payload: item["payload"] ?? {} };
}

function recordCalls(body: unknown, index: Map<string, RecordedCall>, order: RecordedCall[]): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  const batch = ((body ?? {}) as { batch?: { mode: string; req: Record<string, any> }[] }).batch ?? [];
  for (const item of batch) {
    if (item.mode === "start") {
      const s = item.req["start"];
      const call: RecordedCall = {
        id: s.id,
        op_name: s.op_name,
        trace_id: s.trace_id,
        parent_id: s.parent_id ?? null,
        display_name: s.display_name ?? null,
        attributes: s.attributes ?? {},
        inputs: s.inputs ?? {},
        ended: false,
      };
      const existing = index.get(call.id);
      if (existing)
        Object.assign(existing, { ...call, ended: existing.ended, output: existing.output, summary: existing.summary });
      else {
        index.set(call.id, call);
        order.push(call);
      }
    } else if (item.mode === "end") {
      const e = item.req["end"];
      let call = index.get(e.id);
      if (!call) {
        // An end can arrive in an earlier batch than its start only if the SDK reorders; keep it anyway.
        call = { id: e.id, op_name: "", trace_id: "", parent_id: null, attributes: {}, inputs: {}, ended: false };
        index.set(e.id, call);
        order.push(call);
      }
      call.ended = true;
      call.output = e.output;
      call.summary = e.summary;
      if (e.exception !== undefined) call.exception = e.exception;
    }
  }
}
