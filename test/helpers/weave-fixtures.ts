/**
 * Synthetic runs for Weave tests and the overhead bench: a manifest for N models and the journal
 * records a run over R rows would write, with a deterministic mix of finish reasons and errors.
 */
import type { RunManifest } from "../../src/store/manifest.js";
import type { PredictionRecord } from "../../src/types.js";

/** Finish reasons cycled through by row index (row % 10). */
const REASONS = ["stop", "stop", "stop", "stop", "stop", "stop", "length", "content_filter", "tool_calls", "error"];

/** A manifest for `models` over one dataset of `rows` rows. */
export function fakeManifest(runId: string, models: readonly string[], rows: number): RunManifest {
  return {
    v: 1,
    runId,
    status: "complete",
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:01:00.000Z",
    sessions: [{ startedAt: "2025-01-01T00:00:00.000Z", resumed: false, sent: rows * models.length, skipped: 0 }],
    tool: { name: "bakeoff", version: "0.1.0", node: process.version },
    configHash: "c0ffee",
    config: { weave: { enabled: true } } as RunManifest["config"],
    datasets: [{ name: "qa", path: "qa.jsonl", resolvedPath: "/data/qa.jsonl", sha256: "abc", rows, skipped: 0 }],
    models: models.map((name, i) => ({
      name,
      provider: "azure-ai-inference",
      endpoint: `https://user:secret@${name}.example.com/models?api-key=leak`,
      deployment: `${name}-deploy`,
      params: { temperature: 0, max_tokens: 64 + i },
      info: { modelName: `${name}-v${i + 1}`, providerName: "Fake" },
    })),
    trials: 1,
    expected: rows * models.length,
  };
}

/** The record a run would journal for `row` × `model`. */
export function fakeRecord(model: string, row: number): PredictionRecord {
  const reason = REASONS[row % REASONS.length]!;
  const failed = reason === "error";
  const text = failed ? null : `answer ${row} from ${model}`;
  return {
    v: 1,
    key: `qa/r${row}/${model}/1`,
    dataset: "qa",
    rowId: `r${row}`,
    line: row + 1,
    model,
    trial: 1,
    input: { messages: [{ role: "user", content: `question ${row}?` }], vars: { question: `question ${row}?` } },
    expected: `answer ${row}`,
    output: {
      text,
      finishReason: failed ? "error" : reason,
      usage: failed ? null : { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      latencyMs: 100 + row,
      model: failed ? null : `${model}-served`,
      requestId: `req-${row}`,
      attempts: failed ? 3 : 1,
      ...(failed ? { error: { kind: "server" as const, message: "upstream 503", status: 503 } } : {}),
    },
    scores: failed
      ? {}
      : {
          exact: { value: row % 2 === 0 ? 1 : 0, pass: row % 2 === 0 },
          length: { value: 0.5, reason: "half" },
        },
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
  };
}

/** All records of a run over `rows` rows, interleaved by model as a concurrent run writes them. */
export function fakeRecords(models: readonly string[], rows: number): PredictionRecord[] {
  const out: PredictionRecord[] = [];
  for (let r = 0; r < rows; r++) for (const m of models) out.push(fakeRecord(m, r));
  return out;
}
