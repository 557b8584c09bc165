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
import { readSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { PredictionRecord } from "../types.js";
import { KeySet, KeySetBuilder } from "./key-set.js";
import { pathExists } from "../util/path-exists.js";

export { KeySet, KeySetBuilder } from "./key-set.js";

export const PREDICTIONS_FILE = "predictions.jsonl";

/**
 * Told of each line a {@link JournalWriter} has handed to the kernel, in file order: the record
 * as appended (undefined for {@link JournalWriter.appendSerialized}), its line (no newline) and
 * the byte offset the line starts at. Called synchronously from the write; must not throw.
 */
export type WrittenListener = (record: PredictionRecord | undefined, line: string, offset: number) => void;

export class JournalWriter {
  /** Lines appended but not yet written (no newlines), in order. */
  private pendingLines: string[] = [];
  /** With a listener: the record of each line in `pendingLines` (undefined for appendSerialized). */
  private pendingRecords: (PredictionRecord | undefined)[] = [];
  /**
   * Where a batch's bytes are encoded before its write(2): reused from batch to batch (grown
   * when a batch needs more), so a batch allocates no Buffer and copies each line once.
   */
  private out = Buffer.allocUnsafe(OUT_BUFFER_BYTES);
  /**
   * Settles when the write scheduled for the end of this event-loop turn is done: resolves, or
   * rejects with the write's error. Every appender of the turn waits on this one promise.
   */
  private batch: Promise<void> | null = null;
  private settleBatch: ((err?: unknown) => void) | null = null;
  private failure: unknown = null;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    /** The file's size: where the next line starts. */
    private size: number,
    private readonly listener: WrittenListener | undefined,
  ) {}

  /**
   * Opens `path` for appending, creating it; drops a torn last line left by a crash.
   * `onWritten` is told of every line this writer writes (the lines before {@link written},
   * already in the file, are the caller's to read).
   */
  static async open(path: string, options: { onWritten?: WrittenListener } = {}): Promise<JournalWriter> {
    const fh = await open(path, "a+");
    let size: number;
    try {
      size = await truncateTornTail(fh);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new JournalWriter(fh, path, size, options.onWritten);
  }

  /** Bytes in the file so far: everything before this offset is whole lines in the kernel. */
  get written(): number {
    return this.size;
  }

  /**
   * Queues one record. Never blocks the caller: records appended in the same turn of the event
   * loop are written together, with one write(2), right after that turn's I/O callbacks.
   * Throws if an earlier write failed (disk full), so the runner stops instead of silently
   * losing results.
   */
  append(record: PredictionRecord): void {
    this.queue(JSON.stringify(record));
    if (this.listener !== undefined) this.pendingRecords.push(record);
  }

  /**
   * Queues one record already serialised by {@link append} (one JSON line, no newline), as read
   * from another journal: `bakeoff merge` copies shard records byte for byte instead of parsing
   * and re-serialising each one. Same batching and failure rules as {@link append}.
   */
  appendSerialized(line: string): void {
    this.queue(line);
    if (this.listener !== undefined) this.pendingRecords.push(undefined);
  }

  private queue(line: string): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error("journal is closed");
    this.pendingLines.push(line);
    if (this.batch === null) {
      this.batch = new Promise<void>((resolve, reject) => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what writeSync threw, as it threw it
        this.settleBatch = (err) => (err === undefined ? resolve() : reject(err));
      });
      // The failure reaches whoever awaits flush(); a batch nobody awaits must not be unhandled.
      this.batch.catch(() => undefined);
      // After this turn's I/O callbacks: every result that completed in it shares one write.
      setImmediate(() => this.write());
    }
  }

  /**
   * Resolves when everything appended so far is in the kernel (survives a process kill); rejects
   * if that write failed. Not an async function: the runner awaits this once per result, and
   * every appender of a turn gets the same promise (no promise of its own).
   */
  flush(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what writeSync threw, as it threw it
    if (this.failure) return Promise.reject(this.failure);
    return this.batch ?? Promise.resolve();
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
    const settle = this.settleBatch;
    this.batch = null;
    this.settleBatch = null;
    const lines = this.pendingLines;
    const records = this.pendingRecords;
    this.pendingLines = [];
    this.pendingRecords = [];
    if (lines.length === 0 || this.failure) {
      settle?.(this.failure ?? undefined);
      return;
    }
    try {
      // Each line encoded straight into the reused buffer (no joined string to flatten, no new
      // Buffer), its end noted for the listener. UTF-8 takes at most 3 bytes per UTF-16 unit.
      let chars = 0;
      for (let i = 0; i < lines.length; i++) chars += lines[i]!.length + 1;
      let out = this.out;
      if (chars * 3 > out.length) {
        out = Buffer.allocUnsafe(chars * 3);
        // Kept for the next batches up to a size; a rare larger batch (merge) gets its own.
        if (out.length <= MAX_KEPT_BUFFER_BYTES) this.out = out;
      }
      const ends = this.listener === undefined ? undefined : new Array<number>(lines.length);
      let len = 0;
      for (let i = 0; i < lines.length; i++) {
        len += utf8Write(out, lines[i]!, len);
        out[len++] = 0x0a;
        if (ends !== undefined) ends[i] = len;
      }
      let done = 0;
      while (done < len) done += writeSync(this.fh.fd, out, done, len - done);
      const start = this.size;
      this.size += len;
      if (ends !== undefined) this.tell(records, lines, ends, start);
    } catch (err) {
      // Errors carry no path for an fd; messages about a full disk should name the file.
      if (err instanceof Error && (err as NodeJS.ErrnoException).path === undefined)
        (err as NodeJS.ErrnoException).path = this.path;
      this.failure = err;
    } finally {
      settle?.(this.failure ?? undefined);
    }
  }

  /** Tells the listener of the lines just written, the first at file offset `start`. */
  private tell(records: (PredictionRecord | undefined)[], lines: string[], ends: number[], start: number): void {
    const listener = this.listener!;
    let from = start;
    for (let i = 0; i < lines.length; i++) {
      listener(records[i], lines[i]!, from);
      from = start + ends[i]!;
    }
  }
}

