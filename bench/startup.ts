/**
 * Start-up: `bakeoff --version`, `--help`, `help run` and a 10-row run against the built-in
 * emulator, each timed as a whole process (spawn to exit, as a user waits for it), next to the
 * ideal measured in the same run: `node -e 0`, the bare start of the same Node binary.
 *
 * Usage (after `npm run build`; `npm run bench:startup` does both and writes BENCHMARKS.md):
 *   npx tsx bench/startup.ts [--node PATH]... [--runs N] [--write] [--profile DIR]
 *
 * --node PATH   Node binary to measure with (repeatable; default: the one running this script).
 *               The targets are stated for Node 22; every binary given gets its own table.
 * --runs N      counted runs per case (default 7); one uncounted warm-up run first, which also
 *               fills Node's compile cache (bin/bakeoff.js enables it on Node >= 22.1).
 * --write       replace the `bench:startup` section of BENCHMARKS.md.
 * --profile DIR also run each case once under `--cpu-prof` into DIR and print where its CPU
 *               went (self time by category and the top functions, bench/cpu-profile.ts), the
 *               evidence when a target is missed.
 *
 * The cases run round-robin (ideal, then each case, then again), so a machine that slows down
 * part-way slows every case alike. Wall time is measured here around spawn → exit; CPU time
 * (user + system of the child) comes from /usr/bin/time when it exists.
 *
 * The 10-row run uses the repository's own eval.config.json and datasets (two datasets × two
 * emulated models, `--limit 10` → 20 rows × 2 models = 40 calls, all five reports) in a temporary
 * git checkout (run.json records the commit, so the git calls are part of the measured work).
 * Its emulated models have latency (median 30 ms and 80 ms, p95 up to 220 ms, concurrency 8 per
 * model), so the run also reports a "zero-latency" variant of the same config: the tool's own
 * start-up and finish, with no time spent waiting for (emulated) models. Each run's wall time is
 * split into phases from its journal (`--run-id` per run): spawn → first call, the loop, the tail.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeProfile } from "./cpu-profile.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(REPO, "bin", "bakeoff.js");
const TIME = "/usr/bin/time";

interface Args {
  nodes: string[];
  runs: number;
  write: boolean;
  profile?: string;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { nodes: [], runs: 7, write: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--node") out.nodes.push(resolve(argv[++i]!));
    else if (a === "--runs") out.runs = Number(argv[++i]);
    else if (a === "--write") out.write = true;
    else if (a === "--profile") out.profile = resolve(argv[++i]!);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(out.runs) || out.runs < 1) throw new Error("--runs must be a whole number ≥ 1");
  if (out.nodes.length === 0) out.nodes.push(process.execPath);
  return out;
}

interface Case {
  name: string;
  /** Arguments after the Node binary. */
  args: string[];
  cwd: string;
  /** Target for the median wall time, ms (checked on Node 22). */
  targetMs?: number;
  what: string;
  /** A run: also split its wall time into phases, read from its journal. */
  phases?: boolean;
}

/** Where a run's wall time went, ms: spawn → first call started, → last result ended, → exit. */
interface Phases {
  startupMs: number;
  loopMs: number;
  tailMs: number;
}

interface Sample {
  wallMs: number;
  cpuMs?: number;
  phases?: Phases;
}

let runCounter = 0;

/** First call started and last result ended (epoch ms), from a run's journal. */
function journalSpan(runDir: string): { firstStart: number; lastEnd: number } {
  let firstStart = Infinity;
  let lastEnd = 0;
  for (const line of readFileSync(join(runDir, "predictions.jsonl"), "utf8").split("\n")) {
    if (line === "") continue;
    const r = JSON.parse(line) as { startedAt: string; endedAt: string };
    firstStart = Math.min(firstStart, Date.parse(r.startedAt));
    lastEnd = Math.max(lastEnd, Date.parse(r.endedAt));
  }
  return { firstStart, lastEnd };
}

