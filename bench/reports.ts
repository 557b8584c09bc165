/**
 * Reports at scale: `bakeoff report` and `bakeoff compare` over a 1,000,000-record journal.
 *
 *   npm run build && npx tsx bench/reports.ts [--records 1000000] [--write] [--keep] [--profile]
 *
 * Fixture: a real 50-row run of the shipped config (emulator, two datasets, two models, four
 * scorer columns) gives record and run.json templates; the bench then writes a journal of
 * `--records` records (records / 2 rows × 2 models, rows alternating between the two datasets)
 * by copying those records with fresh row ids and seeded pass/fail draws (small passes 75%, large
 * 95%), and a second run with other draws to compare against. Records are ~1 KB each, as real ones.
 *
 * Measured, each as its own process (`node bin/bakeoff.js`, so start-up is included), with the
 * process's own `process.resourceUsage()` at exit (peak RSS, CPU) and the wall time:
 * - floor: read the journal and JSON.parse every line once, nothing else (what any report costs),
 *   as a utf8 stream split by string search (the historical floor), and as bytes split at newlines
 *   and decoded per line (how src/store/journal.ts reads since the one-pass report);
 * - `bakeoff report <run>`: all five reports plus the run index entry;
 * - `bakeoff compare <a> <b>`: compare.md/.json/.html of two such runs.
 * Targets (issue 14): report ≤ 20 s, report and compare ≤ 300 MB peak RSS.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PredictionRecord } from "../src/types.js";
import { writeBenchSection } from "./benchmarks-md.js";
import { flag, option } from "./args.js";
import { RECORD_WORKER_TAIL } from "../src/report/run-report.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const RECORDS = Number(option("--records", "1000000"));
const WRITE = flag("--write");
const KEEP = flag("--keep");
const PROFILE = flag("--profile");
const REPORT_TARGET_S = 20;
const RSS_TARGET_MB = 300;

const log = (msg: string) => console.error(`[reports] ${msg}`);

/** What a measured child process reports about itself at exit, plus its wall time. */
interface Usage {
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
  code: number | null;
  /**
   * CPU of each JavaScript thread (main first, then workers), from /proc/thread-self/stat at the
   * thread's exit (Linux; empty elsewhere). With two threads on two idle cores the wall time is
   * about the larger of the two plus start-up, so this says what an idle machine would show even
   * when the bench runs on a busy one. V8's own GC helper threads are in `cpuMs` only.
   */
  threadCpuMs: number[];
}

/**
 * A preload that writes the process's own resource usage to $BENCH_USAGE_OUT at exit, and each
 * thread's CPU (preloads run in worker threads too) as a line of $BENCH_USAGE_OUT.threads.
 */
const PRELOAD = `import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";
const threadCpuMs = () => {
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks (100 per second on Linux), after the ") ".
    const f = readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
};
process.on("exit", () => {
  appendFileSync(process.env.BENCH_USAGE_OUT + ".threads", (isMainThread ? "main " : "worker ") + threadCpuMs() + "\\n");
  if (!isMainThread) return;
  const u = process.resourceUsage();
  writeFileSync(process.env.BENCH_USAGE_OUT, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMb: u.maxRSS / 1024 }));
});
`;

async function measure(
  dir: string,
  label: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Usage> {
  const out = join(dir, `usage-${label}.json`);
  const preload = join(dir, "usage-preload.mjs");
  await writeFile(preload, PRELOAD);
  await rm(`${out}.threads`, { force: true });
  const prof = PROFILE
    ? ["--cpu-prof", `--cpu-prof-dir=${join(ROOT, "bench-profiles")}`, `--cpu-prof-name=${label}.cpuprofile`]
    : [];
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", preload, ...prof, ...args], {
      cwd,
      env: { ...process.env, BENCH_USAGE_OUT: out, GITHUB_STEP_SUMMARY: "", ...env },
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", resolve);
  });
  const wallMs = performance.now() - t0;
  const u = JSON.parse(await readFile(out, "utf8")) as { cpuMs: number; maxRssMb: number };
  const threads = (await readFile(`${out}.threads`, "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ") as [string, string])
    .sort((a, b) => (a[0] === b[0] ? 0 : a[0] === "main" ? -1 : 1));
  const threadCpuMs = threads.map(([, ms]) => Number(ms)).filter((ms) => Number.isFinite(ms));
  log(
    `${label}: exit ${code}, ${(wallMs / 1000).toFixed(2)} s wall, ${(u.cpuMs / 1000).toFixed(2)} s CPU (threads: ${threads.map(([t, ms]) => `${t} ${(Number(ms) / 1000).toFixed(2)} s`).join(", ")}), ${u.maxRssMb.toFixed(0)} MB peak RSS`,
  );
  return { wallMs, code, ...u, threadCpuMs };
}

