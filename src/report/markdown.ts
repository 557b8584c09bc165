/**
 * Renders a run summary as a Markdown report meant to be read by a person deciding which model to
 * ship: models side by side (one column each), one metric per row, best score per row in bold.
 */
import type { ModelAnalysis, RunAnalysis, ScorerAnalysis } from "./analysis.js";
import type { DatasetSummary, ModelSummary, RunSummary, ScoreStats } from "./summary.js";
import { duration, money } from "./html/format.js";
import { sanitizeTerminalText } from "../util/terminal-text.js";
import { formatInteger } from "./integer.js";

/** What {@link renderMarkdown} needs to know about a run. */
export interface MarkdownReportInput {
  runId: string;
  /** ISO timestamp. */
  startedAt: string;
  /** ISO timestamp; absent while the run is still going. */
  endedAt?: string;
  datasets: { name: string; rows: number; sha256?: string }[];
  summary: RunSummary;
  status?: "complete" | "interrupted" | "incomplete";
  /** Free-form lines shown at the end (warnings, resume hints, ...). */
  notes?: string[];
  /**
   * The decision analysis. When given, score cells carry 95% intervals and the report adds the
   * recommendation, pairwise verdicts, cost vs quality, scores by finish reason and the top
   * disagreements. `summary.models` should then be in the analysis' model order.
   */
  analysis?: RunAnalysis;
}

/** Characters of model output, prompts and expected answers shown per cell. */
const MD_EXCERPT = 200;

const DASH = "–";

/** Makes text safe inside a table cell: `|` would split the cell and a newline would end the row. */
export function escapeCell(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/\r\n|\r|\n/g, " ");
}

/** Makes text safe on one Markdown line (headings, list items): newlines would break the structure. */
function escapeLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ");
}

function pct(part: number, whole: number): string {
  return whole === 0 ? DASH : `${((100 * part) / whole).toFixed(1)}%`;
}

function countWithPct(count: number, whole: number): string {
  return whole === 0 ? DASH : `${formatInteger(count)} (${pct(count, whole)})`;
}

function ms(value: number | null): string {
  return value === null ? DASH : `${formatInteger(Math.round(value))} ms`;
}

function formatScore(s: ScoreStats | undefined): string {
  if (s === undefined || s.mean === null)
    return s !== undefined && s.errors > 0 ? `${DASH} (${s.errors} unscored)` : DASH;
  let text: string;
  if (s.passRate === undefined) text = s.mean.toFixed(3);
  // Binary scorers: the mean is the pass rate; say it once, as a percentage.
  else if (Math.abs(s.passRate - s.mean) < 1e-12) text = pct(s.passRate, 1);
  else text = `${s.mean.toFixed(3)} · ${pct(s.passRate, 1)} pass`;
  return s.errors > 0 ? `${text} (${formatInteger(s.errors)} unscored)` : text;
}

/**
 * Bolds the best (highest-mean) cells of a score row when the models differ. Means are compared
 * at display precision (0.001, i.e. 0.1 percentage points) so float noise never bolds one of two
 * cells that read the same.
 */
function scoreCells(stats: (ScoreStats | undefined)[]): string[] {
  return boldBest(
    stats.map((s) => s?.mean ?? null),
    stats.map((s) => escapeCell(formatScore(s))),
  );
}

/** Bolds the cells whose mean is highest at display precision, when the means differ. */
function boldBest(values: (number | null)[], cells: string[]): string[] {
  const means = values.map((v) => (v === null ? null : Math.round(v * 1000)));
  const present = means.filter((m): m is number => m !== null);
  const best = present.length >= 2 && new Set(present).size > 1 ? Math.max(...present) : null;
  return cells.map((cell, i) => (best !== null && means[i] === best ? `**${cell}**` : cell));
}

/** A score with its 95% interval: "71.4% (59.9–80.7)" for pass rates, "0.712 (0.650–0.770)" otherwise. */
export function formatInterval(s: ScorerAnalysis | undefined): string {
  if (s === undefined) return DASH;
  const excluded = s.unscored > 0 ? ` (${formatInteger(s.unscored)} unscored)` : "";
  if (s.mean === null) return s.unscored > 0 ? `${DASH}${excluded}` : DASH;
  const v = (x: number) => {
    const text = s.kind === "binary" ? (x * 100).toFixed(1) : x.toFixed(3);
    // A bootstrap bound of -1e-17 is zero; print it as one rather than "-0.000".
    return Number(text) === 0 ? text.replace("-", "") : text;
  };
  const mean = s.kind === "binary" ? `${v(s.mean)}%` : v(s.mean);
  // "–" between negative numbers reads as a minus sign ("-0.3–-0.1"), so say "to" there.
  const sep = s.low !== null && s.low < 0 ? " to " : DASH;
  const range = s.low === null || s.high === null ? "" : ` (${v(s.low)}${sep}${v(s.high)})`;
  const pass = s.kind === "continuous" && s.passRate !== undefined ? ` · ${pct(s.passRate, 1)} pass` : "";
  return `${mean}${range}${pass}${excluded}`;
}

