import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  analyzeRun,
  iterateRowsSideBySide,
  LATENCY_BUCKET_EDGES_MS,
  type SideBySideRow,
} from "../src/report/analysis.js";
import { writeRunReports } from "../src/report/run-report.js";
import { JournalWriter, PREDICTIONS_FILE } from "../src/store/journal.js";
import { writeManifest, type RunManifest } from "../src/store/manifest.js";
import { DEFAULT_SEED, adjustFamily, bootstrapMeanInterval, comparePair, wilsonInterval } from "../src/stats/index.js";
import type { PredictionRecord, Score } from "../src/types.js";
import { fakeManifest } from "./helpers/weave-fixtures.js";
import { tempDir } from "./helpers/tmp.js";

interface Rec {
  model: string;
  row: number;
  trial?: number;
  scores?: Record<string, Score>;
  error?: boolean;
  finishReason?: string;
  text?: string;
  latencyMs?: number;
  usage?: [number, number];
  dataset?: string;
  tags?: string;
  cached?: boolean;
}

function record(r: Rec): PredictionRecord {
  const trial = r.trial ?? 0;
  const dataset = r.dataset ?? "qa";
  return {
    v: 1,
    key: `${dataset}/r${r.row}/${r.model}/${trial}`,
    dataset,
    rowId: `r${r.row}`,
    line: r.row + 2,
    model: r.model,
    trial,
    input: {
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: `question ${r.row}?` },
      ],
      vars: r.tags ? { tags: r.tags } : {},
    },
    expected: `answer ${r.row}`,
    output: {
      text: r.error ? null : (r.text ?? `answer from ${r.model}`),
      finishReason: r.error ? "error" : (r.finishReason ?? "stop"),
      usage: r.error
        ? null
        : {
            promptTokens: r.usage?.[0] ?? 10,
            completionTokens: r.usage?.[1] ?? 5,
            totalTokens: (r.usage?.[0] ?? 10) + (r.usage?.[1] ?? 5),
          },
      latencyMs: r.latencyMs ?? 100,
      model: r.model,
      requestId: null,
      attempts: 1,
      ...(r.cached ? { cached: true as const } : {}),
      ...(r.error ? { error: { kind: "server" as const, message: "upstream 503", status: 503 } } : {}),
    },
    scores: r.error ? {} : (r.scores ?? {}),
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
  };
}

const pass = (ok: boolean): Score => ({ value: ok ? 1 : 0, pass: ok, reason: ok ? "right" : "wrong" });

/** Writes run.json and a journal of `recs` into a fresh run directory. */
async function writeRun(
  recs: Rec[],
  over: Partial<RunManifest> = {},
  pricing?: Record<string, [number, number]>,
  config: Record<string, unknown> = {},
): Promise<string> {
  const dir = await tempDir();
  const models = [...new Set(recs.map((r) => r.model))];
  const rows = new Set(recs.map((r) => r.row)).size;
  const manifest = { ...fakeManifest("run-1", models, rows), ...over };
  // Scorers declare their kind in the config snapshot: `exact` is pass/fail, `similarity` continuous.
  manifest.config = {
    ...manifest.config,
    scorers: [{ type: "exact" }, { type: "similarity", name: "sim" }],
  } as unknown as RunManifest["config"];
  if (pricing) {
    manifest.config = {
      ...manifest.config,
      models: Object.entries(pricing).map(([name, [i, o]]) => ({
        name,
        pricing: { inputPerMillion: i, outputPerMillion: o, currency: "USD" },
      })),
    } as RunManifest["config"];
  }
  const names = [...new Set(recs.map((r) => r.dataset ?? "qa"))];
  if (names.length > 1 || names[0] !== "qa") {
    manifest.datasets = names.map((name) => ({
      name,
      path: `${name}.jsonl`,
      resolvedPath: `/data/${name}.jsonl`,
      sha256: name,
      rows,
      skipped: 0,
    }));
  }
  manifest.config = { ...manifest.config, ...config };
  await writeManifest(dir, manifest);
  const journal = await JournalWriter.open(join(dir, PREDICTIONS_FILE));
  for (const r of recs) journal.append(record(r));
  await journal.close();
  return dir;
}

