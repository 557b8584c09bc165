/**
 * The contract between the file readers and the rest of the dataset layer (the {@link RawRecord}
 * they yield, the way they report read failures), and the mapping of one raw record to a
 * {@link Row}: column mapping, template rendering, per-row validation.
 */
import type { DatasetSpec } from "../config/schema.js";
import { DatasetError } from "../errors.js";
import type { ChatMessage, GenerationParams, Row } from "../types.js";
import { readMessages, readRowParams } from "./rich.js";
import { compileTemplate, valueToText, type CompiledTemplate } from "./template.js";

/** One record as read from a file, before column mapping. */
export interface RawRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  /** Column name → value: strings for CSV, any JSON value for JSONL. */
  values: Record<string, unknown>;
}

/**
 * Called by a reader for a problem confined to one record (a ragged CSV row, a bad JSONL line).
 * When a reader is given one it reports the record there and keeps reading; without one it throws.
 */
export type InvalidRecordHandler = (error: DatasetError) => void;

/** Turns a failure to open or read a dataset file into a DatasetError naming the path as given. */
export function readFailure(err: unknown, file: string): DatasetError {
  if (err instanceof DatasetError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === "ENOENT"
      ? "file not found"
      : code === "EISDIR"
        ? "is a directory, not a dataset file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : `cannot read the file: ${err instanceof Error ? err.message : String(err)}`;
  return new DatasetError(reason, { file }, { cause: err });
}

/** What {@link createRowMapper} needs besides the spec. */
export interface RowMapperContext {
  /** The dataset file, as it should appear in messages. */
  file: string;
  /** `Row.dataset`. */
  dataset: string;
  /** Prefix of derived ids (`<prefix>:<line>`): the file's base name without extension. */
  idPrefix: string;
  /** Config path of this dataset for hints, e.g. `datasets[2]`. */
  configPath: string;
  /** The dataset's `params` with files resolved; defaults to `spec.params` as written. */
  params?: GenerationParams;
}

/**
 * Maps raw records of one dataset to rows. Stateless: the duplicate-id check of a pass is
 * {@link openDataset}'s (it needs the file to confirm a suspect exactly).
 */
export interface RowMapper {
  /**
   * Checks once, against a header, that the columns the spec needs exist. For CSV every row has
   * the same columns, so a missing one is a problem with the file, not with a row.
   * @throws DatasetError at `line` (the first row's) when the prompt column or a template
   * variable is missing.
   */
  checkColumns(columns: readonly string[], line: number): void;
  /**
   * Maps one record to a row.
   * @throws DatasetError for a problem with this row only (missing prompt, empty or too long
   * prompt, unknown template variable).
   */
  map(record: RawRecord): Row;
  /**
   * Every check {@link map} makes, without building the row: the row's id and dataset. For the
   * validation pass before the first call, which keeps no row (building each row's messages and
   * vars there was a fifth of that pass's CPU).
   * @throws DatasetError exactly where {@link map} would
   */
  check(record: RawRecord): Pick<Row, "id" | "dataset">;
  /** The id a record gets: its id column, else `<idPrefix>:<line>`. */
  idOf(record: RawRecord): string;
}

/** Creates the mapper for a dataset. */
export function createRowMapper(spec: DatasetSpec, ctx: RowMapperContext): RowMapper {
  const cols = spec.columns;
  const messagesCol = cols.messages ?? "messages";
  const paramsCol = cols.params ?? "params";
  /** The dataset's params, with any schemaFile already resolved (see `resolveDatasetParams`). */
  const datasetParams = ctx.params ?? spec.params;
  const template: CompiledTemplate | undefined =
    spec.template === undefined ? undefined : compileTemplate(spec.template);
  const { file } = ctx;
  const idOf = ({ line, values }: RawRecord): string => nonEmpty(values[cols.id]) ?? `${ctx.idPrefix}:${line}`;

  const missingPrompt = (columns: readonly string[], line: number): DatasetError =>
    new DatasetError(
      `column "${cols.prompt}" not found; columns are: ${columns.join(", ") || "(none)"}. ` +
        `Map it with ${ctx.configPath}.columns.prompt (or set ${ctx.configPath}.template)`,
      { file, line },
    );

  /** Every check of a record, in order, and what they computed: all that can reject a record. */
  const checked = ({ line, values }: RawRecord) => {
    const where = { file, line };
    // A conversation replaces the prompt (and the system column); the dataset's system
    // message still leads it when the conversation has none of its own.
    const conversation = richValue(values[messagesCol], cols.messages !== undefined, where, messagesCol);
    const richMessages = conversation === undefined ? undefined : readMessages(conversation, where, messagesCol);
    const paramsValue = richValue(values[paramsCol], cols.params !== undefined, where, paramsCol);
    const rowParams = paramsValue === undefined ? undefined : readRowParams(paramsValue, where, paramsCol);
    let prompt: string;
    if (richMessages !== undefined) {
      prompt = "(conversation)";
    } else if (template !== undefined) {
      prompt = template(values, where);
    } else {
      const raw = values[cols.prompt];
      if (raw === undefined) throw missingPrompt(Object.keys(values), line);
      // A number or an object as a prompt is almost always a mapping mistake; sending its JSON
      // text silently would evaluate something nobody wrote. A template may render it on purpose.
      if (raw !== null && typeof raw !== "string") {
        throw new DatasetError(
          `prompt (column "${cols.prompt}") is ${Array.isArray(raw) ? "an array" : typeof raw === "object" ? "an object" : `a ${typeof raw}`}, not text; ` +
            `write it as a JSON string, or set ${ctx.configPath}.template to render it (e.g. "{{${cols.prompt}}}")`,
          where,
        );
      }
      prompt = valueToText(raw) ?? "";
    }
    if (prompt.trim() === "") {
      throw new DatasetError(
        template === undefined ? `empty prompt (column "${cols.prompt}")` : "the template rendered an empty prompt",
        where,
      );
    }
    if (prompt.length > spec.maxPromptChars) {
      throw new DatasetError(
        `prompt has ${prompt.length} characters, more than maxPromptChars (${spec.maxPromptChars})`,
        where,
      );
    }

    return { id: idOf({ line, values }), richMessages, rowParams, prompt };
  };

  return {
    idOf,
    check(record) {
      return { id: checked(record).id, dataset: ctx.dataset };
    },
    checkColumns(columns, line) {
      if (template === undefined) {
        if (!columns.includes(cols.prompt)) throw missingPrompt(columns, line);
        return;
      }
      const present = new Set(columns);
      for (const name of template.variables) {
        if (!present.has(name)) {
          throw new DatasetError(
            `template variable {{${name}}} is not a column; columns are: ${columns.join(", ") || "(none)"}`,
            { file, line },
          );
        }
      }
    },

    map(record) {
      const { line, values } = record;
      const { id, richMessages, rowParams, prompt } = checked(record);
      // Nothing below can reject the record (see checked).

      // A blank per-row system cell means "no override", not "send an empty system message".
      const system = nonEmpty(values[cols.system]) ?? spec.system;
      let messages: ChatMessage[];
      if (richMessages !== undefined) {
        const hasSystem = richMessages.some((m) => m.role === "system" || m.role === "developer");
        messages =
          system === undefined || hasSystem ? richMessages : [{ role: "system", content: system }, ...richMessages];
      } else {
        messages =
          system === undefined
            ? [{ role: "user", content: prompt }]
            : [
                { role: "system", content: system },
                { role: "user", content: prompt },
              ];
      }
      const row: Row = { id, dataset: ctx.dataset, line, messages, vars: toVars(values) };
      if (datasetParams !== undefined || rowParams !== undefined) row.params = { ...datasetParams, ...rowParams };
      // CSV cannot tell a blank cell from an empty answer; both mean "no expected answer".
      const expected = nonEmpty(values[cols.expected]);
      if (expected !== undefined) row.expected = expected;
      return row;
    },
  };
}

/**
 * A conversation or params value: JSON arrays/objects as JSONL holds them. Text (a CSV cell) is
 * read as JSON only when the column was mapped explicitly, so a CSV that merely happens to have a
 * "messages" or "params" column keeps working as before; a blank cell means none.
 */
function richValue(value: unknown, mapped: boolean, where: { file: string; line: number }, column: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return value;
  if (!mapped || value.trim() === "") return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new DatasetError(`${column}: not valid JSON (${err instanceof Error ? err.message : String(err)})`, {
      ...where,
      column,
    });
  }
}

function nonEmpty(value: unknown): string | undefined {
  const text = valueToText(value);
  return text === "" ? undefined : text;
}

/** Every column as a string (see {@link valueToText}); own properties only, even `__proto__`. */
function toVars(values: Record<string, unknown>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const key of Object.keys(values)) {
    const text = valueToText(values[key]) ?? "";
    if (key === "__proto__")
      Object.defineProperty(vars, key, { value: text, enumerable: true, writable: true, configurable: true });
    else vars[key] = text;
  }
  return vars;
}