/** Scorer names in first-seen order across models. */
function scorerNames(scoreMaps: Record<string, ScoreStats>[]): string[] {
  const names = new Set<string>();
  for (const m of scoreMaps) for (const name of Object.keys(m)) names.add(name);
  return [...names];
}

/** A Markdown table; the first `left` columns are left-aligned (labels, text), the rest right (numbers). */
function table(header: string[], rows: string[][], left = 1): string[] {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), `|${header.map((_, i) => (i < left ? "---" : "---:")).join("|")}|`, ...rows.map(line)];
}

function finishCount(m: ModelSummary, keys: string[] | "other"): number {
  const known = new Set(["stop", "length", "content_filter", "error"]);
  let n = 0;
  for (const [reason, count] of Object.entries(m.finishReasons)) {
    if (keys === "other" ? !known.has(reason) : keys.includes(reason)) n += count;
  }
  return n;
}

function errorKinds(m: ModelSummary): string {
  const parts = Object.entries(m.errorKinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${formatInteger(n)}`);
  return parts.length === 0 ? DASH : parts.join(", ");
}

function summaryTable(models: ModelSummary[], analysis?: RunAnalysis): string[] {
  const header = ["", ...models.map((m) => escapeCell(m.model))];
  const row = (label: string, cell: (m: ModelSummary) => string) => [label, ...models.map((m) => escapeCell(cell(m)))];
  const rows: string[][] = [
    row("Results", (m) => formatInteger(m.n)),
    row("Errors", (m) => countWithPct(m.errors, m.n)),
  ];
  if (models.some((m) => m.errors > 0)) rows.push(row("Error kinds", errorKinds));
  rows.push(
    row("Finished: stop", (m) => countWithPct(finishCount(m, ["stop"]), m.n)),
    row("Finished: length", (m) => countWithPct(finishCount(m, ["length"]), m.n)),
    row("Finished: content_filter", (m) => countWithPct(finishCount(m, ["content_filter"]), m.n)),
    row("Finished: other", (m) => countWithPct(finishCount(m, "other"), m.n)),
  );
  for (const name of scorerNames(models.map((m) => m.scores))) {
    if (analysis === undefined) {
      rows.push([`**${escapeCell(name)}**`, ...scoreCells(models.map((m) => m.scores[name]))]);
      continue;
    }
    const per = models.map((m) => analysisOf(analysis, m.model)?.scorers[name]);
    rows.push([
      `**${escapeCell(name)}**`,
      ...boldBest(
        per.map((x) => x?.mean ?? null),
        per.map((x) => escapeCell(formatInterval(x))),
      ),
    ]);
    if (per.some((x) => x?.passAtK !== undefined)) {
      const k = analysis.trials;
      rows.push([
        `${escapeCell(name)} pass@${k}`,
        ...per.map((x) => (x?.passAtK === undefined ? DASH : pct(x.passAtK, 1))),
      ]);
      rows.push([
        `${escapeCell(name)} pass^${k}`,
        ...per.map((x) => (x?.passHatK === undefined ? DASH : pct(x.passHatK, 1))),
      ]);
    }
  }
  rows.push(
    row("Latency p50", (m) => ms(m.latencyMs.p50)),
    row("Latency p95", (m) => ms(m.latencyMs.p95)),
    ...(analysis === undefined ? [] : [row("Latency p99", (m) => ms(m.latencyMs.p99))]),
    // Streaming-only and usage-detail rows appear only when some model has them.
    ...(models.some((m) => m.ttftMs !== undefined)
      ? [
          row("TTFT p50", (m) => (m.ttftMs === undefined ? DASH : ms(m.ttftMs.p50))),
          row("TTFT p95", (m) => (m.ttftMs === undefined ? DASH : ms(m.ttftMs.p95))),
        ]
      : []),
    row("Tokens in", (m) => formatInteger(m.tokens.prompt)),
    ...(models.some((m) => m.tokens.cachedPrompt !== undefined)
      ? [
          row("Cached tokens in", (m) =>
            m.tokens.cachedPrompt === undefined ? DASH : formatInteger(m.tokens.cachedPrompt),
          ),
        ]
      : []),
    row("Tokens out", (m) => formatInteger(m.tokens.completion)),
    ...(models.some((m) => m.tokens.reasoning !== undefined)
      ? [row("Reasoning tokens", (m) => (m.tokens.reasoning === undefined ? DASH : formatInteger(m.tokens.reasoning)))]
      : []),
  );
  if (models.some((m) => m.cost !== undefined)) {
    rows.push(row("Cost", (m) => (m.cost === undefined ? DASH : money(m.cost.total, m.cost.currency))));
    if (models.some((m) => (m.cached ?? 0) > 0)) {
      // Answers from the response cache cost nothing this time: shown as avoided, not paid.
      rows.push(
        row("Cost avoided (cached)", (m) => (m.cost === undefined ? DASH : money(m.avoidedCost ?? 0, m.cost.currency))),
      );
    }
    // Cost per pass is per dataset: that dataset's cost over its primary scorer's passes there.
    for (const d of analysis?.decisions ?? []) {
      if (!analysis!.models.some((m) => m.costPerPassByDataset[d.dataset] != null)) continue;
      rows.push(
        row(`Cost per pass (${escapeCell(d.dataset)} · ${escapeCell(d.scorer)})`, (m) => {
          const a = analysisOf(analysis!, m.model);
          const v = a?.costPerPassByDataset[d.dataset];
          return v == null || a!.cost === null ? DASH : money(v, a!.cost.currency);
        }),
      );
    }
  }
  if (models.some((m) => (m.cached ?? 0) > 0))
    rows.push(row("Cached (not paid)", (m) => countWithPct(m.cached ?? 0, m.n)));
  // Batch API answers: billed at the batch discount, and left out of the latency rows.
  if (models.some((m) => (m.batched ?? 0) > 0))
    rows.push(row("Batched (batch price)", (m) => countWithPct(m.batched ?? 0, m.n)));
  rows.push(row("Retried calls", (m) => countWithPct(m.attempts.retried, m.n)));
  return table(header, rows);
}

function datasetTable(models: ModelSummary[], dataset: string): string[] {
  const per = models.map((m) => m.datasets?.[dataset]);
  const header = ["", ...models.map((m) => escapeCell(m.model))];
  const rows: string[][] = [
    ["Results", ...per.map((d) => (d === undefined ? DASH : formatInteger(d.n)))],
    ["Errors", ...per.map((d) => (d === undefined ? DASH : countWithPct(d.errors, d.n)))],
  ];
  const present = per.filter((d): d is DatasetSummary => d !== undefined);
  for (const name of scorerNames(present.map((d) => d.scores))) {
    rows.push([`**${escapeCell(name)}**`, ...scoreCells(per.map((d) => d?.scores[name]))]);
  }
  return table(header, rows);
}

/**
 * Renders the report. Per-dataset tables are added when the run has more than one dataset (with
 * one, they would repeat the summary table).
 */
export function renderMarkdown(input: MarkdownReportInput): string {
  const { summary } = input;
  const { analysis } = input;
  const out: string[] = [`# bakeoff run ${escapeLine(input.runId)}`, ""];
  if (analysis !== undefined) {
    out.push(`**Recommendation:** ${escapeInline(analysis.recommendation)}`, "");
    const d = analysis.decision;
    out.push(
      `<sub>Decided per dataset on its primary scorer: "better" needs a significant paired test (Holm-adjusted, α = ${d.alpha}) and an interval that agrees; "equivalent" needs the 90% interval within ±${d.margin} points; models above ${Number((d.maxErrorRate * 100).toFixed(1))}% failed calls or failing a critical row are not recommended (config \`decision\`).</sub>`,
      "",
    );
  }
  if (input.status === "interrupted") out.push("> **Interrupted:** results cover only the calls that finished.", "");
  if (input.status === "incomplete") out.push("> **Incomplete:** some calls were not made; results are partial.", "");

  const took = duration(input.startedAt, input.endedAt);
  out.push(`- **Started:** ${escapeLine(input.startedAt)}`);
  if (input.endedAt !== undefined)
    out.push(`- **Ended:** ${escapeLine(input.endedAt)}${took === undefined ? "" : ` (${took})`}`);
  out.push(`- **Models:** ${summary.models.map((m) => escapeLine(m.model)).join(", ") || DASH}`);
  out.push("- **Datasets:**");
  for (const d of input.datasets) {
    const sha = d.sha256 === undefined ? "" : `, sha256 ${d.sha256.slice(0, 12)}`;
    out.push(`  - ${escapeLine(d.name)} (${formatInteger(d.rows)} rows${sha})`);
  }
  out.push("");

  out.push("## Summary", "");
  if (summary.models.length === 0) out.push("No results yet.", "");
  else out.push(...summaryTable(summary.models, analysis), "");
  if (summary.models.length > 0) {
    out.push(
      "Scores exclude failed calls (counted under Errors). Binary scores show the pass rate; " +
        "continuous ones the mean (and pass rate at the threshold). Best score per row in bold. " +
        "Latency covers successful calls." +
        (analysis === undefined
          ? ""
          : " Brackets hold 95% intervals (Wilson for pass rates, bootstrap for the rest)" +
            (analysis.trials > 1
              ? `; with ${analysis.trials} trials, each row's trials are averaged first and rows are the unit`
              : "") +
            "."),
      "",
    );
  }
  if (analysis !== undefined && summary.models.length > 0) out.push(...analysisSections(analysis));

  const names = new Set(input.datasets.map((d) => d.name));
  for (const m of summary.models) for (const name of Object.keys(m.datasets ?? {})) names.add(name);
  if (names.size > 1 && summary.models.length > 0) {
    out.push("## By dataset", "");
    const rows = new Map(input.datasets.map((d) => [d.name, d.rows]));
    for (const name of names) {
      const r = rows.get(name);
      out.push(`### ${escapeLine(name)}${r === undefined ? "" : ` (${formatInteger(r)} rows)`}`, "");
      out.push(...datasetTable(summary.models, name), "");
    }
  }

  if (input.notes !== undefined && input.notes.length > 0) {
    out.push("## Notes", "", ...input.notes.map((n) => `- ${escapeLine(n)}`), "");
  }
  // Model output, error bodies and row ids can carry terminal escapes; the report drops them.
  return sanitizeTerminalText(out.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Decision sections (rendered only with an analysis)

function analysisOf(analysis: RunAnalysis, model: string): ModelAnalysis | undefined {
  return analysis.models.find((m) => m.name === model);
}

/**
 * Our own sentences and configured names on one line: no line breaks and no raw HTML. Lighter
 * than {@link escapeUntrusted} so the Markdown source stays readable ("20.0 points", not
 * "20\.0 points"); the text comes from the stats module and the user's config, not a model.
 */
function escapeInline(text: string): string {
  // "p < 0.001" stays readable: only a `<` that could open a tag or comment is escaped.
  return text.replace(/\r\n|\r|\n/g, " ").replace(/<(?=[A-Za-z/!?])/g, "&lt;");
}

/**
 * Makes untrusted text (model output, prompts, expected answers) inert in Markdown: one line,
 * every character with inline meaning backslash-escaped, and `<`, `>`, `&` as entities so no
 * HTML, link, image or emphasis can be injected into the report or a GitHub step summary.
 * Characters that matter only at the start of a line (`#`, `-`, `1.`) are left alone: this text
 * always follows a label or sits in a table cell.
 */
export function escapeUntrusted(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, " ")
    .replace(/[\\`*_[\]|~<>&]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : `\\${c}`));
}

function verdictSection(a: RunAnalysis): string[] {
  if (a.pairs.length === 0) return [];
  const out = ["## Verdicts", ""];
  if (a.multipleTesting.method === "holm") {
    out.push(
      `These ${a.multipleTesting.family} comparisons (model pairs × scorers) are one family: p-values are Holm-adjusted, so the chance of any false "better" stays at ${a.decision.alpha} or less. Unadjusted p-values are in report.json.`,
      "",
    );
  }
  for (const scorer of a.scorers) {
    const pairs = a.pairs.filter((p) => p.scorer === scorer.name);
    if (pairs.length === 0) continue;
    out.push(`### ${escapeInline(scorer.name)}`, "");
    for (const p of pairs) {
      const v = p.verdict;
      const tally =
        v.n === 0
          ? ""
          : ` ${escapeInline(p.a)} vs ${escapeInline(p.b)} row by row: ${v.wins} wins, ${v.ties} ties, ${v.losses} losses.`;
      out.push(`- ${escapeInline(v.sentence)}.${tally}`);
    }
    out.push("");
  }
  return out;
}

function costQualitySection(a: RunAnalysis): string[] {
  const p = a.pareto;
  if (p === null || !a.models.some((m) => m.cost !== null)) return [];
  const header = ["Model", escapeCell(p.scorer), "Cost", "Cost per pass", "Pareto front"];
  const rows = a.models.map((m) => {
    const onFront = p.front.includes(m.name);
    return [
      escapeCell(m.name),
      escapeCell(formatInterval(m.scorers[p.scorer])),
      m.cost === null ? DASH : escapeCell(money(m.cost.total, m.cost.currency)),
      m.cost === null || m.costPerPass === null ? DASH : escapeCell(money(m.costPerPass, m.cost.currency)),
      onFront ? "★ yes" : p.costBasis === null ? DASH : "no",
    ];
  });
  const basis =
    p.costBasis === null
      ? "Some models have no prices, so no Pareto front is drawn."
      : `A model is on the Pareto front when no other model has both a lower ${p.costBasis} and a higher ${escapeInline(p.scorer)} score.`;
  return ["## Cost vs quality", "", ...table(header, rows), "", basis, ""];
}

function finishSplitSection(a: RunAnalysis): string[] {
  if (!a.models.some((m) => m.byFinishReason.length.n > 0)) return [];
  const header = ["", ...a.models.map((m) => escapeCell(m.name))];
  const rows: string[][] = [];
  for (const group of ["stop", "length", "other"] as const) {
    if (!a.models.some((m) => m.byFinishReason[group].n > 0)) continue;
    rows.push([`Finished: ${group}`, ...a.models.map((m) => formatInteger(m.byFinishReason[group].n))]);
    for (const s of a.scorers) {
      rows.push([
        `${group}: ${escapeCell(s.name)}`,
        ...a.models.map((m) => {
          const x = m.byFinishReason[group].scores[s.name];
          if (x === undefined || x.mean === null) return DASH;
          const v = s.kind === "binary" ? pct(x.mean, 1) : x.mean.toFixed(3);
          return `${v} (n=${formatInteger(x.n)})`;
        }),
      ]);
    }
  }
  return [
    "## Scores by finish reason",
    "",
    "Some answers were cut off (`length`). A truncated answer says more about the token limit than about the model, so scores are split by how each call finished.",
    "",
    ...table(header, rows),
    "",
  ];
}

function disagreementSection(a: RunAnalysis): string[] {
  const d = a.disagreements;
  if (d.scorer === null || d.rows.length === 0) return [];
  const out = [
    "## Top disagreements",
    "",
    `${formatInteger(d.total)} row${d.total === 1 ? "" : "s"} where the models' ${escapeInline(d.scorer)} verdicts differ; ` +
      `${d.rows.length < d.total ? `the first ${d.rows.length} in dataset order` : "all of them"}. Outputs are excerpts.`,
    "",
  ];
  for (const row of d.rows) {
    out.push(`### ${escapeInline(row.dataset)} / ${escapeInline(row.rowId)}`, "");
    out.push(`**Prompt:** ${escapeUntrusted(excerptMd(row.prompt))}`, "");
    if (row.expected !== null) out.push(`**Expected:** ${escapeUntrusted(excerptMd(row.expected))}`, "");
    const rows = Object.entries(row.models).map(([model, c]) => [
      escapeCell(model),
      c.score === null
        ? DASH
        : d.scorer !== null && a.trials <= 1
          ? c.score === 1
            ? "✓ pass"
            : "✗ fail"
          : pct(c.score, 1),
      escapeUntrusted(c.finishReason ?? "none"),
      c.error !== undefined
        ? `error: ${escapeUntrusted(excerptMd(c.error))}`
        : c.output === null
          ? DASH
          : escapeUntrusted(excerptMd(c.output)),
    ]);
    out.push(...table(["Model", escapeCell(d.scorer), "Finish", "Output"], rows, 4), "");
  }
  return out;
}

function excerptMd(text: string): string {
  if (text.length <= MD_EXCERPT) return text;
  const cut = text.slice(0, MD_EXCERPT);
  // Never end on half a surrogate pair (an emoji cut in two renders as garbage).
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

function analysisSections(a: RunAnalysis): string[] {
  return [...verdictSection(a), ...costQualitySection(a), ...finishSplitSection(a), ...disagreementSection(a)];
}