/** 100 rows: A passes rows 0–79, B rows 0–59; a continuous score that differs per row. */
function knownRun(): Rec[] {
  const recs: Rec[] = [];
  for (let row = 0; row < 100; row++) {
    recs.push({ model: "a", row, scores: { exact: pass(row < 80), sim: { value: (row % 10) / 10 } } });
    recs.push({ model: "b", row, scores: { exact: pass(row < 60), sim: { value: ((row + 3) % 10) / 10 } } });
  }
  return recs;
}

describe("analyzeRun", () => {
  it("computes intervals and verdicts that match src/stats on the same aligned data", async () => {
    const a = await analyzeRun(await writeRun(knownRun()));
    expect(a.rows).toBe(100);
    expect(a.trials).toBe(1);
    expect(a.scorers).toEqual([
      { name: "exact", kind: "binary" },
      { name: "sim", kind: "continuous" },
    ]);
    expect(a.primaryScorer).toBe("exact");
    const [ma, mb] = a.models;
    expect(ma!.name).toBe("a");
    const w = wilsonInterval(80, 100);
    expect(ma!.scorers.exact).toMatchObject({
      kind: "binary",
      method: "wilson",
      n: 100,
      errors: 0,
      mean: 0.8,
      low: w.low,
      high: w.high,
    });
    const simA = Array.from({ length: 100 }, (_, row) => (row % 10) / 10);
    const simB = Array.from({ length: 100 }, (_, row) => ((row + 3) % 10) / 10);
    const boot = bootstrapMeanInterval(simA, { seed: DEFAULT_SEED });
    expect(ma!.scorers.sim).toMatchObject({
      kind: "continuous",
      method: "bootstrap",
      mean: boot.mean,
      low: boot.low,
      high: boot.high,
    });
    expect(mb!.scorers.exact!.mean).toBe(0.6);

    const exact = a.pairs.find((p) => p.scorer === "exact")!;
    const exA = Array.from({ length: 100 }, (_, r) => (r < 80 ? 1 : 0));
    const exB = Array.from({ length: 100 }, (_, r) => (r < 60 ? 1 : 0));
    // Two comparisons (exact, sim) form one Holm family.
    const family = adjustFamily([
      comparePair(exA, exB, { binary: true, names: ["a", "b"], seed: DEFAULT_SEED, margin: 0.05 }),
      comparePair(simA, simB, { binary: false, names: ["a", "b"], seed: DEFAULT_SEED, margin: 0.05 }),
    ]);
    expect(exact.verdict).toEqual(family[0]);
    expect(exact.verdict.family).toBe(2);
    expect(a.multipleTesting).toEqual({ method: "holm", family: 2 });
    expect(exact.verdict.verdict).toBe("A better");
    expect(exact.verdict.test).toBe("mcnemar-exact");
    expect([exact.verdict.wins, exact.verdict.ties, exact.verdict.losses]).toEqual([20, 80, 0]);
    const sim = a.pairs.find((p) => p.scorer === "sim")!;
    expect(sim.verdict).toEqual(family[1]);
    expect(a.pairs).toHaveLength(2);
  });

  it("excludes failed calls from the statistics, counts them, and pairs only rows both models have", async () => {
    const recs = knownRun().map((r) => (r.model === "b" && r.row >= 95 ? { ...r, error: true } : r));
    const a = await analyzeRun(await writeRun(recs));
    const b = a.models.find((m) => m.name === "b")!;
    expect(b.results).toBe(100);
    expect(b.errors).toBe(5);
    expect(b.scorers.exact).toMatchObject({ n: 95, errors: 5, unscored: 0, mean: 0.6 * (100 / 95) });
    expect(b.finishReasons.error).toBe(5);
    expect(a.pairs.find((p) => p.scorer === "exact")!.verdict.n).toBe(95);
    // The histogram covers successful calls only.
    expect(b.latency.histogram.reduce((x, y) => x + y, 0)).toBe(95);
  });

  it("aggregates trials per row: mean for the statistics, pass@k and pass^k for binary scorers", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 30; row++) {
      for (let trial = 0; trial < 3; trial++) {
        // Rows 0–9 pass every trial, rows 10–19 only the first, rows 20–29 never.
        recs.push({ model: "a", row, trial, scores: { exact: pass(row < 10 || (row < 20 && trial === 0)) } });
        recs.push({ model: "b", row, trial, scores: { exact: pass(row < 10) } });
      }
    }
    const a = await analyzeRun(await writeRun(recs, { trials: 3 }));
    expect(a.trials).toBe(3);
    const s = a.models[0]!.scorers.exact!;
    expect(s.n).toBe(30);
    expect(s.results).toBe(90);
    expect(s.method).toBe("bootstrap");
    expect(s.mean).toBeCloseTo((10 + 10 / 3) / 30, 12);
    expect(s.passAtK).toBeCloseTo(20 / 30, 12);
    expect(s.passHatK).toBeCloseTo(10 / 30, 12);
    const rowMeans = Array.from({ length: 30 }, (_, r) => (r < 10 ? 1 : r < 20 ? 1 / 3 : 0));
    const boot = bootstrapMeanInterval(rowMeans, { seed: DEFAULT_SEED });
    expect(s.low).toBeCloseTo(boot.low!, 12);
    // Row means are not 0/1, so the paired test is the sign-flip test on them, not McNemar.
    const v = a.pairs[0]!.verdict;
    expect(v.test).toBe("sign-flip");
    expect(v.n).toBe(30);
    expect([v.wins, v.ties, v.losses]).toEqual([10, 20, 0]);
  });

  it("splits scores by finish reason and prices models from config", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 20; row++) {
      const truncated = row >= 15;
      recs.push({
        model: "cheap",
        row,
        finishReason: truncated ? "length" : "stop",
        scores: { exact: pass(!truncated && row % 2 === 0) },
        usage: [1000, 100],
      });
      recs.push({ model: "dear", row, scores: { exact: pass(row % 4 !== 0) }, usage: [1000, 300], latencyMs: 2500 });
    }
    const a = await analyzeRun(await writeRun(recs, {}, { cheap: [1, 2], dear: [10, 30] }));
    const cheap = a.models.find((m) => m.name === "cheap")!;
    expect(cheap.byFinishReason.length).toEqual({ n: 5, scores: { exact: { n: 5, mean: 0 } } });
    expect(cheap.byFinishReason.stop.n).toBe(15);
    expect(cheap.finishReasonRates).toEqual({ stop: 0.75, length: 0.25 });
    // 20 × (1000 in at $1/M + 100 out at $2/M) = 0.024; 8 passes.
    expect(cheap.cost!.total).toBeCloseTo(0.024, 12);
    expect(cheap.costPerPass).toBeCloseTo(0.024 / 8, 12);
    const dear = a.models.find((m) => m.name === "dear")!;
    expect(dear.latency.histogram[Math.floor(Math.log10(2500) * 4)]).toBe(20);
    expect(a.latencyBucketsMs).toBe(LATENCY_BUCKET_EDGES_MS);
    expect(a.pareto).toMatchObject({ scorer: "exact", costBasis: "cost per pass" });
    expect(a.pareto!.front.sort()).toEqual(["cheap", "dear"]);
    // 4 vs 11 discordant rows: McNemar p = 0.118, so neither "better" nor "ship the cheaper".
    expect(a.recommendation).toBe(
      "qa · exact: inconclusive: dear leads cheap by 35.0 points (95% CI -2.1 to 62.5, p = 0.118, n = 20); about 2,353 rows are needed to detect a 5-point difference.",
    );
    expect(a.recommendation.endsWith(".")).toBe(true);
  });

  it("keeps only the first N disagreements in row order, however the journal is ordered", async () => {
    const recs: Rec[] = [];
    for (let row = 99; row >= 0; row--) {
      recs.push({ model: "a", row, scores: { exact: pass(true) }, text: `a says ${row}` });
      recs.push({ model: "b", row, scores: { exact: pass(row % 2 === 0) }, text: `b says ${row}` });
    }
    const a = await analyzeRun(await writeRun(recs), { disagreements: 5 });
    expect(a.disagreements.scorer).toBe("exact");
    expect(a.disagreements.total).toBe(50);
    expect(a.disagreements.rows.map((r) => r.rowId)).toEqual(["r1", "r3", "r5", "r7", "r9"]);
    expect(a.disagreements.rows[0]).toEqual({
      dataset: "qa",
      rowId: "r1",
      line: 3,
      prompt: "question 1?",
      expected: "answer 1",
      models: {
        a: { output: "a says 1", finishReason: "stop", score: 1 },
        b: { output: "b says 1", finishReason: "stop", score: 0 },
      },
    });
  });

  it("uses the last journal line of a key when a resume re-tried an error", async () => {
    const recs: Rec[] = [
      { model: "a", row: 0, error: true },
      { model: "b", row: 0, scores: { exact: pass(true) } },
      { model: "a", row: 0, scores: { exact: pass(true) } },
    ];
    const a = await analyzeRun(await writeRun(recs, { mayHaveDuplicates: true }));
    expect(a.models.find((m) => m.name === "a")).toMatchObject({ results: 1, errors: 0 });
  });

  it("re-renders byte-identical reports", async () => {
    const dir = await writeRun(knownRun(), {}, { a: [1, 1], b: [2, 2] });
    const first = await writeRunReports(dir, { stepSummary: null });
    const before = await Promise.all(first.files.map((f) => readFile(f)));
    const second = await writeRunReports(dir, { stepSummary: null });
    const after = await Promise.all(second.files.map((f) => readFile(f)));
    expect(after).toEqual(before);
  });
});

