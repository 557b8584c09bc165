/**
 * compare.html: the comparison as a self-contained HTML page (no scripts, no external assets),
 * built from one `<section>` that a larger HTML report can embed as is, plus the score trend over
 * the last runs of the same dataset from the run index. It uses report.html's stylesheet and
 * layout, so the two pages read as one tool's.
 */
import { STYLES } from "../report/html/styles.js";
import type { HistoryTable } from "../run/history.js";
import { formatP } from "../stats/paired.js";
import type { CompareResult } from "./compare.js";
import type { GateReport } from "./gates.js";
import { formatChange, formatInterval } from "./render.js";

/** The comparison as an embeddable `<section class="bakeoff-compare">`. */
export function renderCompareSection(r: CompareResult, gates?: GateReport, trend?: HistoryTable): string {
  const h: string[] = [
    `<section class="bakeoff-compare">`,
    `<h2>Compare ${e(r.baseline.runId)} → ${e(r.candidate.runId)}</h2>`,
  ];
  if (gates && gates.outcomes.length > 0) {
    h.push(
      `<h3>Gates: <span class="${gates.passed ? "pass" : "fail"}">${gates.passed ? "PASS" : "FAIL"}</span></h3><ul>`,
    );
    for (const o of gates.outcomes) {
      h.push(
        `<li><code>${e(o.rule)}</code> <span class="${o.status}">${o.status}</span><ul>${o.details
          .slice(0, 20)
          .map((d) => `<li>${e(d)}</li>`)
          .join("")}</ul></li>`,
      );
    }
    h.push("</ul>");
  }
  if (r.warnings.length > 0)
    h.push(
      `<h3>Warnings</h3><ul class="warn">${r.warnings.map((w) => `<li><b>${e(w.kind)}</b>: ${e(w.message)}</li>`).join("")}</ul>`,
    );
  h.push(
    '<h3>Changes</h3><div class="table-wrap"><table class="changes"><thead><tr><th>model</th><th>scorer</th><th>n</th><th>baseline</th><th>candidate</th><th>change</th><th>interval</th><th>test</th><th>pass→fail</th><th>fail→pass</th></tr></thead><tbody>',
  );
  for (const c of r.changes) {
    const cls = c.significant ? (c.diff! < 0 ? "fail" : "pass") : "";
    h.push(
      `<tr><td>${e(c.model)}</td><td>${e(c.scorer)}</td><td class="num">${c.n}</td><td class="num">${num(c.baselineMean)}</td><td class="num">${num(c.candidateMean)}</td>` +
        `<td class="num ${cls}">${e(formatChange(c))}</td><td>${e(formatInterval(c))}</td><td>${c.test} ${e(formatP(c.pValue))}</td><td class="num">${c.passToFail}</td><td class="num">${c.failToPass}</td></tr>`,
    );
  }
  h.push("</tbody></table></div>");
  h.push("<h3>Model identity</h3><ul>");
  for (const id of r.identity) {
    const show = (s: typeof id.baseline) =>
      `${s.info?.modelName ?? "no /info"} · responses ${s.responseModel ?? "n/a"}${s.systemFingerprint ? ` · ${s.systemFingerprint}` : ""}`;
    h.push(
      `<li>${e(id.model)}: ${e(show(id.baseline))} → ${e(show(id.candidate))} ${id.changed.length > 0 ? `<span class="fail">changed (${e(id.changed.join(", "))})</span>` : "(unchanged)"}</li>`,
    );
  }
  h.push("</ul>");
  for (const direction of ["pass→fail", "fail→pass"] as const) {
    const rows = r.flips.filter((f) => f.direction === direction);
    h.push(`<h3>${direction === "pass→fail" ? "Newly failing" : "Newly passing"} rows (${rows.length} listed)</h3>`);
    if (rows.length === 0) continue;
    h.push(
      '<div class="table-wrap"><table class="flips"><thead><tr><th>model</th><th>scorer</th><th>row</th><th>prompt</th><th>expected</th><th>baseline</th><th>candidate</th></tr></thead><tbody>',
    );
    for (const f of rows) {
      const out = (o: typeof f.baseline) =>
        o === null
          ? "—"
          : `<pre>${e(o.error ?? o.text ?? "")}</pre>${o.finishReason && o.finishReason !== "stop" ? ` (${e(o.finishReason)})` : ""}`;
      h.push(
        `<tr><td>${e(f.model)}</td><td>${e(f.scorer)}</td><td>${e(`${f.dataset}/${f.rowId}`)}${f.critical ? ' <span class="fail">critical</span>' : ""}</td>` +
          `<td><pre>${e(f.candidate?.prompt ?? "")}</pre></td><td>${e(f.candidate?.expected ?? "")}</td><td>${out(f.baseline)}</td><td>${out(f.candidate)}</td></tr>`,
      );
    }
    h.push("</tbody></table></div>");
  }
  if (trend) h.push(renderTrendSection(trend));
  h.push("</section>");
  return h.join("\n");
}

