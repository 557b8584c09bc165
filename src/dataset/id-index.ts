/**
 * The duplicate-id check of one pass over a dataset, in 12 bytes per slot (16–32 B per row)
 * instead of a Map of id strings (~55–70 B per row): an open-addressing table of 64-bit id hashes
 * with the line each id was first used at.
 *
 * A hash match is only a *suspect*: two different ids can share a hash (about n² / 2^65 for n
 * rows). The caller confirms a suspect exactly (by reading the id at the first line back from the
 * file) and reports the answer with {@link IdIndex.resolve}; from then on that hash is checked
 * against the exact ids, so each distinct duplicated id costs one confirmation, not one per repeat.
 */
import { hash64Into } from "../util/hash64.js";

/** What {@link IdIndex.add} found. */
export type IdLookup =
  /** First use of this id: recorded. */
  | { kind: "new" }
  /** Known duplicate (exactly confirmed): first used at `firstLine`. */
  | { kind: "duplicate"; firstLine: number }
  /** Same hash as the id first used at `firstLine`: confirm, then call {@link IdIndex.resolve}. */
  | { kind: "suspect"; firstLine: number; hashKey: string };

const NEW: IdLookup = { kind: "new" };
const MAX_LOAD = 0.75;

/** A 64-bit hash into out[0] (low) and out[1] (high); see {@link hash64Into}. */
export type Hash64 = (s: string, out: Uint32Array) => void;

export class IdIndex {
  /** @param hash the id hash; replaceable so tests can force collisions. @default hash64Into */
  constructor(private readonly hash: Hash64 = hash64Into) {}

  private capacity = 1 << 12;
  /** Two words per slot: low, high half of the hash. */
  private hashes = new Uint32Array(this.capacity * 2);
  /** First line per slot; 0 = empty slot (lines are 1-based). */
  private lines = new Uint32Array(this.capacity);
  private count = 0;
  private readonly scratch = new Uint32Array(2);
  /** Hashes shared by several confirmed ids (or one id used repeatedly) → exact ids → first line. */
  private readonly exact = new Map<string, Map<string, number>>();

  /** Distinct hashes recorded. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table (for benches). */
  get byteLength(): number {
    return this.hashes.byteLength + this.lines.byteLength;
  }

  /**
   * Gives the tables' memory back now instead of at V8's next full collection, and empties the
   * index (adding to it afterwards throws). Why: the index is dropped once a dataset has been
   * read, and at a million rows its 24 MB (36 MB during its last doubling) were still held when
   * the run loop allocated its own structures, which set the run's peak RSS. Detaching the
   * buffers (`ArrayBuffer.prototype.transfer`, Node 22+) frees them at once; on older Nodes this
   * only drops the references.
   */
  release(): void {
    for (const table of [this.hashes, this.lines])
      (table.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
    this.hashes = new Uint32Array(0);
    this.lines = new Uint32Array(0);
    this.capacity = 0;
    this.count = 0;
    this.exact.clear();
  }

  /**
   * Records `id` first used at `line` (≥ 1), or says it may be / is a repeat.
   * @throws RangeError for a line outside 1..2^32-1
   * @throws Error once the index has been {@link release}d
   */
  add(id: string, line: number): IdLookup {
    if (!(line >= 1 && line <= 0xffffffff)) throw new RangeError(`line ${line} out of range`);
    if (this.capacity === 0) throw new Error("IdIndex used after release()");
    this.hash(id, this.scratch);
    const lo = this.scratch[0]!;
    const hi = this.scratch[1]!;
    const slot = this.find(lo, hi);
    const first = this.lines[slot]!;
    if (first === 0) {
      this.hashes[2 * slot] = lo;
      this.hashes[2 * slot + 1] = hi;
      this.lines[slot] = line;
      if (++this.count > this.capacity * MAX_LOAD) this.grow();
      return NEW;
    }
    const hashKey = `${hi}:${lo}`;
    const known = this.exact.get(hashKey);
    if (known === undefined) return { kind: "suspect", firstLine: first, hashKey };
    const seen = known.get(id);
    if (seen !== undefined) return { kind: "duplicate", firstLine: seen };
    // A new id on a hash whose ids are all known exactly: a collision, resolved without reading.
    known.set(id, line);
    return NEW;
  }

  /**
   * The outcome of confirming a suspect: `firstId` is the id actually used at the suspect's
   * `firstLine`. Returns whether `id` is a real duplicate (then it is not recorded again).
   */
  resolve(suspect: { firstLine: number; hashKey: string }, firstId: string, id: string, line: number): boolean {
    let known = this.exact.get(suspect.hashKey);
    if (known === undefined) {
      known = new Map([[firstId, suspect.firstLine]]);
      this.exact.set(suspect.hashKey, known);
    }
    if (known.has(id)) return true;
    known.set(id, line);
    return false;
  }

  /** The slot holding this hash, or the empty slot where it goes (linear probing). */
  private find(lo: number, hi: number): number {
    const mask = this.capacity - 1;
    // The low word is already well mixed; multiplying spreads ids that differ only in high bits.
    let slot = (Math.imul(lo ^ hi, 0x9e3779b1) >>> 0) & mask;
    for (;;) {
      if (this.lines[slot] === 0) return slot;
      if (this.hashes[2 * slot] === lo && this.hashes[2 * slot + 1] === hi) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldLines = this.lines;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.hashes = new Uint32Array(this.capacity * 2);
    this.lines = new Uint32Array(this.capacity);
    for (let s = 0; s < oldCapacity; s++) {
      const line = oldLines[s]!;
      if (line === 0) continue;
      const lo = oldHashes[2 * s]!;
      const hi = oldHashes[2 * s + 1]!;
      const slot = this.find(lo, hi);
      this.hashes[2 * slot] = lo;
      this.hashes[2 * slot + 1] = hi;
      this.lines[slot] = line;
    }
  }
}
