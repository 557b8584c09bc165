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
import type { PredictionRecord } from "../types.js";
import { promptOf } from "./analysis.js";
import { runRecords } from "../store/journal.js";

export const PREDICTIONS_CSV = "predictions.csv";

const FORMULA_START = /^[=+\-@\t\r]/;

/** Neutralises a text cell that a spreadsheet would run as a formula. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180 quoting: a field with a quote, comma or line break is quoted, quotes doubled. */
export function quoteCsv(field: string): string {
  return NEEDS_QUOTES.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

// Anything neutraliseFormula or quoteCsv would change: one scan instead of two per cell (a
// million-record CSV has ~7 million text cells, nearly all plain). Built from their own patterns
// so the shortcut cannot drift from them.
const CSV_CHANGES = new RegExp(`${FORMULA_START.source}|${NEEDS_QUOTES.source}`);

/** A text cell: formula-neutralised, then quoted. */
export function csvText(value: string | null | undefined): string {
  if (value === null || value === undefined) return "";
  return CSV_CHANGES.test(value) ? quoteCsv(neutraliseFormula(value)) : value;
}

/** A numeric cell: plain digits (and sign), empty when unknown. */
function num(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "" : String(value);
}

/** The BOM and header line. Columns: see {@link writePredictionsCsv}. */
export function csvHeader(scorers: string[]): string {
  const cells = [
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
  return "\uFEFF" + cells.map(csvText).join(",") + "\r\n";
}

/**
 * predictions.csv as a stream: {@link add} one record at a time (in journal order), then
 * {@link close}. Lines are batched into chunks of about 64 KB before they reach the file stream,
 * so a million records are a few thousand writes; only one chunk is ever held.
 */
export class PredictionsCsvWriter {
  private buf = "";
  private readonly scorers: string[];
  private readonly runId: string;
  private readonly done: Promise<void>;

  private constructor(
    private readonly out: WriteStream,
    analysis: RunAnalysis,
  ) {
    this.scorers = analysis.scorers.map((s) => s.name);
    this.runId = csvText(analysis.manifest.runId);
    this.done = finished(out);
    // Observed here so a write error cannot surface as an unhandled rejection before close().
    this.done.catch(() => undefined);
    this.buf = csvHeader(this.scorers);
  }

  /** Starts writing `path` (created or truncated). */
  static open(path: string, analysis: RunAnalysis): PredictionsCsvWriter {
    return new PredictionsCsvWriter(createWriteStream(path, { encoding: "utf8" }), analysis);
  }

  /** Adds one record's line; returns a promise only when the file stream asks to wait (back-pressure). */
  add(r: PredictionRecord): Promise<void> | undefined {
    this.buf += csvLine(r, this.runId, this.scorers);
    if (this.buf.length < CHUNK) return undefined;
    return this.flush();
  }

  private flush(): Promise<void> | undefined {
    const chunk = this.buf;
    this.buf = "";
    // Respect back-pressure so a slow disk cannot make the whole file pile up in memory.
    return this.out.write(chunk) ? undefined : once(this.out, "drain").then(() => undefined);
  }

  /** Writes what is left and closes the file; rejects with the stream's error, if any. */
  async close(): Promise<void> {
    try {
      if (this.buf !== "") await this.flush();
    } finally {
      this.out.end();
      await this.done;
    }
  }

  /** Closes the file without finishing it (the caller removes it). */
  destroy(): void {
    if (!this.out.closed) this.out.destroy();
  }
}

/** One record's line (CRLF-terminated); `runIdCell` is `csvText(runId)`, computed once per file. */
export function csvLine(r: PredictionRecord, runIdCell: string, scorers: readonly string[]): string {
  const o = r.output;
  let line = `${runIdCell},${csvText(r.dataset)},${csvText(r.rowId)},${csvText(r.model)},${num(r.trial)},${csvText(o.finishReason)},${csvText(o.error?.kind)},${num(o.latencyMs)},${num(o.usage?.promptTokens)},${num(o.usage?.completionTokens)}`;
  for (const s of scorers) line += `,${num(r.scores?.[s]?.value)}`;
  return `${line},${csvText(promptOf(r))},${csvText(r.expected)},${csvText(o.text)}\r\n`;
}

/** Characters gathered before a write to the file stream. */
const CHUNK = 64 * 1024;

/**
 * Writes predictions.csv for the run at `runDir` to `path`. Columns: run_id, dataset, row_id,
 * model, trial, finish_reason, error_kind, latency_ms, prompt_tokens, completion_tokens, one
 * `score_<scorer>` column per scorer (the numeric value), prompt (last user message), expected,
 * output.
 */
export async function writePredictionsCsv(runDir: string, analysis: RunAnalysis, path: string): Promise<void> {
  const csv = PredictionsCsvWriter.open(path, analysis);
  try {
    for await (const r of runRecords(runDir, analysis.manifest)) {
      const wait = csv.add(r);
      if (wait) await wait;
    }
  } catch (err) {
    csv.destroy();
    throw err;
  }
  await csv.close();
}
