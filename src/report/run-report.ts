/**
 * Renders a run's reports from its directory alone (run.json + predictions.jsonl), so a report
 * can be re-rendered any time (`bakeoff report <run>`) and never disagrees with the journal.
 */
import { appendFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { PREDICTIONS_FILE, runRecords, scanRunRecords, supersededOrdinals } from "../store/journal.js";
import { readManifest, type RunManifest } from "../store/manifest.js";
import { RunStatistics, SideBySideRows, type DisagreementExcerpts, type RunAnalysis } from "./analysis.js";
import { PREDICTIONS_CSV } from "./csv.js";
import { HTML_TABLE_ROWS, REPORT_HTML, renderHtml } from "./html.js";
import { loadTrend } from "./html/trend.js";
import { renderReportJson } from "./json.js";
import { JUNIT_XML } from "./junit.js";
import { RecordFiles, finishedLayout } from "./record-files.js";
import { RecordWorker } from "./record-thread.js";
import { renderMarkdown } from "./markdown.js";
import { shardNote } from "./shard-note.js";
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
   * @internal Journal size (bytes) from which predictions.csv and junit.xml are written by a
   * worker thread; default {@link RECORD_WORKER_BYTES}, and only when a core is idle. Set, it
   * forces the choice by size alone (tests: 0 or Infinity).
   */
  recordWorkerBytes?: number;
}

/**
 * From this journal size on, a report writes predictions.csv and junit.xml in a worker thread
 * (src/report/record-worker.ts) that parses the journal again in parallel with the statistics.
 * Below it a thread's start-up (~30 ms, and its own parse) is not worth it. 64 MB is ~60k records.
 * By default the worker is also used only when a core is idle (see `spareCore`).
 */
export const RECORD_WORKER_BYTES = 64 * 1024 * 1024;

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
  const stats = new RunStatistics(manifest, { journal });
  const table = new SideBySideRows({ manifest }, { limit: options.htmlRows ?? HTML_TABLE_ROWS });
  // CSV and JUnit stream to temp files renamed into place below: a report on disk is always
  // whole, and a kill mid-way leaves the previous version (or none), never a truncated one.
  const csvTmp = tmpName(files.csv);
  const junitTmp = tmpName(files.junit);
  const superseded = manifest.mayHaveDuplicates ? await supersededOrdinals(journal) : undefined;
  // Both threads stop at the size the journal had now, so they read the same records. A missing
  // journal fails below, in the scan, with the error a report always gave.
  const end = await stat(journal).then(
    (s) => s.size,
    () => Infinity,
  );
  const scanOptions = superseded === undefined ? { end } : { end, superseded };
  const useWorker =
    Number.isFinite(end) &&
    (options.recordWorkerBytes === undefined
      ? end >= RECORD_WORKER_BYTES && spareCore()
      : end >= options.recordWorkerBytes);
  const worker = useWorker
    ? await RecordWorker.start({ runDir, manifest, end, csvTmp, junitTmp, ...(superseded ? { superseded } : {}) })
    : undefined;
  let recordFiles: RecordFiles | undefined;
  let analysis: RunAnalysis;
  let excerpts: DisagreementExcerpts;
  try {
    if (worker !== undefined) {
      // Two threads, each parsing the journal: this one the statistics and the table, the
      // worker the two record files (the bigger halves of the work, bench/reports.ts).
      await scanRunRecords(
        runDir,
        manifest,
        (rec, at) => {
          stats.add(rec, at);
          table.add(rec);
        },
        scanOptions,
      );
      ({ analysis, excerpts } = stats.finish());
      const writing = worker.finish(finishedLayout(analysis));
      writing.catch(() => undefined); // awaited below; the excerpts are read meanwhile
      await stats.readExcerpts(excerpts);
      await writing;
    } else {
      const out = (recordFiles = await RecordFiles.open(manifest, stats, runDir));
      await scanRunRecords(
        runDir,
        manifest,
        (rec, at) => {
          stats.add(rec, at);
          table.add(rec);
          return out.add(rec, at);
        },
        scanOptions,
      );
      ({ analysis, excerpts } = stats.finish());
      await stats.readExcerpts(excerpts);
      await out.finish(finishedLayout(analysis), csvTmp, junitTmp, (range, onRecord) =>
        scanRunRecords(runDir, manifest, (rec) => onRecord(rec), {
          ...scanOptions,
          ...range,
          end: Math.min(range.end, end),
        }),
      );
    }
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
    recordWriter: worker === undefined ? "main" : "worker",
  };
}

/**
 * Whether a second thread would have a core to itself: the worker parses the journal a second
 * time (~+40% CPU), which pays only when it runs beside the main thread. Measured on 2 CPUs busy
 * with other work (1-min load average 4.5–6.5), a 200k-record report took 10.1 s with the worker
 * against 6.8 s without; per-thread CPU (/proc/self/task) was 3.9–4.3 s main and 4.6–4.8 s worker
 * against 5.9–6.6 s on one thread, so on idle cores the wall time is about 0.75× (BENCHMARKS.md).
 */
function spareCore(): boolean {
  const cores = availableParallelism();
  return cores >= 2 && loadavg()[0]! <= cores - 1;
}

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
