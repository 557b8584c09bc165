/**
 * The openai provider against real local servers: the emulator's OpenAI v1 routes (chat and
 * responses, plain and streamed) and scripted servers for headers, error bodies, Responses
 * statuses and cut streams. Errors must come out exactly as the azure-ai-inference provider's.
 */
import type { ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../src/emulator/index.js";
import {
  buildOpenAIRequest,
  createOpenAIProvider,
  isAzureStyleEndpoint,
  responsesFinishReason,
  type OpenAISpec,
} from "../src/providers/openai.js";
import { callWithRetry } from "../src/providers/retry.js";
import { parseResetDuration, parseRetryAfter } from "../src/providers/retry-after.js";
import type { CompletionRequest } from "../src/types.js";
import { startServer, type Handler, type TestServer } from "./helpers/replay-server.js";
import { failure } from "./helpers/failure.js";

const KEY = "test-key-4f1c9a77";
const SUM: CompletionRequest = { messages: [{ role: "user", content: "What is 12 + 30?" }], params: {} };
const RETRY = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10 } as never;

let emulator: EmulatorHandle;
beforeAll(async () => {
  emulator = await startEmulator({
    models: { small: { apiKey: KEY, accuracy: 1, latency: { medianMs: 1, p95Ms: 2 } } },
    quiet: true,
  });
});
afterAll(async () => emulator.close());

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function scripted(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function provider(endpoint: string, extra: Partial<OpenAISpec> = {}) {
  return createOpenAIProvider({ name: "m", model: "small", endpoint, auth: { kind: "key", apiKey: KEY }, ...extra });
}

const signal = () => new AbortController().signal;

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body);
}

describe("openai provider against the emulator", () => {
  for (const api of ["chat", "responses"] as const) {
    for (const stream of [false, true]) {
      it(`answers over ${api}${stream ? " (streamed)" : ""} on /openai/v1 with the deployment in the body`, async () => {
        const p = provider(`${emulator.url}/openai/v1`, { api, stream });
        const r = await p.attempt(SUM, signal());
        expect(r.text).toBe("The answer is 42.");
        expect(r.finishReason).toBe("stop");
        expect(r.usage).toMatchObject({ promptTokens: 4, completionTokens: 5, totalTokens: 9 });
        expect(r.model).toBe("emulated-small");
        expect(r.requestId).toMatch(/[0-9a-f-]{36}/);
        if (stream) expect(r.ttftMs).toBeGreaterThanOrEqual(0);
        else expect(r.ttftMs).toBeUndefined();
      });
    }
  }

  it("reports a Responses answer cut by max_output_tokens as finish reason length", async () => {
    const r = await provider(`${emulator.url}/v1`, { api: "responses" }).attempt(
      { ...SUM, params: { max_tokens: 2 } },
      signal(),
    );
    expect(r.finishReason).toBe("length");
    expect(r.text).toBe("The answ");
  });

  it("is refused by the emulator with a wrong key, as auth", async () => {
    const p = createOpenAIProvider({
      name: "m",
      model: "small",
      endpoint: `${emulator.url}/openai/v1`,
      auth: { kind: "key", apiKey: "wrong-key-123456" },
    });
    const err = await failure(p.attempt(SUM, signal()));
    expect(err.kind).toBe("auth");
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
  });
});

