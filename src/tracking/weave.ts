/**
 * Main-process side of Weave logging. The SDK runs in a child process (`weave-child.ts`); this file
 * only forks it, feeds it records over IPC and turns whatever happens to it into at most one
 * warning. It never imports `weave`, never throws from `record()`, never lets memory grow without
 * bound, and bounds the wait at the end. The journal on disk is the source of truth, so anything
 * not uploaded here can be sent later with `bakeoff weave-sync`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import type { Socket } from "node:net";
import type { RunManifest } from "../store/manifest.js";
import type { PredictionRecord, Row } from "../types.js";
import { modelInfoFor, runAttributes } from "./weave-payload.js";
import type { FromChild, ToChild, WeaveDatasetRow } from "./weave-protocol.js";
import { WeaveSummaryAccumulator, type WeaveModelSummary } from "./weave-summary.js";
import { sanitize } from "./sanitize.js";

export { resolveWeaveSettings, hasWandbKey, type WeaveSettings } from "./weave-settings.js";
export type { WeaveModelSummary } from "./weave-summary.js";

/** How a Weave upload ended. `ok` only when every record the sink was given reached the SDK's queue and was flushed. */
export interface WeaveResult {
  ok: boolean;
  /** Predictions fully logged (prediction, model call, scores) and flushed. */
  uploaded: number;
  /** Records not uploaded (uploader dead, too far behind, or stopped at the bound). */
  dropped: number;
  /**
   * Of `uploaded`, predictions whose calls the uploader wrote itself from the templates of
   * predictions the Weave SDK wrote (same calls, far less CPU); the rest went through the SDK.
   */
  direct: number;
  /** The one warning shown to the user, if any. */
  warning?: string;
}

/** Options of {@link startWeaveSink}. */
export interface WeaveSinkOptions {
  /** `entity/project`. */
  project: string;
  runId: string;
  manifest: RunManifest;
  /** Called at most once, with a one-line message for the user (no stack trace). */
  onWarning: (message: string) => void;
  /** Run directory, named in "upload later" hints and used as the child's cwd (the SDK writes weaveErrors.log there). @default results/<runId> */
  runDir?: string;
  /** Rows for the evaluation's dataset; without them the evaluation names its dataset only. */
  rows?: readonly Pick<Row, "dataset" | "id" | "messages" | "expected" | "vars">[];
  /** Compiled child entry. @default weave-child.js next to this file, else dist/tracking/weave-child.js */
  childPath?: string;
  /** Environment of the child (WANDB_API_KEY, WF_TRACE_SERVER_URL, ...). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Longest wait in `finish()` for uploads to complete. @default 60000 */
  finishTimeoutMs?: number;
  /** Records sent but not yet logged by the child beyond which new ones are dropped (bounds memory: about 1–2 KB each). @default 5000 */
  maxBacklog?: number;
}

/** A running Weave upload for one run. */
export interface WeaveSink {
  /** Hands one record (already in the journal) to the uploader. Never throws, never waits. */
  record(rec: PredictionRecord): void;
  /**
   * Logs each model's summary, waits (bounded) for uploads to finish and stops the child.
   * Summaries default to those computed from the records passed to `record()`. Aborting
   * `signal` (the user's Ctrl-C) stops the wait at once and says how to upload later.
   */
  finish(summaries?: WeaveModelSummary[], signal?: AbortSignal): Promise<WeaveResult>;
  /**
   * Resolves true when the backlog has room for more records, false when the uploader is dead or
   * made no progress for `finishTimeoutMs` (for senders that can wait, such as weave-sync).
   */
  waitForRoom(): Promise<boolean>;
}

const DEFAULT_FINISH_TIMEOUT_MS = 60_000;
/** Rows beyond this are not sent as the evaluation's dataset (it would be one huge table/create). */
const MAX_DATASET_ROWS = 50_000;
const TAIL_LINES = 200;
/**
 * Records per IPC message. Each message costs a JSON encode and a pipe write in the run's process
 * and a parse and wake-up in the child; per record that was most of what Weave added to the run.
 */
const RECORDS_PER_MESSAGE = 64;
/** Longest a record waits in the parent before its (partial) batch is sent. */
const FLUSH_INTERVAL_MS = 50;

/** Starts the Weave child for a run and returns its sink. Never throws: a failed start is one warning. */
export function startWeaveSink(options: WeaveSinkOptions): WeaveSink {
  return new ChildSink(options);
}

