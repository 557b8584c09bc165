/**
 * The retry layer against real local servers and the real azure-ai-inference provider. Waits
 * come from config (tiny delays) or an injected sleep that records the wait without sleeping;
 * no test asserts how long anything took.
 */
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { RetrySpec } from "../src/config/schema.js";
import { ModelCallError } from "../src/errors.js";
import { createAzureAiInferenceProvider } from "../src/providers/azure-ai-inference.js";
import { abortedAttemptError } from "../src/providers/errors.js";
import { parseRetryAfter } from "../src/providers/retry-after.js";
import {
  backoffDelayMs,
  callWithRetry,
  retryDelayMs,
  type AttemptReport,
  type RetryOptions,
} from "../src/providers/retry.js";
import type { Provider } from "../src/providers/types.js";
import type { CompletionRequest } from "../src/types.js";
import { startServer, type Handler, type TestServer } from "./helpers/replay-server.js";

const REQUEST: CompletionRequest = { messages: [{ role: "user", content: "ping" }], params: {} };
const RETRY: RetrySpec = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 50 };
const OK_BODY = JSON.stringify({
  id: "c1",
  model: "m",
  choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "pong" } }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A server that answers request i with `steps[i]` (the last step repeats). */
async function serve(...steps: Array<(res: ServerResponse) => void>): Promise<TestServer> {
  const handler: Handler = (_req, res, i) => steps[Math.min(i, steps.length - 1)]!(res);
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

const reply =
  (
    status: number,
    body = status === 200 ? OK_BODY : JSON.stringify({ error: { code: String(status), message: "nope" } }),
    headers: Record<string, string> = {},
  ) =>
  (res: ServerResponse) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  };
const stallBeforeHeaders = () => () => undefined;
const stallMidBody = () => (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.write('{"choices": [');
};
const resetConnection = () => (res: ServerResponse) => {
  res.socket?.destroy();
};

function providerFor(server: TestServer): Provider {
  return createAzureAiInferenceProvider({ name: "m", endpoint: server.url, apiKey: "retry-test-key", apiVersion: "" });
}

/** Runs callWithRetry with a recording sleep (no real waiting) unless a sleep is given. */
async function run(server: TestServer, opts: Partial<RetryOptions> = {}) {
  const waits: number[] = [];
  const reports: AttemptReport[] = [];
  const completion = await callWithRetry(providerFor(server), REQUEST, {
    retry: RETRY,
    timeoutMs: 5_000,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    onAttempt: (r) => reports.push(r),
    ...opts,
  });
  return { completion, waits, reports };
}

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-13T22:14:00Z");

  it("reads Retry-After seconds, including decimals", () => {
    expect(parseRetryAfter({ "Retry-After": "5" })).toBe(5000);
    expect(parseRetryAfter({ "retry-after": "0.25" })).toBe(250);
    expect(parseRetryAfter({ "RETRY-AFTER": " 0 " })).toBe(0);
  });

  it("reads Retry-After as an HTTP date, relative to now", () => {
    expect(parseRetryAfter({ "retry-after": "Mon, 13 Jan 2025 22:14:30 GMT" }, now)).toBe(30_000);
    expect(parseRetryAfter({ "retry-after": "Mon, 13 Jan 2025 22:13:00 GMT" }, now)).toBe(0);
  });

  it("prefers the millisecond headers", () => {
    expect(parseRetryAfter({ "retry-after-ms": "1500", "Retry-After": "2" })).toBe(1500);
    expect(parseRetryAfter({ "X-MS-Retry-After-MS": "20" })).toBe(20);
    expect(parseRetryAfter({ "retry-after-ms": "junk", "retry-after": "3" })).toBe(3000);
  });

  it("returns undefined for nothing, negatives and garbage", () => {
    expect(parseRetryAfter({})).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "-5" })).toBeUndefined();
    expect(parseRetryAfter({ "retry-after-ms": "-1" })).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "soon" })).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "" })).toBeUndefined();
    expect(parseRetryAfter({ "retry-after": "1e3" })).toBeUndefined();
    expect(parseRetryAfter({ "x-ratelimit-reset-requests": "soon" })).toBeUndefined();
  });

  it("falls back to x-ratelimit-reset-* durations (OpenAI, Azure OpenAI) when no Retry-After is sent", () => {
    expect(parseRetryAfter({ "x-ratelimit-reset-requests": "1s" })).toBe(1000);
    expect(parseRetryAfter({ "x-ratelimit-reset-tokens": "6m0s" })).toBe(360_000);
    expect(parseRetryAfter({ "retry-after-ms": "50", "x-ratelimit-reset-tokens": "6m0s" })).toBe(50);
  });
});

