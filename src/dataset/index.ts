/**
 * The dataset layer: turns a configured dataset file into a stream of {@link Row}s. Everything
 * streams: memory stays flat however long the file, except for the set of seen ids.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { DatasetSpec } from "../config/schema.js";
import { DatasetError } from "../errors.js";
import type { Row } from "../types.js";
import { loadRowParamsSchema, resolveDatasetParams } from "./rich.js";
import { readCsv } from "./csv.js";
import { readJsonl, readJsonlBatches, type JsonlEntry } from "./jsonl.js";
import { IdIndex, type IdLookup } from "./id-index.js";
import { createRowMapper, readFailure, type RawRecord, type RowMapper } from "./rows.js";
import { inShard, type Shard } from "./shard.js";

export { IdIndex, type Hash64, type IdLookup } from "./id-index.js";

export { readCsv, type CsvReadOptions } from "./csv.js";
export { readJsonl, type JsonlReadOptions } from "./jsonl.js";

/** A JSONL line that is not a record (see {@link JsonlEntry}). */
type JsonlProblem = Exclude<JsonlEntry, RawRecord>;
export { compileTemplate, renderTemplate, valueToText, type CompiledTemplate, type RowLocation } from "./template.js";
export { formatShard, inShard, parseShard, shardOf, MAX_SHARDS, type Shard } from "./shard.js";
export {
  createRowMapper,
  type RawRecord,
  type InvalidRecordHandler,
  type RowMapper,
  type RowMapperContext,
} from "./rows.js";

/** A row that was skipped because of `skipInvalidRows`. */
export interface SkippedRow {
  file: string;
  line: number;
  /** The problem, one line, without the `file:line:` prefix. */
  reason: string;
}

/** Options for {@link openDataset} and {@link validateDataset}. */
export interface DatasetOpenOptions {
  /**
   * Skip rows with a problem of their own (bad JSON line, ragged CSV row, empty/too long prompt,
   * unknown template variable, duplicate id) instead of failing. Problems with the whole file
   * (missing file, unknown format, invalid UTF-8, CSV quote errors, a CSV header without the
   * prompt column) still throw.
   */
  skipInvalidRows?: boolean;
  /** Told about each skipped row. */
  onSkip?: (info: SkippedRow) => void;
  /** Index of this dataset in the config's `datasets`, for hints such as `datasets[2].columns.prompt`. */
  index?: number;
  /**
   * Reject repeated ids (default true). The runner turns it off for files the plan already
   * validated, so its passes over a million-row dataset keep no per-row state.
   */
  checkDuplicateIds?: boolean;
  /**
   * Yield only the rows of this shard (`--shard i/n`). Everything else still applies to the whole
   * file first, in the same order as without a shard: `spec.limit` counts every row, duplicate
   * ids and invalid rows are found across the file, so the shards of one plan split exactly the
   * rows an unsharded run has.
   */
  shard?: Shard;
  /**
   * The duplicate-id index of this pass (default: a fresh {@link IdIndex}, 64-bit id hashes,
   * 16–32 bytes per row). A suspect (same hash) is confirmed exactly by reading the first use's
   * id back from the file before a row is refused. A caller's index is left as the pass leaves it
   * (never released); rows are read a batch ahead, so a pass the consumer stops early may have
   * added the ids of the rest of that batch too.
   */
  idIndex?: IdIndex;
}

/**
 * Reads a dataset as rows, in file order. `spec.path` must already be absolute (or relative to
 * the working directory); messages show it as given.
 *
 * - Format: `spec.format`, else the extension (.csv, .tsv → tab-delimited CSV, .jsonl, .ndjson).
 * - Id: the `columns.id` value, or `<file base name without extension>:<line>` when a row has none
 *   (stable across reads as long as the file is unchanged above that row).
 * - Prompt: the `columns.prompt` value, or `spec.template` rendered with every column.
 * - Messages: system (the row's `columns.system` value, else `spec.system`), then user.
 * - `spec.limit` stops reading (and closes the file) after that many rows.
 * @throws DatasetError with file and line for the first problem (see {@link DatasetOpenOptions}).
 */