/** The compiled child entry: beside this module in dist/, or dist/tracking/ when running from src/ (tests). */
export function defaultChildPath(): string {
  const beside = fileURLToPath(new URL("./weave-child.js", import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL("../../dist/tracking/weave-child.js", import.meta.url));
}

class ChildSink implements WeaveSink {
  private child: ChildProcess | null = null;
  private readonly runDir: string;
  private readonly finishTimeoutMs: number;
  private readonly maxBacklog: number;
  private readonly summaries = new WeaveSummaryAccumulator();
  private readonly tail: string[] = [];
  private readonly debug: boolean;
  private sent = 0;
  private processed = 0;
  private lastProgressAt = Date.now();
  private dropped = 0;
  private alive = false;
  private finishing: Promise<WeaveResult> | null = null;
  private done: Extract<FromChild, { type: "done" }>["stats"] | null = null;
  private problem: Extract<FromChild, { type: "problem" }> | null = null;
  private exitInfo: string | null = null;
  private warning: string | undefined;
  private roomWaiters: (() => void)[] = [];
  /** Records not yet sent to the child (at most RECORDS_PER_MESSAGE, for at most FLUSH_INTERVAL_MS). */
  private batch: PredictionRecord[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private exitWaiters: (() => void)[] = [];

  constructor(private readonly options: WeaveSinkOptions) {
    this.runDir = options.runDir ?? `results/${options.runId}`;
    this.finishTimeoutMs = options.finishTimeoutMs ?? DEFAULT_FINISH_TIMEOUT_MS;
    this.maxBacklog = options.maxBacklog ?? 5000;
    const env = options.env ?? process.env;
    this.debug = /\bweave\b/.test(process.env["BAKEOFF_DEBUG"] ?? "");
    try {
      this.spawn(env);
    } catch (err) {
      this.exitInfo = `could not start the Weave uploader: ${err instanceof Error ? err.message : String(err)}`;
      this.alive = false;
      this.warnFailure();
    }
  }

  record(rec: PredictionRecord): void {
    try {
      this.summaries.add(rec);
    } catch {
      // A malformed record must not stop the run; the summary simply misses it.
    }
    if (!this.alive || this.finishing || !this.child) {
      this.dropped++;
      return;
    }
    if (this.sent - this.processed >= this.maxBacklog) {
      this.dropped++;
      this.warnOnce(
        `Weave upload is falling behind; further results are not sent live (they are safe on disk). Upload later with: bakeoff weave-sync ${this.runDir}`,
      );
      return;
    }
    // Journal records are plain JSON (the journal is written with JSON.stringify), so they go
    // as they are; the child sanitizes them, off the run's CPU.
    this.batch.push(rec);
    this.sent++;
    if (this.batch.length >= RECORDS_PER_MESSAGE) this.flush();
    // Unref'd: finish() sends what is left, so this timer never has to hold the process open.
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  /** Sends the records gathered so far as one message. */
  private flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.batch.length === 0) return;
    const records = this.batch;
    this.batch = [];
    this.post({ type: "records", records });
  }

  waitForRoom(): Promise<boolean> {
    if (!this.alive) return Promise.resolve(false);
    if (this.sent - this.processed < this.maxBacklog / 2) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.alive) return finishCheck(false);
        if (this.sent - this.processed < this.maxBacklog / 2) return finishCheck(true);
        if (Date.now() - this.lastProgressAt > this.finishTimeoutMs) return finishCheck(false);
        this.roomWaiters.push(check);
      };
      const timer = setInterval(
        () => {
          if (Date.now() - this.lastProgressAt > this.finishTimeoutMs) finishCheck(false);
        },
        Math.min(1000, this.finishTimeoutMs),
      );
      let settled = false;
      const finishCheck = (value: boolean): void => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        resolve(value);
      };
      check();
    });
  }

  finish(summaries?: WeaveModelSummary[], signal?: AbortSignal): Promise<WeaveResult> {
    this.finishing ??= this.finishImpl(summaries ?? this.summaries.result(), signal);
    return this.finishing;
  }

  private async finishImpl(summaries: WeaveModelSummary[], signal?: AbortSignal): Promise<WeaveResult> {
    const child = this.child;
    if (this.alive && child) {
      // Hold the event loop open until the child is done or the bound expires.
      child.channel?.ref();
      this.flush();
      this.post({ type: "finish", summaries: sanitize(summaries) as WeaveModelSummary[] });
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      // "exited", "timeout" or "stopped" (the user pressed Ctrl-C: stop waiting at once).
      const ended = await Promise.race([
        new Promise<string>((resolve) => this.exitWaiters.push(() => resolve("exited"))),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("timeout"), this.finishTimeoutMs);
        }),
        new Promise<string>((resolve) => {
          if (!signal) return;
          onAbort = () => resolve("stopped");
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (ended === "stopped") {
        this.warnOnce(
          `stopped waiting for Weave uploads; results are safe on disk. Upload them with: bakeoff weave-sync ${this.runDir}`,
        );
        this.kill();
      } else if (ended === "timeout") {
        const why = this.problem ? ` (${this.problem.message})` : "";
        this.warnOnce(
          `Weave upload did not finish within ${formatSeconds(this.finishTimeoutMs)}${why}; results are safe on disk. Upload later with: bakeoff weave-sync ${this.runDir}`,
        );
        this.kill();
      }
    }
    const uploaded = this.done?.predictions ?? 0;
    const failed = this.done?.failed ?? 0;
    const dropped = this.dropped + (this.done ? failed : this.sent);
    if (this.done && dropped > 0) {
      const why = this.problem ? ` (${this.problem.message})` : "";
      this.warnOnce(
        `Weave logging was incomplete: ${dropped} result(s) not uploaded${why}; results are safe on disk. Upload later with: bakeoff weave-sync ${this.runDir}`,
      );
    }
    const feedbackFailed = this.done?.feedbackFailed ?? 0;
    if (this.done && feedbackFailed > 0) {
      const why = this.problem ? ` (${this.problem.message})` : "";
      this.warnOnce(
        `Weave logging was incomplete: ${feedbackFailed} score(s) not attached to their predictions as feedback${why}; results are safe on disk. Upload later with: bakeoff weave-sync ${this.runDir}`,
      );
    }
    const result: WeaveResult = {
      ok: this.done !== null && dropped === 0 && feedbackFailed === 0,
      uploaded,
      dropped,
      direct: this.done?.direct ?? 0,
    };
    if (this.warning !== undefined) result.warning = this.warning;
    return result;
  }

  private spawn(env: NodeJS.ProcessEnv): void {
    const childPath = this.options.childPath ?? defaultChildPath();
    if (!existsSync(childPath)) throw new Error(`${childPath} not found (run \`npm run build\`)`);
    const child = fork(childPath, [], {
      env: { ...env, WEAVE_PRINT_CALL_LINK: "false" },
      // The SDK appends weaveErrors.log to its cwd; keep that next to the run, not in the user's project root.
      cwd: existsSync(this.runDir) ? this.runDir : tmpdir(),
      // Loaders/inspectors of the parent (tsx, vitest) must not leak into the child.
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    this.child = child;
    this.alive = true;
    child.on("message", (m: FromChild) => this.onMessage(m));
    child.on("error", (err) => {
      this.exitInfo ??= `Weave uploader error: ${err.message}`;
    });
    // 'close' (not 'exit') so every IPC message the child sent, `done` included, has arrived first.
    child.on("close", (code, signal) => this.onExit(code, signal));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => this.keepTail(chunk));
      // Piped output must not keep the run alive after it is done.
      (stream as unknown as Socket | null)?.unref?.();
    }
    child.channel?.unref();
    child.unref();
    const manifest = this.options.manifest;
    const rows = this.options.rows;
    const start: ToChild = {
      type: "start",
      project: this.options.project,
      runId: this.options.runId,
      datasets: manifest.datasets.map((d) => d.name),
      models: manifest.models.map(modelInfoFor),
      attributes: runAttributes(manifest),
    };
    if (rows && rows.length > 0 && rows.length <= MAX_DATASET_ROWS) {
      start.rows = rows.map((r): WeaveDatasetRow => {
        const row: WeaveDatasetRow = { dataset: r.dataset, id: r.id, messages: r.messages, vars: r.vars };
        if (r.expected !== undefined) row.expected = r.expected;
        return row;
      });
    }
    this.post(sanitize(start) as ToChild);
  }

  private post(msg: ToChild): void {
    const child = this.child;
    if (!child || !this.alive) return;
    try {
      // With a callback, a closed channel reports here instead of as an 'error' event.
      child.send(msg, (err) => {
        if (err) this.exitInfo ??= `Weave uploader channel closed: ${err.message}`;
      });
    } catch (err) {
      this.exitInfo ??= `Weave uploader channel failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private onMessage(m: FromChild): void {
    switch (m.type) {
      case "progress":
        this.processed = m.processed;
        this.lastProgressAt = Date.now();
        this.wakeRoomWaiters();
        break;
      case "problem":
        // The first fatal problem explains a death best; otherwise keep the first one seen.
        if (!this.problem || (m.fatal && !this.problem.fatal)) this.problem = m;
        break;
      case "done":
        this.done = m.stats;
        this.processed = this.sent;
        break;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.alive = false;
    if (!this.done && !this.exitInfo) {
      this.exitInfo = signal ? `the uploader was stopped (${signal})` : `the uploader exited with code ${code}`;
    }
    if (!this.done && !this.warning) this.warnFailure();
    this.child?.stdout?.destroy();
    this.child?.stderr?.destroy();
    this.wakeRoomWaiters();
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
  }

  private warnFailure(): void {
    const why = this.problem?.message ?? this.exitInfo ?? "unknown error";
    if (this.debug) process.stderr.write(`[weave] child output tail:\n${this.tail.join("\n")}\n`);
    this.warnOnce(
      `Weave logging failed (${why}); results are safe on disk. Upload later with: bakeoff weave-sync ${this.runDir}`,
    );
  }

  private warnOnce(message: string): void {
    if (this.warning !== undefined) return;
    this.warning = message;
    try {
      this.options.onWarning(message);
    } catch {
      // A throwing warning printer must not break the run.
    }
  }

  private kill(): void {
    this.alive = false;
    try {
      this.child?.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  private keepTail(chunk: string): void {
    for (const line of chunk.split("\n")) {
      if (line === "") continue;
      this.tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      if (this.debug) process.stderr.write(`[weave] ${line}\n`);
    }
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

export { syncRunToWeave, type WeaveSyncOptions } from "./weave-sync.js";
