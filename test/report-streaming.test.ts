/**
 * The report writers stream: predictions.csv and junit.xml are written in chunks during one
 * shared pass over the journal, report.html keeps its row cap. These check what streaming could
 * break (a chunk lost, doubled or out of order; the cap ignored) on a journal much larger than
 * one chunk, without timing anything.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { writeRunReports } from "../src/report/run-report.js";
import { writePredictionsCsv } from "../src/report/csv.js";
import { writeJunitXml } from "../src/report/junit.js";
import { analyzeRun } from "../src/report/analysis.js";
import { PREDICTIONS_FILE, readJournal } from "../src/store/journal.js";
import { writeManifest } from "../src/store/manifest.js";
import type { PredictionRecord } from "../src/types.js";
import { fakeManifest } from "./helpers/weave-fixtures.js";
import { tempDir } from "./helpers/tmp.js";
import { ModelRows } from "../src/compare/load.js";

const ROWS = 1500;
const MODELS = ["a", "b"];

function record(model: string, row: number): PredictionRecord {
  const failed = row % 97 === 13 && model === "b";
  return {
    v: 1,
    key: `qa/r${row}/${model}/0`,
    dataset: "qa",
    rowId: `r${row}`,
    line: row + 2,
    model,
    trial: 0,
    input: { messages: [{ role: "user", content: `question ${row}, "quoted", <b>` }], vars: {} },
    expected: String(row),
    output: {
      // Long enough that the CSV and each JUnit suite span several 1 MB chunks (so the writers
      // reuse written chunks' buffers).
      text: failed ? null : `=answer ${row} from ${model} & more\n${"x".repeat((row % 200) * 8)}`,
      finishReason: failed ? null : "stop",
      usage: failed ? null : { promptTokens: 3, completionTokens: row % 50, totalTokens: 3 + (row % 50) },
      latencyMs: 10 + (row % 90),
      model,
      requestId: null,
      attempts: 1,
      ...(failed ? { error: { kind: "server" as const, message: "upstream 503", status: 503 } } : {}),
    },
    scores: failed
      ? {}
      : { exact: { value: (row + model.length) % 3 === 0 ? 0 : 1, pass: (row + model.length) % 3 !== 0 } },
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
  };
}

/** A run of ROWS × MODELS in completion-like order (models interleaved, rows slightly shuffled). */
async function makeRun(): Promise<{ dir: string; records: PredictionRecord[] }> {
  const dir = await tempDir("report-streaming-");
  const manifest = fakeManifest("run-s", MODELS, ROWS);
  manifest.config = { ...(manifest.config as object), scorers: [{ type: "exact" }] } as typeof manifest.config;
  await writeManifest(dir, manifest);
  const records: PredictionRecord[] = [];
  for (let i = 0; i < ROWS; i += 2) {
    for (const r of [i + 1, i]) if (r < ROWS) for (const m of MODELS) records.push(record(m, r));
  }
  await writeFile(join(dir, PREDICTIONS_FILE), records.map((r) => JSON.stringify(r) + "\n").join(""));
  return { dir, records };
}

