/**
 * The run's reports fed live (src/report/live-reports.ts): whatever the run went through
 * (failures, retries, an interrupt, a deadline, a resume, several datasets and models, batch
 * mode, scorers that fail), the five reports a run writes are byte for byte what `bakeoff report`
 * re-renders from its journal afterwards, and they came from the live feed (not the fallback).
 * Also: a fed record equals what JSON.parse of its journal line gives, without a parse when
 * serialising loses nothing, and the journal writer's offsets are the ones a scan reads.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, planRun, runEvaluation, writeRunReports, type RecordSink } from "../src/index.js";
import { asParsed } from "../src/report/live-reports.js";
import { JournalWriter, scanJournal } from "../src/store/journal.js";
import { readManifest } from "../src/store/manifest.js";
import type { PredictionRecord } from "../src/types.js";
import { tempDir } from "./helpers/tmp.js";

const REPORTS = ["report.md", "report.json", "predictions.csv", "junit.xml", "report.html"];

type Raw = Record<string, unknown>;

async function datasets(dir: string): Promise<{ sums: string; geo: string }> {
  const sums = join(dir, "sums.jsonl");
  await writeFile(
    sums,
    Array.from({ length: 18 }, (_, i) =>
      JSON.stringify({ id: `s${i}`, prompt: `What is ${i} + ${i + 3}?`, expected: String(2 * i + 3) }),
    ).join("\n") + "\n",
  );
  const geo = join(dir, "geo.csv");
  await writeFile(
    geo,
    "id,prompt,expected,tags\n" +
      Array.from(
        { length: 9 },
        (_, i) => `g${i},"Name a city, #${i} ""quoted""",Paris,${i % 3 === 0 ? "critical" : ""}`,
      ).join("\n") +
      "\n",
  );
  // A scorer that throws on some rows and answers NaN or a detail with undefined fields on others:
  // records whose JSON differs from the object in memory, and scorer errors in the reports.
  await writeFile(
    join(dir, "odd.mjs"),
    [
      "export default ({ output, row }) => {",
      "  const n = Number(String(row.id).slice(1));",
      '  if (n % 5 === 0) throw new Error("scorer broke on " + row.id);',
      "  if (n % 5 === 1) return Number.NaN;",
      "  if (n % 5 === 2) return { value: -0, pass: false, reason: undefined };",
      '  return { value: (output ?? "").length % 2, reason: "odd" };',
      "};",
      "",
    ].join("\n"),
  );
  return { sums, geo };
}

function model(name: string, extra: Raw = {}): Raw {
  return {
    name,
    provider: "openai",
    endpoint: `emulator://${name}`,
    model: name,
    params: { temperature: 0, max_tokens: 40, seed: 7 },
    ...extra,
  };
}

function config(files: { sums: string; geo: string }, over: Raw = {}): Raw {
  return {
    concurrency: 6,
    datasets: [
      { path: files.sums, scorers: [{ type: "custom", name: "odd", module: "./odd.mjs" }] },
      { path: files.geo, scorers: [{ type: "includes" }] },
    ],
    scorers: [{ type: "numeric" }, { type: "finish_stop" }],
    models: [model("small", { pricing: { inputPerMillion: 1, outputPerMillion: 2 } }), model("mid"), model("large")],
    emulator: {
      models: {
        small: {
          accuracy: 0.6,
          latency: { medianMs: 2, p95Ms: 4 },
          // Retried then answered, and failed for good (a filtered prompt is not retried).
          faults: [
            { kind: "server_error", rate: 0.3, attempts: 1 },
            { kind: "prompt_filter", rate: 0.1 },
          ],
        },
        mid: { accuracy: 0.8, latency: { medianMs: 2, p95Ms: 4 } },
        large: { accuracy: 0.9, latency: { medianMs: 3, p95Ms: 5 }, faults: [{ kind: "reset", rate: 0.2 }] },
      },
    },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 10 },
    weave: { enabled: false },
    ...over,
  };
}

interface RunArgs {
  resume?: string;
  retryErrors?: boolean;
  /** Stop taking new work after this many records (Ctrl-C). */
  stopAfter?: number;
  maxDurationMs?: number;
  batch?: boolean;
  shard?: { index: number; count: number };
}

