/**
 * The decision a team acts on: per dataset, on its primary scorer, which model to ship, or why the
 * evidence does not say. Rules (issue 9, docs/report-json.md):
 *
 * - a model above the error ceiling or failing a `critical` row is never recommended, and the
 *   sentence says why;
 * - a model is "better" only when its paired test (Holm-adjusted across the family) and its
 *   interval agree;
 * - models are "equivalent" only when the 90% (TOST) interval of their difference lies within
 *   ±margin, and only then does cost pick the cheaper;
 * - anything else is "inconclusive", with the rows needed to detect a margin-sized difference
 *   (Connor's formula, the same one behind the minimum detectable difference).
 *
 * Pure: takes per-model facts and paired verdicts, returns the verdict and its sentence.
 */
import { confidenceLabel, formatAmount, formatP, type PairVerdict } from "../stats/paired.js";
// An integer (a ceil or 0): formatted without Intl, whose first use costs ~20–50 ms (integer.ts).
import { formatInteger } from "./integer.js";

/** One model's facts on one dataset. */
export interface DecisionModel {
  name: string;
  /** Mean of the primary scorer on this dataset (rows scored); null when nothing was scored. */
  quality: number | null;
  /** Records and failed calls on this dataset. */
  results: number;
  errors: number;
  /** Critical rows this model failed (scorer failed or call errored), as `dataset/rowId`. */
  criticalFailures: string[];
  /** List-price cost per passing answer on this dataset (cached calls included); null when unknown. */
  costPerPass: number | null;
}

/** Why a model was left out. */
export interface Disqualification {
  model: string;
  reason: string;
}

/** The verdict for one dataset. */
export interface DatasetDecision {
  dataset: string;
  scorer: string;
  kind: "binary" | "continuous" | "scale";
  /**
   * `better`: one model is significantly better than every other eligible one; `equivalent`: the
   * leading models are equivalent within the margin; `inconclusive`: neither; `single`: one
   * eligible model; `none`: no eligible model.
   */
  outcome: "better" | "equivalent" | "inconclusive" | "single" | "none";
  /** The model to ship; null unless the outcome names one. */
  recommended: string | null;
  disqualified: Disqualification[];
  /** Margin in score units (0.05 = 5 points). */
  margin: number;
  /** Rows needed to detect a margin-sized difference between the leading models (inconclusive only). */
  rowsNeeded: number | null;
  /** Paired verdicts among this dataset's models on the primary scorer (Holm-adjusted). */
  pairs: PairVerdict[];
  sentence: string;
}

/** Input of {@link decideDataset}. */
export interface DecisionInput {
  dataset: string;
  scorer: string;
  kind: DatasetDecision["kind"];
  /** In report order. */
  models: DecisionModel[];
  pairs: PairVerdict[];
  margin: number;
  maxErrorRate: number;
  costMatters: boolean;
}