/** Starting size of a writer's batch buffer (a turn's records: tens of KB at concurrency 64). */
const OUT_BUFFER_BYTES = 64 * 1024;
/** Largest batch buffer a writer keeps between batches. */
const MAX_KEPT_BUFFER_BYTES = 1024 * 1024;

/**
 * `buf.write(text, at)` without its argument checks: Buffer's own `utf8Write` (on every Node
 * release, undocumented), as src/report/record-files.ts uses it. Falls back to `write`; the
 * caller has made room for the whole text (3 bytes per UTF-16 unit).
 */
const fastUtf8Write = (Buffer.prototype as unknown as { utf8Write?: (s: string, at: number) => number }).utf8Write;
function utf8Write(buf: Buffer, text: string, at: number): number {
  return fastUtf8Write === undefined ? buf.write(text, at) : fastUtf8Write.call(buf, text, at);
}

/** Drops a torn last line; returns the file's size after that. */
async function truncateTornTail(fh: FileHandle): Promise<number> {
  const { size } = await fh.stat();
  if (size === 0) return 0;
  // Scan back from the end for the last newline; a tail without one is a torn record.
  const chunk = 64 * 1024;
  let end = size;
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  if (last[0] === 0x0a) return size;
  while (end > 0) {
    const start = Math.max(0, end - chunk);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) {
      await fh.truncate(start + nl + 1);
      return start + nl + 1;
    }
    end = start;
  }
  await fh.truncate(0);
  return 0;
}

export interface ReadJournalOptions {
  /** Called for lines that are not valid records (torn tail, hand edits); default: ignore. */
  onBadLine?: (line: number, reason: string) => void;
}

/** Where a record sits in its journal: byte offset of its line and its ordinal among the records. */
export interface RecordPosition {
  /** Byte offset of the record's line in the file (for {@link readRecordAt}). */
  offset: number;
  /** 1-based ordinal among the file's valid records (what {@link latestByKey} counts). */
  ordinal: number;
}

/** Options of {@link scanJournal}. */
export interface ScanJournalOptions extends ReadJournalOptions {
  /** Byte offset to start at (a line start); default 0. */
  start?: number;
  /** Byte offset to stop before (a line start); default the end of the file. */
  end?: number;
  /** Ordinal of the record just before `start` (for ordinals that match a whole-file scan); default 0. */
  ordinalBefore?: number;
  /** Line number just before `start`, for `onBadLine`; default 0. */
  lineBefore?: number;
}

/** Bytes read per chunk: large reads, few calls; a longer line grows the buffer. */
const READ_CHUNK = 1 << 20;
/** The smallest read buffer (a range's first line may be longer than the range's size suggests: it grows). */
const MIN_READ = 64 * 1024;

