import { describe, expect, it } from "vitest";
import { fastParseConfig } from "../src/config/fast-parse.js";
import { ConfigSpec } from "../src/config/schema.js";

/**
 * fastParseConfig must agree with the zod schema: whatever it returns, the schema accepts with the
 * same JSON text (values and key order: run.json and the config hash depend on both); whatever the
 * schema refuses, it leaves to the schema (undefined).
 */
function agrees(raw: unknown): "fast" | "zod" {
  const fast = fastParseConfig(raw);
  const zod = ConfigSpec.safeParse(raw);
  if (fast === undefined) return "zod";
  expect(zod.success, `the schema refuses what the fast path accepted: ${JSON.stringify(raw)}`).toBe(true);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
  return "fast";
}

const base = () => ({
  $schema: "./eval.config.schema.json",
  outputDir: "results",
  concurrency: 16,
  datasets: [
    {
      path: "data.jsonl",
      system: "Be brief.",
      scorers: [{ type: "numeric" }, { type: "finish_stop" }],
    },
    {
      name: "caps",
      path: "capitals.csv",
      columns: { prompt: "question" },
      template: "Answer: {{question}}",
      scorers: [{ type: "includes", caseSensitive: true }],
      limit: 10,
    },
  ],
  models: [
    {
      name: "m0",
      provider: "azure-ai-inference",
      endpoint: "http://127.0.0.1:1/m0",
      apiKeyEnv: "KEY",
      params: { temperature: 0, max_tokens: 64, seed: 7 },
      concurrency: 8,
      pricing: { inputPerMillion: 0.15, outputPerMillion: 0.6 },
    },
    { name: "m1", provider: "openai", endpoint: "http://127.0.0.1:1/m1/v1", model: "m1", apiKeyEnv: "KEY" },
  ],
  weave: { enabled: false },
});

/** Values of every kind, to put where the schema expects something else (or the same kind, out of range). */
const ODD: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -1,
  1,
  1.5,
  2,
  3,
  4,
  20,
  21,
  100,
  101,
  1024,
  1025,
  -0.5,
  0.5,
  1e21,
  2 ** 53,
  "",
  "x",
  "a/b",
  "a b",
  "90s",
  "soon",
  "1.5h",
  "gimsuvy",
  "zz",
  "csv",
  "jsonl",
  "openai",
  "azure-ai-inference",
  "entra",
  "key",
  "chat",
  "responses",
  "drop",
  "words",
  "levenshtein",
  "-bad",
  "ok_name-1.2",
  "x".repeat(65),
  [],
  ["a"],
  ["a", "b", "c", "d", "e"],
  [1],
  {},
  { type: "numeric" },
  { type: "exact", value: "4" },
  { type: "regex", pattern: "\\d+", flags: "i" },
  { type: "llm_judge", model: "m0" },
  { type: "length", min: 1, max: 0 },
  { type: "similarity", threshold: 2 },
  { type: "nope" },
  { enabled: true },
  { project: "team/proj" },
  { maxAttempts: 3 },
  { inputPerMillion: 1, outputPerMillion: 2, currency: "EUR", batchDiscount: 0.5 },
  { temperature: 3 },
  { stop: ["x"] },
  { id: "qid", params: "p" },
  { models: {} },
  { margin: 3 },
];

/** Every place in the config the generator may change. */
const PATHS: (string | number)[][] = [
  ["outputDir"],
  ["concurrency"],
  ["trials"],
  ["scorers"],
  ["retry"],
  ["retry", "maxAttempts"],
  ["retry", "baseDelayMs"],
  ["weave"],
  ["weave", "project"],
  ["weave", "flushTimeoutSec"],
  ["weave", "enabled"],
  ["deadline"],
  ["giveUpAfter"],
  ["maxResponseBytes"],
  ["gates"],
  ["decision"],
  ["emulator"],
  ["shards"],
  ["batch"],
  ["unknownKey"],
  ["datasets"],
  ["datasets", 0],
  ["datasets", 0, "path"],
  ["datasets", 0, "name"],
  ["datasets", 0, "format"],
  ["datasets", 0, "delimiter"],
  ["datasets", 0, "columns"],
  ["datasets", 0, "columns", "id"],
  ["datasets", 0, "columns", "messages"],
  ["datasets", 0, "columns", "other"],
  ["datasets", 0, "template"],
  ["datasets", 0, "params"],
  ["datasets", 0, "scorers"],
  ["datasets", 0, "scorers", 0],
  ["datasets", 0, "scorers", 0, "tolerance"],
  ["datasets", 0, "scorers", 0, "name"],
  ["datasets", 0, "scorers", 1, "type"],
  ["datasets", 1, "scorers", 0, "trim"],
  ["datasets", 1, "scorers", 0, "value"],
  ["datasets", 0, "limit"],
  ["datasets", 0, "maxPromptChars"],
  ["datasets", 0, "extra"],
  ["models"],
  ["models", 0],
  ["models", 0, "name"],
  ["models", 0, "provider"],
  ["models", 0, "endpoint"],
  ["models", 0, "model"],
  ["models", 0, "apiKeyEnv"],
  ["models", 0, "auth"],
  ["models", 0, "stream"],
  ["models", 0, "params"],
  ["models", 0, "params", "temperature"],
  ["models", 0, "params", "top_p"],
  ["models", 0, "params", "max_tokens"],
  ["models", 0, "params", "seed"],
  ["models", 0, "params", "stop"],
  ["models", 0, "params", "presence_penalty"],
  ["models", 0, "params", "tools"],
  ["models", 0, "concurrency"],
  ["models", 0, "adaptive"],
  ["models", 0, "rpm"],
  ["models", 0, "tpm"],
  ["models", 0, "timeoutMs"],
  ["models", 0, "pricing"],
  ["models", 0, "pricing", "batchDiscount"],
  ["models", 0, "pricing", "currency"],
  ["models", 0, "apiVersion"],
  ["models", 0, "extraParameters"],
  ["models", 0, "api"],
  ["models", 0, "batch"],
  ["models", 1, "provider"],
  ["models", 1, "api"],
  ["models", 1, "batch"],
  ["models", 1, "batchModel"],
  ["models", 1, "apiVersion"],
  ["models", 1, "name"],
  ["models", 1, "apiKey"],
];

