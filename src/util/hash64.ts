/**
 * A fast, non-cryptographic 64-bit hash of a string (two 32-bit lanes, cyrb53's mixing kept at
 * full width), for the compact per-row structures that must scale to a million rows: the resume
 * key set and the dataset's duplicate-id index. Two distinct strings collide with probability
 * about 2^-64, so among n keys the chance of any collision is about n² / 2^65 (3e-8 at 1M).
 * Not for anything an adversary chooses to collide on.
 */

/** Hashes `s` into `out[0]` (low 32 bits) and `out[1]` (high 32 bits); allocates nothing. */
export function hash64Into(s: string, out: Uint32Array): void {
  hash64JoinedInto(s, "", "", out); // the empty parts add nothing: the same hash as the one loop over s
}

/**
 * `hash64Into(a + sep + b, out)` without building the joined string: a concatenation is a rope
 * that must be flattened (allocated and copied) before its characters can be read, which was
 * most of the cost of hashing a million row keys (`dataset/rowId`) in a report.
 */
export function hash64JoinedInto(a: string, sep: string, b: string, out: Uint32Array): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  // The same loop once per part rather than a loop over [a, sep, b]: no array per call.
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  for (let i = 0; i < sep.length; i++) {
    const c = sep.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  finish(h1, h2, out);
}

function finish(h1: number, h2: number, out: Uint32Array): void {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // One more round so every input bit reaches both lanes (cyrb53 keeps only 21 bits of h2).
  h1 = Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d);
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x297a2d39) ^ h1;
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}
