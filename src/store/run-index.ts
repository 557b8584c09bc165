/**
 * The run index, `<outputDir>/index.jsonl`: one line per run (id, time, config and dataset
 * hashes, per-model headline scores and cost) that `bakeoff history` and trend charts read
 * without opening any journal. It is derived data; this module only stores and reads entries
 * (building one needs the reports, see src/report/index-entry.ts).
 *
 * Entries are idempotent: writing a run's entry replaces its previous line (the file is rewritten
 * through a temp file and rename under `index.lock`, so concurrent runs in one output directory
 * never lose each other's entries and a crash never leaves half an index).
 */
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson, sha256 } from "../util/hash.js";
import { acquireLock } from "./lock.js";
import { readManifest, type RunManifest, type RunStatus } from "./manifest.js";

/** File name of the run index inside the output directory. */
export const RUN_INDEX_FILE = "index.jsonl";
const INDEX_LOCK = "index.lock";

/** One model's headline numbers in an indexed run. */
export interface IndexedModel {
  name: string;
  n: number;
  errors: number;
  /** Mean score per scorer (null when nothing was scored). */
  scores: Record<string, number | null>;
  cost: number | null;
}

/** One line of index.jsonl. */
export interface RunIndexEntry {
  v: 1;
  runId: string;
  /** Directory name under the output directory. */
  dir: string;
  startedAt: string;
  endedAt?: string;
  status: RunStatus;
  configHash: string;
  /** sha256 over the datasets' names and content hashes: equal means the same prompts. */
  datasetHash: string;
  datasets: { name: string; sha256: string; rows: number }[];
  /** Trials per row (absent in entries written before it was indexed: 1). */
  trials?: number;
  /** Row limits (`--limit` / `datasets[].limit`) as `name:N` list; "" or absent when none. */
  limits?: string;
  /**
   * Comparability group: runs with the same datasets (names and hashes), trials and row limits.
   * Trends and `--baseline latest` only ever line up runs of one group.
   */
  group?: string;
  /** A shard run's slice as `i/n`; absent for whole runs (merged runs included). */
  shard?: string;
  models: IndexedModel[];
  /** Total cost over models with pricing; null when none has pricing. */
  cost: number | null;
}

/** The combined dataset hash of a run (order-independent). */
export function datasetHash(manifest: RunManifest): string {
  const parts = manifest.datasets
    .map((d) => ({ name: d.name, sha256: d.sha256 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sha256(canonicalJson(parts));
}

/** A run's row limits as text ("" when no dataset was limited). */
export function runLimits(manifest: RunManifest): string {
  return (manifest.config?.datasets ?? [])
    .flatMap((d, i) => (d.limit === undefined ? [] : [`${manifest.datasets[i]?.name ?? i}:${d.limit}`]))
    .sort()
    .join(",");
}

function groupOf(hash: string, trials: number, limits: string, shard?: string): string {
  // A shard run is in a group of its own slice: its trend never mixes with whole runs. Whole runs
  // hash exactly as before shards existed, so their groups did not move.
  const key =
    shard === undefined ? { datasetHash: hash, trials, limits } : { datasetHash: hash, trials, limits, shard };
  return sha256(canonicalJson(key)).slice(0, 16);
}

/** A shard run's slice as `i/n`, or undefined for a whole run. */
export function runShard(manifest: RunManifest): string | undefined {
  return manifest.shard ? `${manifest.shard.index}/${manifest.shard.count}` : undefined;
}

/** The comparability group of a run (see {@link RunIndexEntry.group}). */
export function comparabilityGroup(manifest: RunManifest): string {
  return groupOf(datasetHash(manifest), manifest.trials ?? 1, runLimits(manifest), runShard(manifest));
}

/** An entry's group, also for entries indexed before groups existed. */
export function entryGroup(e: RunIndexEntry): string {
  return e.group ?? groupOf(e.datasetHash, e.trials ?? 1, e.limits ?? "", e.shard);
}

/** Run directories (those with a readable run.json), ordered by start time. */
export async function listRuns(outputDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch {
    return [];
  }
  const runs: { dir: string; startedAt: string }[] = [];
  for (const name of names) {
    const dir = join(outputDir, name);
    try {
      const m = await readManifest(dir);
      runs.push({ dir, startedAt: m.startedAt });
    } catch {
      // not a run directory
    }
  }
  runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return runs.map((r) => r.dir);
}

/** Reads the index: the last line per run id wins; torn or foreign lines are skipped. Oldest first. */
export async function readRunIndex(outputDir: string): Promise<RunIndexEntry[]> {
  return sortByStart([...(await readIndexById(outputDir)).values()]);
}

/**
 * Writes `entries` into the index, each replacing any earlier line of the same run id, so the
 * index holds exactly one line per run however often a run is resumed or re-indexed.
 */
export async function putRunIndexEntries(outputDir: string, entries: readonly RunIndexEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const lock = await acquireLock(join(outputDir, INDEX_LOCK), {
    command: "index",
    what: `the run index of ${outputDir}`,
    waitMs: 30_000,
  });
  try {
    const byId = await readIndexById(outputDir);
    let changed = false;
    for (const e of entries) {
      const before = byId.get(e.runId);
      if (before && canonicalJson(before) === canonicalJson(e)) continue;
      byId.delete(e.runId); // re-inserted last: the file stays in indexing order
      byId.set(e.runId, e);
      changed = true;
    }
    if (!changed && !(await hasDuplicateLines(outputDir))) return;
    const path = join(outputDir, RUN_INDEX_FILE);
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, [...byId.values()].map((e) => JSON.stringify(e) + "\n").join(""), "utf8");
    await rename(tmp, path);
  } finally {
    await lock.release();
  }
}

async function readIndexLines(outputDir: string): Promise<string[]> {
  try {
    return (await readFile(join(outputDir, RUN_INDEX_FILE), "utf8")).split("\n").filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

async function readIndexById(outputDir: string): Promise<Map<string, RunIndexEntry>> {
  const byId = new Map<string, RunIndexEntry>();
  for (const line of await readIndexLines(outputDir)) {
    try {
      const e = JSON.parse(line) as RunIndexEntry;
      if (e.v === 1 && typeof e.runId === "string" && Array.isArray(e.models)) {
        byId.delete(e.runId);
        byId.set(e.runId, e);
      }
    } catch {
      // a torn line from an older version's crash mid-append: the run is re-indexed on sync
    }
  }
  return byId;
}

/** Indexes written by older versions appended a line per resume; rewriting folds them. */
async function hasDuplicateLines(outputDir: string): Promise<boolean> {
  const lines = await readIndexLines(outputDir);
  return (await readIndexById(outputDir)).size !== lines.length;
}

function sortByStart(entries: RunIndexEntry[]): RunIndexEntry[] {
  return entries.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}
