import { describe, expect, it } from "vitest";
import { HISTOGRAM_RELATIVE_ERROR, LogHistogram } from "../src/report/histogram.js";
import { SummaryBuilder } from "../src/report/summary.js";
import type { ModelErrorKind } from "../src/errors.js";
import type { Completion, PredictionRecord, Score } from "../src/types.js";

let seq = 0;

function record(opts: {
  model: string;
  dataset?: string;
  finishReason?: string | null;
  latencyMs?: number;
  error?: ModelErrorKind;
  attempts?: number;
  scores?: Record<string, Score>;
  usage?: Completion["usage"];
}): PredictionRecord {
  const dataset = opts.dataset ?? "ds";
  const rowId = String(seq++);
  const failed = opts.error !== undefined;
  const output: Completion = {
    text: failed ? null : "answer",
    finishReason: failed ? "error" : opts.finishReason === undefined ? "stop" : opts.finishReason,
    usage:
      opts.usage === undefined
        ? failed
          ? null
          : { promptTokens: 100, completionTokens: 20, totalTokens: 120 }
        : opts.usage,
    latencyMs: opts.latencyMs ?? 100,
    model: opts.model,
    requestId: null,
    attempts: opts.attempts ?? 1,
  };
  if (opts.error !== undefined) output.error = { kind: opts.error, message: "failed" };
  return {
    v: 1,
    key: `${dataset}/${rowId}/${opts.model}/0`,
    dataset,
    rowId,
    line: 1,
    model: opts.model,
    trial: 0,
    input: { messages: [{ role: "user", content: "q" }], vars: {} },
    output,
    scores: opts.scores ?? {},
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:01.000Z",
  };
}

const pass = (p: boolean): Score => ({ value: p ? 1 : 0, pass: p });
const callFailed: Score = { value: null, reason: "no output (call error)" };

