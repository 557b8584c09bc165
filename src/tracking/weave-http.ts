/**
 * A small HTTP client for the Weave child's two bulk routes (`/call/upsert_batch`,
 * `/feedback/batch/create`): node:http(s) over one keep-alive agent, the body written as the
 * bytes it already is. The SDK's client goes through `fetch` (undici, a web stream per body that
 * copies it, a TextEncoder pass): for megabyte bodies that was a sixth of the child's CPU.
 *
 * It keeps the SDK's rules (weave 0.11.1 `createFetchWithRetry` as `init` configures it): 429 and
 * 5xx answers and network errors are retried after 1, 2, 4, 8, 16 s, then the last answer counts;
 * a non-2xx answer rejects with an object carrying its `status` (as the SDK's client rejects with
 * the Response), a network failure with an Error whose `cause` is the socket error (as `fetch`).
 * Base URL and headers (Authorization, User-Agent) are the SDK's own, read from its client: the
 * key is never read here, only passed on in the header the SDK built.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** Options of {@link TracePoster}. */
export interface TracePosterOptions {
  /** Trace server base URL (the SDK's `traceServerApi.baseUrl`). */
  baseUrl: string;
  /** Headers of every request (the SDK's, with Authorization); Content-Type and Content-Length are added. */
  headers: Record<string, string>;
  /** Told about each retry: the status that caused it, or the network error. */
  onRetry?: (status: number | undefined, error?: unknown) => void;
  /** Waits before each retry. @default [1000, 2000, 4000, 8000, 16000] */
  retryDelaysMs?: readonly number[];
}

/** A non-2xx answer, as the SDK's client reports it (it rejects with the Response). */
export class TraceHttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`HTTP ${status} from the trace server (${path})`);
  }
}

const DEFAULT_DELAYS = [1000, 2000, 4000, 8000, 16000];

/** POSTs JSON bodies to the trace server with the SDK's retry rules. */
export class TracePoster {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly delays: readonly number[];

  constructor(private readonly options: TracePosterOptions) {
    this.url = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
    const https = this.url.protocol === "https:";
    // Two sockets: the call batches and the feedback batches each have one request in flight.
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 4 })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 });
    this.request = https ? httpsRequest : httpRequest;
    this.delays = options.retryDelaysMs ?? DEFAULT_DELAYS;
  }

  /** POSTs `body` (JSON) to `path` (e.g. `call/upsert_batch`); resolves on a 2xx answer. */
  async post(path: string, body: Buffer | string): Promise<void> {
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.delays.length;
      let status: number;
      try {
        status = await this.once(path, bytes);
      } catch (err) {
        if (last) throw new Error("fetch failed", { cause: err });
        this.options.onRetry?.(undefined, err);
        await sleep(this.delays[attempt]!);
        continue;
      }
      if (status >= 200 && status < 300) return;
      if (last || !(status === 429 || status >= 500)) throw new TraceHttpError(status, path);
      this.options.onRetry?.(status);
      await sleep(this.delays[attempt]!);
    }
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  private once(path: string, body: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = this.request(
        new URL(path.replace(/^\//, ""), this.url),
        {
          method: "POST",
          agent: this.agent,
          headers: { ...this.options.headers, "Content-Type": "application/json", "Content-Length": body.length },
        },
        (res: IncomingMessage) => {
          // The answers of these routes are not needed; read them so the socket is reused.
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
