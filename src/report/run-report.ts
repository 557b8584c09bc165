/**
 * Renders a run's reports from its directory alone (run.json + predictions.jsonl), so a report
 * can be re-rendered any time (`bakeoff report <run>`) and never disagrees with the journal.
 */
import { appendFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import {
  PREDICTIONS_FILE,
  lineStartFrom,
  runRecords,
  scanRunRecords,
  supersededOrdinals,
  type RecordPosition,
} from "../store/journal.js";
import { readManifest, type RunManifest } from "../store/manifest.js";
import { RunStatistics, SideBySideRows, type DisagreementExcerpts, type RunAnalysis } from "./analysis.js";
import { PREDICTIONS_CSV } from "./csv.js";
import { HTML_TABLE_ROWS, REPORT_HTML, renderHtml } from "./html.js";
import { loadTrend } from "./html/trend.js";
import { renderReportJson } from "./json.js";
import { JUNIT_XML } from "./junit.js";
import { RecordFiles, finishedLayout, journalRangeScan } from "./record-files.js";
import { RecordWorker } from "./record-thread.js";
import { renderMarkdown } from "./markdown.js";
import { shardNote } from "./shard-note.js";
import type { PredictionRecord } from "../types.js";
import { SummaryBuilder, type ModelSummary, type RunSummary } from "./summary.js";

export const REPORT_MD = "report.md";
export const REPORT_JSON = "report.json";

/** What {@link writeRunReports} produced. */
export interface RunReport {
  manifest: RunManifest;
  summary: RunSummary;
  analysis: RunAnalysis;
  /** Files written, absolute paths: report.md, report.json, predictions.csv, junit.xml, report.html. */
  files: string[];
  /** Problems that did not stop the reports (an unwritable $GITHUB_STEP_SUMMARY). */
  warnings: string[];
  /**
   * How the records reached the reports: `journal`, one pass over the file; `live`, fed as the
   * run wrote them (src/report/live-reports.ts). The bytes are the same either way.
   */
  source: "journal" | "live";
  /** Which thread wrote predictions.csv and junit.xml (a worker for large journals, see {@link RECORD_WORKER_BYTES}). */
  recordWriter: "worker" | "main";
}

/** Options of {@link writeRunReports}. */
export interface WriteReportsOptions {
  /**
   * File to append report.md to (GitHub Actions' job summary). Default: $GITHUB_STEP_SUMMARY;
   * null or "" turns it off.
   */
  stepSummary?: string | null;
  /** Rows in report.html's side-by-side table at most; default {@link HTML_TABLE_ROWS}. */
  htmlRows?: number;
  /** Report this manifest instead of the stored run.json (the runner reports before marking a run complete). */
  manifest?: RunManifest;
  /**
   * Builders already fed every final record of the journal, in order (the runner's live feed,
   * src/report/live-reports.ts): the pass over the journal is skipped and they are only finished.
   * Made by {@link openReportBuilders} for the same run directory and manifest, which must not be
   * `mayHaveDuplicates` (a fed record cannot be taken back; see LiveReports.applies); closed here.
   */
  fed?: ReportBuilders;
  /**
   * No report is put in place before this settles (its rejection is thrown): the runner's
   * journal fsync, which so runs while the statistics are computed.
   */
  durable?: Promise<unknown>;
  /**
   * @internal Journal size (bytes) from which predictions.csv and junit.xml are written by a
   * worker thread; default {@link RECORD_WORKER_BYTES}, and only when two cores are idle. Set, it
   * forces the choice by size alone (tests: 0 or Infinity).
   */
  recordWorkerBytes?: number;
  /** @internal With the worker: the share of the journal's bytes whose CSV/JUnit the main thread writes; default {@link RECORD_WORKER_TAIL}. */
  recordWorkerTail?: number;
}

/** What one pass over a journal feeds for {@link writeRunReports} (see {@link openReportBuilders}). */
export interface ReportBuilders {
  readonly stats: RunStatistics;
  readonly table: SideBySideRows;
  readonly recordFiles: RecordFiles;
  /** One final record at its journal position; a promise only when a report file asks to wait. */
  add(rec: PredictionRecord, at: RecordPosition): Promise<void> | undefined;
}

/**
 * The builders {@link writeRunReports}' pass feeds (statistics, report.html's table, the CSV and
 * JUnit files), for a caller that feeds them itself; give them back through `fed`, or on failure
 * call `stats.close()` and `recordFiles.destroy()`.
 */
export async function openReportBuilders(
  runDir: string,
  manifest: RunManifest,
  options: Pick<WriteReportsOptions, "htmlRows"> = {},
): Promise<ReportBuilders> {
  const stats = new RunStatistics(manifest, { journal: join(runDir, PREDICTIONS_FILE) });
  const table = new SideBySideRows({ manifest }, { limit: options.htmlRows ?? HTML_TABLE_ROWS });
  const recordFiles = await RecordFiles.open(manifest, stats, runDir);
  return {
    stats,
    table,
    recordFiles,
    add(rec, at) {
      stats.add(rec, at);
      table.add(rec);
      return recordFiles.add(rec, at);
    },
  };
}

/**
 * From this journal size on, a report writes predictions.csv and junit.xml in a worker thread
 * (src/report/record-worker.ts) that parses the journal again in parallel with the statistics.
 * Below it a thread's start-up (~30 ms, and its own parse) is not worth it. 64 MB is ~60k records.
 * By default the worker is also used only when two cores are idle (see `spareCore`).
 */
export const RECORD_WORKER_BYTES = 64 * 1024 * 1024;

/**
 * With the worker, the main thread writes the CSV lines and test cases of this share of the
 * journal (its end; the worker stops reading where it begins), so the two threads finish
 * together. The worker parses and writes, the main thread parses and computes the statistics,
 * and writing costs less than parsing: at 1M records on Node 22 the worker alone took ~20 s of
 * CPU against the main thread's ~16 s. With an eighth moved, a same-run A/B at 1M records (busy
 * machine) gave worker 13.9 s / main 14.1 s against 15.9 s / 12.9 s before (bench/reports.ts
 * prints CPU per thread; BENCHMARKS.md, i17rep's reading).
 */
export const RECORD_WORKER_TAIL = 1 / 8;

/** The per-model summary of a run, streamed from its journal. */
export async function summarizeRun(
  runDir: string,
  manifest?: RunManifest,
): Promise<{ manifest: RunManifest; summary: RunSummary }> {
  const m = manifest ?? (await readManifest(runDir));
  const pricing = Object.fromEntries(
    m.config.models.flatMap((model) => (model.pricing ? [[model.name, model.pricing] as const] : [])),
  );
  const builder = new SummaryBuilder({ pricing });
  for await (const rec of runRecords(runDir, m)) builder.add(rec);
  return { manifest: m, summary: builder.result() };
}

/**
 * Writes every report of the run at `runDir` from run.json and the journal: report.md,
 * report.json, predictions.csv, junit.xml and report.html (in that order in `files`; the HTML
 * report comes last so existing positions stay as they were), and appends report.md
 * to the GitHub Actions job summary when one is configured. Re-running it gives the same bytes.
 */
export async function writeRunReports(runDir: string, options: WriteReportsOptions = {}): Promise<RunReport> {
  // One pass over the journal, whatever its size: the statistics, predictions.csv, junit.xml
  // and report.html's capped table are all fed each record as it is parsed (JSON.parse of every
  // line is most of a report's time: bench/reports.ts). The disagreements' excerpts, known only
  // at the end, are a few records read back by position.
  const manifest = options.manifest ?? (await readManifest(runDir));
  const journal = join(runDir, PREDICTIONS_FILE);
  const files = {
    md: join(runDir, REPORT_MD),
    json: join(runDir, REPORT_JSON),
    csv: join(runDir, PREDICTIONS_CSV),
    junit: join(runDir, JUNIT_XML),
    html: join(runDir, REPORT_HTML),
  };
  const fed = options.fed;
  const stats = fed?.stats ?? new RunStatistics(manifest, { journal });
  const table = fed?.table ?? new SideBySideRows({ manifest }, { limit: options.htmlRows ?? HTML_TABLE_ROWS });
  // CSV and JUnit stream to temp files renamed into place below: a report on disk is always
  // whole, and a kill mid-way leaves the previous version (or none), never a truncated one.
  const csvTmp = tmpName(files.csv);
  const junitTmp = tmpName(files.junit);
  // Never set with `fed`: builders are fed live only for a manifest without it (LiveReports.applies).
  const superseded = manifest.mayHaveDuplicates ? await supersededOrdinals(journal) : undefined;
  // Both threads stop at the size the journal had now, so they read the same records. A missing
  // journal fails below, in the scan, with the error a report always gave.
  const end = await stat(journal).then(
    (s) => s.size,
    () => Infinity,
  );
  const scanOptions = superseded === undefined ? { end } : { end, superseded };
  // Builders fed live already hold every record: nothing is parsed again, so no worker either.
  const useWorker =
    fed === undefined &&
    Number.isFinite(end) &&
    (options.recordWorkerBytes === undefined
      ? end >= RECORD_WORKER_BYTES && (await wantWorker())
      : end >= options.recordWorkerBytes);
  // With the worker: it writes the records before `split` (a line start), this thread the rest.
  const split = useWorker
    ? await lineStartFrom(journal, Math.floor(end * (1 - (options.recordWorkerTail ?? RECORD_WORKER_TAIL))))
    : 0;
  const worker = useWorker
    ? await RecordWorker.start({
        runDir,
        manifest,
        end: Math.min(split, end),
        csvTmp,
        junitTmp,
        ...(superseded ? { superseded } : {}),
      })
    : undefined;
  let recordFiles: RecordFiles | undefined = fed?.recordFiles;
  let analysis: RunAnalysis;
  let excerpts: DisagreementExcerpts;
  try {
    // With the worker, this thread writes only its share's segments, handed to the worker at the end.
    if (fed === undefined)
      recordFiles = await RecordFiles.open(manifest, stats, runDir, { tail: worker !== undefined });
    const out = recordFiles!;
    const from = worker === undefined ? 0 : split;
    if (fed === undefined) {
      await scanRunRecords(
        runDir,
        manifest,
        (rec, at) => {
          stats.add(rec, at);
          table.add(rec);
          return at.offset >= from ? out.add(rec, at) : undefined;
        },
        scanOptions,
      );
    }
    ({ analysis, excerpts } = stats.finish());
    if (worker !== undefined) {
      const final = finishedLayout(analysis);
      const tail = await out.parts(final, journalRangeScan(runDir, manifest, scanOptions));
      const writing = worker.finish(final, tail);
      writing.catch(() => undefined); // awaited below; the excerpts are read meanwhile
      await stats.readExcerpts(excerpts);
      await writing;
    } else {
      await stats.readExcerpts(excerpts);
      await out.finish(finishedLayout(analysis), csvTmp, junitTmp, journalRangeScan(runDir, manifest, scanOptions));
    }
    await options.durable;
    await moveInto(csvTmp, files.csv);
    await moveInto(junitTmp, files.junit);
  } catch (err) {
    await worker?.abort();
    await unlink(csvTmp).catch(() => undefined);
    await unlink(junitTmp).catch(() => undefined);
    throw err;
  } finally {
    stats.close();
    await recordFiles?.destroy();
  }
  analysis.disagreements = excerpts.result();
  // The summary in the analysis' model order (run.json order), so every report lists models alike.
  const byName = new Map(analysis.summary.models.map((m) => [m.model, m]));
  const summary: RunSummary = {
    models: analysis.models.map((m) => byName.get(m.name)).filter((m): m is ModelSummary => m !== undefined),
  };
  const notes: string[] = [];
  if (manifest.shard) notes.push(shardNote(manifest.shard));
  const n = summary.models.reduce((a, s) => a + s.n, 0);
  if (manifest.status !== "complete") {
    notes.push(
      `This run is ${manifest.status}: ${n} of ${manifest.expected} results are recorded. Resume it with \`bakeoff run --resume ${manifest.runId}\`.`,
    );
  }
  const md = renderMarkdown({
    runId: manifest.runId,
    startedAt: manifest.startedAt,
    ...(manifest.endedAt ? { endedAt: manifest.endedAt } : {}),
    datasets: manifest.datasets.map((d) => ({ name: d.name, rows: d.rows, sha256: d.sha256 })),
    summary,
    status: manifest.status === "running" ? "incomplete" : manifest.status,
    notes,
    analysis,
  });
  // Each report goes to a temp file renamed into place (see above).
  await atomically(files.md, (tmp) => writeFile(tmp, md, "utf8"));
  await atomically(files.json, (tmp) => writeFile(tmp, renderReportJson(analysis), "utf8"));
  // The table is capped, so the page is built as one string (O(cap × models) excerpts).
  const page = renderHtml(analysis, table.rows(analysis.models.map((m) => m.name)), {
    trend: await loadTrend(runDir, analysis),
  });
  await atomically(files.html, (tmp) => writeFile(tmp, page, "utf8"));

  const warnings: string[] = [];
  const stepSummary = options.stepSummary === undefined ? process.env.GITHUB_STEP_SUMMARY : options.stepSummary;
  if (stepSummary) {
    try {
      // Append, never overwrite: earlier steps of the job own what is already there.
      await appendFile(stepSummary, `${md}\n`, "utf8");
    } catch (err) {
      warnings.push(`could not append the report to GITHUB_STEP_SUMMARY (${stepSummary}): ${(err as Error).message}`);
    }
  }
  return {
    manifest,
    summary,
    analysis,
    files: [files.md, files.json, files.csv, files.junit, files.html],
    warnings,
    source: fed ? "live" : "journal",
    recordWriter: worker === undefined ? "main" : "worker",
  };
}

/**
 * Whether a second thread would have a core to itself. The worker parses the journal a second
 * time (~+40% CPU: at 1M records 16 s main + 20 s worker thread against 23 s on one thread, CPU
 * per thread from /proc/thread-self/stat), so it pays only when both threads run on otherwise
 * idle cores: with one other busy thread on 2 cores each of three threads gets 2/3 of a core and
 * the two-thread report is slower than one thread on a full core. The idle time of all cores is
 * sampled over {@link IDLE_SAMPLE_MS} (this process waits meanwhile, so it counts as idle): the
 * 1-minute load average i14rep used lags by a minute and counted the bench's previous processes.
 */
async function spareCore(): Promise<boolean> {
  const cores = availableParallelism();
  if (cores < 2) return false;
  const idleMs = () => cpus().reduce((sum, c) => sum + c.times.idle, 0);
  const idle0 = idleMs();
  const t0 = performance.now();
  await sleep(IDLE_SAMPLE_MS);
  const idleCores = (idleMs() - idle0) / (performance.now() - t0);
  return idleCores >= SPARE_IDLE_CORES;
}

/**
 * `BAKEOFF_REPORT_THREADS=1` keeps a large report on one thread, `=2` uses the writer thread
 * without sampling the cores (benches measure both; a shared CI machine may want 1); otherwise
 * {@link spareCore} decides.
 */
async function wantWorker(): Promise<boolean> {
  const threads = process.env.BAKEOFF_REPORT_THREADS;
  if (threads === "1") return false;
  if (threads === "2") return true;
  return spareCore();
}

/** How long {@link spareCore} samples the cores' idle time (wall, not CPU; a worker-sized report takes seconds). */
const IDLE_SAMPLE_MS = 200;
/** Idle cores (of the sample) needed for two threads: two, with a quarter-core of slack for noise. */
const SPARE_IDLE_CORES = 1.75;

function tmpName(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Renames a finished temp file into place; removes it when that fails. */
async function moveInto(tmp: string, path: string): Promise<void> {
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Writes `path` through `write(tmp)` and a rename; the temp file is removed on failure. */
async function atomically(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tmpName(path);
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