async function run(dir: string, raw: Raw, args: RunArgs = {}) {
  const manifest = args.resume ? await readManifest(args.resume) : undefined;
  const loaded = parseConfig(manifest ? manifest.config : raw, { baseDir: dir });
  const plan = await planRun(loaded, {
    env: {},
    ...(args.batch ? { batch: true } : {}),
    ...(args.shard ? { shard: args.shard } : {}),
  });
  const stop = new AbortController();
  let seen = 0;
  const counter: RecordSink = {
    record() {
      if (++seen === args.stopAfter) stop.abort();
    },
    close: async () => undefined,
  };
  return runEvaluation({
    plan,
    outputDir: join(dir, "results"),
    ...(args.resume && manifest
      ? { resume: { runDir: args.resume, manifest, retryErrors: args.retryErrors ?? false } }
      : {}),
    stopSignal: stop.signal,
    ...(args.maxDurationMs !== undefined ? { maxDurationMs: args.maxDurationMs } : {}),
    reports: { stepSummary: null },
    sinks: () => [counter],
    log: () => undefined,
  });
}

async function reportBytes(runDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of REPORTS) out[f] = await readFile(join(runDir, f), "utf8");
  return out;
}

/** The run's reports, then what `bakeoff report` writes from the journal: the same bytes. */
async function expectSameAsReport(result: Awaited<ReturnType<typeof run>>, source: "live" | "journal" = "live") {
  expect(result.report?.source).toBe(source);
  const written = await reportBytes(result.runDir);
  const again = await writeRunReports(result.runDir, { stepSummary: null });
  expect(again.source).toBe("journal");
  const rerendered = await reportBytes(result.runDir);
  for (const f of REPORTS) expect(written[f], f).toBe(rerendered[f]);
  // Nothing of the feed is left behind in the run directory.
  expect((await readdir(result.runDir)).filter((n) => n.startsWith(".report-tmp-"))).toEqual([]);
  return written;
}

async function records(runDir: string): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  await scanJournal(join(runDir, "predictions.jsonl"), (r) => void out.push(r));
  return out;
}

