/**
 * Repeated trials per row: the unbiased pass@k (Chen et al. 2021, "Evaluating Large Language
 * Models Trained on Code") and pass^k (Yao et al. 2024, τ-bench) estimators. A failed call is a
 * failed trial, not a missing one: dropping it would report "every trial passed" over fewer
 * trials and rank a model that errors above one that answers.
 */

/** C(n, k) / C(m, k) as a product, stable for any n, m ≥ k (no factorial overflow). */
function binomRatio(n: number, m: number, k: number): number {
  if (k > n) return 0;
  let r = 1;
  for (let i = 0; i < k; i++) r *= (n - i) / (m - i);
  return r;
}

/**
 * pass@k for one row with `n` trials of which `c` passed: 1 − C(n − c, k) / C(n, k), the chance
 * that at least one of k trials drawn without replacement passes. Null when n < k.
 */
export function passAtK(n: number, c: number, k: number): number | null {
  if (!(k >= 1) || n < k || c < 0 || c > n) return null;
  return 1 - binomRatio(n - c, n, k);
}

/** pass^k for one row: C(c, k) / C(n, k), the chance that k trials drawn all pass. Null when n < k. */
export function passHatK(n: number, c: number, k: number): number | null {
  if (!(k >= 1) || n < k || c < 0 || c > n) return null;
  return binomRatio(c, n, k);
}
