/**
 * How much Weave logging adds to a run: 1000 rows × 2 models through the real sink and child
 * (weave@0.11.1) against the local fake trace server, compared with the same run without Weave.
 * Run after `npm run build`:  npx tsx bench/weave-overhead.ts [rows] [paced-records-per-second]
 *
 * Two shapes: "burst" hands every record over at once (worst case for the end-of-run wait);
 * "paced" spreads them like a run whose model calls complete at the given rate, which is what a
 * user sees: the extra time is the wait in finish() after the last result, plus the main-thread
 * time spent in record().
 */
import { performance } from "node:perf_hooks";
import { startWeaveSink, type WeaveResult } from "../src/tracking/weave.js";
import { WeaveSummaryAccumulator } from "../src/tracking/weave-summary.js";
import { startFakeTraceServer } from "../test/helpers/fake-trace-server.js";
import { fakeManifest, fakeRecords } from "../test/helpers/weave-fixtures.js";
import type { PredictionRecord } from "../src/types.js";

const ROWS = Number(process.argv[2] ?? 1000);
const RATE = Number(process.argv[3] ?? 200);
const MODELS = ["small", "large"];
const RUN = "bench-run";

interface Outcome {
  label: string;
  totalMs: number;
  recordMs: number;
  finishMs: number;
  result?: WeaveResult;
  routes?: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Feeds records at `rate` per second (Infinity = all at once), calling `onRecord` for each. */
async function feed(
  records: PredictionRecord[],
  rate: number,
  onRecord: (r: PredictionRecord) => void,
): Promise<number> {
  let recordMs = 0;
  const start = performance.now();
  for (let i = 0; i < records.length; i++) {
    if (Number.isFinite(rate)) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const t = performance.now();
    onRecord(records[i]!);
    recordMs += performance.now() - t;
  }
  return recordMs;
}

async function withoutWeave(label: string, rate: number): Promise<Outcome> {
  const records = fakeRecords(MODELS, ROWS);
  const acc = new WeaveSummaryAccumulator();
  const t0 = performance.now();
  const recordMs = await feed(records, rate, (r) => acc.add(r));
  const t1 = performance.now();
  acc.result();
  const t2 = performance.now();
  return { label, totalMs: t2 - t0, recordMs, finishMs: t2 - t1 };
}

async function withWeave(label: string, rate: number): Promise<Outcome> {
  const server = await startFakeTraceServer();
  try {
    const records = fakeRecords(MODELS, ROWS);
    const t0 = performance.now();
    const sink = startWeaveSink({
      project: "bench/bakeoff",
      runId: RUN,
      manifest: fakeManifest(RUN, MODELS, ROWS),
      onWarning: (m) => console.error(`warning: ${m}`),
      env: { ...process.env, WANDB_API_KEY: "bench-key", WF_TRACE_SERVER_URL: server.url },
      finishTimeoutMs: 300_000,
      // The burst case hands over everything at once; do not let the live bound drop records here.
      maxBacklog: 1_000_000,
    });
    const recordMs = await feed(records, rate, (r) => sink.record(r));
    const t1 = performance.now();
    const result = await sink.finish();
    const t2 = performance.now();
    return { label, totalMs: t2 - t0, recordMs, finishMs: t2 - t1, result, routes: server.countByRoute() };
  } finally {
    await server.close();
  }
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const outcomes: Outcome[] = [];
outcomes.push(await withoutWeave("burst, no Weave", Infinity));
outcomes.push(await withWeave("burst, Weave", Infinity));
outcomes.push(await withoutWeave(`paced ${RATE}/s, no Weave`, RATE));
outcomes.push(await withWeave(`paced ${RATE}/s, Weave`, RATE));

console.log(
  `Weave overhead: ${ROWS} rows × ${MODELS.length} models = ${ROWS * MODELS.length} records, node ${process.version}`,
);
for (const o of outcomes) {
  const res = o.result ? `  ok=${o.result.ok} uploaded=${o.result.uploaded} dropped=${o.result.dropped}` : "";
  console.log(
    `${o.label.padEnd(26)} total ${fmt(o.totalMs).padStart(9)}  in record() ${fmt(o.recordMs).padStart(8)}  finish wait ${fmt(o.finishMs).padStart(8)}${res}`,
  );
}
for (const o of outcomes.filter((x) => x.routes)) {
  const total = Object.values(o.routes!).reduce((a, b) => a + b, 0);
  console.log(`${o.label}: ${total} requests ${JSON.stringify(o.routes)}`);
}
