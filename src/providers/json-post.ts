/**
 * One JSON POST over node:http(s) with keep-alive connections: the openai provider's transport
 * for non-streamed calls.
 *
 * Why not the `openai` client (or `fetch`) for those: per call, the client builds its request
 * through several async layers, formats debug-log details whether or not anything logs, copies
 * headers into web `Headers` several times, and hands everything to undici's `fetch` (a web
 * `Request`, an AbortSignal made transferable, a web stream for the body). Measured on the
 * emulator at 0 ms, C = 16, same process, same load: ~2.3–3.0 ms of CPU per call through the
 * client, ~2.2 ms through bare `fetch`, ~0.6 ms through node:http. At 20 ms latency and C = 16 the
 * client alone keeps a core ~90% busy, so every extra microsecond turned into queueing latency
 * (bakeoff's p50 28.8 ms against the bare client's 23.8 ms). Streamed calls still use the client
 * (its SSE parser is worth its cost there), as do batch mode's `/files` and `/batches`.
 */
import type { Readable } from "node:stream";
import { ModelCallError } from "../errors.js";
import { requestIdFrom } from "./errors.js";
import type { HeaderBag } from "./retry-after.js";
import { http } from "../util/node-http.js";
import { onRunAbort } from "./run-abort.js";
import { httpAgent, httpsTransport } from "./keep-alive.js";
import { decoderFor } from "./content-decoder.js";

/** What came back: status, headers (names lower-cased by node:http) and the body as text. */
export interface JsonPostResponse {
  status: number;
  headers: HeaderBag;
  text: string;
}

/**
 * POSTs `body` (JSON, as text or already UTF-8) to `url` and reads the whole answer, whatever its status.
 *
 * Rejects with a `bad_response` {@link ModelCallError} (not retried) when the body is larger
 * than `maxBytes` (declared or decoded so far; nothing more is read), and with the socket's own
 * error (an `Error` with a `code`, or an `AbortError` once `signal` fired) otherwise: the caller
 * classifies those.
 */
export function postJson(
  url: URL,
  headers: Record<string, string>,
  body: string | Buffer,
  signal: AbortSignal,
  maxBytes: number,
): Promise<JsonPostResponse> {
  return new Promise<JsonPostResponse>((resolveOuter, rejectOuter) => {
    // The abort hook is ours, not `request(..., { signal })`'s: node:http would also watch
    // the request with `finished()` (five more listeners per call) only to remove its own one.
    // The signal is shared by the attempts that started together (providers/attempt-deadline.ts),
    // and the hook joins that signal's one fan-out listener (run-abort.ts) rather than adding an
    // EventTarget listener of its own: adding and removing those took ~5 µs of CPU per call in a
    // profile at C = 64, a Set add and delete much less.
    const aborted = () => Object.assign(new Error("The operation was aborted"), { name: "AbortError" });
    if (signal.aborted) return rejectOuter(aborted());
    let unsubscribe: () => void = () => undefined;
    const settle = () => unsubscribe();
    const resolve = (r: JsonPostResponse) => {
      settle();
      resolveOuter(r);
    };
    const reject = (err: unknown) => {
      settle();
      rejectOuter(err);
    };
    const { agent, request } =
      url.protocol === "https:" ? httpsTransport() : { agent: httpAgent, request: http.request };
    const req = request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const tooLarge = (seen: string) => {
          res.destroy();
          reject(
            new ModelCallError(
              "bad_response",
              `response body is larger than maxResponseBytes (${maxBytes} bytes; ${seen}); not read further`,
              { status, requestId: requestIdFrom(res.headers) },
            ),
          );
        };
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(`Content-Length ${declared}`);
        const decoder = decoderFor(res.headers["content-encoding"]);
        const stream: Readable = decoder === undefined ? res : (res.pipe(decoder) as unknown as Readable);
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) tooLarge(`more than ${maxBytes} bytes received`);
          else chunks.push(chunk);
        });
        stream.on("end", () => {
          const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
          resolve({ status, headers: res.headers, text });
        });
        stream.on("error", reject);
        if (decoder !== undefined) res.on("error", reject);
        // A connection closed mid-body ends neither with 'end' nor always with 'error'.
        res.on("close", () => {
          if (!res.complete)
            reject(
              Object.assign(new Error("the connection closed before the response was complete"), {
                code: "ECONNRESET",
              }),
            );
        });
      },
    );
    req.on("error", reject);
    unsubscribe = onRunAbort(signal, () => req.destroy(aborted()));
    req.end(body);
  });
}