/** One process, spawn → exit; CPU from /usr/bin/time when available. */
function runOnce(node: string, c: Case, extraNodeArgs: string[] = []): Promise<Sample> {
  const timeFile = join(tmpdir(), `bakeoff-startup-time-${process.pid}.txt`);
  const useTime = existsSync(TIME);
  // A run gets its own id, so its journal can be found (and removed) afterwards.
  const runId = c.phases ? `startup-bench-${process.pid}-${++runCounter}` : undefined;
  const argv = [node, ...extraNodeArgs, ...c.args, ...(runId ? ["--run-id", runId] : [])];
  const [cmd, ...rest] = useTime ? [TIME, "-o", timeFile, "-f", "%U %S", ...argv] : argv;
  return new Promise((resolveSample, reject) => {
    const started = performance.now();
    const spawnedAt = Date.now();
    const child = spawn(cmd!, rest, {
      cwd: c.cwd,
      // A non-terminal, no colour: what CI sees. Weave is off by flag in the run cases.
      env: { ...process.env, CI: "true", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stdout.resume();
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      const exitedAt = Date.now();
      if (code !== 0) return reject(new Error(`${c.name}: exit ${code}\n${stderr.slice(-2000)}`));
      let phases: Phases | undefined;
      if (runId) {
        const runDir = join(c.cwd, "results", runId);
        const { firstStart, lastEnd } = journalSpan(runDir);
        phases = { startupMs: firstStart - spawnedAt, loopMs: lastEnd - firstStart, tailMs: exitedAt - lastEnd };
        rmSync(runDir, { recursive: true, force: true });
      }
      let cpuMs: number | undefined;
      if (useTime) {
        const [u, s] = readFileSync(timeFile, "utf8").trim().split(/\s+/).slice(-2).map(Number);
        if (Number.isFinite(u) && Number.isFinite(s)) cpuMs = (u! + s!) * 1000;
      }
      resolveSample({ wallMs, ...(cpuMs === undefined ? {} : { cpuMs }), ...(phases ? { phases } : {}) });
    });
  });
}

/** A temporary git checkout holding the repository's starter config and datasets. */
function runFixture(zeroLatency: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), `bakeoff-startup-${zeroLatency ? "zero" : "default"}-`));
  const config = JSON.parse(readFileSync(join(REPO, "eval.config.json"), "utf8")) as {
    $schema?: string;
    emulator: { models: Record<string, { latency?: unknown }> };
  };
  delete config.$schema;
  if (zeroLatency)
    for (const m of Object.values(config.emulator.models)) m.latency = { medianMs: 0, p95Ms: 0, perTokenMs: 0 };
  writeFileSync(join(dir, "eval.config.json"), JSON.stringify(config, null, 2) + "\n");
  cpSync(join(REPO, "datasets"), join(dir, "datasets"), { recursive: true });
  writeFileSync(join(dir, ".gitignore"), "results/\n");
  const git = (...a: string[]) =>
    execFileSync("git", a, {
      cwd: dir,
      stdio: "ignore",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "b",
        GIT_AUTHOR_EMAIL: "b@x",
        GIT_COMMITTER_NAME: "b",
        GIT_COMMITTER_EMAIL: "b@x",
      },
    });
  try {
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "fixture");
  } catch {
    // No git on this machine: run.json simply has no commit, as for a user without git.
  }
  return dir;
}

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0]!, median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, max: s[s.length - 1]! };
}

const ms = (x: number) => `${Math.round(x)}`;
const ratio = (x: number) => `${x.toFixed(1)}×`;

interface CaseResult {
  c: Case;
  wall: ReturnType<typeof stats>;
  cpu?: ReturnType<typeof stats>;
  /** Median of each phase (runs only). */
  phases?: Phases;
}

async function measure(node: string, cases: Case[], runs: number): Promise<CaseResult[]> {
  const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
  for (const c of cases) await runOnce(node, c); // warm-up (and the compile cache)
  for (let r = 0; r < runs; r++) {
    for (const c of cases) samples.get(c)!.push(await runOnce(node, c));
    process.stderr.write(`  round ${r + 1}/${runs}\r`);
  }
  process.stderr.write("\n");
  return cases.map((c) => {
    const s = samples.get(c)!;
    const cpu = s.every((x) => x.cpuMs !== undefined) ? stats(s.map((x) => x.cpuMs!)) : undefined;
    const phases = s.every((x) => x.phases)
      ? {
          startupMs: stats(s.map((x) => x.phases!.startupMs)).median,
          loopMs: stats(s.map((x) => x.phases!.loopMs)).median,
          tailMs: stats(s.map((x) => x.phases!.tailMs)).median,
        }
      : undefined;
    return { c, wall: stats(s.map((x) => x.wallMs)), ...(cpu ? { cpu } : {}), ...(phases ? { phases } : {}) };
  });
}

function nodeVersion(node: string): string {
  return execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
}

