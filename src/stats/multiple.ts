/**
 * Multiple-testing control. A report that compares several models on several scorers runs a
 * family of tests; without an adjustment, three identical models × three scorers give at least one
 * false "better" in about 30% of runs. Holm's step-down method keeps the family-wise error ≤ alpha
 * under any dependence between the tests (S. Holm, Scandinavian Journal of Statistics 6 (1979)
 * 65–70; statsmodels' `multipletests(method="holm")` computes the same values).
 */

/**
 * Holm-adjusted p-values, in the input's order: with p sorted ascending,
 * adjusted p(i) = max over j ≤ i of min(1, (m − j + 1) · p(j)). NaN inputs stay NaN and do not
 * count towards m. Rejecting adjusted p < alpha is Holm's procedure at level alpha.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const idx = pValues.map((p, i) => [p, i] as const).filter(([p]) => !Number.isNaN(p));
  idx.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const m = idx.length;
  const out = pValues.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