describe("backoff", () => {
  const spec: RetrySpec = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 60_000 };

  it("draws full jitter under an exponential ceiling capped at maxDelayMs", () => {
    expect(backoffDelayMs(0, spec, () => 0.5)).toBe(50);
    expect(backoffDelayMs(2, spec, () => 0.5)).toBe(200);
    expect(backoffDelayMs(10, spec, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, spec, () => 0)).toBe(0);
  });

  it("uses the server's wait when given, capped at maxRetryAfterMs", () => {
    const rl = (ms: number) => new ModelCallError("rate_limit", "x", { status: 429, retryAfterMs: ms });
    expect(retryDelayMs(rl(1500), 0, spec)).toBe(1500);
    expect(retryDelayMs(rl(86_400_000), 0, spec)).toBe(60_000);
    expect(retryDelayMs(new ModelCallError("server", "x"), 1, spec, () => 0.5)).toBe(100);
  });
});

describe("callWithRetry: rate limits", () => {
  it.each([
    ["Retry-After seconds", { "Retry-After": "0.02" }, 20],
    ["retry-after-ms", { "retry-after-ms": "15" }, 15],
    ["x-ms-retry-after-ms", { "x-ms-retry-after-ms": "25" }, 25],
  ])("waits what %s says, then succeeds", async (_name, headers, expected) => {
    const server = await serve(reply(429, undefined, headers), reply(200));
    const { completion, waits } = await run(server);
    expect(completion.text).toBe("pong");
    expect(completion.error).toBeUndefined();
    expect(completion.attempts).toBe(2);
    expect(completion.attemptLog).toEqual([
      { outcome: "rate_limit", status: 429, waitMs: expected },
      { outcome: "ok", status: 200 },
    ]);
    expect(waits).toEqual([expected]);
  });

  it("waits until a Retry-After HTTP date (capped)", async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const server = await serve(reply(429, undefined, { "Retry-After": at }), reply(200));
    const { completion } = await run(server);
    expect(completion.attempts).toBe(2);
    expect(completion.attemptLog?.[0]?.waitMs).toBe(RETRY.maxRetryAfterMs);
  });

  it("backs off with jitter when a 429 names no wait", async () => {
    const server = await serve(reply(429), reply(429), reply(200));
    const { completion, waits } = await run(server, { retry: { ...RETRY, baseDelayMs: 10, maxDelayMs: 1000 } });
    expect(completion.attempts).toBe(3);
    expect(waits).toEqual([5, 10]); // 0.5·10·2^0, 0.5·10·2^1
  });

  it("caps a Retry-After of a day at maxRetryAfterMs and really sleeps that long", async () => {
    const server = await serve(reply(429, undefined, { "Retry-After": "86400" }), reply(200));
    const { completion } = await run(server, { sleep: undefined });
    expect(completion.text).toBe("pong");
    expect(completion.attemptLog?.[0]).toEqual({ outcome: "rate_limit", status: 429, waitMs: 50 });
  });
});