function table(results: CaseResult[], ideal: CaseResult): string {
  const lines = [
    "| case | wall min | wall median | wall max | CPU median | median / ideal | spawn → first call / loop / tail | target | verdict |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of results) {
    const target = r.c.targetMs;
    const verdict = target === undefined ? "" : r.wall.median <= target ? "**met**" : "**not met**";
    lines.push(
      `| ${r.c.what} | ${ms(r.wall.min)} ms | ${ms(r.wall.median)} ms | ${ms(r.wall.max)} ms | ${r.cpu ? `${ms(r.cpu.median)} ms` : "n/a"} | ${r === ideal ? "1.0×" : ratio(r.wall.median / ideal.wall.median)} | ${r.phases ? `${ms(r.phases.startupMs)} / ${ms(r.phases.loopMs)} / ${ms(r.phases.tailMs)} ms` : ""} | ${target === undefined ? "" : `≤ ${target} ms`} | ${verdict} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(join(REPO, "dist", "cli-bundle", "cli.js")))
    throw new Error("dist/ is missing: run `npm run build` first");
  const defaultDir = runFixture(false);
  const zeroDir = runFixture(true);
  const here = mkdtempSync(join(tmpdir(), "bakeoff-startup-cwd-"));
  const runArgs = [BIN, "run", "--no-weave", "--limit", "10"];
  const cases: Case[] = [
    { name: "ideal", args: ["-e", "0"], cwd: here, what: "ideal: `node -e 0`" },
    { name: "version", args: [BIN, "--version"], cwd: here, targetMs: 300, what: "`bakeoff --version`" },
    { name: "help", args: [BIN, "--help"], cwd: here, targetMs: 300, what: "`bakeoff --help`" },
    { name: "help-run", args: [BIN, "help", "run"], cwd: here, what: "`bakeoff help run`" },
    {
      name: "run",
      args: runArgs,
      cwd: defaultDir,
      targetMs: 1000,
      phases: true,
      what: "10-row run, default config (`run --no-weave --limit 10`)",
    },
    {
      name: "run-zero-latency",
      args: runArgs,
      cwd: zeroDir,
      targetMs: 1000,
      phases: true,
      what: "10-row run, same config, emulator latency 0",
    },
  ];
  const sections: string[] = [];
  const console2 = (s: string) => process.stdout.write(s + "\n");
  try {
    for (const node of args.nodes) {
      const version = nodeVersion(node);
      console2(`\n== ${version} (${node})`);
      const load0 = loadavg()[0]!;
      const results = await measure(node, cases, args.runs);
      const load1 = loadavg()[0]!;
      const ideal = results.find((r) => r.c.name === "ideal")!;
      const t = table(results, ideal);
      console2(t);
      const major = Number(/^v(\d+)/.exec(version)?.[1]);
      const judged = results.filter((r) => r.c.targetMs !== undefined);
      const met = judged.filter((r) => r.wall.median <= r.c.targetMs!);
      const verdict =
        major === 22
          ? `Verdict (computed, Node 22): ${met.length === judged.length ? "**met**" : "**not met**"}: ${met.length} of ${judged.length} cases within target (${judged
              .filter((r) => r.wall.median > r.c.targetMs!)
              .map((r) => `${r.c.name} ${ms(r.wall.median)} ms > ${r.c.targetMs} ms`)
              .join("; ")}).`
          : `The targets are stated for Node 22; on ${version} these figures are for comparison.`;
      console2(verdict);
      sections.push(
        `### ${version}\n\n_1-min load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; ${args.runs} counted runs per case after one warm-up, round-robin._\n\n${t}\n\n${verdict.replace(" (", ": (").replace(/: \(\)\.$/, ".")}`,
      );
      if (args.profile) {
        mkdirSync(args.profile, { recursive: true });
        for (const c of cases.filter((x) => x.name !== "ideal")) {
          const dir = join(args.profile, `${version}-${c.name}`);
          rmSync(dir, { recursive: true, force: true });
          await runOnce(node, c, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
          const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
          if (file) console2(`\n${c.name} (${join(dir, file)}):\n${describeProfile(join(dir, file))}`);
        }
      }
    }
  } finally {
    for (const d of [defaultDir, zeroDir, here]) rmSync(d, { recursive: true, force: true });
  }
  if (args.write) writeSection(sections);
}

function writeSection(sections: string[]): void {
  const file = join(REPO, "BENCHMARKS.md");
  const begin = "<!-- bench:startup:start -->";
  const end = "<!-- bench:startup:end -->";
  const date = new Date().toISOString().slice(0, 10);
  const body = [
    begin,
    `_Measured ${date} on ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GB RAM; \`npm run bench:startup\` (\`npx tsx bench/startup.ts --write\`, add \`--node PATH\` per Node binary)._`,
    "",
    "Whole processes, spawn to exit, as a user waits for them; wall time measured by the bench, CPU (user + system of the child) by /usr/bin/time. The ideal is `node -e 0` on the same binary in the same run. The 10-row runs use the repository's eval.config.json and datasets (2 datasets × 2 emulated models, `--limit 10`: 40 calls, all five reports) in a temporary git checkout; the default config's emulated models answer in 30–220 ms (concurrency 8 per model), so the zero-latency row shows the tool's own share. A run's phases (medians) come from its journal: spawn → first call started (imports, config, plan, run directory, provider), first call → last result, last result → exit (reports, run.json).",
    "",
    ...sections.flatMap((s) => [s, ""]),
    end,
  ].join("\n");
  let text = readFileSync(file, "utf8");
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a >= 0 && b > a) text = text.slice(0, a) + body + text.slice(b + end.length);
  else text = `${text.trimEnd()}\n\n## Start-up\n\n${body}\n`;
  writeFileSync(file, text);
  console.log(`wrote the bench:startup section of ${file}`);
}

await main();
