/**
 * Streaming and usage details in reports: TTFT p50/p95 per model where it exists, cached and
 * reasoning tokens summed and shown, cached prompt tokens priced at their own rate.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, planRun, runEvaluation } from "../src/index.js";
import { renderMarkdown } from "../src/report/markdown.js";
import { SummaryBuilder } from "../src/report/summary.js";
import type { Completion, PredictionRecord } from "../src/types.js";
import { tempDir } from "./helpers/tmp.js";

function record(model: string, i: number, output: Partial<Completion>): PredictionRecord {
  return {
    v: 1,
    key: `ds/r${i}/${model}/0`,
    dataset: "ds",
    rowId: `r${i}`,
    line: i + 1,
    model,
    trial: 0,
    input: { messages: [{ role: "user", content: "q" }], vars: {} },
    output: {
      text: "a",
      finishReason: "stop",
      usage: null,
      latencyMs: 200,
      model,
      requestId: null,
      attempts: 1,
      ...output,
    },
    scores: {},
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:01.000Z",
  };
}

describe("usage details and TTFT in reports", () => {
  const b = new SummaryBuilder({
    pricing: {
      streamer: { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: 0.5, currency: "USD" },
      plain: { inputPerMillion: 2, outputPerMillion: 8, currency: "USD" },
    },
  });
  for (let i = 0; i < 20; i++) {
    b.add(
      record("streamer", i, {
        ttftMs: 100 + i,
        usage: {
          promptTokens: 1000,
          completionTokens: 100,
          totalTokens: 1100,
          cachedPromptTokens: 600,
          reasoningTokens: 40,
        },
      }),
    );
    b.add(record("plain", i, { usage: { promptTokens: 1000, completionTokens: 100, totalTokens: 1100 } }));
  }
  const summary = b.result();
  const streamer = summary.models.find((m) => m.model === "streamer")!;
  const plain = summary.models.find((m) => m.model === "plain")!;

  it("aggregates TTFT only for models that streamed", () => {
    expect(streamer.ttftMs?.p50).toBeCloseTo(110, -0.5);
    expect(streamer.ttftMs?.p95).toBeCloseTo(119, -0.5);
    expect(plain.ttftMs).toBeUndefined();
  });

  it("sums cached and reasoning tokens and prices cached prompt tokens at their own rate", () => {
    expect(streamer.tokens).toEqual({
      prompt: 20_000,
      completion: 2000,
      total: 22_000,
      cachedPrompt: 12_000,
      reasoning: 800,
    });
    expect(plain.tokens).toEqual({ prompt: 20_000, completion: 2000, total: 22_000 });
    // 8,000 uncached at $2/M + 12,000 cached at $0.5/M; output 2,000 at $8/M.
    expect(streamer.cost!.input).toBeCloseTo(0.016 + 0.006, 10);
    expect(plain.cost!.input).toBeCloseTo(0.04, 10);
    expect(streamer.cost!.output).toBeCloseTo(0.016, 10);
  });

  it("shows TTFT and token details in the markdown report", () => {
    const md = renderMarkdown({
      runId: "r",
      startedAt: "2026-01-01T00:00:00.000Z",
      datasets: [{ name: "ds", rows: 20 }],
      summary,
    });
    expect(md).toMatch(/\| TTFT p50 \| 1\d\d ms \| – \|/);
    expect(md).toMatch(/\| TTFT p95 \|/);
    expect(md).toMatch(/\| Cached tokens in \| 12,000 \| – \|/);
    expect(md).toMatch(/\| Reasoning tokens \| 800 \| – \|/);
  });
});

describe("TTFT through a streamed run", () => {
  it("report.json and report.html carry TTFT p50/p95 for the streamed model only", async () => {
    const dir = await tempDir();
    const file = join(dir, "rows.jsonl");
    await writeFile(
      file,
      Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `r${i}`, prompt: `What is ${i} + ${i}?` })).join("\n") +
        "\n",
    );
    const plan = await planRun(
      parseConfig(
        {
          datasets: [{ path: file, scorers: [{ type: "finish_stop" }] }],
          models: [
            { name: "streamed", provider: "openai", endpoint: "emulator://sim", model: "sim", stream: true },
            { name: "plain", endpoint: "emulator://sim" },
          ],
          emulator: { models: { sim: { latency: { medianMs: 1, p95Ms: 2, firstTokenMs: 40 } } } },
          weave: { enabled: false },
        },
        { baseDir: dir },
      ),
      { env: {} },
    );
    const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
    expect(result.status).toBe("complete");
    const json = JSON.parse(await readFile(join(result.runDir, "report.json"), "utf8"));
    const streamed = json.models.find((m: { name: string }) => m.name === "streamed");
    const plain = json.models.find((m: { name: string }) => m.name === "plain");
    // The emulator holds the first token back for 40 ms: no streamed call can beat that.
    expect(streamed.ttft.p50).toBeGreaterThanOrEqual(40);
    expect(streamed.ttft.p95).toBeGreaterThanOrEqual(streamed.ttft.p50);
    expect(plain.ttft).toBeUndefined();
    const page = await readFile(join(result.runDir, "report.html"), "utf8");
    expect(page).toMatch(/<th scope="row">TTFT p50<\/th><td>[\d,]+ ms<\/td><td>–<\/td>/);
    expect(page).toMatch(/<th scope="row">TTFT p95<\/th>/);
  });
});
