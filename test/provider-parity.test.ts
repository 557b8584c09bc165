/**
 * The same dataset through `azure-ai-inference`, `openai` chat and `openai` responses (each plain
 * and streamed) against the built-in emulator, through the whole run loop: every record must
 * agree on output, finish reason, usage and scores, whatever API carried it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseConfig,
  planRun,
  readJournal,
  runEvaluation,
  PREDICTIONS_FILE,
  type ConfigInput,
  type PredictionRecord,
} from "../src/index.js";
import { tempDir } from "./helpers/tmp.js";

const VARIANTS = [
  { name: "legacy", provider: "azure-ai-inference" },
  { name: "legacy-stream", provider: "azure-ai-inference", stream: true },
  { name: "v1-chat", provider: "openai", api: "chat" },
  { name: "v1-chat-stream", provider: "openai", api: "chat", stream: true },
  { name: "v1-responses", provider: "openai", api: "responses" },
  { name: "v1-responses-stream", provider: "openai", api: "responses", stream: true },
] as const;

async function runAll(params: Record<string, unknown>, scorers: unknown[], rows: Array<Record<string, unknown>>) {
  const dir = await tempDir();
  const file = join(dir, "rows.jsonl");
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const config: ConfigInput = {
    concurrency: 6,
    datasets: [{ path: file, scorers: scorers as never }],
    models: VARIANTS.map((v) => ({ ...v, endpoint: "emulator://sim", model: "sim", params })),
    emulator: { models: { sim: { accuracy: 0.6, reasoningTokens: 3, latency: { medianMs: 1, p95Ms: 3 } } } },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
  };
  const plan = await planRun(parseConfig(config, { baseDir: dir }), { env: {} });
  const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
  expect(result.status).toBe("complete");
  const byModel = new Map<string, Map<string, PredictionRecord>>();
  for await (const rec of readJournal(join(result.runDir, PREDICTIONS_FILE))) {
    if (!byModel.has(rec.model)) byModel.set(rec.model, new Map());
    byModel.get(rec.model)!.set(rec.rowId, rec);
  }
  return byModel;
}

/** What must be identical across APIs: everything but timings and ids. */
function comparable(rec: PredictionRecord) {
  return {
    text: rec.output.text,
    finishReason: rec.output.finishReason,
    usage: rec.output.usage,
    toolCalls: rec.output.toolCalls,
    error: rec.output.error,
    scores: Object.fromEntries(Object.entries(rec.scores).map(([k, s]) => [k, { value: s.value, pass: s.pass }])),
  };
}

function expectParity(byModel: Map<string, Map<string, PredictionRecord>>, rows: number) {
  const reference = byModel.get("legacy")!;
  expect(reference.size).toBe(rows);
  for (const v of VARIANTS) {
    const records = byModel.get(v.name)!;
    expect(records.size, v.name).toBe(rows);
    for (const [rowId, ref] of reference)
      expect(comparable(records.get(rowId)!), `${v.name} ${rowId}`).toEqual(comparable(ref));
    // Streamed records carry time to first token; the others do not.
    for (const rec of records.values()) {
      if ("stream" in v) expect(rec.output.ttftMs, v.name).toBeGreaterThanOrEqual(0);
      else expect(rec.output.ttftMs, v.name).toBeUndefined();
    }
  }
}

describe("provider parity against the emulator", () => {
  it("gives identical outputs, finish reasons, usage and scores on all three APIs, streamed or not", async () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({
      id: `q${i}`,
      prompt: `What is ${i + 3} * ${i + 7}?`,
      expected: String((i + 3) * (i + 7)),
    }));
    rows.push({ id: "capital", prompt: "What is the capital of Australia?", expected: "Canberra" });
    const byModel = await runAll({}, [{ type: "numeric" }, { type: "includes" }], rows);
    expectParity(byModel, rows.length);
    const legacy = [...byModel.get("legacy")!.values()];
    // The run is not trivially uniform: some answers are right and some wrong, and the
    // reasoning tokens reach the journal.
    const passes = legacy.map((r) => r.scores["numeric"]?.value);
    expect(passes).toContain(1);
    expect(passes).toContain(0);
    expect(legacy[0]!.output.usage?.reasoningTokens).toBe(3);
  });

  it("agrees in JSON mode and when max_tokens cuts the answer (finish reason length)", async () => {
    const rows = Array.from({ length: 4 }, (_, i) => ({
      id: `q${i}`,
      prompt: `What is ${i} + 5?`,
      expected: String(i + 5),
    }));
    const json = await runAll(
      { response_format: { type: "json_object" } },
      [{ type: "json_valid" }, { type: "finish_stop" }],
      rows,
    );
    expectParity(json, rows.length);
    expect(JSON.parse(json.get("v1-responses")!.get("q1")!.output.text!)).toHaveProperty("answer");
    const cut = await runAll({ max_tokens: 2 }, [{ type: "includes" }, { type: "finish_stop" }], rows);
    expectParity(cut, rows.length);
    expect(cut.get("v1-responses-stream")!.get("q0")!.output.finishReason).toBe("length");
  });
});
