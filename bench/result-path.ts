/**
 * bakeoff's per-result path after a provider answers, in one process: scoring (the workload's
 * `numeric` and `finish_stop`), the journal record, the journal append and its batched write,
 * and the live report feed (statistics, report.html's table, predictions.csv and junit.xml fed
 * as each line is written) — against the floor any journal needs: `JSON.stringify` of the same
 * record and one write(2) per event-loop turn.
 *
 *   npx tsx bench/result-path.ts [--rows N] [--write]     # npm run bench:result-path
 *
 * The records come from a real `bakeoff run` of bench/run.ts's throughput workload (N rows × 2
 * models, C = 64, 0 ms, openai, emulator in its own process): its run.json feeds the live
 * reports, its answers are rebuilt into Completions the way the providers build them
 * (`succeededCompletion`), and 64 results complete per turn, as at C = 64. The three pipelines
 * run in the same process, alternated in chunks of 1,280 results so drifting machine load hits
 * each alike; a chunk's CPU is process.cpuUsage() around it; the table gives the median chunk.
 * The HTTP side is not here: bench/run.ts and bench/profile.ts measure the whole process.
 */
import { cp, mkdtemp, readFile, readdir } from "node:fs/promises";
import { writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { flag, numberOption } from "./args.js";
import { writeBenchSection } from "./benchmarks-md.js";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import { BIN, machineLine, modelNames, runMeasured, withTempDir, writeConfig, writeDataset } from "./workload.js";
import { succeededCompletion } from "../src/providers/retry.js";
import { LiveReports } from "../src/report/live-reports.js";
import { predictionRecord } from "../src/run/runner.js";
import { buildScorers, scoreResult } from "../src/scoring/index.js";
import { ScorerSpec } from "../src/scoring/spec.js";
import { JournalWriter } from "../src/store/journal.js";
import type { RunManifest } from "../src/store/manifest.js";
import type { Completion, PredictionRecord, Row } from "../src/types.js";

const ROWS = numberOption("--rows", 20_000);
const CHUNK = 1280;
const PER_TURN = 64;

interface Pipeline {
  label: string;
  /** One result; resolves when its record is in the kernel. */
  result(rec: PredictionRecord, row: Row, output: Completion): Promise<void>;
  close(): Promise<void>;
  chunks: number[];
}

const scorers = buildScorers([ScorerSpec.parse({ type: "numeric" }), ScorerSpec.parse({ type: "finish_stop" })], "s");

/** The floor: the record as the runner builds it, JSON.stringify, one write(2) per turn. */
async function floor(dir: string): Promise<Pipeline> {
  const fh = await open(join(dir, "floor.jsonl"), "a");
  let pending: string[] = [];
  let batch: Promise<void> | null = null;
  return {
    label: "floor: JSON.stringify + one write per turn",
    result(rec, row, output) {
      pending.push(
        JSON.stringify(predictionRecord(row, rec.model, rec.trial, rec.key, output, rec.scores, new Date())),
      );
      batch ??= new Promise<void>((resolve) =>
        setImmediate(() => {
          const buf = Buffer.from(pending.join("\n") + "\n");
          pending = [];
          batch = null;
          writeSync(fh.fd, buf);
          resolve();
        }),
      );
      return batch;
    },
    close: () => fh.close(),
    chunks: [],
  };
}

/** The runner's path (src/run/runner.ts recordOutcome, without progress and sinks). */
async function bakeoff(dir: string, manifest: RunManifest | undefined): Promise<Pipeline> {
  const runDir = await mkdtemp(join(dir, "run-"));
  const live = manifest ? new LiveReports(runDir, manifest) : undefined;
  const jw = await JournalWriter.open(join(runDir, "predictions.jsonl"), live ? { onWritten: live.onWritten } : {});
  if (live) {
    live.start(jw);
    await (live as unknown as { ready: Promise<void> }).ready;
  }
  return {
    label: live ? "bakeoff: scoring, record, journal, live reports" : "bakeoff without the live reports",
    async result(rec, row, output) {
      const scored = scoreResult(scorers, {
        output,
        expected: row.expected,
        vars: row.vars,
        row: { id: row.id, messages: row.messages },
      });
      const scores = scored instanceof Promise ? await scored : scored;
      jw.append(predictionRecord(row, rec.model, rec.trial, rec.key, output, scores, new Date()));
      await jw.flush();
    },
    async close() {
      await jw.close();
      await live?.discard();
    },
    chunks: [],
  };
}

/** A real run's journal and run.json (the live reports need a manifest of this shape). */
async function realRun(dir: string): Promise<{ records: PredictionRecord[]; manifest: RunManifest }> {
  const dataset = join(dir, "bench.jsonl");
  await writeDataset(dataset, ROWS);
  const names = modelNames(2);
  const emulator = await spawnEmulator(Object.fromEntries(names.map((n) => [n, fixedLatencyModel(0)])));
  try {
    const config = await writeConfig(dir, dataset, "openai", emulator.url, names, 64);
    await runMeasured([BIN, "run", "--no-weave", "--config", config], dir);
  } finally {
    await emulator.stop();
  }
  const results = join(dir, "results");
  const runDir = join(results, (await readdir(results))[0]!);
  const records = (await readFile(join(runDir, "predictions.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as PredictionRecord);
  const manifest = JSON.parse(await readFile(join(runDir, "run.json"), "utf8")) as RunManifest;
  manifest.status = "running";
  await cp(join(runDir, "run.json"), join(dir, "run.json"));
  return { records, manifest };
}

/** The record's row and its answer rebuilt as a provider builds it. */
function inputsOf(rec: PredictionRecord): { row: Row; output: () => Completion } {
  const row = {
    dataset: rec.dataset,
    id: rec.rowId,
    line: rec.line,
    messages: rec.input.messages,
    vars: rec.input.vars,
    expected: rec.expected,
  } as Row;
  const o = rec.output;
  const output = () =>
    succeededCompletion(
      {
        text: o.text,
        finishReason: o.finishReason,
        usage: o.usage === null ? null : { ...o.usage },
        model: o.model,
        requestId: o.requestId,
        ...(o.systemFingerprint !== undefined ? { systemFingerprint: o.systemFingerprint } : {}),
      },
      1,
      [{ outcome: "ok", status: 200 }],
      o.latencyMs,
    );
  return { row, output };
}

async function chunk(p: Pipeline, from: number, records: PredictionRecord[], inputs: ReturnType<typeof inputsOf>[]) {
  const t0 = process.cpuUsage();
  for (let i = from; i < from + CHUNK;) {
    const turn: Promise<void>[] = [];
    for (let k = 0; k < PER_TURN && i < from + CHUNK; k++, i++) {
      const j = i % records.length;
      turn.push(p.result(records[j]!, inputs[j]!.row, inputs[j]!.output()));
    }
    await Promise.all(turn);
    await new Promise((r) => setImmediate(r));
  }
  const d = process.cpuUsage(t0);
  p.chunks.push((d.user + d.system) / CHUNK);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const load0 = loadavg()[0]!;
  const rows = await withTempDir(async (dir) => {
    const { records, manifest } = await realRun(dir);
    const inputs = records.map(inputsOf);
    const pipelines = [await floor(dir), await bakeoff(dir, undefined), await bakeoff(dir, manifest)];
    // Warm-up (JIT), not counted; then every pipeline gets the same records in the same order.
    for (const p of pipelines) await chunk(p, 0, records, inputs);
    for (const p of pipelines) p.chunks.length = 0;
    for (let from = CHUNK, n = 0; from + CHUNK <= records.length; from += CHUNK, n++) {
      const order = n % 2 === 0 ? pipelines : [...pipelines].reverse();
      for (const p of order) await chunk(p, from, records, inputs);
    }
    for (const p of pipelines) await p.close();
    return pipelines.map((p) => ({ label: p.label, us: median(p.chunks), chunks: p.chunks.length }));
  });
  const floorUs = rows[0]!.us;
  const body = [
    `_Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine()}, Node ${process.version}; 1-min load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; \`npm run bench:result-path\`._`,
    "",
    `### The per-result path after the provider (${ROWS.toLocaleString("en-US")} rows × 2 models; ${PER_TURN} results per turn)`,
    "",
    "| pipeline (same process, alternated chunks of 1,280 results) | CPU µs/result (median chunk) | × floor |",
    "| --- | ---: | ---: |",
    ...rows.map((r) => `| ${r.label} | ${r.us.toFixed(1)} | ${(r.us / floorUs).toFixed(2)}× |`),
  ].join("\n");
  console.log(body);
  if (flag("--write")) await writeBenchSection("result-path", body);
}

await main();
