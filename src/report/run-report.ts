/**
 * Renders a run's reports from its directory alone (run.json + predictions.jsonl), so a report
 * can be re-rendered any time (`bakeoff report <run>`) and never disagrees with the journal.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PREDICTIONS_FILE, latestByKey, readJournal } from "../run/journal.js";
import { readManifest, type RunManifest } from "../run/manifest.js";
import type { PredictionRecord } from "../types.js";
import { renderMarkdown } from "./markdown.js";
import { SummaryBuilder, type RunSummary } from "./summary.js";

export const REPORT_MD = "report.md";

export interface RunReport {
  manifest: RunManifest;
  summary: RunSummary;
  /** Files written, absolute paths. */
  files: string[];
}

/** Streams the run's final records: one per key, the latest when a resume re-tried errors. */
export function runRecords(runDir: string, manifest: RunManifest): AsyncIterable<PredictionRecord> {
  const path = join(runDir, PREDICTIONS_FILE);
  return manifest.mayHaveDuplicates ? latestByKey(path) : readJournal(path);
}

export async function summarizeRun(runDir: string, manifest?: RunManifest): Promise<{ manifest: RunManifest; summary: RunSummary }> {
  const m = manifest ?? (await readManifest(runDir));
  const pricing = Object.fromEntries(
    m.config.models.flatMap((model) => (model.pricing ? [[model.name, model.pricing] as const] : [])),
  );
  const builder = new SummaryBuilder({ pricing });
  for await (const rec of runRecords(runDir, m)) builder.add(rec);
  return { manifest: m, summary: builder.result() };
}

export async function writeRunReports(runDir: string): Promise<RunReport> {
  const { manifest, summary } = await summarizeRun(runDir);
  const notes: string[] = [];
  const n = summary.models.reduce((a, s) => a + s.n, 0);
  if (manifest.status !== "complete") {
    notes.push(`This run is ${manifest.status}: ${n} of ${manifest.expected} results are recorded. Resume it with \`bakeoff run --resume ${manifest.runId}\`.`);
  }
  const md = renderMarkdown({
    runId: manifest.runId,
    startedAt: manifest.startedAt,
    ...(manifest.endedAt ? { endedAt: manifest.endedAt } : {}),
    datasets: manifest.datasets.map((d) => ({ name: d.name, rows: d.rows, sha256: d.sha256 })),
    summary,
    status: manifest.status === "running" ? "incomplete" : manifest.status,
    notes,
  });
  const mdPath = join(runDir, REPORT_MD);
  await writeFile(mdPath, md, "utf8");
  return { manifest, summary, files: [mdPath] };
}