/**
 * The trend of every model × scorer over the last runs of one dataset, with small line charts.
 * Runs are columns headed by their start time (the run id is in the tooltip and in the list
 * below), so ten runs fit the page's width; the table scrolls inside its box if they do not.
 */
export function renderTrendSection(t: HistoryTable): string {
  if (t.runs.length === 0) return "";
  const h = [
    `<h3>Trend over the last ${t.runs.length} run(s) of this dataset</h3>`,
    '<div class="table-wrap"><table class="trend"><thead><tr><th>model</th><th>scorer</th>',
  ];
  h.push(
    ...t.runs.map(
      (r, i) =>
        `<th class="num" title="${e(r.runId)} · ${e(r.startedAt)}">#${i + 1}<br><span class="muted">${e(shortTime(r.startedAt))}</span></th>`,
    ),
    "<th>trend</th></tr></thead><tbody>",
  );
  for (const l of t.lines) {
    h.push(
      `<tr><td>${e(l.model)}</td><td>${e(l.scorer)}</td>${l.values.map((v) => `<td class="num">${num(v)}</td>`).join("")}<td>${chart(l.values)}</td></tr>`,
    );
  }
  h.push("</tbody></table></div>");
  h.push(
    `<ol class="trend-runs muted">${t.runs.map((r) => `<li><code>${e(r.runId)}</code> ${e(r.startedAt)}</li>`).join("")}</ol>`,
  );
  return h.join("");
}

/** `2026-11-27T03:48:59.000Z` → `11-27 03:48` (UTC, as run ids are). */
function shortTime(iso: string): string {
  const m = /^\d{4}-(\d\d-\d\d)T(\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}

/** A full page around {@link renderCompareSection}. */
export function renderCompareHtml(r: CompareResult, gates?: GateReport, trend?: HistoryTable): string {
  // No script at all, so the policy allows none; styles are inline like report.html's.
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${csp}">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>bakeoff compare ${e(r.baseline.runId)} → ${e(r.candidate.runId)}</title>\n<style>${STYLES}</style></head>\n` +
    `<body><main>\n<header><h1>bakeoff compare</h1><p class="muted">baseline <code>${e(r.baseline.runId)}</code> → candidate <code>${e(r.candidate.runId)}</code></p></header>\n` +
    `${renderCompareSection(r, gates, trend)}\n<footer>Written by <code>bakeoff compare</code> from the two runs' journals. This file is self-contained: it loads nothing from the network.</footer>\n</main></body></html>\n`
  );
}

/** A 120×24 SVG polyline of the values on a 0..1 scale (gaps skipped). */
function chart(values: readonly (number | null)[]): string {
  const pts = values.flatMap((v, i) =>
    v === null
      ? []
      : [
          `${values.length === 1 ? 60 : (i / (values.length - 1)) * 116 + 2},${(22 - Math.max(0, Math.min(1, v)) * 20).toFixed(1)}`,
        ],
  );
  if (pts.length === 0) return "";
  return `<svg width="120" height="24" viewBox="0 0 120 24" role="img"><polyline fill="none" stroke="#3366cc" stroke-width="1.5" points="${pts.join(" ")}"/></svg>`;
}

function num(v: number | null): string {
  return v === null ? "—" : v.toFixed(3);
}

function e(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
