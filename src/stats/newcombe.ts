/**
 * Score-based confidence interval for the difference of two paired proportions: Newcombe's
 * "method 10" (R. G. Newcombe, Statistics in Medicine 17 (1998) 2635–2650). It combines the
 * Wilson intervals of the two marginal pass rates with the correlation of the 2×2 table, so it
 * keeps coverage near nominal at small n and near 0 or 1, where the paired percentile bootstrap
 * under-covers (87% at n = 50, accuracies 0.95 vs 0.97). Closed form: deterministic, no seed.
 */
import { wilsonInterval } from "./intervals.js";

/** The 2×2 table of a paired pass/fail comparison of A and B. */
export interface PairedTable {
  /** Rows both pass. */
  both: number;
  /** Rows A passes and B fails. */
  onlyA: number;
  /** Rows B passes and A fails. */
  onlyB: number;
  /** Rows both fail. */
  neither: number;
}

/** Counts the 2×2 table from two aligned 0/1 arrays. */
export function pairedTable(a: ArrayLike<number>, b: ArrayLike<number>): PairedTable {
  const t: PairedTable = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (let i = 0; i < a.length; i++) {
    const x = a[i] === 1;
    const y = b[i] === 1;
    if (x && y) t.both++;
    else if (x) t.onlyA++;
    else if (y) t.onlyB++;
    else t.neither++;
  }
  return t;
}

/**
 * Newcombe's method 10 interval for θ = p_A − p_B at `confidence` (default 0.95). With
 * a = both, b = onlyA, c = onlyB, d = neither and Wilson intervals (l, u) for each margin:
 * lower = θ − √((p_A − l_A)² − 2φ(p_A − l_A)(u_B − p_B) + (u_B − p_B)²),
 * upper = θ + √((u_A − p_A)² − 2φ(u_A − p_A)(p_B − l_B) + (p_B − l_B)²),
 * φ = (ad − bc)/√((a+b)(c+d)(a+c)(b+d)), 0 when a margin is empty, with Newcombe's correction
 * max(ad − bc − n/2, 0) in the numerator when ad > bc. The correction matters: uncorrected, exact
 * coverage falls to 92.8% at n = 30 (accuracies 0.5, 30% discordant rows); corrected it stays at
 * or above 94.6% in every case scripts/newcombe_reference.py enumerates. Returns null for n = 0.
 * Bounds are clamped to [−1, 1].
 */
export function newcombePairedInterval(t: PairedTable, confidence = 0.95): [number, number] | null {
  const { both: a, onlyA: b, onlyB: c, neither: d } = t;
  const n = a + b + c + d;
  if (!(n > 0)) return null;
  const pA = (a + b) / n;
  const pB = (a + c) / n;
  const wa = wilsonInterval(a + b, n, confidence);
  const wb = wilsonInterval(a + c, n, confidence);
  const lA = wa.low!;
  const uA = wa.high!;
  const lB = wb.low!;
  const uB = wb.high!;
  const denom = (a + b) * (c + d) * (a + c) * (b + d);
  let num = a * d - b * c;
  if (num > 0) num = Math.max(num - n / 2, 0);
  const phi = denom === 0 ? 0 : num / Math.sqrt(denom);
  const theta = pA - pB;
  const dl = Math.sqrt(Math.max(0, (pA - lA) ** 2 - 2 * phi * (pA - lA) * (uB - pB) + (uB - pB) ** 2));
  const du = Math.sqrt(Math.max(0, (uA - pA) ** 2 - 2 * phi * (uA - pA) * (pB - lB) + (pB - lB) ** 2));
  return [Math.max(-1, theta - dl), Math.min(1, theta + du)];
}