/**
 * Calls `onRecord` for each record of a journal in file order, with its byte position, and waits
 * when it returns a promise. A torn or invalid line is reported through `onBadLine` and skipped.
 *
 * Why not readline or a utf8 stream: the file is read as bytes, split at `\n` bytes (which never
 * occur inside a multi-byte UTF-8 character) and each line decoded on its own. At a million
 * records this reads and parses in about half the CPU time of a decoded stream split by string
 * search (no chunk concatenation, no string decoder), and gives each record's byte offset, which
 * lets a report re-read a few records by position instead of the whole journal a second time.
 * Line breaks are as readline counts them (\n, \r\n, or a lone \r), so `onBadLine` numbers agree.
 */
export async function scanJournal(
  path: string,
  onRecord: (rec: PredictionRecord, at: RecordPosition) => void | Promise<void>,
  options: ScanJournalOptions = {},
): Promise<void> {
  let n = options.lineBefore ?? 0; // line number, as readline counts
  let ordinal = options.ordinalBefore ?? 0;
  const emit = (line: string, offset: number): void | Promise<void> => {
    const rec = parseLine(line, ++n, options);
    if (rec === undefined) return;
    return onRecord(rec, { offset, ordinal: ++ordinal });
  };
  for await (const { lines, offsets } of journalLines(path, options.start ?? 0, options.end ?? Infinity)) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.indexOf("\r") < 0) {
        const wait = emit(lines[i]!, offsets[i]!);
        if (wait) await wait;
      } else await emitParts(lines[i]!, offsets[i]!, emit);
    }
  }
}

/** Lines of a journal (without their \n) and the byte offset each starts at, one read's worth. */
interface LineBatch {
  lines: string[];
  offsets: number[];
}

/**
 * The lines of the file between byte offsets `start` (a line start) and `stop`, a read buffer's
 * worth at a time: bytes split at \n bytes, each line decoded on its own (see scanJournal). A last
 * line without \n (a torn write) comes last. Batches rather than single lines keep the cost of the
 * async iteration off each record.
 */
async function* journalLines(path: string, start: number, stop: number): AsyncGenerator<LineBatch> {
  const fh = await open(path, "r");
  try {
    // A short range (the live reports catching up with the journal's last few records, many
    // times at the start of a run) gets a buffer its size: a fresh 1 MB one per call made a burst
    // of ~20 garbage 1 MB blocks at a 1M-row run's start (BENCHMARKS.md, memory).
    let buf = Buffer.allocUnsafe(Math.max(MIN_READ, Math.min(READ_CHUNK, stop - start)));
    let pos = start; // file offset of buf[0]
    let have = 0; // bytes held in buf
    for (;;) {
      const want = Math.min(buf.length - have, stop - pos - have);
      const { bytesRead } = want > 0 ? await fh.read(buf, have, want, pos + have) : { bytesRead: 0 };
      const end = have + bytesRead;
      const batch: LineBatch = { lines: [], offsets: [] };
      let from = 0;
      for (let nl = buf.indexOf(10, from); nl >= 0 && nl < end; nl = buf.indexOf(10, from)) {
        batch.lines.push(buf.toString("utf8", from, nl));
        batch.offsets.push(pos + from);
        from = nl + 1;
      }
      if (bytesRead === 0 && from < end) {
        batch.lines.push(buf.toString("utf8", from, end));
        batch.offsets.push(pos + from);
      }
      if (batch.lines.length > 0) yield batch;
      if (bytesRead === 0) return;
      // Keep the unfinished line at the front; grow the buffer for a line longer than it.
      have = end - from;
      if (from > 0) buf.copy(buf, 0, from, end);
      pos += from;
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
    }
  } finally {
    await fh.close();
  }
}

/** The records of one \n-terminated line that holds lone \r breaks (rare: hand edits). */
async function emitParts(
  line: string,
  offset: number,
  emit: (part: string, offset: number) => void | Promise<void>,
): Promise<void> {
  const parts = (line.endsWith("\r") ? line.slice(0, -1) : line).split("\r");
  let at = offset;
  for (const part of parts) {
    const wait = emit(part, at);
    if (wait) await wait;
    at += Buffer.byteLength(part, "utf8") + 1;
  }
}

/**
 * Reads the one record whose line starts at byte `offset` (as {@link scanJournal} reported it);
 * undefined when that line is not a valid record.
 */
export async function readRecordAt(path: string, offset: number): Promise<PredictionRecord | undefined> {
  const fh = await open(path, "r");
  try {
    return await readRecordFrom(fh, offset);
  } finally {
    await fh.close();
  }
}

