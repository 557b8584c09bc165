/**
 * The azure-ai-inference provider against real local servers: recorded Azure traffic replayed
 * byte-for-byte (bodies re-serialised), plus scripted servers for shapes no recording has.
 * Also unit tests for error normalisation and redaction.
 */
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createAzureAiInferenceProvider, type AzureAiInferenceSpec } from "../src/providers/azure-ai-inference.js";
import { deadlineReason, normaliseHttpError, runAbortReason } from "../src/providers/errors.js";
import { createProvider } from "../src/providers/index.js";
import { redactHeaders, redactSecrets } from "../src/providers/redact.js";
import type { CompletionRequest } from "../src/types.js";
import {
  recordedBasePath,
  startReplayServer,
  startServer,
  type Handler,
  type TestServer,
} from "./helpers/replay-server.js";
import { failure } from "./helpers/failure.js";

type ReplayServer = Awaited<ReturnType<typeof startReplayServer>>;

const KEY = "test-key-4f1c9a";
const MILE: CompletionRequest = { messages: [{ role: "user", content: "How many feet are in a mile?" }], params: {} };

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function replay(file: string): Promise<{ server: ReplayServer; endpoint: string }> {
  const server = await startReplayServer(file);
  servers.push(server);
  return { server, endpoint: `${server.url}${recordedBasePath(server.recording)}` };
}

async function scripted(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function provider(endpoint: string, extra: Partial<AzureAiInferenceSpec> = {}) {
  return createAzureAiInferenceProvider({ name: "gpt-4o", endpoint, apiKey: KEY, ...extra });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(body);
}

const ok = () => new AbortController().signal;

const completion = (extra: Record<string, unknown> = {}, choice: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "chatcmpl-1",
    model: "m-1",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" }, ...choice }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    ...extra,
  });

