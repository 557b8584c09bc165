/**
 * The Batch API engine: batches created from uploaded files run through the service's lifecycle
 * (validating → in_progress → finalizing → completed, or failed / expired / cancelling →
 * cancelled) on a compressed clock, a batch's whole 24 h taking `durationMs` real milliseconds.
 * Lines are answered progressively while in progress, each by the same planner and body builders
 * as a live call to the same sim (`chatCompletionBody` / `responsesBody`), so a batched row gets
 * the very answer, finish reason and usage a live call gets. No HTTP here: `batch-routes.ts`
 * serves it.
 *
 * The clock is lazy: {@link BatchService.advance} moves every batch to "now", and is called both
 * by a ticker (so stats move without polling) and before any batch is read.
 */
import { createHash, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { chatCompletionBody, responsesBody } from "./answer.js";
import { FileStore, serviceId, type StoredFile } from "./batch-files.js";
import type { BatchError, CheckedInput, InputLine } from "./batch-input.js";
import type { BatchFaultSpec } from "./batch-spec.js";
import { modelNameFor } from "./models.js";
import type { FaultKind, FaultSpec } from "./fault-spec.js";
import { PROMPT_FILTERED_BODY } from "./faults.js";
import { completionBody, UNAUTHORIZED_BODY, validateChatBody } from "./protocol.js";
import { uniformStream } from "./random.js";
import { responseObject, validateResponsesBody } from "./responses.js";
import type { SimModelSpec } from "./spec.js";
import type { StatsTracker } from "./stats.js";

/** The parts of a simulated model the engine reads. */
export interface BatchSim {
  name: string;
  spec: SimModelSpec;
  fingerprint: string;
}

export type BatchStatus =
  "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";

/** Statuses a batch never leaves. */
const TERMINAL: ReadonlySet<BatchStatus> = new Set(["failed", "completed", "expired", "cancelled"]);

/** Shares of a batch's duration spent validating and finalizing; the rest answers lines. */
const VALIDATING_SHARE = 0.1;
const FINALIZING_SHARE = 0.1;

/**
 * Most real time one advance spends answering lines before it yields to the event loop. A line
 * costs about half a millisecond, so a 50,000-line batch is answered in slices and the server
 * keeps serving polls meanwhile; a batch too large for its duration simply finishes late, as an
 * overloaded service's would.
 */
const SLICE_MS = 25;

/** The 24 h completion window, as `expires_at` reports it. */
const WINDOW_SECONDS = 24 * 3600;

/** A batch being run. */
interface BatchRecord {
  id: string;
  scope: string;
  /** Undefined only for a batch that fails validation before its model is known. */
  sim: BatchSim | undefined;
  endpoint: string;
  inputFileId: string;
  metadata: Record<string, string> | null;
  status: BatchStatus;
  /** Real-time milestones, ms since the epoch. */
  createdMs: number;
  validatedMs: number;
  processedMs: number;
  finalizedMs: number;
  /** Unix seconds of each transition reached. */
  at: Partial<
    Record<"in_progress" | "finalizing" | "completed" | "failed" | "expired" | "cancelling" | "cancelled", number>
  >;
  /** Validation outcome, decided at creation and revealed when validation ends. */
  errors: BatchError[] | null;
  /** Lines in processing order (a deterministic shuffle of the input order). */
  lines: InputLine[];
  /** Lines in the batch; `lines` itself is dropped once the result files are written. */
  total: number;
  /** How many lines of `lines` have been answered. */
  answered: number;
  /** Lines answered before an injected expiry stops the batch; `lines.length` otherwise. */
  answerable: number;
  /** True once answering fell behind the clock: later transitions happen when it catches up. */
  late: boolean;
  expires: boolean;
  output: string[];
  failures: string[];
  completed: number;
  failed: number;
  usage: { input: number; output: number; reasoning: number };
  outputFileId: string | null;
  errorFileId: string | null;
  seq: number;
}

/** Server-wide batch options. */
export interface BatchServiceOptions {
  /** Duration of a batch when its sim does not set `batch.durationMs`. */
  defaultDurationMs: number;
  /** The clock, ms since the epoch. @default Date.now */
  clock?: () => number;
  /**
   * The live fault planner, for sims with `batch.liveFaults`: the fault a live request with this
   * body would get now (counting it as an attempt of that prompt), or undefined.
   */
  liveFault?: (sim: BatchSim, body: unknown) => FaultSpec | undefined;
}

export class BatchService {
  readonly files = new FileStore();
  private readonly batches = new Map<string, BatchRecord>();
  private seq = 0;
  /** Submissions so far per (sim, input content) and per (sim, custom_id): the fault attempt numbers. */
  private readonly fileAttempts = new Map<string, number>();
  private readonly lineAttempts = new Map<string, number>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly stats: StatsTracker,
    private readonly options: BatchServiceOptions,
  ) {}

  /**
   * Creates a batch from a stored input file whose lines have been checked (`checkInput`). With
   * errors, or without a sim, the batch fails when its validating phase ends, listing them.
   * @param sim the model every line is answered by; undefined only when `checked` has errors
   */
  create(
    scope: string,
    input: StoredFile,
    endpoint: string,
    metadata: Record<string, string> | null,
    sim: BatchSim | undefined,
    checked: CheckedInput,
  ): Record<string, unknown> {
    const now = this.now();
    const duration = sim?.spec.batch.durationMs ?? this.options.defaultDurationMs;
    const record: BatchRecord = {
      id: serviceId("batch_"),
      scope,
      sim,
      endpoint,
      inputFileId: input.id,
      metadata,
      status: "validating",
      createdMs: now,
      validatedMs: now + duration * VALIDATING_SHARE,
      processedMs: now + duration * (1 - FINALIZING_SHARE),
      finalizedMs: now + duration,
      at: {},
      errors: checked.ok ? null : checked.errors,
      lines: [],
      total: 0,
      answered: 0,
      answerable: 0,
      late: false,
      expires: false,
      output: [],
      failures: [],
      completed: 0,
      failed: 0,
      usage: { input: 0, output: 0, reasoning: 0 },
      outputFileId: null,
      errorFileId: null,
      seq: this.seq++,
    };
    this.stats.batchCreated(sim?.name);
    if (sim !== undefined && checked.ok) {
      const contentHash = createHash("sha256").update(input.data).digest("hex");
      const fault = this.batchFault(sim, contentHash);
      if (fault?.kind === "batch_failed") {
        record.errors = [
          {
            code: "token_limit_exceeded",
            message: `Enqueued token limit reached for ${modelNameFor(sim.name, sim.spec)} in organization org-emulator. Please try again once some in_progress batches have been completed.`,
            param: null,
            line: null,
          },
        ];
      } else {
        record.lines = shuffled(checked.lines, contentHash);
        record.total = record.lines.length;
        record.answerable = record.lines.length;
        if (fault?.kind === "batch_expired") {
          record.expires = true;
          record.answerable = Math.floor(record.lines.length * fault.completedFraction);
        }
      }
    }
    this.batches.set(record.id, record);
    this.startTicker();
    return this.view(record);
  }

  /** The batch as the service shows it now, or undefined when it is not in this scope. */
  get(scope: string, id: string): Record<string, unknown> | undefined {
    const record = this.batches.get(id);
    if (record?.scope !== scope) return undefined;
    this.advanceOne(record, this.now(), performance.now() + SLICE_MS);
    return this.view(record);
  }

  /**
   * Cancels a batch: unanswered lines stop being answered; after a short `cancelling` phase the
   * batch is `cancelled`, its output file holding the lines answered before. A batch already
   * finished is returned unchanged with `ok: false` (the caller answers 409).
   */
  cancel(scope: string, id: string): { ok: boolean; batch: Record<string, unknown> } | undefined {
    const record = this.batches.get(id);
    if (record?.scope !== scope) return undefined;
    const now = this.now();
    this.advanceOne(record, now, performance.now() + SLICE_MS);
    if (TERMINAL.has(record.status) || record.status === "cancelling") {
      return { ok: record.status === "cancelling", batch: this.view(record) };
    }
    record.status = "cancelling";
    record.at.cancelling = Math.floor(now / 1000);
    // Cancelling takes as long as finalizing would have.
    record.finalizedMs = now + (record.finalizedMs - record.processedMs);
    this.startTicker();
    return { ok: true, batch: this.view(record) };
  }

  /** The scope's batches, newest first, as the service shows them now. */
  list(scope: string): Array<Record<string, unknown> & { id: string }> {
    const now = this.now();
    const records = [...this.batches.values()].filter((b) => b.scope === scope).reverse();
    const deadline = performance.now() + SLICE_MS;
    for (const record of records) this.advanceOne(record, now, deadline);
    return records.map((r) => this.view(r) as Record<string, unknown> & { id: string });
  }

  /** Moves every unfinished batch to `now`; stops the ticker when none is left. */
  advance(now = this.now()): void {
    let active = false;
    const deadline = performance.now() + SLICE_MS;
    for (const record of this.batches.values()) {
      if (TERMINAL.has(record.status)) continue;
      this.advanceOne(record, now, deadline);
      if (!TERMINAL.has(record.status)) active = true;
    }
    if (!active) this.stopTicker();
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Stops the ticker (the server is closing). */
  close(): void {
    this.stopTicker();
  }

  // --- The lifecycle ---------------------------------------------------------------------

  /** Moves one batch to `now`, answering lines until `deadline` (performance.now() ms) at most. */
  private advanceOne(b: BatchRecord, now: number, deadline: number): void {
    const second = (ms: number): number => Math.floor(ms / 1000);
    if (b.status === "validating") {
      if (now < b.validatedMs) return;
      if (b.errors !== null) {
        b.status = "failed";
        b.at.failed = second(b.validatedMs);
        return;
      }
      b.status = "in_progress";
      b.at.in_progress = second(b.validatedMs);
      if (b.sim !== undefined)
        this.stats.linesSubmitted(
          b.sim.name,
          b.lines.map((l) => l.customId),
        );
    }
    const sim = b.sim;
    // (Without a sim the batch has no lines: it failed validation or is being cancelled.)
    if (b.status === "in_progress" && sim !== undefined) {
      const span = b.processedMs - b.validatedMs;
      const share = span <= 0 ? 1 : Math.min(1, (now - b.validatedMs) / span);
      // Lines are spread evenly over the whole window, so an expiring batch answers its share
      // at the same pace and then sits idle until the window closes.
      const due = Math.min(b.answerable, Math.floor(b.lines.length * share));
      while (b.answered < due && performance.now() < deadline) this.answerNext(b, sim);
      if (b.answered < due) b.late = true;
      if (now < b.processedMs || b.answered < b.answerable) return;
      // A batch that fell behind moves on from the moment it caught up, keeping its phase lengths.
      if (b.late && now > b.processedMs) {
        b.finalizedMs = now + (b.finalizedMs - b.processedMs);
        b.processedMs = now;
      }
      if (b.expires) {
        for (const line of b.lines.slice(b.answered)) {
          b.failures.push(
            JSON.stringify({
              id: serviceId("batch_req_"),
              custom_id: line.customId,
              response: null,
              error: {
                code: "batch_expired",
                message: "This request could not be executed before the completion window expired.",
              },
            }),
          );
          b.failed++;
          this.stats.lineDone(sim.name, line.customId, "expired");
        }
        b.status = "expired";
        b.at.expired = second(b.processedMs);
        this.writeFiles(b);
        return;
      }
      b.status = "finalizing";
      b.at.finalizing = second(b.processedMs);
    }
    if (b.status === "finalizing") {
      if (now < b.finalizedMs) return;
      b.status = "completed";
      b.at.completed = second(b.finalizedMs);
      this.writeFiles(b);
      return;
    }
    if (b.status === "cancelling") {
      if (now < b.finalizedMs) return;
      // Only lines that were submitted (the batch got past validation) count as cancelled.
      if (sim !== undefined && b.at.in_progress !== undefined)
        for (const line of b.lines.slice(b.answered)) this.stats.lineDone(sim.name, line.customId, "cancelled");
      b.status = "cancelled";
      b.at.cancelled = second(b.finalizedMs);
      this.writeFiles(b);
    }
  }

  /** Answers the next line in processing order into the output or the error file. */
  private answerNext(b: BatchRecord, sim: BatchSim): void {
    const line = b.lines[b.answered++];
    if (line === undefined) return;
    const { status, body } = this.answerLine(sim, line);
    const entry = JSON.stringify({
      id: serviceId("batch_req_"),
      custom_id: line.customId,
      response: { status_code: status, request_id: randomUUID(), body },
      error: null,
    });
    if (status === 200) {
      b.output.push(entry);
      b.completed++;
      this.addUsage(b, body);
      this.stats.lineDone(sim.name, line.customId, "completed");
    } else {
      b.failures.push(entry);
      b.failed++;
      this.stats.lineDone(sim.name, line.customId, "failed");
    }
  }

  /** One line's response: an injected line error, a validation error, or the sim's answer. */
  private answerLine(sim: BatchSim, line: InputLine): { status: number; body: unknown } {
    const fault = this.lineFault(sim, line.customId);
    if (fault !== undefined) return { status: fault.status, body: lineErrorBody(fault.status) };
    const live = sim.spec.batch.liveFaults ? this.options.liveFault?.(sim, line.body) : undefined;
    if (live !== undefined) return liveFaultLine(live.kind, sim, line);
    if (line.body["stream"] === true) {
      return {
        status: 400,
        body: {
          error: {
            message: "Streaming is not supported in batch requests.",
            type: "invalid_request_error",
            param: "stream",
            code: "invalid_value",
          },
        },
      };
    }
    if (line.api === "responses") {
      const validated = validateResponsesBody(line.body);
      if (!validated.ok) return validated.error;
      return { status: 200, body: responsesBody(sim, validated.request) };
    }
    // Batch lines are OpenAI v1 requests: unknown keys pass through, as on the live v1 routes.
    const validated = validateChatBody(line.body, "pass-through");
    if (!validated.ok) return validated.error;
    return { status: 200, body: chatCompletionBody(sim, validated.request) };
  }

  private addUsage(b: BatchRecord, body: unknown): void {
    const usage = (body as { usage?: Record<string, unknown> }).usage;
    if (usage === undefined) return;
    const num = (v: unknown): number => (typeof v === "number" ? v : 0);
    b.usage.input += num(usage["prompt_tokens"] ?? usage["input_tokens"]);
    b.usage.output += num(usage["completion_tokens"] ?? usage["output_tokens"]);
    const details = (usage["completion_tokens_details"] ?? usage["output_tokens_details"]) as
      Record<string, unknown> | undefined;
    b.usage.reasoning += num(details?.["reasoning_tokens"]);
  }

  /** Stores the output and error files of a finished batch (each only when it has lines, as the service does). */
  private writeFiles(b: BatchRecord): void {
    const store = (suffix: string, lines: string[]): string | null =>
      lines.length === 0
        ? null
        : this.files.add(
            b.scope,
            `${b.id}_${suffix}.jsonl`,
            "batch_output",
            Buffer.from(lines.map((l) => `${l}\n`).join("")),
          ).id;
    b.outputFileId = store("output", b.output);
    b.errorFileId = store("error", b.failures);
    // The lines are answered and written out: keep no copies (the count stays for request_counts).
    b.lines = [];
    b.output = [];
    b.failures = [];
  }

  // --- Faults ----------------------------------------------------------------------------

  /** The batch-level fault (failed or expired) that applies to this submission of this content. */
  private batchFault(sim: BatchSim, contentHash: string): BatchFaultSpec | undefined {
    const faults = sim.spec.batch.faults.filter((f) => f.kind !== "line_error");
    if (faults.length === 0) return undefined;
    const key = `${sim.name}\u0001${contentHash}`;
    const attempt = (this.fileAttempts.get(key) ?? 0) + 1;
    this.fileAttempts.set(key, attempt);
    return firstFault(faults, sim.name, contentHash, attempt);
  }

  /** The line fault that applies to this submission of this custom_id. */
  private lineFault(sim: BatchSim, customId: string): BatchFaultSpec | undefined {
    const faults = sim.spec.batch.faults.filter((f) => f.kind === "line_error");
    if (faults.length === 0) return undefined;
    const key = `${sim.name}\u0001${customId}`;
    const attempt = (this.lineAttempts.get(key) ?? 0) + 1;
    this.lineAttempts.set(key, attempt);
    return firstFault(faults, sim.name, customId, attempt);
  }

  // --- Views -----------------------------------------------------------------------------

  /** The `Batch` object the openai package parses. */
  private view(b: BatchRecord): Record<string, unknown> {
    const created = Math.floor(b.createdMs / 1000);
    const shown = b.status !== "validating" && b.status !== "failed";
    return {
      id: b.id,
      object: "batch",
      endpoint: b.endpoint,
      model: b.sim === undefined ? null : modelNameFor(b.sim.name, b.sim.spec),
      errors: b.status === "failed" && b.errors !== null ? { object: "list", data: b.errors } : null,
      input_file_id: b.inputFileId,
      completion_window: "24h",
      status: b.status,
      output_file_id: b.outputFileId,
      error_file_id: b.errorFileId,
      created_at: created,
      in_progress_at: b.at.in_progress ?? null,
      expires_at: created + WINDOW_SECONDS,
      finalizing_at: b.at.finalizing ?? null,
      completed_at: b.at.completed ?? null,
      failed_at: b.at.failed ?? null,
      expired_at: b.at.expired ?? null,
      cancelling_at: b.at.cancelling ?? null,
      cancelled_at: b.at.cancelled ?? null,
      request_counts: { total: shown ? b.total : 0, completed: b.completed, failed: b.failed },
      usage: {
        input_tokens: b.usage.input,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: b.usage.output,
        output_tokens_details: { reasoning_tokens: b.usage.reasoning },
        total_tokens: b.usage.input + b.usage.output,
      },
      metadata: b.metadata,
    };
  }

  private startTicker(): void {
    if (this.ticker !== undefined) return;
    this.ticker = setInterval(() => this.advance(), 20);
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker === undefined) return;
    clearInterval(this.ticker);
    this.ticker = undefined;
  }
}