/** The floor: stream the file, split lines, JSON.parse each, nothing else. */
const FLOOR = `import { createReadStream } from "node:fs";
let n = 0, rest = "";
for await (const chunk of createReadStream(process.argv[2], { encoding: "utf8", highWaterMark: 1 << 20 })) {
  const lines = (rest + chunk).split("\\n");
  rest = lines.pop();
  for (const l of lines) if (l) { JSON.parse(l); n++; }
}
if (rest) { JSON.parse(rest); n++; }
console.error("parsed " + n);
`;

/** The floor as the journal reader does it: bytes split at \n, each line decoded, JSON.parse. */
const FLOOR_BYTES = `import { open } from "node:fs/promises";
const fh = await open(process.argv[2], "r");
let buf = Buffer.allocUnsafe(1 << 20), have = 0, pos = 0, n = 0;
for (;;) {
  const { bytesRead } = await fh.read(buf, have, buf.length - have, pos + have);
  const end = have + bytesRead;
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl >= 0 && nl < end; nl = buf.indexOf(10, start)) {
    const line = buf.toString("utf8", start, nl);
    start = nl + 1;
    if (line) { JSON.parse(line); n++; }
  }
  if (bytesRead === 0) break;
  have = end - start;
  buf.copy(buf, 0, start, end);
  pos += start;
  if (have === buf.length) { const b = Buffer.allocUnsafe(buf.length * 2); buf.copy(b, 0, 0, have); buf = b; }
}
await fh.close();
console.error("parsed " + n);
`;

/** mulberry32: a small seeded PRNG so the fixture is the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the shipped config on 50 rows (emulator, no Weave) and returns the run directory. */
async function templateRun(dir: string): Promise<string> {
  const config = JSON.parse(await readFile(join(ROOT, "eval.config.json"), "utf8"));
  delete config.$schema;
  for (const d of config.datasets) d.path = join(ROOT, d.path);
  config.outputDir = join(dir, "template");
  config.weave = { enabled: false };
  await writeFile(join(dir, "template.json"), JSON.stringify(config));
  const code = await new Promise<number | null>((resolve) => {
    spawn(
      process.execPath,
      [
        join(ROOT, "bin/bakeoff.js"),
        "run",
        "--config",
        join(dir, "template.json"),
        "--limit",
        "50",
        "--progress",
        "off",
      ],
      { cwd: dir, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, GITHUB_STEP_SUMMARY: "" } },
    ).on("exit", resolve);
  });
  if (code !== 0) throw new Error(`template run exited ${code}`);
  const [run] = await readdir(config.outputDir as string, { withFileTypes: true }).then((e) =>
    e.filter((x) => x.isDirectory()).map((x) => x.name),
  );
  return join(config.outputDir as string, run!);
}

