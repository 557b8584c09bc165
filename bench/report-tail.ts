/**
 * The report tail of `bakeoff run`: the CPU its reports cost after the last answer, written from
 * one pass over the journal (how runs ended before the live feed; still `bakeoff report`) vs
 * finished from builders fed record by record during the run (src/report/live-reports.ts).
 *
 *   npm run build && npx tsx bench/report-tail.ts [--rows 5000] [--reps 5] [--write]
 *
 * Fixture: one real `bakeoff run` of the wall bench's shape (N rows × 2 models against the
 * built-in emulator at 0 ms, two scorers; its journal and run.json). Then, alternating, each in
 * its own process (bench/report-tail-child.mjs over dist/): `journal` = writeRunReports reading
 * the journal (read + JSON.parse + the builders + finish + render); `live` = the same builders fed
 * the records in memory (timed apart: the CPU the run loop now pays per record, asParsed's walk
 * and the builders' add) and then finished and rendered (timed: what is left of the tail). CPU is
 * the process's own user + system time around each step (process.cpuUsage), so a busy machine
 * changes it less than wall time. The five reports of both ways are checked byte-identical.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeBenchSection } from "./benchmarks-md.js";
import { flag, numberOption } from "./args.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ROWS = numberOption("--rows", 5000);
const REPS = numberOption("--reps", 5);
const WRITE = flag("--write");
const REPORTS = ["report.md", "report.json", "predictions.csv", "junit.xml", "report.html"];

const log = (msg: string) => console.error(`[report-tail] ${msg}`);

function run(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

async function digest(runDir: string): Promise<string> {
  const h = createHash("sha256");
  for (const f of REPORTS) h.update(await readFile(join(runDir, f)));
  return h.digest("hex");
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bakeoff-report-tail-"));
  const load0 = loadavg()[0]!;
  try {
    const dataset = join(dir, "sums.jsonl");
    await writeFile(
      dataset,
      Array.from({ length: ROWS }, (_, i) =>
        JSON.stringify({
          id: `q${i}`,
          system: "Answer with the number only.",
          prompt: `What is ${i} + ${i * 3}?`,
          expected: String(i * 4),
        }),
      ).join("\n") + "\n",
    );
    const sim = { accuracy: 0.8, latency: { medianMs: 0, p95Ms: 0 } };
    const config = join(dir, "eval.config.json");
    await writeFile(
      config,
      JSON.stringify({
        outputDir: join(dir, "results"),
        concurrency: 64,
        datasets: [{ path: dataset, scorers: [{ type: "numeric" }, { type: "finish_stop" }] }],
        models: ["m0", "m1"].map((name) => ({ name, endpoint: `emulator://${name}` })),
        emulator: { models: { m0: sim, m1: { ...sim, accuracy: 0.9 } } },
        weave: { enabled: false },
      }),
    );
    log(`fixture: bakeoff run, ${ROWS} rows × 2 models`);
    await run([join(ROOT, "bin/bakeoff.js"), "run", "--no-weave", "--config", config, "--run-id", "tail"], dir);
    const runDir = join(dir, "results", "tail");
    const records = (await readFile(join(runDir, "predictions.jsonl"), "utf8")).split("\n").length - 1;
    const child = join(ROOT, "bench/report-tail-child.mjs");
    const journal: number[] = [];
    const live: number[] = [];
    const feed: number[] = [];
    let bytes: string | undefined;
    for (let r = 0; r < REPS; r++) {
      for (const mode of r % 2 === 0 ? ["journal", "live"] : ["live", "journal"]) {
        const out = JSON.parse(await run([child, mode, runDir], dir)) as { reportUs: number; feedUs?: number };
        const d = await digest(runDir);
        if (bytes !== undefined && d !== bytes) throw new Error(`the ${mode} reports differ from the other way's`);
        bytes = d;
        if (mode === "journal") journal.push(out.reportUs);
        else {
          live.push(out.reportUs);
          feed.push(out.feedUs!);
        }
        log(`${mode}: report ${ms(out.reportUs)}${out.feedUs !== undefined ? `, feed ${ms(out.feedUs)}` : ""}`);
      }
    }
    const load1 = loadavg()[0]!;
    const j = median(journal);
    const l = median(live);
    const f = median(feed);
    const section = [
      `_Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs, Node ${process.version}; 1-min load average ${load0.toFixed(1)} → ${load1.toFixed(1)}; median of ${REPS} runs per way, alternated; \`npx tsx bench/report-tail.ts --write\`._`,
      "",
      `${records.toLocaleString("en-US")} records (${ROWS.toLocaleString("en-US")} rows × 2 models, two scorers) of a real run. CPU = the process's own user + system time around each step; the five reports are byte-identical both ways (checked).`,
      "",
      "| way | reports' CPU after the last answer | CPU moved into the run loop | per record |",
      "| --- | ---: | ---: | ---: |",
      `| one pass over the journal (before; \`bakeoff report\`) | ${ms(j)} | – | – |`,
      `| fed live, then finished (\`bakeoff run\` now) | ${ms(l)} (**${(l / j).toFixed(2)}×**) | ${ms(f)} | ${((f / records) * 1).toFixed(1)} µs |`,
      "",
    ].join("\n");
    console.log(section);
    if (WRITE) await writeBenchSection("report-tail", section);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