describe("callWithRetry: server errors and transport failures", () => {
  it("retries a 503 and returns the 200", async () => {
    const server = await serve(reply(503), reply(200));
    const { completion, reports } = await run(server);
    expect(completion).toMatchObject({ text: "pong", finishReason: "stop", attempts: 2, model: "m", requestId: "c1" });
    expect(completion.usage).toEqual({ promptTokens: 1, completionTokens: 1, totalTokens: 2 });
    expect(completion.latencyMs).toBeGreaterThanOrEqual(0);
    expect(reports.map((r) => r.outcome)).toEqual(["server", "ok"]);
    expect(reports[0]?.error?.kind).toBe("server");
  });

  it("stops at maxAttempts on a persistent 500", async () => {
    const server = await serve(reply(500));
    const { completion, waits } = await run(server, { sleep: undefined });
    expect(completion.attempts).toBe(RETRY.maxAttempts);
    expect(server.requests).toHaveLength(RETRY.maxAttempts);
    expect(completion.text).toBeNull();
    expect(completion.finishReason).toBe("error");
    expect(completion.error).toEqual({
      kind: "server",
      status: 500,
      code: "500",
      message: "HTTP 500 from the service: nope",
    });
    expect(completion.attemptLog?.map((a) => a.outcome)).toEqual(["server", "server", "server"]);
    expect(completion.attemptLog?.at(-1)?.waitMs).toBeUndefined();
    expect(waits).toEqual([]);
  });

  it("times out a response that stalls before headers, and retries", async () => {
    const server = await serve(stallBeforeHeaders(), reply(200));
    // Long enough that the answering attempt never hits it on a busy machine.
    const { completion } = await run(server, { timeoutMs: 1000 });
    expect(completion.text).toBe("pong");
    expect(completion.attemptLog?.map((a) => a.outcome)).toEqual(["timeout", "ok"]);
  });

  it("times out a body that stalls after the headers, and retries", async () => {
    const server = await serve(stallMidBody(), reply(200));
    const { completion, reports } = await run(server, { timeoutMs: 1000 });
    expect(completion.text).toBe("pong");
    expect(completion.attemptLog?.map((a) => a.outcome)).toEqual(["timeout", "ok"]);
    expect(reports[0]?.error?.message).toBe("Timed out: no complete response within 1000 ms");
  });

  it("reports the timeout when every attempt stalls", async () => {
    const server = await serve(stallMidBody());
    const { completion } = await run(server, { timeoutMs: 50, retry: { ...RETRY, maxAttempts: 2 } });
    expect(completion.error?.kind).toBe("timeout");
    expect(completion.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it("retries a reset connection as a network error", async () => {
    const server = await serve(resetConnection(), reply(200));
    const { completion } = await run(server);
    expect(completion.text).toBe("pong");
    expect(completion.attemptLog).toEqual([
      { outcome: "network", waitMs: 0 },
      { outcome: "ok", status: 200 },
    ]);
  });

  it("holds the deadline even for a provider that ignores its signal", async () => {
    const deaf: Provider = { modelName: "deaf", attempt: () => new Promise(() => undefined), info: async () => null };
    const completion = await callWithRetry(deaf, REQUEST, { retry: { ...RETRY, maxAttempts: 1 }, timeoutMs: 20 });
    expect(completion.error?.kind).toBe("timeout");
  });

  it("rethrows errors that are not model errors (bugs)", async () => {
    const broken: Provider = {
      modelName: "b",
      attempt: async () => Promise.reject(new TypeError("bug")),
      info: async () => null,
    };
    await expect(callWithRetry(broken, REQUEST, { retry: RETRY, timeoutMs: 1000 })).rejects.toThrow(TypeError);
  });
});

describe("callWithRetry: errors that retrying cannot fix", () => {
  it("does not retry a 400", async () => {
    const body = JSON.stringify({
      error: {
        message: "Invalid value for 'temperature'",
        type: "invalid_request_error",
        param: "temperature",
        code: "invalid_value",
      },
    });
    const server = await serve(reply(400, body));
    const { completion } = await run(server);
    expect(server.requests).toHaveLength(1);
    expect(completion.attempts).toBe(1);
    expect(completion.error).toMatchObject({ kind: "bad_request", status: 400, code: "invalid_value" });
    expect(completion.attemptLog).toEqual([{ outcome: "bad_request", status: 400 }]);
  });

  it("does not retry a 401", async () => {
    const server = await serve(reply(401, JSON.stringify({ statusCode: 401, message: "Unauthorized." })));
    const { completion } = await run(server);
    expect(server.requests).toHaveLength(1);
    expect(completion.error?.kind).toBe("auth");
    expect(completion.error?.message).not.toContain("retry-test-key");
  });

  it("records a blocked prompt as a content_filter outcome, not retried", async () => {
    const body = JSON.stringify({
      error: {
        code: "content_filter",
        message: "The response was filtered",
        innererror: { code: "ResponsibleAIPolicyViolation", content_filter_result: {} },
      },
    });
    const server = await serve(reply(400, body, { "apim-request-id": "req-9" }));
    const { completion } = await run(server);
    expect(server.requests).toHaveLength(1);
    expect(completion).toMatchObject({ text: null, finishReason: "content_filter", requestId: "req-9", attempts: 1 });
    expect(completion.error?.kind).toBe("content_filter");
  });

  it("returns an output-filtered 200 as a normal result", async () => {
    const body = JSON.stringify({
      choices: [{ finish_reason: "content_filter", message: { role: "assistant", content: null } }],
    });
    const server = await serve(reply(200, body));
    const { completion } = await run(server);
    expect(completion.error).toBeUndefined();
    expect(completion.finishReason).toBe("content_filter");
  });
});

describe("callWithRetry: run shutdown", () => {
  it("ends a backoff wait promptly with kind aborted", { timeout: 10_000 }, async () => {
    // The server asks for 30 s; only an abortable sleep lets this finish inside the test timeout.
    const server = await serve(reply(503, undefined, { "Retry-After": "30" }));
    const controller = new AbortController();
    const completion = await callWithRetry(providerFor(server), REQUEST, {
      retry: { ...RETRY, maxRetryAfterMs: 60_000 },
      timeoutMs: 5_000,
      signal: controller.signal,
      onAttempt: () => setImmediate(() => controller.abort()),
    });
    expect(completion.error?.kind).toBe("aborted");
    expect(completion.error?.message).toMatch(
      /^Aborted: the run was stopped while waiting 30000 ms to retry after: HTTP 503/,
    );
    expect(completion.attempts).toBe(1);
    expect(completion.attemptLog).toEqual([{ outcome: "server", status: 503, waitMs: 30_000 }]);
    expect(server.requests).toHaveLength(1);
  });

  it("aborts an attempt in flight as aborted (not timeout) and does not retry", async () => {
    const controller = new AbortController();
    const server = await serve(() => controller.abort());
    const { completion } = await run(server, { signal: controller.signal });
    expect(completion.error?.kind).toBe("aborted");
    expect(completion.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
    await server.allSocketsClosed();
  });

  it("shares one listener on the run signal across many calls in flight", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const server = await serve(reply(503), reply(200));
      const controller = new AbortController();
      const calls = Array.from({ length: 30 }, () => run(server, { signal: controller.signal, sleep: undefined }));
      const results = await Promise.all(calls);
      expect(results.every((r) => r.completion.error === undefined)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });

  it("makes no attempt when the run is already aborted", async () => {
    const server = await serve(reply(200));
    const { completion } = await run(server, { signal: AbortSignal.abort() });
    expect(completion.error?.kind).toBe("aborted");
    expect(completion.attempts).toBe(0);
    expect(server.requests).toHaveLength(0);
  });
});

describe("callWithRetry: attempts that start together share a deadline signal", () => {
  const pending = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

  it("times out every one of many concurrent attempts that outlive their deadline, with no warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    const signals = new Set<AbortSignal>();
    try {
      // A provider that answers only by failing once its signal aborts, like node:http does.
      const listening: Provider = {
        modelName: "slow",
        attempt: (_r, signal) =>
          new Promise((_, reject) => {
            signals.add(signal);
            // As the real providers do: a request torn down by our signal is classified by it.
            signal.addEventListener("abort", () => reject(abortedAttemptError(signal)), { once: true });
          }),
        info: async () => null,
      };
      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          callWithRetry(listening, REQUEST, { retry: { ...RETRY, maxAttempts: 1 }, timeoutMs: 30 }),
        ),
      );
      expect(results.map((r) => r.error?.kind)).toEqual(Array(100).fill("timeout"));
      // Shared (fewer signals than attempts), yet bounded: no signal serves more than 32 attempts.
      expect(signals.size).toBeLessThan(100);
      expect(signals.size).toBeGreaterThanOrEqual(Math.ceil(100 / 32));
      for (const s of signals) expect(s.aborted).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });

  it("does not cut short an attempt sharing a signal with one that timed out, and leaves no timer", async () => {
    const before = pending();
    const server = await serve(reply(200));
    const azure = providerFor(server);
    let calls = 0;
    // The first attempt hangs past its deadline; the second answers, through a real request.
    const mixed: Provider = {
      modelName: "mixed",
      attempt: (r, signal, ctx) => (calls++ === 0 ? new Promise(() => undefined) : azure.attempt(r, signal, ctx)),
      info: async () => null,
    };
    const opts = { retry: { ...RETRY, maxAttempts: 1 }, timeoutMs: 1_000 };
    const [hung, answered] = await Promise.all([
      callWithRetry(mixed, REQUEST, opts),
      callWithRetry(mixed, REQUEST, opts),
    ]);
    expect(answered?.text).toBe("pong");
    expect(hung?.error?.kind).toBe("timeout");
    // The shared timer went with the last attempt: nothing keeps an idle process alive.
    expect(pending()).toBeLessThanOrEqual(before);
  });

  it("treats a provider that throws synchronously like one that rejects, and leaves no timer", async () => {
    const before = pending();
    let calls = 0;
    // Not async: the error is thrown before any promise exists.
    const sync: Provider = {
      modelName: "sync",
      attempt: () => {
        calls++;
        throw new ModelCallError("server", "HTTP 503 (thrown synchronously)", { status: 503 });
      },
      info: async () => null,
    };
    const completion = await callWithRetry(sync, REQUEST, { retry: RETRY, timeoutMs: 60_000, sleep: async () => {} });
    expect(calls).toBe(3);
    expect(completion.error).toMatchObject({ kind: "server", status: 503 });
    expect(completion.attemptLog?.map((a) => a.outcome)).toEqual(["server", "server", "server"]);
    const bug: Provider = {
      modelName: "bug",
      attempt: () => {
        throw new TypeError("bug");
      },
      info: async () => null,
    };
    await expect(callWithRetry(bug, REQUEST, { retry: RETRY, timeoutMs: 60_000 })).rejects.toThrow(TypeError);
    expect(pending()).toBeLessThanOrEqual(before);
  });

  it("clears the deadline timer once every attempt answered", async () => {
    const before = pending();
    const server = await serve(reply(200));
    const p = providerFor(server);
    const results = await Promise.all(
      Array.from({ length: 40 }, () => callWithRetry(p, REQUEST, { retry: RETRY, timeoutMs: 60_000 })),
    );
    expect(results.every((r) => r.text === "pong")).toBe(true);
    expect(pending()).toBeLessThanOrEqual(before);
  });

  it("aborts every attempt of a shared signal when the run stops", async () => {
    const controller = new AbortController();
    const deaf: Provider = { modelName: "deaf", attempt: () => new Promise(() => undefined), info: async () => null };
    const calls = Array.from({ length: 50 }, () =>
      callWithRetry(deaf, REQUEST, { retry: RETRY, timeoutMs: 60_000, signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 10);
    const results = await Promise.all(calls);
    expect(results.map((r) => r.error?.kind)).toEqual(Array(50).fill("aborted"));
  });
});
