/**
 * Cost/quality trade-offs: the Pareto front of models, and the one-sentence recommendation that
 * heads the comparison report. The sentence never calls a model "better" unless its paired
 * comparison was significant; otherwise it says "within X points (not significant)".
 */
import { formatAmount, formatP, type PairVerdict } from "./paired.js";

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

/** A model's summary as {@link recommend} needs it. */
export interface ModelSummary {
  name: string;
  /** Mean score (a pass rate in [0, 1] for binary scorers). */
  quality: number;
  qualityLow: number | null;
  qualityHigh: number | null;
  /** Total cost of the run over the compared rows; null when unknown. */
  cost: number | null;
  /** Cost per passing answer; used instead of `cost` when every model has it. */
  costPerPass?: number | null;
}

/** Input of {@link recommend}. */
export interface RecommendInput {
  models: readonly ModelSummary[];
  /** Paired verdicts from comparePair, in either orientation; found by their `names`. */
  pairs: readonly PairVerdict[];
}

/** A paired verdict seen from `first`'s side: diff = first − second. */
interface Oriented {
  diff: number;
  pValue: number;
  significant: boolean;
  scale: "points" | "raw";
}

/**
 * One plain sentence saying which model to ship and why. With cost data, the cheapest model that
 * is not significantly worse than the top-quality model is recommended ("small is within 1.2
 * points of large (not significant, p = 0.410) at 21% of the cost — ship small"); if every cheaper
 * model is significantly worse, the trade-off is stated for the strongest cheaper one ("large is
 * better than small by 9.4 points (significant, p = 0.003) at 4.8× the cost — ship large if that
 * gain is worth the cost"). Without cost data the top two are compared on quality alone. Missing
 * paired verdicts are reported as such instead of being guessed from unpaired means.
 */
export function recommend(input: RecommendInput): string {
  const models = input.models.filter((m) => Number.isFinite(m.quality));
  if (models.length === 0) return "no model has a quality score yet, so there is nothing to recommend";
  const basis = costBasis(models);
  const ranked = [...models].sort(
    (x, y) =>
      y.quality - x.quality ||
      (basis ? basis.cost(x) - basis.cost(y) : 0) ||
      (x.name < y.name ? -1 : x.name > y.name ? 1 : 0),
  );
  const best = ranked[0]!;
  const scale = models.every((m) => m.quality >= 0 && m.quality <= 1) ? "points" : "raw";
  if (ranked.length === 1) {
    return `only ${best.name} was scored (quality ${formatQuality(best.quality, scale)}), so there is nothing to compare it with`;
  }
  const pair = (x: string, y: string): Oriented | undefined => orient(input.pairs, x, y);

  if (!basis) {
    const runner = ranked[1]!;
    const p = pair(best.name, runner.name);
    if (!p) return noPair(best, runner, scale) + "; no cost data either";
    if (p.significant) {
      const [w, l] = p.diff > 0 ? [best, runner] : [runner, best];
      return `${w.name} is better than ${l.name} by ${amount(p)} (significant, ${formatP(p.pValue)}); no cost data, so ship ${w.name} on quality`;
    }
    return `${best.name} and ${runner.name} are within ${amount(p)} of each other (not significant, ${formatP(p.pValue)}); no cost data to break the tie`;
  }

  const bestCost = basis.cost(best);
  const cheaper = ranked.filter((m) => basis.cost(m) < bestCost).sort((x, y) => basis.cost(x) - basis.cost(y));
  if (cheaper.length === 0) {
    return `${best.name} has the highest quality (${formatQuality(best.quality, scale)}) and the lowest ${basis.label} — ship ${best.name}`;
  }
  for (const c of cheaper) {
    const p = pair(best.name, c.name);
    if (!p) continue;
    const share = costShare(basis.cost(c), bestCost);
    if (p.significant && p.diff < 0) {
      return `${c.name} is better than ${best.name} by ${amount(p)} (significant, ${formatP(p.pValue)}) at ${share} of the ${basis.label} — ship ${c.name}`;
    }
    if (!p.significant) {
      return `${c.name} is within ${amount(p)} of ${best.name} (not significant, ${formatP(p.pValue)}) at ${share} of the ${basis.label} — ship ${c.name}`;
    }
  }
  // Every cheaper model with a verdict is significantly worse: state the trade-off against the
  // strongest cheaper one (the real alternative), or admit the comparison is missing.
  const alt = [...cheaper].sort((x, y) => y.quality - x.quality)[0]!;
  const p = pair(best.name, alt.name);
  if (!p) return `${noPair(best, alt, scale)}; ${alt.name} costs ${costShare(basis.cost(alt), bestCost)} as much`;
  return (
    `${best.name} is better than ${alt.name} by ${amount(p)} (significant, ${formatP(p.pValue)}) ` +
    `at ${costRatio(bestCost, basis.cost(alt), basis.label)} — ship ${best.name} if that gain is worth the ${basis.label}`
  );
}

/** The cost measure to compare, or null when some model's cost is unknown. */
function costBasis(models: readonly ModelSummary[]): { label: string; cost: (m: ModelSummary) => number } | null {
  const valid = (c: number | null | undefined): c is number => typeof c === "number" && Number.isFinite(c) && c >= 0;
  // Cost per pass folds failed (wasted) answers into the price, so it is preferred when complete.
  if (models.every((m) => valid(m.costPerPass))) return { label: "cost per pass", cost: (m) => m.costPerPass as number };
  if (models.every((m) => valid(m.cost))) return { label: "cost", cost: (m) => m.cost as number };
  return null;
}

function orient(pairs: readonly PairVerdict[], first: string, second: string): Oriented | undefined {
  for (const v of pairs) {
    if (v.diff === null) continue;
    const [a, b] = v.names;
    if (a === first && b === second) return { diff: v.diff, pValue: v.pValue, significant: v.significant, scale: v.scale };
    if (a === second && b === first) return { diff: -v.diff, pValue: v.pValue, significant: v.significant, scale: v.scale };
  }
  return undefined;
}

function amount(p: Oriented): string {
  return `${formatAmount(Math.abs(p.diff), p.scale)}${p.scale === "points" ? " points" : ""}`;
}

function formatQuality(q: number, scale: "points" | "raw"): string {
  return scale === "points" ? `${(q * 100).toFixed(1)}%` : q.toFixed(2);
}

function noPair(best: ModelSummary, other: ModelSummary, scale: "points" | "raw"): string {
  return (
    `${best.name} scores highest (${formatQuality(best.quality, scale)} vs ${formatQuality(other.quality, scale)} for ${other.name}) ` +
    `but the two were not compared on shared rows, so no difference is claimed`
  );
}

/** "21%" of the reference cost; "<1%" rather than a misleading "0%". */
function costShare(cost: number, reference: number): string {
  const pct = (cost / reference) * 100;
  return pct > 0 && pct < 1 ? "<1%" : `${Math.round(pct)}%`;
}

/** "4.8× the cost"; a free alternative has no finite ratio. */
function costRatio(cost: number, reference: number, label: string): string {
  return reference > 0 ? `${(cost / reference).toFixed(1)}× the ${label}` : `a higher ${label} (the alternative costs nothing)`;
}
