/**
 * report.html: one self-contained page a person can open from disk, mail or attach to CI, with
 * the run's summary, charts, verdicts and every prompt side by side.
 *
 * Security model: model output, prompts, expected answers, names and error messages are
 * untrusted. Every interpolated string goes through one function, {@link escapeHtml}; the only
 * script is a constant (./html/client.ts) that uses textContent, never innerHTML; and the page's
 * Content-Security-Policy allows that script by its sha256 and nothing else (no other script,
 * no network, no plugins, no form posts). So even an escaping bug could not run injected script.
 *
 * Pure: no I/O here. {@link writeRunReports} gathers the rows and the optional trend.
 */
import { shardNote } from "./shard-note.js";
import { publicEndpoint } from "../providers/redact.js";
import { formatInterval } from "./markdown.js";
import type { ModelAnalysis, RunAnalysis, SideBySideRow } from "./analysis.js";
import { costQualityChart, scoreChart } from "./html/charts-quality.js";
import { finishChart, latencyChart } from "./html/charts-calls.js";
import { CLIENT_SCRIPT, scriptHashSource } from "./html/client.js";
import { escapeHtml, html } from "./html/escape.js";
import { DASH, countWithPct, duration, int, money, ms, pct } from "./html/format.js";
import { STYLES } from "./html/styles.js";
import { modelColor } from "./html/svg.js";
import { filterControls, sideBySideTable } from "./html/table.js";
import { trendChart, type TrendData } from "./html/trend.js";

export { escapeHtml } from "./html/escape.js";
export type { TrendData } from "./html/trend.js";

/** File name of the HTML report inside the run directory. */
export const REPORT_HTML = "report.html";

/** Rows of the side-by-side table by default: enough to browse, small enough to open quickly. */
export const HTML_TABLE_ROWS = 500;

/** Disagreements shown in their own section (the table's filter shows all of them). */
const TOP_DISAGREEMENTS = 10;

/** Options of {@link renderHtml}. */
export interface HtmlReportOptions {
  /** The trend over earlier runs of the same datasets; omitted or null leaves the chart out. */
  trend?: TrendData | null;
}

/** The Content-Security-Policy of the page: only our own inline script (by hash) may run. */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src data:",
    `script-src ${scriptHashSource(CLIENT_SCRIPT)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/**
 * Renders the HTML report. `rows` are the side-by-side rows to show (from
 * `iterateRowsSideBySide`, already capped); when fewer than `analysis.rows`, the table says
 * "showing the first N of M rows". Deterministic: the same inputs give the same bytes.
 */
export function renderHtml(
  analysis: RunAnalysis,
  rows: readonly SideBySideRow[],
  options: HtmlReportOptions = {},
): string {
  const a = analysis;
  const m = a.manifest;
  const sections = [
    header(a),
    html`<p class="recommendation"><strong>Recommendation:</strong> ${a.recommendation}</p>`,
    statusNotice(a),
    nav(a, options.trend ?? null),
    summarySection(a),
    chartsSection(a),
    options.trend ? trendSection(options.trend) : "",
    verdictSection(a),
    disagreementSection(a),
    rowsSection(a, rows),
    html`<footer>Rendered by ${m.tool?.name ?? "bakeoff"} ${m.tool?.version ?? ""} from run.json and predictions.jsonl (<code>bakeoff report</code> re-renders it). This file is self-contained: it loads nothing from the network.</footer>`,
  ];
  return (
    "<!doctype html>\n" +
    `<html lang="en"><head><meta charset="utf-8">\n` +
    html`<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy()}">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<meta name="referrer" content="no-referrer">\n` +
    html`<title>bakeoff run ${m.runId}</title>\n` +
    `<link rel="icon" href="data:,">\n` +
    `<style>${STYLES}</style>\n</head>\n<body><main>\n` +
    sections.filter((s) => s !== "").join("\n") +
    `\n</main>\n<script>${CLIENT_SCRIPT}</script>\n</body></html>\n`
  );
}

