/**
 * Streaming CSV/TSV reader: csv-parse over a file stream, with a UTF-8 check in front of it and
 * our own line accounting (csv-parse counts a CRLF inside a quoted field as two lines, so its
 * `info.lines` drifts after such a field; we derive each record's start line ourselves).
 */
import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { CsvError, parse, type InfoRecord } from "csv-parse";
import { DatasetError } from "../errors.js";
import { readFailure, type InvalidRecordHandler, type RawRecord } from "./rows.js";

/** Options for {@link readCsv}. */
export interface CsvReadOptions {
  /** Field delimiter (1–4 characters). @default "," */
  delimiter?: string;
  /**
   * Receives rows whose field count differs from the header's, and reading continues. Without
   * it such a row is thrown. Syntax errors (quotes) always throw: after one, where records start
   * is guesswork, and skipping would silently merge or drop data.
   */
  onInvalid?: InvalidRecordHandler;
}

/** A record longer than this is almost always a wrong delimiter or a stray quote. */
const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/**
 * Reads a CSV file record by record. The header row names the columns; a UTF-8 BOM is dropped;
 * LF, CRLF and CR line ends, quoted fields with delimiters, quotes and line breaks all work;
 * blank lines are skipped. Each record carries the line it starts on.
 * @throws DatasetError naming the file and line: missing file, invalid UTF-8, quote errors,
 * duplicate header names, and (without `onInvalid`) ragged rows.
 */
export async function* readCsv(file: string, opts: CsvReadOptions = {}): AsyncGenerator<RawRecord, void, undefined> {
  // Start line of record k = 1 + Σ over earlier records (header included) of (1 + line breaks
  // inside the record) + blank lines skipped so far (csv-parse counts those correctly).
  let linesBefore = 0;
  let headerLength = 0;
  // Records parsed but not yet handed out, in file order. `on_record` runs synchronously as the
  // parser goes, so when the parser (or the UTF-8 check) fails, everything before the failure is
  // here and is delivered first: problems are reported in file order (csv-parse looks a few bytes
  // ahead, so a record ending within those bytes of the failure is the one exception). Bounded by
  // what the parser has buffered (about one read chunk).
  const queue: ParsedRecord[] = [];
  let head = 0;
  const parser = parse({
    bom: true,
    delimiter: opts.delimiter ?? ",",
    skip_empty_lines: true,
    // Ragged rows come through flagged (`context.error`) instead of stopping the parser, so that
    // they can be skipped one by one; quote errors still stop it. Either way they are errors.
    relax_column_count: true,
    max_record_size: MAX_RECORD_CHARS,
    columns: (header: string[]) => {
      const seen = new Set<string>();
      for (const name of header) {
        if (seen.has(name)) {
          throw new DatasetError(`column "${name}" appears twice in the header`, { file, line: 1 + linesBefore });
        }
        seen.add(name);
      }
      headerLength = header.length;
      linesBefore += 1 + lineBreaks(header);
      return header;
    },
    on_record: (values: Record<string, string>, context: InfoRecord) => {
      const line = 1 + linesBefore + context.empty_lines;
      const ragged = (context.error as (CsvError & { record?: string[] }) | undefined)?.record;
      linesBefore += 1 + lineBreaks(ragged ?? Object.values(values));
      const item: ParsedRecord = { line, values, fields: ragged?.length };
      queue.push(item);
      return item;
    },
  });
  // The callback only swallows the premature-close report of an early stop; real errors reach
  // the iterator below, because pipeline destroys the parser with them.
  pipeline(createReadStream(file), checkUtf8, parser, () => {});

  // Either hands out the record, or reports it as ragged (returns undefined) or throws.
  const take = (item: ParsedRecord): RawRecord | undefined => {
    if (item.fields === undefined) return { line: item.line, values: item.values };
    const err = new DatasetError(`row has ${item.fields} fields but the header has ${headerLength}`, {
      file,
      line: item.line,
    });
    if (opts.onInvalid === undefined) throw err;
    opts.onInvalid(err);
    return undefined;
  };

  const records = parser[Symbol.asyncIterator]();
  try {
    for (;;) {
      let failure: unknown;
      try {
        if ((await records.next()).done === true) break;
      } catch (err) {
        failure = err;
      }
      while (head < queue.length) {
        const record = take(queue[head++]!);
        if (record !== undefined) yield record;
        if (failure === undefined) break; // one parser item per iteration while all is well
      }
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      }
      if (failure !== undefined) throw await describeFailure(failure, file, 1 + linesBefore);
    }
  } finally {
    // Stops the file stream too (pipeline tears down every stage) when the caller stops early.
    parser.destroy();
  }
}