describe("a run's live-fed reports equal `bakeoff report`'s", () => {
  it("3 models, 2 datasets, 2 trials, retries, failed calls and a failing scorer", async () => {
    const dir = await tempDir("live-reports-");
    const raw = config(await datasets(dir), { trials: 2 });
    const result = await run(dir, raw);
    expect(result.status).toBe("complete");
    const recs = await records(result.runDir);
    expect(recs).toHaveLength(27 * 3 * 2);
    // The scenario has what it claims: retried calls, failed calls and a scorer that threw.
    expect(recs.some((r) => r.output.attempts > 1 && r.output.error === undefined)).toBe(true);
    expect(recs.some((r) => r.output.error !== undefined)).toBe(true);
    expect(recs.some((r) => r.scores.odd?.error !== undefined && r.output.error === undefined)).toBe(true);
    const bytes = await expectSameAsReport(result);
    expect(bytes["report.md"]).toContain("small");
    expect(bytes["junit.xml"]).toContain("<testsuite");
  });

  it("an interrupted run (Ctrl-C), then its resume", async () => {
    const dir = await tempDir("live-reports-");
    const raw = config(await datasets(dir), { concurrency: 2 });
    const first = await run(dir, raw, { stopAfter: 12 });
    expect(first.status).toBe("interrupted");
    expect(first.recorded).toBeLessThan(27 * 3);
    const partial = await expectSameAsReport(first);
    expect(partial["report.md"]).toContain("interrupted");
    // What a process killed mid-run leaves behind: its feed's temp files (removed by the resume).
    await mkdir(join(first.runDir, ".report-tmp-killed"));
    await writeFile(join(first.runDir, ".report-tmp-killed", "0.csv"), "partial");
    // The resume feeds the earlier session's records from the journal, then its own live.
    const second = await run(dir, raw, { resume: first.runDir });
    expect(second.status).toBe("complete");
    expect(second.skipped).toBe(first.recorded);
    await expectSameAsReport(second);
    expect(await records(second.runDir)).toHaveLength(27 * 3);
  });

  it("a run stopped by its deadline (--max-duration), then resumed with --retry-errors (full re-read)", async () => {
    const dir = await tempDir("live-reports-");
    const files = await datasets(dir);
    const raw = config(files, { concurrency: 1 });
    const slow = raw.emulator as { models: Record<string, Raw> };
    for (const m of Object.values(slow.models)) m.latency = { medianMs: 15, p95Ms: 20 };
    const first = await run(dir, raw, { maxDurationMs: 400 });
    expect(first.status).toBe("incomplete");
    expect(first.stopReason).toContain("deadline");
    await expectSameAsReport(first);
    // --retry-errors may supersede records: those runs read the journal in full at the end.
    const second = await run(dir, raw, { resume: first.runDir, retryErrors: true });
    expect(second.manifest.mayHaveDuplicates).toBe(true);
    await expectSameAsReport(second, "journal");
  });

  it("one shard of a run", async () => {
    const dir = await tempDir("live-reports-");
    const result = await run(dir, config(await datasets(dir)), { shard: { index: 2, count: 3 } });
    expect(result.status).toBe("complete");
    expect(result.manifest.shard).toMatchObject({ index: 2, count: 3 });
    const recs = await records(result.runDir);
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.length).toBeLessThan(27 * 3);
    const bytes = await expectSameAsReport(result);
    expect(bytes["report.md"]).toContain("Shard 2/3");
  });

  it("batch mode", async () => {
    const dir = await tempDir("live-reports-");
    const files = await datasets(dir);
    const raw = config(files, {
      models: [model("small"), model("large")],
      emulator: {
        models: {
          small: {
            accuracy: 0.6,
            latency: { medianMs: 1, p95Ms: 2 },
            batch: { durationMs: 100, faults: [{ kind: "line_error", rate: 0.3, status: 500, attempts: 1 }] },
          },
          large: { accuracy: 0.9, latency: { medianMs: 1, p95Ms: 2 }, batch: { durationMs: 100 } },
        },
      },
    });
    const result = await run(dir, raw, { batch: true });
    expect(result.status).toBe("complete");
    const recs = await records(result.runDir);
    expect(recs.some((r) => r.output.batch !== undefined)).toBe(true);
    await expectSameAsReport(result);
  });
});

