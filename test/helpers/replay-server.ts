/**
 * Real local HTTP servers for provider and retry tests: no module mocks, the SDK talks to a
 * socket on 127.0.0.1 with an ephemeral port. `startReplayServer` answers with the Azure SDK's
 * recordings of real service traffic (test/fixtures/azure-recordings); `startServer` runs a
 * scripted handler for the cases no recording has (429s, stalls, resets).
 */
import { readFileSync } from "node:fs";
import http, { type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";

/** Where the recordings live: inside the repository, so a clone with nothing beside it can test. */
export const RECORDINGS_DIR = fileURLToPath(new URL("../fixtures/azure-recordings/", import.meta.url));

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Called for each request, after its body has been read. `index` counts from 0. */
export type Handler = (req: SeenRequest, res: ServerResponse, index: number) => void | Promise<void>;

export interface TestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order. */
  requests: SeenRequest[];
  /** Resolves once no client connection is open (the client released its sockets). */
  allSocketsClosed(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0 that hands each request to `handler`. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let onIdle: (() => void) | undefined;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://local");
      const body = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = body === "" ? undefined : (JSON.parse(body) as unknown);
      } catch {
        json = undefined;
      }
      const seen: SeenRequest = {
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        json,
      };
      requests.push(seen);
      Promise.resolve(handler(seen, res, requests.length - 1)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`test handler failed: ${String(err)}`);
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) onIdle?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    allSocketsClosed: () =>
      sockets.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onIdle = resolve;
          }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One recorded exchange (see test/fixtures/azure-recordings/README.md for the format). */
export interface RecordingEntry {
  RequestUri: string;
  RequestMethod: string;
  RequestHeaders: Record<string, string>;
  RequestBody: unknown;
  StatusCode: number;
  ResponseHeaders: Record<string, string>;
  ResponseBody: unknown;
}

export interface Recording {
  Entries: RecordingEntry[];
}

/** Reads a recording by file name (from {@link RECORDINGS_DIR}) or absolute path. */
export function loadRecording(file: string): Recording {
  const path = file.startsWith("/") ? file : `${RECORDINGS_DIR}${file}`;
  return JSON.parse(readFileSync(path, "utf8")) as Recording;
}

/** Headers the recorder stored but the replay must compute itself (lengths don't match bodies). */
const RECOMPUTED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

function isEventStream(headers: Record<string, string>): boolean {
  return Object.entries(headers).some(
    ([k, v]) => k.toLowerCase() === "content-type" && v.includes("text/event-stream"),
  );
}

/** Writes a recorded response: the stored headers (minus framing ones, whose recorded values do
 * not match the re-serialised bodies) with a length computed here, and the body. */
export function replayEntry(entry: RecordingEntry, res: ServerResponse): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry.ResponseHeaders)) if (!RECOMPUTED.has(k.toLowerCase())) headers[k] = v;
  // The streaming recording stores each server-sent event as a raw string; send them as-is.
  const body =
    Array.isArray(entry.ResponseBody) && isEventStream(entry.ResponseHeaders)
      ? (entry.ResponseBody as string[]).join("")
      : JSON.stringify(entry.ResponseBody);
  res.writeHead(entry.StatusCode, { ...headers, "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Serves a recording: each request is answered by the first unused entry with the same method
 * and path (host and query ignored), or the last matching entry once all are used; unmatched
 * requests get a 404 naming the recording.
 */
export async function startReplayServer(file: string): Promise<TestServer & { recording: Recording }> {
  const recording = loadRecording(file);
  const used = new Set<number>();
  const server = await startServer((req, res) => {
    const matching = recording.Entries.map((e, i) => ({ e, i })).filter(
      ({ e }) => e.RequestMethod === req.method && new URL(e.RequestUri).pathname === req.path,
    );
    const pick = matching.find(({ i }) => !used.has(i)) ?? matching.at(-1);
    if (pick === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "no_recording", message: `${file} has no ${req.method} ${req.path}` } }));
      return;
    }
    used.add(pick.i);
    replayEntry(pick.e, res);
  });
  return { ...server, recording };
}

/** The path prefix the recordings were made against (an Azure OpenAI deployment). */
export function recordedBasePath(recording: Recording): string {
  const first = recording.Entries[0];
  if (first === undefined) throw new Error("empty recording");
  return new URL(first.RequestUri).pathname.replace(/\/(chat\/completions|embeddings|info)$/, "");
}
