/**
 * Issue 13's done-criterion for batch mode, at scale: a batch run of N rows × 2 models against
 * the emulator (in this process, so it outlives the run), SIGKILLed while its batches are in
 * flight, then resumed. Prints the records, the emulator's counts (batches created, custom_ids
 * submitted twice, lines answered twice) and how many records differ from a live run of the
 * same rows.
 *
 *   npm run build && npx tsx bench/batch-resume.ts [--rows 2000] [--max-lines 500] [--write]
 *
 * `--write` replaces the `bench:batch-resume` section of BENCHMARKS.md. Uses dist/ (the CLI is
 * spawned as a user runs it, so it can be killed): build first.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig, planRun, runEvaluation } from "../src/index.js";
import { startEmulator } from "../src/emulator/index.js";
import { readJournal } from "../src/store/journal.js";
import { readManifest } from "../src/store/manifest.js";
import type { PredictionRecord } from "../src/types.js";
import { flag, numberOption } from "./args.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BIN = join(ROOT, "bin", "bakeoff.js");
const ROWS = numberOption("--rows", 2000);
const MAX_LINES = numberOption("--max-lines", 500);
const KEY = "emulator-no-key";

function cli(argv: string[], cwd: string) {
  return spawn(process.execPath, [BIN, ...argv], {
    cwd,
    env: { ...process.env, EMU_KEY: KEY, CI: "true", NO_COLOR: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
}

async function exitOf(child: ReturnType<typeof cli>): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
}

async function records(runDir: string): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  for await (const r of readJournal(join(runDir, "predictions.jsonl"))) out.push(r);
  return out;
}

const essence = (r: PredictionRecord) =>
  JSON.stringify([
    r.output.text,
    r.output.finishReason,
    r.output.usage,
    Object.entries(r.scores).map(([k, s]) => [k, s.value, s.pass]),
  ]);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bakeoff-batch-bench-"));
  const emu = await startEmulator({
    models: { small: { accuracy: 0.75, style: "terse" }, large: { accuracy: 0.95, style: "steps" } },
    quiet: true,
    batch: { durationMs: 4000 },
  });
  try {
    const file = join(dir, "sums.jsonl");
    await writeFile(
      file,
      Array.from({ length: ROWS }, (_, i) =>
        JSON.stringify({
          id: `r${i}`,
          prompt: `What is ${i} + ${(i * 7) % 100}?`,
          expected: String(i + ((i * 7) % 100)),
        }),
      ).join("\n") + "\n",
    );
    const model = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      provider: "openai",
      endpoint: `${emu.endpointFor(name)}/openai/v1`,
      model: name,
      apiKeyEnv: "EMU_KEY",
      concurrency: 32,
      params: { temperature: 0, max_tokens: 60, seed: 7 },
      ...extra,
    });
    const config = {
      concurrency: 64,
      datasets: [{ path: file, scorers: [{ type: "numeric" }, { type: "finish_stop" }] }],
      models: [model("small"), model("large", { api: "responses" })],
      batch: { maxLines: MAX_LINES, pollInterval: "200ms" },
      weave: { enabled: false },
    };
    await writeFile(join(dir, "eval.config.json"), JSON.stringify(config, null, 2));

    // The live run of the same rows, for the scores to compare with.
    const t0 = performance.now();
    const plan = await planRun(parseConfig(config, { baseDir: dir }), { env: { EMU_KEY: KEY } });
    const live = await runEvaluation({ plan, outputDir: join(dir, "results"), runId: "live", log: () => {} });
    const liveMs = performance.now() - t0;
    const liveByKey = new Map((await records(live.runDir)).map((r) => [r.key, essence(r)]));
    emu.resetStats();

    // The batch run, killed once a batch is in progress.
    const t1 = performance.now();
    const runDir = join(dir, "results", "batch");
    const first = cli(["run", "--batch", "--run-id", "batch", "--progress", "off"], dir);
    const firstExit = exitOf(first);
    let inFlight = 0;
    for (;;) {
      const m = await readManifest(runDir).catch(() => undefined);
      const parts = m?.models.flatMap((x) => x.batches ?? []) ?? [];
      inFlight = parts.filter((p) => p.status === "in_progress").length;
      if (inFlight > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill("SIGKILL");
    await firstExit;
    const killed = await readManifest(runDir);
    const partsAtKill = killed.models.flatMap((x) => x.batches ?? []);
    const recordsAtKill = (await records(runDir)).length;
    const createdAtKill = emu.stats().batch.batchesCreated;

    const second = await exitOf(cli(["run", "--resume", "batch", "--progress", "off"], dir));
    const batchMs = performance.now() - t1;
    if (second.code !== 0) throw new Error(`resume exited ${second.code}: ${second.stderr}`);
    const recs = await records(runDir);
    const keys = new Set(recs.map((r) => r.key));
    const differ = recs.filter((r) => liveByKey.get(r.key) !== essence(r)).length;
    const stats = emu.stats().batch;
    const final = await readManifest(runDir);
    const parts = final.models.flatMap((x) => x.batches ?? []);
    const answeredTwice = Object.values(stats.byModel).reduce((n, m) => n + m.answeredTwice, 0);
    const mean = (rs: PredictionRecord[], model: string, scorer: string) => {
      const v = rs.filter((r) => r.model === model).map((r) => r.scores[scorer]?.value ?? 0);
      return (v.reduce((a, b) => a + b, 0) / v.length).toFixed(4);
    };
    const liveRecs = await records(live.runDir);
    const lines = [
      `| figure | value |`,
      `| --- | ---: |`,
      `| rows × models | ${ROWS} × 2 (batch.maxLines ${MAX_LINES}) |`,
      `| batches in flight when killed (SIGKILL) | ${inFlight} of ${partsAtKill.length} parts, ${createdAtKill} created, ${recordsAtKill} records in the journal |`,
      `| records after --resume | ${recs.length} (${keys.size} distinct keys; expected ${ROWS * 2}) |`,
      `| batches created in all (emulator) / parts in run.json | ${stats.batchesCreated} / ${parts.length} |`,
      `| custom_ids submitted twice (emulator duplicateCustomIds) | ${stats.duplicateCustomIds} |`,
      `| lines answered twice (emulator answeredTwice) | ${answeredTwice} |`,
      `| records differing from the live run (text, finish, usage, scores) | ${differ} |`,
      `| numeric mean small / large: live | ${mean(liveRecs, "small", "numeric")} / ${mean(liveRecs, "large", "numeric")} |`,
      `| numeric mean small / large: batch | ${mean(recs, "small", "numeric")} / ${mean(recs, "large", "numeric")} |`,
      `| wall time live / batch (kill + resume, emulated 24 h = 4 s per batch) | ${(liveMs / 1000).toFixed(1)} s / ${(batchMs / 1000).toFixed(1)} s |`,
    ];
    const section = [
      ...lines,
      "",
      `_Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}; \`npm run build && npx tsx bench/batch-resume.ts --rows ${ROWS} --max-lines ${MAX_LINES} --write\`._`,
    ].join("\n");
    process.stdout.write(section + "\n");
    const ok =
      recs.length === ROWS * 2 &&
      keys.size === ROWS * 2 &&
      stats.duplicateCustomIds === 0 &&
      answeredTwice === 0 &&
      stats.batchesCreated === parts.length &&
      differ === 0;
    if (flag("--write")) {
      const md = join(ROOT, "BENCHMARKS.md");
      let text = await readFile(md, "utf8");
      const begin = "<!-- bench:batch-resume:start -->";
      const end = "<!-- bench:batch-resume:end -->";
      const a = text.indexOf(begin);
      const b = text.indexOf(end);
      if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${begin} … ${end} section`);
      text = `${text.slice(0, a + begin.length)}\n${section}\n${text.slice(b)}`;
      await writeFile(md, text, "utf8");
    }
    if (!ok) {
      process.stderr.write("batch-resume: the done-criterion does not hold (see the figures above)\n");
      process.exitCode = 1;
    }
  } finally {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
