/**
 * Quality charts: each scorer's mean with its 95% interval per model, and cost vs quality with
 * the Pareto front. Every value drawn comes from the {@link RunAnalysis}, never recomputed.
 */
import type { RunAnalysis, ScorerAnalysis } from "../analysis.js";
import { escapeHtml } from "./escape.js";
import { DASH, money, score } from "./format.js";
import { linear, modelColor, niceTicks, round, short, svgFrame, text } from "./svg.js";

/** Chart widths match their box in the report's two-column grid, so text is drawn at 1:1. */
const WIDTH = 560;
const LABEL_W = 96;
const VALUE_W = 134;
const ROW_H = 24;

/** The axis domain of one scorer: [0, 1] for scores in it (the usual case), else the data's range. */
function scoreDomain(values: number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(1, ...values);
  return [lo, hi];
}

/** "71.4% (56.4–82.8)": the mean and its interval, short enough to sit beside a bar. */
function intervalLabel(st: ScorerAnalysis): string {
  if (st.mean === null) return DASH;
  if (st.low === null || st.high === null) return score(st.mean, st.kind);
  const bound = (v: number) => score(v, st.kind).replace("%", "");
  // "–" between negative numbers reads as a minus sign, so say "to" there.
  const sep = st.low < 0 ? " to " : "–";
  return `${score(st.mean, st.kind)} (${bound(st.low)}${sep}${bound(st.high)})`;
}

/**
 * Horizontal bars with whiskers: one group per scorer, one bar per model (the mean), the whisker
 * spanning the 95% interval. Bars carry class "bar" and whiskers "whisker".
 */
export function scoreChart(a: RunAnalysis): string {
  const groups = a.scorers
    .map((s) => ({
      scorer: s,
      models: a.models.map((m, i) => ({ m, i, s: m.scorers[s.name] })).filter((x) => x.s !== undefined),
    }))
    .filter((g) => g.models.length > 0);
  if (groups.length === 0) return `<p class="muted">Nothing was scored, so there is no score chart.</p>`;
  const x0 = LABEL_W;
  const x1 = WIDTH - VALUE_W;
  let y = 8;
  let body = "";
  for (const g of groups) {
    const values = g.models.flatMap(({ s }) =>
      [s!.mean, s!.low, s!.high].filter((v): v is number => v !== null && Number.isFinite(v)),
    );
    const domain = scoreDomain(values);
    const x = linear(domain, [x0, x1]);
    body += text(0, y + 14, g.scorer.name, 'class="group-label"');
    y += 22;
    const top = y;
    for (const { m, i, s } of g.models) {
      const st = s!;
      const cy = y + ROW_H / 2;
      body += text(x0 - 8, cy + 4, short(m.name), 'text-anchor="end"');
      const label = intervalLabel(st);
      const tip = `${m.name} · ${g.scorer.name}: ${label}, 95% interval (${st.method}), n=${st.n} rows`;
      if (st.mean !== null) {
        const base = x(Math.max(domain[0], 0));
        const end = x(st.mean);
        body += `<rect class="bar" x="${round(Math.min(base, end))}" y="${round(y + 4)}" width="${round(Math.max(1, Math.abs(end - base)))}" height="${ROW_H - 8}" rx="2" fill="${modelColor(i)}" fill-opacity="0.8"><title>${escapeHtml(tip)}</title></rect>`;
      }
      if (st.low !== null && st.high !== null) {
        const lo = x(st.low);
        const hi = x(st.high);
        body +=
          `<g class="whisker" stroke="#1f2328" stroke-width="1.5"><line x1="${round(lo)}" x2="${round(hi)}" y1="${round(cy)}" y2="${round(cy)}"/>` +
          `<line x1="${round(lo)}" x2="${round(lo)}" y1="${round(cy - 6)}" y2="${round(cy + 6)}"/>` +
          `<line x1="${round(hi)}" x2="${round(hi)}" y1="${round(cy - 6)}" y2="${round(cy + 6)}"/></g>`;
      }
      body += text(x1 + 8, cy + 4, label, 'class="value"');
      y += ROW_H;
    }
    // Axis under the group, with light gridlines through it.
    for (const t of niceTicks(domain[0], domain[1], 4)) {
      const tx = x(t);
      body += `<line class="grid" x1="${round(tx)}" x2="${round(tx)}" y1="${round(top)}" y2="${round(y)}"/>`;
      body += text(
        tx,
        y + 13,
        g.scorer.kind === "binary" ? `${Math.round(t * 100)}%` : String(t),
        'class="tick" text-anchor="middle"',
      );
    }
    y += 28;
  }
  return svgFrame(
    {
      id: "chart-scores",
      width: WIDTH,
      height: y,
      title: "Score per model with 95% intervals",
      description: groups
        .map(
          (g) => `${g.scorer.name}: ${g.models.map(({ m, s }) => `${m.name} ${score(s!.mean, s!.kind)}`).join(", ")}`,
        )
        .join("; "),
    },
    body,
  );
}

/**
 * Cost (x) against quality (y) on the primary scorer. Each model is a point with its quality
 * interval as a vertical whisker; models on the Pareto front are ringed and joined by a dashed
 * line. Points carry class "point", front points also "front".
 */
