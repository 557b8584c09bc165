/**
 * compare.html: the comparison as a self-contained HTML page (no scripts, no external assets),
 * built from one `<section>` that a larger HTML report can embed as is, plus the score trend over
 * the last runs of the same dataset from the run index.
 */
import type { HistoryTable } from "../run/history.js";
import { formatP } from "../stats/paired.js";
import type { CompareResult } from "./compare.js";
import type { GateReport } from "./gates.js";
import { formatChange, formatInterval } from "./render.js";

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;text-align:left}td.num{text-align:right}
.fail{color:#b00020;font-weight:600}.pass{color:#1b7f3b;font-weight:600}.skipped{color:#777}.warn{background:#fff6db}
pre{white-space:pre-wrap;margin:0;max-width:40ch;font-size:12px}svg{vertical-align:middle}`;

/** The comparison as an embeddable `<section class="bakeoff-compare">`. */
export function renderCompareSection(r: CompareResult, gates?: GateReport, trend?: HistoryTable): string {
  const h: string[] = [`<section class="bakeoff-compare">`, `<h2>Compare ${e(r.baseline.runId)} → ${e(r.candidate.runId)}</h2>`];
  if (gates && gates.outcomes.length > 0) {
    h.push(`<h3>Gates: <span class="${gates.passed ? "pass" : "fail"}">${gates.passed ? "PASS" : "FAIL"}</span></h3><ul>`);
    for (const o of gates.outcomes) {
      h.push(`<li><code>${e(o.rule)}</code> <span class="${o.status}">${o.status}</span><ul>${o.details.slice(0, 20).map((d) => `<li>${e(d)}</li>`).join("")}</ul></li>`);
    }
    h.push("</ul>");
  }
  if (r.warnings.length > 0) h.push(`<h3>Warnings</h3><ul class="warn">${r.warnings.map((w) => `<li><b>${e(w.kind)}</b>: ${e(w.message)}</li>`).join("")}</ul>`);
  h.push("<h3>Changes</h3><table><tr><th>model</th><th>scorer</th><th>n</th><th>baseline</th><th>candidate</th><th>change</th><th>interval</th><th>test</th><th>pass→fail</th><th>fail→pass</th></tr>");
  for (const c of r.changes) {
    const cls = c.significant ? (c.diff! < 0 ? "fail" : "pass") : "";
    h.push(
      `<tr><td>${e(c.model)}</td><td>${e(c.scorer)}</td><td class="num">${c.n}</td><td class="num">${num(c.baselineMean)}</td><td class="num">${num(c.candidateMean)}</td>` +
        `<td class="num ${cls}">${e(formatChange(c))}</td><td>${e(formatInterval(c))}</td><td>${c.test} ${e(formatP(c.pValue))}</td><td class="num">${c.passToFail}</td><td class="num">${c.failToPass}</td></tr>`,
    );
  }
  h.push("</table>");
  h.push("<h3>Model identity</h3><ul>");
  for (const id of r.identity) {
    const show = (s: typeof id.baseline) => `${s.info?.modelName ?? "no /info"} · responses ${s.responseModel ?? "n/a"}${s.systemFingerprint ? ` · ${s.systemFingerprint}` : ""}`;
    h.push(`<li>${e(id.model)}: ${e(show(id.baseline))} → ${e(show(id.candidate))} ${id.changed.length > 0 ? `<span class="fail">changed (${e(id.changed.join(", "))})</span>` : "(unchanged)"}</li>`);
  }
  h.push("</ul>");
  for (const direction of ["pass→fail", "fail→pass"] as const) {
    const rows = r.flips.filter((f) => f.direction === direction);
    h.push(`<h3>${direction === "pass→fail" ? "Newly failing" : "Newly passing"} rows (${rows.length} listed)</h3>`);
    if (rows.length === 0) continue;
    h.push("<table><tr><th>model</th><th>scorer</th><th>row</th><th>prompt</th><th>expected</th><th>baseline</th><th>candidate</th></tr>");
    for (const f of rows) {
      const out = (o: typeof f.baseline) => (o === null ? "—" : `<pre>${e(o.error ?? o.text ?? "")}</pre>${o.finishReason && o.finishReason !== "stop" ? ` (${e(o.finishReason)})` : ""}`);
      h.push(
        `<tr><td>${e(f.model)}</td><td>${e(f.scorer)}</td><td>${e(`${f.dataset}/${f.rowId}`)}${f.critical ? ' <span class="fail">critical</span>' : ""}</td>` +
          `<td><pre>${e(f.candidate?.prompt ?? "")}</pre></td><td>${e(f.candidate?.expected ?? "")}</td><td>${out(f.baseline)}</td><td>${out(f.candidate)}</td></tr>`,
      );
    }
    h.push("</table>");
  }
  if (trend) h.push(renderTrendSection(trend));
  h.push("</section>");
  return h.join("\n");
}

/** The trend of every model × scorer over the last runs of one dataset, with small line charts. */
export function renderTrendSection(t: HistoryTable): string {
  if (t.runs.length === 0) return "";
  const h = [`<h3>Trend over the last ${t.runs.length} run(s) of this dataset</h3>`, "<table><tr><th>model</th><th>scorer</th>"];
  h.push(...t.runs.map((r) => `<th title="${e(r.startedAt)}">${e(r.runId)}</th>`), "<th>trend</th></tr>");
  for (const l of t.lines) {
    h.push(`<tr><td>${e(l.model)}</td><td>${e(l.scorer)}</td>${l.values.map((v) => `<td class="num">${num(v)}</td>`).join("")}<td>${chart(l.values)}</td></tr>`);
  }
  h.push("</table>");
  return h.join("");
}

/** A full page around {@link renderCompareSection}. */
export function renderCompareHtml(r: CompareResult, gates?: GateReport, trend?: HistoryTable): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>bakeoff compare ${e(r.baseline.runId)} → ${e(r.candidate.runId)}</title><style>${STYLE}</style></head>\n<body>\n${renderCompareSection(r, gates, trend)}\n</body></html>\n`;
}

/** A 120×24 SVG polyline of the values on a 0..1 scale (gaps skipped). */
function chart(values: readonly (number | null)[]): string {
  const pts = values.flatMap((v, i) => (v === null ? [] : [`${values.length === 1 ? 60 : (i / (values.length - 1)) * 116 + 2},${(22 - Math.max(0, Math.min(1, v)) * 20).toFixed(1)}`]));
  if (pts.length === 0) return "";
  return `<svg width="120" height="24" viewBox="0 0 120 24" role="img"><polyline fill="none" stroke="#3366cc" stroke-width="1.5" points="${pts.join(" ")}"/></svg>`;
}

function num(v: number | null): string {
  return v === null ? "—" : v.toFixed(3);
}

function e(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
