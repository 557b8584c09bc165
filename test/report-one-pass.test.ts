/**
 * The report's single pass: predictions.csv and junit.xml are written while the statistics are
 * still being computed, with a layout predicted from the config, and the disagreements' excerpts
 * are read back by byte position. These check that every way the prediction can be wrong gives
 * the same bytes as the one-purpose writers (which run after the analysis, in passes of their
 * own), that excerpts equal a full pass's, and that the hashed row index never merges two rows.
 */
import { mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeRunReports } from "../src/report/run-report.js";
import { writePredictionsCsv } from "../src/report/csv.js";
import { writeJunitXml } from "../src/report/junit.js";
import { analyzeRun, analyzeRunStatistics } from "../src/report/analysis.js";
import { renderReportJson } from "../src/report/json.js";
import { RowIndex } from "../src/report/row-index.js";
import { PREDICTIONS_FILE, runRecords } from "../src/store/journal.js";
import { readManifest, writeManifest, type RunManifest } from "../src/store/manifest.js";
import { RecordWorker } from "../src/report/record-thread.js";
import type { PredictionRecord } from "../src/types.js";
import { fakeManifest } from "./helpers/weave-fixtures.js";
import { tempDir } from "./helpers/tmp.js";

const MODELS = ["small", "large"];
const SCORERS: Record<string, string[]> = { math: ["numeric", "finish_stop"], geo: ["includes", "finish_stop"] };

function record(dataset: string, row: number, model: string, trial = 0, failed = false): PredictionRecord {
  const pass = model === "small" ? (row + trial) % 3 !== 0 : (row + trial) % 4 !== 1;
  return {
    v: 1,
    key: `${dataset}/r${row}/${model}/${trial}`,
    dataset,
    rowId: `r${row}`,
    line: row + 1,
    model,
    trial,
    input: { messages: [{ role: "user", content: `${dataset} question ${row} <&>` }], vars: {} },
    expected: String(row),
    output: {
      text: failed ? null : `answer ${row} from ${model}, trial ${trial}\n"quoted"`,
      finishReason: failed ? null : "stop",
      usage: failed ? null : { promptTokens: 5, completionTokens: row % 9, totalTokens: 5 + (row % 9) },
      latencyMs: 12.5 + (row % 40),
      model,
      requestId: null,
      attempts: 1,
      ...(failed ? { error: { kind: "server" as const, message: "upstream 503", status: 503 } } : {}),
    },
    scores: Object.fromEntries(
      SCORERS[dataset]!.map((s) => [
        s,
        failed ? { value: null, error: "call failed" } : { value: pass ? 1 : 0, pass, reason: pass ? "ok" : "wrong" },
      ]),
    ),
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
  };
}

interface Fixture {
  /** Records in journal order. */
  records: PredictionRecord[];
  /** Scorers in the config snapshot: [global, per dataset]; null leaves them out (no prediction). */
  config: { global: string[]; datasets: [string[], string[]] } | null;
  trials?: number;
  mayHaveDuplicates?: boolean;
}

async function makeRun(f: Fixture): Promise<string> {
  const dir = await tempDir("report-one-pass-");
  const m = fakeManifest("run-1p", MODELS, 0);
  const rows = (ds: string) => new Set(f.records.filter((r) => r.dataset === ds).map((r) => r.rowId)).size;
  const manifest: RunManifest = {
    ...m,
    datasets: ["math", "geo"].map((name) => ({ ...m.datasets[0]!, name, path: `${name}.jsonl`, rows: rows(name) })),
    trials: f.trials ?? 1,
    expected: f.records.length,
    ...(f.mayHaveDuplicates ? { mayHaveDuplicates: true } : {}),
    config: {
      ...(m.config as object),
      ...(f.config
        ? {
            scorers: f.config.global.map((type) => ({ type })),
            datasets: f.config.datasets.map((s) => ({ scorers: s.map((type) => ({ type })) })),
          }
        : {}),
    } as RunManifest["config"],
  };
  await writeManifest(dir, manifest);
  await writeFile(join(dir, PREDICTIONS_FILE), f.records.map((r) => JSON.stringify(r) + "\n").join(""));
  return dir;
}

