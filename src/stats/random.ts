/**
 * Seeded pseudo-randomness for resampling statistics. Bootstrap intervals and permutation p-values
 * appear in reports that must be reproducible byte for byte, so nothing here touches `Math.random`:
 * every stream comes from an explicit 32-bit seed, defaulting to {@link DEFAULT_SEED}.
 */

/** A stream of uniform numbers in [0, 1), each a multiple of 2^-32. */
export type Rng = () => number;

/** Seed used when the caller gives none, so two runs over the same data print the same intervals. */
export const DEFAULT_SEED = 0x5eed_ba4e;

/**
 * mulberry32: a 32-bit-state generator (Tommy Ettinger's), small and fast. Its period (2^32) and
 * quality are ample for a few million index draws per interval; it is not for cryptography.
 * The seed is reduced modulo 2^32 so any finite number (including negatives) is accepted.
 */
export function mulberry32(seed: number = DEFAULT_SEED): Rng {
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n) from `rng` (n ≤ 2^32; the bias of flooring is below n/2^32). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}