export function costQualityChart(a: RunAnalysis): string {
  const p = a.pareto;
  if (p === null) return `<p class="muted">Nothing was scored, so there is no cost vs quality chart.</p>`;
  if (p.costBasis === null)
    return `<p class="muted">Some models have no prices in the config, so cost vs quality is not drawn.</p>`;
  const currency = a.models.find((m) => m.cost !== null)?.cost?.currency ?? "";
  const kind = a.scorers.find((s) => s.name === p.scorer)?.kind ?? "continuous";
  const pts = p.points
    .map((pt) => ({
      ...pt,
      i: a.models.findIndex((m) => m.name === pt.model),
      s: a.models.find((m) => m.name === pt.model)?.scorers[p.scorer],
    }))
    .filter(
      (pt): pt is typeof pt & { cost: number; quality: number } =>
        pt.cost !== null && pt.quality !== null && Number.isFinite(pt.cost) && Number.isFinite(pt.quality),
    );
  if (pts.length === 0)
    return `<p class="muted">No model has both a cost and a score, so cost vs quality is not drawn.</p>`;
  const W = WIDTH;
  const H = 340;
  const m = { l: 74, r: 24, t: 16, b: 48 };
  const maxCost = Math.max(...pts.map((pt) => pt.cost)) * 1.08 || 1;
  const qs = pts.flatMap((pt) => [pt.quality, pt.s?.low ?? pt.quality, pt.s?.high ?? pt.quality]);
  const qLo = Math.max(0, Math.floor(Math.min(...qs) * 10) / 10 - 0.05);
  const qHi = Math.min(Math.max(1, ...qs), Math.ceil(Math.max(...qs) * 10) / 10 + 0.05);
  const x = linear([0, maxCost], [m.l, W - m.r]);
  const y = linear([qLo, qHi], [H - m.b, m.t]);
  let body = "";
  for (const t of niceTicks(0, maxCost, 5)) {
    body += `<line class="grid" x1="${round(x(t))}" x2="${round(x(t))}" y1="${m.t}" y2="${H - m.b}"/>`;
    body += text(x(t), H - m.b + 16, money(t, "").trim(), 'class="tick" text-anchor="middle"');
  }
  for (const t of niceTicks(qLo, qHi, 5)) {
    body += `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${round(y(t))}" y2="${round(y(t))}"/>`;
    body += text(m.l - 8, y(t) + 4, score(t, kind), 'class="tick" text-anchor="end"');
  }
  body += text((m.l + W - m.r) / 2, H - 8, `${p.costBasis} (${currency})`, 'class="axis-label" text-anchor="middle"');
  body += text(
    14,
    (m.t + H - m.b) / 2,
    `${p.scorer} (higher is better)`,
    `class="axis-label" text-anchor="middle" transform="rotate(-90 14 ${round((m.t + H - m.b) / 2)})"`,
  );
  const front = pts.filter((pt) => p.front.includes(pt.model)).sort((u, v) => u.cost - v.cost);
  if (front.length > 1) {
    body += `<polyline class="front-line" fill="none" stroke="#1f2328" stroke-dasharray="5 4" points="${front.map((pt) => `${round(x(pt.cost))},${round(y(pt.quality))}`).join(" ")}"/>`;
  }
  for (const pt of pts) {
    const cx = x(pt.cost);
    const cy = y(pt.quality);
    const onFront = p.front.includes(pt.model);
    if (pt.s?.low != null && pt.s.high != null) {
      body += `<line class="whisker" stroke="${modelColor(pt.i)}" stroke-width="1.5" x1="${round(cx)}" x2="${round(cx)}" y1="${round(y(pt.s.low))}" y2="${round(y(pt.s.high))}"/>`;
    }
    const tip = `${pt.model}: ${p.scorer} ${score(pt.quality, kind)}, ${p.costBasis} ${money(pt.cost, currency)}${onFront ? " (on the Pareto front)" : ""}`;
    body += `<circle class="point${onFront ? " front" : ""}" cx="${round(cx)}" cy="${round(cy)}" r="7" fill="${modelColor(pt.i)}"${onFront ? ' stroke="#1f2328" stroke-width="2.5"' : ' stroke="#fff" stroke-width="1.5"'}><title>${escapeHtml(tip)}</title></circle>`;
    // Labels go right of the point, or left of it near the right edge so they stay inside.
    const right = cx < W - m.r - 110;
    body += text(
      right ? cx + 11 : cx - 11,
      cy + 4,
      `${short(pt.model)}${onFront ? " ★" : ""}`,
      `class="point-label"${right ? "" : ' text-anchor="end"'}`,
    );
  }
  return svgFrame(
    {
      id: "chart-cost",
      width: W,
      height: H,
      title: `Cost vs quality (${p.scorer}), Pareto front highlighted`,
      description: `${pts.map((pt) => `${pt.model}: ${score(pt.quality, kind)} at ${money(pt.cost, currency)} ${p.costBasis}`).join("; ")}. Pareto front: ${p.front.join(", ") || "none"}.`,
    },
    body,
  );
}