const REPORT_FILES = ["report.md", "report.json", "predictions.csv", "junit.xml", "report.html"];

async function reportBytes(dir: string): Promise<string[]> {
  return Promise.all(REPORT_FILES.map((f) => readFile(join(dir, f), "utf8")));
}

/**
 * The one-pass reports equal what the one-purpose writers give after a full analysis, whether
 * predictions.csv and junit.xml are written on the main thread or by the worker thread (forced
 * here by the size threshold; both give the same bytes for all five reports). With the worker the
 * main thread writes the records of the journal's last bytes (`recordWorkerTail`): the default
 * share, and half, so that layout changes fall on either side of the split.
 */
async function expectSameAsOnePurposeWriters(dir: string): Promise<void> {
  const onMain = await writeRunReports(dir, { stepSummary: null, htmlRows: 5, recordWorkerBytes: Infinity });
  expect(onMain.recordWriter).toBe("main");
  const mainBytes = await reportBytes(dir);
  for (const recordWorkerTail of [undefined, 0.5]) {
    const inWorker = await writeRunReports(dir, {
      stepSummary: null,
      htmlRows: 5,
      recordWorkerBytes: 0,
      ...(recordWorkerTail === undefined ? {} : { recordWorkerTail }),
    });
    expect(inWorker.recordWriter).toBe("worker");
    expect(await reportBytes(dir)).toEqual(mainBytes);
  }
  expect((await readdir(dir)).filter((f) => f.includes(".tmp-") || f.startsWith(".report-tmp-"))).toEqual([]);
  const analysis = await analyzeRun(dir);
  await writePredictionsCsv(dir, analysis, join(dir, "alone.csv"));
  await writeJunitXml(dir, analysis, join(dir, "alone.xml"));
  expect(await readFile(join(dir, "predictions.csv"), "utf8")).toBe(await readFile(join(dir, "alone.csv"), "utf8"));
  expect(await readFile(join(dir, "junit.xml"), "utf8")).toBe(await readFile(join(dir, "alone.xml"), "utf8"));
}

const CONFIG: Fixture["config"] = {
  global: [],
  datasets: [
    ["numeric", "finish_stop"],
    ["includes", "finish_stop"],
  ],
};

/** Each dataset run to the end before the next (as a plan runs them), models interleaved. */
function sequential(rowsPerDataset: number, order = ["math", "geo"], failEvery = 0): PredictionRecord[] {
  const out: PredictionRecord[] = [];
  for (const ds of order) {
    for (let row = 0; row < rowsPerDataset; row++) {
      for (const m of MODELS) out.push(record(ds, row, m, 0, failEvery > 0 && row % failEvery === 3));
    }
  }
  return out;
}

