/**
 * The run-loop benches of issue 14: the whole `bakeoff run` process against a bare client loop
 * (the provider's own client + p-limit, bench/bare-loop.mjs; for openai also plain node:http),
 * both spawned as fresh processes and measured from spawn to exit, against the same loopback
 * emulator in its own process.
 *
 *   npx tsx bench/run.ts [wall|throughput|memory|structures ...] [--write] [--reps N]
 *   npx tsx bench/run.ts memory --sizes 10000,1000000 --resume --write   # = npm run bench:1m
 *   npx tsx bench/run.ts wall --provider openai --rows 2000 --reps 1      # while iterating (no --write)
 *   npx tsx bench/run.ts throughput --provider azure-ai-inference --rows 5000 --cpu-prof /tmp/prof
 *
 * Modes (default: all four; memory at 10k and 100k rows):
 * - wall: 5,000 rows × 2 models, C = 16, 20 ms server latency (ideal 12.5 s), per provider.
 * - throughput: 10,000 rows × 2 models, C = 64, 0 ms latency: calls/s and CPU per result.
 * - memory: N rows × 1 model, C = 64, 0 ms: peak RSS of the bakeoff process per size; with
 *   --resume, also a resume of the largest run (its last 1,000 results removed first).
 * - structures: retained heap (after forced GC) of the per-row structures, old vs new.
 *
 * CPU time and peak RSS of a child come from bench/exit-stats.mjs (preloaded with --import; it
 * writes process.resourceUsage() at exit). `--write` replaces each mode's section of
 * BENCHMARKS.md between its `<!-- bench:<mode>:start/end -->` markers. Run `npm run build` first
 * (the bench spawns bin/bakeoff.js, which runs dist/); `npm run bench` does.
 */