export async function* openDataset(
  spec: DatasetSpec,
  options: DatasetOpenOptions = {},
): AsyncGenerator<Row, void, undefined> {
  for await (const rows of rowBatches(spec, options, buildRow)) yield* rows;
}

/**
 * {@link openDataset}'s rows a read chunk at a time (JSONL: up to one 64 KB chunk's rows; CSV:
 * one row): one await per chunk instead of one per row on the passes that read a whole file
 * before anything is sent (the plan's validation) or while calls are in flight (the producers).
 * A problem ends the batch: the rows before it are yielded first, then it is thrown, so a
 * consumer sees exactly the rows, in the same order, that one row at a time would have given it.
 */
async function* rowBatches<T extends Pick<Row, "id" | "dataset">>(
  spec: DatasetSpec,
  options: DatasetOpenOptions,
  make: (mapper: RowMapper, record: RawRecord) => T,
): AsyncGenerator<T[], void, undefined> {
  const file = spec.path;
  const configPath = options.index === undefined ? "datasets[i]" : `datasets[${options.index}]`;
  const { format, delimiter } = pickFormat(spec, configPath);
  await checkRegularFile(file);
  const stem = basename(file, extname(file));
  const params = await resolveDatasetParams(spec.params, file);
  const mapper = createRowMapper(spec, {
    file,
    ...(params === undefined ? {} : { params }),
    dataset: spec.name ?? stem,
    idPrefix: stem,
    configPath,
  });
  const ids = options.checkDuplicateIds === false ? undefined : (options.idIndex ?? new IdIndex());

  const skip = options.skipInvalidRows
    ? (err: DatasetError): void => options.onSkip?.({ file: err.file, line: err.line ?? 0, reason: err.reason })
    : undefined;
  const read = (onInvalid: typeof skip): AsyncIterable<RawRecord> =>
    format === "csv" ? readCsv(file, { delimiter, onInvalid }) : readJsonl(file, { onInvalid });
  const batches: AsyncIterable<readonly (RawRecord | JsonlProblem)[]> =
    format === "csv" ? oneByOne(read(skip)) : readJsonlBatches(file);

  let yielded = 0;
  let first = true;
  try {
    // Row params are checked with zod, loaded when the first row that has them comes (rich.ts).
    const paramsColumn = spec.columns.params ?? "params";
    let paramsSchemaLoaded = false;
    for await (const batch of batches) {
      const rows: T[] = [];
      try {
        for (const entry of batch) {
          let record: RawRecord;
          if ("values" in entry) record = entry;
          else if ("fatal" in entry) throw entry.fatal;
          else if (skip === undefined) throw entry.invalid;
          else {
            // A bad JSONL line, reported where one record at a time reported it.
            skip(entry.invalid);
            continue;
          }
          // CSV rows all share the header, so a missing column is the file's problem: checked once.
          if (first && format === "csv") mapper.checkColumns(Object.keys(record.values), record.line);
          first = false;
          let row: T;
          try {
            if (!paramsSchemaLoaded && record.values[paramsColumn] != null) {
              await loadRowParamsSchema();
              paramsSchemaLoaded = true;
            }
            row = make(mapper, record);
            // Checked last so a row rejected for another reason does not claim its id.
            if (ids !== undefined) {
              // A new id (the usual case) is settled without an await: one promise less per row on
              // the validation pass that runs before the first call.
              const found = ids.add(row.id, record.line);
              if (found.kind !== "new") await checkRepeat(ids, found, row.id, record.line, mapper, read, file);
            }
          } catch (err) {
            if (skip === undefined || !(err instanceof DatasetError)) throw err;
            skip(err);
            continue;
          }
          if (inShard(options.shard, row.dataset, row.id)) rows.push(row);
          // Returning closes the reader, which closes the file: nothing past the limit is read.
          if (spec.limit !== undefined && ++yielded >= spec.limit) {
            if (rows.length > 0) yield rows;
            return;
          }
        }
      } catch (err) {
        if (rows.length > 0) yield rows;
        throw err;
      }
      if (rows.length > 0) yield rows;
    }
  } finally {
    // An index of our own is freed as soon as the pass ends, not at V8's next full collection
    // (IdIndex.release: a 1M-row dataset's 24 MB otherwise overlapped the run loop's start).
    if (options.idIndex === undefined) ids?.release();
  }
}

