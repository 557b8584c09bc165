/**
 * predictions.csv: one line per journal record, for people who open results in a spreadsheet.
 *
 * Model output is untrusted, and a cell starting with `=`, `+`, `-`, `@`, tab or CR is run as a
 * formula by Excel, LibreOffice and Google Sheets (CSV injection). Text cells that start with one
 * of those get a leading `'`, which spreadsheets treat as "this is text" and do not display.
 * Numeric columns are written by us from numbers, never from model text, so they stay plain
 * (a negative score must remain a number). Quoting follows RFC 4180; lines end with CRLF and the
 * file starts with a UTF-8 BOM so Excel reads non-ASCII text correctly.
 *
 * The file is streamed to disk record by record; memory does not grow with the run.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { RunAnalysis } from "./analysis.js";
import { promptOf } from "./analysis.js";
import { runRecords } from "../store/journal.js";

export const PREDICTIONS_CSV = "predictions.csv";

const FORMULA_START = /^[=+\-@\t\r]/;

/** Neutralises a text cell that a spreadsheet would run as a formula. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** RFC 4180 quoting: a field with a quote, comma or line break is quoted, quotes doubled. */
export function quoteCsv(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** A text cell: formula-neutralised, then quoted. */
function text(value: string | null | undefined): string {
  return value === null || value === undefined ? "" : quoteCsv(neutraliseFormula(value));
}

/** A numeric cell: plain digits (and sign), empty when unknown. */
function num(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "" : String(value);
}

async function write(out: WriteStream, chunk: string): Promise<void> {
  // Respect back-pressure so a slow disk cannot make the whole file pile up in memory.
  if (!out.write(chunk)) await once(out, "drain");
}

/**
 * Writes predictions.csv for the run at `runDir` to `path`. Columns: run_id, dataset, row_id,
 * model, trial, finish_reason, error_kind, latency_ms, prompt_tokens, completion_tokens, one
 * `score_<scorer>` column per scorer (the numeric value), prompt (last user message), expected,
 * output.
 */
export async function writePredictionsCsv(runDir: string, analysis: RunAnalysis, path: string): Promise<void> {
  const scorers = analysis.scorers.map((s) => s.name);
  const out = createWriteStream(path, { encoding: "utf8" });
  const done = finished(out);
  // Observed here so a write error cannot surface as an unhandled rejection before `finally`.
  done.catch(() => undefined);
  try {
    const header = [
      "run_id",
      "dataset",
      "row_id",
      "model",
      "trial",
      "finish_reason",
      "error_kind",
      "latency_ms",
      "prompt_tokens",
      "completion_tokens",
      ...scorers.map((s) => `score_${s}`),
      "prompt",
      "expected",
      "output",
    ];
    await write(out, "\uFEFF" + header.map(text).join(",") + "\r\n");
    const runId = analysis.manifest.runId;
    for await (const r of runRecords(runDir, analysis.manifest)) {
      const o = r.output;
      const cells = [
        text(runId),
        text(r.dataset),
        text(r.rowId),
        text(r.model),
        num(r.trial),
        text(o.finishReason),
        text(o.error?.kind),
        num(o.latencyMs),
        num(o.usage?.promptTokens),
        num(o.usage?.completionTokens),
        ...scorers.map((s) => num(r.scores?.[s]?.value)),
        text(promptOf(r)),
        text(r.expected),
        text(o.text),
      ];
      await write(out, cells.join(",") + "\r\n");
    }
  } finally {
    out.end();
    await done;
  }
}
