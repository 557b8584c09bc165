/**
 * `bakeoff merge`: the shard runs of one plan (`run --shard i/n`) become one run, as if it had
 * run on one machine. Checked first, written second:
 *
 * - every run is a shard of the same plan (config hash, dataset names and content hashes, shard
 *   count, models, trials), each index 1..n exactly once, each complete with all of its expected
 *   results, and each record in the shard its row hashes to (so shards are disjoint by
 *   construction, with no key set held in memory);
 * - the merged journal holds one record per key in a canonical order, (dataset position, row
 *   line, model position, trial), whatever order the shards' calls completed in. Each shard's
 *   journal is indexed (sort key, byte offset, length: 32 bytes a record, never the records), the
 *   indexes sorted, and the shards k-way merged, reading each record from its shard by offset.
 *
 * Written under the new run's lock through {@link JournalWriter} (the one writer of
 * predictions.jsonl), run.json first as `running` and last as `complete`, like a run: a merge
 * killed half way leaves a `running` merged run that the next merge into the same id replaces.
 */
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { copyFile, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { shardOf } from "../dataset/shard.js";
import { UsageError } from "../errors.js";
import type { PredictionRecord } from "../types.js";
import { JournalWriter, PREDICTIONS_FILE } from "./journal.js";
import type { Lock } from "./lock.js";
import { MANIFEST_FILE, readManifest, writeManifest, type RunManifest } from "./manifest.js";
import { createRunDir, lockRunDir, newRunId, runDirFor } from "./run-dir.js";
import { pathExists } from "../util/path-exists.js";

/** Rows left out by --skip-invalid-rows (the runner's SKIPPED_FILE): the same in every shard. */
const SKIPPED_FILE = "skipped.jsonl";

/** One shard run, read and checked. */
export interface ShardRun {
  runDir: string;
  manifest: RunManifest & { shard: NonNullable<RunManifest["shard"]> };
}

/** Options of {@link mergeShardRuns}. */
export interface MergeOptions {
  /** The shard runs' directories, in any order. */
  shardDirs: string[];
  /** Results directory the merged run is created in. */
  outputDir: string;
  /** Id (directory name) of the merged run; default a new timestamped id. */
  runId?: string;
  /**
   * Writes what is derived from the merged journal (reports, index entry), called under the lock
   * after the journal is complete and before run.json says `complete`.
   */
  finish?: (runDir: string, manifest: RunManifest) => Promise<void>;
}

/** What {@link mergeShardRuns} wrote. */
export interface MergeResult {
  runId: string;
  runDir: string;
  manifest: RunManifest;
  /** The shard runs, shard 1 first. */
  shards: ShardRun[];
  /** Records written to the merged journal. */
  records: number;
}

/**
 * Checks that `dirs` are the complete shard runs of one plan and merges them into a new run.
 * @throws UsageError (exit 2) naming the shard run and what is wrong: not a shard run, a shard
 *   missing or given twice, a shard of another plan, an unfinished shard, a record in the wrong shard.
 */
export async function mergeShardRuns(options: MergeOptions): Promise<MergeResult> {
  if (options.shardDirs.length === 0) throw new UsageError("bakeoff merge needs the shard runs to merge");
  const seen = new Set<string>();
  for (const dir of options.shardDirs) {
    if (seen.has(resolve(dir))) throw new UsageError(`run ${dir} is given twice; give each shard run once`);
    seen.add(resolve(dir));
  }
  const locks: Lock[] = [];
  try {
    // Hold each shard's lock while reading it: a resume of a shard mid-merge would change it.
    for (const dir of options.shardDirs) {
      const lock = await lockRunDir(dir, "merge").catch((err: unknown) => {
        // A read-only copy (a mounted artifact) cannot be locked, nor written by anyone else.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EROFS" || code === "EACCES" || code === "EPERM") return undefined;
        throw err;
      });
      if (lock) locks.push(lock);
    }
    const shards = checkShardRuns(await Promise.all(options.shardDirs.map(readShard)));
    const indexes: ShardIndex[] = [];
    for (const s of shards) indexes.push(await indexShard(s));

    const runId = options.runId ?? newRunId();
    const { runDir, lock } = await createMergeDir(options.outputDir, runId);
    locks.push(lock);
    const manifest = mergedManifest(runId, shards);
    await writeManifest(runDir, manifest);
    const journal = await JournalWriter.open(join(runDir, PREDICTIONS_FILE));
    let records = 0;
    try {
      for (const line of mergeIndexes(shards, indexes)) {
        journal.appendSerialized(line);
        // Bounded memory: let the queued lines reach the kernel now and then.
        if (++records % 2000 === 0) await journal.flush();
      }
      await journal.sync();
    } finally {
      await journal.close();
    }
    const skipped = join(shards[0]!.runDir, SKIPPED_FILE);
    if (await pathExists(skipped)) await copyFile(skipped, join(runDir, SKIPPED_FILE));

    manifest.status = "complete";
    await options.finish?.(runDir, manifest);
    await writeManifest(runDir, manifest);
    return { runId, runDir, manifest, shards, records };
  } finally {
    for (const l of locks.reverse()) await l.release();
  }
}

async function readShard(dir: string): Promise<{ runDir: string; manifest: RunManifest }> {
  return { runDir: dir, manifest: await readManifest(dir) };
}

/** `run "<id>" (shard 2/4, <dir>)`: how messages name a shard run. */
function nameOf(s: { runDir: string; manifest: RunManifest }): string {
  const sh = s.manifest.shard;
  return `run "${s.manifest.runId}"${sh ? ` (shard ${sh.index}/${sh.count})` : ""} in ${s.runDir}`;
}

/**
 * Checks the runs are the n complete shards of one plan, each once; returns them shard 1 first.
 * @throws UsageError naming the offending run.
 */
export function checkShardRuns(runs: { runDir: string; manifest: RunManifest }[]): ShardRun[] {
  for (const r of runs) {
    if (r.manifest.mergedFrom)
      throw new UsageError(`${nameOf(r)} is already a merged run; merge takes the runs of bakeoff run --shard i/n`);
    if (!r.manifest.shard)
      throw new UsageError(
        `${nameOf(r)} is not a shard run (its run.json has no shard); merge takes the runs of bakeoff run --shard i/n`,
      );
  }
  const shards = runs as ShardRun[];
  const first = shards[0]!;
  const n = first.manifest.shard.count;
  const plan = (m: RunManifest) => ({
    datasets: m.datasets.map((d) => `${d.name}@${d.sha256}`).join(", "),
    models: m.models.map((x) => x.name).join(", "),
  });
  for (const s of shards.slice(1)) {
    const other = `not a shard of the same plan as ${nameOf(first)}`;
    const a = s.manifest;
    const b = first.manifest;
    if (a.configHash !== b.configHash)
      throw new UsageError(
        `${nameOf(s)} is ${other}: different config (hash ${a.configHash.slice(0, 12)}… vs ${b.configHash.slice(0, 12)}…)`,
      );
    if (plan(a).datasets !== plan(b).datasets)
      throw new UsageError(`${nameOf(s)} is ${other}: different datasets or dataset contents (${plan(a).datasets})`);
    if (a.shard.count !== n)
      throw new UsageError(`${nameOf(s)} is ${other}: the plan is split into ${a.shard.count} shards, not ${n}`);
    if (plan(a).models !== plan(b).models || a.trials !== b.trials)
      throw new UsageError(`${nameOf(s)} is ${other}: different models or trials`);
  }
  const byIndex = new Map<number, ShardRun>();
  for (const s of shards) {
    const twice = byIndex.get(s.manifest.shard.index);
    if (twice)
      throw new UsageError(
        `shard ${s.manifest.shard.index}/${n} is given twice: ${nameOf(twice)} and ${nameOf(s)}; give each shard once`,
      );
    byIndex.set(s.manifest.shard.index, s);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new UsageError(
      `shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${n}`).join(", ")} ${missing.length > 1 ? "are" : "is"} missing (given: ${[
        ...byIndex.keys(),
      ]
        .sort((x, y) => x - y)
        .map((i) => `${i}/${n}`)
        .join(", ")}); merge needs every shard of the plan`,
    );
  for (const s of shards) {
    if (s.manifest.status !== "complete")
      throw new UsageError(
        `${nameOf(s)} is ${s.manifest.status}, not complete; finish it first with: bakeoff run --resume ${s.manifest.runId} --out ${join(s.runDir, "..")}`,
      );
  }
  return [...byIndex.keys()].sort((x, y) => x - y).map((i) => byIndex.get(i)!);
}

/**
 * A shard journal's records as sort keys and byte ranges, sorted: per record `k1` (dataset
 * position × 2³² + row line), `k2` (model position × 2¹⁶ + trial), byte offset and length.
 */
interface ShardIndex {
  data: Float64Array;
  /** Record positions in `data` (÷4), in canonical order, one per key. */
  order: Uint32Array;
}

const FIELDS = 4;

/**
 * Reads one shard's journal through once: checks every record belongs to this shard, counts the
 * keys against `expected`, and returns its sorted index.
 * @throws UsageError naming the shard run when a record is foreign or results are missing.
 */
async function indexShard(s: ShardRun): Promise<ShardIndex> {
  const m = s.manifest;
  const path = join(s.runDir, PREDICTIONS_FILE);
  if (!(await pathExists(path)))
    throw new UsageError(
      `${nameOf(s)} has no ${PREDICTIONS_FILE}; copy the whole run directory of each shard (its journal is the source of truth)`,
    );
  const datasets = new Map(m.datasets.map((d, i) => [d.name, i]));
  const models = new Map(m.models.map((x, i) => [x.name, i]));
  let data = new Float64Array(FIELDS * Math.max(16, m.expected));
  let n = 0;
  let lineNo = 0;
  const add = (text: string, offset: number, length: number): void => {
    lineNo++;
    let rec: PredictionRecord;
    try {
      rec = JSON.parse(text) as PredictionRecord;
    } catch {
      return; // a torn line, as every journal reader skips it
    }
    if (rec?.v !== 1 || typeof rec.key !== "string" || typeof rec.model !== "string") return;
    const ds = datasets.get(rec.dataset);
    const model = models.get(rec.model);
    const where = `${path}:${lineNo}`;
    if (ds === undefined || model === undefined || !Number.isInteger(rec.trial) || rec.trial >= m.trials)
      throw new UsageError(`${nameOf(s)}: ${where} is a record of no dataset, model or trial of the run (${rec.key})`);
    const belongs = shardOf(rec.dataset, rec.rowId, m.shard.count);
    if (belongs !== m.shard.index)
      throw new UsageError(
        `${nameOf(s)}: ${where} holds row ${rec.dataset}/${rec.rowId}, which belongs to shard ${belongs}/${m.shard.count}; the run's rows were not split by this version's rule, so it cannot be merged`,
      );
    if ((n + 1) * FIELDS > data.length) {
      const bigger = new Float64Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    const at = n * FIELDS;
    data[at] = ds * 2 ** 32 + rec.line;
    data[at + 1] = model * 2 ** 16 + rec.trial;
    data[at + 2] = offset;
    data[at + 3] = length;
    n++;
  };
  await scanLines(path, add);

  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  // Later lines last among equal keys: a resume with --retry-errors appended a newer result.
  all.sort((a, b) => {
    const x = a * FIELDS;
    const y = b * FIELDS;
    return data[x]! - data[y]! || data[x + 1]! - data[y + 1]! || data[x + 2]! - data[y + 2]!;
  });
  let keep = 0;
  for (let i = 0; i < n; i++) {
    const next = all[i + 1];
    const same =
      next !== undefined &&
      data[all[i]! * FIELDS] === data[next * FIELDS] &&
      data[all[i]! * FIELDS + 1] === data[next * FIELDS + 1];
    if (!same) all[keep++] = all[i]!;
  }
  if (keep !== m.expected)
    throw new UsageError(
      `${nameOf(s)} has ${keep} of its ${m.expected} expected results${keep < m.expected ? `; finish it with: bakeoff run --resume ${m.runId} --out ${join(s.runDir, "..")}` : " (more than its plan: not a shard run of this version)"}`,
    );
  return { data, order: all.subarray(0, keep) };
}

/** Calls `onLine(text, byteOffset, byteLength)` for each line of the file (a final line without newline too). */
async function scanLines(path: string, onLine: (text: string, offset: number, length: number) => void): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  let base = 0; // file offset of carry[0]
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      if (nl > start) onLine(buf.toString("utf8", start, nl), base + start, nl - start);
      start = nl + 1;
    }
    carry = buf.subarray(start);
    base += start;
  }
  if (carry.length > 0) onLine(carry.toString("utf8"), base, carry.length);
}

/**
 * The shards' record lines (as written, already checked by {@link indexShard}) in canonical
 * order: a k-way merge of the sorted indexes.
 */
function* mergeIndexes(shards: ShardRun[], indexes: ShardIndex[]): Generator<string> {
  const fds = shards.map((s) => openSync(join(s.runDir, PREDICTIONS_FILE), "r"));
  const pos = indexes.map(() => 0);
  // Each row lives in one shard, so ties between shards cannot happen; a heap keeps n large cheap.
  const keyOf = (k: number): [number, number] => {
    const ix = indexes[k]!;
    const at = ix.order[pos[k]!]! * FIELDS;
    return [ix.data[at]!, ix.data[at + 1]!];
  };
  const less = (a: number, b: number): boolean => {
    const [a1, a2] = keyOf(a);
    const [b1, b2] = keyOf(b);
    return a1 < b1 || (a1 === b1 && a2 < b2);
  };
  const heap: number[] = [];
  const push = (k: number): void => {
    heap.push(k);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): void => {
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && less(heap[l]!, heap[min]!)) min = l;
      if (r < heap.length && less(heap[r]!, heap[min]!)) min = r;
      if (min === i) break;
      [heap[i], heap[min]] = [heap[min]!, heap[i]!];
      i = min;
    }
  };
  try {
    indexes.forEach((ix, k) => {
      if (ix.order.length > 0) push(k);
    });
    let buf = Buffer.alloc(64 * 1024);
    while (heap.length > 0) {
      const k = heap[0]!;
      const ix = indexes[k]!;
      const at = ix.order[pos[k]!]! * FIELDS;
      const length = ix.data[at + 3]!;
      if (length > buf.length) buf = Buffer.alloc(length);
      readSync(fds[k]!, buf, 0, length, ix.data[at + 2]!);
      yield buf.toString("utf8", 0, length);
      pos[k]!++;
      if (pos[k]! < ix.order.length) {
        // The cursor moved: restore heap order from the top.
        pop();
        push(k);
      } else pop();
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** run.json of the merged run: the plan's, with the shards' rows, results and sessions added up. */
function mergedManifest(runId: string, shards: ShardRun[]): RunManifest {
  const first = shards[0]!.manifest;
  const { shard: _shard, mayHaveDuplicates: _dups, stopReason: _stop, ...plan } = first;
  const starts = shards.map((s) => s.manifest.startedAt).sort();
  const ends = shards.map((s) => s.manifest.endedAt ?? s.manifest.startedAt).sort();
  return {
    ...plan,
    runId,
    status: "running",
    startedAt: starts[0]!,
    endedAt: ends[ends.length - 1]!,
    sessions: shards
      .flatMap((s) => s.manifest.sessions.map((x) => ({ ...x, shard: s.manifest.shard.index })))
      .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0)),
    datasets: first.datasets.map((d, i) => ({
      ...d,
      rows: shards.reduce((n, s) => n + s.manifest.datasets[i]!.rows, 0),
    })),
    // Per-machine figures (concurrency reached, why a session stopped) describe no merged run.
    models: first.models.map(
      ({ finalConcurrency: _c, concurrencyHistory: _h, stopped: _s, resolvedEndpoint: _r, ...m }) => m,
    ),
    expected: shards.reduce((n, s) => n + s.manifest.expected, 0),
    mergedFrom: shards.map((s) => s.manifest.runId),
  };
}

/**
 * Creates the merged run's directory under its lock. A merge killed half way left a `running`
 * merged run of that id: it is replaced. Any other run of that id is refused (createRunDir).
 */
async function createMergeDir(outputDir: string, runId: string): Promise<{ runDir: string; lock: Lock }> {
  const runDir = runDirFor(outputDir, runId);
  if (await pathExists(join(runDir, MANIFEST_FILE))) {
    const before = await readManifest(runDir).catch(() => undefined);
    if (before?.mergedFrom && before.status !== "complete") {
      const lock = await lockRunDir(runDir, "merge");
      await unlink(join(runDir, PREDICTIONS_FILE)).catch(() => undefined);
      return { runDir, lock };
    }
    if (before?.mergedFrom)
      throw new UsageError(
        `run "${runId}" already exists in ${outputDir} (merged from ${before.mergedFrom.join(", ")}); choose another --run-id`,
      );
  }
  if ((await pathExists(join(runDir, MANIFEST_FILE))) || (await pathExists(join(runDir, PREDICTIONS_FILE))))
    throw new UsageError(`run "${runId}" already exists in ${outputDir}; choose another --run-id for the merged run`);
  return createRunDir(outputDir, runId, "merge");
}
