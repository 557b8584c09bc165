/**
 * The floors bakeoff is measured against: the same calls with nothing else (no retries, scoring,
 * journal or reports), through the provider's own client or, for openai, plain node:http, with
 * `p-limit`. Plain JS so the process pays no TypeScript loader at start-up, like
 * `node bin/bakeoff.js`.
 *
 *   node bench/bare-loop.mjs '{"provider":"openai","client":"sdk","url":"http://127.0.0.1:PORT",
 *     "models":["m0"],"dataset":"/tmp/ds.jsonl","concurrency":16,"system":"...","params":{...},"key":"..."}'
 *
 * Prints one JSON line: calls, loopMs (first call to last answer) and p50Ms (per-call latency).
 * - azure-ai-inference (`client` "sdk", the default): `@azure-rest/ai-inference` ModelClient at
 *   `<url>/<model>`, as the provider builds it (SDK retries off, http allowed),
 *   `.post({ body }).asNodeStream()` and the body read and parsed, as the provider does.
 * - openai, `client` "sdk": the `openai` package client at `<url>/<model>/v1`, `maxRetries: 0`,
 *   `chat.completions.create(body)`: the provider's own client, as the issue names the floor.
 * - openai, `client` "node-http": the physical floor, since the provider now sends non-streamed
 *   calls over node:http (src/providers/json-post.ts): one keep-alive agent for the process,
 *   `POST <url>/<model>/v1/chat/completions` with the same body and the headers the provider
 *   sends, the answer read and parsed, nothing else (no decoding, size cap or abort signal).
 */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import pLimit from "p-limit";
import { nodeHttpFloor } from "./node-http-floor.mjs";

const cfg = JSON.parse(process.argv[2]);
const rows = readFileSync(cfg.dataset, "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map((l) => JSON.parse(l));
const clientKind = cfg.client ?? "sdk";
if (clientKind !== "sdk" && !(clientKind === "node-http" && cfg.provider === "openai"))
  throw new Error(
    `unknown client "${clientKind}" for ${cfg.provider}: use "sdk"${cfg.provider === "openai" ? ' or "node-http"' : ""}`,
  );
// One pool for the process, as the provider's json-post.ts has.
const httpAgent = new http.Agent({ keepAlive: true });

/** The same request as the provider's node:http path, over the process's one keep-alive pool. */
function nodeHttpCall(model) {
  const call = nodeHttpFloor(`${cfg.url}/${model}/v1/chat/completions`, cfg.key, httpAgent);
  return (messages) => call({ model, messages, ...cfg.params });
}

async function makeCall(model) {
  if (clientKind === "node-http") return nodeHttpCall(model);
  if (cfg.provider === "openai") {
    const { default: OpenAI } = await import("openai");
    const client = new OpenAI({ baseURL: `${cfg.url}/${model}/v1`, apiKey: cfg.key, maxRetries: 0 });
    return async (messages) => {
      const res = await client.chat.completions.create({ model, messages, ...cfg.params });
      if (typeof res.choices?.[0]?.message?.content !== "string") throw new Error("no answer");
    };
  }
  const { default: ModelClient } = await import("@azure-rest/ai-inference");
  const { AzureKeyCredential } = await import("@azure/core-auth");
  const client = ModelClient(`${cfg.url}/${model}`, new AzureKeyCredential(cfg.key), {
    retryOptions: { maxRetries: 0 },
    allowInsecureConnection: true,
  });
  return async (messages) => {
    const res = await client
      .path("/chat/completions")
      .post({ body: { messages, ...cfg.params } })
      .asNodeStream();
    const chunks = [];
    for await (const c of res.body) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (res.status !== "200" || typeof body.choices?.[0]?.message?.content !== "string")
      throw new Error(`call failed: ${res.status}`);
  };
}

const calls = await Promise.all(cfg.models.map((m) => makeCall(m)));
const limit = pLimit(cfg.concurrency);
const latencies = new Float64Array(rows.length * calls.length);
let n = 0;
const t0 = performance.now();
const jobs = [];
for (const row of rows) {
  const messages = [
    { role: "system", content: cfg.system },
    { role: "user", content: row.prompt },
  ];
  for (const call of calls) {
    jobs.push(
      limit(async () => {
        const s = performance.now();
        await call(messages);
        latencies[n++] = performance.now() - s;
      }),
    );
  }
}
await Promise.all(jobs);
const loopMs = performance.now() - t0;
const sorted = latencies.slice(0, n).sort();
process.stdout.write(JSON.stringify({ calls: n, loopMs, p50Ms: sorted[Math.floor(n / 2)] }) + "\n");
