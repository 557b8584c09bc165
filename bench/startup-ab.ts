/**
 * Start-up of `bakeoff run` on the wall workload (5,000 rows × 2 models, C = 16, 20 ms emulator
 * child), two or more builds of bakeoff side by side in the same run: what a start-up change is
 * measured with while other work loads the machine, where only same-run A/B figures mean much.
 *
 *   npx tsx bench/startup-ab.ts --builds /tmp/old,. [--rounds 5] [--rows 5000] [--provider openai]
 *
 * A build is a directory holding bin/bakeoff.js and its dist/ (a copy of the repository after
 * `npm run build`, with node_modules beside it or a symlink to one). Per provider and round, each
 * build runs once (order alternated between rounds; one uncounted warm-up round fills the compile
 * cache). Each run is cut short by `--max-duration 2s` (exit 3, resumable): the start-up is the
 * whole run's (the plan reads and checks every row first), the loop and tail are not measured.
 * With `--whole` the runs go to the end and the tail is measured too: the last result's `endedAt`
 * in the journal → the process's exit (wall; reports, run.json, exit), what a change to the
 * report tail is measured with (use fewer `--rows`: each run then takes the whole loop).
 * Printed per build, medians and every value: CPU from spawn to the first model call
 * (bench/first-call-cpu.mjs, the steadiest figure under load), spawn → first call from the journal
 * (wall), the tail (`--whole`: wall, and CPU from the last answer, bench/tail-cpu.mjs) and the process's CPU (bench/exit-stats.mjs). Nothing is written
 * to BENCHMARKS.md.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { flag, numberOption, option } from "./args.js";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import {
  BENCH_DIR,
  EXIT_STATS,
  KEY,
  KEY_ENV,
  journalFacts,
  modelNames,
  providersFrom,
  withTempDir,
  writeConfig,
  writeDataset,
} from "./workload.js";

const FIRST_CALL = join(BENCH_DIR, "first-call-cpu.mjs");
const TAIL_CPU = join(BENCH_DIR, "tail-cpu.mjs");
const builds = option("--builds", "")
  .split(",")
  .filter((b) => b !== "")
  .map((b) => resolve(b));
if (builds.length < 2) throw new Error("--builds A,B: two or more build directories");
const rounds = numberOption("--rounds", 5);
const rows = numberOption("--rows", 5000);
const only = option("--provider", "");
const whole = flag("--whole");
const providers = providersFrom(only === "" ? undefined : only);

interface Sample {
  firstCallCpuMs: number;
  startupMs: number;
  /** Last result → exit (wall), with --whole. */
  tailMs: number;
  /** CPU from the last answer's arrival to exit (bench/tail-cpu.mjs), with --whole. */
  tailCpuMs: number;
  cpuMs: number;
}

/** One cut-short run of `build`; its figures. */
async function runOnce(dir: string, build: string, config: string, runId: string): Promise<Sample> {
  const stats = join(dir, `${runId}.stats.json`);
  const firstCall = join(dir, `${runId}.first-call.txt`);
  const tailCpu = join(dir, `${runId}.tail-cpu.txt`);
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      "--import",
      EXIT_STATS,
      "--import",
      FIRST_CALL,
      "--import",
      TAIL_CPU,
      join(build, "bin", "bakeoff.js"),
      "run",
      "--no-weave",
    ].concat([
      "--config",
      config,
      "--run-id",
      runId,
      "--out",
      join(dir, "results"),
      ...(whole ? [] : ["--max-duration", "2s"]),
    ]),
    {
      cwd: dir,
      env: {
        ...process.env,
        BENCH_STATS_FILE: stats,
        BENCH_FIRST_CALL_FILE: firstCall,
        BENCH_TAIL_CPU_FILE: tailCpu,
        [KEY_ENV]: KEY,
        NO_COLOR: "1",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-5000)));
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  const exitedAt = Date.now();
  // 3: stopped by --max-duration, as intended (a small dataset may also finish: 0).
  if (code !== 0 && code !== 3) throw new Error(`${build}: bakeoff run exited ${code}:\n${stderr}`);
  const s = JSON.parse(await readFile(stats, "utf8")) as { userUs: number; systemUs: number };
  const j = await journalFacts(join(dir, "results", runId));
  return {
    firstCallCpuMs: Number(await readFile(firstCall, "utf8")),
    startupMs: j.firstStart - spawnedAt,
    tailMs: exitedAt - j.lastEnd,
    tailCpuMs: Number(await readFile(tailCpu, "utf8")),
    cpuMs: (s.userUs + s.systemUs) / 1000,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (xs: number[]) => `${median(xs).toFixed(0)} ms [${xs.map((x) => x.toFixed(0)).join(" ")}]`;

await withTempDir(async (dir) => {
  const models = modelNames(2);
  const emulator = await spawnEmulator(Object.fromEntries(models.map((m) => [m, fixedLatencyModel(20)])));
  try {
    const dataset = join(dir, "data.jsonl");
    await writeDataset(dataset, rows);
    const samples = new Map<string, Sample[]>();
    let n = 0;
    for (let round = -1; round < rounds; round++) {
      for (const provider of providers) {
        const config = await writeConfig(dir, dataset, provider, emulator.url, models, 16);
        for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
          const sample = await runOnce(dir, build, config, `r${n++}`);
          if (round < 0) continue; // warm-up: fills the compile cache
          const key = `${provider}  ${build}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
        }
      }
    }
    console.log(`${rows} rows × 2 models, C = 16, 20 ms; ${rounds} rounds; medians [each run]`);
    for (const [key, s] of samples) {
      console.log(key);
      console.log(`  CPU spawn → first call ${show(s.map((x) => x.firstCallCpuMs))}`);
      console.log(`  spawn → first call     ${show(s.map((x) => x.startupMs))}`);
      if (whole) {
        console.log(`  last result → exit     ${show(s.map((x) => x.tailMs))}`);
        console.log(`  CPU last answer → exit ${show(s.map((x) => x.tailCpuMs))}`);
      }
      console.log(`  process CPU            ${show(s.map((x) => x.cpuMs))}`);
    }
  } finally {
    await emulator.stop();
  }
});
