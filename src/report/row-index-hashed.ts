/**
 * The general row index: rows found by a 64-bit hash of their key (dataset + row id) in an
 * open-addressing table, ~26 bytes per row. {@link RowIndex} (row-index.ts) keeps here only the
 * rows its direct (dataset, line) table cannot hold: lines far beyond the rows run.json expects
 * (a shard, `--limit`, a hand edit), a second row id at an occupied line, rows past the expected
 * count. Alone it is the previous row index, which the structures bench measures as "old".
 *
 * A hash match is confirmed, never trusted: the matched row must have the same dataset and line
 * (distinct rows of a dataset have distinct lines, so two keys of a bakeoff journal cannot pass
 * this check); when dataset or line differ, the row's own key is fetched through `keyOf` (the
 * caller reads the row's first record back from the journal; rare) and compared exactly. The
 * second key of a true collision goes to a small exact Map, so statistics never merge two rows.
 */
import { endianness } from "node:os";

/** Index of the low / high 32-bit half of a 64-bit element in a Uint32Array view of its buffer. */
const LO = endianness() === "LE" ? 0 : 1;
const HI = 1 - LO;

/** Position of `dataset` in `datasets`, appending unknown names (journal-only datasets). */
export function datasetOrder(datasets: string[], dataset: string): number {
  let i = datasets.indexOf(dataset);
  if (i < 0) i = datasets.push(dataset) - 1;
  return i;
}

/** The key that identifies a row across models and trials. */
export function rowKey(dataset: string, rowId: string): string {
  return `${dataset}/${rowId}`;
}

/** Hashed rows, each with the row number its owner gave it (entries are kept in that order). */
export class HashedRows {
  dataset: Uint16Array;
  line: Uint32Array;
  /** The owner's row number of each entry (increasing: entries are appended in row order). */
  row: Uint32Array;
  private count = 0;
  /** Two words (low, high) of each entry's key hash. */
  private hashes: Uint32Array;
  /** Open addressing, linear probing: entry + 1 per slot, 0 = empty. Power-of-two length. */
  private slots: Uint32Array;
  /** Keys of entries whose hash is shared with another entry (exact lookups for those hashes). */
  private readonly exact = new Map<string, number>();

  /**
   * @param datasets dataset names in run order (shared with the owner; unknown names are appended)
   * @param capacity entries expected, so they never grow (and copy) the arrays
   * @param keyOf the key of the owner's row, for confirming a hash match whose dataset or line
   *   differ; without it such a match is taken as a different row
   */
  constructor(
    private readonly datasets: string[],
    capacity = 64,
    private readonly keyOf?: (row: number) => string | undefined,
  ) {
    const cap = Math.max(64, capacity);
    this.dataset = new Uint16Array(cap);
    this.line = new Uint32Array(cap);
    this.row = new Uint32Array(cap);
    this.hashes = new Uint32Array(cap * 2);
    this.slots = new Uint32Array(slotsFor(cap));
  }

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Bytes held (for benches). */
  get byteLength(): number {
    return (
      this.dataset.byteLength +
      this.line.byteLength +
      this.row.byteLength +
      this.hashes.byteLength +
      this.slots.byteLength
    );
  }

  /**
   * The owner's row number of the key hashed to (lo, hi), or -1 when it is not here. With
   * `insertAs` ≥ 0 a new key is added under that row number (and `insertAs` is returned).
   */
  lookup(dataset: string, rowId: string, line: number, lo: number, hi: number, insertAs = -1): number {
    const mask = this.slots.length - 1;
    let slot = (lo ^ hi) & mask;
    for (;;) {
      const held = this.slots[slot]!;
      if (held === 0) break;
      const i = held - 1;
      if (this.hashes[2 * i] === lo && this.hashes[2 * i + 1] === hi) {
        // Confirm: same dataset and line is the same row (ids are unique per dataset).
        if (this.dataset[i] === datasetOrder(this.datasets, dataset) && this.line[i] === line) return this.row[i]!;
        const key = rowKey(dataset, rowId);
        const known = this.exact.get(key);
        if (known !== undefined) return this.row[known]!; // a key already found to share this hash
        if (this.keyOf?.(this.row[i]!) === key) return this.row[i]!; // the same row at another line (a hand edit)
        // Two keys, one hash: the new one is kept exactly (the table keeps the first).
        if (insertAs < 0) return -1;
        const j = this.append(dataset, line, lo, hi, insertAs, -1);
        this.exact.set(key, j);
        return insertAs;
      }
      slot = (slot + 1) & mask;
    }
    if (insertAs < 0) return -1;
    this.append(dataset, line, lo, hi, insertAs, slot);
    return insertAs;
  }

