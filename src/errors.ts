/**
 * Every error bakeoff raises on purpose is a {@link BakeoffError}. The CLI maps each class to an
 * exit code in one place (`exitCodeFor`) and prints `message` without a stack trace: messages are
 * written for the person who has to fix the input, naming the file, line, JSON path or model.
 */

/** Documented process exit codes. */
export const ExitCode = {
  ok: 0,
  /** A gate (`--fail-on`) failed: the candidate regressed. */
  gateFailed: 1,
  /** Bad command line, config or dataset: nothing (or nothing more) was sent to any model. */
  usage: 2,
  /** The run did not finish: interrupted, or a model was stopped (e.g. auth failure). */
  incomplete: 3,
  /** A bug in bakeoff itself. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class BakeoffError extends Error {
  override name = "BakeoffError";
  readonly exitCode: ExitCode;
  constructor(message: string, options: { cause?: unknown; exitCode?: ExitCode } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? ExitCode.usage;
  }
}

/** Bad command-line usage (unknown model name, missing run directory, ...). */
export class UsageError extends BakeoffError {
  override name = "UsageError";
}

/** One problem found in a config file, with the JSON path it applies to. */
export interface ConfigIssue {
  /** JSON path such as `models[1].endpoint`; empty for the document root. */
  path: string;
  message: string;
  /** Where in the file the path is (1-based), when the config came from a file. */
  line?: number;
  column?: number;
}

/** The config file is unreadable, not JSON, or fails validation. Carries every problem at once. */
export class ConfigError extends BakeoffError {
  override name = "ConfigError";
  readonly file: string;
  readonly issues: readonly ConfigIssue[];
  constructor(file: string, issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    const lines = issues.map((i) => {
      const at = i.line === undefined ? "" : ` (line ${i.line}, column ${i.column ?? 1})`;
      return `  - ${i.path === "" ? "(root)" : i.path}: ${i.message}${at}`;
    });
    // A problem with the whole file (unreadable, not JSON) is one line; a list otherwise.
    const whole = issues.length === 1 && issues[0]!.path === "";
    super(
      whole
        ? `${file}: ${issues[0]!.message}`
        : `${file}: ${issues.length === 1 ? "1 problem" : `${issues.length} problems`} in the config:\n${lines.join("\n")}`,
      options,
    );
    this.file = file;
    this.issues = issues;
  }
}

/** A dataset file cannot be read or one of its rows is malformed. */
export class DatasetError extends BakeoffError {
  override name = "DatasetError";
  readonly file: string;
  readonly line: number | undefined;
  readonly column: string | number | undefined;
  readonly reason: string;
  constructor(
    reason: string,
    where: { file: string; line?: number; column?: string | number },
    options: { cause?: unknown } = {},
  ) {
    const loc = [where.file, where.line, typeof where.column === "number" ? where.column : undefined]
      .filter((p) => p !== undefined)
      .join(":");
    const col = typeof where.column === "string" ? ` (column "${where.column}")` : "";
    super(`${loc}${col}: ${reason}`, options);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.reason = reason;
  }
}

/**
 * Every problem `bakeoff validate` found in the datasets, capped per file: one error so the user
 * fixes them in one pass rather than one run at a time.
 */
export class DatasetProblemsError extends BakeoffError {
  override name = "DatasetProblemsError";
  readonly files: readonly { file: string; problems: readonly string[]; more: number }[];
  constructor(files: readonly { file: string; problems: readonly string[]; more: number }[]) {
    const count = files.reduce((n, f) => n + f.problems.length + f.more, 0);
    const lines = files.flatMap((f) => [
      ...f.problems.map((p) => `  - ${p}`),
      ...(f.more > 0 ? [`  - … and ${f.more} more in ${f.file}`] : []),
    ]);
    super(
      `${count === 1 ? "1 problem" : `${count} problems`} in ${files.length === 1 ? "1 dataset" : `${files.length} datasets`}:\n${lines.join("\n")}`,
    );
    this.files = files;
  }
}

/** What went wrong with a model call, as a small closed set the runner and reports reason about. */
export type ModelErrorKind =
  | "auth" // 401/403: the key is wrong or lacks access; stop calling this model
  | "rate_limit" // 429
  | "server" // 5xx, 408
  | "timeout" // our per-attempt deadline expired (headers or body)
  | "network" // connection refused/reset, DNS, socket hang up
  | "content_filter" // the prompt was blocked (400 content_filter); an outcome, not retried
  | "bad_request" // other 4xx: the request itself is wrong; retrying will not help
  | "bad_response" // 2xx whose body is not a chat completion
  | "aborted"; // the run is shutting down

/**
 * A failed model call, normalised from whatever body shape the service sent. `message` is the
 * service's own words where it gave any. Never carries request headers (keys live there).
 */
export class ModelCallError extends BakeoffError {
  override name = "ModelCallError";
  readonly kind: ModelErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  constructor(
    kind: ModelErrorKind,
    message: string,
    details: {
      status?: number;
      code?: string;
      retryAfterMs?: number;
      requestId?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause, exitCode: ExitCode.incomplete });
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }

  /** Whether another attempt could plausibly succeed. */
  get retryable(): boolean {
    return this.kind === "rate_limit" || this.kind === "server" || this.kind === "timeout" || this.kind === "network";
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  return err instanceof BakeoffError ? err.exitCode : ExitCode.internal;
}
