/**
 * The row index of a comparison: rows by key (`<dataset>/<rowId>`) → a dense index, shared by
 * the two runs so a row has the same index in both and its key is held once.
 *
 * A million-row comparison must stay within 300 MB, so the keys are not kept as strings in a
 * `Map` (~100 B per row: the string, the map entry and an array slot) but as their UTF-16 code
 * units packed end to end in one typed array (1 byte per character while every character is
 * Latin-1, 2 bytes after the first that is not), with an offset per row and an open-addressing
 * hash table over the indices: ~1 B per character + ~20 B per row (offset, hash, table slots at ≤ 50% load).
 *
 * The hash only narrows the search: a key is found only when its stored characters are equal,
 * so two keys whose hashes collide stay two rows.
 */
import { hash64Into } from "../util/hash64.js";

/** A 64-bit hash into out[0] (low) and out[1] (high), as {@link hash64Into}. */
export type RowKeyHash = (s: string, out: Uint32Array) => void;

const MAX_LOAD = 0.5;
/** Keys longer than this are decoded in slices (String.fromCharCode's argument list is finite). */
const DECODE_SLICE = 8192;

export class RowKeys {
  /** Characters of every key, end to end: Latin-1 bytes until a wider character widens it. */
  private chars: Uint8Array | Uint16Array = new Uint8Array(1 << 16);
  private used = 0;
  /** Start of key i in `chars`; key i ends where key i + 1 starts (`starts[size]` = `used`). */
  private starts = new Uint32Array(1 << 12);
  /**
   * Each key's 64-bit hash, two words per key: the low word is compared on a probe (most
   * non-matching probes end there, without reading characters), the high word places the key in
   * the table (kept so the table grows without re-hashing the keys).
   */
  private hashes = new Uint32Array(1 << 13);
  /** Hash table: index + 1 of the key in each slot, 0 = empty. */
  private table = new Uint32Array(1 << 13);
  private count = 0;
  private readonly scratch = new Uint32Array(2);

  /** @param hash the key hash; replaceable so tests can force collisions. @default hash64Into */
  constructor(private readonly hash: RowKeyHash = hash64Into) {}

  get size(): number {
    return this.count;
  }

  /** Bytes held (for benches). */
  get byteLength(): number {
    return this.chars.byteLength + this.starts.byteLength + this.hashes.byteLength + this.table.byteLength;
  }

  /** The row's index, adding it when new. */
  indexOf(key: string): number {
    this.hash(key, this.scratch);
    const lo = this.scratch[0]!;
    const hi = this.scratch[1]!;
    const mask = this.table.length - 1;
    // The high word picks the slot, the low word is compared: a probe tests bits the slot did not.
    let slot = home(hi, mask);
    for (;;) {
      const at = this.table[slot]!;
      if (at === 0) break;
      if (this.hashes[2 * (at - 1)] === lo && this.equals(at - 1, key)) return at - 1;
      slot = (slot + 1) & mask;
    }
    const i = this.append(key, lo, hi);
    this.table[slot] = i + 1;
    if (this.count > this.table.length * MAX_LOAD) this.rehash();
    return i;
  }

  /** The key of index `i`. */
  keyAt(i: number): string {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`row index ${i} out of range`);
    const a = this.starts[i]!;
    const b = i + 1 < this.count ? this.starts[i + 1]! : this.used;
    let s = "";
    for (let p = a; p < b; p += DECODE_SLICE)
      s += String.fromCharCode.apply(
        null,
        this.chars.subarray(p, Math.min(b, p + DECODE_SLICE)) as unknown as number[],
      );
    return s;
  }

  /** Every index, ordered by key (UTF-16 code units, as `Array.prototype.sort` orders strings). */
  sortedByKey(): Uint32Array {
    const { chars, starts, count, used } = this;
    const end = (i: number) => (i + 1 < count ? starts[i + 1]! : used);
    return Uint32Array.from({ length: count }, (_, i) => i).sort((x, y) => {
      // Stored characters are the UTF-16 code units themselves, so comparing them unit by unit
      // (shorter first on a common prefix) is exactly JavaScript's string order.
      let a = starts[x]!;
      let b = starts[y]!;
      const ea = end(x);
      const eb = end(y);
      for (; a < ea && b < eb; a++, b++) {
        const d = chars[a]! - chars[b]!;
        if (d !== 0) return d;
      }
      return ea - a - (eb - b);
    });
  }

  /** Whether key `i`'s stored characters are exactly `key`. */
  private equals(i: number, key: string): boolean {
    const a = this.starts[i]!;
    const b = i + 1 < this.count ? this.starts[i + 1]! : this.used;
    if (b - a !== key.length) return false;
    const chars = this.chars;
    for (let k = 0; k < key.length; k++) if (chars[a + k] !== key.charCodeAt(k)) return false;
    return true;
  }

  private append(key: string, lo: number, hi: number): number {
    const i = this.count;
    if (i === this.starts.length) {
      this.starts = grown(this.starts, i * 2);
      this.hashes = grown(this.hashes, i * 4);
    }
    if (this.used + key.length > this.chars.length) {
      let n = this.chars.length * 2;
      while (n < this.used + key.length) n *= 2;
      this.chars = this.chars instanceof Uint8Array ? grown(this.chars, n) : grown(this.chars, n);
    }
    if (this.used + key.length > 0xffffffff) throw new RangeError("row keys exceed 4 GiB of characters");
    let chars = this.chars;
    const p = this.used;
    for (let k = 0; k < key.length; k++) {
      const c = key.charCodeAt(k);
      if (c > 0xff && chars instanceof Uint8Array) {
        // The first non-Latin-1 character: from now on two bytes per character.
        const wide = new Uint16Array(chars.length);
        wide.set(chars.subarray(0, p + k));
        this.chars = chars = wide;
      }
      chars[p + k] = c;
    }
    this.starts[i] = p;
    this.hashes[2 * i] = lo;
    this.hashes[2 * i + 1] = hi;
    this.used = p + key.length;
    this.count = i + 1;
    return i;
  }

  /** Doubles the table and re-inserts every index. */
  private rehash(): void {
    const table = new Uint32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let i = 0; i < this.count; i++) {
      let slot = home(this.hashes[2 * i + 1]!, mask);
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = i + 1;
    }
    this.table = table;
  }
}

/** The first slot to probe for a key whose hash's high word is `hi`. */
function home(hi: number, mask: number): number {
  // Multiplying spreads keys that differ only in high bits over the low bits the mask keeps.
  return (Math.imul(hi, 0x9e3779b1) >>> 0) & mask;
}

function grown<T extends Uint8Array | Uint16Array | Uint32Array>(old: T, n: number): T {
  const next = new (old.constructor as new (n: number) => T)(n);
  next.set(old);
  return next;
}