/** {@link readRecordAt} on an open file. */
export async function readRecordFrom(fh: FileHandle, offset: number): Promise<PredictionRecord | undefined> {
  const chunks: Buffer[] = [];
  for (let at = offset; ;) {
    const buf = Buffer.allocUnsafe(LINE_READ);
    const { bytesRead } = await fh.read(buf, 0, buf.length, at);
    if (takeLine(buf, bytesRead, chunks)) return recordOfLine(chunks);
    at += bytesRead;
  }
}

/** {@link readRecordAt} for callers that cannot wait (a synchronous lookup in a hot loop; rare). */
export function readRecordAtSync(fd: number, offset: number): PredictionRecord | undefined {
  const chunks: Buffer[] = [];
  for (let at = offset; ;) {
    const buf = Buffer.allocUnsafe(LINE_READ);
    const bytesRead = readSync(fd, buf, 0, buf.length, at);
    if (takeLine(buf, bytesRead, chunks)) return recordOfLine(chunks);
    at += bytesRead;
  }
}

/**
 * The first line start at or after byte `at` (a \n ends every line): where a reader can begin
 * or stop so that no line is cut. The file's size when no line starts there.
 */
export async function lineStartFrom(path: string, at: number): Promise<number> {
  if (at <= 0) return 0;
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(LINE_READ);
    // From the byte before `at`: when that is a \n, `at` itself starts a line.
    for (let pos = at - 1; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return pos;
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0) return pos + nl + 1;
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** Bytes read per step when reading one record back by position. */
const LINE_READ = 64 * 1024;

/** Keeps `buf`'s first `bytesRead` bytes up to the first \n in `chunks`; true once the line is whole. */
function takeLine(buf: Buffer, bytesRead: number, chunks: Buffer[]): boolean {
  const nl = buf.subarray(0, bytesRead).indexOf(10);
  chunks.push(buf.subarray(0, nl >= 0 ? nl : bytesRead));
  return nl >= 0 || bytesRead === 0;
}

/** The record of a line read back by position; a lone \r ends the line too, as in a full scan. */
function recordOfLine(chunks: Buffer[]): PredictionRecord | undefined {
  const line = Buffer.concat(chunks).toString("utf8");
  const cr = line.indexOf("\r");
  return parseLine(cr < 0 ? line : line.slice(0, cr), 0, {});
}

/**
 * Streams the records of a journal in file order. A torn or invalid line is reported through
 * `onBadLine` and skipped; records are not deduplicated here (see {@link latestByKey}).
 */
export async function* readJournal(path: string, options: ReadJournalOptions = {}): AsyncGenerator<PredictionRecord> {
  // Lines are split by hand rather than with node:readline: at a million records readline's
  // per-line regex and events cost as much as the JSON.parse itself (bench/reports.ts). Line
  // breaks are as readline counts them (\n, \r\n, or a lone \r), so `onBadLine` numbers agree.
  let n = 0;
  for await (const { lines } of journalLines(path, 0, Infinity)) {
    for (const line of lines) {
      if (line.indexOf("\r") < 0) {
        const rec = parseLine(line, ++n, options);
        if (rec !== undefined) yield rec;
      } else for (const rec of parseLines(line, () => ++n, options)) yield rec;
    }
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

/**
 * Ordinals (as {@link scanJournal} numbers them) of the records a later line for the same key
 * supersedes: what {@link latestByKey} leaves out. Empty when no key repeats.
 */
export async function supersededOrdinals(path: string): Promise<Set<number>> {
  const lastOrdinal = new Map<string, number>();
  const out = new Set<number>();
  await scanJournal(path, (rec, at) => {
    const prev = lastOrdinal.get(rec.key);
    if (prev !== undefined) out.add(prev);
    lastOrdinal.set(rec.key, at.ordinal);
  });
  return out;
}

/**
 * {@link runRecords} as a scan with positions: calls `onRecord` for each of the run's final
 * records (one per key, the latest, when the manifest says a resume may have re-tried errors).
 * `superseded` (from {@link supersededOrdinals}) saves the first pass when scanning a range again.
 */
export async function scanRunRecords(
  runDir: string,
  manifest: { mayHaveDuplicates?: boolean },
  onRecord: (rec: PredictionRecord, at: RecordPosition) => void | Promise<void>,
  options: ScanJournalOptions & { superseded?: Set<number> } = {},
): Promise<void> {
  const path = join(runDir, PREDICTIONS_FILE);
  const skip = manifest.mayHaveDuplicates ? (options.superseded ?? (await supersededOrdinals(path))) : undefined;
  if (skip === undefined || skip.size === 0) return scanJournal(path, onRecord, options);
  return scanJournal(path, (rec, at) => (skip.has(at.ordinal) ? undefined : onRecord(rec, at)), options);
}