describe("azure-ai-inference provider: recorded traffic", () => {
  it("parses the recorded simple chat completion", async () => {
    const { endpoint } = await replay("recording_simple_chat_test.json");
    const result = await provider(endpoint).attempt(MILE, ok());
    expect(result).toEqual({
      text: "There are 5,280 feet in a mile.",
      finishReason: "stop",
      usage: { promptTokens: 15, completionTokens: 11, totalTokens: 26 },
      model: "gpt-4o-2024-05-13",
      requestId: "3530b7c9-85b9-40a0-b082-eaf024c54eac",
      systemFingerprint: "fp_65792305e4",
    });
  });

  it("reads the September 2024 recording's system fingerprint", async () => {
    const { endpoint } = await replay("chat2_recording_simple_chat_test.json");
    const result = await provider(endpoint).attempt(MILE, ok());
    expect(result.systemFingerprint).toBe("fp_80a1bad4c7");
    expect(result.text).toMatch(/5,280 feet/);
  });

  it("sends the key twice, the default api-version, a bakeoff user agent and the params", async () => {
    const { server, endpoint } = await replay("recording_simple_chat_test.json");
    await provider(endpoint, { model: "gpt-4o", extraParameters: "drop" }).attempt(
      { messages: MILE.messages, params: { temperature: 0.2, max_tokens: 64, seed: 7, stop: ["\n\n"] } },
      ok(),
    );
    const [seen] = server.requests;
    expect(seen?.method).toBe("POST");
    expect(seen?.path).toBe("/openai/deployments/gpt-4o/chat/completions");
    expect(seen?.headers["api-key"]).toBe(KEY);
    expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen?.headers["extra-parameters"]).toBe("drop");
    expect(seen?.headers["user-agent"]).toMatch(/^bakeoff /);
    expect(seen?.query.get("api-version")).toBe("2024-05-01-preview");
    expect(seen?.json).toEqual({
      messages: MILE.messages,
      temperature: 0.2,
      max_tokens: 64,
      seed: 7,
      stop: ["\n\n"],
      model: "gpt-4o",
    });
  });

  it("omits the api-version query parameter for apiVersion '' and sends a configured one", async () => {
    const { server, endpoint } = await replay("recording_simple_chat_test.json");
    await provider(endpoint, { apiVersion: "" }).attempt(MILE, ok());
    await provider(endpoint, { apiVersion: "2024-10-21" }).attempt(MILE, ok());
    expect(server.requests[0]?.query.has("api-version")).toBe(false);
    expect(server.requests[1]?.query.get("api-version")).toBe("2024-10-21");
    // No model or extra-parameters configured: neither is sent.
    expect(server.requests[0]?.json).toEqual({ messages: MILE.messages });
    expect(server.requests[0]?.headers["extra-parameters"]).toBeUndefined();
  });

  it("tolerates a trailing slash on the endpoint", async () => {
    const { server, endpoint } = await replay("recording_simple_chat_test.json");
    await provider(`${endpoint}/`).attempt(MILE, ok());
    expect(server.requests[0]?.path).toBe("/openai/deployments/gpt-4o/chat/completions");
  });

  it.each(["recording_chat_auth_error_test.json", "chat2_recording_chat_auth_error_test.json"])(
    "normalises the gateway's 401 in %s as auth with the service's text",
    async (file) => {
      const { endpoint, server } = await replay(file);
      const err = await failure(provider(endpoint).attempt(MILE, ok()));
      expect(err.kind).toBe("auth");
      expect(err.status).toBe(401);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/^HTTP 401 from the service: Unauthorized\. Access token is missing/);
      expect(err.message).not.toContain(KEY);
      expect(err.requestId).toBe(server.recording.Entries[0]?.ResponseHeaders["apim-request-id"]);
    },
  );

  it("normalises the tracing test's 401 (empty prompt) the same way", async () => {
    const { endpoint } = await replay("recording_tracing_with_errors.json");
    const err = await failure(
      provider(endpoint).attempt({ messages: [{ role: "user", content: "" }], params: {} }, ok()),
    );
    expect(err.kind).toBe("auth");
  });

  it("normalises the January 2025 regression 400 ({error:{message,type,param:null,code:null}})", async () => {
    const { endpoint } = await replay("recording_chat_regression_test.json");
    const err = await failure(provider(endpoint).attempt(MILE, ok()));
    expect(err.kind).toBe("bad_request");
    expect(err.status).toBe(400);
    expect(err.code).toBeUndefined();
    expect(err.message).toBe("HTTP 400 from the service (server_error): 400: There was an error parsing the body");
    expect(err.requestId).toBe("c0fe29a6-8616-4f4c-823b-149e3d8a6c50");
  });

  it("normalises the September 2024 regression 400 (OpenAI validation error with code and param)", async () => {
    const { endpoint } = await replay("chat2_recording_chat_regression_test.json");
    const err = await failure(provider(endpoint).attempt(MILE, ok()));
    expect(err.kind).toBe("bad_request");
    expect(err.code).toBe("invalid_type");
    expect(err.message).toBe(
      "HTTP 400 from the service (invalid_type): Invalid type for 'response_format': expected an object, but got a string instead. (parameter: response_format)",
    );
  });

  it("returns a tool-call completion with null content", async () => {
    const { endpoint } = await replay("recording_function_calling_test.json");
    const result = await provider(endpoint).attempt(MILE, ok());
    expect(result.text).toBeNull();
    expect(result.finishReason).toBe("tool_calls");
    expect(result.usage).toEqual({ promptTokens: 79, completionTokens: 17, totalTokens: 96 });
  });

  it("replays a multi-turn recording in order", async () => {
    const { endpoint } = await replay("recording_multiturn_chat_test.json");
    const p = provider(endpoint);
    const first = await p.attempt(MILE, ok());
    const second = await p.attempt(MILE, ok());
    expect(first.usage?.totalTokens).toBe(41);
    expect(second.usage?.totalTokens).toBe(103);
    expect(second.text).toMatch(/1,760/);
  });
});