/** {@link rowBatches}' rows for the producers: built in full. */
const buildRow = (mapper: RowMapper, record: RawRecord): Row => mapper.map(record);
/** {@link rowBatches}' rows for the validation pass: every check made, no row built. */
const checkRow = (mapper: RowMapper, record: RawRecord): Pick<Row, "id" | "dataset"> => mapper.check(record);

/** A reader's records as batches of one (CSV: csv-parse hands them out one by one). */
async function* oneByOne(records: AsyncIterable<RawRecord>): AsyncGenerator<RawRecord[], void, undefined> {
  for await (const record of records) yield [record];
}

/**
 * The duplicate-id check of a row whose id's hash was seen before (`found`, from `ids.add`): a
 * hash match is confirmed by reading the id used at the first line back from the file (one
 * partial read per distinct duplicated id; a true 64-bit collision, ~3e-8 at a million rows,
 * costs one read and is then let through).
 * @throws DatasetError when `id` really was used before
 */
async function checkRepeat(
  ids: IdIndex,
  found: Exclude<IdLookup, { kind: "new" }>,
  id: string,
  line: number,
  mapper: RowMapper,
  read: (onInvalid: (err: DatasetError) => void) => AsyncIterable<RawRecord>,
  file: string,
): Promise<void> {
  let repeat = found.kind === "duplicate";
  if (found.kind === "suspect") {
    let firstId: string | undefined;
    // Bad records before it were skipped or refused on the first read; here they are just passed.
    for await (const rec of read(() => undefined)) {
      if (rec.line === found.firstLine) {
        firstId = mapper.idOf(rec);
        break;
      }
      if (rec.line > found.firstLine) break;
    }
    if (firstId === undefined) throw new DatasetError(`line ${found.firstLine} changed while being read`, { file });
    repeat = ids.resolve(found, firstId, id, line);
  }
  if (repeat) throw new DatasetError(`duplicate id "${id}" (first used at line ${found.firstLine})`, { file, line });
}

/**
 * Reads a dataset through (up to `spec.limit` rows) without calling any model, so that bad input
 * fails before anything is sent.
 * @returns the number of usable rows (in `options.shard`, when given) and of rows skipped (only with
 *   `skipInvalidRows`); with a shard also `total`, the usable rows of the whole file.
 * @throws DatasetError for the first problem, exactly as {@link openDataset} would.
 */
export async function validateDataset(
  spec: DatasetSpec,
  options: DatasetOpenOptions = {},
): Promise<{ rows: number; skipped: number; total?: number }> {
  let rows = 0;
  let total = 0;
  let skipped = 0;
  const onSkip = (info: SkippedRow): void => {
    skipped++;
    options.onSkip?.(info);
  };
  // Read the whole file and apply the shard here, with the same predicate openDataset uses: then
  // an empty shard is told apart from an empty file.
  const { shard, ...whole } = options;
  // Checked, not built: only the ids (duplicates, shard) and the count are needed here.
  for await (const batch of rowBatches(spec, { ...whole, onSkip }, checkRow)) {
    total += batch.length;
    for (const row of batch) if (inShard(shard, row.dataset, row.id)) rows++;
  }
  return shard === undefined ? { rows, skipped } : { rows, skipped, total };
}

