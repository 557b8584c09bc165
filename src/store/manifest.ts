/**
 * `run.json`: what a run was asked to do and how it ended. Written when the run starts (status
 * `running`), rewritten atomically when it ends. Holds no secrets: the config snapshot keeps the
 * *names* of key variables, never their values.
 */
import { open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import type { Config } from "../config/schema.js";
import type { ModelInfo } from "../providers/types.js";
import type { ConcurrencyHistory } from "../run/adaptive.js";

export const MANIFEST_FILE = "run.json";

export type RunStatus = "running" | "complete" | "interrupted" | "incomplete";

export interface DatasetManifest {
  name: string;
  /** Path as configured (relative to the config file) or as given on the command line. */
  path: string;
  /** Absolute path on the machine that ran it (resume reads from here). */
  resolvedPath: string;
  sha256: string;
  rows: number;
  skipped: number;
}

/** Where one batch of a batched model stands on the service (the Batch API's statuses, plus ours). */
export type BatchPartStatus =
  /** Input file written in the run dir, not uploaded yet. */
  | "written"
  /** Input file uploaded (`fileId`), batch not created yet. */
  | "uploaded"
  | "validating"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "failed"
  | "expired"
  | "cancelling"
  | "cancelled";

/**
 * One batch of one model in run.json, rewritten after every state change so that `--resume`
 * polls the batches in flight instead of submitting them again.
 */
export interface BatchPartState {
  /** 1-based number of this batch within the model (input file `batches/<model>/<part>.input.jsonl`). */
  part: number;
  /** Input file, relative to the run dir: exactly what was (or will be) uploaded. */
  input: string;
  /** The rows behind each line (`<part>.rows.jsonl`), to build records from answers in any order. */
  rows: string;
  lines: number;
  bytes: number;
  /** 0 for first submissions; n for lines resubmitted after failing n times (`batch.retryFailed: "batch"`). */
  generation: number;
  status: BatchPartStatus;
  fileId?: string;
  batchId?: string;
  /** The service's request counts at the last poll. */
  counts?: { total: number; completed: number; failed: number };
  outputFileId?: string;
  errorFileId?: string;
  /** Every line's outcome is in the journal (or handed on: retried live, resubmitted, left for resume). */
  ingested?: boolean;
  /** Times the service lost this batch (404) and it was submitted again. */
  resubmitted?: number;
  createdAt: string;
  submittedAt?: string;
  updatedAt: string;
  endedAt?: string;
}

export interface ModelManifest {
  name: string;
  provider: string;
  /** Endpoint with any credentials stripped; `emulator://<sim>` stays as configured. */
  endpoint: string;
  /** The loopback URL an emulated model actually ran on, when it was emulated. */
  resolvedEndpoint?: string;
  deployment?: string;
  apiVersion?: string;
  /** `openai` provider: which API answered (`chat` or `responses`). */
  api?: string;
  /** Whether answers were streamed (time to first token recorded). */
  stream?: true;
  params: Record<string, unknown>;
  /** What `GET /info` said, when the endpoint has it. */
  info?: ModelInfo | null;
  /** Concurrency limit the model ended with (adaptive limits lower it on 429s). */
  finalConcurrency?: number;
  /** How adaptive concurrency moved the limit in the last session; absent when `adaptive` is off. */
  concurrencyHistory?: ConcurrencyHistory;
  /** Why the model was stopped in the last session (auth failure, circuit breaker); its rest is not run. */
  stopped?: string;
  /** Whether the model's calls went through the Batch API. */
  batched?: true;
  /** The model's batches (batch mode), in submission order. */
  batches?: BatchPartState[];
}

export interface RunManifest {
  v: 1;
  runId: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  /** Every time the run was (re)started: resumes append here. A merged run lists its shards' sessions. */
  sessions: {
    startedAt: string;
    endedAt?: string;
    resumed: boolean;
    sent: number;
    skipped: number;
    /** In a merged run: the shard (1..n) the session ran. */
    shard?: number;
  }[];
  tool: { name: "bakeoff"; version: string; node: string };
  git?: { sha: string; dirty: boolean };
  configPath?: string;
  /** sha256 of the canonical config snapshot: equal hashes mean the same experiment. */
  configHash: string;
  config: Config;
  datasets: DatasetManifest[];
  models: ModelManifest[];
  trials: number;
  /** Expected journal lines: rows × models × trials. */
  expected: number;
  /** Whether some keys may appear twice in the journal (resumed with --retry-errors). */
  mayHaveDuplicates?: boolean;
  /** Why the last session ended early (deadline, disk full, ...), when it did. */
  stopReason?: string;
  /** The W&B Weave project the run logged to, so `weave-sync` needs no flag. */
  weave?: { project: string };
  /**
   * A shard run (`run --shard i/n`): which slice of the plan it ran, and the rpm/tpm budgets its
   * models were paced with (the configured ones divided by n unless `shards.divideLimits` is
   * false). `configHash`, `config` and dataset hashes are the whole plan's, equal in every shard;
   * `datasets[].rows` and `expected` count this shard's rows only.
   */
  shard?: { index: number; count: number; limits: Record<string, { rpm?: number; tpm?: number }> };
  /** A merged run (`bakeoff merge`): the run ids of its shards, shard 1 first. */
  mergedFrom?: string[];
}

/**
 * Reads a run's run.json.
 * @throws UsageError (exit 2, one line) when the directory is not a bakeoff run: no run.json (a
 *   foreign directory, or a run killed before it started) or one that is not a run manifest.
 */
export async function readManifest(runDir: string): Promise<RunManifest> {
  const path = join(runDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new UsageError(
        `${runDir} is not a bakeoff run: it has no ${MANIFEST_FILE} (a foreign directory, or a run killed before it started, which has nothing to resume)`,
      );
    }
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON; it is not a bakeoff run manifest`);
  }
  const m = value as Partial<RunManifest> | null;
  if (
    !m ||
    typeof m !== "object" ||
    m.v !== 1 ||
    typeof m.runId !== "string" ||
    !Array.isArray(m.models) ||
    !Array.isArray(m.datasets)
  ) {
    throw new UsageError(`${path} is not a bakeoff run manifest`);
  }
  return m as RunManifest;
}

/** Writes run.json via a temp file and rename, so a crash never leaves half a manifest. */
export async function writeManifest(runDir: string, manifest: RunManifest): Promise<void> {
  const path = join(runDir, MANIFEST_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + "\n", "utf8");
  await rename(tmp, path);
}

/**
 * Last resort when the disk is full: rewrites run.json in place, compact and padded with spaces
 * to its current size, so the file system needs no new block (the temp file of
 * {@link writeManifest} would need one). Not atomic; used only to record `interrupted` after a
 * storage failure, when the alternative is a run that still says `running`.
 * @throws when the compact form does not fit, or the write fails anyway.
 */
export async function overwriteManifestInPlace(runDir: string, manifest: RunManifest): Promise<void> {
  const fh = await open(join(runDir, MANIFEST_FILE), "r+");
  try {
    const { size } = await fh.stat();
    const text = Buffer.from(JSON.stringify(manifest), "utf8");
    if (text.length > size) throw new Error("the compact manifest does not fit in place");
    await fh.write(Buffer.concat([text, Buffer.alloc(size - text.length, " ")]), 0, size, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
