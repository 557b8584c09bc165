/**
 * The keys a resumed run must skip, in 8 bytes per key instead of a Set of strings (~60 B/key):
 * 64-bit hashes of the keys, sorted once, looked up by binary search. Built by
 * {@link KeySetBuilder} from a journal read in file order.
 *
 * A hash collision would make a never-sent key look done (that row × model × trial is skipped
 * and reported missing): the chance is about n² / 2^65 for n recorded keys, 3e-8 at a million.
 */
import { endianness } from "node:os";
import { hash64Into } from "../util/hash64.js";

/** Index of the low / high 32-bit half of a 64-bit element in a Uint32Array view of its buffer. */
const LO = endianness() === "LE" ? 0 : 1;
const HI = 1 - LO;

/** Read-only set of keys (only membership and size: the keys themselves are not kept). */
export class KeySet {
  private readonly scratch = new Uint32Array(2);

  /** @param words sorted 64-bit hashes as a Uint32Array view (two words per key), deduplicated */
  constructor(
    private readonly words: Uint32Array,
    /** Number of distinct keys. */
    readonly size: number,
  ) {}

  /** An empty set (a run that is not resuming). */
  static empty(): KeySet {
    return new KeySet(new Uint32Array(0), 0);
  }

  has(key: string): boolean {
    if (this.size === 0) return false;
    hash64Into(key, this.scratch);
    const lo = this.scratch[0]!;
    const hi = this.scratch[1]!;
    const w = this.words;
    let a = 0;
    let b = this.size - 1;
    while (a <= b) {
      const mid = (a + b) >>> 1;
      const mhi = w[2 * mid + HI]!;
      const mlo = w[2 * mid + LO]!;
      if (mhi === hi && mlo === lo) return true;
      if (mhi < hi || (mhi === hi && mlo < lo)) a = mid + 1;
      else b = mid - 1;
    }
    return false;
  }

  /** Bytes held (for benches). */
  get byteLength(): number {
    return this.words.byteLength;
  }
}

/** A growable array of 64-bit hashes (and optionally a 32-bit tag per hash). */
class HashList {
  buf = new BigUint64Array(1024);
  words = new Uint32Array(this.buf.buffer);
  tags: Uint32Array | undefined;
  length = 0;

  constructor(tagged: boolean) {
    if (tagged) this.tags = new Uint32Array(1024);
  }

  push(lo: number, hi: number, tag = 0): void {
    if (this.length === this.buf.length) {
      const next = new BigUint64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
      this.words = new Uint32Array(next.buffer);
      if (this.tags) {
        const t = new Uint32Array(next.length);
        t.set(this.tags);
        this.tags = t;
      }
    }
    this.words[2 * this.length + LO] = lo;
    this.words[2 * this.length + HI] = hi;
    if (this.tags) this.tags[this.length] = tag;
    this.length++;
  }
}

/**
 * Collects keys in journal order and builds the {@link KeySet}. With `retryErrors`, a key counts
 * as done only if its last record succeeded (a failed call is sent again; a success after a failure
 * makes it done again), exactly as replaying the journal into a Set with add/delete would.
 */
export class KeySetBuilder {
  private readonly scratch = new Uint32Array(2);
  private readonly ok: HashList;
  /** Failed records (retryErrors only), tagged with their sequence number. */
  private readonly failed: HashList | undefined;
  private seq = 0;

  constructor(private readonly retryErrors = false) {
    this.ok = new HashList(retryErrors);
    this.failed = retryErrors ? new HashList(true) : undefined;
  }

  /** Adds one journal record's key; `failed`: its call ended in an error. */
  add(key: string, failed = false): void {
    hash64Into(key, this.scratch);
    const seq = ++this.seq;
    if (failed && this.failed) this.failed.push(this.scratch[0]!, this.scratch[1]!, seq);
    else this.ok.push(this.scratch[0]!, this.scratch[1]!, seq);
  }

  build(): KeySet {
    const ok = this.ok;
    let hashes: BigUint64Array = ok.buf.subarray(0, ok.length);
    if (this.failed && this.failed.length > 0) hashes = withoutRetried(ok, this.failed);
    // Native numeric sort of the 64-bit values, then drop repeats in place.
    hashes.sort();
    let n = 0;
    for (let i = 0; i < hashes.length; i++) if (i === 0 || hashes[i] !== hashes[n - 1]) hashes[n++] = hashes[i]!;
    // Copy into a right-sized buffer so the growth slack is released.
    const out = new BigUint64Array(n);
    out.set(hashes.subarray(0, n));
    return new KeySet(new Uint32Array(out.buffer), n);
  }
}

/**
 * The ok hashes whose key was not failed later: for each failed key, its last failure's sequence
 * number; an ok record earlier than that is dropped. Memory: the failed records only.
 */
function withoutRetried(ok: HashList, failed: HashList): BigUint64Array {
  // Last failure per hash: sort failure indices by (hash, seq).
  const fHash = failed.buf.subarray(0, failed.length);
  const order = Array.from({ length: failed.length }, (_, i) => i).sort((a, b) =>
    fHash[a]! < fHash[b]! ? -1 : fHash[a]! > fHash[b]! ? 1 : failed.tags![a]! - failed.tags![b]!,
  );
  const lastHash: bigint[] = [];
  const lastSeq: number[] = [];
  for (const i of order) {
    if (lastHash.length > 0 && lastHash[lastHash.length - 1] === fHash[i])
      lastSeq[lastSeq.length - 1] = failed.tags![i]!;
    else {
      lastHash.push(fHash[i]!);
      lastSeq.push(failed.tags![i]!);
    }
  }
  const lastFailure = (h: bigint): number => {
    let a = 0;
    let b = lastHash.length - 1;
    while (a <= b) {
      const mid = (a + b) >>> 1;
      const m = lastHash[mid]!;
      if (m === h) return lastSeq[mid]!;
      if (m < h) a = mid + 1;
      else b = mid - 1;
    }
    return 0;
  };
  const kept = new BigUint64Array(ok.length);
  let n = 0;
  for (let i = 0; i < ok.length; i++) {
    const h = ok.buf[i]!;
    if (ok.tags![i]! > lastFailure(h)) kept[n++] = h;
  }
  return kept.subarray(0, n);
}