describe("openai provider: wire details", () => {
  const chatBody = JSON.stringify({
    id: "c1",
    model: "gpt",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" } }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  });

  it("sends Azure keys in api-key (no Authorization) and other hosts' keys as Bearer", async () => {
    const server = await scripted((_req, res) => send(res, 200, chatBody));
    await provider(`${server.url}/openai/v1`).attempt(SUM, signal());
    await provider(`${server.url}/v1`).attempt(SUM, signal());
    const [azure, other] = server.requests;
    expect(azure!.path).toBe("/openai/v1/chat/completions");
    expect(azure!.headers["api-key"]).toBe(KEY);
    expect(azure!.headers.authorization).toBeUndefined();
    expect(other!.path).toBe("/v1/chat/completions");
    expect(other!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(other!.headers["api-key"]).toBeUndefined();
    // No api-version on the v1 surface; the deployment goes in the body.
    expect(azure!.query.has("api-version")).toBe(false);
    expect(azure!.json).toMatchObject({ model: "small", messages: SUM.messages });
  });

  it("recognises Azure hosts", () => {
    expect(isAzureStyleEndpoint("https://res.openai.azure.com/openai/v1")).toBe(true);
    expect(isAzureStyleEndpoint("https://res.services.ai.azure.com/openai/v1/")).toBe(true);
    expect(isAzureStyleEndpoint("https://api.openai.com/v1")).toBe(false);
    expect(isAzureStyleEndpoint("https://models.github.ai/inference")).toBe(false);
    expect(isAzureStyleEndpoint("http://localhost:11434/v1")).toBe(false);
  });

  it("makes exactly one request per attempt (the client's retries are off)", async () => {
    const server = await scripted((_req, res) =>
      send(res, 503, JSON.stringify({ error: { code: "overloaded", message: "busy" } })),
    );
    const err = await failure(provider(`${server.url}/v1`).attempt(SUM, signal()));
    expect(err).toMatchObject({ kind: "server", status: 503, code: "overloaded", retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it("normalises error bodies the client would drop, like the azure provider", async () => {
    const bodies: Array<[number, string, string, string]> = [
      [
        401,
        JSON.stringify({ statusCode: 401, message: "Unauthorized. Access token is missing" }),
        "auth",
        "Unauthorized. Access token is missing",
      ],
      [
        400,
        JSON.stringify({ detail: "Extra parameters ['n'] are not allowed" }),
        "bad_request",
        "Extra parameters ['n'] are not allowed",
      ],
      [502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "server", "502 Bad Gateway"],
      [
        400,
        JSON.stringify({
          error: { code: "content_filter", message: "filtered", innererror: { code: "ResponsibleAIPolicyViolation" } },
        }),
        "content_filter",
        "filtered",
      ],
    ];
    for (const [status, body, kind, text] of bodies) {
      const server = await scripted((_req, res) =>
        send(res, status, body, { "content-type": body.startsWith("<") ? "text/html" : "application/json" }),
      );
      const err = await failure(provider(`${server.url}/v1`).attempt(SUM, signal()));
      expect(err.kind).toBe(kind);
      expect(err.status).toBe(status);
      expect(err.message).toContain(text);
      expect(err.message).not.toContain(KEY);
    }
  });

  it("feeds x-ratelimit-reset-* (6m0s) into the Retry-After logic", async () => {
    const server = await scripted((_req, res) =>
      send(res, 429, JSON.stringify({ error: { code: "rate_limit_exceeded", message: "slow down" } }), {
        "x-ratelimit-reset-requests": "6m0s",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-tokens": "1s",
      }),
    );
    const err = await failure(provider(`${server.url}/v1`).attempt(SUM, signal()));
    expect(err).toMatchObject({ kind: "rate_limit", status: 429, retryAfterMs: 360_000 });
    expect(parseResetDuration("1h2m3.5s")).toBe(3_723_500);
    expect(parseResetDuration("250ms")).toBe(250);
    expect(parseRetryAfter({ "retry-after": "2", "x-ratelimit-reset-requests": "6m0s" })).toBe(2000);
    expect(parseRetryAfter({ "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "30s" })).toBe(30_000);
  });

  it("treats a stream cut before its end as a retryable network fault, and retries it", async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: "c1", model: "gpt", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const server = await scripted((_req, res, index) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk({ role: "assistant", content: "" }));
      res.write(chunk({ content: "The answer" }));
      if (index < 2) return void res.destroy(); // cut mid-answer (the first two times)
      res.write(chunk({ content: " is 42." }));
      res.write(chunk({}, "stop"));
      res.write(
        `data: ${JSON.stringify({ id: "c1", model: "gpt", choices: [], usage: { prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 } })}\n\n`,
      );
      res.end("data: [DONE]\n\n");
    });
    const p = provider(`${server.url}/v1`, { stream: true });
    const err = await failure(p.attempt(SUM, signal()));
    expect(err.kind).toBe("network");
    expect(err.retryable).toBe(true);
    const done = await callWithRetry(p, SUM, { retry: RETRY, timeoutMs: 5000, sleep: async () => undefined });
    expect(done.text).toBe("The answer is 42.");
    expect(done.usage).toMatchObject({ completionTokens: 5 });
    expect(done.attempts).toBe(2);
    expect(server.requests[2]!.json).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("reports a refused connection and a connection cut mid-body (not streamed) as retryable network faults", async () => {
    const gone = await startServer(() => undefined);
    await gone.close();
    const refused = await failure(provider(`${gone.url}/v1`).attempt(SUM, signal()));
    expect(refused).toMatchObject({ kind: "network", code: "ECONNREFUSED", retryable: true });

    const cut = await scripted((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"choices":[{"message":{"content":"The ans');
      setTimeout(() => res.destroy(), 10);
    });
    const err = await failure(provider(`${cut.url}/v1`).attempt(SUM, signal()));
    expect(err.kind).toBe("network");
    expect(err.retryable).toBe(true);
  });

  it("stops at an aborted signal (not streamed) as the attempt's abort, not a network fault", async () => {
    const server = await scripted(() => undefined); // never answers
    const controller = new AbortController();
    const pending = provider(`${server.url}/v1`).attempt(SUM, controller.signal);
    setTimeout(() => controller.abort(new Error("shutting down")), 20);
    const err = await failure(pending);
    expect(err.kind).toBe("aborted");
  });

  it("tears the connection down when a signal shared by several calls aborts (not streamed)", async () => {
    let closed = 0;
    const server = await scripted((_req, res) => {
      res.socket?.on("close", () => closed++); // never answers
    });
    const controller = new AbortController();
    const p = provider(`${server.url}/v1`);
    // One signal for three requests in flight, as a deadline group shares one.
    const pending = [0, 1, 2].map(() => failure(p.attempt(SUM, controller.signal)));
    // Abort once the server holds all three requests (a fixed wait is not enough on a busy machine).
    while (server.requests.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error("shutting down"));
    expect((await Promise.all(pending)).map((e) => e.kind)).toEqual(["aborted", "aborted", "aborted"]);
    // The server sees each request's connection go, not left hanging until the process exits.
    await server.allSocketsClosed();
    expect(closed).toBe(3);
  });

  it("cuts a non-streamed answer over maxResponseBytes (declared or chunked) as a non-retried bad_response", async () => {
    const big = JSON.stringify({ choices: [{ message: { content: "x".repeat(5000) } }] });
    const declared = await scripted((_req, res) =>
      send(res, 200, big, { "content-length": String(Buffer.byteLength(big)) }),
    );
    const chunked = await scripted((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }); // no Content-Length
      for (let i = 0; i < 10; i++) res.write(big.slice(i * 600, (i + 1) * 600));
      res.end(big.slice(6000));
      res.on("error", () => undefined);
    });
    for (const [server, seen] of [
      [declared, /Content-Length \d+/],
      [chunked, /more than 1000 bytes received/],
    ] as const) {
      const err = await failure(provider(`${server.url}/v1`, { maxResponseBytes: 1000 }).attempt(SUM, signal()));
      expect(err.kind).toBe("bad_response");
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/larger than maxResponseBytes \(1000 bytes/);
      expect(err.message).toMatch(seen);
    }
  });

  it("decodes a gzip-encoded answer and reads a 2xx body that is not JSON as bad_response", async () => {
    const { gzipSync } = await import("node:zlib");
    const zipped = await scripted((_req, res) => {
      const bytes = gzipSync(chatBody);
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(bytes);
    });
    const ok = await provider(`${zipped.url}/v1`).attempt(SUM, signal());
    expect(ok).toMatchObject({ text: "hi", finishReason: "stop", requestId: "c1" });
    expect(zipped.requests[0]!.headers["content-type"]).toBe("application/json");

    const garbled = await scripted((_req, res) => send(res, 200, "<html>proxy page</html>", { "x-request-id": "r-9" }));
    const err = await failure(provider(`${garbled.url}/v1`).attempt(SUM, signal()));
    expect(err.kind).toBe("bad_response");
    expect(err.requestId).toBe("r-9");
  });

  it("maps Responses status and incomplete_details to finish reasons", async () => {
    expect(responsesFinishReason("completed", null, false)).toBe("stop");
    expect(responsesFinishReason("completed", null, true)).toBe("tool_calls");
    expect(responsesFinishReason("incomplete", { reason: "max_output_tokens" }, false)).toBe("length");
    expect(responsesFinishReason("incomplete", { reason: "content_filter" }, false)).toBe("content_filter");
    const body = (status: string, reason?: string) =>
      JSON.stringify({
        id: "resp_1",
        object: "response",
        model: "gpt",
        status,
        incomplete_details: reason ? { reason } : null,
        output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "part" }] }],
        usage: {
          input_tokens: 7,
          output_tokens: 3,
          total_tokens: 10,
          input_tokens_details: { cached_tokens: 4 },
          output_tokens_details: { reasoning_tokens: 2 },
        },
      });
    const server = await scripted((_req, res, i) =>
      send(res, 200, i === 0 ? body("incomplete", "content_filter") : body("failed")),
    );
    const p = provider(`${server.url}/v1`, { api: "responses" });
    const r = await p.attempt(SUM, signal());
    expect(r.finishReason).toBe("content_filter");
    expect(r.usage).toEqual({
      promptTokens: 7,
      completionTokens: 3,
      totalTokens: 10,
      cachedPromptTokens: 4,
      reasoningTokens: 2,
    });
    const failed = await failure(p.attempt(SUM, signal()));
    expect(failed).toMatchObject({ kind: "server", retryable: true });
    expect(server.requests[0]!.path).toBe("/v1/responses");
  });

  it("builds Responses bodies from chat requests (pure, reusable by batch mode)", () => {
    const request: CompletionRequest = {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather?" },
      ],
      params: {
        max_tokens: 50,
        temperature: 0,
        seed: 3,
        stop: ["\n"],
        response_format: { type: "json_schema", json_schema: { name: "w", schema: { type: "object" } } },
      },
    };
    const built = buildOpenAIRequest({ name: "m", model: "dep", api: "responses" }, request);
    expect(built).toEqual({
      path: "/responses",
      body: {
        model: "dep",
        input: request.messages,
        temperature: 0,
        max_output_tokens: 50,
        text: { format: { type: "json_schema", name: "w", schema: { type: "object" } } },
      },
    });
    expect(buildOpenAIRequest({ name: "m", stream: true }, request)).toEqual({
      path: "/chat/completions",
      body: {
        model: "m",
        messages: request.messages,
        ...request.params,
        stream: true,
        stream_options: { include_usage: true },
      },
    });
  });
});
