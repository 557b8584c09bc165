/**
 * The run index (results/index.jsonl) and `bakeoff history`: every CLI run is indexed, runs made
 * through the library are indexed on demand from their directories, and the trend keeps to runs
 * of the same dataset.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syncRunIndex } from "../src/report/index-entry.js";
import { historyTable, renderHistoryText, sparkline } from "../src/run/history.js";
import { readRunIndex, type RunIndexEntry } from "../src/store/run-index.js";
import { parseConfig, planRun, runEvaluation } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { runFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

describe("run index and history", () => {
  it("indexes every CLI run, back-fills library runs, and prints a per-model trend of the newest dataset", async () => {
    const dir = await tempDir();
    const fx = await runFixture(dir, {
      rows: 20,
      sims: {
        small: { accuracy: 0.5, latency: { medianMs: 1, p95Ms: 2 } },
        large: { accuracy: 1, latency: { medianMs: 1, p95Ms: 2 } },
      },
      extraConfig: {},
    });
    try {
      const cfg = JSON.parse(await readFile(fx.config, "utf8"));
      cfg.models[0].pricing = { inputPerMillion: 1, outputPerMillion: 2 };
      await writeFile(fx.config, JSON.stringify(cfg));
      for (const id of ["r1", "r2"]) {
        const res = await runCli(["run", "--config", fx.config, "--no-weave", "--run-id", id], {
          cwd: dir,
          env: fx.env,
        });
        expect(res.code).toBe(0);
      }
      const index = await readRunIndex(fx.results);
      expect(index.map((e) => e.runId)).toEqual(["r1", "r2"]);
      const e = index[1]!;
      expect(e.configHash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.datasetHash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.datasetHash).toBe(index[0]!.datasetHash);
      expect(e.datasets).toEqual([{ name: "sums", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rows: 20 }]);
      expect(e.models.map((m) => m.name).sort()).toEqual(["large", "small"]);
      expect(e.models.find((m) => m.name === "large")!.scores.numeric).toBe(1);
      expect(e.cost).toBeGreaterThan(0);
      expect(e.models.find((m) => m.name === "large")!.cost).toBeNull();

      // A run made through the library with reports off, on a changed dataset: not yet indexed.
      const other = join(dir, "other.jsonl");
      await writeFile(
        other,
        Array.from({ length: 5 }, (_, i) =>
          JSON.stringify({ id: `o${i}`, prompt: `What is ${i} + 1?`, expected: String(i + 1) }),
        ).join("\n") + "\n",
      );
      const loaded = parseConfig(
        { ...cfg, datasets: [{ path: other, scorers: [{ type: "numeric" }] }] },
        { baseDir: dir },
      );
      await runEvaluation({
        plan: await planRun(loaded, { env: fx.env }),
        outputDir: fx.results,
        runId: "r3",
        log: () => {},
        reports: false,
      });
      expect((await readRunIndex(fx.results)).map((x) => x.runId)).toEqual(["r1", "r2"]);

      const res = await runCli(["history", "--out", fx.results], { cwd: dir });
      expect(res.code).toBe(0);
      // The newest run is r3 (another dataset): its trend has one run.
      expect(res.stdout).toMatch(/Last 1 run\(s\) of \w+ \(datasets [0-9a-f]{12}\):\n {2}#1 r3 /);
      expect((await readRunIndex(fx.results)).map((x) => x.runId)).toEqual(["r1", "r2", "r3"]);
      // Re-indexing is idempotent: one line per run, however often history syncs.
      await runCli(["history", "--out", fx.results], { cwd: dir });
      expect((await readFile(join(fx.results, "index.jsonl"), "utf8")).trim().split("\n")).toHaveLength(3);

      const all = await runCli(["history", "--out", fx.results, "--all-datasets"], { cwd: dir });
      expect(all.stdout).toMatch(/Last 3 run\(s\) \(all datasets\)/);
      expect(all.stdout).toMatch(/^large\s+numeric\s+1\.000\s+1\.000\s+1\.000\s+\S+\s+\+0\.000$/m);

      // Trend over the dataset of r1/r2 only.
      const table = historyTable(await readRunIndex(fx.results), { datasetHash: e.datasetHash });
      expect(table.runs.map((r) => r.runId)).toEqual(["r1", "r2"]);
      const small = table.lines.find((l) => l.model === "small" && l.scorer === "numeric")!;
      expect(small.values).toHaveLength(2);
      expect(small.values[0]).toBe(small.values[1]); // same seed and prompts: same answers
    } finally {
      await fx.emulator.close();
    }
  }, 60_000);

  it("reads the last line per run id and survives a torn tail", async () => {
    const dir = await tempDir();
    const entry = (runId: string, status: RunIndexEntry["status"], score: number): RunIndexEntry => ({
      v: 1,
      runId,
      dir: runId,
      startedAt: `2026-01-0${runId.slice(1)}T00:00:00Z`,
      status,
      configHash: "c",
      datasetHash: "d",
      datasets: [],
      models: [{ name: "m", n: 1, errors: 0, scores: { s: score }, cost: null }],
      cost: null,
    });
    await writeFile(
      join(dir, "index.jsonl"),
      [entry("r1", "interrupted", 0.1), entry("r2", "complete", 0.5), entry("r1", "complete", 0.9)]
        .map((x) => JSON.stringify(x))
        .join("\n") + '\n{"v":1,"runId":"r3"',
    );
    const index = await readRunIndex(dir);
    expect(index.map((x) => [x.runId, x.status])).toEqual([
      ["r1", "complete"],
      ["r2", "complete"],
    ]);
    const text = renderHistoryText(historyTable(index)).join("\n");
    expect(text).toMatch(/^m\s+s\s+0\.900\s+0\.500\s+█▁\s+-0\.400$/m);
    expect(sparkline([0, null, 1])).toBe("▁ █");
    // Nothing in the dir is a run: syncing indexes nothing new and keeps what is there.
    expect((await syncRunIndex(dir)).map((x) => x.runId)).toEqual(["r1", "r2"]);
  });

  it("keeps --limit and --trials runs out of another run's trend, and labels the group by dataset name", () => {
    const entry = (runId: string, day: number, over: Partial<RunIndexEntry>, score: number): RunIndexEntry => ({
      v: 1,
      runId,
      dir: runId,
      startedAt: `2026-01-${String(day).padStart(2, "0")}T00:00:00Z`,
      status: "complete",
      configHash: "c",
      datasetHash: "d1",
      datasets: [
        { name: "arithmetic", sha256: "aa", rows: 42 },
        { name: "capitals", sha256: "cc", rows: 30 },
      ],
      models: [{ name: "m", n: 72, errors: 0, scores: { numeric: score }, cost: null }],
      cost: null,
      ...over,
    });
    const index = [
      entry("n1", 1, { trials: 1, limits: "" }, 0.9),
      entry("smoke", 2, { trials: 1, limits: "arithmetic:5,capitals:5" }, 0.2),
      entry("t5", 3, { trials: 5, limits: "" }, 0.5),
      entry(
        "other",
        4,
        { datasetHash: "d2", datasets: [{ name: "qa", sha256: "qq", rows: 10 }], trials: 1, limits: "" },
        0.1,
      ),
      entry("n2", 5, { trials: 1, limits: "" }, 0.8),
    ];
    // Entries indexed before groups existed (no trials/limits/group fields) still group by dataset.
    const legacy = entry("n0", 0, {}, 0.95);
    const t = historyTable([legacy, ...index]);
    expect(t.runs.map((r) => r.runId)).toEqual(["n0", "n1", "n2"]);
    expect(t.label).toBe("arithmetic, capitals");
    const text = renderHistoryText(t).join("\n");
    expect(text).toMatch(/^Last 3 run\(s\) of arithmetic, capitals \(datasets d1\):/);
    expect(text).not.toContain("smoke");
    // The smoke test's own trend has only smoke tests in it, and says so.
    const smoke = historyTable(index.slice(0, 2));
    expect(smoke.runs.map((r) => r.runId)).toEqual(["smoke"]);
    expect(smoke.label).toBe("arithmetic, capitals (limit arithmetic:5,capitals:5)");
    expect(historyTable(index.slice(0, 3)).label).toBe("arithmetic, capitals × 5 trials");
  });
});