describe("replay server", () => {
  it("serves the streaming recording as raw server-sent events with a recomputed length", async () => {
    const { endpoint } = await replay("recording_chat_streaming_test.json");
    const res = await fetch(`${endpoint}/chat/completions?api-version=2024-05-01-preview`, {
      method: "POST",
      body: "{}",
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.startsWith("data: {")).toBe(true);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(Number(res.headers.get("content-length"))).toBe(Buffer.byteLength(text));
  });

  it("answers an unrecorded route with a 404 naming the recording", async () => {
    const { server } = await replay("recording_simple_chat_test.json");
    const res = await fetch(`${server.url}/info`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/recording_simple_chat_test\.json has no GET \/info/);
  });
});

describe("azure-ai-inference provider: response shapes", () => {
  it("keeps unknown finish reasons, null when absent, and falls back to x-ms-request-id and the body id", async () => {
    const bodies = [
      [completion({}, { finish_reason: "end_turn_v9" }), { "x-ms-request-id": "ms-req-1" }],
      [completion({ usage: undefined }, { finish_reason: undefined }), {}],
    ] as const;
    const server = await scripted((_req, res, i) => send(res, 200, bodies[i]![0], bodies[i]![1]));
    const p = provider(server.url);
    const a = await p.attempt(MILE, ok());
    expect(a.finishReason).toBe("end_turn_v9");
    expect(a.requestId).toBe("ms-req-1");
    const b = await p.attempt(MILE, ok());
    expect(b.finishReason).toBeNull();
    expect(b.usage).toBeNull();
    expect(b.requestId).toBe("chatcmpl-1");
    expect(b.systemFingerprint).toBeNull();
  });

  it("treats an output-filtered 200 as a normal result", async () => {
    const server = await scripted((_req, res) =>
      send(res, 200, completion({}, { finish_reason: "content_filter", message: { content: null } })),
    );
    const result = await provider(server.url).attempt(MILE, ok());
    expect(result.finishReason).toBe("content_filter");
    expect(result.text).toBeNull();
  });

  it("parses a chat completion served as text/plain", async () => {
    const server = await scripted((_req, res) => send(res, 200, completion(), { "content-type": "text/plain" }));
    expect((await provider(server.url).attempt(MILE, ok())).text).toBe("hi");
  });

  it.each([
    ["no choices", JSON.stringify({ id: "x", object: "chat.completion" }), "application/json"],
    ["empty choices", JSON.stringify({ choices: [] }), "application/json"],
    ["a JSON string", JSON.stringify("all good"), "application/json"],
    ["an HTML page", "<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"],
    ["broken JSON labelled JSON", '{"choices": [', "application/json"],
    ["non-text content", completion({}, { message: { content: { parts: 1 } } }), "application/json"],
  ])("turns a 200 with %s into bad_response", async (_what, body, type) => {
    const server = await scripted((_req, res) => send(res, 200, body, { "content-type": type }));
    const err = await failure(provider(server.url).attempt(MILE, ok()));
    expect(err.kind).toBe("bad_response");
    expect(err.status).toBe(200);
    expect(err.message).toMatch(/^HTTP 200 from the service, but the body is not a chat completion/);
    expect(err.message).not.toContain("<h1>");
  });

  it("parses GitHub's JSON 404 served as text/plain", async () => {
    const body = JSON.stringify({
      error: { code: "unknown_model", message: "Unknown model: gpt-9", details: "Unknown model: gpt-9" },
    });
    const server = await scripted((_req, res) => send(res, 404, body, { "content-type": "text/plain; charset=utf-8" }));
    const err = await failure(provider(server.url).attempt(MILE, ok()));
    expect(err.kind).toBe("bad_request");
    expect(err.code).toBe("unknown_model");
    expect(err.message).toBe("HTTP 404 from the service (unknown_model): Unknown model: gpt-9");
  });

  it("normalises a 502 HTML page labelled application/json (the SDK's parse error path)", async () => {
    const server = await scripted((_req, res) =>
      send(res, 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
    );
    const err = await failure(provider(server.url).attempt(MILE, ok()));
    expect(err.kind).toBe("server");
    expect(err.status).toBe(502);
    expect(err.message).toBe("HTTP 502 from the service: 502 Bad Gateway nginx");
  });

  it("masks the key when a service echoes it back", async () => {
    const server = await scripted((req, res) =>
      send(
        res,
        401,
        JSON.stringify({
          error: { code: "invalid_api_key", message: `Incorrect API key provided: ${String(req.headers["api-key"])}` },
        }),
      ),
    );
    const err = await failure(provider(server.url).attempt(MILE, ok()));
    expect(err.message).toBe("HTTP 401 from the service (invalid_api_key): Incorrect API key provided: [REDACTED]");
  });
});

describe("azure-ai-inference provider: network and aborts", () => {
  it("reports a refused connection as network", async () => {
    const server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    const err = await failure(provider(url).attempt(MILE, ok()));
    expect(err.kind).toBe("network");
    expect(err.code).toBe("ECONNREFUSED");
    expect(err.retryable).toBe(true);
  });

  it("reports a connection reset before the response as network", async () => {
    const server = await scripted((_req, res) => {
      res.socket?.destroy();
    });
    const err = await failure(provider(server.url).attempt(MILE, ok()));
    expect(err.kind).toBe("network");
  });

  it("reports a connection cut mid-body as network", async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"choices": [', () => res.socket?.destroy());
    });
    const err = await failure(provider(server.url).attempt(MILE, ok()));
    expect(err.kind).toBe("network");
  });

  it("rejects with timeout when the deadline fires mid-body, and releases the socket", async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"choices": [');
      controller.abort(deadlineReason(25)); // headers are in: now the body stalls
    });
    const controller = new AbortController();
    const err = await failure(provider(server.url).attempt(MILE, controller.signal));
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe("Timed out: no complete response within 25 ms");
    await server.allSocketsClosed();
  });

  it("rejects with timeout when the deadline fires before headers", async () => {
    const controller = new AbortController();
    const server = await scripted(() => controller.abort(deadlineReason(10)));
    const err = await failure(provider(server.url).attempt(MILE, controller.signal));
    expect(err.kind).toBe("timeout");
    await server.allSocketsClosed();
  });

  it("rejects with aborted when the run aborts mid-body", async () => {
    const controller = new AbortController();
    const server = await scripted((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
      controller.abort(runAbortReason());
    });
    const err = await failure(provider(server.url).attempt(MILE, controller.signal));
    expect(err.kind).toBe("aborted");
    await server.allSocketsClosed();
  });

  it("makes exactly one request per attempt: the SDK's own retry is gone (bakeoff's retry layer owns it)", async () => {
    // A 429 with a wait the SDK's throttling policy would honour, a 503 it would back off on,
    // and a reset it would retry as a socket error: each is one request, reported as it is.
    const cases: Array<[Handler, string]> = [
      [
        (_req, res) => send(res, 429, '{"error":{"code":"429","message":"slow down"}}', { "retry-after-ms": "1" }),
        "rate_limit",
      ],
      [(_req, res) => send(res, 503, '{"error":{"code":"503","message":"busy"}}', { "Retry-After": "0" }), "server"],
      [(_req, res) => void res.socket?.destroy(), "network"],
    ];
    for (const [handler, kind] of cases) {
      const server = await scripted(handler);
      const err = await failure(provider(server.url).attempt(MILE, ok()));
      expect(err.kind).toBe(kind);
      expect(err.retryable).toBe(true);
      expect(server.requests).toHaveLength(1);
    }
  });

  it("does not send anything when the signal has already fired", async () => {
    const server = await scripted((_req, res) => send(res, 200, completion()));
    const err = await failure(provider(server.url).attempt(MILE, AbortSignal.abort()));
    expect(err.kind).toBe("aborted");
    expect(server.requests).toHaveLength(0);
  });
});

