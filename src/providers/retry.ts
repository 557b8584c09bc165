/**
 * The ONE retry layer. Providers make one HTTP attempt each; this module adds the per-attempt
 * deadline, decides what to retry, how long to wait, and records every attempt. Nothing below
 * it retries (the SDK pipeline's retries are switched off), so retries never multiply.
 */
import { ModelCallError } from "../errors.js";
import type { RetrySpec } from "../config/schema.js";
import type { AttemptOutcome, CallErrorInfo, Completion, CompletionRequest } from "../types.js";
import { attemptDeadline } from "./attempt-deadline.js";
import { MAX_TIMER_MS, onRunAbort } from "./run-abort.js";
import { runAbortedError } from "./errors.js";
import type { AttemptResult, CallContext, Provider } from "./types.js";

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What one attempt ended with, as reported to `onAttempt`. */
export type AttemptReport = AttemptOutcome & { error?: ModelCallError };

export interface RetryOptions {
  retry: RetrySpec;
  /** Deadline for one attempt, headers and body together, ms. */
  timeoutMs: number;
  /** Run shutdown: aborts the attempt in flight and any backoff wait. */
  signal?: AbortSignal;
  /** Called once per attempt, after the wait before the next one (if any) has been decided. */
  onAttempt?: (outcome: AttemptReport) => void;
  /** Source of jitter in [0, 1); injectable for tests. @default Math.random */
  random?: () => number;
  /** Backoff sleep; injectable for tests. @default an abortable setTimeout */
  sleep?: Sleep;
  /** Trial number handed to every attempt (the response cache keys on it). @default 0 */
  trial?: number;
}

/** The default {@link Sleep}: a timer cleared on abort, so shutdown does not wait out a backoff. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        unsubscribe();
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    const unsubscribe = onRunAbort(signal, () => {
      clearTimeout(timer);
      reject(signal?.reason);
    });
  });

/**
 * Full-jitter exponential backoff: a uniform draw from [0, min(maxDelayMs, baseDelayMs·2^n)).
 * Full jitter spreads many callers that failed together (one 429 burst) across the window
 * instead of having them retry in lockstep.
 * @param retryIndex 0 for the wait before the second attempt
 */
export function backoffDelayMs(retryIndex: number, retry: RetrySpec, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retryIndex);
  return Math.floor(ceiling * Math.min(Math.max(random(), 0), 1));
}

/**
 * How long to wait before retrying after `error`. The server's own advice (`Retry-After` and
 * friends) wins when present, capped at `maxRetryAfterMs`. When a server asks for more than the
 * cap (86,400 s has been seen), we wait the cap and try again rather than give up at once:
 * rate-limit windows are usually shorter than the header claims, and the next attempt either
 * succeeds or is simply recorded as another rate_limit. `maxAttempts` still bounds the total.
 */
export function retryDelayMs(
  error: ModelCallError,
  retryIndex: number,
  retry: RetrySpec,
  random?: () => number,
): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, retry.maxRetryAfterMs);
  return backoffDelayMs(retryIndex, retry, random);
}

/**
 * Runs one provider attempt under a deadline that covers headers and body. The deadline and the
 * run signal are linked by hand rather than with `AbortSignal.any`: combining a long-lived run
 * signal with a fresh signal per attempt leaks in Node (nodejs/node#55351), and this runs
 * thousands of times per run. Attempts starting together share one deadline signal
 * (attempt-deadline.ts says why and how that keeps each attempt's deadline). `settle()` makes the
 * deadline hold even for a provider that ignores its signal: the attempt's promise is rejected
 * directly from where the signal is aborted, with no extra event listener on it.
 */
function attemptWithDeadline(
  provider: Provider,
  request: CompletionRequest,
  timeoutMs: number,
  runSignal: AbortSignal | undefined,
  context: CallContext,
): Promise<AttemptResult> {
  const deadline = attemptDeadline(timeoutMs, runSignal);
  let attempt: Promise<AttemptResult>;
  try {
    attempt = provider.attempt(request, deadline.signal, context);
  } catch (err) {
    deadline.release();
    return Promise.reject(err);
  }
  return deadline.settle(attempt);
}

/** Milliseconds since `started` (a performance.now() reading), to 0.1 ms. */
function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function toInfo(error: ModelCallError): CallErrorInfo {
  return {
    kind: error.kind,
    message: error.message,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.code === undefined ? {} : { code: error.code }),
  };
}

