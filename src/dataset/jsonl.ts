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
  const stream = createReadStream(file);
  // Bytes of a line that started in an earlier chunk.
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        const bytes = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
        carry = [];
        carryBytes = 0;
        start = nl + 1;
        const record = parseLine(bytes, ++line, file, opts.onInvalid);
        if (record !== undefined) yield record;
      }
      if (start < chunk.length) {
        carry.push(chunk.subarray(start));
        carryBytes += chunk.length - start;
        if (carryBytes > MAX_LINE_BYTES) {
          throw new DatasetError(`line is longer than ${MAX_LINE_BYTES} bytes; is this really JSONL?`, {
            file,
            line: line + 1,
          });
        }
      }
    }
    if (carry.length > 0) {
      const record = parseLine(Buffer.concat(carry), ++line, file, opts.onInvalid);
      if (record !== undefined) yield record;
    }
  } catch (err) {
    throw readFailure(err, file);
  } finally {
    stream.destroy();
  }
}

/** Parses one line; undefined for a blank line or a line passed to `onInvalid`. */
function parseLine(
  raw: Buffer,
  line: number,
  file: string,
  onInvalid: InvalidRecordHandler | undefined,
): RawRecord | undefined {
  let bytes = raw;
  if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, -1);
  if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (!isUtf8(bytes)) {
    throw new DatasetError(`invalid UTF-8 at line ${line}; save the file as UTF-8`, { file, line });
  }
  const text = bytes.toString("utf8");
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
    return invalid(problem, onInvalid);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return invalid(new DatasetError(`expected a JSON object, got ${kind}`, { file, line }), onInvalid);
  }
  return { line, values: value as Record<string, unknown> };
}

function invalid(err: DatasetError, onInvalid: InvalidRecordHandler | undefined): undefined {
  if (onInvalid === undefined) throw err;
  onInvalid(err);
  return undefined;
}
