/**
 * Whole `bakeoff run` processes of two or more builds side by side, with the bare floor, on the
 * throughput workload (10,000 rows × 2 models, C = 64, 0 ms emulator child; `--latency 20
 * --concurrency 16` for the wall workload's p50): what a change to the run loop or a provider is
 * measured with while other work loads the machine. bench/run.ts's throughput mode runs one
 * bakeoff and one bare process per side and subtracts figures taken minutes apart; on a shared
 * machine the CPU of a call drifts by ±30% in that time. Here every round runs each build and
 * the floor back to back (order rotated between rounds), and the per-round differences are
 * what is reported.
 *
 *   npx tsx bench/run-ab.ts --builds /tmp/old,. [--rounds 5] [--rows 10000] [--provider azure-ai-inference]
 *     [--concurrency 64] [--latency 0] [--no-floor]
 *
 * A build is a directory holding bin/bakeoff.js and its dist/ (a copy of the repository after
 * `npm run build`, with node_modules beside it or a symlink to one). The floor is bench/bare-loop.mjs
 * through the provider's strictest client (ModelClient; node:http for openai). Printed per side
 * the median (and every value) of: process CPU per result (bench/exit-stats.mjs), calls per
 * second over the loop (first call → last result, from the journal; the bare loop's own timing),
 * p50 latency and its ratio to the emulator's own service time in that run; then per build the
 * per-round own CPU (build − floor), rate and p50 ratios (build / floor), and build − first
 * build. One uncounted warm-up round fills the compile cache. Nothing is
 * written to BENCHMARKS.md: bench/run.ts is the figure of record on a quiet machine.
 */
import { join, resolve } from "node:path";
import { flag, numberOption, option } from "./args.js";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import {
  BARE,
  bareLoopArg,
  journalFacts,
  runMeasured,
  modelNames,
  providersFrom,
  strictFloor,
  withTempDir,
  writeConfig,
  writeDataset,
} from "./workload.js";

const builds = option("--builds", "")
  .split(",")
  .filter((b) => b !== "")
  .map((b) => resolve(b));
if (builds.length < 1) throw new Error("--builds A[,B...]: one or more build directories");
const rounds = numberOption("--rounds", 5);
const rows = numberOption("--rows", 10_000);
const concurrency = numberOption("--concurrency", 64);
const latency = numberOption("--latency", 0);
const withFloor = !flag("--no-floor");
const only = option("--provider", "azure-ai-inference");
const [provider] = providersFrom(only);

interface Sample {
  cpuPerResultUs: number;
  callsPerSec: number;
  p50Ms: number;
  /** The emulator's own service time (request arrival → answer finished), p50, during this run. */
  serverP50Ms?: number;
}

async function runBuild(dir: string, build: string, config: string, runId: string): Promise<Sample> {
  const argv = [join(build, "bin", "bakeoff.js"), "run", "--no-weave", "--config", config, "--run-id", runId];
  const { cpuUs } = await runMeasured([...argv, "--out", join(dir, "results")], dir);
  const j = await journalFacts(join(dir, "results", runId));
  if (j.errors > 0) throw new Error(`${build}: ${j.errors} failed results`);
  return {
    cpuPerResultUs: cpuUs / j.results,
    callsPerSec: j.results / ((j.lastEnd - j.firstStart) / 1000),
    p50Ms: j.p50Ms,
  };
}

async function runFloor(dir: string, arg: string): Promise<Sample> {
  const { cpuUs, stdout } = await runMeasured([BARE, arg], dir);
  const out = JSON.parse(stdout.trim().split("\n").at(-1)!) as { calls: number; loopMs: number; p50Ms: number };
  return { cpuPerResultUs: cpuUs / out.calls, callsPerSec: out.calls / (out.loopMs / 1000), p50Ms: out.p50Ms };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const show = (xs: number[], digits = 0) =>
  `${median(xs).toFixed(digits)} [${xs.map((x) => x.toFixed(digits)).join(" ")}]`;

await withTempDir(async (dir) => {
  const models = modelNames(2);
  const emulator = await spawnEmulator(Object.fromEntries(models.map((m) => [m, fixedLatencyModel(latency)])));
  try {
    const dataset = join(dir, "data.jsonl");
    await writeDataset(dataset, rows);
    const config = await writeConfig(dir, dataset, provider!, emulator.url, models, concurrency);
    const floorArg = bareLoopArg(provider!, strictFloor(provider!), emulator.url, models, dataset, concurrency);
    const sides = [...builds, ...(withFloor ? ["floor"] : [])];
    const samples = new Map<string, Sample[]>(sides.map((s) => [s, []]));
    let n = 0;
    for (let round = -1; round < rounds; round++) {
      const r = Math.max(round, 0);
      const order = sides.map((_, k) => sides[(r + k) % sides.length]!);
      for (const side of order) {
        await emulator.takeStats(); // what the run before this one left
        const sample = side === "floor" ? await runFloor(dir, floorArg) : await runBuild(dir, side, config, `r${n++}`);
        sample.serverP50Ms = (await emulator.takeStats()).serviceTime.p50Ms ?? NaN;
        if (round >= 0) samples.get(side)!.push(sample);
      }
      if (round >= 0) console.error(`round ${round + 1}/${rounds} done`);
    }
    console.log(
      `${provider}: ${rows} rows × 2 models, C = ${concurrency}, ${latency} ms emulator; ${rounds} rounds, Node ${process.version}; medians [each round]`,
    );
    for (const [side, s] of samples) {
      console.log(side === "floor" ? `floor (${strictFloor(provider!).label})` : side);
      console.log(`  CPU per result µs  ${show(s.map((x) => x.cpuPerResultUs))}`);
      console.log(`  calls/s (loop)     ${show(s.map((x) => x.callsPerSec))}`);
      const p50s = s.map((x) => x.p50Ms);
      console.log(`  p50 ms             ${show(p50s, 1)}`);
      console.log(
        `  p50 / server's p50 ${show(
          s.map((x) => x.p50Ms / x.serverP50Ms!),
          2,
        )}`,
      );
    }
    const first = samples.get(builds[0]!)!;
    const floor = samples.get("floor");
    for (const build of builds) {
      const s = samples.get(build)!;
      if (floor !== undefined) {
        console.log(`${build} vs floor, per round`);
        console.log(`  own CPU per result µs  ${show(s.map((x, i) => x.cpuPerResultUs - floor[i]!.cpuPerResultUs))}`);
        console.log(
          `  rate ratio             ${show(
            s.map((x, i) => x.callsPerSec / floor[i]!.callsPerSec),
            2,
          )}`,
        );
        console.log(
          `  p50 ratio              ${show(
            s.map((x, i) => x.p50Ms / floor[i]!.p50Ms),
            2,
          )}`,
        );
      }
      if (build !== builds[0])
        console.log(
          `${build} − ${builds[0]}: CPU per result µs ${show(s.map((x, i) => x.cpuPerResultUs - first[i]!.cpuPerResultUs))}`,
        );
    }
  } finally {
    await emulator.stop();
  }
});
