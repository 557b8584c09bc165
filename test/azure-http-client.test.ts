/**
 * The azure-ai-inference provider's own HTTP client (src/providers/azure-http-client.ts) under
 * the SDK's pipeline, against real servers on 127.0.0.1: what the SDK's default client did and
 * the provider relies on (compressed answers, aborts that reach the socket, a proxy set by the
 * SDK's proxy policy, the body cap, resets, keep-alive), plus the HttpClient contract itself.
 */
import { createPipelineRequest, createHttpHeaders } from "@azure/core-rest-pipeline";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { createAzureHttpClient } from "../src/providers/azure-http-client.js";
import { createAzureAiInferenceProvider, type AzureAiInferenceSpec } from "../src/providers/azure-ai-inference.js";
import type { CompletionRequest } from "../src/types.js";
import { failure } from "./helpers/failure.js";

const HI: CompletionRequest = { messages: [{ role: "user", content: "hi" }], params: {} };

const completion = (content = "hello") =>
  JSON.stringify({
    id: "chatcmpl-1",
    model: "m-1",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  });

interface Server {
  url: string;
  /** Sockets accepted so far. */
  connections: number;
  /** Requests seen: method, the request line's target, headers. */
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  /** Resolves when the server side of `n`-th accepted socket (from 0) has closed. */
  socketClosed(n: number): Promise<void>;
  close(): Promise<void>;
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** A node:http server on an ephemeral loopback port; the request body is read before `handler` runs. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  const seen: Server["seen"] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => handler(req, res));
  });
  server.on("connection", (socket: Socket) => {
    sockets.push(socket);
    closed.push(new Promise<void>((resolve) => socket.once("close", () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const s: Server = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return sockets.length;
    },
    seen,
    socketClosed: (n) => closed[n] ?? Promise.reject(new Error(`no socket ${n}`)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function provider(endpoint: string, extra: Partial<AzureAiInferenceSpec> = {}) {
  return createAzureAiInferenceProvider({ name: "m", endpoint, apiKey: "k", apiVersion: "", ...extra });
}

const ok = () => new AbortController().signal;

describe("azure-ai-inference provider over its own HTTP client", () => {
  it.each([
    ["gzip", gzipSync],
    ["deflate", deflateSync],
    ["br", brotliCompressSync],
  ] as const)("decodes a %s-compressed answer", async (encoding, compress) => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding });
      res.end(compress(Buffer.from(completion(`packed with ${encoding}`))));
    });
    const result = await provider(server.url).attempt(HI, ok());
    expect(result.text).toBe(`packed with ${encoding}`);
    // The SDK's decompressResponsePolicy still asks for compression.
    expect(server.seen[0]!.headers["accept-encoding"]).toBe("gzip,deflate");
  });

  it("caps the decoded size of a compressed answer, not only the bytes on the wire", async () => {
    // 200 kB of text compresses to a few hundred bytes: only the decoded size can trip the cap.
    const big = gzipSync(Buffer.from(completion("x".repeat(200_000))));
    expect(big.length).toBeLessThan(4096);
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(big);
    });
    const err = await failure(provider(server.url, { maxResponseBytes: 4096 }).attempt(HI, ok()));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toMatch(/larger than maxResponseBytes \(4096 bytes/);
  });

  it("refuses an oversized chunked answer once the cap is passed", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }); // no content-length: chunked
      res.write(completion("y".repeat(10_000)));
      res.end();
    });
    const err = await failure(provider(server.url, { maxResponseBytes: 1000 }).attempt(HI, ok()));
    expect(err.kind).toBe("bad_response");
    expect(err.message).toMatch(/more than 1000 bytes received/);
  });

  it("an abort in the middle of the body closes the socket at the server", async () => {
    const controller = new AbortController();
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // Half an answer, then silence: only the client's abort can end this exchange.
      res.write('{"choices": [', () => controller.abort());
    });
    const err = await failure(provider(server.url).attempt(HI, controller.signal));
    expect(err.kind).toBe("aborted");
    await server.socketClosed(0);
  });

  it("an abort in the middle of a compressed body closes the socket at the server too", async () => {
    const controller = new AbortController();
    const half = gzipSync(Buffer.from(completion("z".repeat(5000)))).subarray(0, 40);
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.write(half, () => controller.abort());
    });
    const err = await failure(provider(server.url).attempt(HI, controller.signal));
    expect(err.kind).toBe("aborted");
    await server.socketClosed(0);
  });

  it("a connection reset in the middle of a compressed body is a network error", async () => {
    const half = gzipSync(Buffer.from(completion("z".repeat(5000)))).subarray(0, 40);
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.write(half, () => res.socket?.destroy());
    });
    const err = await failure(provider(server.url).attempt(HI, ok()));
    expect(err.kind).toBe("network");
  });

  it("reuses one kept-alive connection for sequential calls (completions and /info)", async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.url?.startsWith("/info") ? JSON.stringify({ model_name: "m-1" }) : completion());
    });
    const p = provider(server.url);
    for (let i = 0; i < 3; i++) expect((await p.attempt(HI, ok())).text).toBe("hello");
    expect(await p.info(ok())).toEqual({ modelName: "m-1" });
    expect(server.seen).toHaveLength(4);
    expect(server.connections).toBe(1);
  });

  it("goes through HTTP_PROXY (the SDK's proxy policy sets the request's agent)", async () => {
    const target = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(completion("via the proxy"));
    });
    // A forward proxy: it gets the absolute URL and relays to the one target it knows, so the
    // endpoint's host name (which resolves nowhere) only works through it.
    const proxy = await serve((req, res) => {
      const upstream = http.request(
        `${target.url}${new URL(req.url ?? "/").pathname}`,
        { method: req.method, headers: { "content-type": "application/json" } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.end("{}");
    });
    const saved = {
      HTTP_PROXY: process.env.HTTP_PROXY,
      HTTPS_PROXY: process.env.HTTPS_PROXY,
      ALL_PROXY: process.env.ALL_PROXY,
    };
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.HTTPS_PROXY;
    delete process.env.ALL_PROXY;
    let p;
    try {
      // The proxy policy reads the environment when the client is made.
      p = provider("http://model.bakeoff-test.invalid/models");
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect((await p.attempt(HI, ok())).text).toBe("via the proxy");
    expect(proxy.seen[0]!.url).toBe("http://model.bakeoff-test.invalid/models/chat/completions");
    expect(target.seen).toHaveLength(1);
  });
});

