/**
 * Tool calls end to end on recorded Azure traffic: the azure-ai-inference provider reads the
 * recorded function call (recording_function_calling_test.json, copied into test/fixtures) into
 * `toolCalls`, and the `tool_call` scorer judges it; plus the recorded Azure SSE stream through
 * the provider's streaming path, and tool calls from the emulator on every API.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createAzureAiInferenceProvider } from "../src/providers/azure-ai-inference.js";
import { compileScorer } from "../src/scoring/scorers.js";
import { ScorerSpec } from "../src/scoring/spec.js";
import type { Completion, CompletionRequest } from "../src/types.js";
import { recordedBasePath, startReplayServer, type TestServer } from "./helpers/replay-server.js";

const KEY = "test-key-4f1c9a";
const WEATHER: CompletionRequest = {
  messages: [{ role: "user", content: "What's the weather like in Boston?" }],
  params: {},
};

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function recorded(file: string, stream = false) {
  const server = await startReplayServer(file);
  servers.push(server);
  const provider = createAzureAiInferenceProvider({
    name: "gpt-4o",
    endpoint: `${server.url}${recordedBasePath(server.recording)}`,
    apiKey: KEY,
    stream,
  });
  return provider.attempt(WEATHER, new AbortController().signal);
}

function completion(result: Awaited<ReturnType<typeof recorded>>): Completion {
  return { ...result, latencyMs: 10, attempts: 1 };
}

function score(spec: Record<string, unknown>, output: Completion, expected?: string) {
  const fn = compileScorer(ScorerSpec.parse({ type: "tool_call", ...spec }) as never);
  return fn({ output, vars: {}, ...(expected === undefined ? {} : { expected }) });
}

describe("tool calls from recorded Azure traffic", () => {
  it("records the recorded call as output and scores it with tool_call", async () => {
    const result = await recorded("recording_function_calling_test.json");
    expect(result.toolCalls).toEqual([{ id: "Sanitized", name: "Sanitized", arguments: '{"location":"Boston, MA"}' }]);
    const out = completion(result);

    expect(score({ function: "Sanitized", arguments: { location: "Boston, MA" } }, out)).toMatchObject({
      value: 1,
      pass: true,
    });
    // From the row's expected answer, as JSON (arguments as an object or as JSON text) or a bare name.
    expect(score({}, out, '{"name":"Sanitized","arguments":{"location":"Boston, MA"}}')).toMatchObject({
      value: 1,
      pass: true,
    });
    expect(score({}, out, '{"name":"Sanitized","arguments":"{\\"location\\": \\"Boston, MA\\"}"}')).toMatchObject({
      value: 1,
      pass: true,
    });
    expect(score({}, out, "Sanitized")).toMatchObject({ value: 1, pass: true });

    // Wrong function, wrong value, case handling.
    expect(score({ function: "get_time" }, out)).toMatchObject({
      value: 0,
      pass: false,
      reason: "called Sanitized, expected get_time",
    });
    expect(score({ function: "Sanitized", arguments: { location: "boston, ma" } }, out)).toMatchObject({
      value: 0,
      pass: false,
    });
    expect(
      score({ function: "Sanitized", arguments: { location: " boston, ma" }, ignoreCase: true }, out),
    ).toMatchObject({ value: 1 });
  });

  it("supports subset vs exact matching and partial credit", async () => {
    const out = completion(await recorded("recording_function_calling_test.json"));
    const two = { location: "Boston, MA", unit: "celsius" };
    // The model omitted `unit`: half the expected arguments matched.
    expect(score({ function: "Sanitized", arguments: two }, out)).toMatchObject({
      value: 0,
      pass: false,
      reason: "Sanitized: unit missing",
    });
    expect(score({ function: "Sanitized", arguments: two, partialCredit: true }, out)).toMatchObject({
      value: 0.5,
      pass: false,
    });
    // Extra arguments from the model: fine for subset, not for exact.
    const extra: Completion = {
      ...out,
      toolCalls: [{ id: "c", name: "Sanitized", arguments: '{"location":"Boston, MA","unit":"fahrenheit"}' }],
    };
    expect(score({ function: "Sanitized", arguments: { location: "Boston, MA" } }, extra)).toMatchObject({
      value: 1,
      pass: true,
    });
    expect(
      score({ function: "Sanitized", arguments: { location: "Boston, MA" }, match: "exact" }, extra),
    ).toMatchObject({
      value: 0,
      pass: false,
      reason: "Sanitized: unexpected unit",
    });
  });

  it("scores text answers, failed calls and missing expectations correctly", () => {
    const text: Completion = {
      text: "It is sunny.",
      finishReason: "stop",
      usage: null,
      latencyMs: 1,
      model: null,
      requestId: null,
      attempts: 1,
    };
    expect(score({ function: "Sanitized" }, text)).toMatchObject({
      value: 0,
      pass: false,
      reason: "no tool call (expected Sanitized)",
    });
    expect(score({}, text)).toMatchObject({ value: null, error: "row has no expected answer" });
    const failed: Completion = { ...text, text: null, error: { kind: "server", message: "boom" } };
    expect(score({ function: "Sanitized" }, failed).value).toBeNull();
    const bad: Completion = { ...text, toolCalls: [{ id: "c", name: "Sanitized", arguments: "{not json" }] };
    expect(score({ function: "Sanitized", arguments: { location: "x" } }, bad)).toMatchObject({
      value: 0,
      reason: "Sanitized: arguments are not JSON",
    });
  });

  it("streams the recorded Azure SSE answer (prompt-filter chunk first, then deltas) through core-sse", async () => {
    const result = await recorded("recording_chat_streaming_test.json", true);
    expect(result.text!.length).toBeGreaterThan(20);
    expect(result.finishReason).toBe("stop");
    expect(result.ttftMs).toBeGreaterThanOrEqual(0);
  });
});