describe("azure-ai-inference provider: info()", () => {
  it("maps GET /info to ModelInfo", async () => {
    const server = await scripted((_req, res) =>
      send(
        res,
        200,
        JSON.stringify({
          model_name: "Phi-3.5-mini-instruct",
          model_type: "chat-completion",
          model_provider_name: "Microsoft",
        }),
      ),
    );
    expect(await provider(server.url).info(ok())).toEqual({
      modelName: "Phi-3.5-mini-instruct",
      modelType: "chat-completion",
      providerName: "Microsoft",
    });
    expect(server.requests[0]?.method).toBe("GET");
    expect(server.requests[0]?.path).toBe("/info");
  });

  it.each([404, 405])("returns null on %i (endpoints without the route)", async (status) => {
    const server = await scripted((_req, res) =>
      send(res, status, JSON.stringify({ error: { code: "NotFound", message: "Resource not found" } })),
    );
    expect(await provider(server.url).info(ok())).toBeNull();
  });

  it("throws other errors normalised", async () => {
    const server = await scripted((_req, res) =>
      send(res, 401, JSON.stringify({ statusCode: 401, message: "Unauthorized." })),
    );
    const err = await failure(provider(server.url).info(ok()));
    expect(err.kind).toBe("auth");
  });
});

describe("createProvider", () => {
  it("builds the azure-ai-inference provider from a model spec", async () => {
    const { endpoint } = await replay("recording_simple_chat_test.json");
    const p = createProvider({ name: "prod", provider: "azure-ai-inference", endpoint }, KEY);
    expect(p.modelName).toBe("prod");
    expect((await p.attempt(MILE, ok())).finishReason).toBe("stop");
  });
});