/** One problem {@link checkDataset} found: a bad row (with its line) or the whole file. */
export interface DatasetProblem {
  file: string;
  /** 1-based line of the row; absent when the problem is the whole file's. */
  line?: number;
  /** One line, starting with `file:line:` as DatasetError messages do. */
  message: string;
}

/** What {@link checkDataset} found in one file. */
export interface DatasetCheck {
  /** Usable rows (up to `spec.limit`). */
  rows: number;
  /** The first `maxProblems` problems, in file order; a file-level problem ends the list. */
  problems: DatasetProblem[];
  /** Problems found beyond `maxProblems` (counted, not kept). */
  more: number;
}

/** Problems kept per file by {@link checkDataset} unless told otherwise. */
export const MAX_PROBLEMS_PER_FILE = 20;

/**
 * Reads a dataset through and collects every problem instead of stopping at the first (what
 * `bakeoff validate` shows): each bad row, then, if one stops the read (missing file, CSV header
 * without the prompt column, invalid UTF-8), that one. Never throws a {@link DatasetError}.
 */
export async function checkDataset(
  spec: DatasetSpec,
  options: Pick<DatasetOpenOptions, "index"> & { maxProblems?: number } = {},
): Promise<DatasetCheck> {
  const max = options.maxProblems ?? MAX_PROBLEMS_PER_FILE;
  const check: DatasetCheck = { rows: 0, problems: [], more: 0 };
  const add = (p: DatasetProblem): void => {
    if (check.problems.length < max) check.problems.push(p);
    else check.more++;
  };
  try {
    const rows = openDataset(spec, {
      ...(options.index === undefined ? {} : { index: options.index }),
      skipInvalidRows: true,
      onSkip: (s) => add({ file: s.file, line: s.line, message: `${s.file}:${s.line}: ${s.reason}` }),
    });
    for await (const _row of rows) check.rows++;
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    add({ file: err.file, ...(err.line === undefined ? {} : { line: err.line }), message: err.message });
  }
  return check;
}

/**
 * SHA-256 of the file's bytes, hex, streamed. Recorded in run.json so `compare` can tell whether
 * two runs saw the same data.
 * @throws DatasetError when the file cannot be read.
 */
export async function hashDataset(file: string): Promise<string> {
  await checkRegularFile(file);
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (err) {
    throw readFailure(err, file);
  }
  return hash.digest("hex");
}

/**
 * A dataset is read several times (validate, hash, once per model), so it must be a regular file:
 * a FIFO would block forever on the second read, a device never ends. Standard input is
 * supported by spooling it to a file first (`--dataset -`).
 * @throws DatasetError naming the file when it is anything else.
 */
export async function checkRegularFile(file: string): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    throw readFailure(err, file);
  }
  if (st.isFile()) return;
  const kind = st.isDirectory()
    ? "a directory"
    : st.isFIFO()
      ? "a named pipe (FIFO)"
      : st.isSocket()
        ? "a socket"
        : "a device or special file";
  throw new DatasetError(
    `is ${kind}, not a regular file; datasets are read more than once, so give a file (or --dataset - to read standard input)`,
    { file },
  );
}

function pickFormat(spec: DatasetSpec, configPath: string): { format: "csv" | "jsonl"; delimiter: string } {
  const ext = extname(spec.path).toLowerCase();
  const tabs = ext === ".tsv";
  let format = spec.format;
  if (format === undefined) {
    if (ext === ".csv" || tabs) format = "csv";
    else if (ext === ".jsonl" || ext === ".ndjson") format = "jsonl";
    else {
      throw new DatasetError(
        `cannot tell the format from the extension "${ext || "(none)"}"; ` +
          `use .csv, .tsv, .jsonl or .ndjson, or set ${configPath}.format to "csv" or "jsonl"`,
        { file: spec.path },
      );
    }
  }
  return { format, delimiter: spec.delimiter ?? (tabs ? "\t" : ",") };
}
