/**
 * Streaming JSONL reader. Lines are split on raw bytes (a newline byte never occurs inside a
 * multi-byte UTF-8 character), so each line's bytes can be checked for valid UTF-8 before they
 * are decoded, and the line number of every problem is exact.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { DatasetError } from "../errors.js";
import { findJsonError } from "../util/json-error.js";
import { readFailure, type InvalidRecordHandler, type RawRecord } from "./rows.js";

/** Options for {@link readJsonl}. */
export interface JsonlReadOptions {
  /**
   * Receives lines that are not JSON objects, and reading continues. Without it they are thrown.
   * Invalid UTF-8 always throws: it means the whole file has the wrong encoding.
   */
  onInvalid?: InvalidRecordHandler;
}

/**
 * One entry of a {@link readJsonlBatches} batch, in file order: a record, a line that is not a
 * JSON object (`invalid`: reported to `onInvalid` or thrown, by the consumer), or a problem that
 * ends the read (`fatal`: invalid UTF-8; always thrown, and the last entry).
 */
export type JsonlEntry = RawRecord | { invalid: DatasetError } | { fatal: DatasetError };

/** A longer line is almost certainly not JSONL (say, one huge JSON array); refuse, stay bounded. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Reads a JSONL (NDJSON) file: one JSON object per line, LF or CRLF line ends, blank lines
 * skipped, a UTF-8 BOM on the first line dropped.
 * @throws DatasetError naming the file and line (and column for JSON syntax errors): missing
 * file, invalid UTF-8, an over-long line, and (without `onInvalid`) bad JSON or non-objects.
 */
export async function* readJsonl(
  file: string,
  opts: JsonlReadOptions = {},
): AsyncGenerator<RawRecord, void, undefined> {
  for await (const batch of readJsonlBatches(file)) {
    for (const entry of batch) {
      if ("values" in entry) yield entry;
      else if ("fatal" in entry) throw entry.fatal;
      else if (opts.onInvalid === undefined) throw entry.invalid;
      else opts.onInvalid(entry.invalid);
    }
  }
}

/**
 * The lines of one read chunk at a time, parsed, in file order (see {@link JsonlEntry}): what
 * {@link readJsonl} and the dataset layer's passes iterate. A pass over a dataset (the plan's
 * validation before the first call, each model's producer) used to take one record per await
 * through two async generators; per chunk (64 KB) it is one await per few hundred lines, and a
 * chunk's complete lines that are valid UTF-8 (the usual case: the check is per chunk) are
 * decoded with one `toString` instead of one Buffer view and one decode per line. A chunk that
 * is not valid UTF-8 is taken line by line, so the bad line is found and named exactly. Problems
 * are entries, not calls or throws here, so the consumer meets them in file order between the
 * records around them, exactly as one record at a time did.
 */
export async function* readJsonlBatches(file: string): AsyncGenerator<JsonlEntry[], void, undefined> {
  const stream = createReadStream(file);
  // Bytes of a line that started in an earlier chunk.
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const batch: JsonlEntry[] = [];
      let start = 0;
      let nl = chunk.indexOf(10);
      // The line that started in an earlier chunk ends at the first newline of this one.
      if (nl !== -1 && carry.length > 0) {
        const bytes = Buffer.concat([...carry, chunk.subarray(0, nl)]);
        carry = [];
        carryBytes = 0;
        start = nl + 1;
        if (!pushLine(batch, bytes, ++line, file)) {
          yield batch;
          return;
        }
      }
      const last = chunk.lastIndexOf(10);
      if (last >= start) {
        const region = chunk.subarray(start, last + 1);
        if (isUtf8(region)) {
          line = pushText(batch, region.toString("utf8"), line, file);
        } else {
          for (nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
            const ok = pushLine(batch, chunk.subarray(start, nl), ++line, file);
            start = nl + 1;
            if (!ok) {
              yield batch;
              return;
            }
          }
        }
        start = last + 1;
      }
      if (start < chunk.length) {
        carry.push(chunk.subarray(start));
        carryBytes += chunk.length - start;
        if (carryBytes > MAX_LINE_BYTES) {
          batch.push({
            fatal: new DatasetError(`line is longer than ${MAX_LINE_BYTES} bytes; is this really JSONL?`, {
              file,
              line: line + 1,
            }),
          });
          yield batch;
          return;
        }
      }
      if (batch.length > 0) yield batch;
    }
    if (carry.length > 0) {
      const batch: JsonlEntry[] = [];
      pushLine(batch, Buffer.concat(carry), ++line, file);
      yield batch;
    }
  } catch (err) {
    throw readFailure(err, file);
  } finally {
    stream.destroy();
  }
}

/**
 * The lines of `text` (whole lines of valid UTF-8, each ending in a newline), the first being
 * line `line + 1`; returns the number of the last.
 */
function pushText(batch: JsonlEntry[], text: string, line: number, file: string): number {
  let start = 0;
  for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
    // The same steps as pushLine's on bytes: CR, then (first line only) the BOM.
    let end = nl;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    let from = start;
    if (++line === 1 && text.charCodeAt(from) === 0xfeff && from < end) from++;
    start = nl + 1;
    const entry = parseText(text.slice(from, end), line, file);
    if (entry !== undefined) batch.push(entry);
  }
  return line;
}

/** One line's bytes (without its newline); false when it ends the read (invalid UTF-8). */
function pushLine(batch: JsonlEntry[], raw: Buffer, line: number, file: string): boolean {
  let bytes = raw;
  if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, -1);
  if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (!isUtf8(bytes)) {
    batch.push({
      fatal: new DatasetError(`invalid UTF-8 at line ${line}; save the file as UTF-8`, { file, line }),
    });
    return false;
  }
  const entry = parseText(bytes.toString("utf8"), line, file);
  if (entry !== undefined) batch.push(entry);
  return true;
}

/** Parses one line's text; undefined for a blank line. */
function parseText(text: string, line: number, file: string): JsonlEntry | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's messages differ between Node versions and often lack a position, so find the
    // position (and say what is wrong) ourselves; this runs only for a broken line.
    const found = findJsonError(text);
    const problem =
      found === undefined
        ? new DatasetError(`invalid JSON: ${(err as Error).message}`, { file, line }, { cause: err })
        : new DatasetError(`invalid JSON: ${found.reason}`, { file, line, column: found.index + 1 }, { cause: err });
    return { invalid: problem };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return { invalid: new DatasetError(`expected a JSON object, got ${kind}`, { file, line }) };
  }
  return { line, values: value as Record<string, unknown> };
}
