/**
 * The dense index of a run's rows (dataset + row id → 0, 1, 2, … in first-appearance order) that
 * the analysis keys its per-row typed arrays on, in ~9.3 bytes per row (a Map of key strings took
 * ~100 B/row; the hashed index of row-index-hashed.ts ~22 B/row, 22 MB live during a 1M-row run).
 *
 * Rows are addressed by where they are: every record carries its row's dataset and line, and the
 * distinct rows of a dataset have distinct lines. So per dataset a `Uint32Array` maps line → row
 * + 1 (4 B per line, sized from run.json's expected rows), and the row's dataset and line need not
 * be stored per row: the canonical order is a walk of those tables.
 *
 * The line alone is not trusted: a hand-edited journal may put two ids at one line, or one id at
 * two lines (and then the key decides, as it always has). So the rows are also in a fixed-size
 * open-addressing table by a hash of their key, one 32-bit word per slot holding the row + 1 in
 * its low bits and a fingerprint of the hash in the rest (12 bits at a million rows), at most 3/4
 * full (5.3 B per row). A lookup probes that table: a fingerprint match whose row sits at the
 * record's (dataset, line) is the row (the same evidence the hashed index trusted: hash, dataset,
 * line); a match elsewhere is confirmed exactly through `keyOf` (the caller reads the row's first
 * record back from the journal: with 12-bit fingerprints, a few hundred reads per million rows).
 * Rows the two tables cannot hold (a second id at an occupied line, lines far beyond the expected
 * rows, rows past the expected count) go to the general hashed index, {@link HashedRows}.
 */
import { datasetOrder, HashedRows, rowKey } from "./row-index-hashed.js";
import { hash64JoinedInto } from "../util/hash64.js";

export { datasetOrder, rowKey } from "./row-index-hashed.js";

/** A 64-bit hash of a row key into out[0] (low) and out[1] (high). Replaceable so tests can force collisions. */
export type RowHash = (dataset: string, rowId: string, out: Uint32Array) => void;

/** The hash of `rowKey(dataset, rowId)`, without building the key (see hash64JoinedInto). */
const defaultHash: RowHash = (dataset, rowId, out) => hash64JoinedInto(dataset, "/", rowId, out);

/** Lines past a dataset's expected rows that are still addressed directly (a CSV header, blank lines). */
const LINE_SLACK = 1024;
/** The keyed table is never more than this full (linear probing stays short). */
const MAX_LOAD = 0.75;

/** Dense row index plus each row's position in dataset order (for deterministic selection). */
export class RowIndex {
  private count = 0;
  /** Expected rows per dataset (by dataset order); datasets beyond it expect none. */
  private readonly expected: number[];
  /** Per dataset: line → row + 1 (0 = none), grown up to {@link lineLimit} as lines need. */
  private readonly byLine: (Uint32Array | undefined)[] = [];
  /** Keyed table: fingerprint × 2^rowBits + row + 1 per slot, 0 = empty. Fixed size. */
  private readonly slots: Uint32Array;
  private readonly rowBits: number;
  private readonly rowSpan: number;
  private readonly fpShift: number;
  private inSlots = 0;
  /** Rows neither table holds. */
  private readonly other: HashedRows;
  private readonly scratch = new Uint32Array(2);
  /** Row → rank in canonical order, and row → dataset; built on demand after the rows are in. */
  private rank: Uint32Array | undefined;
  private datasetOfRow: Uint16Array | undefined;
  /** The one dataset every row is in (rows only in the line tables), -2 when not; undefined = to find. */
  private onlyDataset: number | undefined;