describe("iterateRowsSideBySide", () => {
  it("groups every model's answer per row, in row order, keeping only the first `limit` rows", async () => {
    const recs: Rec[] = [];
    // Completion order scrambles rows and models, as a concurrent run does.
    for (const row of [7, 2, 9, 0, 5, 1, 8, 3, 6, 4]) {
      recs.push({ model: "b", row, scores: { exact: pass(false) }, text: `b${row}` });
      recs.push({ model: "a", row, scores: { exact: pass(true) }, text: `a${row}` });
    }
    const dir = await writeRun(recs);
    const analysis = await analyzeRun(dir);
    const rows: SideBySideRow[] = [];
    for await (const r of iterateRowsSideBySide(dir, analysis, { limit: 3 })) rows.push(r);
    expect(rows.map((r) => r.rowId)).toEqual(["r0", "r1", "r2"]);
    for (const r of rows) {
      expect(Object.keys(r.perModel)).toEqual(["b", "a"]);
      expect(r.perModel.a!.output).toBe(`a${r.rowId.slice(1)}`);
      expect(r.prompt).toBe(`question ${r.rowId.slice(1)}?`);
    }
  });
});

describe("decisions (issue 9)", () => {
  it("pass^k counts failed calls as failed trials, so a model that errors cannot rank first", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 10; row++) {
      for (let trial = 0; trial < 3; trial++) {
        // a: every answer right, but the third trial of each row fails. b: rows 0–4 always right, rows 5–9 never.
        recs.push({ model: "a", row, trial, ...(trial === 2 ? { error: true } : { scores: { exact: pass(true) } }) });
        recs.push({ model: "b", row, trial, scores: { exact: pass(row < 5) } });
      }
    }
    // Row 9 of b has only two trials recorded (an interrupted run).
    const a = await analyzeRun(
      await writeRun(
        recs.filter((r) => !(r.model === "b" && r.row === 9 && r.trial === 2)),
        { trials: 3 },
      ),
    );
    const sa = a.models.find((m) => m.name === "a")!.scorers.exact!;
    const sb = a.models.find((m) => m.name === "b")!.scorers.exact!;
    // a: 2 of 3 trials pass on every row → pass^3 = C(2,3)/C(3,3) = 0, pass@3 = 1.
    expect(sa.passHatK).toBe(0);
    expect(sa.passAtK).toBe(1);
    expect(sa.rowsBelowK).toBe(0);
    // b: rows 0–4 pass all 3, rows 5–8 none; row 9 has 2 trials < k and is reported, not averaged.
    expect(sb.passHatK).toBeCloseTo(5 / 9, 12);
    expect(sb.rowsBelowK).toBe(1);
  });

  it("a model above the error ceiling or failing a critical row is not recommended, and the headline says why", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 60; row++) {
      recs.push({ model: "big", row, scores: { exact: pass(row % 10 !== 0) }, tags: row === 3 ? "critical" : "" });
      recs.push({ model: "flaky", row, ...(row % 2 === 0 ? { error: true } : { scores: { exact: pass(true) } }) });
      recs.push({ model: "careless", row, scores: { exact: pass(row !== 3) }, tags: row === 3 ? "critical" : "" });
    }
    const a = await analyzeRun(await writeRun(recs));
    const d = a.decisions[0]!;
    expect(d.disqualified.map((x) => x.model).sort()).toEqual(["careless", "flaky"]);
    expect(a.recommendation).toBe(
      "qa · exact: big is the only eligible model (not eligible: flaky failed 50% of calls (ceiling 5%); careless failed critical row qa/r3).",
    );
  });

  it("kinds are declared, not guessed: an undeclared custom scorer is continuous even with 0/1 values; a declared one is binary", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 20; row++) {
      for (const model of ["a", "b"])
        recs.push({
          model,
          row,
          scores: { undeclared: pass(row % 2 === 0), declared: pass(row % 3 === 0), judge: { value: 0.5 } },
        });
    }
    const a = await analyzeRun(
      await writeRun(recs, {}, undefined, {
        scorers: [
          { type: "custom", name: "undeclared", module: "./x.mjs" },
          { type: "custom", name: "declared", module: "./y.mjs", kind: "binary" },
          { type: "llm_judge", name: "judge", model: "a" },
        ],
      }),
    );
    expect(a.scorers).toEqual([
      { name: "undeclared", kind: "continuous" },
      { name: "declared", kind: "binary" },
      { name: "judge", kind: "scale" },
    ]);
    expect(a.models[0]!.scorers.undeclared!.method).toBe("bootstrap");
    expect(a.models[0]!.scorers.declared!.method).toBe("wilson");
    // The headline names the dataset and its primary scorer (the first configured one).
    expect(a.recommendation.startsWith("qa · undeclared: ")).toBe(true);
  });

  it("decides each dataset on its own primary scorer, with cost per pass from that dataset's rows only; cached calls are avoided cost", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 10; row++) {
      // math: 1,000 prompt tokens per call; trivia: 10. The cheap model passes half of math, all trivia.
      recs.push({ model: "cheap", row, dataset: "math", usage: [1000, 0], scores: { exact: pass(row < 5) } });
      recs.push({
        model: "cheap",
        row,
        dataset: "trivia",
        usage: [10, 0],
        cached: row < 4,
        scores: { exact: pass(true), sim: { value: 1 } },
      });
    }
    const a = await analyzeRun(
      await writeRun(recs, {}, { cheap: [1, 0] }, { decision: { primary: { trivia: "sim" } } }),
    );
    expect(a.decisions.map((d) => `${d.dataset}:${d.scorer}`)).toEqual(["math:exact", "trivia:sim"]);
    const m = a.models[0]!;
    // math: 10 × 1000 tokens at $1/M = 0.01 over 5 passes; trivia (sim is continuous: no passes to divide by).
    expect(m.costPerPassByDataset.math).toBeCloseTo(0.002, 12);
    expect(m.costPerPassByDataset.trivia).toBeNull();
    // 4 trivia calls came from the cache: 40 tokens at list price avoided, not paid.
    expect(m.cached.results).toBe(4);
    expect(m.cached.avoidedCost).toBeCloseTo(40 / 1e6, 15);
    expect(m.cost!.total).toBeCloseTo((10_000 + 60) / 1e6, 15);
  });

  it("compares each dataset's decision on that dataset's rows only, and one dataset's on every row as the pair table does", async () => {
    const recs: Rec[] = [];
    for (let row = 0; row < 30; row++) {
      // math: a passes every row, b none; trivia (20 rows): both pass every row.
      recs.push({ model: "a", row, dataset: "math", scores: { exact: pass(true) } });
      recs.push({ model: "b", row, dataset: "math", scores: { exact: pass(false) } });
      if (row >= 20) continue;
      recs.push({ model: "a", row, dataset: "trivia", scores: { exact: pass(true) } });
      recs.push({ model: "b", row, dataset: "trivia", scores: { exact: pass(true) } });
    }
    const two = await analyzeRun(await writeRun(recs));
    expect(two.pairs.find((p) => p.scorer === "exact")!.verdict.n).toBe(50);
    expect(two.decisions.map((d) => [d.dataset, d.pairs[0]!.n, d.pairs[0]!.wins])).toEqual([
      ["math", 30, 30],
      ["trivia", 20, 0],
    ]);
    const one = await analyzeRun(await writeRun(recs.filter((r) => r.dataset === "math")));
    const pair = one.pairs.find((p) => p.scorer === "exact")!.verdict;
    const decided = one.decisions[0]!.pairs[0]!;
    expect(decided).toEqual(pair);
    // Equal, not the same object: each family's adjustment works on its own copy.
    expect(decided).not.toBe(pair);
  });
});