import { open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { REEXEC_MIN_BYTES } from "../src/util/malloc-reexec.js";
import { fixedLatencyModel, spawnEmulator, type EmulatorChild } from "./emulator-process.js";
import {
  BARE,
  bareLoopArg,
  BENCH_DIR as HERE,
  BIN,
  floorsOf,
  providersFrom,
  journalFacts,
  machineLine,
  modelNames,
  ROOT,
  runMeasured as runChild,
  withTempDir,
  writeConfig,
  writeDataset,
  type Floor,
  type ProcOutcome,
  type ProviderName,
} from "./workload.js";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const VALUE_OPTIONS = ["--sizes", "--reps", "--provider", "--rows", "--node-args", "--cpu-prof", "--floor"];
const positional = args.filter((a, i) => !a.startsWith("--") && !VALUE_OPTIONS.includes(args[i - 1] ?? ""));
const REPS = Number(option("--reps") ?? 2);
/**
 * Extra Node options for every measured child (e.g. `--node-args "--max-semi-space-size=4"` to
 * try V8 heap sizing), split on spaces.
 */
const NODE_ARGS = (option("--node-args") ?? "").split(" ").filter(Boolean);
/** `--provider openai`: one provider only (wall/throughput), for iterating on it. */
const ONLY_PROVIDER = option("--provider");
/** `--rows N`: fewer (or more) rows than the mode's default (wall/throughput), for iterating. */
const ROWS = option("--rows") === undefined ? undefined : Number(option("--rows"));
/**
 * `--floor node-http`: only the bare loops of that client (`sdk` or `node-http`), for iterating
 * on one provider without waiting for a slow floor (the verdicts need every floor: not with --write).
 */
const ONLY_FLOOR = option("--floor");
/**
 * A directory: every measured child (bakeoff and the bare loops) writes a V8 CPU profile there
 * (`node --cpu-prof`), named `<side>-<provider>-<n>.cpuprofile`, to compare self time by function.
 */
const CPU_PROF_DIR = option("--cpu-prof");
let profiles = 0;
/** The `node` options that make a measured child write its CPU profile, if `--cpu-prof` asked. */
const cpuProfArgs = (name: string): string[] =>
  CPU_PROF_DIR === undefined
    ? []
    : ["--cpu-prof", "--cpu-prof-dir", CPU_PROF_DIR, "--cpu-prof-name", `${name}-${++profiles}.cpuprofile`];

const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const fmtMB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const fmtX = (r: number) => `${r.toFixed(2)}×`;
const fmtInt = (n: number) => n.toLocaleString("en-US");
const fmtUs = (us: number) => `${us.toFixed(0)} µs`;
const log = (m: string) => void process.stderr.write(`[bench] ${m}\n`);
/** A measured child with `--node-args` applied (bench/workload.ts's runMeasured). */
const runMeasured = (argv: string[], dir: string, env: NodeJS.ProcessEnv = {}): Promise<ProcOutcome> =>
  runChild(argv, dir, NODE_ARGS, env);

interface BareOutcome extends ProcOutcome {
  calls: number;
  loopMs: number;
  p50Ms: number;
}

async function runBare(
  dir: string,
  provider: ProviderName,
  floor: Floor,
  url: string,
  models: string[],
  dataset: string,
  concurrency: number,
): Promise<BareOutcome> {
  const out = await runMeasured(
    [
      ...cpuProfArgs(`bare-${floor.client}-${provider}`),
      BARE,
      bareLoopArg(provider, floor, url, models, dataset, concurrency),
    ],
    dir,
  );
  const r = JSON.parse(out.stdout.trim().split("\n").pop()!) as { calls: number; loopMs: number; p50Ms: number };
  return { ...out, ...r };
}

interface BakeoffOutcome extends ProcOutcome {
  results: number;
  /** Spawn → first call started, ms (start-up: imports, config, planRun, run dir). */
  startupMs: number;
  /** First call started → last result ended, ms. */
  loopMs: number;
  /** Last result → process exit, ms (journal sync, reports, index, run.json). */
  tailMs: number;
  /** Epoch ms of the last result. */
  lastEnd: number;
  p50Ms: number;
  runDir: string;
}

async function runBakeoff(
  dir: string,
  config: string,
  runId: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
  profile = true,
): Promise<BakeoffOutcome> {
  const out = await runMeasured(
    [
      ...(profile ? cpuProfArgs(`bakeoff-${runId}`) : []),
      BIN,
      "run",
      "--no-weave",
      "--config",
      config,
      "--run-id",
      runId,
      "--out",
      join(dir, "results"),
      ...extra,
    ],
    dir,
    env,
  );
  const runDir = join(dir, "results", runId);
  const j = await journalFacts(runDir);
  if (j.errors > 0) throw new Error(`bench run ${runId} recorded ${j.errors} failed calls`);
  const exitAt = out.spawnedAt + out.wallMs;
  return {
    ...out,
    results: j.results,
    startupMs: j.firstStart - out.spawnedAt,
    loopMs: j.lastEnd - j.firstStart,
    tailMs: exitAt - j.lastEnd,
    lastEnd: j.lastEnd,
    p50Ms: j.p50Ms,
    runDir,
  };
}

/** RSS sampling interval of the memory mode (ms): cheap (one OS read), dense enough for a peak. */
const RSS_SAMPLE_MS = 50;

/**
 * Peak sampled RSS up to `split` (start-up + run loop) and after it (the report tail), from a
 * child's `rss` samples; null when the child was not sampled.
 */
function phasePeaks(rss: number[] | undefined, split: number): { loop: number; tail: number } | null {
  if (!rss || rss.length === 0) return null;
  let loop = 0;
  let tail = 0;
  for (let i = 0; i < rss.length; i += 2) {
    if (rss[i]! <= split) loop = Math.max(loop, rss[i + 1]!);
    else tail = Math.max(tail, rss[i + 1]!);
  }
  return { loop, tail };
}

const best = <T>(xs: T[], key: (x: T) => number): T => xs.reduce((a, b) => (key(b) < key(a) ? b : a));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// wall + throughput: bakeoff vs the bare loop, per provider

/** One floor's bare runs. */
interface FloorRuns {
  floor: Floor;
  runs: BareOutcome[];
  /** The emulator's own p50 service time (arrival → answer finished) during each of these runs, ms. */
  serviceP50Ms: number[];
}

interface PairResult {
  provider: ProviderName;
  rows: number;
  models: number;
  concurrency: number;
  latencyMs: number;
  calls: number;
  /** In the order of workload.ts's FLOORS: the last is the stricter floor the verdicts use. */
  floors: FloorRuns[];
  bakeoff: BakeoffOutcome[];
  /** The emulator's own p50 service time during each bakeoff run, ms. */
  bakeoffServiceP50Ms: number[];
  emulatorCpuUsPerCall: number;
}

async function pair(rows: number, models: number, concurrency: number, latencyMs: number): Promise<PairResult[]> {
  const out: PairResult[] = [];
  await withTempDir(async (dir) => {
    const dataset = join(dir, "bench.jsonl");
    await writeDataset(dataset, rows);
    const names = modelNames(models);
    const emulator: EmulatorChild = await spawnEmulator(
      Object.fromEntries(names.map((n) => [n, fixedLatencyModel(latencyMs)])),
    );
    try {
      for (const provider of providersFrom(ONLY_PROVIDER)) {
        const config = await writeConfig(dir, dataset, provider, emulator.url, names, concurrency);
        // Warm the emulator (JIT, sockets) once per provider with a short bare loop, and bakeoff
        // with a short run of its own, discarded: on Node 22+ bin/bakeoff.js keeps a compile
        // cache (module.enableCompileCache, in the OS temp dir), which a fresh build leaves cold
        // for its first run. A nightly user runs the same installed bakeoff every night, so the
        // measured runs start warm, as theirs do.
        const warm = join(dir, "warm.jsonl");
        await writeDataset(warm, Math.min(rows, 500));
        const floors = floorsOf(provider, ONLY_FLOOR);
        await runBare(dir, provider, floors[0]!, emulator.url, names, warm, concurrency);
        const warmConfig = await writeConfig(dir, warm, provider, emulator.url, names, concurrency, "warm");
        await rm((await runBakeoff(dir, warmConfig, `${provider}-warm`, [], {}, false)).runDir, {
          recursive: true,
          force: true,
        });
        const r: PairResult = {
          provider,
          rows,
          models,
          concurrency,
          latencyMs,
          calls: rows * models,
          floors: floors.map((floor) => ({ floor, runs: [], serviceP50Ms: [] })),
          bakeoff: [],
          bakeoffServiceP50Ms: [],
          emulatorCpuUsPerCall: 0,
        };
        // The server's own service time while one process ran (takeStats zeroes the counters).
        const served = async () => (await emulator.takeStats()).serviceTime.p50Ms ?? NaN;
        const e0 = await emulator.cpu();
        for (let i = 0; i < REPS; i++) {
          // Alternated, so drifting machine load hits every side alike.
          for (const f of r.floors) {
            await served();
            const bare = await runBare(dir, provider, f.floor, emulator.url, names, dataset, concurrency);
            f.runs.push(bare);
            f.serviceP50Ms.push(await served());
            log(
              `${provider} bare (${f.floor.label}): ${fmtS(bare.wallMs)}, p50 ${bare.p50Ms.toFixed(1)} ms (server ${f.serviceP50Ms.at(-1)!.toFixed(1)} ms)`,
            );
          }
          r.bakeoff.push(await runBakeoff(dir, config, `${provider}-${latencyMs}-${i}`));
          r.bakeoffServiceP50Ms.push(await served());
          log(
            `${provider} bakeoff: ${fmtS(r.bakeoff.at(-1)!.wallMs)}, p50 ${r.bakeoff.at(-1)!.p50Ms.toFixed(1)} ms (server ${r.bakeoffServiceP50Ms.at(-1)!.toFixed(1)} ms)`,
          );
          await rm(r.bakeoff.at(-1)!.runDir, { recursive: true, force: true });
        }
        const e1 = await emulator.cpu();
        r.emulatorCpuUsPerCall = (e1.user + e1.system - e0.user - e0.system) / ((r.floors.length + 1) * REPS * r.calls);
        out.push(r);
      }
    } finally {
      await emulator.stop();
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// memory

interface MemoryResult {
  rows: number;
  wallMs: number;
  maxRssBytes: number;
  cpuUsPerResult: number;
  journalBytes: number;
  /** The dataset file's size: from REEXEC_MIN_BYTES on, the run re-executes (src/util/malloc-reexec.ts). */
  datasetBytes: number;
  /** Peak sampled RSS from spawn to the last result (start-up + run loop) and after it (report tail). */
  phases: { loop: number; tail: number } | null;
  resume?: { wallMs: number; maxRssBytes: number; resent: number; phases: { loop: number; tail: number } | null };
}

async function memory(sizes: number[], resume: boolean): Promise<MemoryResult[]> {
  const out: MemoryResult[] = [];
  await withTempDir(async (dir) => {
    const emulator = await spawnEmulator({ m0: fixedLatencyModel(0) });
    try {
      for (const rows of sizes) {
        const dataset = join(dir, `mem-${rows}.jsonl`);
        await writeDataset(dataset, rows);
        const config = await writeConfig(dir, dataset, "azure-ai-inference", emulator.url, ["m0"], 64);
        const id = `mem-${rows}`;
        const sampled = { BENCH_RSS_SAMPLE_MS: String(RSS_SAMPLE_MS) };
        const run = await runBakeoff(dir, config, id, [], sampled);
        const journal = join(run.runDir, "predictions.jsonl");
        const r: MemoryResult = {
          rows,
          wallMs: run.wallMs,
          maxRssBytes: run.maxRssBytes,
          cpuUsPerResult: run.cpuUs / run.results,
          journalBytes: (await stat(journal)).size,
          datasetBytes: (await stat(dataset)).size,
          phases: phasePeaks(run.rss, run.lastEnd),
        };
        log(
          `memory ${fmtInt(rows)}: ${fmtS(run.wallMs)} (loop ${fmtS(run.loopMs)}, tail ${fmtS(run.tailMs)}), ${fmtS(run.cpuUs / 1000)} CPU, peak RSS ${fmtMB(run.maxRssBytes)}` +
            (r.phases ? ` (loop ${fmtMB(r.phases.loop)}, tail ${fmtMB(r.phases.tail)})` : ""),
        );
        if (resume && rows === Math.max(...sizes)) {
          const resent = Math.min(1000, Math.floor(rows / 2));
          await dropLastLines(journal, resent);
          const manifestPath = join(run.runDir, "run.json");
          const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as { status: string };
          manifest.status = "interrupted";
          await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
          const res = await runMeasured(
            [BIN, "run", "--no-weave", "--resume", id, "--out", join(dir, "results"), "--config", config],
            dir,
            sampled,
          );
          const phases = phasePeaks(res.rss, (await journalFacts(run.runDir)).lastEnd);
          r.resume = { wallMs: res.wallMs, maxRssBytes: res.maxRssBytes, resent, phases };
          log(
            `resume ${fmtInt(rows)}: ${fmtS(res.wallMs)}, ${fmtS(res.cpuUs / 1000)} CPU, peak RSS ${fmtMB(res.maxRssBytes)}` +
              (phases ? ` (loop ${fmtMB(phases.loop)}, tail ${fmtMB(phases.tail)})` : ""),
          );
        }
        await rm(run.runDir, { recursive: true, force: true });
        await rm(dataset, { force: true });
        out.push(r);
      }
    } finally {
      await emulator.stop();
    }
  });
  return out;
}

/** Truncates a journal before its last `n` lines (as if the run had been killed earlier). */
async function dropLastLines(path: string, n: number): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const { size } = await fh.stat();
    const chunk = Buffer.alloc(Math.min(size, 8 * 1024 * 1024));
    await fh.read(chunk, 0, chunk.length, size - chunk.length);
    let seen = 0;
    let i = chunk.length - 2; // skip the final newline
    for (; i >= 0; i--) if (chunk[i] === 0x0a && ++seen === n) break;
    if (i < 0) throw new Error("journal too short to drop lines from");
    await fh.truncate(size - chunk.length + i + 1);
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// structures: retained heap per row, old vs new (child with --expose-gc)

interface StructureResult {
  rows: number;
  keySetOld: number;
  keySetNew: number;
  idOld: number;
  idNew: number;
  /** The report's row index: the general hashed rows (the previous index's layout + a 4 B row number). */
  rowsHashed?: number;
  /** The report's row index addressed by (dataset, line). */
  rowsDirect?: number;
}

async function structures(sizes: number[]): Promise<StructureResult[]> {
  const out: StructureResult[] = [];
  for (const rows of sizes) {
    const res = await withTempDir((dir) =>
      runMeasured(["--expose-gc", ...process.execArgv, join(HERE, "run.ts"), "structures-child", String(rows)], dir),
    );
    out.push(JSON.parse(res.stdout.trim().split("\n").pop()!) as StructureResult);
    log(`structures ${fmtInt(rows)}: ${res.stdout.trim()}`);
  }
  return out;
}

async function structuresChild(rows: number): Promise<void> {
  const { KeySetBuilder } = await import("../src/store/key-set.js");
  const { IdIndex } = await import("../src/dataset/id-index.js");
  const { RowIndex } = await import("../src/report/row-index.js");
  const { HashedRows } = await import("../src/report/row-index-hashed.js");
  const { hash64JoinedInto } = await import("../src/util/hash64.js");
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  };
  // Keys and ids are built from fresh strings (as read from a file), not interned literals.
  const key = (i: number) => `bench/r${String(i).padStart(7, "0")}/m0/0`;
  const id = (i: number) => `r${String(i).padStart(7, "0")}`;
  const measure = (build: () => unknown): number => {
    const before = heap();
    const held = build();
    const after = heap();
    if (held === undefined) throw new Error("nothing built");
    return (after - before) / rows;
  };
  const keySetOld = measure(() => {
    const s = new Set<string>();
    for (let i = 0; i < rows; i++) s.add(key(i));
    return s;
  });
  const keySetNew = measure(() => {
    const b = new KeySetBuilder();
    for (let i = 0; i < rows; i++) b.add(key(i));
    return b.build();
  });
  const idOld = measure(() => {
    const m = new Map<string, number>();
    for (let i = 0; i < rows; i++) m.set(id(i), i + 1);
    return m;
  });
  const idNew = measure(() => {
    const x = new IdIndex();
    for (let i = 0; i < rows; i++) x.add(id(i), i + 1);
    return x;
  });
  // The report's row index over one dataset's rows, lines 2.. (a CSV), sized from run.json's count.
  const rowsHashed = measure(() => {
    const x = new HashedRows(["bench"], rows);
    const h = new Uint32Array(2);
    for (let i = 0; i < rows; i++) {
      const rowId = id(i);
      hash64JoinedInto("bench", "/", rowId, h);
      x.lookup("bench", rowId, i + 2, h[0]!, h[1]!, i);
    }
    return x;
  });
  const rowsDirect = measure(() => {
    const x = new RowIndex(["bench"], [rows]);
    for (let i = 0; i < rows; i++) x.indexOf({ dataset: "bench", rowId: id(i), line: i + 2 });
    return x;
  });
  const r: StructureResult = { rows, keySetOld, keySetNew, idOld, idNew, rowsHashed, rowsDirect };
  process.stdout.write(JSON.stringify(r) + "\n");
}

// ---------------------------------------------------------------------------------------------
// Report

interface Report {
  date: string;
  node: string;
  machine: string;
  load: number[];
  wall?: PairResult[];
  throughput?: PairResult[];
  memory?: MemoryResult[];
  structures?: StructureResult[];
}

function header(r: Report, mode: string, cmd: string): string {
  return `_Measured ${r.date} on ${r.machine}, Node ${r.node}; 1-min load average ${r.load.map((l) => l.toFixed(1)).join(" → ")} (other work shares the CPUs); best of ${REPS} alternated runs per side; \`${cmd}\`._`;
}

const verdict = (ok: boolean) => (ok ? "**met**" : "**not met**");

function renderPairs(r: Report, mode: "wall" | "throughput", pairs: PairResult[]): string {
  const p0 = pairs[0]!;
  const lines = [header(r, mode, `npx tsx bench/run.ts ${mode} --write`), ""];
  const ideal = (p0.latencyMs * p0.calls) / p0.concurrency;
  lines.push(
    `${fmtInt(p0.rows)} rows × ${p0.models} models, C = ${p0.concurrency}, server latency ${p0.latencyMs} ms (emulator in its own process${mode === "wall" ? `; ideal ${fmtS(ideal)}` : ""}). **bare** = \`node bench/bare-loop.mjs\`: the provider's own client + p-limit, nothing else; for openai also plain node:http with a keep-alive agent (same URL, body and headers; the provider's own transport for non-streamed calls, so the physical floor), one row per floor with bakeoff's figures repeated. **The verdicts use the stricter floor: node:http for openai, the ModelClient for azure-ai-inference.** **bakeoff** = \`node bin/bakeoff.js run --no-weave --config <tmp>\` (two scorers, journal, all reports). Wall = spawn to exit of each process; CPU = the process's user + system time (bench/exit-stats.mjs). p50 = the client's per-call latency (bakeoff: the journal's \`latencyMs\`); server's p50 = the emulator's own service time (request arrival → answer finished, \`/_emulator/stats\` \`serviceTime\`) during that side's runs. bakeoff's phases come from its journal: start-up = spawn → first call, loop = first call → last result, tail = last result → exit (reports, run.json).`,
    "",
  );
  lines.push(
    "| provider (bare loop's client) | bare wall | bakeoff wall | **wall ratio** | bare loop | bakeoff loop | loop ratio | bakeoff start-up / tail | bare calls/s | bakeoff calls/s | **rate ratio** | bare CPU/call | bakeoff CPU/result | **bakeoff's own CPU/result** | p50 bare / bakeoff | server's p50 in bare / bakeoff runs | **p50 / server's p50: bare / bakeoff** | bakeoff p50 / configured latency | peak RSS bare / bakeoff |",
  );
  lines.push(
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const checks: string[] = [];
  for (const p of pairs) {
    const bk = best(p.bakeoff, (x) => x.wallMs);
    const bkCpu = Math.min(...p.bakeoff.map((x) => x.cpuUs)) / p.calls;
    const rateBk = p.calls / (bk.wallMs / 1000);
    const p50 = median(p.bakeoff.map((x) => x.p50Ms));
    const server = Math.max(p.latencyMs, 0);
    const bkServed = median(p.bakeoffServiceP50Ms);
    // bakeoff against each floor; the last one (the stricter) carries the verdicts.
    const vs = p.floors.map((f) => {
      const bare = best(f.runs, (x) => x.wallMs);
      const bareCpu = Math.min(...f.runs.map((x) => x.cpuUs)) / p.calls;
      const rateBare = p.calls / (bare.wallMs / 1000);
      return {
        label: f.floor.label,
        bare,
        bareCpu,
        own: bkCpu - bareCpu,
        wallRatio: bk.wallMs / bare.wallMs,
        rateBare,
        rateRatio: rateBk / rateBare,
        bareP50: median(f.runs.map((x) => x.p50Ms)),
        // What the emulator itself measured (arrival → answer finished) while this floor ran.
        bareServed: median(f.serviceP50Ms),
      };
    });
    for (const v of vs) {
      lines.push(
        `| ${p.provider} (${v.label}) | ${fmtS(v.bare.wallMs)} | ${fmtS(bk.wallMs)} | **${fmtX(v.wallRatio)}** | ${fmtS(v.bare.loopMs)} | ${fmtS(bk.loopMs)} | ${fmtX(bk.loopMs / v.bare.loopMs)} | ${fmtS(bk.startupMs)} / ${fmtS(bk.tailMs)} | ${fmtInt(Math.round(v.rateBare))} | ${fmtInt(Math.round(rateBk))} | **${fmtX(v.rateRatio)}** | ${fmtUs(v.bareCpu)} | ${fmtUs(bkCpu)} | **${fmtUs(v.own)}** | ${v.bareP50.toFixed(1)} / ${p50.toFixed(1)} ms | ${v.bareServed.toFixed(1)} / ${bkServed.toFixed(1)} ms | **${fmtX(v.bareP50 / v.bareServed)} / ${fmtX(p50 / bkServed)}** | ${server > 0 ? fmtX(p50 / server) : "–"} | ${fmtMB(v.bare.maxRssBytes)} / ${fmtMB(bk.maxRssBytes)} |`,
      );
    }
    const strict = vs.at(-1)!;
    const others = vs.slice(0, -1);
    // "vs node:http" when there is a choice of floor, plus the looser floors' figure for context.
    const against = (fig: (v: (typeof vs)[number]) => string) =>
      others.length === 0
        ? fig(strict)
        : `${fig(strict)} vs ${strict.label}; vs ${others.map((v) => `${v.label}: ${fig(v)}`).join(", ")}`;
    if (mode === "wall") {
      checks.push(
        `${p.provider}: wall ≤ 1.05× bare ${verdict(strict.wallRatio <= 1.05)} (${against((v) => fmtX(v.wallRatio))})`,
      );
      checks.push(
        `${p.provider}: p50 within 10% of the server's service time ${verdict(Math.abs(p50 / bkServed - 1) <= 0.1)} (${p50.toFixed(1)} vs ${bkServed.toFixed(1)} ms; the bare loops: ${vs.map((v) => `${v.label} ${v.bareP50.toFixed(1)} vs ${v.bareServed.toFixed(1)} ms`).join(", ")}; configured ${server} ms)`,
      );
    } else {
      checks.push(
        `${p.provider}: ≥ 0.8× bare calls/s ${verdict(strict.rateRatio >= 0.8)} (${against((v) => fmtX(v.rateRatio))})`,
      );
      checks.push(
        `${p.provider}: own CPU ≤ 100 µs/result ${verdict(strict.own <= 100)} (${against((v) => fmtUs(v.own))})`,
      );
    }
    checks.push(
      `${p.provider}: peak RSS ≤ 150 MB ${verdict(bk.maxRssBytes <= 150 * 1024 * 1024)} (${fmtMB(bk.maxRssBytes)})`,
    );
  }
  lines.push(
    "",
    `Emulator CPU per call (its own process, for context): ${pairs.map((p) => `${p.provider} ${fmtUs(p.emulatorCpuUsPerCall)}`).join(", ")}.`,
  );
  lines.push("", "Verdicts (computed): " + checks.join("; ") + ".");
  return lines.join("\n");
}

const fmtPhases = (p: { loop: number; tail: number } | null | undefined) =>
  p ? `${fmtMB(p.loop)} / ${fmtMB(p.tail)}` : "–";

/**
 * Which sizes ran re-executed with glibc's mmap threshold pinned (a dataset of REEXEC_MIN_BYTES
 * or more, on Linux/glibc with process.execve), or why none did: the same build measures
 * differently with and without it, so the table says which it is.
 */
function reexecNote(mem: MemoryResult[]): string {
  const userMalloc = Object.keys(process.env).filter((k) => k.startsWith("MALLOC_"));
  const why =
    process.env.BAKEOFF_NO_REEXEC !== undefined
      ? "BAKEOFF_NO_REEXEC was set"
      : userMalloc.length > 0
        ? `the environment set ${userMalloc.map((k) => `${k}=${process.env[k]}`).join(", ")}`
        : process.platform !== "linux" || typeof process.execve !== "function"
          ? `no process.execve on ${process.platform} / Node ${process.version}`
          : undefined;
  if (why !== undefined) return `No run re-executed itself with \`MALLOC_MMAP_THRESHOLD_\` pinned: ${why}.`;
  const sizes = mem.filter((m) => m.datasetBytes >= REEXEC_MIN_BYTES).map((m) => fmtInt(m.rows));
  return sizes.length === 0
    ? `No dataset reached ${fmtMB(REEXEC_MIN_BYTES)}: every run ran in place (glibc's default malloc).`
    : `Runs of ${sizes.join(", ")} rows (datasets ≥ ${fmtMB(REEXEC_MIN_BYTES)}) re-executed themselves with \`MALLOC_MMAP_THRESHOLD_=1048576\` (src/util/malloc-reexec.ts); smaller ones ran in place.`;
}

function renderMemory(r: Report, mem: MemoryResult[]): string {
  const cmd = mem.some((m) => m.rows >= 1_000_000) ? "npm run bench:1m" : "npx tsx bench/run.ts memory --write";
  const lines = [header(r, "memory", cmd), ""];
  lines.push(
    "`bakeoff run` (whole process, azure-ai-inference) over N rows × 1 model, 0 ms latency, C = 64; peak RSS = the process's maxRSS (bench/exit-stats.mjs); loop / tail peak = the highest RSS sampled every " +
      String(RSS_SAMPLE_MS) +
      " ms from spawn to the last result (start-up + run loop) and after it (journal sync, reports, index, run.json). Resume: the largest run with its last min(1,000, N/2) results removed and run.json set to interrupted, then `bakeoff run --resume` (reads the journal's keys, re-sends 1,000 calls, rewrites the reports).",
    "",
    "| rows | wall | peak RSS | loop / tail peak | RSS / smallest | CPU per result | journal on disk | resume wall | resume peak RSS | resume loop / tail peak |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const small = mem[0]!;
  for (const m of mem) {
    lines.push(
      `| ${fmtInt(m.rows)} | ${fmtS(m.wallMs)} | ${fmtMB(m.maxRssBytes)} | ${fmtPhases(m.phases)} | ${fmtX(m.maxRssBytes / small.maxRssBytes)} | ${fmtUs(m.cpuUsPerResult)} | ${fmtMB(m.journalBytes)} | ${m.resume ? fmtS(m.resume.wallMs) : "–"} | ${m.resume ? fmtMB(m.resume.maxRssBytes) : "–"} | ${m.resume ? fmtPhases(m.resume.phases) : "–"} |`,
    );
  }
  if (NODE_ARGS.length > 0) lines.push("", `Node options of the measured processes: \`${NODE_ARGS.join(" ")}\`.`);
  lines.push("", reexecNote(mem));
  const big = mem.at(-1)!;
  const checks = [
    `peak RSS ≤ 150 MB at every size ${verdict(mem.every((m) => m.maxRssBytes <= 150 * 1024 * 1024))}`,
    `largest within 20% of smallest ${verdict(big.maxRssBytes / small.maxRssBytes <= 1.2)} (${fmtX(big.maxRssBytes / small.maxRssBytes)} from ${fmtInt(small.rows)} to ${fmtInt(big.rows)} rows)`,
  ];
  if (big.resume)
    checks.push(
      `resume ≤ 300 MB ${verdict(big.resume.maxRssBytes <= 300 * 1024 * 1024)} (${fmtMB(big.resume.maxRssBytes)})`,
    );
  if (big.rows < 1_000_000) checks.push("the 1,000,000-row case and its resume: `npm run bench:1m`");
  lines.push("", "Verdicts (computed): " + checks.join("; ") + ".");
  return lines.join("\n");
}

function renderStructures(r: Report, s: StructureResult[]): string {
  const lines = [
    header(r, "structures", "npx tsx bench/run.ts structures --write").replace(
      /; best of \d+ alternated runs per side/,
      "",
    ),
    "",
  ];
  lines.push(
    "Heap + ArrayBuffers retained after forced GC (`--expose-gc`), per row, each structure built alone from fresh strings. Resume key set: keys like `bench/r0000001/m0/0`; duplicate-id check: ids like `r0000001` with their first line; report row index: dataset `bench`, ids like `r0000001` at lines 2.., sized from the expected rows.",
    "",
    "| rows | resume keys: Set<string> (old) | KeySet, 64-bit hashes sorted (new) | dataset ids: Map<id, line> (old) | IdIndex, 64-bit hash table (new) | report row index: hashed (old layout + 4 B row number) | RowIndex by (dataset, line) (new) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const x of s)
    lines.push(
      `| ${fmtInt(x.rows)} | ${x.keySetOld.toFixed(1)} B/row | ${x.keySetNew.toFixed(1)} B/row | ${x.idOld.toFixed(1)} B/row | ${x.idNew.toFixed(1)} B/row | ${x.rowsHashed?.toFixed(1) ?? "–"} B/row | ${x.rowsDirect?.toFixed(1) ?? "–"} B/row |`,
    );
  return lines.join("\n");
}

async function writeBenchmarksMd(sections: Record<string, string>): Promise<void> {
  const file = join(ROOT, "BENCHMARKS.md");
  let text = await readFile(file, "utf8");
  for (const [mode, section] of Object.entries(sections)) {
    const begin = `<!-- bench:${mode}:start -->`;
    const finish = `<!-- bench:${mode}:end -->`;
    const a = text.indexOf(begin);
    const b = text.indexOf(finish);
    if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${begin} … ${finish} section to replace`);
    text = `${text.slice(0, a + begin.length)}\n${section}\n${text.slice(b)}`;
  }
  await writeFile(file, text, "utf8");
  log(`wrote ${file} (${Object.keys(sections).join(", ")})`);
}

async function main(): Promise<void> {
  if (positional[0] === "structures-child") return structuresChild(Number(positional[1]));
  const modes = positional.length > 0 ? positional : ["wall", "throughput", "memory", "structures"];
  for (const m of modes)
    if (!["wall", "throughput", "memory", "structures"].includes(m))
      throw new Error(`unknown mode "${m}"; use wall, throughput, memory or structures`);
  const report: Report = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    machine: machineLine(),
    load: [loadavg()[0]!],
  };
  const sections: Record<string, string> = {};
  if (modes.includes("wall")) report.wall = await pair(ROWS ?? 5000, 2, 16, 20);
  if (modes.includes("throughput")) report.throughput = await pair(ROWS ?? 10_000, 2, 64, 0);
  if (modes.includes("memory")) {
    const sizes = (option("--sizes") ?? "10000,100000").split(",").map(Number);
    report.memory = await memory(sizes, flag("--resume"));
  }
  if (modes.includes("structures")) report.structures = await structures([100_000, 1_000_000]);
  report.load.push(loadavg()[0]!);
  if (report.wall) sections.wall = renderPairs(report, "wall", report.wall);
  if (report.throughput) sections.throughput = renderPairs(report, "throughput", report.throughput);
  if (report.memory) sections.memory = renderMemory(report, report.memory);
  if (report.structures) sections.structures = renderStructures(report, report.structures);
  console.log(Object.values(sections).join("\n\n"));
  if (flag("--json")) console.log(JSON.stringify(report));
  if (flag("--write")) {
    // A partial run (one provider, other row counts) must not replace the published section.
    if (ONLY_PROVIDER !== undefined || ROWS !== undefined || ONLY_FLOOR !== undefined)
      throw new Error("--write takes neither --provider, --rows nor --floor");
    await writeBenchmarksMd(sections);
  }
}

await main();
