/**
 * What Weave logging adds to a whole `bakeoff run` (issue 14 target: Weave on ≤ 1.15× Weave off,
 * and the process exits within 5 s of the last result).
 *
 *   npm run build && npx tsx bench/weave-overhead.ts [--rows 5000] [--reps 1] [--write] [--profile]
 *
 * Workload (the wall-time bench's): N rows × 2 models, the emulator in its own process with a
 * fixed 20 ms latency, concurrency 16, JSONL arithmetic prompts with a system message and two
 * scorers. Each run is its own `node bin/bakeoff.js run` process, once with Weave off and once
 * logging to the local fake trace server (test/helpers/fake-trace-server.ts, in this bench's
 * process) through the real SDK child, alternated `--reps` times. Measured per run: wall time of
 * the process, its CPU (user + system, children excluded: the Weave child is reported apart),
 * and the exit latency: process exit minus the last record's `endedAt` in the journal.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import { startFakeTraceServer, type FakeTraceServer } from "../test/helpers/fake-trace-server.js";
import { writeBenchSection } from "./benchmarks-md.js";
import { flag, numberOption } from "./args.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ROWS = numberOption("--rows", 5000);
const REPS = numberOption("--reps", 1);
const WRITE = flag("--write");
const PROFILE = flag("--profile");
const LATENCY_MS = 20;
const CONCURRENCY = 16;
const MODELS = ["m0", "m1"];
const RATIO_TARGET = 1.15;
const EXIT_TARGET_MS = 5000;

const log = (msg: string) => console.error(`[weave-bench] ${msg}`);

interface Outcome {
  weave: boolean;
  wallMs: number;
  /** CPU of the bakeoff process (user + system). */
  cpuMs: number;
  /** CPU of the Weave child process (0 with Weave off). */
  childCpuMs: number;
  /** CPU of this bench process during the run: the fake trace server's share (the emulator is its own process). */
  serverCpuMs: number;
  /** Process exit minus the last record's endedAt. */
  exitAfterLastMs: number;
  code: number | null;
  requests?: number;
  byRoute?: Record<string, number>;
  predictions?: number;
}

// Loaded into the bakeoff process and (through NODE_OPTIONS, which the forked Weave child
// inherits) into the child too: each appends its own CPU time, tagged by its entry script.
// --profile: --cpu-prof is not allowed in NODE_OPTIONS, so the preload runs the inspector's profiler
// itself and writes <entry>-<pid>.cpuprofile into BENCH_CPU_PROF_DIR at exit.
const PRELOAD = `import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { basename, join } from "node:path";
const script = process.argv[1] ?? "";
const profDir = process.env.BENCH_CPU_PROF_DIR;
let session = null;
if (profDir) {
  session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
}
process.on("exit", () => {
  const u = process.resourceUsage();
  const line = { script, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 };
  appendFileSync(process.env.BENCH_USAGE_OUT, JSON.stringify(line) + "\\n");
  // The in-thread inspector session answers synchronously, so this works inside 'exit'.
  session?.post("Profiler.stop", (err, res) => {
    if (err) return;
    mkdirSync(profDir, { recursive: true });
    writeFileSync(join(profDir, basename(script, ".js") + "-" + process.pid + ".cpuprofile"), JSON.stringify(res.profile));
  });
});
`;

async function writeDataset(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 1; i <= rows; i++) {
    const a = 2 + (i % 97);
    const b = 3 + ((i * 7) % 89);
    const c = (i * 13) % 101;
    out.write(
      JSON.stringify({ id: `r${i}`, prompt: `What is ${a} * ${b} - ${c}?`, expected: String(a * b - c) }) + "\n",
    );
  }
  out.end();
  await new Promise<void>((r) => out.once("finish", () => r()));
}