function header(a: RunAnalysis): string {
  const m = a.manifest;
  const status = m.status === "complete" ? "status-complete" : "status-other";
  const took = duration(m.startedAt, m.endedAt);
  const facts: [string, string][] = [
    ["Started", html`${m.startedAt}`],
    ["Ended", m.endedAt ? html`${m.endedAt}${took ? ` (${took})` : ""}` : DASH],
    [
      "Datasets",
      m.datasets
        .map(
          (d) =>
            html`<span title="sha256 ${d.sha256}">${d.name} (${int(d.rows)} rows, sha256 <code>${d.sha256.slice(0, 12)}</code>)</span>`,
        )
        .join(", ") || DASH,
    ],
    [
      "Rows × models",
      html`${int(a.rows)} × ${int(a.models.length)}${a.trials > 1 ? ` × ${int(a.trials)} trials` : ""}`,
    ],
    [
      "Config",
      html`<code>${(m.configHash ?? "").slice(0, 12)}</code>${m.git ? ` · git ${m.git.sha.slice(0, 10)}${m.git.dirty ? " (dirty)" : ""}` : ""}`,
    ],
  ];
  const models = m.models.map((mm) => {
    const i = a.models.findIndex((x) => x.name === mm.name);
    const swatch = i < 0 ? "" : `<span class="swatch" style="background:${modelColor(i)}"></span>`;
    return (
      `<tr><th scope="row">${swatch}${escapeHtml(mm.name)}</th>` +
      html`<td>${mm.provider}</td><td><code>${publicEndpoint(mm.endpoint)}</code></td><td>${mm.deployment ?? DASH}</td>` +
      html`<td>${mm.info?.modelName ?? DASH}</td><td><code>${JSON.stringify(mm.params ?? {})}</code></td></tr>`
    );
  });
  return (
    html`<header><h1>bakeoff run ${m.runId}<span class="status ${status}">${m.status}</span></h1>` +
    `<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt>` + `<dd>${v}</dd>`).join("")}</dl>` +
    (models.length === 0
      ? ""
      : `<table class="models" aria-label="Models"><thead><tr><th scope="col">Model</th><th scope="col">Provider</th><th scope="col">Endpoint</th><th scope="col">Deployment</th><th scope="col">Served model (/info)</th><th scope="col">Params</th></tr></thead><tbody>${models.join("")}</tbody></table>`) +
    `</header>`
  );
}

function statusNotice(a: RunAnalysis): string {
  const m = a.manifest;
  const shard = m.shard ? html`<p class="notice" role="note">${shardNote(m.shard)}</p>` : "";
  if (m.status === "complete") return shard;
  const recorded = a.models.reduce((s, x) => s + x.results, 0);
  return (
    shard +
    html`<p class="notice" role="note">This run is ${m.status}: ${int(recorded)} of ${int(m.expected)} results are recorded. Resume it with <code>bakeoff run --resume ${m.runId}</code>.</p>`
  );
}

function nav(a: RunAnalysis, trend: TrendData | null): string {
  const links: [string, string][] = [
    ["summary", "Summary"],
    ["charts", "Charts"],
  ];
  if (trend) links.push(["trend", "Trend"]);
  if (a.pairs.length > 0) links.push(["verdicts", "Verdicts"]);
  if (a.disagreements.rows.length > 0) links.push(["disagreements", "Top disagreements"]);
  links.push(["prompts", "Every prompt"]);
  return `<nav aria-label="Sections"><p>${links.map(([id, label]) => `<a href="#${id}">${label}</a>`).join(" · ")}</p></nav>`;
}

/** Indices of the models with the highest value at display precision, when values differ. */
function bestOf(values: (number | null)[]): Set<number> {
  const rounded = values.map((v) => (v === null ? null : Math.round(v * 1000)));
  const present = rounded.filter((v): v is number => v !== null);
  if (present.length < 2 || new Set(present).size < 2) return new Set();
  const best = Math.max(...present);
  return new Set(rounded.flatMap((v, i) => (v === best ? [i] : [])));
}

function summarySection(a: RunAnalysis): string {
  if (a.models.length === 0) return `<section id="summary"><h2>Summary</h2><p>No results yet.</p></section>`;
  const row = (label: string, cell: (m: ModelAnalysis) => string) =>
    html`<tr><th scope="row">${label}</th>` + a.models.map((m) => html`<td>${cell(m)}</td>`).join("") + "</tr>";
  const reasons = [...new Set(a.models.flatMap((m) => Object.keys(m.finishReasons)))];
  const rows = [row("Results", (m) => int(m.results)), row("Errors", (m) => countWithPct(m.errors, m.results))];
  if (a.models.some((m) => m.errors > 0)) {
    rows.push(
      row(
        "Error kinds",
        (m) =>
          Object.entries(m.errorKinds)
            .map(([k, n]) => `${k} ${int(n)}`)
            .join(", ") || DASH,
      ),
    );
  }
  for (const r of reasons) rows.push(row(`Finished: ${r}`, (m) => countWithPct(m.finishReasons[r] ?? 0, m.results)));
  for (const s of a.scorers) {
    const per = a.models.map((m) => m.scorers[s.name]);
    const best = bestOf(per.map((x) => x?.mean ?? null));
    rows.push(
      html`<tr><th scope="row" class="scorer">${s.name}</th>` +
        per.map((x, i) => `<td${best.has(i) ? ' class="best"' : ""}>${escapeHtml(formatInterval(x))}</td>`).join("") +
        "</tr>",
    );
    if (per.some((x) => x?.passAtK !== undefined)) {
      rows.push(
        row(`${s.name} pass@${a.trials}`, (m) =>
          m.scorers[s.name]?.passAtK === undefined ? DASH : pct(m.scorers[s.name]!.passAtK!),
        ),
      );
      rows.push(
        row(`${s.name} pass^${a.trials}`, (m) =>
          m.scorers[s.name]?.passHatK === undefined ? DASH : pct(m.scorers[s.name]!.passHatK!),
        ),
      );
    }
  }
  rows.push(
    row("Latency p50", (m) => ms(m.latency.p50)),
    row("Latency p95", (m) => ms(m.latency.p95)),
    row("Latency p99", (m) => ms(m.latency.p99)),
  );
  // Streaming-only and usage-detail rows appear only when some model has them.
  if (a.models.some((m) => m.ttft !== undefined)) {
    rows.push(
      row("TTFT p50", (m) => (m.ttft === undefined ? DASH : ms(m.ttft.p50))),
      row("TTFT p95", (m) => (m.ttft === undefined ? DASH : ms(m.ttft.p95))),
    );
  }
  rows.push(row("Tokens in", (m) => int(m.tokens.prompt)));
  if (a.models.some((m) => m.tokens.cachedPrompt !== undefined)) {
    rows.push(
      row("Cached tokens in", (m) => (m.tokens.cachedPrompt === undefined ? DASH : int(m.tokens.cachedPrompt))),
    );
  }
  rows.push(row("Tokens out", (m) => int(m.tokens.completion)));
  if (a.models.some((m) => m.tokens.reasoning !== undefined)) {
    rows.push(row("Reasoning tokens", (m) => (m.tokens.reasoning === undefined ? DASH : int(m.tokens.reasoning))));
  }
  if (a.models.some((m) => m.cost !== null)) {
    rows.push(row("Cost", (m) => (m.cost === null ? DASH : money(m.cost.total, m.cost.currency))));
    if (a.models.some((m) => m.cached.results > 0)) {
      rows.push(
        row("Cost avoided (cached)", (m) =>
          m.cost === null ? DASH : money(m.cached.avoidedCost ?? 0, m.cost.currency),
        ),
      );
    }
    // Per dataset: that dataset's cost over its primary scorer's passes there.
    for (const d of a.decisions) {
      rows.push(
        row(`Cost per pass (${d.dataset} · ${d.scorer})`, (m) =>
          m.cost === null ? DASH : money(m.costPerPassByDataset[d.dataset] ?? null, m.cost.currency),
        ),
      );
    }
  }
  if (a.models.some((m) => m.cached.results > 0))
    rows.push(row("Cached (not paid)", (m) => countWithPct(m.cached.results, m.results)));
  // Batch API answers: billed at the batch discount, and left out of the latency rows.
  if (a.models.some((m) => (m.batched ?? 0) > 0))
    rows.push(row("Batched (batch price)", (m) => countWithPct(m.batched ?? 0, m.results)));
  rows.push(row("Retried calls", (m) => countWithPct(m.attempts.retried, m.results)));
  const head =
    `<thead><tr><th scope="col"><span class="sr-only">Metric</span></th>` +
    a.models
      .map(
        (m, i) =>
          `<th scope="col"><span class="swatch" style="background:${modelColor(i)}"></span>${escapeHtml(m.name)}</th>`,
      )
      .join("") +
    `</tr></thead>`;
  const trials =
    a.trials > 1 ? html`; with ${a.trials} trials, each row's trials are averaged first and rows are the unit` : "";
  return (
    `<section id="summary"><h2>Summary</h2>` +
    // The table and the score chart side by side: the numbers next to their picture. With many
    // models the table grows wide and the chart wraps below it.
    `<div class="overview"><div class="table-wrap summary-wrap"><table class="summary"><caption class="sr-only">Models side by side</caption>${head}<tbody>${rows.join("")}</tbody></table></div>` +
    figure("Scores with 95% intervals", scoreChart(a), "Bars are means; whiskers span the 95% interval.") +
    `</div>` +
    `<p class="muted">Scores exclude failed calls (counted under Errors); best score per row in bold. Brackets hold 95% intervals (Wilson for pass rates, bootstrap for the rest)${trials}. Latency covers successful calls.</p>` +
    `</section>`
  );
}

