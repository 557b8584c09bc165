/**
 * Real endpoints are https. Both providers' own transports (the azure provider's HttpClient under
 * the SDK's pipeline, the openai provider's node:http post) must verify the server's certificate,
 * trust what Node is told to trust (NODE_EXTRA_CA_CERTS, or the SDK's tlsSettings), and keep TLS
 * connections alive. A TLS-terminating relay on 127.0.0.1 (a self-signed certificate for
 * 127.0.0.1, test/fixtures/tls) forwards to the built-in emulator over plain http.
 */
import { createPipelineRequest } from "@azure/core-rest-pipeline";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../src/emulator/index.js";
import { createAzureHttpClient } from "../src/providers/azure-http-client.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const CERT = fileURLToPath(new URL("./fixtures/tls/localhost-cert.pem", import.meta.url));
const KEY_FILE = fileURLToPath(new URL("./fixtures/tls/localhost-key.pem", import.meta.url));
const API_KEY = "tls-test-key-0123456789";

let emulator: EmulatorHandle;
let relay: https.Server;
let relayUrl: string;
/** TLS connections the relay accepted, and requests it forwarded (method + path). */
let tlsConnections = 0;
const forwarded: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    models: { sim: { apiKey: API_KEY, accuracy: 1, latency: { medianMs: 1, p95Ms: 2 } } },
    quiet: true,
  });
  const target = new URL(emulator.url);
  const upstream = new http.Agent({ keepAlive: true });
  relay = https.createServer({ cert: await readFile(CERT), key: await readFile(KEY_FILE) }, (req, res) => {
    forwarded.push(`${req.method} ${req.url}`);
    const out = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: target.host },
        agent: upstream,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  relay.on("secureConnection", () => tlsConnections++);
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  relayUrl = `https://127.0.0.1:${(relay.address() as AddressInfo).port}`;
});

afterAll(async () => {
  relay.closeAllConnections();
  await new Promise<void>((resolve) => relay.close(() => resolve()));
  await emulator.close();
});

describe("createAzureHttpClient over https", () => {
  it("verifies the certificate: an untrusted one is a RestError with TLS's own code", async () => {
    const err = (await createAzureHttpClient()
      .sendRequest(createPipelineRequest({ url: `${relayUrl}/sim/info` }))
      .catch((e: unknown) => e)) as { name?: string; code?: string };
    expect(err.name).toBe("RestError");
    expect(err.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("trusts the CA in the request's tlsSettings and reuses one TLS connection per settings", async () => {
    const client = createAzureHttpClient();
    const tlsSettings = { ca: await readFile(CERT, "utf8") };
    const before = tlsConnections;
    for (let i = 0; i < 3; i++) {
      // As the SDK's tlsPolicy sets it: createPipelineRequest has no option for it.
      const req = createPipelineRequest({ url: `${relayUrl}/sim/info` });
      req.tlsSettings = tlsSettings;
      const res = await client.sendRequest(req);
      expect(res.status).toBe(401); // no key sent: the emulator's answer came back through TLS
      expect(res.bodyAsText).toMatch(/Unauthorized|key/i);
    }
    expect(tlsConnections - before).toBe(1);
  });
});

describe("bakeoff run against https endpoints", () => {
  async function project(): Promise<{ dir: string; config: string }> {
    const dir = await tempDir();
    await writeFile(
      join(dir, "d.jsonl"),
      ["What is 2 + 2?", "What is 19 + 23?", "What is 7 * 6?"]
        .map((prompt, i) => JSON.stringify({ id: `r${i}`, prompt }))
        .join("\n"),
    );
    const config = join(dir, "eval.config.json");
    await writeFile(
      config,
      JSON.stringify({
        datasets: [{ path: "d.jsonl" }],
        models: [
          { name: "legacy", endpoint: `${relayUrl}/sim`, apiKeyEnv: "BAKEOFF_TLS_KEY" },
          { name: "v1", provider: "openai", endpoint: `${relayUrl}/v1`, model: "sim", apiKeyEnv: "BAKEOFF_TLS_KEY" },
        ],
        retry: { maxAttempts: 1 },
      }),
    );
    return { dir, config };
  }

  it("calls both providers over TLS when Node is told to trust the CA (NODE_EXTRA_CA_CERTS)", async () => {
    const { dir, config } = await project();
    forwarded.length = 0;
    const res = await runCli(["run", "--config", config, "--no-weave", "--run-id", "tls"], {
      cwd: dir,
      env: { BAKEOFF_TLS_KEY: API_KEY, NODE_EXTRA_CA_CERTS: CERT },
    });
    expect(res.stderr).toMatch(/6\/6 \(100%\).* errors 0 /);
    expect(res.code).toBe(0);
    const records = (await readFile(join(dir, "results", "tls", "predictions.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { model: string; output: { text: string | null; error?: unknown } });
    expect(records).toHaveLength(6);
    for (const r of records) {
      expect(r.output.error).toBeUndefined();
      expect(r.output.text).toMatch(/\d/);
    }
    expect(new Set(records.map((r) => r.model))).toEqual(new Set(["legacy", "v1"]));
    expect(forwarded.filter((f) => f === "POST /sim/chat/completions?api-version=2024-05-01-preview").length).toBe(3);
    expect(forwarded.filter((f) => f === "POST /v1/chat/completions").length).toBe(3);
  });

  it("refuses an untrusted certificate and says so in the recorded error", async () => {
    const { dir, config } = await project();
    const res = await runCli(["run", "--config", config, "--no-weave", "--run-id", "untrusted"], {
      cwd: dir,
      env: { BAKEOFF_TLS_KEY: API_KEY },
    });
    // Model errors are outcomes (README, exit codes): the run completes and records each one.
    expect(res.stderr).toMatch(/errors 6/);
    const journal = await readFile(join(dir, "results", "untrusted", "predictions.jsonl"), "utf8");
    const errors = journal
      .trim()
      .split("\n")
      .map((l) => JSON.stringify((JSON.parse(l) as { output: { error?: unknown } }).output.error));
    expect(errors).toHaveLength(6);
    // Both providers name the cause and the fix.
    for (const e of errors) expect(e).toMatch(/self[- ]signed certificate.*NODE_EXTRA_CA_CERTS/i);
    expect(journal).not.toContain(API_KEY);
  });
});
