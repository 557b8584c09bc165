/**
 * The per-prompt side-by-side table and its filter controls. Rows are rendered as escaped DOM;
 * what the filters need is precomputed here into data attributes that hold only our own tokens
 * (0/1 flags and model indices), so the client script never reads untrusted text as markup.
 */
import type { RunAnalysis, SideBySideCell, SideBySideRow } from "../analysis.js";
import { html } from "./escape.js";
import { DASH, int, ms } from "./format.js";

/** What the filters know about one row. */
export interface RowFlags {
  /** The models that scored this row have different pass/fail verdicts on some scorer. */
  disagreement: boolean;
  /** Indices (analysis model order) of models whose call failed or that failed a scorer here. */
  failedModels: number[];
  /** Some model's answer was cut off (finish_reason "length"). */
  truncated: boolean;
}

/** Whether a model failed a row: its call failed, or any scorer said it did not pass. */
export function cellFailed(cell: SideBySideCell): boolean {
  if (cell.error !== undefined) return true;
  const scores = cell.scores ?? {};
  for (const name of Object.keys(scores)) if (scores[name]!.pass === false) return true;
  return false;
}

/**
 * The filter flags of a row; `models` is the analysis' model order. Plain loops, no Map, Set or
 * entry arrays per row: this runs for every row of the table in the report's tail, in code not
 * yet optimised, where those allocations were the table's largest self time.
 */
export function rowFlags(row: SideBySideRow, models: readonly string[]): RowFlags {
  // Verdicts only: continuous scores without a pass flag differ on almost every row, and the
  // report's "Top disagreements" also compares pass/fail (see analysis.ts). A scorer disagrees
  // when a later model's verdict differs from the first verdict seen for it.
  const firstVerdict: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let disagreement = false;
  let truncated = false;
  for (const model of Object.keys(row.perModel)) {
    const cell = row.perModel[model]!;
    if (cell.finishReason === "length") truncated = true;
    const scores = cell.scores ?? {};
    for (const name of Object.keys(scores)) {
      const s = scores[name]!;
      if (s.value === null || s.pass === undefined) continue;
      if (!(name in firstVerdict)) firstVerdict[name] = s.pass;
      else if (firstVerdict[name] !== s.pass) disagreement = true;
    }
  }
  const failedModels: number[] = [];
  for (let i = 0; i < models.length; i++) {
    const cell = row.perModel[models[i]!];
    if (cell !== undefined && cellFailed(cell)) failedModels.push(i);
  }
  return { disagreement, failedModels, truncated };
}

/** The filter form: checkboxes, the model select, a search box and the live count. */
export function filterControls(models: readonly string[], shown: number): string {
  const options = models.map((m, i) => html`<option value="${i}">${m}</option>`).join("");
  return (
    `<form class="filters" id="filters" role="search" aria-controls="rows">` +
    `<label><input type="checkbox" id="f-disagree"> Disagreements only</label>` +
    `<label for="f-fail">Failures of model</label> <select id="f-fail"><option value="">(any model)</option>${options}</select>` +
    `<label><input type="checkbox" id="f-trunc"> Truncated (finish_reason length)</label>` +
    `<label for="f-search">Search</label> <input type="search" id="f-search" placeholder="prompt, output, row id…">` +
    html`<output id="row-count" for="f-disagree f-fail f-trunc f-search" aria-live="polite">${int(shown)} of ${int(shown)} rows shown</output>` +
    `</form>`
  );
}

function scoreBadges(cell: SideBySideCell): string {
  return Object.entries(cell.scores ?? {})
    .map(([name, s]) => {
      if (s.value === null)
        return html`<span class="badge unscored" title="${s.error ?? "not scored"}">${name} ${DASH}</span>`;
      const cls = s.pass === true ? "pass" : s.pass === false ? "fail" : "score";
      const mark =
        s.pass === true
          ? " ✓"
          : s.pass === false
            ? " ✗"
            : ` ${Number.isInteger(s.value) ? s.value : s.value.toFixed(3)}`;
      return html`<span class="badge ${cls}" title="${s.reason ?? ""}">${name}${mark}</span>`;
    })
    .join(" ");
}

function modelCell(cell: SideBySideCell | undefined): string {
  if (cell === undefined) return `<td class="missing">${DASH}</td>`;
  const failed = cellFailed(cell);
  const meta = [
    html`<span class="badge finish finish-${cell.finishReason === "length" ? "length" : cell.finishReason === "stop" ? "stop" : "other"}">${cell.finishReason ?? "none"}</span>`,
    scoreBadges(cell),
    html`<span class="lat">${ms(cell.latencyMs)}</span>`,
    cell.trials > 1 ? html`<span class="lat">trial ${cell.trial} of ${cell.trials}</span>` : "",
  ].filter((s) => s !== "");
  const body =
    cell.error !== undefined
      ? html`<div class="err">${cell.error}</div>`
      : cell.output === null
        ? `<div class="out muted">(no output)</div>`
        : html`<div class="out">${cell.output}</div>`;
  return `<td class="${failed ? "cell-fail" : "cell-ok"}">${body}<div class="meta">${meta.join(" ")}</div></td>`;
}

/**
 * The table: one row per prompt, one column per model, in the analysis' model order.
 * `rows` are the first rows in dataset order (already capped by the caller).
 */
export function sideBySideTable(a: RunAnalysis, rows: readonly SideBySideRow[]): string {
  const models = a.models.map((m) => m.name);
  const head =
    `<thead><tr><th scope="col" class="col-row">Row</th><th scope="col" class="col-prompt">Prompt and expected</th>` +
    models.map((m) => html`<th scope="col">${m}</th>`).join("") +
    `</tr></thead>`;
  const body = rows
    .map((row) => {
      const f = rowFlags(row, models);
      const attrs = `data-disagree="${f.disagreement ? 1 : 0}" data-fail=" ${f.failedModels.join(" ")} " data-trunc="${f.truncated ? 1 : 0}"`;
      const prompt =
        html`<div class="out">${row.prompt}</div>` +
        (row.expected === null
          ? ""
          : html`<div class="expected"><span class="label">expected</span> ${row.expected}</div>`);
      return (
        `<tr ${attrs}>` +
        html`<th scope="row" class="col-row">${row.dataset}<br><span class="rowid">${row.rowId}</span><br><span class="muted">line ${row.line}</span></th>` +
        `<td class="col-prompt">${prompt}</td>` +
        models.map((m) => modelCell(row.perModel[m])).join("") +
        `</tr>`
      );
    })
    .join("\n");
  return (
    `<div class="table-wrap"><table id="rows" class="side-by-side">` +
    html`<caption class="sr-only">Every model's answer per prompt (${int(rows.length)} rows)</caption>` +
    head +
    `<tbody>\n${body}\n</tbody></table></div>`
  );
}

/** How many rows are disagreements, failures per model and truncated: for the section's intro. */
export function flagTotals(
  rows: readonly SideBySideRow[],
  models: readonly string[],
): { disagreements: number; truncated: number } {
  let disagreements = 0;
  let truncated = 0;
  for (const r of rows) {
    const f = rowFlags(r, models);
    if (f.disagreement) disagreements++;
    if (f.truncated) truncated++;
  }
  return { disagreements, truncated };
}
