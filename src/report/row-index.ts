/**
 * The dense index of a run's rows (dataset + row id → 0, 1, 2, … in first-appearance order) that
 * the analysis keys its per-row typed arrays on, in ~20 bytes per row instead of a Map of key
 * strings (~100 B/row: 50 MB at a million rows, the largest thing a report held).
 *
 * Rows are found by a 64-bit hash of their key in an open-addressing table. A hash match is
 * confirmed, never trusted: the matched row must have the same dataset and line (distinct rows
 * of a dataset have distinct lines, so two keys of a bakeoff journal cannot pass this check);
 * when dataset or line differ, the row's own key is fetched through `keyOf` (the caller reads
 * the row's first record back from the journal; rare) and compared exactly. The second key of a
 * true collision goes to a small exact Map, so statistics never merge two rows.
 */
import { endianness } from "node:os";
import { hash64JoinedInto } from "../util/hash64.js";

/** Index of the low / high 32-bit half of a 64-bit element in a Uint32Array view of its buffer. */
const LO = endianness() === "LE" ? 0 : 1;
const HI = 1 - LO;

/** A 64-bit hash of a row key into out[0] (low) and out[1] (high). Replaceable so tests can force collisions. */
export type RowHash = (dataset: string, rowId: string, out: Uint32Array) => void;

/** The key that identifies a row across models and trials. */
export function rowKey(dataset: string, rowId: string): string {
  return `${dataset}/${rowId}`;
}

/** The hash of `rowKey(dataset, rowId)`, without building the key (see hash64JoinedInto). */
const defaultHash: RowHash = (dataset, rowId, out) => hash64JoinedInto(dataset, "/", rowId, out);

/** Position of `dataset` in `datasets`, appending unknown names (journal-only datasets). */
export function datasetOrder(datasets: string[], dataset: string): number {
  let i = datasets.indexOf(dataset);
  if (i < 0) i = datasets.push(dataset) - 1;
  return i;
}

/** Dense row index plus each row's position in dataset order (for deterministic selection). */
export class RowIndex {
  dataset: Uint16Array;
  line: Uint32Array;
  private count = 0;
  /** Two words (low, high) of each row's key hash, by row index. */
  private hashes: Uint32Array;
  /** Open addressing, linear probing: row index + 1 per slot, 0 = empty. Power-of-two length. */
  private slots: Uint32Array;
  /** Keys of rows whose hash is shared with another row (exact lookups for those hashes). */
  private readonly exact = new Map<string, number>();
  private readonly scratch = new Uint32Array(2);

