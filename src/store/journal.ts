/**
 * The results journal, `predictions.jsonl`: the run's source of truth. One JSON line per
 * row × model × trial, appended as each call completes. Reports, compare, resume and Weave sync
 * are all computed from it.
 *
 * Durability model: every record is handed to the kernel with write(2) at the end of the event
 * loop turn it was appended in (records appended in one turn are coalesced into one write), so a
 * `kill -9` loses only calls still in flight. `sync()` adds an fsync for power-loss safety at checkpoints.
 * A crash can leave a torn final line; readers skip it and `openJournal` truncates it before
 * appending, so a resumed run never builds on a half-written record.
 */
import { createReadStream, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { PredictionRecord } from "../types.js";
import { KeySet, KeySetBuilder } from "./key-set.js";
import { pathExists } from "../util/path-exists.js";

export { KeySet, KeySetBuilder } from "./key-set.js";

export const PREDICTIONS_FILE = "predictions.jsonl";

export class JournalWriter {
  /** Records appended but not yet written (joined text). */
  private pending = "";
  /** The write scheduled for the end of this event-loop turn, resolved once it is done. */
  private batch: { done: Promise<void>; resolve: () => void } | null = null;
  private failure: unknown = null;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
  ) {}

  /** Opens `path` for appending, creating it; drops a torn last line left by a crash. */
  static async open(path: string): Promise<JournalWriter> {
    const fh = await open(path, "a+");
    try {
      await truncateTornTail(fh);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new JournalWriter(fh, path);
  }

  /**
   * Queues one record. Never blocks the caller: records appended in the same turn of the event
   * loop are written together, with one write(2), right after that turn's I/O callbacks.
   * Throws if an earlier write failed (disk full), so the runner stops instead of silently
   * losing results.
   */
  append(record: PredictionRecord): void {
    this.appendSerialized(JSON.stringify(record));
  }

  /**
   * Queues one record already serialised by {@link append} (one JSON line, no newline), as read
   * from another journal: `bakeoff merge` copies shard records byte for byte instead of parsing
   * and re-serialising each one. Same batching and failure rules as {@link append}.
   */
  appendSerialized(line: string): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error("journal is closed");
    this.pending += line + "\n";
    if (this.batch === null) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.batch = { done, resolve };
      // After this turn's I/O callbacks: every result that completed in it shares one write.
      setImmediate(() => this.write());
    }
  }

  /** Resolves when everything appended so far is in the kernel (survives a process kill). */
  async flush(): Promise<void> {
    if (this.batch !== null) await this.batch.done;
    if (this.failure) throw this.failure;
  }

  /** flush() plus fsync: survives power loss. */
  async sync(): Promise<void> {
    await this.flush();
    try {
      await this.fh.sync();
    } catch (err) {
      if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined)
        (err as NodeJS.ErrnoException).path = this.path;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sync();
    } finally {
      this.closed = true;
      await this.fh.close();
    }
  }

  /**
   * Hands the pending records to the kernel with a synchronous write(2). An append-only write of
   * a few KB to the page cache takes microseconds; the promise-based FileHandle write it replaces
   * cost ~50-60 µs of CPU per call in thread-pool round trips, more than the rest of the journal.
   * Loops over short writes; the first failure is kept and rethrown by append/flush.
   */
  private write(): void {
    const batch = this.batch;
    this.batch = null;
    try {
      if (this.pending === "" || this.failure) return;
      const buf = Buffer.from(this.pending, "utf8");
      this.pending = "";
      let done = 0;
      while (done < buf.length) done += writeSync(this.fh.fd, buf, done, buf.length - done);
    } catch (err) {
      // Errors carry no path for an fd; messages about a full disk should name the file.
      if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined)
        (err as NodeJS.ErrnoException).path = this.path;
      this.failure = err;
    } finally {
      batch?.resolve();
    }
  }
}

async function truncateTornTail(fh: FileHandle): Promise<void> {
  const { size } = await fh.stat();
  if (size === 0) return;
  // Scan back from the end for the last newline; a tail without one is a torn record.
  const chunk = 64 * 1024;
  let end = size;
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return;
  while (end > 0) {
    const start = Math.max(0, end - chunk);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) {
      await fh.truncate(start + nl + 1);
      return;
    }
    end = start;
  }
  await fh.truncate(0);
}