describe("asParsed", () => {
  const base = (): PredictionRecord => ({
    v: 1,
    key: "d/r1/m/0",
    dataset: "d",
    rowId: "r1",
    line: 2,
    model: "m",
    trial: 0,
    input: { messages: [{ role: "user", content: "héllo \u2028 \n" }], vars: { "2": "two", a: "x", "1": "one" } },
    output: {
      text: "ok",
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
      latencyMs: 12.345,
      model: "m",
      requestId: null,
      attempts: 1,
    },
    scores: { numeric: { value: 1, pass: true, reason: "ok" } },
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
  });

  /** Deep key order, so a value that is equal but enumerates differently is caught too. */
  const keyOrder = (v: unknown): unknown =>
    typeof v !== "object" || v === null
      ? v
      : Array.isArray(v)
        ? v.map(keyOrder)
        : Object.entries(v).map(([k, x]) => [k, keyOrder(x)]);

  const check = (rec: PredictionRecord) => {
    const line = JSON.stringify(rec);
    const fed = asParsed(rec, line);
    const parsed: unknown = JSON.parse(line);
    expect(fed).toStrictEqual(parsed);
    expect(keyOrder(fed)).toStrictEqual(keyOrder(parsed));
    return fed;
  };

  it("gives the record itself, unparsed, when serialising loses nothing", () => {
    const rec = base();
    expect(check(rec)).toBe(rec);
  });

  it.each([
    ["an undefined field", (r: PredictionRecord) => void (r.output.error = undefined)],
    ["an undefined score reason", (r: PredictionRecord) => void (r.scores.numeric = { value: 1, reason: undefined })],
    ["-0", (r: PredictionRecord) => void (r.scores.numeric = { value: -0 })],
    ["NaN", (r: PredictionRecord) => void (r.scores.numeric = { value: Number.NaN })],
    ["Infinity", (r: PredictionRecord) => void (r.output.latencyMs = Infinity)],
    ["a Date", (r: PredictionRecord) => void ((r.input.vars as Record<string, unknown>).when = new Date(0))],
    ["undefined in an array", (r: PredictionRecord) => void (r.input.vars.list = [1, undefined, 3] as never)],
    ["a hole in an array", (r: PredictionRecord) => void (r.input.vars.list = [1, , 3] as never)], // eslint-disable-line no-sparse-arrays
    ["a function", (r: PredictionRecord) => void ((r.input.vars as Record<string, unknown>).f = () => 1)],
    ["a Map", (r: PredictionRecord) => void ((r.input.vars as Record<string, unknown>).m = new Map([[1, 2]]))],
    [
      "an own __proto__ key",
      (r: PredictionRecord) =>
        void Object.defineProperty(r.input.vars, "__proto__", { value: { x: 1 }, enumerable: true }),
    ],
    [
      "a class instance",
      (r: PredictionRecord) =>
        void (r.input.vars.c = new (class C {
          x = 1;
        })() as never),
    ],
  ])("gives JSON.parse's value for a record with %s", (_, change) => {
    const rec = base();
    change(rec);
    expect(check(rec)).not.toBe(rec);
  });
});

describe("JournalWriter's written lines", () => {
  it("are told with the offsets a scan of the file reads, after a torn tail is dropped", async () => {
    const dir = await tempDir("live-reports-");
    const path = join(dir, "predictions.jsonl");
    const rec = (i: number, text: string): PredictionRecord => ({
      v: 1,
      key: `d/r${i}/m/0`,
      dataset: "d",
      rowId: `r${i}`,
      line: i + 1,
      model: "m",
      trial: 0,
      input: { messages: [{ role: "user", content: text }], vars: {} },
      output: {
        text,
        finishReason: "stop",
        usage: null,
        latencyMs: 1,
        model: "m",
        requestId: null,
        attempts: 1,
      },
      scores: {},
      startedAt: "2025-01-01T00:00:00.000Z",
      endedAt: "2025-01-01T00:00:00.000Z",
    });
    await writeFile(path, JSON.stringify(rec(0, "before")) + "\n" + '{"v":1,"key":"torn');
    const told: { key: string; offset: number; same: boolean }[] = [];
    const written: PredictionRecord[] = [];
    const jw = await JournalWriter.open(path, {
      onWritten: (r, line, offset) => told.push({ key: r!.key, offset, same: line === JSON.stringify(r) }),
    });
    const start = jw.written;
    expect(start).toBe(Buffer.byteLength(JSON.stringify(rec(0, "before")) + "\n"));
    // Multi-byte UTF-8, line separators, several records per write and writes in later turns.
    for (const [i, t] of ["ünïcödé ✓ 🎉", "a\u2028b\r\nc", "plain"].entries()) jw.append((written[i] = rec(i + 1, t)));
    await jw.flush();
    jw.append((written[3] = rec(4, "later 日本")));
    await jw.close();
    const scanned: { key: string; offset: number }[] = [];
    await scanJournal(path, (r, at) => void scanned.push({ key: r.key, offset: at.offset }));
    expect(scanned[0]).toEqual({ key: "d/r0/m/0", offset: 0 });
    expect(told.map(({ key, offset }) => ({ key, offset }))).toEqual(scanned.slice(1));
    expect(told.every((t) => t.same)).toBe(true);
    expect(told[0]!.offset).toBe(start);
  });
});
