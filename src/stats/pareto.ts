/**
 * Cost/quality trade-offs: the Pareto front of models. The recommendation built on it lives in
 * src/report/decision.ts, where every model on the front is weighed with the paired verdicts.
 */

/** One model as a point in cost/quality space. */
export interface CostQualityPoint {
  name: string;
  cost: number;
  quality: number;
}

/**
 * Names of the models not dominated by another: Q dominates P when Q costs no more, scores no
 * lower, and is strictly better on at least one of the two. Models tied on both cost and quality
 * do not dominate each other, so all of them stay on the front. Points with a non-finite cost or
 * quality (unknown) are left out, because they cannot be placed.
 */
export function paretoFront(points: readonly CostQualityPoint[]): Set<string> {
  const known = points.filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.quality));
  const front = new Set<string>();
  for (const p of known) {
    const dominated = known.some(
      (q) => q.cost <= p.cost && q.quality >= p.quality && (q.cost < p.cost || q.quality > p.quality),
    );
    if (!dominated) front.add(p.name);
  }
  return front;
}
