/**
 * The worker-thread half of a large report (see {@link writeRunReports}): reads and parses the
 * journal on its own and writes predictions.csv and junit.xml, while the main thread does the
 * statistics, the HTML table and the excerpts from its own pass. JSON.parse of every line is
 * most of a report's time and cannot be shared between threads (objects do not cross them
 * cheaply), so each thread parses: on two cores the wall time is about one parse plus the larger
 * half, instead of one parse plus both halves.
 *
 * Protocol (messages on `parentPort`):
 * - worker → main `{ type: "ready" }` once this module has loaded (the main thread falls back
 *   to one thread if the worker cannot start, e.g. a .ts file without a TypeScript loader);
 * - main → worker `{ type: "finish", final, tail }`: the {@link FinishedLayout} from the
 *   statistics and the main thread's share of the records (the journal from `end` on) as finished
 *   segment files; the worker then writes the two files to their temp paths, its own records
 *   first, and answers `{ type: "done" }`;
 * - main → worker `{ type: "abort" }`: stop and remove the temp files (the main pass failed);
 * - worker → main `{ type: "error", error }` on any failure, temp files removed.
 *
 * Layout logic is {@link RecordFiles}', the same as on one thread: segments the config's
 * predicted layout got wrong are rewritten from their byte ranges, so the bytes depend only on the
 * journal and the final layout, and both paths write identical files.
 */
import { parentPort, workerData } from "node:worker_threads";
import { scanRunRecords } from "../store/journal.js";
import type { RunManifest } from "../store/manifest.js";
import {
  RecordFiles,
  ScorerLayoutTracker,
  journalRangeScan,
  type FinishedLayout,
  type SegmentFiles,
} from "./record-files.js";

/** What the main thread hands the worker at start. */
export interface RecordWorkerData {
  runDir: string;
  manifest: RunManifest;
  /** Ordinals of superseded records (resumed runs), as the main thread computed them. */
  superseded?: Set<number>;
  /**
   * Byte offset (a line start) to stop before: where the main thread's share of the records
   * begins, at most the journal's size when the report started (see RECORD_WORKER_TAIL).
   */
  end: number;
  csvTmp: string;
  junitTmp: string;
}

/** Messages from the main thread. */
export type ToRecordWorker = { type: "finish"; final: FinishedLayout; tail: SegmentFiles[] } | { type: "abort" };

/** An error as it crosses threads: an Error's own fields (message, code, path …). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  props: Record<string, string | number>;
}

/** Messages to the main thread. */
export type FromRecordWorker = { type: "ready" } | { type: "done" } | { type: "error"; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err), props: {} };
  const props: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(err)) if (typeof v === "string" || typeof v === "number") props[k] = v;
  return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}), props };
}

class Aborted extends Error {}

async function main(port: NonNullable<typeof parentPort>, data: RecordWorkerData): Promise<void> {
  let abort = false;
  type Finish = Extract<ToRecordWorker, { type: "finish" }>;
  let onFinish: (m: Finish) => void = () => undefined;
  const finishing = new Promise<Finish>((resolve) => (onFinish = resolve));
  port.on("message", (m: ToRecordWorker) => {
    if (m.type === "abort") abort = true;
    else onFinish(m);
  });
  port.postMessage({ type: "ready" } satisfies FromRecordWorker);
  const { runDir, manifest, superseded, end, csvTmp, junitTmp } = data;
  const scanOptions = superseded === undefined ? { end } : { end, superseded };
  const seen = new ScorerLayoutTracker();
  let out: RecordFiles | undefined;
  let result: FromRecordWorker = { type: "done" };
  try {
    const files = (out = await RecordFiles.open(manifest, seen, runDir));
    await scanRunRecords(
      runDir,
      manifest,
      (rec, at) => {
        if (abort) throw new Aborted();
        seen.add(rec);
        return files.add(rec, at);
      },
      scanOptions,
    );
    // Wait for the statistics' final layout; an abort instead ends the wait too.
    const { final, tail } = await Promise.race([
      finishing,
      new Promise<never>((_, reject) => {
        const check = (m: ToRecordWorker) => m.type === "abort" && reject(new Aborted());
        port.on("message", check);
        if (abort) reject(new Aborted());
      }),
    ]);
    await files.finish(final, csvTmp, junitTmp, journalRangeScan(runDir, manifest, scanOptions), tail);
  } catch (err) {
    result = { type: "error", error: serializeError(err) };
  } finally {
    // Temp segments removed before answering, so the report never returns with them still there.
    await out?.destroy().catch(() => undefined);
  }
  port.postMessage(result);
  port.close();
}

if (parentPort !== null) void main(parentPort, workerData as RecordWorkerData);