  /**
   * @param datasets dataset names in run order (journal-only names are appended)
   * @param capacity rows expected (run.json's), in all (spread over the datasets) or per dataset,
   *   so a full run's rows all fit the direct tables
   * @param keyOf the key of an already indexed row, for confirming a hash match at another line;
   *   without it such a match is taken as a different row
   * @param hash the row-key hash (tests force collisions with a weak one)
   */
  constructor(
    private readonly datasets: string[],
    capacity: number | readonly number[] = 64,
    private readonly keyOf?: (row: number) => string | undefined,
    private readonly hash: RowHash = defaultHash,
  ) {
    const perDataset = typeof capacity === "number" ? datasets.map(() => capacity) : [...capacity];
    this.expected = perDataset.map((n) => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0));
    const total = Math.max(
      64,
      this.expected.reduce((a, n) => a + n, 0),
    );
    // Row numbers up to twice the expected rows (fallback rows take numbers too); the rest of the
    // word is fingerprint. Past 2^24 expected rows the fingerprint would be too thin to filter.
    this.rowBits = Math.max(8, Math.ceil(Math.log2(2 * total + LINE_SLACK + 2)));
    this.rowSpan = 2 ** this.rowBits;
    this.fpShift = this.rowBits;
    this.slots = new Uint32Array(this.rowBits <= 24 ? Math.ceil(total / MAX_LOAD) + 1 : 0);
    this.other = new HashedRows(datasets, 64, keyOf);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the index (for benches). */
  get byteLength(): number {
    let bytes = this.slots.byteLength + this.other.byteLength;
    for (const t of this.byLine) bytes += t?.byteLength ?? 0;
    return bytes + (this.rank?.byteLength ?? 0) + (this.datasetOfRow?.byteLength ?? 0);
  }

  /** The row's index, adding the row when it is new. */
  indexOf(rec: { dataset: string; rowId: string; line: number }): number {
    return this.lookup(rec.dataset, rec.rowId, rec.line, true);
  }

  /** The row's index, or -1 when it is not indexed. */
  find(rec: { dataset: string; rowId: string; line: number }): number {
    return this.lookup(rec.dataset, rec.rowId, rec.line, false);
  }

  private lookup(dataset: string, rowId: string, rawLine: number, insert: boolean): number {
    this.hash(dataset, rowId, this.scratch);
    const lo = this.scratch[0]!;
    const hi = this.scratch[1]!;
    const line = clampLine(rawLine);
    const d = datasetOrder(this.datasets, dataset);
    const atLine = this.atLine(d, line); // row + 1 at (dataset, line), 0 = none
    const slots = this.slots;
    let slot = -1;
    if (slots.length > 0) {
      const fp = hi >>> this.fpShift;
      // The top 21 bits of lo scaled to the table (exact in a double: < 2^46).
      slot = Math.floor(((lo >>> 11) * slots.length) / 2097152);
      for (;;) {
        const held = slots[slot]!;
        if (held === 0) break;
        if (held >>> this.fpShift === fp) {
          const row = (held % this.rowSpan) - 1;
          if (atLine === row + 1) return row; // hash, dataset and line agree: this row
          if (this.keyOf?.(row) === rowKey(dataset, rowId)) return row; // the same key at another line (a hand edit)
        }
        if (++slot === slots.length) slot = 0;
      }
    }
    const found = this.other.lookup(dataset, rowId, line, lo, hi);
    if (found >= 0 || !insert) return found;
    // A new row: directly addressed when its line is free and within reach, else hashed.
    const row = this.count++;
    this.rank = undefined;
    this.datasetOfRow = undefined;
    this.onlyDataset = undefined;
    if (
      atLine === 0 &&
      slot >= 0 &&
      row + 1 < this.rowSpan &&
      this.inSlots + 1 <= slots.length * MAX_LOAD &&
      this.place(d, line, row)
    ) {
      slots[slot] = (hi >>> this.fpShift) * this.rowSpan + row + 1;
      this.inSlots++;
      return row;
    }
    return this.other.lookup(dataset, rowId, line, lo, hi, row);
  }

  /** The row + 1 directly addressed at (dataset, line), 0 = none. */
  private atLine(d: number, line: number): number {
    const t = this.byLine[d];
    return t !== undefined && line < t.length ? t[line]! : 0;
  }

