/**
 * Where bakeoff's CPU goes, against the bare loop: the workload of bench/run.ts run once by
 * `bakeoff run` and once by the provider's floor (bench/bare-loop.mjs), each under
 * `node --cpu-prof`, and the two main-thread profiles summarised side by side, per result.
 *
 *   npm run bench:profile                       # build, both workloads, both providers, --write
 *   npx tsx bench/profile.ts [--mode wall|throughput] [--provider openai] [--rows N] [--reps N]
 *                            [--floor sdk|node-http] [--interval US] [--keep DIR] [--write]
 *
 * Workloads (bench/run.ts's, emulator in its own process, bench/workload.ts):
 * - wall: 5,000 rows × 2 models, C = 16, server latency 20 ms;
 * - throughput: 10,000 rows × 2 models, C = 64, 0 ms (the CPU-bound case of the CPU-per-result target).
 * Floors: azure-ai-inference → the bare `@azure-rest/ai-inference` ModelClient; openai → bare
 * node:http (`--floor sdk`: the `openai` client instead).
 *
 * Each profile is cut into phases: start-up (profile start → the first call), loop (→ the last
 * result), tail (→ exit). bakeoff's boundaries come from its journal (`startedAt` of the first call,
 * `endedAt` of the last result, epoch ms, turned into the profile's clock, CLOCK_MONOTONIC µs as
 * `process.hrtime` reads it, with the offset between the two clocks taken here). The bare loop
 * prints its own loop time; its loop is taken to end where its profile ends (it exits right after
 * its last answer), so its tail is empty by construction.
 *
 * Self time is charged by bench/cpu-profile.ts (categories: V8's buckets, Node internals by area,
 * each npm package, bakeoff's src/ modules through the bundle's source maps). Only the main
 * thread is sampled. A sample lasts from one tick to the next in wall time, so on a loaded
 * machine "busy" samples also hold the time the thread waited for a core (on this shared 2-core
 * machine often more than half); bench/thread-cpu.mjs reads the main thread's real CPU and its
 * run-queue wait (Linux schedstat) at exit, and every figure is scaled by CPU / sampled busy
 * time, so the tables are in CPU µs and sum to the thread's measured CPU. Waits land unevenly,
 * though: a socket write that wakes the emulator is where a thread is most often preempted, so
 * under load `writev` keeps more than its share (the noisiest row between runs). The process's
 * CPU across all threads (exit-stats.mjs) is printed beside it. The profiler costs CPU itself,
 * alike on both sides.
 *
 * `--reps N` profiles each side N times, alternated, and reports per side the run whose main
 * thread used the least CPU (the least disturbed by other work). `--keep DIR` keeps the
 * .cpuprofile files (DIR/<mode>-<provider>-<bare|bakeoff>[-<rep>]/), to open in Chrome DevTools
 * or speedscope. `--write` replaces the `bench:profile` section of BENCHMARKS.md
 * (only from a full run: no --mode, --provider, --rows or --floor).
 */