describe("one pass over the journal", () => {
  it("writes CSV and JUnit as the one-purpose writers do when the config predicts the layout", async () => {
    await expectSameAsOnePurposeWriters(await makeRun({ records: sequential(400, undefined, 11), config: CONFIG }));
  });

  it("copies each model's JUnit part through several read chunks (1 MB each) byte for byte", async () => {
    // ~2,400 records per model: each model's test cases are well over one chunk of the copy.
    await expectSameAsOnePurposeWriters(await makeRun({ records: sequential(2400, undefined, 13), config: CONFIG }));
  });

  it("rewrites the records written before a scorer the config did not name first appeared", async () => {
    // No scorers in the snapshot: math's records are written with two columns, geo adds a third.
    await expectSameAsOnePurposeWriters(await makeRun({ records: sequential(300, undefined, 7), config: null }));
  });

  it("rewrites when the datasets' first records arrive in another order than run.json lists them", async () => {
    await expectSameAsOnePurposeWriters(await makeRun({ records: sequential(300, ["geo", "math"]), config: CONFIG }));
  });

  it("rewrites when a configured scorer never scored anything (every call of a dataset failed)", async () => {
    const records = sequential(200).map((r) => (r.dataset === "geo" ? record("geo", r.line - 1, r.model, 0, true) : r));
    await expectSameAsOnePurposeWriters(await makeRun({ records, config: CONFIG }));
  });

  it("rewrites when trials appear that run.json did not announce, and keeps a resumed run's latest records", async () => {
    const records = sequential(150);
    // Second trials late in the journal: JUnit names then carry the trial, from the first record on.
    for (let row = 0; row < 20; row++) records.push(record("geo", row, "small", 1));
    await expectSameAsOnePurposeWriters(await makeRun({ records, config: CONFIG }));
    // A resume re-tried failed calls: the later line for a key supersedes the earlier one.
    const retried = sequential(150, undefined, 5);
    for (const r of retried.filter((x) => x.output.error !== undefined))
      retried.push(record(r.dataset, r.line - 1, r.model));
    await expectSameAsOnePurposeWriters(await makeRun({ records: retried, config: CONFIG, mayHaveDuplicates: true }));
  });

  it("fails with the writer's error when a report file cannot be written, leaving the previous reports whole and no temp files", async () => {
    // On either thread (recordWorkerBytes: Infinity = main, 0 = the worker).
    for (const recordWorkerBytes of [Infinity, 0]) {
      const dir = await makeRun({ records: sequential(100), config: CONFIG });
      await writeRunReports(dir, { stepSummary: null, htmlRows: 5 });
      const before = await reportBytes(dir);
      // junit.xml's temp file cannot be created (a directory has its name). Before the fix the
      // report waited forever for a 'drain' the failed stream never emits.
      const blocker = join(dir, `junit.xml.tmp-${process.pid}`);
      await mkdir(blocker);
      const err = (await writeRunReports(dir, { stepSummary: null, htmlRows: 5, recordWorkerBytes }).then(
        () => undefined,
        (e: unknown) => e,
      )) as NodeJS.ErrnoException | undefined;
      expect(err).toBeInstanceOf(Error);
      expect(err?.code).toBe("EISDIR");
      expect(err?.message).toContain(blocker);
      expect(await reportBytes(dir)).toEqual(before);
      const left = (await readdir(dir)).filter((f) => f.includes(".tmp-") || f.startsWith(".report-tmp-"));
      expect(left).toEqual([`junit.xml.tmp-${process.pid}`]);
    }
  });

  it("gives the same files when the writer thread writes every record or none of them", async () => {
    const dir = await makeRun({ records: sequential(150, undefined, 7), config: null });
    await writeRunReports(dir, { stepSummary: null, htmlRows: 5, recordWorkerBytes: Infinity });
    const mainBytes = await reportBytes(dir);
    // 0: the worker writes everything (the main thread's share is empty); 1: the main thread
    // writes every record (the worker's share is empty, so the CSV header comes from the tail).
    for (const recordWorkerTail of [0, 1]) {
      const r = await writeRunReports(dir, { stepSummary: null, htmlRows: 5, recordWorkerBytes: 0, recordWorkerTail });
      expect(r.recordWriter).toBe("worker");
      expect(await reportBytes(dir)).toEqual(mainBytes);
    }
    expect((await readdir(dir)).filter((f) => f.includes(".tmp-") || f.startsWith(".report-tmp-"))).toEqual([]);
  });

  it("an aborted writer thread (the statistics failed) stops and leaves no temp files", async () => {
    const dir = await makeRun({ records: sequential(300), config: CONFIG });
    const manifest = await readManifest(dir);
    const end = (await stat(join(dir, PREDICTIONS_FILE))).size;
    const tmp = (f: string) => join(dir, `${f}.abort-test`);
    const worker = await RecordWorker.start({
      runDir: dir,
      manifest,
      end,
      csvTmp: tmp("predictions.csv"),
      junitTmp: tmp("junit.xml"),
    });
    expect(worker).toBeDefined();
    await worker!.abort();
    expect((await readdir(dir)).sort()).toEqual([PREDICTIONS_FILE, "run.json"].sort());
  });

  it("reads the disagreements' excerpts back by position: the same as a full second pass", async () => {
    const records = sequential(300, undefined, 13);
    // Rows whose models answer far apart in the journal: each model's record is read back.
    records.push(
      record("geo", 400, "small"),
      ...sequential(40, ["math"]).map((r) => ({
        ...r,
        rowId: `late${r.rowId}`,
        key: `late${r.key}`,
        line: r.line + 1000,
      })),
      record("geo", 400, "large"),
    );
    const dir = await makeRun({ records, config: CONFIG });
    const byPosition = await analyzeRun(dir);
    const { analysis, excerpts } = await analyzeRunStatistics(dir);
    for await (const rec of runRecords(dir, analysis.manifest)) excerpts.add(rec);
    analysis.disagreements = excerpts.result();
    expect(byPosition.disagreements.rows.length).toBeGreaterThan(5);
    expect(byPosition.disagreements).toEqual(analysis.disagreements);
  });
});

