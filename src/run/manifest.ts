/**
 * `run.json`: what a run was asked to do and how it ended. Written when the run starts (status
 * `running`), rewritten atomically when it ends. Holds no secrets: the config snapshot keeps the
 * *names* of key variables, never their values.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/schema.js";
import type { ModelInfo } from "../providers/types.js";
import type { ConcurrencyHistory } from "./adaptive.js";

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
}

export interface RunManifest {
  v: 1;
  runId: string;
  status: RunStatus;
  startedAt: string;
  endedAt?: string;
  /** Every time the run was (re)started: resumes append here. */
  sessions: { startedAt: string; endedAt?: string; resumed: boolean; sent: number; skipped: number }[];
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
}

export async function readManifest(runDir: string): Promise<RunManifest> {
  const text = await readFile(join(runDir, MANIFEST_FILE), "utf8");
  return JSON.parse(text) as RunManifest;
}

/** Writes run.json via a temp file and rename, so a crash never leaves half a manifest. */
export async function writeManifest(runDir: string, manifest: RunManifest): Promise<void> {
  const path = join(runDir, MANIFEST_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + "\n", "utf8");
  await rename(tmp, path);
}
