/**
 * Where each row's records are in the journal, kept in a temp file instead of memory.
 *
 * The analysis needs positions for two things: the disagreements' excerpts (each selected row's
 * first record, and each model's first record of its lowest trial: known only at the end, for
 * 20 rows or so) and, rarely, a row's first record to confirm a row-key hash match. Held as
 * columns that was 8 B per row + 16 B per row × model (24 MB for a million rows × one model, the
 * largest per-row state of a report). Here each positioned record appends 24 bytes (row, model,
 * trial, byte offset) to an unlinked temp file through a 64 KB buffer; the end reads it back once
 * and applies the same rule in the same (journal) order, so the same records are chosen.
 *
 * The one random lookup ({@link firstOffset}) starts from a sparse index: the file position at
 * which every 1024th row was indexed. A row's records can only come after the row was indexed,
 * so the scan starts there and stops at the row's first entry (about 1024 rows × models later).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Bytes per entry: row (u32), model (u32), trial (f64), offset (f64). */
const ENTRY = 24;
const BUFFER_ENTRIES = 2730; // ~64 KB
const BLOCK_ROWS = 1024;

/** One row's positions: its first positioned record, and per model the lowest trial's first record. */
export interface RowPositions {
  first: number;
  byModel: Map<number, { trial: number; offset: number }>;
}

export class RecordPositions {
  private readonly buffer = new ArrayBuffer(ENTRY * BUFFER_ENTRIES);
  private readonly words = new Uint32Array(this.buffer);
  private readonly doubles = new Float64Array(this.buffer);
  /** Entries in the buffer. */
  private pending = 0;
  /** Entries written to the file. */
  private written = 0;
  private fd: number | undefined;
  /** The temp directory, when the file could not be unlinked while open (removed at close). */
  private dir: string | undefined;
  /** Entry count at the time row b × BLOCK_ROWS was indexed. */
  private readonly blockStart: number[] = [];
  /** Where scans read the file back (made on the first scan). */
  private chunk: ArrayBuffer | undefined;

  /** Entries recorded. */
  get size(): number {
    return this.written + this.pending;
  }

  /** Call when `row` is newly indexed (rows are indexed 0, 1, 2, …). */
  rowIndexed(row: number): void {
    if (row % BLOCK_ROWS === 0) this.blockStart[row / BLOCK_ROWS] = this.size;
  }

  /** Records a positioned record of `row` × `model` (a small index) with its trial. */
  add(row: number, model: number, trial: number, offset: number): void {
    const e = this.pending++;
    this.words[e * 6] = row;
    this.words[e * 6 + 1] = model;
    this.doubles[e * 3 + 1] = trial;
    this.doubles[e * 3 + 2] = offset;
    if (this.pending === BUFFER_ENTRIES) this.flush();
  }

  /** The offset of the row's first positioned record, NaN when it has none. */
  firstOffset(row: number): number {
    const from = this.blockStart[Math.floor(row / BLOCK_ROWS)] ?? this.size;
    const { words, doubles } = this.reader();
    for (let at = from, n; (n = this.readChunk(at)) > 0; at += n) {
      for (let e = 0; e < n; e++) if (words[e * 6] === row) return doubles[e * 3 + 2]!;
    }
    return NaN;
  }

  /**
   * The positions of `rows`, in one pass: per row the first record, per model the first record
   * of its lowest trial (as the excerpts keep them). Rows without a positioned record are absent.
   */
  find(rows: ReadonlySet<number>): Map<number, RowPositions> {
    const out = new Map<number, RowPositions>();
    if (rows.size === 0) return out;
    const { words, doubles } = this.reader();
    for (let at = 0, n; (n = this.readChunk(at)) > 0; at += n) {
      for (let e = 0; e < n; e++) {
        const row = words[e * 6]!;
        if (!rows.has(row)) continue;
        const model = words[e * 6 + 1]!;
        const trial = doubles[e * 3 + 1]!;
        const offset = doubles[e * 3 + 2]!;
        let p = out.get(row);
        if (p === undefined) out.set(row, (p = { first: offset, byModel: new Map() }));
        const t = p.byModel.get(model);
        if (t === undefined || trial < t.trial) p.byModel.set(model, { trial, offset });
      }
    }
    return out;
  }

  /** Closes and removes the temp file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.pending = 0;
    this.written = 0;
    this.blockStart.length = 0;
  }

  private flush(): void {
    if (this.pending === 0) return;
    if (this.fd === undefined) this.open();
    const bytes = this.pending * ENTRY;
    let done = 0;
    while (done < bytes)
      done += writeSync(
        this.fd!,
        new Uint8Array(this.buffer, done, bytes - done),
        0,
        bytes - done,
        this.written * ENTRY + done,
      );
    this.written += this.pending;
    this.pending = 0;
  }

  private open(): void {
    const dir = mkdtempSync(join(tmpdir(), "bakeoff-positions-"));
    const file = join(dir, "positions.bin");
    this.fd = openSync(file, "w+");
    // Unlinked while open, the file cannot outlive the process (a crash leaves nothing behind).
    // Where an open file cannot be unlinked (Windows), it is removed at close().
    try {
      unlinkSync(file);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      this.dir = dir;
    }
  }

  /**
   * The chunk buffer {@link readChunk} fills. Flushes the pending entries first, so the file
   * holds them all. The scans over it are plain indexed loops, not a generator of tuples: they run
   * once, in the report's tail, where a generator's per-entry allocation and resumption in not yet
   * optimised code cost ~25 ms for 10,000 records.
   */
  private reader(): { words: Uint32Array; doubles: Float64Array } {
    this.flush();
    const chunk = (this.chunk ??= new ArrayBuffer(ENTRY * BUFFER_ENTRIES));
    return { words: new Uint32Array(chunk), doubles: new Float64Array(chunk) };
  }

  /** Reads up to a chunk of entries from index `at` into {@link reader}'s buffer; how many (0 at the end). */
  private readChunk(at: number): number {
    if (this.fd === undefined || at >= this.written) return 0;
    const n = Math.min(BUFFER_ENTRIES, this.written - at);
    const bytes = new Uint8Array(this.chunk!, 0, n * ENTRY);
    let got = 0;
    while (got < n * ENTRY) {
      const r = readSync(this.fd, bytes, got, n * ENTRY - got, at * ENTRY + got);
      if (r === 0) throw new Error("record positions: temp file truncated");
      got += r;
    }
    return n;
  }
}
