/**
 * One test per row of the README's endpoint-kinds table: each endpoint form, provider, auth and
 * api, pointed at the built-in emulator on the same path layout the real service uses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../src/emulator/index.js";
import { createProvider, type ProviderSpec } from "../src/providers/registry.js";
import type { CompletionRequest } from "../src/types.js";

const KEY = "endpoint-kinds-key-123";
const SUM: CompletionRequest = { messages: [{ role: "user", content: "What is 19 + 23?" }], params: {} };

let emulator: EmulatorHandle;
beforeAll(async () => {
  emulator = await startEmulator({
    models: { sim: { apiKey: KEY, accuracy: 1, latency: { medianMs: 1, p95Ms: 2 } } },
    quiet: true,
  });
});
afterAll(async () => emulator.close());

/**
 * [README row and the route it takes, spec with the endpoint's path on the emulator]. The emulator
 * answers 404 on any other route, so an answer proves the client built the service's path.
 */
const KINDS: Array<[string, Record<string, unknown> & { path: string }]> = [
  ["Azure OpenAI v1 (chat)", { provider: "openai", api: "chat", model: "sim", path: "/openai/v1" }],
  ["Azure OpenAI v1 (responses)", { provider: "openai", api: "responses", model: "sim", path: "/openai/v1" }],
  ["Foundry v1", { provider: "openai", api: "responses", model: "sim", stream: true, path: "/openai/v1" }],
  ["Legacy Azure AI inference (serverless)", { provider: "azure-ai-inference", path: "/sim" }],
  ["Legacy Azure AI inference (Foundry /models)", { provider: "azure-ai-inference", model: "sim", path: "/models" }],
  ["OpenAI", { provider: "openai", model: "sim", path: "/v1" }],
  ["GitHub Models", { provider: "openai", model: "sim", path: "/inference" }],
  ["Ollama / vLLM", { provider: "openai", model: "sim", stream: true, path: "/v1" }],
];

describe("endpoint kinds (README table) against the emulator", () => {
  it.each(KINDS)("%s", async (_kind, { path, ...spec }) => {
    emulator.resetStats();
    const provider = createProvider({ ...spec, name: "m", endpoint: `${emulator.url}${path}` } as ProviderSpec, KEY);
    const r = await provider.attempt(SUM, new AbortController().signal);
    expect(r.text).toBe("The answer is 42.");
    expect(r.finishReason).toBe("stop");
    expect(r.usage?.totalTokens).toBeGreaterThan(0);
    const stats = emulator.stats();
    expect(stats.requests).toBe(1);
    expect(stats.byModel["sim"]).toMatchObject({ requests: 1, completions: 1, statuses: { "200": 1 } });
  });
});
