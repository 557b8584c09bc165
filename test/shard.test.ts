/**
 * Shards: `run --shard i/n` runs a hash-chosen slice of the rows; `bakeoff merge` turns the n
 * shard runs of one plan into one run equal in content to the unsharded run, refuses what is not
 * such a set (exit 2), and gates the merged run like `run` gates a run. Emulated models, two
 * datasets (JSONL and CSV), two models, two trials.
 */
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  mergeShardRuns,
  parseConfig,
  parseShard,
  planRun,
  readJournal,
  readManifest,
  runEvaluation,
  shardOf,
  UsageError,
  whyNotComparable,
  type PredictionRecord,
  type RunManifest,
} from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const SUMS = 20;
const QA = 12;

/** A project folder: two datasets, two emulated models, two trials, a config file. */
async function project(extra: Record<string, unknown> = {}): Promise<{ dir: string; config: Record<string, unknown> }> {
  const dir = await tempDir("bakeoff-shard-");
  await writeFile(
    join(dir, "sums.jsonl"),
    Array.from({ length: SUMS }, (_, i) =>
      JSON.stringify({ id: `s${i}`, prompt: `What is ${i} + ${i * 7}?`, expected: String(i * 8) }),
    ).join("\n") + "\n",
  );
  await writeFile(
    join(dir, "qa.csv"),
    "id,prompt,expected\n" +
      Array.from({ length: QA }, (_, i) => `q${i},What is ${i * 3} + ${i + 11}?,${i * 4 + 11}`).join("\n") +
      "\n",
  );
  const config = {
    outputDir: "results",
    concurrency: 8,
    trials: 2,
    datasets: [
      { path: "sums.jsonl", scorers: [{ type: "numeric" }] },
      { path: "qa.csv", scorers: [{ type: "numeric" }] },
    ],
    models: [
      { name: "fast", endpoint: "emulator://fast", rpm: 60_000, tpm: 4_000_000 },
      { name: "slow", endpoint: "emulator://slow" },
    ],
    emulator: {
      models: {
        fast: { accuracy: 0.6, latency: { medianMs: 1, p95Ms: 3 } },
        slow: { accuracy: 0.9, latency: { medianMs: 2, p95Ms: 4 } },
      },
    },
    weave: { enabled: false },
    ...extra,
  };
  await writeFile(join(dir, "eval.config.json"), JSON.stringify(config));
  return { dir, config };
}

/** Runs the plan (or one shard of it) in-process into `<dir>/<out>/<runId>`. */
async function runPlan(
  dir: string,
  config: Record<string, unknown>,
  runId: string,
  options: { shard?: string; out?: string; stop?: boolean } = {},
) {
  const loaded = parseConfig(config, { file: join(dir, "eval.config.json"), baseDir: dir });
  const plan = await planRun(loaded, options.shard ? { shard: parseShard(options.shard) } : {});
  const stop = new AbortController();
  if (options.stop) stop.abort();
  const result = await runEvaluation({
    plan,
    outputDir: join(dir, options.out ?? "results"),
    runId,
    progress: undefined,
    log: () => undefined,
    stopSignal: stop.signal,
    reports: { stepSummary: null },
  });
  return { plan, result };
}

async function records(runDir: string): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  for await (const r of readJournal(join(runDir, "predictions.jsonl"))) out.push(r);
  return out;
}

/** A record without what depends on the clock or the request (timing, request ids). */
function timeless(r: PredictionRecord): unknown {
  const { startedAt: _s, endedAt: _e, ...rest } = r;
  const {
    latencyMs: _l,
    ttftMs: _t,
    requestId: _r,
    ...output
  } = r.output as typeof r.output & {
    ttftMs?: number;
    requestId?: string;
  };
  return { ...rest, output };
}

/** report.json without run identity, dates and latency (everything else must be equal). */
function reportContent(text: string): unknown {
  const doc = JSON.parse(text) as { run: Record<string, unknown>; models: Record<string, unknown>[] };
  const { runId: _id, startedAt: _s, endedAt: _e, mergedFrom: _m, ...run } = doc.run;
  return {
    ...doc,
    run,
    models: doc.models.map(({ latency: _l, ...m }) => m),
  };
}

