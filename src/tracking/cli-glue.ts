/**
 * Connects the CLI to Weave logging: decides whether it is on (one line saying why not), and
 * adapts the isolated Weave sink to the runner's RecordSink. The runner knows nothing of Weave.
 */
import type { Config } from "../config/schema.js";
import { openDataset } from "../dataset/index.js";
import type { PlannedDataset } from "../run/plan.js";
import type { Row } from "../types.js";
import { ExitCode } from "../errors.js";
import type { RunManifest } from "../store/manifest.js";
import type { RecordSink } from "../run/runner.js";
import { readManifest } from "../store/manifest.js";
import { runRecords } from "../store/journal.js";
import { resolveWeaveSettings, startWeaveSink, syncRunToWeave, type WeaveSink } from "./weave.js";

export async function createWeaveSinks(ctx: {
  runId: string;
  runDir: string;
  manifest: RunManifest;
  config: Config;
  datasets: readonly PlannedDataset[];
  project?: string;
  noWeave: boolean;
  log: (message: string) => void;
}): Promise<RecordSink[]> {
  const settings = resolveWeaveSettings({
    ...(ctx.project ? { cliProject: ctx.project } : {}),
    noWeave: ctx.noWeave,
    config: ctx.config.weave,
    env: process.env,
  });
  if (!settings.enabled) {
    ctx.log(`bakeoff: ${settings.reason}`);
    return [];
  }
  const rows = await datasetRows(ctx.datasets, MAX_LIVE_DATASET_ROWS);
  const sink = startWeaveSink({
    project: settings.project,
    runId: ctx.runId,
    runDir: ctx.runDir,
    manifest: ctx.manifest,
    finishTimeoutMs: ctx.config.weave.flushTimeoutSec * 1000,
    ...(rows ? { rows } : {}),
    onWarning: (m) => ctx.log(`bakeoff: warning: ${m}`),
  });
  ctx.log(`bakeoff: logging to Weave project ${settings.project}`);
  // Recorded in run.json (the runner writes this manifest when the session ends), so the
  // `weave-sync` command printed on a failed upload works as printed, without --weave.
  ctx.manifest.weave = { project: settings.project };
  return [
    {
      record: (r) => sink.record(r),
      close: async (signal) => {
        ctx.log(
          `bakeoff: waiting for Weave uploads to finish (at most ${ctx.config.weave.flushTimeoutSec}s without progress; Ctrl-C stops waiting)…`,
        );
        if (!signal?.aborted) await sendEarlierSessions(sink, ctx.runDir, ctx.manifest, signal);
        const result = await sink.finish(undefined, signal);
        if (result.ok) ctx.log(`bakeoff: Weave: uploaded ${result.uploaded} predictions to ${settings.project}`);
      },
    },
  ];
}

/**
 * A resumed run's evaluations must hold the whole run, not just this session: the results of
 * earlier sessions are in the journal, so they are sent from there at the end (waiting for room,
 * so the backlog stays bounded). Results of this session went live and are recognised by their
 * end time; when a resume re-tried errors, only each key's final record counts.
 */
async function sendEarlierSessions(
  sink: WeaveSink,
  runDir: string,
  manifest: RunManifest,
  signal?: AbortSignal,
): Promise<void> {
  const current = manifest.sessions[manifest.sessions.length - 1];
  if (!current || manifest.sessions.length < 2) return;
  for await (const rec of runRecords(runDir, manifest)) {
    if (rec.endedAt >= current.startedAt) continue;
    if (signal?.aborted) return;
    if (!(await sink.waitForRoom())) return;
    sink.record(rec);
  }
}

/**
 * Live runs attach the dataset rows to each evaluation when they are few enough to hold in
 * memory; bigger datasets are attached by `weave-sync`, which streams them from the journal.
 */
const MAX_LIVE_DATASET_ROWS = 10_000;

async function datasetRows(datasets: readonly PlannedDataset[], max: number): Promise<Row[] | undefined> {
  if (datasets.reduce((n, d) => n + d.rows, 0) > max) return undefined;
  const rows: Row[] = [];
  for (const d of datasets)
    for await (const row of openDataset(d.spec, { skipInvalidRows: true, index: d.index })) rows.push(row);
  return rows;
}

export async function syncRunToWeaveCli(
  runDir: string,
  options: { project?: string; io: { out: (l: string) => void; err: (l: string) => void } },
): Promise<number> {
  const manifest = await readManifest(runDir);
  const settings = resolveWeaveSettings({
    // --weave, else the project the run logged to (it may have come from --weave back then).
    ...(options.project
      ? { cliProject: options.project }
      : manifest.weave
        ? { cliProject: manifest.weave.project }
        : {}),
    noWeave: false,
    config: manifest.config.weave,
    env: process.env,
  });
  if (!settings.enabled) {
    options.io.err(`bakeoff: ${settings.reason}`);
    return ExitCode.usage;
  }
  let warned = false;
  const result = await syncRunToWeave(runDir, {
    project: settings.project,
    onWarning: (m) => {
      warned = true;
      options.io.err(`bakeoff: warning: ${m}`);
    },
  });
  if (!result.ok) {
    if (!warned && result.warning) options.io.err(`bakeoff: warning: ${result.warning}`);
    return ExitCode.incomplete;
  }
  options.io.out(
    `Uploaded ${result.uploaded} predictions of run ${manifest.runId} to Weave project ${settings.project}.`,
  );
  return ExitCode.ok;
}