/** Decides one dataset. See the module comment for the rules. */
export function decideDataset(input: DecisionInput): DatasetDecision {
  const label = `${input.dataset} · ${input.scorer}`;
  const base = {
    dataset: input.dataset,
    scorer: input.scorer,
    kind: input.kind,
    margin: input.margin,
    pairs: input.pairs,
    rowsNeeded: null,
  };
  const disqualified: Disqualification[] = [];
  const eligible: DecisionModel[] = [];
  for (const m of input.models) {
    const rate = m.results === 0 ? 0 : m.errors / m.results;
    if (rate > input.maxErrorRate) {
      disqualified.push({
        model: m.name,
        reason: `${m.name} failed ${pct(rate)} of calls (ceiling ${pct(input.maxErrorRate)})`,
      });
    } else if (m.criticalFailures.length > 0) {
      const rows = m.criticalFailures;
      disqualified.push({
        model: m.name,
        reason: `${m.name} failed critical row${rows.length > 1 ? "s" : ""} ${rows.slice(0, 2).join(", ")}${rows.length > 2 ? ` and ${rows.length - 2} more` : ""}`,
      });
    } else if (m.quality === null) {
      disqualified.push({ model: m.name, reason: `${m.name} has no ${input.scorer} score` });
    } else eligible.push(m);
  }
  const why = disqualified.length > 0 ? ` (not eligible: ${disqualified.map((d) => d.reason).join("; ")})` : "";
  if (eligible.length === 0) {
    return {
      ...base,
      outcome: "none",
      recommended: null,
      disqualified,
      sentence: `${label}: no model can be recommended: ${disqualified.map((d) => d.reason).join("; ")}`,
    };
  }
  if (eligible.length === 1) {
    const only = eligible[0]!.name;
    const sentence =
      input.models.length === 1
        ? `${label}: only ${only} was evaluated, so there is nothing to compare it with`
        : `${label}: ${only} is the only eligible model${why}`;
    return { ...base, outcome: "single", recommended: input.models.length === 1 ? null : only, disqualified, sentence };
  }

  const pair = (x: string, y: string) => orient(input.pairs, x, y);
  const points = input.kind === "binary" || input.pairs.every((p) => p.scale === "points");
  const amount = (d: number) => `${formatAmount(Math.abs(d), points ? "points" : "raw")}${points ? " points" : ""}`;
  const marginText = points
    ? `${Number((input.margin * 100).toFixed(2))} points`
    : `${Number(input.margin.toFixed(4))}`;
  const costOf = (m: DecisionModel) => (input.costMatters ? m.costPerPass : null);
  const costsKnown = eligible.every((m) => costOf(m) !== null && Number.isFinite(costOf(m)!));

  // The top group: eligible models no other eligible model is significantly better than.
  const top = eligible.filter(
    (m) =>
      !eligible.some((o) => o !== m && pair(o.name, m.name)?.significant === true && pair(o.name, m.name)!.diff > 0),
  );
  const byQuality = (xs: DecisionModel[]) =>
    [...xs].sort((a, b) => b.quality! - a.quality! || (costOf(a) ?? 0) - (costOf(b) ?? 0));

  if (top.length === 1) {
    const w = top[0]!;
    const rest = byQuality(eligible.filter((m) => m !== w));
    // The real alternative: the strongest model that is cheaper (the next point on the cost/quality
    // front), else the runner-up.
    const cheaper = costsKnown ? rest.filter((m) => costOf(m)! < costOf(w)!) : [];
    const alt = cheaper[0] ?? rest[0]!;
    const p = pair(w.name, alt.name)!;
    let tail: string;
    if (!costsKnown) tail = ` — ship ${w.name}${input.costMatters ? " (no cost data)" : ""}`;
    else if (cheaper.length === 0) tail = ` at ${ratio(costOf(w)!, costOf(alt)!)} the cost per pass — ship ${w.name}`;
    else
      tail = ` at ${ratio(costOf(w)!, costOf(alt)!)} the cost per pass — ship ${w.name} if the gain is worth the cost`;
    return {
      ...base,
      outcome: "better",
      recommended: w.name,
      disqualified,
      sentence: `${label}: ${w.name} is better than ${alt.name} by ${amount(p.diff)} (${ci(p, points)}, ${pText(p)})${tail}${why}`,
    };
  }

  const ranked = byQuality(top);
  const allEquivalent = ranked.every((a, i) =>
    ranked.every((b, j) => j <= i || pair(a.name, b.name)?.equivalent === true),
  );
  if (allEquivalent) {
    const names = ranked.map((m) => m.name);
    const lead = pair(ranked[0]!.name, ranked[ranked.length - 1]!.name)!;
    const group = `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are equivalent within ${marginText} (${confidenceLabel(2 * lead.alpha)} CI ${interval(lead.eq, points)})`;
    if (costsKnown) {
      const cheapest = [...ranked].sort((a, b) => costOf(a)! - costOf(b)!)[0]!;
      const dearest = [...ranked].sort((a, b) => costOf(b)! - costOf(a)!)[0]!;
      return {
        ...base,
        outcome: "equivalent",
        recommended: cheapest.name,
        disqualified,
        sentence: `${label}: ${group} — ship the cheaper, ${cheapest.name} (${share(costOf(cheapest)!, costOf(dearest)!)} of the cost per pass)${why}`,
      };
    }
    return {
      ...base,
      outcome: "equivalent",
      recommended: null,
      disqualified,
      sentence: `${label}: ${group}; choose on other grounds${why}`,
    };
  }

  // Inconclusive: the two leading models, the rows a margin-sized difference needs.
  const [a, b] = [ranked[0]!, ranked[1]!];
  const p = pair(a.name, b.name)!;
  const needed = Math.max(
    0,
    ...ranked.flatMap((x, i) => ranked.slice(i + 1).map((y) => pair(x.name, y.name)?.rowsNeeded ?? 0)),
  );
  const what =
    p.diff === 0
      ? `${a.name} and ${b.name} tie (${ci(p, points)}, n = ${p.n})`
      : `${a.name} leads ${b.name} by ${amount(p.diff)} (${ci(p, points)}, ${pText(p)}, n = ${p.n})`;
  const rows =
    needed > p.n
      ? `about ${formatInteger(needed)} rows are needed to detect a ${points ? marginText.replace(" points", "-point") : marginText} difference`
      : `neither a difference nor equivalence within ${marginText} is shown`;
  return {
    ...base,
    outcome: "inconclusive",
    recommended: null,
    disqualified,
    rowsNeeded: needed > 0 ? needed : null,
    sentence: `${label}: inconclusive: ${what}; ${rows}${why}`,
  };
}

