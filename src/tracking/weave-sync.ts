/**
 * `bakeoff weave-sync results/<run>`: uploads a finished (or interrupted) run from its journal
 * through the same child process a live run uses. No model is called.
 */
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { latestByKey, PREDICTIONS_FILE, readJournal } from "../store/journal.js";
import { readManifest, type RunManifest } from "../store/manifest.js";
import { datasetRowOf } from "./weave-payload.js";
import type { WeaveDatasetRow } from "./weave-protocol.js";
import { startWeaveSink, type WeaveResult } from "./weave.js";

/** Options of {@link syncRunToWeave}. */
export interface WeaveSyncOptions {
  /** `entity/project`. */
  project: string;
  /** Called at most once with a one-line warning. */
  onWarning: (message: string) => void;
  /** Called after each record is handed to the uploader: records sent so far, and the run's expected total. */
  onProgress?: (sent: number, expected: number) => void;
  /** Bound on waiting for the uploader (at the end, and while it makes no progress). @default 600000 */
  finishTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  childPath?: string;
}

/**
 * Reads `run.json` and `predictions.jsonl` from `runDir` and logs them to Weave as a live run
 * would (one evaluation per model). Later journal lines for a key win, as in reports.
 * @throws UsageError when `runDir` has no run.json
 */
export async function syncRunToWeave(runDir: string, options: WeaveSyncOptions): Promise<WeaveResult> {
  let manifest: RunManifest;
  try {
    manifest = await readManifest(runDir);
  } catch (err) {
    throw new UsageError(`${runDir}: not a bakeoff run directory (cannot read run.json)`, { cause: err });
  }
  const journal = join(runDir, PREDICTIONS_FILE);
  const rows = await collectRows(journal);
  const sinkOptions: Parameters<typeof startWeaveSink>[0] = {
    project: options.project,
    runId: manifest.runId,
    manifest,
    runDir,
    rows,
    onWarning: options.onWarning,
    finishTimeoutMs: options.finishTimeoutMs ?? 600_000,
  };
  if (options.env) sinkOptions.env = options.env;
  if (options.childPath) sinkOptions.childPath = options.childPath;
  const sink = startWeaveSink(sinkOptions);
  let sent = 0;
  for await (const rec of latestByKey(journal)) {
    // Reading a file is far faster than uploading: wait for room instead of dropping.
    if (!(await sink.waitForRoom())) break;
    sink.record(rec);
    options.onProgress?.(++sent, manifest.expected);
  }
  return sink.finish();
}

/** The distinct rows of a journal, in first-seen order, for the evaluation's dataset. */
async function collectRows(journal: string): Promise<WeaveDatasetRow[]> {
  const seen = new Map<string, WeaveDatasetRow>();
  try {
    for await (const rec of readJournal(journal)) {
      const key = `${rec.dataset}\u0000${rec.rowId}`;
      if (!seen.has(key)) seen.set(key, datasetRowOf(rec));
    }
  } catch (err) {
    throw new UsageError(`${journal}: cannot read the results journal`, { cause: err });
  }
  return [...seen.values()];
}