/** A record with its start line; `fields` is set (to the field count) for a ragged row. */
interface ParsedRecord {
  line: number;
  values: Record<string, string>;
  fields: number | undefined;
}

/** Turns whatever stopped the parse into a DatasetError; `nextLine` is where the failed record starts. */
async function describeFailure(err: unknown, file: string, nextLine: number): Promise<DatasetError> {
  if (err instanceof DatasetError) return err;
  if (err instanceof InvalidUtf8) {
    const line = await lineAtOffset(file, err.offset);
    return new DatasetError(`invalid UTF-8 at line ${line} (byte ${err.offset}); save the file as UTF-8`, {
      file,
      line,
    });
  }
  if (isCsvError(err)) return csvSyntaxError(err, file, nextLine + (err.empty_lines ?? 0));
  return readFailure(err, file);
}

/** Counts physical line breaks (CRLF, LF or CR) inside the fields of one record. */
function lineBreaks(fields: readonly unknown[]): number {
  let n = 0;
  for (const f of fields) {
    if (typeof f !== "string") continue;
    // Fast path: almost no field contains a break.
    if (f.indexOf("\n") === -1 && f.indexOf("\r") === -1) continue;
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c === 10) n++;
      else if (c === 13 && f.charCodeAt(i + 1) !== 10) n++;
    }
  }
  return n;
}

function isCsvError(err: unknown): err is CsvError & { empty_lines?: number; column?: string | number | null } {
  return err instanceof CsvError;
}

/** One human sentence per csv-parse error code; `line` is where the broken record starts. */
function csvSyntaxError(err: CsvError & { column?: string | number | null }, file: string, line: number): DatasetError {
  const column = typeof err.column === "string" ? err.column : undefined;
  const where = { file, line, column };
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return new DatasetError(`unclosed quote starting at line ${line}: the file ends inside a quoted field`, where, {
        cause: err,
      });
    case "INVALID_OPENING_QUOTE":
      return new DatasetError(
        'quote inside an unquoted field; quote the whole field and double the quotes inside it ("say ""hi""")',
        where,
        { cause: err },
      );
    case "CSV_INVALID_CLOSING_QUOTE":
      return new DatasetError(
        'text after a closing quote; inside a quoted field write a quote as two quotes ("")',
        where,
        { cause: err },
      );
    case "CSV_MAX_RECORD_SIZE":
      return new DatasetError(
        `row is longer than ${MAX_RECORD_CHARS} characters; check the delimiter and for a stray quote`,
        where,
        { cause: err },
      );
    default:
      return new DatasetError(`cannot parse the CSV: ${err.message}`, where, { cause: err });
  }
}

/** Thrown by {@link checkUtf8}; `offset` is the byte offset of the first bad byte in the file. */
class InvalidUtf8 extends Error {
  constructor(readonly offset: number) {
    super(`invalid UTF-8 at byte ${offset}`);
  }
}

/**
 * Passes chunks through after checking they are UTF-8. csv-parse would otherwise decode bad bytes
 * to U+FFFD silently. A multi-byte character split across chunks is held back to the next chunk.
 */
async function* checkUtf8(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let offset = 0;
  let tail: Buffer | undefined;
  for await (const chunk of source) {
    const buf = tail === undefined ? chunk : Buffer.concat([tail, chunk]);
    const cut = completeLength(buf);
    const body = buf.subarray(0, cut);
    if (!isUtf8(body)) {
      // Hand on the good bytes first, so that problems before this one are reported first.
      const bad = firstInvalidByte(body);
      if (bad > 0) yield body.subarray(0, bad);
      throw new InvalidUtf8(offset + bad);
    }
    offset += cut;
    tail = cut < buf.length ? Buffer.from(buf.subarray(cut)) : undefined;
    if (cut > 0) yield body;
  }
  if (tail !== undefined) throw new InvalidUtf8(offset);
}

/** Length of `buf` without a multi-byte sequence cut off at its end. */
function completeLength(buf: Buffer): number {
  const len = buf.length;
  for (let k = 1; k <= Math.min(3, len); k++) {
    const b = buf[len - k]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? len - k : len;
  }
  return len;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (error path only). */
function firstInvalidByte(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let extra: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) extra = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      extra = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= extra; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += extra + 1;
  }
  return buf.length;
}

/** 1-based line of a byte offset, counting CRLF, LF and CR as one break (error path only). */
async function lineAtOffset(file: string, offset: number): Promise<number> {
  let line = 1;
  let pos = 0;
  let afterCr = false;
  for await (const chunk of createReadStream(file, { end: Math.max(0, offset - 1) }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length && pos < offset; i++, pos++) {
      const b = chunk[i]!;
      if (b === 10) {
        if (!afterCr) line++;
      } else if (b === 13) line++;
      afterCr = b === 13;
    }
  }
  return line;
}
