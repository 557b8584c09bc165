/**
 * Renders a run summary as a Markdown report meant to be read by a person deciding which model to
 * ship: models side by side (one column each), one metric per row, best score per row in bold.
 */
import type { DatasetSummary, ModelSummary, RunSummary, ScoreStats } from "./summary.js";

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
}

const DASH = "–";
const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Makes text safe inside a table cell: `|` would split the cell and a newline would end the row. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r\n|\r|\n/g, " ");
}

/** Makes text safe on one Markdown line (headings, list items): newlines would break the structure. */
function escapeLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ");
}

function pct(part: number, whole: number): string {
  return whole === 0 ? DASH : `${((100 * part) / whole).toFixed(1)}%`;
}

function countWithPct(count: number, whole: number): string {
  return whole === 0 ? DASH : `${integer.format(count)} (${pct(count, whole)})`;
}

function ms(value: number | null): string {
  return value === null ? DASH : `${integer.format(Math.round(value))} ms`;
}

function money(value: number, currency: string): string {
  // Per-run costs are often fractions of a cent; two decimals would print 0.00 for them.
  const digits = value >= 1 ? 2 : 4;
  return `${value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${currency}`;
}

function formatScore(s: ScoreStats | undefined): string {
  if (s === undefined || s.mean === null) return s !== undefined && s.errors > 0 ? `${DASH} (${s.errors} unscored)` : DASH;
  let text: string;
  if (s.passRate === undefined) text = s.mean.toFixed(3);
  // Binary scorers: the mean is the pass rate; say it once, as a percentage.
  else if (Math.abs(s.passRate - s.mean) < 1e-12) text = pct(s.passRate, 1);
  else text = `${s.mean.toFixed(3)} · ${pct(s.passRate, 1)} pass`;
  return s.errors > 0 ? `${text} (${integer.format(s.errors)} unscored)` : text;
}

/**
 * Bolds the best (highest-mean) cells of a score row when the models differ. Means are compared
 * at display precision (0.001, i.e. 0.1 percentage points) so float noise never bolds one of two
 * cells that read the same.
 */
function scoreCells(stats: (ScoreStats | undefined)[]): string[] {
  const means = stats.map((s) => (s?.mean == null ? null : Math.round(s.mean * 1000)));
  const present = means.filter((m): m is number => m !== null);
  const best = present.length >= 2 && new Set(present).size > 1 ? Math.max(...present) : null;
  return stats.map((s, i) => {
    const cell = escapeCell(formatScore(s));
    return best !== null && means[i] === best ? `**${cell}**` : cell;
  });
}

/** Scorer names in first-seen order across models. */
function scorerNames(scoreMaps: Record<string, ScoreStats>[]): string[] {
  const names = new Set<string>();
  for (const m of scoreMaps) for (const name of Object.keys(m)) names.add(name);
  return [...names];
}

function table(header: string[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map(line)];
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
    .map(([kind, n]) => `${kind} ${integer.format(n)}`);
  return parts.length === 0 ? DASH : parts.join(", ");
}

function summaryTable(models: ModelSummary[]): string[] {
  const header = ["", ...models.map((m) => escapeCell(m.model))];
  const row = (label: string, cell: (m: ModelSummary) => string) => [label, ...models.map((m) => escapeCell(cell(m)))];
  const rows: string[][] = [
    row("Results", (m) => integer.format(m.n)),
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
    rows.push([`**${escapeCell(name)}**`, ...scoreCells(models.map((m) => m.scores[name]))]);
  }
  rows.push(
    row("Latency p50", (m) => ms(m.latencyMs.p50)),
    row("Latency p95", (m) => ms(m.latencyMs.p95)),
    row("Tokens in", (m) => integer.format(m.tokens.prompt)),
    row("Tokens out", (m) => integer.format(m.tokens.completion)),
  );
  if (models.some((m) => m.cost !== undefined)) {
    rows.push(row("Cost", (m) => (m.cost === undefined ? DASH : money(m.cost.total, m.cost.currency))));
  }
  rows.push(row("Retried calls", (m) => countWithPct(m.attempts.retried, m.n)));
  return table(header, rows);
}

function datasetTable(models: ModelSummary[], dataset: string): string[] {
  const per = models.map((m) => m.datasets?.[dataset]);
  const header = ["", ...models.map((m) => escapeCell(m.model))];
  const rows: string[][] = [
    ["Results", ...per.map((d) => (d === undefined ? DASH : integer.format(d.n)))],
    ["Errors", ...per.map((d) => (d === undefined ? DASH : countWithPct(d.errors, d.n)))],
  ];
  const present = per.filter((d): d is DatasetSummary => d !== undefined);
  for (const name of scorerNames(present.map((d) => d.scores))) {
    rows.push([`**${escapeCell(name)}**`, ...scoreCells(per.map((d) => d?.scores[name]))]);
  }
  return table(header, rows);
}

function duration(startedAt: string, endedAt: string | undefined): string | undefined {
  if (endedAt === undefined) return undefined;
  const seconds = Math.round((Date.parse(endedAt) - Date.parse(startedAt)) / 1000);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/**
 * Renders the report. Per-dataset tables are added when the run has more than one dataset (with
 * one, they would repeat the summary table).
 */
export function renderMarkdown(input: MarkdownReportInput): string {
  const { summary } = input;
  const out: string[] = [`# bakeoff run ${escapeLine(input.runId)}`, ""];
  if (input.status === "interrupted") out.push("> **Interrupted:** results cover only the calls that finished.", "");
  if (input.status === "incomplete") out.push("> **Incomplete:** some calls were not made; results are partial.", "");

  const took = duration(input.startedAt, input.endedAt);
  out.push(`- **Started:** ${escapeLine(input.startedAt)}`);
  if (input.endedAt !== undefined) out.push(`- **Ended:** ${escapeLine(input.endedAt)}${took === undefined ? "" : ` (${took})`}`);
  out.push(`- **Models:** ${summary.models.map((m) => escapeLine(m.model)).join(", ") || DASH}`);
  out.push("- **Datasets:**");
  for (const d of input.datasets) {
    const sha = d.sha256 === undefined ? "" : `, sha256 ${d.sha256.slice(0, 12)}`;
    out.push(`  - ${escapeLine(d.name)} (${integer.format(d.rows)} rows${sha})`);
  }
  out.push("");

  out.push("## Summary", "");
  if (summary.models.length === 0) out.push("No results yet.", "");
  else out.push(...summaryTable(summary.models), "");
  if (summary.models.length > 0) {
    out.push(
      "Scores exclude failed calls (counted under Errors). Binary scores show the pass rate; " +
        "continuous ones the mean (and pass rate at the threshold). Best score per row in bold. " +
        "Latency covers successful calls.",
      "",
    );
  }

  const names = new Set(input.datasets.map((d) => d.name));
  for (const m of summary.models) for (const name of Object.keys(m.datasets ?? {})) names.add(name);
  if (names.size > 1 && summary.models.length > 0) {
    out.push("## By dataset", "");
    const rows = new Map(input.datasets.map((d) => [d.name, d.rows]));
    for (const name of names) {
      const r = rows.get(name);
      out.push(`### ${escapeLine(name)}${r === undefined ? "" : ` (${integer.format(r)} rows)`}`, "");
      out.push(...datasetTable(summary.models, name), "");
    }
  }

  if (input.notes !== undefined && input.notes.length > 0) {
    out.push("## Notes", "", ...input.notes.map((n) => `- ${escapeLine(n)}`), "");
  }
  return out.join("\n");
}