function figure(caption: string, chart: string, note = ""): string {
  return (
    html`<figure><figcaption>${caption}</figcaption>` +
    chart +
    (note ? html`<p class="note">${note}</p>` : "") +
    "</figure>"
  );
}

function chartsSection(a: RunAnalysis): string {
  const p = a.pareto;
  const costNote =
    p === null || p.costBasis === null
      ? ""
      : `A model is on the Pareto front (ringed, ★) when no other model has both a lower ${p.costBasis} and a higher ${p.scorer} score. Whiskers are 95% intervals.`;
  return (
    `<section id="charts"><h2>Charts</h2><div class="charts">` +
    figure("Cost vs quality", costQualityChart(a), costNote) +
    // The two short charts share the second column, level with the taller scatter plot.
    `<div class="stack">` +
    figure(
      "Latency distribution",
      latencyChart(a),
      "Share of each model's successful calls per latency bucket (log scale); lines mark p50 and p95 (dashed).",
    ) +
    figure(
      "Finish reasons",
      finishChart(a),
      '"length" means the answer was cut off by max_tokens; "error" is a failed call.',
    ) +
    `</div></div></section>`
  );
}

function trendSection(t: TrendData): string {
  const chart = trendChart(t);
  if (chart === "") return "";
  return (
    `<section id="trend"><h2>Trend</h2>` +
    figure(
      `${t.scorer} over the last ${t.runs.length} runs of these datasets`,
      chart,
      "From the run index (index.jsonl) in the output directory; earlier runs of the same datasets only.",
    ) +
    `</section>`
  );
}