describe("createAzureHttpClient: the HttpClient contract", () => {
  const request = (url: string, extra: Parameters<typeof createPipelineRequest>[0] = { url }) =>
    createPipelineRequest({ allowInsecureConnection: true, ...extra, url });

  it("reads a body into bodyAsText unless the status is to be streamed, and keeps the response headers", async () => {
    const server = await serve((req, res) => {
      res.writeHead(req.method === "POST" ? 201 : 200, { "x-ms-request-id": "r-1", "content-type": "text/plain" });
      res.end(`${req.method} ${req.headers["content-length"] ?? "-"}`);
    });
    const client = createAzureHttpClient();
    const buffered = await client.sendRequest(request(server.url, { url: server.url, method: "POST", body: "héllo" }));
    expect(buffered.status).toBe(201);
    expect(buffered.bodyAsText).toBe("POST 6");
    expect(buffered.headers.get("X-MS-Request-Id")).toBe("r-1");
    const streamed = await client.sendRequest(
      request(server.url, { url: server.url, streamResponseStatusCodes: new Set([200]) }),
    );
    expect(streamed.bodyAsText).toBeUndefined();
    const chunks: Buffer[] = [];
    for await (const c of streamed.readableStreamBody!) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("GET -");
  });

  it("refuses a streamed request body by name, before anything is sent", async () => {
    const server = await serve((_req, res) => res.end());
    const client = createAzureHttpClient();
    const req = request(server.url, { url: server.url, method: "POST", body: Readable.from(["x"]) });
    await expect(client.sendRequest(req)).rejects.toThrow(/string or byte bodies only, not a Readable/);
    expect(server.seen).toHaveLength(0);
  });

  it("refuses plain http unless the request allows it, as the SDK's client does", async () => {
    const client = createAzureHttpClient();
    const req = createPipelineRequest({ url: "http://127.0.0.1:9/x", headers: createHttpHeaders() });
    await expect(client.sendRequest(req)).rejects.toThrow(/allowInsecureConnection is false/);
  });

  it("reports a refused connection as a RestError with the socket's code", async () => {
    const server = await serve((_req, res) => res.end());
    const url = server.url;
    await server.close();
    servers = servers.filter((s) => s !== server);
    const err = (await createAzureHttpClient()
      .sendRequest(request(url))
      .catch((e: unknown) => e)) as { name?: string; code?: string };
    expect(err.name).toBe("RestError");
    expect(err.code).toBe("ECONNREFUSED");
  });

  it("times out the wait for headers when the request has a timeout", async () => {
    const server = await serve(() => undefined); // never answers
    const err = (await createAzureHttpClient()
      .sendRequest(request(server.url, { url: server.url, timeout: 50 }))
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe("AbortError");
    await server.socketClosed(0);
  });
});