  /**
   * @param datasets dataset names in run order (journal-only names are appended)
   * @param capacity rows expected (run.json's), so a full run never grows (and copies) the arrays
   * @param keyOf the key of an already indexed row, for confirming a hash match whose dataset or
   *   line differ; without it such a match is taken as a different row
   * @param hash the row-key hash (tests force collisions with a weak one)
   */
  constructor(
    private readonly datasets: string[],
    capacity = 64,
    private readonly keyOf?: (row: number) => string | undefined,
    private readonly hash: RowHash = defaultHash,
  ) {
    const cap = Math.max(64, capacity);
    this.dataset = new Uint16Array(cap);
    this.line = new Uint32Array(cap);
    this.hashes = new Uint32Array(cap * 2);
    this.slots = new Uint32Array(slotsFor(cap));
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the index (for benches). */
  get byteLength(): number {
    return this.dataset.byteLength + this.line.byteLength + this.hashes.byteLength + this.slots.byteLength;
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
    const mask = this.slots.length - 1;
    let slot = (lo ^ hi) & mask;
    for (;;) {
      const held = this.slots[slot]!;
      if (held === 0) break;
      const i = held - 1;
      if (this.hashes[2 * i] === lo && this.hashes[2 * i + 1] === hi) {
        // Confirm: same dataset and line is the same row (ids are unique per dataset).
        if (this.dataset[i] === datasetOrder(this.datasets, dataset) && this.line[i] === line) return i;
        const key = rowKey(dataset, rowId);
        const known = this.exact.get(key);
        if (known !== undefined) return known; // a key already found to share this hash
        if (this.keyOf?.(i) === key) return i; // the same row recorded with another line (a hand edit)
        // Two keys, one hash: the new one is kept exactly (the table keeps the first).
        if (!insert) return -1;
        const j = this.append(dataset, line, lo, hi, false);
        this.exact.set(key, j);
        return j;
      }
      slot = (slot + 1) & mask;
    }
    if (!insert) return -1;
    const i = this.append(dataset, line, lo, hi, true);
    this.slots[slot] = i + 1;
    return i;
  }

  private append(dataset: string, line: number, lo: number, hi: number, inTable: boolean): number {
    const i = this.count++;
    if (i >= this.line.length) this.grow();
    this.dataset[i] = datasetOrder(this.datasets, dataset);
    this.line[i] = line;
    this.hashes[2 * i] = lo;
    this.hashes[2 * i + 1] = hi;
    // Keep the table at most half full (rehashing needs only the stored hashes).
    if (inTable && this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return i;
  }

  private grow(): void {
    const size = this.line.length * 2;
    const dataset = new Uint16Array(size);
    dataset.set(this.dataset);
    const line = new Uint32Array(size);
    line.set(this.line);
    const hashes = new Uint32Array(size * 2);
    hashes.set(this.hashes);
    this.dataset = dataset;
    this.line = line;
    this.hashes = hashes;
  }

  private rehash(size: number): void {
    const old = this.slots;
    const slots = new Uint32Array(size);
    const mask = size - 1;
    for (const held of old) {
      if (held === 0) continue;
      const i = held - 1;
      let slot = (this.hashes[2 * i]! ^ this.hashes[2 * i + 1]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = held;
    }
    this.slots = slots;
  }

  /**
   * Row indices in dataset order, then line. Resampling statistics walk rows in this order so
   * the same results give the same intervals whatever order the calls completed in (the journal
   * is in completion order; a replay or a resume must reproduce the report exactly).
   */
  canonicalOrder(): Uint32Array {
    return this.countedOrder() ?? this.packedOrder() ?? this.comparedOrder();
  }

  /**
   * The canonical order by a stable counting sort on (dataset, line), when the lines are about
   * as many as the rows (the usual case: a dataset's rows are its lines). Rows are placed in
   * index order, so ties keep first appearance, as in {@link packedOrder}. Memory: 4 B per
   * (dataset, line) and the 4 B/row result, 8 MB at a million rows against the packed sort's
   * 12 MB (8 B keys + the result), at the peak of a large run's end; and no sort.
   * Undefined when the lines span more than twice the rows (sparse lines: a shard, a limit).
   */
  private countedOrder(): Uint32Array | undefined {
    const n = this.size;
    if (n === 0) return new Uint32Array(0);
    // Each dataset's key range starts after the previous one's largest line.
    const maxLine: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = this.dataset[i]!;
      if (!(this.line[i]! <= (maxLine[d] ?? -1))) maxLine[d] = this.line[i]!;
    }
    const base: number[] = [];
    let keys = 0;
    for (let d = 0; d < maxLine.length; d++) {
      base[d] = keys;
      keys += maxLine[d] === undefined ? 0 : maxLine[d]! + 1;
    }
    if (keys > 2 * n + 1024) return undefined;
    // starts[k] = rows with a smaller key, then the next free place of key k.
    const starts = new Uint32Array(keys + 1);
    for (let i = 0; i < n; i++) starts[base[this.dataset[i]!]! + this.line[i]! + 1]!++;
    for (let k = 1; k <= keys; k++) starts[k]! += starts[k - 1]!;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[starts[base[this.dataset[i]!]! + this.line[i]!]!++] = i;
    return order;
  }

  /**
   * The canonical order through a native sort of one 64-bit key per row: (dataset, line, row
   * index) packed into as many bits as they need (a million rows of one dataset: ~40). A typed
   * array sorted without a comparator is sorted in place; with one, V8 copies it into two
   * temporary arrays of 8 B per element, which made this sort the peak of a 1M-row report
   * (28 → 12 MB). The keys are distinct (the row index is in them), so the permutation is the
   * one {@link comparedOrder} gives. Undefined when the three do not fit in 64 bits.
   */
  private packedOrder(): Uint32Array | undefined {
    const n = this.size;
    if (n === 0) return new Uint32Array(0);
    let maxDataset = 0;
    let maxLine = 0;
    for (let i = 0; i < n; i++) {
      if (this.dataset[i]! > maxDataset) maxDataset = this.dataset[i]!;
      if (this.line[i]! > maxLine) maxLine = this.line[i]!;
    }
    const bits = (x: number) => (x === 0 ? 0 : Math.floor(Math.log2(x)) + 1);
    const lineBits = bits(maxLine);
    const indexBits = Math.max(1, bits(n - 1));
    if (bits(maxDataset) + lineBits + indexBits > 64) return undefined;
    // key = (dataset × 2^lineBits + line) × 2^indexBits + row, written as two 32-bit words.
    const keys = new BigUint64Array(n);
    const words = new Uint32Array(keys.buffer);
    const lowBits = 32 - indexBits; // bits of (dataset, line) that share the low word with the row
    const lowSpan = 2 ** lowBits;
    const lineSpan = 2 ** lineBits;
    for (let i = 0; i < n; i++) {
      const high = this.dataset[i]! * lineSpan + this.line[i]!; // < 2^48: exact
      const rest = high % lowSpan;
      words[2 * i + LO] = rest * 2 ** indexBits + i;
      words[2 * i + HI] = Math.floor(high / lowSpan);
    }
    keys.sort();
    const order = new Uint32Array(n);
    const mask = indexBits === 32 ? 0xffffffff : 2 ** indexBits - 1;
    for (let i = 0; i < n; i++) order[i] = (words[2 * i + LO]! & mask) >>> 0;
    return order;
  }

  /** The canonical order by a comparator (rows whose keys do not fit {@link packedOrder}). */
  private comparedOrder(): Uint32Array {
    const order = new Uint32Array(this.size);
    // One number per row (dataset × 2^32 + line: exact below 2^53) makes the comparator two
    // array reads instead of four; ties keep first appearance, as compare() does.
    const key = new Float64Array(this.size);
    for (let i = 0; i < order.length; i++) {
      order[i] = i;
      key[i] = this.dataset[i]! * 4294967296 + this.line[i]!;
    }
    return order.sort((a, b) => key[a]! - key[b]! || a - b);
  }

  /** Compares two rows by dataset order, then line, then first appearance. */
  compare(a: number, b: number): number {
    return this.dataset[a]! - this.dataset[b]! || this.line[a]! - this.line[b]! || a - b;
  }
}

function clampLine(line: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.trunc(line) || 0));
}

/** A power of two at least twice `rows`. */
function slotsFor(rows: number): number {
  let size = 128;
  while (size < rows * 2) size *= 2;
  return size;
}