  /** Highest line + 1 directly addressed in dataset `d`: bounded, so sparse lines cost nothing. */
  private lineLimit(d: number): number {
    return 2 * (this.expected[d] ?? 0) + LINE_SLACK;
  }

  /** Puts `row` at (d, line) in the direct table, growing it; false when the line is out of reach. */
  private place(d: number, line: number, row: number): boolean {
    const limit = this.lineLimit(d);
    if (line >= limit) return false;
    let t = this.byLine[d];
    if (t === undefined || line >= t.length) {
      // Sized for the expected rows first (a full run never grows it), then doubling, capped.
      const initial = Math.min(limit, (this.expected[d] ?? 0) + LINE_SLACK);
      const size = Math.min(limit, Math.max(line + 1, initial, 2 * (t?.length ?? 0)));
      const grown = new Uint32Array(size);
      if (t !== undefined) grown.set(t);
      this.byLine[d] = t = grown;
    }
    t[line] = row + 1;
    return true;
  }

  /**
   * Row indices in dataset order, then line, then first appearance. Resampling statistics walk
   * rows in this order so the same results give the same intervals whatever order the calls
   * completed in (the journal is in completion order; a replay or a resume must reproduce the
   * report exactly). A walk of each dataset's line table, merged with the hashed rows' own order;
   * memory: the 4 B/row result (and the hashed rows' sort).
   */
  canonicalOrder(): Uint32Array {
    const order = new Uint32Array(this.count);
    const other = this.other;
    const rest = other.canonicalOrder(); // entries in (dataset, line, row) order
    let at = 0;
    let r = 0;
    for (let d = 0; d < this.datasets.length; d++) {
      const t = this.byLine[d];
      if (t !== undefined) {
        for (let line = 0; line < t.length; line++) {
          const held = t[line]!;
          if (held === 0) continue;
          // Hashed rows of this dataset that come first: smaller line, or the same line and earlier.
          while (r < rest.length) {
            const e = rest[r]!;
            if (other.dataset[e] !== d) break;
            const l = other.line[e]!;
            if (l > line || (l === line && other.row[e]! > held - 1)) break;
            order[at++] = other.row[e]!;
            r++;
          }
          order[at++] = held - 1;
        }
      }
      while (r < rest.length && other.dataset[rest[r]!] === d) order[at++] = other.row[rest[r++]!]!;
    }
    return order;
  }

  /** Compares two rows by dataset order, then line, then first appearance. */
  compare(a: number, b: number): number {
    if (this.rank === undefined || this.rank.length !== this.count) {
      const order = this.canonicalOrder();
      const rank = new Uint32Array(order.length);
      for (let k = 0; k < order.length; k++) rank[order[k]!] = k;
      this.rank = rank;
    }
    return this.rank[a]! - this.rank[b]!;
  }

  /** The one dataset every indexed row is in (its position in the dataset names); -1 when not one. */
  soleDataset(): number {
    if (this.onlyDataset === undefined) {
      // The usual run: rows only in the line tables; with one dataset, no per-row array at all.
      let only = this.other.size === 0 ? -1 : -2;
      for (let d = 0; d < this.byLine.length && only !== -2; d++)
        if (this.byLine[d] !== undefined) only = only === -1 ? d : -2;
      this.onlyDataset = only;
    }
    return Math.max(-1, this.onlyDataset);
  }

  /** The row's dataset (its position in the dataset names). */
  datasetOf(row: number): number {
    const only = this.soleDataset();
    if (only >= 0) return only;
    if (this.datasetOfRow === undefined || this.datasetOfRow.length !== this.count) {
      const of = new Uint16Array(this.count);
      for (let d = 0; d < this.byLine.length; d++) {
        const t = this.byLine[d];
        if (t !== undefined) for (const held of t) if (held !== 0) of[held - 1] = d;
      }
      const other = this.other;
      for (let e = 0; e < other.size; e++) of[other.row[e]!] = other.dataset[e]!;
      this.datasetOfRow = of;
    }
    return this.datasetOfRow[row]!;
  }
}

function clampLine(line: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.trunc(line) || 0));
}