describe("SummaryBuilder", () => {
  it("counts results, errors, finish reasons and attempts per model in first-seen order", () => {
    const b = new SummaryBuilder({});
    b.add(record({ model: "b" }));
    b.add(record({ model: "a", finishReason: "length" }));
    b.add(record({ model: "a", finishReason: null, attempts: 3 }));
    b.add(record({ model: "a", error: "rate_limit", attempts: 5 }));
    b.add(record({ model: "a", error: "rate_limit", attempts: 5 }));
    b.add(record({ model: "a", error: "timeout", attempts: 2 }));
    b.add(record({ model: "a", finishReason: "content_filter" }));

    const { models } = b.result();
    expect(models.map((m) => m.model)).toEqual(["b", "a"]);
    const a = models[1]!;
    expect(a.n).toBe(6);
    expect(a.errors).toBe(3);
    expect(a.errorKinds).toEqual({ rate_limit: 2, timeout: 1 });
    expect(a.finishReasons).toEqual({ length: 1, none: 1, error: 3, content_filter: 1 });
    expect(a.attempts).toEqual({ total: 1 + 3 + 5 + 5 + 2 + 1, retried: 4 });
    // Failed calls here report no usage; the three successful ones do.
    expect(a.tokens).toEqual({ prompt: 300, completion: 60, total: 360 });
    expect(a.cost).toBeUndefined();
  });

  it("excludes failed calls from score means and counts unscored rows separately", () => {
    const b = new SummaryBuilder();
    b.add(record({ model: "m", scores: { exact: pass(true), f1: { value: 0.5 } } }));
    b.add(record({ model: "m", scores: { exact: pass(false), f1: { value: 1 } } }));
    b.add(
      record({ model: "m", scores: { exact: pass(true), f1: { value: null, error: "row has no expected answer" } } }),
    );
    b.add(record({ model: "m", error: "server", scores: { exact: callFailed, f1: callFailed } }));
    b.add(record({ model: "m", scores: { exact: pass(true) } })); // f1 missing from this record

    const m = b.result().models[0]!;
    expect(m.errors).toBe(1);
    expect(m.scores.exact).toEqual({ n: 4, mean: 0.75, passRate: 0.75, errors: 0 });
    expect(m.scores.f1).toEqual({ n: 2, mean: 0.75, errors: 2 });
  });

  it("splits scores by dataset and pools only where a scorer applies", () => {
    const b = new SummaryBuilder();
    b.add(record({ model: "m", dataset: "math", scores: { numeric: pass(true), shared: pass(true) } }));
    b.add(record({ model: "m", dataset: "math", scores: { numeric: pass(false), shared: pass(true) } }));
    b.add(record({ model: "m", dataset: "qa", scores: { shared: pass(false) } }));
    b.add(record({ model: "m", dataset: "qa", error: "timeout", scores: { shared: callFailed } }));

    const m = b.result().models[0]!;
    expect(Object.keys(m.datasets!)).toEqual(["math", "qa"]);
    expect(m.datasets!.math).toEqual({
      n: 2,
      errors: 0,
      scores: {
        numeric: { n: 2, mean: 0.5, passRate: 0.5, errors: 0 },
        shared: { n: 2, mean: 1, passRate: 1, errors: 0 },
      },
    });
    expect(m.datasets!.qa).toEqual({ n: 2, errors: 1, scores: { shared: { n: 1, mean: 0, passRate: 0, errors: 0 } } });
    // numeric never applied to qa, so qa rows are not "unscored" for it.
    expect(m.scores.numeric).toEqual({ n: 2, mean: 0.5, passRate: 0.5, errors: 0 });
    expect(m.scores.shared).toEqual({ n: 3, mean: 2 / 3, passRate: 2 / 3, errors: 0 });
  });

  it("prices tokens per model", () => {
    const b = new SummaryBuilder({
      pricing: { priced: { inputPerMillion: 2.5, outputPerMillion: 10, currency: "USD" } },
    });
    for (let i = 0; i < 4; i++) {
      b.add(
        record({ model: "priced", usage: { promptTokens: 250_000, completionTokens: 50_000, totalTokens: 300_000 } }),
      );
    }
    b.add(record({ model: "free" }));
    const [priced, free] = b.result().models;
    expect(priced!.tokens).toEqual({ prompt: 1_000_000, completion: 200_000, total: 1_200_000 });
    expect(priced!.cost).toEqual({ input: 2.5, output: 2, total: 4.5, currency: "USD" });
    expect(free!.cost).toBeUndefined();
  });

  it("takes latency from successful calls only", () => {
    const b = new SummaryBuilder();
    b.add(record({ model: "m", latencyMs: 200 }));
    b.add(record({ model: "m", latencyMs: 120_000, error: "timeout" }));
    expect(b.result().models[0]!.latencyMs).toEqual({ p50: 200, p95: 200, p99: 200, mean: 200 });

    const only = new SummaryBuilder();
    only.add(record({ model: "m", error: "auth" }));
    expect(only.result().models[0]!.latencyMs).toEqual({ p50: null, p95: null, p99: null, mean: null });
  });

  it("estimates latency percentiles within the documented bound", () => {
    // A skewed, deterministic distribution spanning four orders of magnitude.
    const values: number[] = [];
    for (let i = 0; i < 5000; i++) values.push(5 + (20_000 * ((i * 7919) % 5000) ** 3) / 5000 ** 3 + (i % 13) * 0.37);
    const b = new SummaryBuilder();
    for (const v of values) b.add(record({ model: "m", latencyMs: v }));
    const lat = b.result().models[0]!.latencyMs;

    const sorted = [...values].sort((x, y) => x - y);
    const exact = (p: number) => sorted[Math.ceil(p * sorted.length) - 1]!;
    for (const [p, got] of [
      [0.5, lat.p50],
      [0.95, lat.p95],
      [0.99, lat.p99],
    ] as const) {
      expect(Math.abs(got! - exact(p)) / exact(p)).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR);
    }
    expect(lat.mean).toBeCloseTo(values.reduce((s, v) => s + v, 0) / values.length, 9);
  });
});

describe("LogHistogram", () => {
  it("stays within the bound at every percentile, including zeros and extremes", () => {
    const h = new LogHistogram();
    const values = [0, 0, 0.0004, 0.5, 1, 1, 2, 3, 10, 99.9, 100, 1234.5, 5e7, 2e8];
    for (const v of values) h.add(v);
    h.add(Number.NaN); // ignored
    expect(h.count).toBe(values.length);
    const sorted = [...values].sort((a, b) => a - b);
    for (let k = 1; k <= 100; k++) {
      const p = k / 100;
      const exact = sorted[Math.ceil(p * sorted.length) - 1]!;
      const got = h.percentile(p)!;
      // Below MIN_VALUE values report the exact minimum; above MAX_VALUE the exact maximum.
      if (exact < LogHistogram.MIN_VALUE) expect(got).toBe(0);
      else if (exact > LogHistogram.MAX_VALUE) expect(got).toBe(2e8);
      else expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(HISTOGRAM_RELATIVE_ERROR);
    }
    expect(new LogHistogram().percentile(0.5)).toBeNull();
  });
});