/** Writes run `runId` with `records` records into `outDir/runId`, built from the template run. */
async function synthesize(template: string, outDir: string, runId: string, records: number, seed: number) {
  const manifest = JSON.parse(await readFile(join(template, "run.json"), "utf8"));
  const lines = (await readFile(join(template, "predictions.jsonl"), "utf8")).split("\n").filter(Boolean);
  const recs = lines.map((l) => JSON.parse(l) as PredictionRecord);
  const models: string[] = manifest.models.map((m: { name: string }) => m.name);
  const datasets: string[] = manifest.datasets.map((d: { name: string }) => d.name);
  // Template records per dataset × model, in row order.
  const byDm = new Map<string, PredictionRecord[]>();
  for (const r of recs.sort((a, b) => a.line - b.line)) {
    const k = `${r.dataset}\u0000${r.model}`;
    if (!byDm.has(k)) byDm.set(k, []);
    byDm.get(k)!.push(r);
  }
  const accuracy: Record<string, number> = { [models[0]!]: 0.75, [models[1]!]: 0.95 };
  const rand = prng(seed);
  const rows = Math.floor(records / models.length);
  const perDataset = datasets.map((_, d) => Math.floor(rows / datasets.length) + (d < rows % datasets.length ? 1 : 0));
  const dir = join(outDir, runId);
  await mkdir(dir, { recursive: true });
  const out = createWriteStream(join(dir, "predictions.jsonl"));
  let buf = "";
  for (let i = 0; i < rows; i++) {
    const d = i % datasets.length;
    const line = Math.floor(i / datasets.length) + 1;
    for (const model of models) {
      const list = byDm.get(`${datasets[d]}\u0000${model}`)!;
      const t = list[(line - 1) % list.length]!;
      const rowId = `${t.rowId}-${i}`;
      const pass = rand() < accuracy[model]!;
      const scores: PredictionRecord["scores"] = {};
      for (const [name, s] of Object.entries(t.scores)) {
        scores[name] = name === "finish_stop" ? s : { ...s, value: pass ? 1 : 0, pass };
      }
      const rec: PredictionRecord = {
        ...t,
        key: `${datasets[d]}/${rowId}/${model}/${t.trial}`,
        rowId,
        line,
        input: { ...t.input, vars: { ...t.input.vars, id: rowId } },
        output: {
          ...t.output,
          latencyMs: Math.round(20 + rand() * 200) / 10 + 20,
          requestId: `req-${seed}-${i}-${model}`,
        },
        scores,
      };
      buf += JSON.stringify(rec) + "\n";
    }
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, "drain");
      buf = "";
    }
  }
  out.end(buf);
  await once(out, "finish");
  manifest.runId = runId;
  manifest.status = "complete";
  manifest.expected = rows * models.length;
  manifest.datasets = manifest.datasets.map((ds: object, d: number) => ({ ...ds, rows: perDataset[d] }));
  delete manifest.mayHaveDuplicates;
  await writeFile(join(dir, "run.json"), JSON.stringify(manifest, null, 2));
  return dir;
}

interface Result {
  records: number;
  journalMb: number;
  floor: Usage;
  floorBytes: Usage;
  /** Two threads (the CSV/JUnit writer thread forced: BAKEOFF_REPORT_THREADS=2). */
  report: Usage;
  /** One thread (BAKEOFF_REPORT_THREADS=1). */
  reportOne: Usage;
  compare: Usage;
  date: string;
  load: number[];
}