describe("streamed reports over a large journal", () => {
  it("predictions.csv has every record once, in journal order, and equals the standalone writer's bytes", async () => {
    const { dir, records } = await makeRun();
    await writeRunReports(dir, { stepSummary: null, htmlRows: 7 });
    const csv = await readFile(join(dir, "predictions.csv"), "utf8");
    expect(csv.length).toBeGreaterThan(2 * 1024 * 1024);
    const rows = parse<Record<string, string>>(csv.replace(/^\uFEFF/, ""), { columns: true });
    expect(rows).toHaveLength(records.length);
    rows.forEach((row, i) => {
      const r = records[i]!;
      expect([row["row_id"], row["model"]]).toEqual([r.rowId, r.model]);
      expect(row["output"]).toBe(r.output.text === null ? "" : `'${r.output.text}`);
      expect(row["score_exact"]).toBe(r.output.error ? "" : String(r.scores["exact"]!.value));
    });
    // The shared-pass writer and the one-purpose writer produce the same file.
    const analysis = await analyzeRun(dir);
    await writePredictionsCsv(dir, analysis, join(dir, "alone.csv"));
    expect(await readFile(join(dir, "alone.csv"), "utf8")).toBe(csv);
  });

  it("junit.xml has one test case per record and scorer with suite counts that add up", async () => {
    const { dir, records } = await makeRun();
    await writeRunReports(dir, { stepSummary: null, htmlRows: 7 });
    const xml = await readFile(join(dir, "junit.xml"), "utf8");
    expect(xml.length).toBeGreaterThan(2 * 64 * 1024);
    const cases = xml.match(/<testcase /g) ?? [];
    expect(cases).toHaveLength(records.length);
    for (const model of MODELS) {
      const mine = records.filter((r) => r.model === model);
      const failures = mine.filter((r) => r.scores["exact"]?.pass === false).length;
      const errors = mine.filter((r) => r.output.error).length;
      expect(xml).toContain(
        `<testsuite name="${model}" tests="${mine.length}" failures="${failures}" errors="${errors}" skipped="0"`,
      );
      // The suite's cases are in journal order.
      const body = xml.slice(
        xml.indexOf(`<testsuite name="${model}"`),
        xml.indexOf("</testsuite>", xml.indexOf(`<testsuite name="${model}"`)),
      );
      const ids = [...body.matchAll(/name="(r\d+) exact"/g)].map((m) => m[1]);
      expect(ids).toEqual(mine.map((r) => r.rowId));
    }
    const analysis = await analyzeRun(dir);
    await writeJunitXml(dir, analysis, join(dir, "alone.xml"));
    expect(await readFile(join(dir, "alone.xml"), "utf8")).toBe(xml);
  });

  it("report.html keeps its row cap: the first rows in dataset order, and says how many of how many", async () => {
    const { dir } = await makeRun();
    await writeRunReports(dir, { stepSummary: null, htmlRows: 7 });
    const html = await readFile(join(dir, "report.html"), "utf8");
    const shown = [...html.matchAll(/<span class="rowid">(r\d+)<\/span>/g)].map((m) => m[1]);
    expect(shown).toEqual(["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
    expect(html).toContain(`${ROWS.toLocaleString("en-US")}`);
  });
});

describe("readJournal line breaks", () => {
  it("splits on \\n, \\r\\n and a lone \\r, and numbers bad lines as readline did", async () => {
    const dir = await tempDir("journal-breaks-");
    const path = join(dir, PREDICTIONS_FILE);
    const a = JSON.stringify(record("a", 1));
    const b = JSON.stringify(record("a", 2));
    const c = JSON.stringify(record("a", 3));
    await writeFile(path, `${a}\r\n{torn\r${b}\n\n${c.slice(0, 20)}\r\n${c}`);
    const bad: number[] = [];
    const got: string[] = [];
    for await (const r of readJournal(path, { onBadLine: (n) => bad.push(n) })) got.push(r.rowId);
    expect(got).toEqual(["r1", "r2", "r3"]);
    expect(bad).toEqual([2, 5]);
  });
});

describe("compare's per-row columns", () => {
  it("keep exact sums whether scores are whole numbers, fractions or negative, across growth", () => {
    const rows = new ModelRows(4, 1);
    const add = (i: number, v: number) => {
      rows.touch(i, false);
      rows.addScore(i, 0, v);
    };
    add(0, 1);
    add(0, 1);
    add(1, 0);
    add(2, 1);
    expect([rows.mean(0, 0), rows.mean(1, 0), rows.mean(2, 0), rows.mean(3, 0)]).toEqual([1, 0, 1, null]);
    add(1, 0.25); // a fraction: the column widens, earlier sums unchanged
    add(3, -2);
    add(100, 0.5); // beyond the initial capacity
    add(100, 70000); // beyond what 16 bits hold
    expect([rows.mean(0, 0), rows.mean(1, 0), rows.mean(3, 0), rows.mean(100, 0)]).toEqual([1, 0.125, -2, 35000.25]);
    expect(rows.size).toBe(5);
    // Whole numbers whose sum outgrows 16 bits widen too.
    const big = new ModelRows(2, 1);
    big.touch(0, false);
    big.addScore(0, 0, 65535);
    big.addScore(0, 0, 1);
    expect(big.mean(0, 0)).toBe(32768);
  });
});
