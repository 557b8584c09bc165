/**
 * Builds a run's index entry (headline numbers per model) from its directory and stores it in the
 * run index. Lives with the reports because the numbers are the reports' summary; the index file
 * itself belongs to src/store/run-index.ts.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PREDICTIONS_CSV } from "./csv.js";
import { REPORT_HTML } from "./html.js";
import { JUNIT_XML } from "./junit.js";
import { readManifest, type RunManifest } from "../store/manifest.js";
import {
  comparabilityGroup,
  datasetHash,
  listRuns,
  runLimits,
  putRunIndexEntries,
  readRunIndex,
  type IndexedModel,
  type RunIndexEntry,
} from "../store/run-index.js";
import { REPORT_JSON, REPORT_MD, summarizeRun, writeRunReports } from "./run-report.js";
import type { RunSummary } from "./summary.js";

/**
 * Builds a run's index entry from its directory (run.json + predictions.jsonl). `manifest`
 * overrides the stored one (the runner indexes a run before run.json says it is complete).
 */
export async function indexEntryFor(
  runDir: string,
  manifest?: RunManifest,
  known?: RunSummary,
): Promise<RunIndexEntry> {
  // A summary the caller already streamed (the report's) saves another pass over the journal.
  const { manifest: m, summary } =
    known !== undefined && manifest !== undefined ? { manifest, summary: known } : await summarizeRun(runDir, manifest);
  const models: IndexedModel[] = summary.models.map((s) => ({
    name: s.model,
    n: s.n,
    errors: s.errors,
    scores: Object.fromEntries(Object.entries(s.scores).map(([k, v]) => [k, v.mean])),
    cost: s.cost ? s.cost.total : null,
  }));
  const priced = models.filter((x) => x.cost !== null);
  return {
    v: 1,
    runId: m.runId,
    dir: basename(runDir),
    startedAt: m.startedAt,
    ...(m.endedAt ? { endedAt: m.endedAt } : {}),
    status: m.status,
    configHash: m.configHash,
    datasetHash: datasetHash(m),
    datasets: m.datasets.map((d) => ({ name: d.name, sha256: d.sha256, rows: d.rows })),
    trials: m.trials ?? 1,
    limits: runLimits(m),
    group: comparabilityGroup(m),
    ...(m.shard ? { shard: `${m.shard.index}/${m.shard.count}` } : {}),
    models,
    cost: priced.length > 0 ? priced.reduce((a, x) => a + x.cost!, 0) : null,
  };
}

/**
 * Writes (or replaces) the index entry of the run at `runDir` in `outputDir`'s index (by default
 * the run directory's parent). Idempotent: indexing a run twice leaves one line.
 */
export async function indexRun(
  runDir: string,
  options: {
    outputDir?: string;
    manifest?: RunManifest;
    /** The run's summary in journal order (`RunReport.analysis.summary`), when already computed with `manifest`. */
    summary?: RunSummary;
  } = {},
): Promise<RunIndexEntry> {
  const entry = await indexEntryFor(runDir, options.manifest, options.summary);
  await putRunIndexEntries(options.outputDir ?? dirname(runDir), [entry]);
  return entry;
}

/**
 * Indexes every run directory that is missing from the index or whose status changed since it
 * was indexed (a resumed run), so history is complete even for runs made before indexing
 * existed or by library callers. Returns the full index, oldest first.
 */
export async function syncRunIndex(outputDir: string): Promise<RunIndexEntry[]> {
  const known = new Map((await readRunIndex(outputDir)).map((e) => [e.dir, e]));
  const fresh: RunIndexEntry[] = [];
  for (const dir of await listRuns(outputDir)) {
    const e = known.get(basename(dir));
    if (e && (await readManifest(dir)).status === e.status) continue;
    fresh.push(await indexEntryFor(dir));
  }
  await putRunIndexEntries(outputDir, fresh);
  return fresh.length > 0 ? readRunIndex(outputDir) : [...known.values()];
}

/** The five report files every finished run has. */
export const REPORT_FILES = [REPORT_MD, REPORT_JSON, PREDICTIONS_CSV, JUNIT_XML, REPORT_HTML] as const;

/**
 * What a finished run lacks of its derived outputs: report files by name, and `index.jsonl` when
 * the index has no entry of the run's current status. Empty when nothing is missing.
 */
export async function missingRunOutputs(runDir: string, manifest: RunManifest): Promise<string[]> {
  const missing: string[] = [];
  for (const f of REPORT_FILES) {
    try {
      await stat(join(runDir, f));
    } catch {
      missing.push(f);
    }
  }
  const entry = (await readRunIndex(dirname(runDir))).find((e) => e.runId === manifest.runId);
  if (!entry || entry.status !== manifest.status) missing.push("index.jsonl entry");
  return missing;
}

/** Rewrites a run's reports and index entry from its journal (a run killed while writing them). */
export async function rewriteRunOutputs(runDir: string): Promise<string[]> {
  const report = await writeRunReports(runDir);
  await indexRun(runDir, { manifest: report.manifest, summary: report.analysis.summary });
  return report.files;
}
