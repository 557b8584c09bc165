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
    for (const [r, , , offset] of this.entries(from)) if (r === row) return offset;
    return NaN;
  }

  /**
   * The positions of `rows`, in one pass: per row the first record, per model the first record
   * of its lowest trial (as the excerpts keep them). Rows without a positioned record are absent.
   */
  find(rows: ReadonlySet<number>): Map<number, RowPositions> {
    const out = new Map<number, RowPositions>();
    if (rows.size === 0) return out;
    for (const [row, model, trial, offset] of this.entries(0)) {
      if (!rows.has(row)) continue;
      let p = out.get(row);
      if (p === undefined) out.set(row, (p = { first: offset, byModel: new Map() }));
      const t = p.byModel.get(model);
      if (t === undefined || trial < t.trial) p.byModel.set(model, { trial, offset });
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

  /** Entries from index `from` in order: [row, model, trial, offset]. Flushes the buffer first. */
  private *entries(from: number): Generator<[number, number, number, number]> {
    this.flush();
    if (this.fd === undefined) return;
    const chunk = new ArrayBuffer(ENTRY * BUFFER_ENTRIES);
    const words = new Uint32Array(chunk);
    const doubles = new Float64Array(chunk);
    const bytes = new Uint8Array(chunk);
    for (let at = from; at < this.written;) {
      const n = Math.min(BUFFER_ENTRIES, this.written - at);
      let got = 0;
      while (got < n * ENTRY) {
        const r = readSync(this.fd, bytes, got, n * ENTRY - got, at * ENTRY + got);
        if (r === 0) throw new Error("record positions: temp file truncated");
        got += r;
      }
      for (let e = 0; e < n; e++) yield [words[e * 6]!, words[e * 6 + 1]!, doubles[e * 3 + 1]!, doubles[e * 3 + 2]!];
      at += n;
    }
  }
}
