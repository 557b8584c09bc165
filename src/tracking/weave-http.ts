/**
 * The Weave child's client for its two bulk routes (`/call/upsert_batch`,
 * `/feedback/batch/create`): the provider transport's keep-alive node:http(s) POST
 * (providers/json-post.ts), the body written as the bytes it already is. The SDK's client goes
 * through `fetch` (undici, a web stream per body that copies it, a TextEncoder pass): for megabyte
 * bodies that was a sixth of the child's CPU.
 *
 * It keeps the SDK's rules (weave 0.11.1 `createFetchWithRetry` as `init` configures it): 429 and
 * 5xx answers and network errors are retried after 1, 2, 4, 8, 16 s, then the last answer counts;
 * a non-2xx answer rejects with an object carrying its `status` (as the SDK's client rejects with
 * the Response), a network failure with an Error whose `cause` is the socket error (as `fetch`).
 * Base URL and headers (Authorization, User-Agent) are the SDK's own, read from its client: the
 * key is never read here, only passed on in the header the SDK built.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { postJson } from "../providers/json-post.js";
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
/** These requests have no deadline of their own (the parent bounds the whole upload). */
const NO_ABORT = new AbortController().signal;
/** Answers are not needed, only read so the socket is reused; one this long is not read further. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** POSTs JSON bodies to the trace server with the SDK's retry rules. */
export class TracePoster {
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly delays: readonly number[];

  constructor(private readonly options: TracePosterOptions) {
    this.url = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
    this.headers = { ...options.headers, "Content-Type": "application/json" };
    this.delays = options.retryDelaysMs ?? DEFAULT_DELAYS;
  }

  /** POSTs `body` (JSON) to `path` (e.g. `call/upsert_batch`); resolves on a 2xx answer. */
  async post(path: string, body: Buffer | string): Promise<void> {
    const url = new URL(path.replace(/^\//, ""), this.url);
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.delays.length;
      let status: number;
      try {
        ({ status } = await postJson(url, this.headers, body, NO_ABORT, MAX_ANSWER_BYTES));
      } catch (err) {
        if (last) throw new Error("fetch failed", { cause: err });
        this.options.onRetry?.(undefined, err);
        await sleep(this.delays[attempt]);
        continue;
      }
      if (status >= 200 && status < 300) return;
      if (last || !(status === 429 || status >= 500)) throw new TraceHttpError(status, path);
      this.options.onRetry?.(status);
      await sleep(this.delays[attempt]);
    }
  }
}