describe("the hashed row index", () => {
  it("gives every row its own statistics even when all row keys share one hash", async () => {
    const dir = await makeRun({ records: sequential(120, undefined, 9), config: CONFIG });
    const normal = await analyzeRun(dir);
    // Every key hashes alike: each hash match must be confirmed (dataset and line, else the key).
    const collided = await analyzeRun(dir, {
      rowHash: (_d, _r, out) => {
        out[0] = 7;
        out[1] = 7;
      },
    });
    expect(collided.rows).toBe(240);
    expect(renderReportJson(collided)).toBe(renderReportJson(normal));
  });

  it("keeps one row when a model's records of it carry another line (a hand edit), and sparse lines change nothing", async () => {
    const records = sequential(150, undefined, 9);
    const normal = await analyzeRun(await makeRun({ records, config: CONFIG }));
    // Every fifth row's second model record moved 5,000 lines on: the key, not the line, names the row.
    const moved = records.map((r) =>
      r.model === "large" && Number(r.rowId.slice(1)) % 5 === 0 ? { ...r, line: r.line + 5000 } : r,
    );
    const edited = await analyzeRun(await makeRun({ records: moved, config: CONFIG }));
    expect(edited.rows).toBe(300);
    expect(renderReportJson(edited)).toBe(renderReportJson(normal));
    // Lines far beyond the rows (a shard of a large file): the hashed path, the same statistics.
    const sparse = await analyzeRun(
      await makeRun({ records: records.map((r) => ({ ...r, line: r.line * 1000 + 7_000_000 })), config: CONFIG }),
    );
    expect(sparse.rows).toBe(300);
    expect(sparse.models).toEqual(normal.models);
    expect(sparse.disagreements.rows.map((d) => d.rowId)).toEqual(normal.disagreements.rows.map((d) => d.rowId));
  });

  it("confirms a hash match by dataset and line, then by the key itself", () => {
    const same = (_d: string, _r: string, out: Uint32Array) => {
      out[0] = 1;
      out[1] = 2;
    };
    const keys = new Map<number, string>();
    const index = new RowIndex(["a", "b"], 4, (i) => keys.get(i), same);
    const add = (dataset: string, rowId: string, line: number) => {
      const i = index.indexOf({ dataset, rowId, line });
      if (!keys.has(i)) keys.set(i, `${dataset}/${rowId}`);
      return i;
    };
    expect(add("a", "x", 1)).toBe(0);
    expect(add("a", "y", 2)).toBe(1); // same hash, other line: a different row
    expect(add("b", "x", 1)).toBe(2); // same hash and line, other dataset: a different row
    expect(add("a", "x", 1)).toBe(0);
    expect(add("a", "y", 2)).toBe(1);
    expect(add("a", "x", 9)).toBe(0); // the same key with another line (a hand edit): the key decides
    expect(index.find({ dataset: "b", rowId: "z", line: 5 })).toBe(-1);
    // Growth past the initial capacity and table keeps every row findable.
    for (let i = 0; i < 500; i++) index.indexOf({ dataset: "a", rowId: `n${i}`, line: 1000 + i });
    expect(index.size).toBe(503);
    expect(index.find({ dataset: "a", rowId: "n250", line: 1250 })).toBe(253);
  });
});