function verdictSection(a: RunAnalysis): string {
  if (a.pairs.length === 0) return "";
  let out = `<section id="verdicts"><h2>Verdicts</h2>`;
  if (a.multipleTesting.method === "holm") {
    out += html`<p class="muted">These ${a.multipleTesting.family} comparisons (model pairs × scorers) are one family: p-values are Holm-adjusted, so the chance of any false "better" stays at ${a.decision.alpha} or less. Unadjusted p-values are in report.json.</p>`;
  }
  for (const s of a.scorers) {
    const pairs = a.pairs.filter((p) => p.scorer === s.name);
    if (pairs.length === 0) continue;
    out += html`<h3>${s.name}</h3>` + `<ul class="verdicts">`;
    for (const p of pairs) {
      const v = p.verdict;
      const tally =
        v.n === 0
          ? ""
          : html` <span class="muted">${p.a} vs ${p.b} row by row: ${v.wins} wins, ${v.ties} ties, ${v.losses} losses.</span>`;
      out += html`<li>${v.sentence}.` + tally + "</li>";
    }
    out += "</ul>";
  }
  return out + "</section>";
}

function disagreementSection(a: RunAnalysis): string {
  const d = a.disagreements;
  if (d.scorer === null || d.rows.length === 0) return "";
  const shown = d.rows.slice(0, TOP_DISAGREEMENTS);
  const binary = a.trials <= 1;
  let out =
    `<section id="disagreements"><h2>Top disagreements</h2>` +
    html`<p>${int(d.total)} row${d.total === 1 ? "" : "s"} where the models' ${d.scorer} verdicts differ; ${shown.length < d.total ? `the first ${shown.length} in dataset order` : "all of them"}. Tick “Disagreements only” in the table below to see every one.</p>`;
  for (const row of shown) {
    const cells = Object.entries(row.models)
      .map(([model, c]) => {
        const verdict = c.score === null ? DASH : binary ? (c.score === 1 ? "✓ pass" : "✗ fail") : pct(c.score);
        const output =
          c.error !== undefined
            ? html`<div class="err">${c.error}</div>`
            : c.output === null
              ? DASH
              : html`<div class="out">${c.output}</div>`;
        return (
          html`<tr><th scope="row">${model}</th><td>${verdict}</td><td>${c.finishReason ?? "none"}</td>` +
          `<td>${output}</td></tr>`
        );
      })
      .join("");
    out +=
      `<div class="disagreement">` +
      html`<h3>${row.dataset} / ${row.rowId}</h3><div><span class="label">prompt</span> ${row.prompt}</div>` +
      (row.expected === null
        ? ""
        : html`<div class="expected"><span class="label">expected</span> ${row.expected}</div>`) +
      html`<table><thead><tr><th scope="col">Model</th><th scope="col">${d.scorer}</th><th scope="col">Finish</th><th scope="col">Output</th></tr></thead>` +
      `<tbody>${cells}</tbody></table></div>`;
  }
  return out + "</section>";
}

function rowsSection(a: RunAnalysis, rows: readonly SideBySideRow[]): string {
  const note =
    rows.length < a.rows
      ? html`Showing the first ${int(rows.length)} of ${int(a.rows)} rows in dataset order; predictions.csv has all of them.`
      : html`All ${int(rows.length)} rows.`;
  return (
    `<section id="prompts"><h2>Every prompt, side by side</h2>` +
    html`<p class="muted" id="rows-note">${note} Each model's first trial; failed cells are tinted. Filters combine.</p>` +
    filterControls(
      a.models.map((m) => m.name),
      rows.length,
    ) +
    sideBySideTable(a, rows) +
    `</section>`
  );
}