  /** Adds an entry, into table slot `slot` unless it is -1 (a key kept in {@link exact}). */
  private append(dataset: string, line: number, lo: number, hi: number, row: number, slot: number): number {
    const i = this.count++;
    if (i >= this.line.length) this.grow();
    this.dataset[i] = datasetOrder(this.datasets, dataset);
    this.line[i] = line;
    this.row[i] = row;
    this.hashes[2 * i] = lo;
    this.hashes[2 * i + 1] = hi;
    if (slot < 0) return i;
    // Into the slot found before any rehash: a rehash moves it with the others (writing the old
    // slot index into the rehashed table afterwards, as the index once did, lost that row).
    this.slots[slot] = i + 1;
    // Keep the table at most half full (rehashing needs only the stored hashes).
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return i;
  }

  private grow(): void {
    const size = this.line.length * 2;
    const dataset = new Uint16Array(size);
    dataset.set(this.dataset);
    const line = new Uint32Array(size);
    line.set(this.line);
    const row = new Uint32Array(size);
    row.set(this.row);
    const hashes = new Uint32Array(size * 2);
    hashes.set(this.hashes);
    this.dataset = dataset;
    this.line = line;
    this.row = row;
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
   * Entry indices in dataset order, then line, then entry order (= the owner's row order).
   */
  canonicalOrder(): Uint32Array {
    return this.countedOrder() ?? this.packedOrder() ?? this.comparedOrder();
  }

  /**
   * The canonical order by a stable counting sort on (dataset, line), when the lines are about
   * as many as the entries. Entries are placed in index order, so ties keep first appearance, as
   * in {@link packedOrder}. Memory: 4 B per (dataset, line) and the 4 B/entry result; no sort.
   * Undefined when the lines span more than twice the entries (sparse lines: a shard, a limit).
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
    // starts[k] = entries with a smaller key, then the next free place of key k.
    const starts = new Uint32Array(keys + 1);
    for (let i = 0; i < n; i++) starts[base[this.dataset[i]!]! + this.line[i]! + 1]!++;
    for (let k = 1; k <= keys; k++) starts[k]! += starts[k - 1]!;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[starts[base[this.dataset[i]!]! + this.line[i]!]!++] = i;
    return order;
  }

  /**
   * The canonical order through a native sort of one 64-bit key per entry: (dataset, line,
   * entry) packed into as many bits as they need (a million of one dataset: ~40). A typed array
   * sorted without a comparator is sorted in place; with one, V8 copies it into two temporary
   * arrays of 8 B per element (28 → 12 MB at a million rows). The keys are distinct (the entry
   * is in them), so the permutation is the one {@link comparedOrder} gives. Undefined when the
   * three do not fit in 64 bits.
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
    // key = (dataset × 2^lineBits + line) × 2^indexBits + entry, written as two 32-bit words.
    const keys = new BigUint64Array(n);
    const words = new Uint32Array(keys.buffer);
    const lowBits = 32 - indexBits; // bits of (dataset, line) that share the low word with the entry
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

  /** The canonical order by a comparator (entries whose keys do not fit {@link packedOrder}). */
  private comparedOrder(): Uint32Array {
    const order = new Uint32Array(this.size);
    // One number per entry (dataset × 2^32 + line: exact below 2^53) makes the comparator two
    // array reads instead of four; ties keep first appearance.
    const key = new Float64Array(this.size);
    for (let i = 0; i < order.length; i++) {
      order[i] = i;
      key[i] = this.dataset[i]! * 4294967296 + this.line[i]!;
    }
    return order.sort((a, b) => key[a]! - key[b]! || a - b);
  }
}

/** A power of two at least twice `rows`. */
function slotsFor(rows: number): number {
  let size = 128;
  while (size < rows * 2) size *= 2;
  return size;
}