function render(r: Result): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const threads = (u: Usage) => (u.threadCpuMs.length > 1 ? u.threadCpuMs.map(s).join(" / ") : "");
  const row = (what: string, u: Usage, target: string) =>
    `| ${what} | ${s(u.wallMs)} | ${s(u.cpuMs)} | ${threads(u)} | ${(u.wallMs / r.floor.wallMs).toFixed(1)}× | ${(u.cpuMs / r.floor.cpuMs).toFixed(1)}× | ${u.maxRssMb.toFixed(0)} MB | ${target} |`;
  const ok = (u: Usage) => u.wallMs <= REPORT_TARGET_S * 1000 && u.maxRssMb <= RSS_TARGET_MB;
  const reportOk = ok(r.report);
  const compareOk = r.compare.maxRssMb <= RSS_TARGET_MB;
  return [
    `_Measured ${r.date} on ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}; 1-min load average ${r.load.map((l) => l.toFixed(1)).join(" → ")}; \`npm run bench:reports\`._`,
    "",
    "### Reports at scale (targets: all five reports for 1,000,000 records ≤ 20 s; `report` and `compare` ≤ 300 MB peak RSS)",
    "",
    `Journal: ${r.records.toLocaleString("en-US")} records (${(r.records / 2).toLocaleString("en-US")} rows × 2 models, two datasets, four scorer columns), ${r.journalMb.toFixed(0)} MB on disk, copied from a real emulator run with seeded pass/fail draws. Each line is its own process (\`node bin/bakeoff.js …\`, start-up included); CPU and peak RSS are the process's own \`process.resourceUsage()\` at exit. Floor = read the journal and \`JSON.parse\` every line once, nothing else (wall / floor is against the first row); the second row reads as \`bakeoff\` now does. On one thread \`report\` parses each record once (statistics, CSV, JUnit and the HTML table share the pass; excerpts are read back by byte offset); with the writer thread (what a report uses by itself when two cores are idle) a worker parses the first ${Math.round(100 * (1 - RECORD_WORKER_TAIL))}% of the journal's bytes a second time and writes their CSV lines and JUnit test cases, while the main thread does the rest (statistics, HTML table, the last ${Math.round(100 * RECORD_WORKER_TAIL)}%'s CSV and JUnit): more CPU (every thread's CPU is counted), less wall on two idle cores. Wall time is meaningful only on an otherwise idle machine; on a busy one, CPU per thread (\`/proc/thread-self/stat\` at each thread's exit) says what two idle cores would show: about the larger of the two plus the process's start-up.`,
    "",
    "| process | wall | CPU | CPU per thread (main / worker) | wall / floor | CPU / floor | peak RSS | target |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    row("floor: read + JSON.parse once (utf8 stream, string split)", r.floor, ""),
    row("read + JSON.parse once (bytes split at newlines: the journal reader)", r.floorBytes, ""),
    row(
      "`bakeoff report <run>` (md, json, csv, junit, html + index), CSV/JUnit writer thread (`BAKEOFF_REPORT_THREADS=2`, from 64 MB)",
      r.report,
      "≤ 20 s, ≤ 300 MB",
    ),
    row("`bakeoff report <run>` on one thread (`BAKEOFF_REPORT_THREADS=1`)", r.reportOne, "≤ 20 s, ≤ 300 MB"),
    row("`bakeoff compare <a> <b>` (two such journals)", r.compare, "≤ 300 MB"),
    "",
    `Verdict (computed): report **${reportOk ? "met" : "not met"}** with the writer thread (${s(r.report.wallMs)}, ${r.report.maxRssMb.toFixed(0)} MB; ${ok(r.reportOne) ? "met" : "not met"} on one thread: ${s(r.reportOne.wallMs)}, ${r.reportOne.maxRssMb.toFixed(0)} MB); compare memory **${compareOk ? "met" : "not met"}** (${r.compare.maxRssMb.toFixed(0)} MB).`,
  ].join("\n");
}

const work = await mkdtemp(join(tmpdir(), "bakeoff-bench-reports-"));
try {
  const load = [loadavg()[0]!];
  log(`fixture: template run, then ${RECORDS} records × 2 runs in ${work}`);
  const template = await templateRun(work);
  const results = join(work, "results");
  const a = await synthesize(template, results, "bench-a", RECORDS, 1);
  const b = await synthesize(template, results, "bench-b", RECORDS, 2);
  const journalMb = (await stat(join(a, "predictions.jsonl"))).size / 2 ** 20;
  log(`journal ${journalMb.toFixed(0)} MB`);
  await writeFile(join(work, "floor.mjs"), FLOOR);
  const floor = await measure(work, "floor", [join(work, "floor.mjs"), join(a, "predictions.jsonl")], work);
  await writeFile(join(work, "floor-bytes.mjs"), FLOOR_BYTES);
  const floorBytes = await measure(
    work,
    "floor-bytes",
    [join(work, "floor-bytes.mjs"), join(a, "predictions.jsonl")],
    work,
  );
  const cli = join(ROOT, "bin/bakeoff.js");
  // Both ways, forced (a report picks the writer thread itself only when two cores are idle).
  const report = await measure(work, "report", [cli, "report", a, "--out", results], work, {
    BAKEOFF_REPORT_THREADS: "2",
  });
  const reportOne = await measure(work, "report-one-thread", [cli, "report", a, "--out", results], work, {
    BAKEOFF_REPORT_THREADS: "1",
  });
  const compare = await measure(work, "compare", [cli, "compare", a, b, "--out", results, "--write", work], work);
  load.push(loadavg()[0]!);
  const r: Result = {
    records: RECORDS,
    journalMb,
    floor,
    floorBytes,
    report,
    reportOne,
    compare,
    date: new Date().toISOString().slice(0, 10),
    load,
  };
  const section = render(r);
  console.log(section);
  if (WRITE) await writeBenchSection("reports", section);
} finally {
  if (KEEP) log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
