/**
 * Charts about the calls themselves: the latency distribution per model (from the analysis'
 * fixed log-spaced histogram, so models share one axis) and finish reasons as stacked bars.
 */
import type { RunAnalysis } from "../analysis.js";
import { escapeHtml } from "./escape.js";
import { int, ms, pct } from "./format.js";
import { legend, modelColor, round, short, svgFrame, text } from "./svg.js";

/** Chart widths match their box in the report's two-column grid, so text is drawn at 1:1. */
const WIDTH = 560;
const LABEL_W = 96;

/** Buckets per decade of {@link RunAnalysis.latencyBucketsMs}: bucket i starts at 10^(i/4) ms. */
const PER_DECADE = 4;

function edgeLabel(edge: number): string {
  const v = Number(edge.toPrecision(2));
  return v >= 1000 ? `${v / 1000} s` : `${v} ms`;
}

/**
 * One small histogram per model on a shared log axis, trimmed to the buckets that hold calls.
 * Bar heights are shares of each model's calls (not counts), so a model with retries or errors
 * is not drawn taller; p50 and p95 are marked. Each model's bars sit in a `g.lat-model`, bars
 * with calls have class "lat-bar".
 */
export function latencyChart(a: RunAnalysis): string {
  const edges = a.latencyBucketsMs;
  const hists = a.models.map((m) => m.latency.histogram);
  const used = hists.flatMap((h) => h.flatMap((c, i) => (c > 0 ? [i] : [])));
  if (used.length === 0) return `<p class="muted">No successful calls, so there is no latency chart.</p>`;
  const buckets = edges.length - 1;
  const first = Math.max(0, Math.min(...used) - 1);
  const last = Math.min(buckets - 1, Math.max(...used) + 1);
  const n = last - first + 1;
  const x0 = LABEL_W;
  const bw = (WIDTH - 24 - x0) / n;
  const rowH = 72;
  const shares = hists.map((h) => {
    const total = h.reduce((s, c) => s + c, 0);
    return h.map((c) => (total === 0 ? 0 : c / total));
  });
  const maxShare = Math.max(...shares.flat(), 1e-9);
  // Position of a latency on the bucket axis: bucket i spans [i, i+1) in units of log10(ms)·4.
  const xOf = (v: number) => x0 + (Math.log10(Math.max(v, edges[0]!)) * PER_DECADE - first) * bw;
  let body = "";
  let y = 8;
  a.models.forEach((m, mi) => {
    const base = y + rowH - 8;
    body += `<g class="lat-model">`;
    body += text(x0 - 8, y + rowH / 2, short(m.name), 'text-anchor="end"');
    body += text(x0 - 8, y + rowH / 2 + 15, `p50 ${ms(m.latency.p50)}`, 'class="tick" text-anchor="end"');
    for (let b = first; b <= last; b++) {
      const count = m.latency.histogram[b] ?? 0;
      if (count === 0) continue;
      // Headroom above the tallest bar keeps the p50/p95 labels clear of it.
      const h = (shares[mi]![b]! / maxShare) * (rowH - 26);
      const tip = `${m.name}: ${int(count)} call${count === 1 ? "" : "s"} (${pct(shares[mi]![b]!)}) between ${edgeLabel(edges[b]!)} and ${edgeLabel(edges[b + 1]!)}`;
      body += `<rect class="lat-bar" x="${round(x0 + (b - first) * bw + 1)}" y="${round(base - h)}" width="${round(bw - 2)}" height="${round(h)}" fill="${modelColor(mi)}" fill-opacity="0.8"><title>${escapeHtml(tip)}</title></rect>`;
    }
    body += `<line class="baseline" x1="${x0}" x2="${round(x0 + n * bw)}" y1="${round(base)}" y2="${round(base)}"/>`;
    for (const [label, v, dash] of [
      ["p50", m.latency.p50, ""],
      ["p95", m.latency.p95, ' stroke-dasharray="3 3"'],
    ] as const) {
      if (v === null) continue;
      const px = xOf(v);
      body += `<line class="marker" x1="${round(px)}" x2="${round(px)}" y1="${round(y + 2)}" y2="${round(base)}"${dash}><title>${escapeHtml(`${m.name} ${label}: ${ms(v)}`)}</title></line>`;
      body += text(px + 3, y + 10, label, 'class="tick"');
    }
    body += "</g>";
    y += rowH;
  });
  // Label every edge when few buckets are shown, else only the decades (1 ms, 10 ms, ...).
  for (let e = first; e <= last + 1; e++) {
    if (n > 10 && e % PER_DECADE !== 0) continue;
    const ex = x0 + (e - first) * bw;
    body += `<line class="grid" x1="${round(ex)}" x2="${round(ex)}" y1="${round(y - 4)}" y2="${round(y + 2)}"/>`;
    body += text(ex, y + 15, edgeLabel(edges[e]!), 'class="tick" text-anchor="middle"');
  }
  y += 24;
  return svgFrame(
    {
      id: "chart-latency",
      width: WIDTH,
      height: y,
      title: "Latency distribution per model (log scale)",
      description: a.models
        .map((m) => `${m.name}: p50 ${ms(m.latency.p50)}, p95 ${ms(m.latency.p95)}, p99 ${ms(m.latency.p99)}`)
        .join("; "),
    },
    body,
  );
}

