/**
 * Batch result lines (output and error files) as the same {@link Completion}s live calls record:
 * a 2xx body goes through the live provider's parser, an error status through the live error
 * normaliser, so text, finish reason, usage (with its details) and error kinds are identical.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { ModelCallError } from "../errors.js";
import { normaliseHttpError } from "../providers/errors.js";
import { parseOpenAIBody, type OpenAIApi } from "../providers/openai.js";
import { failedCompletion, succeededCompletion } from "../providers/retry.js";
import type { Completion } from "../types.js";

/** What one result line means for its key. */
export interface LineResult {
  output: Completion;
  /** A failure another attempt could fix (429, 5xx, expired): retried live or resubmitted, not recorded as is. */
  retry: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The result of one line of an output or error file, or undefined when the line is not a
 * result (no `custom_id`). Batched answers have no latency of their own: `latencyMs` is 0.
 */
export function resultOfLine(
  api: OpenAIApi,
  value: unknown,
  batchId: string,
  secrets: readonly string[] = [],
): { key: string; result: LineResult } | undefined {
  if (!isObject(value) || typeof value.custom_id !== "string") return undefined;
  const key = value.custom_id;
  const batch = { batch: { id: batchId } };
  const response = isObject(value.response) ? value.response : undefined;
  const status = typeof response?.status_code === "number" ? response.status_code : undefined;
  const requestId = typeof response?.request_id === "string" ? response.request_id : undefined;
  const headers: Record<string, string> = requestId ? { "x-request-id": requestId } : {};
  let error: ModelCallError;
  if (response !== undefined && status !== undefined && status >= 200 && status < 300) {
    try {
      const parsed = parseOpenAIBody(api, response.body, headers, secrets);
      const output = succeededCompletion(parsed, 1, [{ outcome: "ok", status }], 0);
      return { key, result: { output: { ...output, ...batch }, retry: false } };
    } catch (err) {
      if (!(err instanceof ModelCallError)) throw err;
      error = err;
    }
  } else if (response !== undefined && status !== undefined) {
    error = normaliseHttpError(status, response.body, headers, secrets);
  } else {
    error = lineError(value.error);
  }
  const output = failedCompletion(
    error,
    1,
    [{ outcome: error.kind, ...(error.status ? { status: error.status } : {}) }],
    0,
  );
  return { key, result: { output: { ...output, ...batch }, retry: error.retryable } };
}

/** An error line without a response: expired (`batch_expired`), or the service's own failure. */
function lineError(error: unknown): ModelCallError {
  const e = isObject(error) ? error : {};
  const code = typeof e.code === "string" ? e.code : "batch_error";
  const message = typeof e.message === "string" && e.message !== "" ? e.message : code;
  if (code === "batch_expired" || code === "expired")
    return new ModelCallError("timeout", `the batch expired before this request ran: ${message}`, { code });
  if (/invalid|bad_request|not_found|too_large/i.test(code))
    return new ModelCallError("bad_request", `the batch service rejected this request: ${message}`, { code });
  return new ModelCallError("server", `the batch service failed this request: ${message}`, { code });
}

/** The outcome of a line the service never answered (a failed or expired batch without a line for it). */
export function unansweredResult(batchId: string, why: { status: string; errors?: string }): LineResult {
  const expired = why.status === "expired";
  const error = new ModelCallError(
    expired ? "timeout" : "server",
    expired
      ? "the batch expired before this request ran"
      : `the batch ${why.status}${why.errors ? `: ${why.errors}` : ""}`,
    { code: expired ? "batch_expired" : `batch_${why.status}` },
  );
  return {
    output: { ...failedCompletion(error, 1, [{ outcome: error.kind }], 0), batch: { id: batchId } },
    retry: true,
  };
}

/**
 * Every result in the given files by key (the lines come back in any order). Memory is one
 * batch's results, never the dataset's; a later line for the same key wins. Lines that are not
 * JSON are reported through `onBad` and skipped (their keys count as unanswered).
 */
export async function readResults(
  files: readonly string[],
  api: OpenAIApi,
  batchId: string,
  onBad: (file: string, line: number) => void,
  secrets: readonly string[] = [],
): Promise<Map<string, LineResult>> {
  const results = new Map<string, LineResult>();
  for (const file of files) {
    const input = createReadStream(file, { encoding: "utf8" });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const line of lines) {
        n++;
        if (line.trim() === "") continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          onBad(file, n);
          continue;
        }
        const r = resultOfLine(api, value, batchId, secrets);
        if (r === undefined) onBad(file, n);
        // An output file's answer beats an error file's line for the same key.
        else if (!(results.has(r.key) && r.result.retry)) results.set(r.key, r.result);
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }
  return results;
}

/** Streams the JSON lines of a file (rows sidecars). */
export async function* readJsonLines<T>(file: string): AsyncGenerator<T> {
  const input = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line.trim() !== "") yield JSON.parse(line) as T;
  } finally {
    lines.close();
    input.destroy();
  }
}
