/**
 * `bakeoff merge` at scale: 4 fabricated shard runs of N rows × 3 models (1 trial), merged with
 * mergeShardRuns (check every record, sort index, k-way merge, byte-for-byte copy). Reported as a
 * ratio to an ideal measured in the same run: reading every shard journal through readJournal and
 * appending each line to one JournalWriter (the cost of touching every record once, no checks, no
 * order). Peak RSS is measured in a child process per phase, so generation does not count.
 *
 *   npx tsx bench/merge.ts [--rows 100000] [--write]
 *
 * `--write` replaces the section between `<!-- bench:merge:start/end -->` in BENCHMARKS.md
 * (appending it when absent).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JournalWriter, mergeShardRuns, readJournal, shardOf } from "../src/index.js";
import { writeBenchSection } from "./benchmarks-md.js";

const SELF = fileURLToPath(import.meta.url);
const MODELS = ["a", "b", "c"];
const flag = (name: string) => process.argv.includes(name);
const value = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

/** Writes 4 shard runs of `rows` rows × 3 models under `dir/shards/s<i>`, in completion-like order. */
function generate(dir: string, rows: number): void {
  const counts = [0, 0, 0, 0];
  const chunks: string[][] = [[], [], [], []];
  for (const i of [1, 2, 3, 4]) mkdirSync(join(dir, "shards", `s${i}`), { recursive: true });
  const flush = (s: number) => {
    appendFileSync(join(dir, "shards", `s${s + 1}`, "predictions.jsonl"), chunks[s]!.join(""));
    chunks[s] = [];
  };
  for (let k = 0; k < rows; k++) {
    const s = shardOf("d", `r${k}`, 4) - 1;
    counts[s]!++;
    // Models in reverse: the journal is not in canonical order, as after a real run.
    for (const m of [...MODELS].reverse()) {
      chunks[s]!.push(
        JSON.stringify({
          v: 1,
          key: `d/r${k}/${m}/0`,
          dataset: "d",
          rowId: `r${k}`,
          line: k + 1,
          model: m,
          trial: 0,
          input: { messages: [{ role: "user", content: `What is ${k} + ${k}? Answer with a number.` }], vars: {} },
          expected: String(2 * k),
          output: {
            text: `The answer is ${2 * k}.`,
            finishReason: "stop",
            usage: { promptTokens: 20, completionTokens: 6, totalTokens: 26 },
            latencyMs: 12.5,
            attempts: 1,
          },
          scores: { numeric: { value: 1, pass: true, reason: "ok" } },
          startedAt: "2026-01-01T00:00:00.000Z",
          endedAt: "2026-01-01T00:00:01.000Z",
        }) + "\n",
      );
    }
    if (chunks[s]!.length >= 3000) flush(s);
  }
  for (let s = 0; s < 4; s++) {
    flush(s);
    const manifest = {
      v: 1,
      runId: `s${s + 1}`,
      status: "complete",
      startedAt: "2026-01-01T00:00:00Z",
      endedAt: "2026-01-01T01:00:00Z",
      sessions: [{ startedAt: "2026-01-01T00:00:00Z", resumed: false, sent: counts[s]! * 3, skipped: 0 }],
      tool: { name: "bakeoff", version: "bench", node: process.version },
      configHash: "bench",
      config: { datasets: [{ path: "d.jsonl" }], models: MODELS.map((name) => ({ name })), gates: [] },
      datasets: [{ name: "d", path: "d.jsonl", resolvedPath: "/d.jsonl", sha256: "x", rows: counts[s], skipped: 0 }],
      models: MODELS.map((name) => ({ name, provider: "azure-ai-inference", endpoint: "emulator://x", params: {} })),
      trials: 1,
      expected: counts[s]! * 3,
      shard: { index: s + 1, count: 4, limits: {} },
    };
    writeFileSync(join(dir, "shards", `s${s + 1}`, "run.json"), JSON.stringify(manifest));
  }
}

/** One measured phase in this (child) process: prints {cpuMs, wallMs, maxRssMB, records}. */
async function phase(kind: string, dir: string): Promise<void> {
  const shardDirs = [1, 2, 3, 4].map((i) => join(dir, "shards", `s${i}`));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let records = 0;
  if (kind === "ideal") {
    const jw = await JournalWriter.open(join(dir, "ideal.jsonl"));
    for (const d of shardDirs) {
      for await (const rec of readJournal(join(d, "predictions.jsonl"))) {
        jw.appendSerialized(JSON.stringify(rec));
        if (++records % 2000 === 0) await jw.flush();
      }
    }
    await jw.close();
  } else {
    records = (await mergeShardRuns({ shardDirs, outputDir: join(dir, "out"), runId: `m${Date.now()}` })).records;
  }
  const cpu = process.cpuUsage(c0);
  process.stdout.write(
    JSON.stringify({
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      wallMs: Math.round(performance.now() - t0),
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      records,
    }),
  );
}

function journalMB(dir: string): number {
  const bytes = [1, 2, 3, 4].reduce((n, i) => n + statSync(join(dir, "shards", `s${i}`, "predictions.jsonl")).size, 0);
  return Math.round(bytes / 2 ** 20);
}

interface Phase {
  cpuMs: number;
  wallMs: number;
  maxRssMB: number;
  records: number;
}

function child(kind: string, dir: string): Phase {
  const out = execFileSync(process.execPath, [...process.execArgv, SELF, "--phase", kind, "--dir", dir], {
    encoding: "utf8",
  });
  return JSON.parse(out) as Phase;
}

async function main(): Promise<void> {
  const phaseKind = value("--phase");
  if (phaseKind) return phase(phaseKind, value("--dir")!);
  const rows = Number(value("--rows") ?? 100_000);
  const dir = join(tmpdir(), `bakeoff-bench-merge-${process.pid}`);
  try {
    generate(dir, rows);
    const ideal = child("ideal", dir);
    const merge = child("merge", dir);
    const load = loadavg()[0]!.toFixed(1);
    const text = [
      `_Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}; 1-min load average ${load}; \`npx tsx bench/merge.ts --rows ${rows} --write\`._`,
      "",
      `4 shard runs, ${rows.toLocaleString("en-US")} rows × 3 models = ${merge.records.toLocaleString("en-US")} records (${journalMB(dir)} MB of journal). Peak RSS is the whole child process (Node, tsx, heap slack); the merge's own index is 36 B/record (typed arrays).`,
      "",
      "| phase | CPU | wall | peak RSS |",
      "| --- | --- | --- | --- |",
      `| ideal: readJournal every shard + one JournalWriter, no checks, no order | ${ideal.cpuMs} ms | ${ideal.wallMs} ms | ${ideal.maxRssMB} MB |`,
      `| \`mergeShardRuns\`: check every record, sort index, k-way merge, copy | ${merge.cpuMs} ms | ${merge.wallMs} ms | ${merge.maxRssMB} MB |`,
      `| ratio merge / ideal | ${(merge.cpuMs / ideal.cpuMs).toFixed(2)} | ${(merge.wallMs / ideal.wallMs).toFixed(2)} | +${merge.maxRssMB - ideal.maxRssMB} MB (${((((merge.maxRssMB - ideal.maxRssMB) * 2 ** 20) / merge.records) | 0).toString()} B/record) |`,
    ].join("\n");
    process.stdout.write(text + "\n");
    if (flag("--write")) await writeBenchSection("merge", text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