function set(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let cur: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (typeof cur !== "object" || cur === null) return;
    const next = (cur as Record<string | number, unknown>)[key];
    if (typeof next !== "object" || next === null) return;
    cur = next;
  }
  if (typeof cur !== "object" || cur === null) return;
  const last = path[path.length - 1]!;
  if (value === undefined) delete (cur as Record<string | number, unknown>)[last];
  else (cur as Record<string | number, unknown>)[last] = structuredClone(value);
}

describe("fastParseConfig", () => {
  it("gives the schema's output for common configs (the bench's, minimal ones, every default)", () => {
    expect(agrees(base())).toBe("fast");
    expect(
      agrees({ datasets: [{ path: "d.jsonl" }], models: [{ name: "a", endpoint: "http://x", apiKeyEnv: "K" }] }),
    ).toBe("fast");
    expect(
      agrees({
        concurrency: 1,
        trials: 100,
        deadline: 90,
        giveUpAfter: "30m",
        datasets: [
          {
            path: "d.csv",
            format: "csv",
            delimiter: ";",
            columns: { id: "k", prompt: "q", system: "s", expected: "a", messages: "m", params: "p" },
            scorers: [
              { type: "exact", name: "ex", value: "v", trim: false },
              { type: "not_includes" },
              { type: "starts_with" },
              { type: "regex", pattern: "a+" },
              { type: "json_valid" },
              { type: "similarity", metric: "levenshtein", threshold: 0.5 },
              { type: "length", min: 0, max: 10, unit: "words" },
              { type: "latency", maxMs: 1500 },
            ],
            maxPromptChars: 10,
          },
        ],
        models: [
          {
            name: "b",
            provider: "openai",
            endpoint: "https://x/openai/v1",
            auth: "entra",
            stream: true,
            adaptive: false,
            rpm: 60,
            tpm: 6000,
            timeoutMs: 1000,
            api: "responses",
            batch: true,
            batchModel: "b-batch",
            params: { top_p: 1, stop: ["a", "b"], frequency_penalty: -2, presence_penalty: 2 },
            pricing: { inputPerMillion: 0, outputPerMillion: 0, cachedInputPerMillion: 0, batchDiscount: 1 },
          },
          { name: "c", endpoint: "emulator://small", apiVersion: "", extraParameters: "pass-through" },
        ],
        retry: { maxAttempts: 20, baseDelayMs: 0 },
        weave: { project: "team/proj", flushTimeoutSec: 0.5 },
        maxResponseBytes: 1,
        gates: [],
      }),
    ).toBe("fast");
  });

  it("leaves what it does not know to the schema", () => {
    const withEmulator = { ...base(), emulator: { models: {} } };
    expect(agrees(withEmulator)).toBe("zod");
    const judge = base();
    judge.datasets[0]!.scorers.push({ type: "llm_judge", model: "m0" } as never);
    expect(agrees(judge)).toBe("zod");
    const proto = JSON.parse('{"datasets":[{"path":"d"}],"models":[{"name":"a","endpoint":"e","__proto__":{}}]}');
    expect(agrees(proto)).toBe("zod");
  });

  it("agrees with the schema on thousands of changed configs, valid and not", () => {
    let x = 12345;
    const rnd = (n: number) => {
      x = (x * 48271) % 2147483647;
      return x % n;
    };
    const seen = { fast: 0, zod: 0 };
    for (let i = 0; i < 3000; i++) {
      const raw = base() as unknown as Record<string, unknown>;
      for (let k = 1 + rnd(2); k > 0; k--) set(raw, PATHS[rnd(PATHS.length)]!, ODD[rnd(ODD.length)]);
      seen[agrees(raw)]++;
    }
    // Both ways are exercised: many changes keep the config valid (fast), many break it (zod).
    expect(seen.fast).toBeGreaterThan(300);
    expect(seen.zod).toBeGreaterThan(300);
  });
});