/** The first fault whose attempts and deterministic draw select this submission. */
function firstFault(
  faults: readonly BatchFaultSpec[],
  sim: string,
  subject: string,
  attempt: number,
): BatchFaultSpec | undefined {
  for (const [index, fault] of faults.entries()) {
    if (fault.attempts !== undefined && attempt > fault.attempts) continue;
    if (uniformStream("batch-fault", sim, subject, attempt, index, fault.kind)() < fault.rate) return fault;
  }
  return undefined;
}

/** The body of an injected line error, as the live service words that status. */
function lineErrorBody(status: number): unknown {
  if (status === 429)
    return {
      error: {
        message: "Rate limit reached for requests. Please try again later.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    };
  if (status >= 500)
    return {
      error: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      },
    };
  return { error: { message: "The request was invalid.", type: "invalid_request_error", param: null, code: null } };
}

/**
 * A live fault as a batch line's outcome. A batch line has no connection of its own, so what is a
 * reset, stall or broken body live is the service's own failure here: a 500.
 */
function liveFaultLine(kind: FaultKind, sim: BatchSim, line: InputLine): { status: number; body: unknown } {
  switch (kind) {
    case "rate_limit":
      return { status: 429, body: lineErrorBody(429) };
    case "bad_gateway":
      return { status: 502, body: lineErrorBody(502) };
    case "unavailable":
      return { status: 503, body: lineErrorBody(503) };
    case "request_timeout":
      return { status: 408, body: { error: { code: "Timeout", message: "The operation was timeout." } } };
    case "prompt_filter":
      return { status: 400, body: PROMPT_FILTERED_BODY };
    case "auth":
      return { status: 401, body: UNAUTHORIZED_BODY };
    case "forbidden":
      return {
        status: 403,
        body: { error: { code: "PermissionDenied", message: "Principal does not have access to API/Operation." } },
      };
    case "output_filter":
      return { status: 200, body: outputFiltered(sim, line) };
    default:
      return { status: 500, body: lineErrorBody(500) };
  }
}

/** The answer with its content withheld by the output filter, in the line's API's shape. */
function outputFiltered(sim: BatchSim, line: InputLine): unknown {
  const who = {
    id: serviceId(line.api === "chat" ? "chatcmpl-" : "resp_", 29),
    created: Math.floor(Date.now() / 1000),
    model: modelNameFor(sim.name, sim.spec),
    systemFingerprint: sim.fingerprint,
  };
  if (line.api === "chat") {
    return completionBody(who, null, "content_filter", { promptTokens: 10, completionTokens: 0 });
  }
  return {
    ...responseObject(who, {
      text: null,
      finishReason: "content_filter",
      usage: { promptTokens: 10, completionTokens: 0 },
    }),
    status: "incomplete",
    incomplete_details: { reason: "content_filter" },
  };
}

/** Lines in a deterministic order unrelated to the input order: by a hash of content and custom_id. */
function shuffled(lines: readonly InputLine[], contentHash: string): InputLine[] {
  const keyed = lines.map((line) => ({
    line,
    key: createHash("sha256").update(`${contentHash}\u0001${line.customId}`).digest("hex"),
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.line);
}