export interface ReadJournalOptions {
  /** Called for lines that are not valid records (torn tail, hand edits); default: ignore. */
  onBadLine?: (line: number, reason: string) => void;
}

/**
 * Streams the records of a journal in file order. A torn or invalid line is reported through
 * `onBadLine` and skipped; records are not deduplicated here (see {@link latestByKey}).
 */
export async function* readJournal(path: string, options: ReadJournalOptions = {}): AsyncGenerator<PredictionRecord> {
  // Lines are split by hand rather than with node:readline: at a million records readline's
  // per-line regex and events cost as much as the JSON.parse itself (bench/reports.ts). Line
  // breaks are as readline counts them (\n, \r\n, or a lone \r), so `onBadLine` numbers agree.
  const input = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 16 });
  let n = 0;
  let rest = "";
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const text = rest === "" ? chunk : rest + chunk;
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        const line = text.slice(start, nl);
        start = nl + 1;
        if (line.indexOf("\r") < 0) {
          const rec = parseLine(line, ++n, options);
          if (rec !== undefined) yield rec;
        } else for (const rec of parseLines(line, () => ++n, options)) yield rec;
      }
      rest = text.slice(start);
    }
    if (rest !== "") for (const rec of parseLines(rest, () => ++n, options)) yield rec;
  } finally {
    input.destroy();
  }
}

/** The records of one \n-terminated line (several when it holds lone \r breaks). */
function parseLines(line: string, next: () => number, options: ReadJournalOptions): PredictionRecord[] {
  const parts = (line.endsWith("\r") ? line.slice(0, -1) : line).split("\r");
  const out: PredictionRecord[] = [];
  for (const part of parts) {
    const rec = parseLine(part, next(), options);
    if (rec !== undefined) out.push(rec);
  }
  return out;
}

function parseLine(line: string, n: number, options: ReadJournalOptions): PredictionRecord | undefined {
  if (line.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    options.onBadLine?.(n, "not valid JSON (a torn write from a crash?)");
    return undefined;
  }
  if (!isRecord(value)) {
    options.onBadLine?.(n, "not a prediction record");
    return undefined;
  }
  return value;
}

function isRecord(v: unknown): v is PredictionRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<PredictionRecord>;
  return r.v === 1 && typeof r.key === "string" && typeof r.model === "string" && typeof r.output === "object";
}

/**
 * The keys already recorded, for resume: a {@link KeySet} of 64-bit key hashes (8 bytes per
 * result, sorted, binary search), so resuming a million-row run holds ~8 MB, not a Set of strings.
 * `retryErrors` leaves failed calls out so they are sent again (a later success counts as done).
 */
export async function completedKeys(path: string, options: { retryErrors?: boolean } = {}): Promise<KeySet> {
  if (!(await pathExists(path))) return KeySet.empty();
  const builder = new KeySetBuilder(options.retryErrors ?? false);
  for await (const rec of readJournal(path)) builder.add(rec.key, rec.output.error !== undefined);
  return builder.build();
}

/**
 * Streams records with later lines for the same key superseding earlier ones (a resumed run that
 * re-tried an error). Keeps one byte offset-free index of keys seen more than once only, so a
 * journal without duplicates streams in constant memory beyond the key set.
 */
export async function* latestByKey(path: string): AsyncGenerator<PredictionRecord> {
  // First pass: which keys occur more than once, and at which (last) line.
  const lastLine = new Map<string, number>();
  const dup = new Set<string>();
  let n = 0;
  for await (const rec of readJournal(path)) {
    n++;
    if (lastLine.has(rec.key)) dup.add(rec.key);
    lastLine.set(rec.key, n);
  }
  if (dup.size === 0) {
    yield* readJournal(path);
    return;
  }
  n = 0;
  for await (const rec of readJournal(path)) {
    n++;
    if (dup.has(rec.key) && lastLine.get(rec.key) !== n) continue;
    yield rec;
  }
}

/**
 * Streams a run's final records: one per key, the latest when a resume re-tried errors (the
 * manifest says whether that can have happened; without duplicates this is a plain stream).
 */
export function runRecords(runDir: string, manifest: { mayHaveDuplicates?: boolean }): AsyncIterable<PredictionRecord> {
  const path = join(runDir, PREDICTIONS_FILE);
  return manifest.mayHaveDuplicates ? latestByKey(path) : readJournal(path);
}