/** Finish reasons in a fixed order (the common ones first), then any others by name. */
const KNOWN_REASONS = ["stop", "length", "content_filter", "tool_calls", "none", "error"];
const REASON_COLORS: Record<string, string> = {
  stop: "#2e8b57",
  length: "#e69f00",
  content_filter: "#7b4fa0",
  tool_calls: "#0072b2",
  none: "#9aa0a6",
  error: "#c0392b",
};
const OTHER_REASON = "#6b7280";

/**
 * One 100% stacked bar per model: the share of its results by finish reason ("error" for failed
 * calls). Segments carry class "seg" and a <title> with the count.
 */
export function finishChart(a: RunAnalysis): string {
  const seen = new Set(
    a.models.flatMap((m) => Object.keys(m.finishReasons).filter((r) => (m.finishReasons[r] ?? 0) > 0)),
  );
  if (seen.size === 0) return `<p class="muted">No results, so there is no finish-reason chart.</p>`;
  const reasons = [
    ...KNOWN_REASONS.filter((r) => seen.has(r)),
    ...[...seen].filter((r) => !KNOWN_REASONS.includes(r)).sort(),
  ];
  const color = (r: string) => REASON_COLORS[r] ?? OTHER_REASON;
  const x0 = LABEL_W;
  const x1 = WIDTH - 56;
  const rowH = 30;
  let body = "";
  let y = 8;
  for (const m of a.models) {
    body += text(x0 - 8, y + 19, short(m.name), 'text-anchor="end"');
    let cx = x0;
    for (const r of reasons) {
      const count = m.finishReasons[r] ?? 0;
      if (count === 0 || m.results === 0) continue;
      const w = (count / m.results) * (x1 - x0);
      body += `<rect class="seg" x="${round(cx)}" y="${y + 4}" width="${round(w)}" height="${rowH - 8}" fill="${color(r)}"><title>${escapeHtml(`${m.name}: ${r} ${int(count)} (${pct(count / m.results)})`)}</title></rect>`;
      // Label a segment in place when it is wide enough to hold its share.
      if (w > 44) body += text(cx + w / 2, y + 19, pct(count / m.results, 0), 'class="seg-label" text-anchor="middle"');
      cx += w;
    }
    body += text(x1 + 8, y + 19, `n=${int(m.results)}`, 'class="tick"');
    y += rowH;
  }
  y += 18;
  body += legend(
    reasons.map((r) => ({ label: r, color: color(r) })),
    x0,
    y,
  );
  y += 10;
  return svgFrame(
    {
      id: "chart-finish",
      width: WIDTH,
      height: y,
      title: "Finish reasons per model",
      description: a.models
        .map(
          (m) =>
            `${m.name}: ${reasons
              .filter((r) => (m.finishReasons[r] ?? 0) > 0)
              .map((r) => `${r} ${m.finishReasons[r]}`)
              .join(", ")}`,
        )
        .join("; "),
    },
    body,
  );
}