/** The {@link Completion} of a call whose last attempt succeeded with `result` (live calls and batch lines alike). */
export function succeededCompletion(
  result: AttemptResult,
  attempts: number,
  attemptLog: AttemptOutcome[],
  latencyMs: number,
): Completion {
  // Built field by field rather than with conditional spreads: once per result, and an object
  // built with spreads also takes JSON.stringify (the journal line) ~1 µs longer on Node 20. The
  // order of the fields is the journal's: keep it. Every required field is set below.
  const completion = {
    text: result.text,
    finishReason: result.finishReason,
    usage: result.usage,
    latencyMs,
  } as Completion;
  if (result.ttftMs !== undefined) completion.ttftMs = result.ttftMs;
  if (result.outputTokensPerSec !== undefined) completion.outputTokensPerSec = result.outputTokensPerSec;
  if (result.toolCalls !== undefined) completion.toolCalls = result.toolCalls;
  completion.model = result.model;
  completion.requestId = result.requestId;
  if (result.systemFingerprint !== undefined) completion.systemFingerprint = result.systemFingerprint;
  completion.attempts = attempts;
  completion.attemptLog = attemptLog;
  if (result.cached) completion.cached = true;
  return completion;
}

/** The {@link Completion} of a call that ended with `error` (live calls and batch lines alike). */
export function failedCompletion(
  error: ModelCallError,
  attempts: number,
  attemptLog: AttemptOutcome[],
  latencyMs: number,
): Completion {
  return failure(error, attempts, attemptLog, latencyMs);
}

function failure(error: ModelCallError, attempts: number, attemptLog: AttemptOutcome[], latencyMs: number): Completion {
  return {
    text: null,
    // A blocked prompt is an outcome the reports count separately, not a broken call.
    finishReason: error.kind === "content_filter" ? "content_filter" : "error",
    usage: null,
    latencyMs,
    model: null,
    requestId: error.requestId ?? null,
    attempts,
    attemptLog,
    error: toInfo(error),
  };
}

/**
 * Calls `provider` until it succeeds, fails with a kind that retrying cannot fix, or
 * `retry.maxAttempts` is reached. Never throws for model errors: a failed call is a
 * {@link Completion} with `error` set, `text: null` and `finishReason: "error"` (or
 * `"content_filter"` for a blocked prompt). Retries `rate_limit`, `server`, `timeout` and
 * `network`. Errors that are not {@link ModelCallError}s are bugs and are rethrown.
 *
 * `latencyMs` is the wall time of the final attempt; `attemptLog` has one entry per attempt,
 * with `waitMs` on those that were followed by a wait.
 */
export async function callWithRetry(
  provider: Provider,
  request: CompletionRequest,
  opts: RetryOptions,
): Promise<Completion> {
  const { retry, timeoutMs, signal: runSignal, onAttempt } = opts;
  const sleep = opts.sleep ?? abortableSleep;
  const log: AttemptOutcome[] = [];
  const context: CallContext = { trial: opts.trial ?? 0 };

  for (let attempt = 1; ; attempt++) {
    if (runSignal?.aborted) {
      return failure(runAbortedError(), attempt - 1, log, 0);
    }
    const started = performance.now();
    let error: ModelCallError;
    try {
      const result = await attemptWithDeadline(provider, request, timeoutMs, runSignal, context);
      const latencyMs = result.latencyMs ?? elapsedMs(started);
      const outcome: AttemptOutcome = { outcome: "ok", status: 200 };
      log.push(outcome);
      onAttempt?.({ ...outcome });
      return succeededCompletion(result, attempt, log, latencyMs);
    } catch (err) {
      if (!(err instanceof ModelCallError)) throw err;
      // Whatever the provider made of the teardown, a run abort is an abort.
      error = runSignal?.aborted && err.kind !== "aborted" ? runAbortedError() : err;
    }
    const latencyMs = elapsedMs(started);
    const outcome: AttemptOutcome = {
      outcome: error.kind,
      ...(error.status === undefined ? {} : { status: error.status }),
    };
    log.push(outcome);

    if (!error.retryable || attempt >= retry.maxAttempts) {
      onAttempt?.({ ...outcome, error });
      return failure(error, attempt, log, latencyMs);
    }
    const waitMs = retryDelayMs(error, attempt - 1, retry, opts.random);
    outcome.waitMs = waitMs;
    onAttempt?.({ ...outcome, error });
    try {
      await sleep(waitMs, runSignal);
    } catch {
      return failure(
        runAbortedError(`the run was stopped while waiting ${waitMs} ms to retry after: ${error.message}`),
        attempt,
        log,
        latencyMs,
      );
    }
  }
}
