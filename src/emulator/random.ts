/**
 * Deterministic pseudo-randomness for the emulator. Every "random" choice a simulated model makes
 * (right or wrong, which mistake, how slow) is drawn from a stream seeded by a hash of the request,
 * so the same request always gets the same answer and tests can never be flaky. `Math.random` is
 * deliberately not used anywhere in the emulator.
 */
import { createHash } from "node:crypto";

/** A stream of uniform numbers in [0, 1). */
export type Uniform = () => number;

/**
 * A uniform stream seeded from `parts`. The parts are joined with a separator that cannot occur in
 * ordinary text, so ("ab", "c") and ("a", "bc") seed different streams.
 */
export function uniformStream(...parts: ReadonlyArray<string | number | undefined>): Uniform {
  const key = parts.map((p) => (p === undefined ? "\u0000undefined" : String(p))).join("\u0001");
  // sha256 rather than a tiny string hash: near-identical prompts (one digit apart) must still get
  // unrelated streams, or measured accuracy over a dataset would be biased.
  const digest = createHash("sha256").update(key, "utf8").digest();
  return sfc32(digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12));
}

/** sfc32: a small, fast generator with a 128-bit state that passes PractRand; plenty here. */
function sfc32(a: number, b: number, c: number, d: number): Uniform {
  let s0 = a >>> 0;
  let s1 = b >>> 0;
  let s2 = c >>> 0;
  let counter = d >>> 0;
  const next = (): number => {
    const t = (((s0 + s1) >>> 0) + counter) >>> 0;
    counter = (counter + 1) >>> 0;
    s0 = s1 ^ (s1 >>> 9);
    s1 = (s2 + (s2 << 3)) >>> 0;
    s2 = ((s2 << 21) | (s2 >>> 11)) >>> 0;
    s2 = (s2 + t) >>> 0;
    return t / 4294967296;
  };
  // The first outputs of sfc32 are poorly mixed; discarding a few is the usual remedy.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Picks one element of a non-empty array. */
export function pick<T>(rand: Uniform, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pick() from an empty array");
  return items[Math.floor(rand() * items.length)] as T;
}

/** A standard normal draw (Box–Muller). */
export function standardNormal(rand: Uniform): number {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const u1 = 1 - rand();
  const u2 = rand();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** z-score of the 95th percentile of a standard normal distribution. */
const Z95 = 1.6448536269514722;

/**
 * A log-normal draw with the given median and 95th percentile, in the same unit. A p95 at or below
 * the median means "no spread": the median is returned.
 */
export function logNormal(rand: Uniform, median: number, p95: number): number {
  if (median <= 0) return 0;
  const sigma = p95 > median ? Math.log(p95 / median) / Z95 : 0;
  return median * Math.exp(sigma * standardNormal(rand));
}