async function usageError(p: Promise<unknown>): Promise<UsageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(2);
  return err as UsageError;
}

describe("shard assignment", () => {
  it("is a stable hash of dataset name and row id, balanced, and parses i/n as Playwright does", () => {
    // Pinned values: the rule must never change, or shards of one plan run by two versions (or
    // two machines) would overlap and leave gaps.
    // Values: 1 + (first 8 bytes of sha256("sums\0s<i>"), big-endian) mod 4.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => shardOf("sums", `s${i}`, 4))).toEqual([2, 1, 4, 3, 2, 4, 1, 2]);
    expect(shardOf("qa", "q1", 7)).toBe(2);
    expect(shardOf("qa", "q1", 1000)).toBe(263);
    expect(shardOf("sums", "s1", 1)).toBe(1);
    // The dataset is part of the key: the same id in two datasets is two rows.
    const moved = Array.from({ length: 200 }, (_, i) => shardOf("a", `r${i}`, 4) !== shardOf("b", `r${i}`, 4));
    expect(moved.filter(Boolean).length).toBeGreaterThan(100);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf("big", `row-${i}`, 4) - 1]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);

    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    expect(parseShard("1/1")).toEqual({ index: 1, count: 1 });
    for (const bad of ["0/4", "5/4", "1/0", "x", "1/", "-1/4", "1.5/4", ""]) {
      expect(() => parseShard(bad), bad).toThrow(UsageError);
      expect(() => parseShard(bad), bad).toThrow(/--shard must be i\/n/);
    }
  });
});