describe("normaliseHttpError", () => {
  it("reads the cognitive-services {error:{code,message}} 401", () => {
    const err = normaliseHttpError(
      401,
      { error: { code: "401", message: "Access denied due to invalid subscription key." } },
      {},
    );
    expect(err.kind).toBe("auth");
    expect(err.code).toBe("401");
    expect(err.message).toBe("HTTP 401 from the service: Access denied due to invalid subscription key.");
  });

  it("treats 403 as auth", () => {
    expect(normaliseHttpError(403, { error: { code: "PermissionDenied", message: "No access." } }, {}).kind).toBe(
      "auth",
    );
  });

  it("reads a serverless 422 with details", () => {
    const err = normaliseHttpError(
      422,
      {
        error: {
          code: "Invalid input",
          status: 422,
          message: "invalid input error",
          details: [{ type: "missing", loc: ["body", "messages"], msg: "Field required" }],
        },
      },
      {},
    );
    expect(err.kind).toBe("bad_request");
    expect(err.code).toBe("Invalid input");
    expect(err.message).toBe(
      "HTTP 422 from the service (Invalid input): invalid input error Details: body.messages: Field required",
    );
  });

  it("reads a 422 with details and no message", () => {
    const err = normaliseHttpError(
      422,
      {
        error: { code: "Invalid input", status: 422, details: [{ loc: ["body", "temperature"], msg: "must be <= 2" }] },
      },
      {},
    );
    expect(err.message).toBe("HTTP 422 from the service (Invalid input) Details: body.temperature: must be <= 2");
  });

  it("reads the extra-parameters {detail} 400", () => {
    const err = normaliseHttpError(
      400,
      { detail: "Extra parameters ['n'] are not allowed when extra-parameters is not set or set to be 'error'." },
      {},
    );
    expect(err.kind).toBe("bad_request");
    expect(err.message).toMatch(/^HTTP 400 from the service: Extra parameters \['n'\] are not allowed/);
  });

  it("reads the multi-model no_model_name 400", () => {
    const err = normaliseHttpError(
      400,
      { error: { code: "no_model_name", message: "No model specified in request." } },
      {},
    );
    expect(err.code).toBe("no_model_name");
  });

  it("reads a JSON string served as text", () => {
    const err = normaliseHttpError(404, '{"error":{"code":"unknown_model","message":"Unknown model: x"}}', {});
    expect(err.code).toBe("unknown_model");
    expect(err.message).toBe("HTTP 404 from the service (unknown_model): Unknown model: x");
  });

  it("strips HTML and shortens long text bodies", () => {
    const html = `<!DOCTYPE html><html><head><style>h1{color:red}</style><script>var x = 1;</script><title>Bad Gateway</title></head><body><h1>502 &amp; more</h1><p>${"x".repeat(2000)}</p></body></html>`;
    const err = normaliseHttpError(502, html, {});
    expect(err.kind).toBe("server");
    expect(err.message).toMatch(/^HTTP 502 from the service: Bad Gateway 502 & more x+…$/);
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).not.toMatch(/[<>]|color:red|var x/);
  });

  it("reads a plain-text body", () => {
    expect(normaliseHttpError(503, "  upstream connect error or disconnect/reset before headers\n", {}).message).toBe(
      "HTTP 503 from the service: upstream connect error or disconnect/reset before headers",
    );
  });

  it("says so when the body is empty", () => {
    const err = normaliseHttpError(503, undefined, {});
    expect(err.kind).toBe("server");
    expect(err.message).toBe("HTTP 503 from the service: Service Unavailable (no message in the response body)");
  });

  it("recognises a prompt blocked by the content filter", () => {
    const body = {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
        innererror: {
          code: "ResponsibleAIPolicyViolation",
          content_filter_result: {
            hate: { filtered: false, severity: "safe" },
            jailbreak: { filtered: true, detected: true },
            violence: { filtered: true, severity: "medium" },
          },
        },
      },
    };
    const err = normaliseHttpError(400, body, { "apim-request-id": "r-1" });
    expect(err.kind).toBe("content_filter");
    expect(err.retryable).toBe(false);
    expect(err.code).toBe("content_filter");
    expect(err.requestId).toBe("r-1");
    expect(err.message).toMatch(/^HTTP 400 from the service \(content_filter\): The response was filtered/);
    expect(err.message).toMatch(/Filtered categories: jailbreak, violence \(medium\)\.$/);
  });

  it("maps 429 to rate_limit with the wait from the headers", () => {
    const err = normaliseHttpError(
      429,
      { error: { code: "RateLimitReached", message: "Rate limit is exceeded." } },
      { "Retry-After": "7" },
    );
    expect(err.kind).toBe("rate_limit");
    expect(err.retryAfterMs).toBe(7000);
    expect(err.retryable).toBe(true);
  });

  it("maps 408 and 5xx to server, other 4xx to bad_request, a non-200 2xx to bad_response", () => {
    expect(normaliseHttpError(408, "", {}).kind).toBe("server");
    expect(normaliseHttpError(500, { error: { message: "boom" } }, {}).kind).toBe("server");
    expect(normaliseHttpError(413, "too large", {}).kind).toBe("bad_request");
    expect(normaliseHttpError(204, undefined, {}).kind).toBe("bad_response");
  });

  it("falls back to the x-ms-error-code header and never quotes request headers", () => {
    const err = normaliseHttpError(400, { message: "Bad thing" }, { "x-ms-error-code": "BadThing" }, ["s3cret"]);
    expect(err.code).toBe("BadThing");
    expect(err.message).toBe("HTTP 400 from the service (BadThing): Bad thing");
  });
});

describe("redaction", () => {
  it("replaces every non-empty secret", () => {
    expect(redactSecrets("key abc and abcdef and abc", ["abc", "", "abcdef"])).toBe(
      "key [REDACTED] and [REDACTED] and [REDACTED]",
    );
  });

  it("masks credential headers in any case and keeps the rest", () => {
    expect(
      redactHeaders({
        "API-Key": "k",
        Authorization: "Bearer k",
        "ocp-apim-subscription-key": "k",
        "content-type": "application/json",
      }),
    ).toEqual({
      "API-Key": "[REDACTED]",
      Authorization: "[REDACTED]",
      "ocp-apim-subscription-key": "[REDACTED]",
      "content-type": "application/json",
    });
  });
});