import { mkdir, readFile, readdir, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { flag, numberOption, option } from "./args.js";
import { writeBenchSection } from "./benchmarks-md.js";
import { groupOf, readProfile, summariseProfile, type ProfileSummary } from "./cpu-profile.js";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import {
  BARE,
  BENCH_DIR,
  BIN,
  bareLoopArg,
  floorsOf,
  journalFacts,
  machineLine,
  modelNames,
  providersFrom,
  runMeasured,
  strictFloor,
  withTempDir,
  writeConfig,
  writeDataset,
  type Floor,
  type ProcOutcome,
  type ProviderName,
} from "./workload.js";

interface Workload {
  mode: "wall" | "throughput";
  rows: number;
  models: number;
  concurrency: number;
  latencyMs: number;
}

const WORKLOADS: Workload[] = [
  { mode: "wall", rows: 5000, models: 2, concurrency: 16, latencyMs: 20 },
  { mode: "throughput", rows: 10_000, models: 2, concurrency: 64, latencyMs: 0 },
];

const MODE = option("--mode", "");
const ONLY_PROVIDER = option("--provider", "") || undefined;
const ROWS = option("--rows", "") === "" ? undefined : numberOption("--rows", 0);
const FLOOR = option("--floor", "");
const INTERVAL_US = numberOption("--interval", 1000);
/** Profiled runs per side (alternated); the one with the least main-thread CPU is reported. */
const REPS = numberOption("--reps", 1);
const KEEP = option("--keep", "") || undefined;
const WRITE = flag("--write");

const THREAD_CPU = join(BENCH_DIR, "thread-cpu.mjs");
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const log = (m: string) => void process.stderr.write(`[profile] ${m}\n`);

// ---------------------------------------------------------------------------------------------
// Running one side under the profiler

interface Side {
  label: string;
  proc: ProcOutcome;
  results: number;
  /**
   * Main thread, cut into start-up / loop / tail, every figure scaled by {@link Side.scale} to
   * the thread's measured CPU.
   */
  main: ProfileSummary;
  /** The main thread's sampled busy time per phase before scaling, µs. */
  sampledBusyUs: number[];
  /** The main thread's CPU and its wait for a core (schedstat), µs; undefined off Linux. */
  thread?: { cpuUs: number; waitUs: number };
  /** Main-thread CPU / sampled busy time (1 when the thread's CPU is unknown). */
  scale: number;
  /** Busy time sampled on other threads (the report writer worker, if any), µs, unscaled. */
  otherThreadsUs: number;
  wallMs: number;
}

/** µs of the monotonic clock (the profiles' and process.hrtime's) at epoch ms `epochMs`. */
function toMonoUs(epochMs: number): number {
  const offsetUs = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
  return epochMs * 1000 - offsetUs;
}

/**
 * Reads what a profiled child left in `dir`: the main thread's profile (thread id 0 in
 * `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile`), cut at `splits(start, end)`; the busy time of
 * any other thread's; and the main thread's CPU from bench/thread-cpu.mjs. A profile's samples
 * last from one tick to the next in wall time, so on a loaded machine they also hold the time the
 * thread waited for a core; every figure is scaled by the thread's CPU / its sampled busy time
 * (descheduling falls on whatever code happens to run, so it inflates every category roughly alike;
 * one factor for the whole process).
 */
async function readSide(dir: string, splits: (mainStart: number, mainEnd: number) => number[]) {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const tid = (f: string) => f.split(".").at(-3);
  const mainFile = files.find((f) => tid(f) === "0") ?? files[0];
  if (mainFile === undefined) throw new Error(`no .cpuprofile written in ${dir}`);
  const p = readProfile(join(dir, mainFile));
  const main = summariseProfile(p, splits(p.startTime, p.endTime));
  let otherThreadsUs = 0;
  for (const f of files) if (f !== mainFile) otherThreadsUs += sum(summariseProfile(readProfile(join(dir, f))).busyUs);
  const thread = await readFile(join(dir, THREAD_STATS), "utf8").then(
    (t) => JSON.parse(t) as { cpuUs: number; waitUs: number },
    () => undefined,
  );
  const sampledBusyUs = [...main.busyUs];
  const scale = thread && sum(sampledBusyUs) > 0 ? thread.cpuUs / sum(sampledBusyUs) : 1;
  const times = (xs: number[]) => xs.forEach((x, i) => (xs[i] = x * scale));
  times(main.busyUs);
  for (const us of main.byCategory.values()) times(us);
  for (const f of main.byFunction.values()) times(f.us);
  return { main, sampledBusyUs, ...(thread ? { thread } : {}), scale, otherThreadsUs };
}

const THREAD_STATS = "main-thread.json";
const profArgs = (dir: string) => [
  "--import",
  THREAD_CPU,
  "--cpu-prof",
  "--cpu-prof-dir",
  dir,
  "--cpu-prof-interval",
  String(INTERVAL_US),
];
const profEnv = (dir: string) => ({ BENCH_THREAD_STATS_FILE: join(dir, THREAD_STATS) });

async function freshDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

async function profileBare(
  work: Workload,
  rep: number,
  profRoot: string,
  dir: string,
  provider: ProviderName,
  floor: Floor,
  url: string,
  dataset: string,
): Promise<Side> {
  const pdir = await freshDir(join(profRoot, `${work.mode}-${provider}-bare${repTag(rep)}`));
  const arg = bareLoopArg(provider, floor, url, modelNames(work.models), dataset, work.concurrency);
  const proc = await runMeasured([BARE, arg], dir, profArgs(pdir), profEnv(pdir));
  const r = JSON.parse(proc.stdout.trim().split("\n").pop()!) as { calls: number; loopMs: number };
  // The bare loop exits right after its last answer: its loop is the last loopMs of its profile.
  const side = await readSide(pdir, (_start, end) => [end - r.loopMs * 1000, end]);
  return { label: `bare ${floor.label}`, proc, results: r.calls, ...side, wallMs: proc.wallMs };
}

async function profileBakeoff(
  work: Workload,
  rep: number,
  profRoot: string,
  dir: string,
  provider: ProviderName,
  config: string,
): Promise<Side> {
  const pdir = await freshDir(join(profRoot, `${work.mode}-${provider}-bakeoff${repTag(rep)}`));
  const runId = `profile-${work.mode}-${provider}-${rep}`;
  const out = join(dir, "results");
  const proc = await runMeasured(
    [BIN, "run", "--no-weave", "--config", config, "--run-id", runId, "--out", out],
    dir,
    profArgs(pdir),
    profEnv(pdir),
  );
  const runDir = join(out, runId);
  const j = await journalFacts(runDir);
  if (j.errors > 0) throw new Error(`bakeoff run ${runId} recorded ${j.errors} failed calls`);
  const side = await readSide(pdir, () => [toMonoUs(j.firstStart), toMonoUs(j.lastEnd)]);
  await rm(runDir, { recursive: true, force: true });
  return { label: "bakeoff", proc, results: j.results, ...side, wallMs: proc.wallMs };
}

/** `-2` for the second of several reps (the first keeps the plain name). */
const repTag = (rep: number) => (rep > 1 ? `-${rep}` : "");
const leastCpu = (xs: Side[]) => xs.reduce((a, b) => (sum(b.main.busyUs) < sum(a.main.busyUs) ? b : a));

interface ProviderResult {
  provider: ProviderName;
  floor: Floor;
  bare: Side;
  bakeoff: Side;
}

async function profileWorkload(work: Workload, profRoot: string): Promise<ProviderResult[]> {
  const out: ProviderResult[] = [];
  await withTempDir(async (dir) => {
    const dataset = join(dir, "bench.jsonl");
    await writeDataset(dataset, work.rows);
    const names = modelNames(work.models);
    const emulator = await spawnEmulator(Object.fromEntries(names.map((n) => [n, fixedLatencyModel(work.latencyMs)])));
    try {
      for (const provider of providersFrom(ONLY_PROVIDER)) {
        const floor = floorOf(provider);
        const config = await writeConfig(dir, dataset, provider, emulator.url, names, work.concurrency);
        // Warm the emulator (JIT, sockets) with a short unprofiled bare loop, as bench/run.ts does.
        const warm = join(dir, "warm.jsonl");
        await writeDataset(warm, Math.min(work.rows, 500));
        await runMeasured([BARE, bareLoopArg(provider, floor, emulator.url, names, warm, work.concurrency)], dir);
        // Alternated, and per side the run whose main thread used the least CPU: the one the
        // machine's other work disturbed least (as bench/run.ts keeps the best of its runs).
        const bares: Side[] = [];
        const bakeoffs: Side[] = [];
        for (let rep = 1; rep <= REPS; rep++) {
          bares.push(await profileBare(work, rep, profRoot, dir, provider, floor, emulator.url, dataset));
          log(`${work.mode} ${provider} bare (${floor.label}): ${fmtS(bares.at(-1)!.wallMs)}`);
          bakeoffs.push(await profileBakeoff(work, rep, profRoot, dir, provider, config));
          log(`${work.mode} ${provider} bakeoff: ${fmtS(bakeoffs.at(-1)!.wallMs)}`);
        }
        const bare = leastCpu(bares);
        const bakeoff = leastCpu(bakeoffs);
        if (bare.results !== bakeoff.results)
          throw new Error(`bare made ${bare.results} calls, bakeoff recorded ${bakeoff.results} results`);
        out.push({ provider, floor, bare, bakeoff });
      }
    } finally {
      await emulator.stop();
    }
  });
  return out;
}

/** The provider's strictest floor, or the one `--floor` names (only openai has a choice). */
function floorOf(provider: ProviderName): Floor {
  if (FLOOR !== "" && FLOOR !== "sdk" && FLOOR !== "node-http")
    throw new Error(`--floor "${FLOOR}": use sdk or node-http`);
  if (FLOOR === "" || provider !== "openai") return strictFloor(provider);
  return floorsOf(provider, FLOOR)[0]!;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const fmtMs = (us: number) => (Math.abs(us) < 50 ? "0" : (us / 1000).toFixed(0));
const fmtUs = (us: number) => (Math.abs(us) < 0.05 ? "0" : us.toFixed(1));
const fmtDelta = (v: string) => (v === "0" || v.startsWith("-") ? v.replace("-", "−") : `+${v}`);

function renderProvider(work: Workload, r: ProviderResult): string {
  const { bare, bakeoff } = r;
  const n = bakeoff.results;
  const perResult = (us: number) => us / n;
  const lines: string[] = [
    `#### ${r.provider}: bakeoff vs bare ${r.floor.label}`,
    "",
    ...[bare, bakeoff].map((s) => {
      const busy = s.main.busyUs;
      const thread = s.thread
        ? `main thread CPU ${fmtUs(perResult(s.thread.cpuUs))} µs/result (sampled busy ${fmtUs(perResult(sum(s.sampledBusyUs)))}, waited for a core ${fmtUs(perResult(s.thread.waitUs))}; samples scaled ×${s.scale.toFixed(2)})`
        : `main thread sampled busy ${fmtUs(perResult(sum(busy)))} µs/result (unscaled: no /proc schedstat)`;
      return `- **${s.label}**: wall ${fmtS(s.wallMs)} (start-up ${fmtS(s.main.spanUs[0]! / 1000)}, loop ${fmtS(s.main.spanUs[1]! / 1000)}, tail ${fmtS(s.main.spanUs[2]! / 1000)}); process CPU (all threads) ${fmtUs(perResult(s.proc.cpuUs))} µs/result; ${thread}: start-up ${fmtMs(busy[0]!)} ms, loop ${fmtUs(perResult(busy[1]!))} µs/result, tail ${fmtMs(busy[2]!)} ms; off the main thread (GC helpers, libuv, compiler threads${s.otherThreadsUs > 0 ? `, workers: ${fmtMs(s.otherThreadsUs)} ms sampled` : ""}) ${fmtUs(perResult(s.proc.cpuUs - sum(busy)))} µs/result.`;
    }),
    "",
  ];

  // Two tables: the coarse groups, then the categories (largest whole-run addition first, the
  // small ones folded into one row so the table stays readable).
  type Row = { cat: string; b: number[]; k: number[] };
  const byCat = new Map<string, Row>();
  const byGroup = new Map<string, Row>();
  const add = (into: Map<string, Row>, key: string, side: "b" | "k", us: number[]) => {
    let row = into.get(key);
    if (!row) into.set(key, (row = { cat: key, b: [0, 0, 0], k: [0, 0, 0] }));
    for (let i = 0; i < 3; i++) row[side][i]! += us[i]!;
  };
  for (const [side, s] of [
    ["b", bare],
    ["k", bakeoff],
  ] as const)
    for (const [cat, us] of s.main.byCategory) {
      add(byCat, cat, side, us);
      add(byGroup, groupOf(cat), side, us);
    }
  const delta = (x: Row) => sum(x.k) - sum(x.b);
  const rows = [...byCat.values()].sort((x, y) => delta(y) - delta(x));
  const groups = [...byGroup.values()].sort((x, y) => delta(y) - delta(x));
  const total: Row = { cat: "**main thread, busy**", b: bare.main.busyUs, k: bakeoff.main.busyUs };
  // Shown: a category worth ≥ 1 µs/result either way, or ≥ 5 ms in start-up or tail; at most 25.
  const worth = (x: Row) =>
    Math.abs(perResult(delta(x))) >= 1 ||
    Math.max(perResult(sum(x.b)), perResult(sum(x.k))) >= 1 ||
    Math.max(x.b[0]!, x.k[0]!, x.k[2]!) >= 5000;
  const largest = [...rows]
    .sort((x, y) => Math.abs(delta(y)) - Math.abs(delta(x)))
    .filter(worth)
    .slice(0, 25);
  const shown = rows.filter((x) => largest.includes(x));
  const folded = rows.filter((x) => !shown.includes(x));
  if (folded.length > 0)
    shown.push({
      cat: `${folded.length} smaller categories`,
      b: [0, 1, 2].map((i) => sum(folded.map((x) => x.b[i]!))),
      k: [0, 1, 2].map((i) => sum(folded.map((x) => x.k[i]!))),
    });
  const table = (title: string, xs: Row[]) => [
    `| ${title} | start-up ms: bare / bakeoff | **Δ start-up ms** | loop µs/result: bare / bakeoff | **Δ loop µs/result** | tail ms: bakeoff | whole run µs/result: bare / bakeoff | **Δ whole µs/result** |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...xs.map(
      (x) =>
        `| ${x.cat} | ${fmtMs(x.b[0]!)} / ${fmtMs(x.k[0]!)} | ${fmtDelta(fmtMs(x.k[0]! - x.b[0]!))} | ${fmtUs(perResult(x.b[1]!))} / ${fmtUs(perResult(x.k[1]!))} | ${fmtDelta(fmtUs(perResult(x.k[1]! - x.b[1]!)))} | ${fmtMs(x.k[2]!)} | ${fmtUs(perResult(sum(x.b)))} / ${fmtUs(perResult(sum(x.k)))} | ${fmtDelta(fmtUs(perResult(delta(x))))} |`,
    ),
  ];
  lines.push(...table("group (self time, main thread)", [...groups, total]), "");
  lines.push(...table("category (self time, main thread)", [...shown, total]));

  // What bakeoff adds, computed: the largest positive differences per phase.
  const adds = (phase: number, unit: (us: number) => string, min: number) =>
    rows
      .map((x) => ({ cat: x.cat, d: x.k[phase]! - x.b[phase]! }))
      .filter((x) => x.d >= min)
      .sort((a, b) => b.d - a.d)
      .slice(0, 5)
      .map((x) => `${x.cat} +${unit(x.d)}`)
      .join(", ");
  const dLoop = perResult(bakeoff.main.busyUs[1]! - bare.main.busyUs[1]!);
  const dStart = bakeoff.main.busyUs[0]! - bare.main.busyUs[0]!;
  lines.push(
    "",
    `What bakeoff adds (computed): in the loop ${fmtDelta(fmtUs(dLoop))} µs/result on the main thread (largest: ${adds(1, (us) => `${fmtUs(perResult(us))} µs`, n * 0.5) || "none ≥ 0.5 µs"}); at start-up ${fmtDelta(fmtMs(dStart))} ms (largest: ${adds(0, (us) => `${fmtMs(us)} ms`, 2000) || "none ≥ 2 ms"}); the tail ${fmtMs(bakeoff.main.busyUs[2]!)} ms busy (largest: ${adds(2, (us) => `${fmtMs(us)} ms`, 2000) || "none ≥ 2 ms"}).`,
    "",
  );

  // Top self-time functions of bakeoff's run, with the same function's loop time in the bare run.
  const bareFns = new Map([...bare.main.byFunction.values()].map((f) => [`${f.name}|${f.where}`, f]));
  const top = [...bakeoff.main.byFunction.values()].sort((a, b) => sum(b.us) - sum(a.us)).slice(0, 15);
  lines.push(
    `Top 15 self-time functions of the bakeoff run (whole run), with the same function in the bare run:`,
    "",
    "| function | where | category | start-up ms | loop µs/result | tail ms | bare: loop µs/result |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  );
  for (const f of top) {
    const b = bareFns.get(`${f.name}|${f.where}`);
    lines.push(
      `| \`${f.name}\` | ${f.where || "–"} | ${f.category} | ${fmtMs(f.us[0]!)} | ${fmtUs(perResult(f.us[1]!))} | ${fmtMs(f.us[2]!)} | ${b ? fmtUs(perResult(b.us[1]!)) : "–"} |`,
    );
  }
  return lines.join("\n");
}

function renderWorkload(work: Workload, results: ProviderResult[]): string {
  return [
    `### ${work.mode}: ${results[0]?.bakeoff.results.toLocaleString("en-US") ?? "?"} results (${(ROWS ?? work.rows).toLocaleString("en-US")} rows × ${work.models} models), C = ${work.concurrency}, server latency ${work.latencyMs} ms`,
    "",
    results.map((r) => renderProvider(work, r)).join("\n\n"),
  ].join("\n");
}

async function main(): Promise<void> {
  if (MODE !== "" && !WORKLOADS.some((w) => w.mode === MODE))
    throw new Error(`--mode "${MODE}": use wall or throughput`);
  if (WRITE && (MODE !== "" || ONLY_PROVIDER !== undefined || ROWS !== undefined || FLOOR !== ""))
    throw new Error("--write takes neither --mode, --provider, --rows nor --floor (it replaces the published section)");
  if (ROWS !== undefined && !(Number.isInteger(ROWS) && ROWS > 0)) throw new Error("--rows must be a whole number > 0");
  if (!(Number.isInteger(REPS) && REPS > 0)) throw new Error("--reps must be a whole number > 0");
  // Checked before any process starts: a bad --provider or --floor fails at once.
  providersFrom(ONLY_PROVIDER).forEach(floorOf);
  const load0 = loadavg()[0]!;
  const sections: string[] = [];
  const run = async (profRoot: string) => {
    for (const w of WORKLOADS.filter((x) => MODE === "" || x.mode === MODE)) {
      const work = { ...w, rows: ROWS ?? w.rows };
      sections.push(renderWorkload(work, await profileWorkload(work, profRoot)));
    }
  };
  if (KEEP !== undefined) {
    await mkdir(resolve(KEEP), { recursive: true });
    await run(resolve(KEEP));
    log(`profiles kept in ${resolve(KEEP)}`);
  } else await withTempDir(run);
  const load1 = loadavg()[0]!;
  const body = [
    `_Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine()}, Node ${process.version}; 1-min load average ${load0.toFixed(1)} → ${load1.toFixed(1)} (other work shares the CPUs); ${REPS === 1 ? "one profiled run per side" : `the least-CPU of ${REPS} alternated profiled runs per side`}, sampled every ${INTERVAL_US} µs; \`npm run bench:profile\`._`,
    "",
    "Each side runs bench/run.ts's workload under `node --cpu-prof` (`--reps N`: N alternated runs, the one with the least main-thread CPU kept) (emulator in its own process): **bare** = `node bench/bare-loop.mjs` through the provider's strictest floor (the `@azure-rest/ai-inference` ModelClient; bare node:http for openai), **bakeoff** = `node bin/bakeoff.js run --no-weave --config <tmp>`. Self time of the main thread, each sample charged to the function on top of the stack, V8 builtins (`JSON.parse`, …) to their caller; bakeoff's bundle mapped back to `src/` through its source maps (bench/cpu-profile.ts; *bundle top level* = a chunk's module evaluation and esbuild's helpers, which no map entry covers). Samples are wall-clock ticks, so under load they include waits for a core: each side's figures are scaled to its main thread's measured CPU (Linux schedstat, bench/thread-cpu.mjs; the factor is printed), so every table is in CPU time and sums to that thread's CPU. The waits do not fall quite evenly: a socket write that wakes the emulator is where a thread is most often preempted, so under load `writev` (node: http/net/stream) keeps more than its share, and that row differs most between two runs of the same side; bakeoff's own rows, which the bare loop lacks, are the steadier signal. A quiet machine gives the cleanest figures. Phases: start-up = the profile's start (Node's bootstrap before the profiler starts is in neither side) → first call, loop = → last result, tail = → exit (bakeoff's from its journal; the bare loop's from its own loop time, its tail empty). µs/result = the phase's time divided by the results (calls) of the run; Δ = bakeoff − bare. The profiler itself costs both sides CPU, so the absolute figures sit above bench/run.ts's; the differences are the point.",
    "",
    ...sections.flatMap((s) => [s, ""]),
  ]
    .join("\n")
    .trimEnd();
  console.log(body);
  if (WRITE) {
    await writeBenchSection("profile", body);
    log("wrote the bench:profile section of BENCHMARKS.md");
  }
}

await main().catch((err: unknown) => {
  // A bad option is a one-line message; anything else keeps its stack (a bench bug to look at).
  if (err instanceof Error && err.message.startsWith("--")) {
    process.stderr.write(`bench/profile.ts: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
});