async function runOnce(dir: string, url: string, weave: FakeTraceServer | null, rep: number): Promise<Outcome> {
  const tag = `${weave ? "on" : "off"}-${rep}`;
  const outputDir = join(dir, `results-${tag}`);
  const config = {
    outputDir,
    concurrency: CONCURRENCY,
    datasets: [
      {
        path: join(dir, "rows.jsonl"),
        system: "Solve the problem and end with 'The answer is N.'",
        scorers: [{ type: "numeric" }, { type: "finish_stop" }],
      },
    ],
    models: MODELS.map((name) => ({
      name,
      endpoint: `${url}/${name}`,
      apiKeyEnv: "BENCH_KEY",
      concurrency: CONCURRENCY,
      params: { temperature: 0, max_tokens: 20 },
    })),
    weave: weave ? { project: "bench/bakeoff" } : { enabled: false },
  };
  const cfg = join(dir, `config-${tag}.json`);
  await writeFile(cfg, JSON.stringify(config));
  const usageOut = join(dir, `usage-${tag}.json`);
  // NODE_OPTIONS reaches the forked Weave child, so the preload measures (and profiles) both processes.
  const nodeOptions = [`--import=${join(dir, "usage.mjs")}`];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let exitedAt = 0;
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/bakeoff.js"), "run", "--config", cfg, "--progress", "off"], {
      cwd: dir,
      env: {
        ...process.env,
        BENCH_KEY: "bench-key",
        BENCH_USAGE_OUT: usageOut,
        NODE_OPTIONS: nodeOptions.join(" "),
        ...(PROFILE ? { BENCH_CPU_PROF_DIR: join(ROOT, "bench-profiles", tag) } : {}),
        GITHUB_STEP_SUMMARY: "",
        HOME: dir,
        ...(weave ? { WANDB_API_KEY: "bench-key", WF_TRACE_SERVER_URL: weave.url } : {}),
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (c) => {
      exitedAt = Date.now();
      resolve(c);
    });
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const serverCpuMs = (cpu.user + cpu.system) / 1000;
  const usage = (await readFile(usageOut, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { script: string; cpuMs: number });
  const cpuMs = usage.find((u) => u.script.endsWith("bakeoff.js"))?.cpuMs ?? NaN;
  const childCpuMs = usage.filter((u) => u.script.endsWith("weave-child.js")).reduce((a, u) => a + u.cpuMs, 0);
  const [runDir] = await readdir(outputDir, { withFileTypes: true }).then((e) =>
    e.filter((x) => x.isDirectory()).map((x) => join(outputDir, x.name)),
  );
  let last = 0;
  for (const line of (await readFile(join(runDir!, "predictions.jsonl"), "utf8")).split("\n")) {
    if (line === "") continue;
    last = Math.max(last, Date.parse((JSON.parse(line) as { endedAt: string }).endedAt));
  }
  const o: Outcome = {
    weave: weave !== null,
    wallMs,
    cpuMs,
    childCpuMs,
    serverCpuMs,
    exitAfterLastMs: exitedAt - last,
    code,
  };
  if (weave) {
    o.byRoute = weave.countByRoute();
    o.requests = Object.values(o.byRoute).reduce((a, b) => a + b, 0);
    o.predictions = weave.callsByOp("Model.predict").length;
  }
  log(
    `Weave ${weave ? "on " : "off"} #${rep}: exit ${code}, ${(wallMs / 1000).toFixed(2)} s wall, CPU ${(cpuMs / 1000).toFixed(2)} s main + ${(childCpuMs / 1000).toFixed(2)} s child + ${(serverCpuMs / 1000).toFixed(2)} s fake server, exit ${(o.exitAfterLastMs / 1000).toFixed(2)} s after the last result` +
      (weave ? `, ${o.requests} requests ${JSON.stringify(o.byRoute)}, ${o.predictions} Model.predict calls` : ""),
  );
  return o;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function render(off: Outcome[], on: Outcome[], load: number[]): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const offWall = median(off.map((o) => o.wallMs));
  const onWall = median(on.map((o) => o.wallMs));
  const ratio = onWall / offWall;
  const exitOn = Math.max(...on.map((o) => o.exitAfterLastMs));
  const ok = ratio <= RATIO_TARGET && exitOn <= EXIT_TARGET_MS;
  const ideal = (LATENCY_MS * ROWS * MODELS.length) / CONCURRENCY;
  const results = ROWS * MODELS.length;
  const perResult = (ms: number) => `${Math.round((ms * 1000) / results)} µs`;
  const row = (label: string, xs: Outcome[]) => {
    const cpu = median(xs.map((o) => o.cpuMs));
    const child = median(xs.map((o) => o.childCpuMs));
    const server = median(xs.map((o) => o.serverCpuMs));
    const requests = xs[0]?.requests;
    return `| ${label} | ${s(median(xs.map((o) => o.wallMs)))} | ${(median(xs.map((o) => o.wallMs)) / offWall).toFixed(2)}× | ${s(cpu)} (${perResult(cpu)}) | ${xs[0]?.weave ? `${s(child)} (${perResult(child)})` : "–"} | ${xs[0]?.weave ? `${s(server)} (${perResult(server)})` : "–"} | ${s(Math.max(...xs.map((o) => o.exitAfterLastMs)))} | ${requests === undefined ? "–" : `${requests} (${(requests / results).toFixed(3)})`} |`;
  };
  const routes = on[0]?.byRoute ?? {};
  return [
    `_Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}; 1-min load average ${load.map((l) => l.toFixed(1)).join(" → ")}; \`npm run bench:weave\`._`,
    "",
    "### Weave on (target: ≤ 1.15× the Weave-off run, exit within 5 s of the last result)",
    "",
    `Whole \`bakeoff run\` processes: ${ROWS.toLocaleString("en-US")} rows × ${MODELS.length} models, emulator in its own process at ${LATENCY_MS} ms, concurrency ${CONCURRENCY} (ideal ${s(ideal)}); Weave on = the real SDK child logging to the local fake trace server; ${REPS} run(s) each, alternated, medians shown. CPU = user + system time of the bakeoff process, of its Weave child, and of this bench process while the run lasts (the fake trace server lives there; a real one is remote), each also per result. Exit after last = process exit − the last record's \`endedAt\` (max over runs).`,
    "",
    "| run | wall | wall / Weave off | CPU bakeoff | CPU Weave child | CPU fake server | exit after last result | requests to trace server (per result) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("Weave off", off),
    row("Weave on", on),
    "",
    `Requests by route (Weave on, first run): ${Object.entries(routes)
      .map(([route, n]) => `\`${route}\` ${n}`)
      .join(", ")}.`,
    "",
    `Verdict (computed): **${ok ? "met" : "not met"}** — Weave on is ${ratio.toFixed(2)}× Weave off; exits ${s(exitOn)} after the last result. Predictions logged: ${on.map((o) => o.predictions).join(", ")} of ${ROWS * MODELS.length}.`,
  ].join("\n");
}

const dir = await mkdtemp(join(tmpdir(), "bakeoff-bench-weave-"));
const emulator = await spawnEmulator(Object.fromEntries(MODELS.map((m) => [m, fixedLatencyModel(LATENCY_MS)])));
try {
  const load = [loadavg()[0]!];
  await writeDataset(join(dir, "rows.jsonl"), ROWS);
  await writeFile(join(dir, "usage.mjs"), PRELOAD);
  const off: Outcome[] = [];
  const on: Outcome[] = [];
  for (let rep = 1; rep <= REPS; rep++) {
    off.push(await runOnce(dir, emulator.url, null, rep));
    const server = await startFakeTraceServer();
    try {
      on.push(await runOnce(dir, emulator.url, server, rep));
    } finally {
      await server.close();
    }
  }
  load.push(loadavg()[0]!);
  const section = render(off, on, load);
  console.log(section);
  if (WRITE) await writeBenchSection("weave", section);
} finally {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
}