describe("shard runs merged", () => {
  it("4 shards are disjoint, cover every row, and merge into a run equal in content to the unsharded run", async () => {
    const { dir, config } = await project();
    const full = (await runPlan(dir, config, "full")).result;
    expect(full.status).toBe("complete");
    const fullRecords = await records(full.runDir);
    expect(fullRecords).toHaveLength((SUMS + QA) * 2 * 2);

    const shardKeys = new Set<string>();
    let shardTotal = 0;
    for (const i of [1, 2, 3, 4]) {
      const { result } = await runPlan(dir, config, `sh${i}`, { shard: `${i}/4`, out: "shards" });
      const m = result.manifest;
      expect(result.status).toBe("complete");
      expect(m.shard).toMatchObject({ index: i, count: 4 });
      // The whole plan's identity: one config hash and the dataset hashes for every shard.
      expect(m.configHash).toBe(full.manifest.configHash);
      expect(m.datasets.map((d) => d.sha256)).toEqual(full.manifest.datasets.map((d) => d.sha256));
      const recs = await records(result.runDir);
      expect(recs).toHaveLength(m.expected);
      expect(m.expected).toBe(m.datasets.reduce((n, d) => n + d.rows, 0) * 2 * 2);
      for (const r of recs) {
        expect(shardOf(r.dataset, r.rowId, 4)).toBe(i);
        expect(shardKeys.has(r.key)).toBe(false);
        shardKeys.add(r.key);
      }
      shardTotal += recs.length;
      // Every trial and model of a row went to the same shard.
      const perRow = new Map<string, number>();
      for (const r of recs) perRow.set(`${r.dataset}/${r.rowId}`, (perRow.get(`${r.dataset}/${r.rowId}`) ?? 0) + 1);
      for (const n of perRow.values()) expect(n).toBe(4);
      // Its reports say it is a shard and that the decision belongs to the merged run.
      expect(await readFile(join(result.runDir, "report.md"), "utf8")).toContain(
        `Shard ${i}/4: this run holds one slice of the rows; gates and compare run on the merged run`,
      );
      expect(JSON.parse(await readFile(join(result.runDir, "report.json"), "utf8")).run.shard).toEqual({
        index: i,
        count: 4,
      });
    }
    expect(shardTotal).toBe(fullRecords.length);
    expect([...shardKeys].sort()).toEqual(fullRecords.map((r) => r.key).sort());

    // Merged through the real CLI, shards given out of order.
    const merged = await runCli(
      ["merge", "shards/sh3", "shards/sh1", "shards/sh4", "shards/sh2", "--run-id", "merged", "--out", "results"],
      { cwd: dir },
    );
    expect(merged.stderr).toBe("");
    expect(merged.code).toBe(0);
    expect(merged.stdout).toContain("Merged 4 shard run(s) (sh1, sh2, sh3, sh4) into run merged: complete");
    const mergedDir = join(dir, "results", "merged");
    const mergedRecords = await records(mergedDir);
    const byKey = (rs: PredictionRecord[]) => [...rs].sort((a, b) => (a.key < b.key ? -1 : 1)).map((r) => timeless(r));
    expect(byKey(mergedRecords)).toEqual(byKey(fullRecords));
    // Canonical order: dataset position, row line, model position, trial.
    const order = (r: PredictionRecord) => [r.dataset === "sums" ? 0 : 1, r.line, r.model === "fast" ? 0 : 1, r.trial];
    for (let i = 1; i < mergedRecords.length; i++) {
      const a = order(mergedRecords[i - 1]!);
      const b = order(mergedRecords[i]!);
      const cmp = a.findIndex((x, k) => x !== b[k]);
      expect(cmp >= 0 && a[cmp]! < b[cmp]!, `record ${i} out of order`).toBe(true);
    }

    const m: RunManifest = await readManifest(mergedDir);
    expect(m.status).toBe("complete");
    expect(m.shard).toBeUndefined();
    expect(m.mergedFrom).toEqual(["sh1", "sh2", "sh3", "sh4"]);
    expect(m.configHash).toBe(full.manifest.configHash);
    expect(m.config).toEqual(full.manifest.config);
    expect(m.expected).toBe(full.manifest.expected);
    expect(m.datasets).toEqual(full.manifest.datasets);
    expect(m.sessions.map((s) => s.shard).sort()).toEqual([1, 2, 3, 4]);

    // Statistics, verdicts and recommendation: identical but for run identity, dates and latency.
    const fullReport = await readFile(join(full.runDir, "report.json"), "utf8");
    const mergedReport = await readFile(join(mergedDir, "report.json"), "utf8");
    expect(reportContent(mergedReport)).toEqual(reportContent(fullReport));
    const verdict = /^Verdict: .*$/m.exec(merged.stdout)![0];
    expect(verdict).toBe(`Verdict: ${JSON.parse(fullReport).recommendation}`);
    for (const f of ["report.md", "report.html", "predictions.csv", "junit.xml"])
      expect((await readFile(join(mergedDir, f), "utf8")).length).toBeGreaterThan(0);

    // The run index sees it as any run, in the same comparability group as the unsharded run.
    const index = (await readFile(join(dir, "results", "index.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { runId: string; group: string; shard?: string });
    const entry = (id: string) => index.find((e) => e.runId === id)!;
    expect(entry("merged").group).toBe(entry("full").group);
    expect(entry("merged").shard).toBeUndefined();

    // A shard is never a whole run's baseline; the merged run is.
    const sh2 = await readManifest(join(dir, "shards", "sh2"));
    expect(whyNotComparable(sh2, m)).toBe("it is shard 2/4 of a sharded run (compare the merged run)");
    expect(whyNotComparable(full.manifest, m)).toBeNull();

    // Gates and compare run on the merged run, with run's exit codes.
    const gated = await runCli(
      ["merge", ...[1, 2, 3, 4].map((i) => `shards/sh${i}`), "--run-id", "gated", "--baseline", "full"].concat([
        "--fail-on",
        "regression",
        "--fail-on",
        "errors>0.5",
      ]),
      { cwd: dir },
    );
    expect(gated.code).toBe(0);
    expect(gated.stdout).toMatch(/Compare full → gated: 2 model\(s\) matched/);
    expect(gated.stdout).toContain("Gate regression: PASS");
    expect(gated.stdout).toContain("Gate errors>0.5: PASS");
    const failing = await runCli(
      [
        "merge",
        ...[1, 2, 3, 4].map((i) => `shards/sh${i}`),
        "--run-id",
        "failing",
        "--fail-on",
        "floor:numeric<0.99@fast",
      ],
      { cwd: dir },
    );
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain("Gate floor:numeric<0.99@fast: FAIL");
    expect(failing.stderr).toContain("gate failed");
  }, 60_000);
});

describe("merge refuses what is not one plan's complete shards", () => {
  it("exits 2 naming the shard run: missing, duplicated, another plan, another split, unfinished, short journal, not a shard", async () => {
    const { dir, config } = await project();
    const out = join(dir, "shards");
    const at = (id: string) => join(out, id);
    await runPlan(dir, config, "a1", { shard: "1/2", out: "shards" });
    await runPlan(dir, config, "a2", { shard: "2/2", out: "shards" });
    const merge = (ids: string[], runId = "m") => mergeShardRuns({ shardDirs: ids.map(at), outputDir: out, runId });

    expect((await usageError(merge(["a1"]))).message).toMatch(/shard 2\/2 is missing \(given: 1\/2\)/);
    expect((await usageError(merge(["a1", "a1", "a2"]))).message).toMatch(/a1 is given twice/);
    await runPlan(dir, config, "b1", { shard: "1/2", out: "shards" });
    const twice = await usageError(merge(["a1", "b1", "a2"]));
    expect(twice.message).toMatch(/shard 1\/2 is given twice: run "a1" .* and run "b1"/);

    // Another plan: one trial instead of two (a different config hash).
    await runPlan(dir, { ...config, trials: 1 }, "other", { shard: "2/2", out: "shards" });
    const foreign = await usageError(merge(["a1", "other"]));
    expect(foreign.message).toMatch(/run "other" \(shard 2\/2\) in .* is not a shard of the same plan as run "a1"/);
    expect(foreign.message).toContain("different config");
    // The same plan split another way.
    await runPlan(dir, config, "third", { shard: "2/3", out: "shards" });
    expect((await usageError(merge(["a1", "third"]))).message).toMatch(
      /run "third" \(shard 2\/3\).*split into 3 shards, not 2/,
    );

    // An unfinished shard: stopped before any call.
    const stopped = await runPlan(dir, config, "c2", { shard: "2/2", out: "shards", stop: true });
    expect(stopped.result.status).toBe("interrupted");
    expect((await usageError(merge(["a1", "c2"]))).message).toMatch(
      /run "c2" \(shard 2\/2\) in .* is interrupted, not complete; finish it first with: bakeoff run --resume c2/,
    );
    // A shard whose run.json says complete but whose journal lost results.
    const journal = join(at("a2"), "predictions.jsonl");
    const lines = (await readFile(journal, "utf8")).trimEnd().split("\n");
    await writeFile(journal, lines.slice(0, -3).join("\n") + "\n");
    expect((await usageError(merge(["a1", "a2"]))).message).toMatch(
      new RegExp(`run "a2" \\(shard 2/2\\) in .* has ${lines.length - 3} of its ${lines.length} expected results`),
    );
    // A shard copied without its journal.
    await unlink(join(at("b1"), "predictions.jsonl"));
    expect((await usageError(merge(["b1", "a2"]))).message).toMatch(
      /run "b1" \(shard 1\/2\) in .* has no predictions\.jsonl/,
    );
    // A whole run is not a shard.
    const whole = await runPlan(dir, config, "whole", { out: "shards" });
    expect(whole.result.status).toBe("complete");
    expect((await usageError(merge(["a1", "whole"]))).message).toMatch(/run "whole" in .* is not a shard run/);
    // Nothing was written for any refused merge.
    await expect(readManifest(at("m"))).rejects.toThrow(/not a bakeoff run/);
  }, 60_000);
});

describe("rate budgets of a shard run", () => {
  it("divides rpm and tpm by n (recorded in run.json), keeps the plan's figures in the snapshot, concurrency per machine", async () => {
    const { dir, config } = await project();
    const { plan, result } = await runPlan(dir, config, "q2", { shard: "2/4", out: "shards" });
    expect(plan.models.find((m) => m.name === "fast")).toMatchObject({ rpm: 15_000, tpm: 1_000_000 });
    expect(plan.models.find((m) => m.name === "slow")?.rpm).toBeUndefined();
    expect(plan.concurrency).toBe(8);
    const m = await readManifest(result.runDir);
    expect(m.shard).toEqual({ index: 2, count: 4, limits: { fast: { rpm: 15_000, tpm: 1_000_000 }, slow: {} } });
    expect(m.config.models[0]).toMatchObject({ rpm: 60_000, tpm: 4_000_000 });

    const loaded = parseConfig({ ...config, shards: { divideLimits: false } }, { file: "x.json", baseDir: dir });
    const kept = await planRun(loaded, { shard: { index: 2, count: 4 } });
    expect(kept.models.find((x) => x.name === "fast")).toMatchObject({ rpm: 60_000, tpm: 4_000_000 });
    expect(kept.shard?.limits.fast).toEqual({ rpm: 60_000, tpm: 4_000_000 });
    // Judges share their deployment's quota across shards too.
    const judged = parseConfig(
      {
        ...config,
        scorers: [
          { type: "llm_judge", model: { name: "referee", endpoint: "emulator://slow", rpm: 1_000, tpm: 80_000 } },
        ],
      },
      { file: "x.json", baseDir: dir },
    );
    const withJudge = await planRun(judged, { shard: { index: 1, count: 4 } });
    expect(withJudge.judges.specs.find((x) => x.name === "referee")).toMatchObject({ rpm: 250, tpm: 20_000 });
    expect(withJudge.shard?.limits.referee).toEqual({ rpm: 250, tpm: 20_000 });
    expect(judged.config.scorers[0]).toMatchObject({ model: { rpm: 1_000, tpm: 80_000 } });
    expect(() => parseConfig({ ...config, shards: { divideLimits: "yes" } }, { file: "x.json", baseDir: dir })).toThrow(
      /shards\.divideLimits/,
    );
  }, 30_000);
});

describe("bakeoff run --shard and merge through the CLI", () => {
  it("rejects bad --shard values and gates on a shard; a stopped shard resumes as itself; merge takes it once complete", async () => {
    const { dir } = await project();
    // Every bad form is checked through parseShard above; one spawn proves the CLI's exit code and message.
    const bad = await runCli(["run", "--shard=5/4"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'bakeoff: --shard must be i/n with 1 ≤ i ≤ n, e.g. --shard 2/4 (got "5/4"): there are only 4 shards',
    );
    const gated = await runCli(["run", "--shard", "1/2", "--fail-on", "errors>0.1"], { cwd: dir });
    expect(gated.code).toBe(2);
    expect(gated.stderr).toContain("--baseline and --fail-on cannot be used with --shard");

    const one = await runCli(["run", "--shard", "1/2", "--run-id", "n1", "--out", "shards", "--progress", "off"], {
      cwd: dir,
    });
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/Shard 1\/2: \d+ results in this shard; gates and compare run on the merged run/);
    // Shard 2 is cut short by its deadline (exit 3), so merge refuses it, then it resumes as shard 2/2.
    const cut = await runCli(
      ["run", "--shard=2/2", "--run-id", "n2", "--out", "shards", "--max-duration", "1ms", "--progress", "off"],
      { cwd: dir },
    );
    expect(cut.code).toBe(3);
    const early = await runCli(["merge", "n1", "n2", "--out", "shards", "--run-id", "nightly"], { cwd: dir });
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/run "n2" \(shard 2\/2\) in .* is incomplete, not complete/);
    const resumed = await runCli(["run", "--resume", "n2", "--out", "shards", "--progress", "off"], { cwd: dir });
    expect(resumed.code).toBe(0);
    const n2 = await readManifest(join(dir, "shards", "n2"));
    expect(n2.shard).toMatchObject({ index: 2, count: 2 });
    expect(n2.status).toBe("complete");
    const merged = await runCli(["merge", "n1", "n2", "--out", "shards", "--run-id", "nightly"], { cwd: dir });
    expect(merged.code).toBe(0);
    const m = await readManifest(join(dir, "shards", "nightly"));
    expect(m.expected).toBe((SUMS + QA) * 2 * 2);
    expect(await records(join(dir, "shards", "nightly"))).toHaveLength(m.expected);
    // A later merge into the same id is refused, nothing overwritten.
    const again = mergeShardRuns({
      shardDirs: ["n1", "n2"].map((id) => join(dir, "shards", id)),
      outputDir: join(dir, "shards"),
      runId: "nightly",
    });
    expect((await usageError(again)).message).toContain('run "nightly" already exists');
    expect((await readManifest(join(dir, "shards", "nightly"))).status).toBe("complete");
  }, 60_000);
});