/** The whole run's headline: each dataset's sentence, joined. */
export function headline(decisions: readonly DatasetDecision[]): string {
  if (decisions.length === 0) return "Nothing was scored, so there is nothing to recommend.";
  return `${decisions.map((d) => d.sentence).join(". ")}.`;
}

interface Oriented {
  alpha: number;
  diff: number;
  interval: [number, number];
  eq: [number, number];
  pValue: number;
  pAdjusted: number;
  family: number;
  significant: boolean;
  equivalent: boolean | null;
  rowsNeeded: number | null;
  n: number;
}

function orient(pairs: readonly PairVerdict[], first: string, second: string): Oriented | undefined {
  for (const v of pairs) {
    if (v.diff === null || v.interval === null || v.equivalenceInterval === null) continue;
    const flip = v.names[0] === second && v.names[1] === first;
    if (!flip && !(v.names[0] === first && v.names[1] === second)) continue;
    const s = flip ? -1 : 1;
    const iv = (x: [number, number]): [number, number] => (flip ? [-x[1], -x[0]] : [x[0], x[1]]);
    return {
      alpha: v.alpha,
      diff: s * v.diff,
      interval: iv(v.interval),
      eq: iv(v.equivalenceInterval),
      pValue: v.pValue,
      pAdjusted: v.pAdjusted,
      family: v.family,
      significant: v.significant,
      equivalent: v.equivalent,
      rowsNeeded: v.rowsNeeded,
      n: v.n,
    };
  }
  return undefined;
}

function interval(x: [number, number], points: boolean): string {
  const s = points ? "points" : "raw";
  return `${formatAmount(x[0], s)} to ${formatAmount(x[1], s)}`;
}

function ci(p: Oriented, points: boolean): string {
  return `${confidenceLabel(p.alpha)} CI ${interval(p.interval, points)}`;
}

function pText(p: Oriented): string {
  return p.family > 1 ? `Holm-adjusted ${formatP(p.pAdjusted)}` : formatP(p.pValue);
}

function pct(x: number): string {
  return `${Number((x * 100).toFixed(1))}%`;
}

function ratio(cost: number, reference: number): string {
  return reference > 0 ? `${(cost / reference).toFixed(1)}×` : "more than";
}

function share(cost: number, reference: number): string {
  const p = (cost / reference) * 100;
  return p > 0 && p < 1 ? "<1%" : `${Math.round(p)}%`;
}
