/**
 * The run loop: every row × model × trial, under the global and per-model limits, each result
 * appended to the journal the moment it completes. Everything else (reports, Weave, compare)
 * reads what this writes.
 */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { emulatorTarget, isEmulatorEndpoint } from "../config/rules.js";
import type { ModelSpec } from "../config/schema.js";
import { openDataset, type DatasetOpenOptions } from "../dataset/index.js";
import type { EmulatorHandle } from "../emulator/index.js";
import type { TokenCredential } from "@azure/core-auth";
import { resolveAuth } from "../providers/auth.js";
import { endpointVariant } from "../providers/registry.js";
import { buildProviderStack, emulatorEndpointFor } from "../providers/stack.js";
import { publicEndpoint } from "../providers/redact.js";
import { publicConfig } from "../config/public-config.js";
import { callWithRetry, type AttemptReport } from "../providers/retry.js";
import type { ModelInfo, Provider } from "../providers/types.js";
import { scoreResult } from "../scoring/index.js";
import {
  predictionKey,
  type CallErrorInfo,
  type Completion,
  type GenerationParams,
  type PredictionRecord,
  type Row,
  type Score,
} from "../types.js";
import { isBatched } from "../batch/is-batched.js";
import { callParams } from "./params.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import { gitInfo, toolVersion } from "../util/env-info.js";
import { AdaptiveConcurrency } from "./adaptive.js";
import { ReplayMissError, type CacheMode, type ResponseCache } from "./cache.js";
import { BakeoffError, ExitCode, UsageError } from "../errors.js";
import type { RunReport, WriteReportsOptions } from "../report/run-report.js";
import { LiveReports } from "../report/live-reports.js";
import { JournalWriter, KeySet, PREDICTIONS_FILE, completedKeys } from "../store/journal.js";
import type { Lock } from "../store/lock.js";
import { CallLimits, Window } from "./limits.js";
import {
  overwriteManifestInPlace,
  readManifest,
  writeManifest,
  type ModelManifest,
  type RunManifest,
  type RunStatus,
} from "../store/manifest.js";
import type { Progress } from "./progress.js";
import { createRunDir, lockRunDir, newRunId } from "../store/run-dir.js";
import { formatDuration, parseDuration } from "../util/duration.js";
import { sanitizeTerminalText } from "../util/terminal-text.js";
import type { PlannedDataset, RunPlan } from "./plan.js";

/** Something that wants every record after it is safely on disk (Weave, live dashboards). */
export interface RecordSink {
  record(record: PredictionRecord): void;
  /**
   * Called once at the end; may take a while (uploads), must not throw. `signal` aborts when the
   * user asks to stop (Ctrl-C): stop waiting then.
   */
  close(signal?: AbortSignal): Promise<void>;
}

export interface RunOptions {
  plan: RunPlan;
  /** Output directory (absolute, or relative to the cwd). */
  outputDir: string;
  runId?: string;
  /** Continue this existing run directory: completed results are skipped, not re-sent. */
  resume?: { runDir: string; manifest: RunManifest; retryErrors?: boolean };
  skipInvalidRows?: boolean;
  /** Aborting stops taking new work; calls in flight finish. */
  stopSignal?: AbortSignal;
  /** Aborting cancels calls in flight too (their rows stay unrecorded and are re-sent on resume). */
  abortSignal?: AbortSignal;
  progress?: Progress;
  /** User-facing messages (warnings, model stopped, ...). */
  log?: (message: string) => void;
  /** Record responses (`cache`) or answer only from recorded ones (`replay`, zero model calls). */
  cache?: { cache: ResponseCache; mode: CacheMode };
  /**
   * Longest this session may take, ms (default: the config's `deadline`). Then calls in flight are
   * cancelled and the rest is left for a resume; the run ends `incomplete` with the reason.
   */
  maxDurationMs?: number;
  /**
   * Reports and the run index entry, written before the run is marked complete (default: on).
   * `false` leaves both to the caller (the run then still ends `complete` when all results are in).
   */
  reports?: WriteReportsOptions | false;
  /** Created once run.json exists; each gets every record after the journal has it. */
  sinks?: (ctx: { runId: string; runDir: string; manifest: RunManifest }) => Promise<RecordSink[]> | RecordSink[];
  /**
   * Where models with `"auth": "entra"` get their tokens. @default a process-wide
   * DefaultAzureCredential (az login, managed identity, workload identity, AZURE_* variables)
   */
  credential?: TokenCredential;
}

export interface RunResult {
  runId: string;
  runDir: string;
  status: RunStatus;
  manifest: RunManifest;
  /** Calls made in this session (first attempts; retries are in each record's `attempts`). */
  sent: number;
  /** Results skipped because the journal already had them (resume). */
  skipped: number;
  /** Results recorded in this session. */
  recorded: number;
  /** Recorded results whose call failed. */
  failed: number;
  /** Models stopped (auth failure, circuit breaker), with the reason. */
  stoppedModels: { model: string; reason: string }[];
  /** Why the session ended early (deadline), when it did. */
  stopReason?: string;
  /** The reports written (absent with `reports: false`). */
  report?: RunReport;
}

/** Writing the run's files failed for a reason outside bakeoff (disk full, I/O error); exit 3. */
export class StorageError extends BakeoffError {
  override name = "StorageError";
  constructor(message: string, cause: unknown) {
    super(message, { cause, exitCode: ExitCode.incomplete });
  }
}

/** errno codes of storage failures the user fixes outside bakeoff; the run is resumable after. */
const STORAGE_ERRORS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EIO: "I/O error",
  EFBIG: "file too large for the file system or ulimit",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "a directory is in the way",
  ENOTDIR: "a file is in the way of a directory",
};

/** Rows left out by --skip-invalid-rows, one JSON object per line: {file, line, reason}. */
export const SKIPPED_FILE = "skipped.jsonl";

/** How many calls each model may have waiting beyond its running ones (bounded memory). */
const QUEUE_FACTOR = 2;

export async function runEvaluation(options: RunOptions): Promise<RunResult> {
  const { plan } = options;
  const log = options.log ?? ((m: string) => void process.stderr.write(m + "\n"));
  const progress = options.progress;
  const resuming = options.resume !== undefined;

  const runId = resuming ? options.resume!.manifest.runId : (options.runId ?? newRunId());
  // Two git processes for run.json: started now, they run while the emulator starts and /info answers.
  const git = resuming ? undefined : gitInfo(plan.baseDir);
  // One writer per run: the lock is held from here until the reports, index entry and final
  // run.json are written, so no second process can append to this journal meanwhile.
  let runDir: string;
  let lock: Lock;
  if (resuming) {
    runDir = options.resume!.runDir;
    lock = await lockRunDir(runDir, "resume");
  } else {
    ({ runDir, lock } = await createRunDir(options.outputDir, runId));
  }

  let emulator: EmulatorHandle | undefined;
  let journal: JournalWriter | undefined;
  let manifest: RunManifest | undefined;
  let live: LiveReports | undefined;
  const sinks: RecordSink[] = [];
  let closingSinks: Promise<unknown> | undefined;
  try {
    if (resuming) {
      // Re-read under the lock: another process may have moved the run on since the caller read it.
      const current = await readManifest(runDir);
      if (current.status === "complete" && !options.resume!.retryErrors) {
        throw new UsageError(`run ${runId} was completed by another process meanwhile; nothing to resume`);
      }
    }
    if (plan.skippedRows.length > 0 && !resuming) {
      await writeFile(
        join(runDir, SKIPPED_FILE),
        plan.skippedRows.map((s) => JSON.stringify(s) + "\n").join(""),
        "utf8",
      );
    }
    // A replay never calls a model, so it needs no emulator either.
    const replaying = options.cache?.mode === "replay";
    const emulated = [...plan.models, ...plan.judges.specs].filter((m) => isEmulatorEndpoint(m.endpoint));
    if (emulated.length > 0 && !replaying) {
      // Imported here: the emulator (and the zod schema it checks its models with) is for runs
      // that use it, not part of every run's start-up.
      const { startEmulator } = await import("../emulator/index.js");
      emulator = await startEmulator({ models: plan.config.emulator.models, quiet: true });
    }
    const providers = new Map<string, Provider>();
    const resolved = new Map<string, string>();
    const endpointFor = (m: ModelSpec) =>
      !isEmulatorEndpoint(m.endpoint)
        ? m.endpoint
        : emulator
          ? emulatorEndpointFor(m, emulator.endpointFor(emulatorTarget(m.endpoint)))
          : "http://127.0.0.1:9/replay-only";
    // One builder for judged models and judges: cache → rpm/tpm budget → provider.
    const stackFor = (m: ModelSpec, endpoint: string, apiKey: string): Provider =>
      buildProviderStack(m, {
        endpoint,
        auth: resolveAuth(m, apiKey, options.credential),
        maxResponseBytes: plan.config.maxResponseBytes,
        ...(options.cache ? { cache: options.cache } : {}),
      });
    for (const m of plan.models) {
      const endpoint = endpointFor(m);
      resolved.set(m.name, endpoint);
      providers.set(m.name, stackFor(m, endpoint, plan.keys.get(m.name) ?? ""));
    }
    // Judges call their own endpoints; emulated ones exist only now that the emulator is up.
    // Cancels every call in flight: the run deadline. Per model, the circuit breaker adds its own.
    const cancelAll = new AbortController();
    const runSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, cancelAll.signal]) : cancelAll.signal;
    const modelCancel = new Map(plan.models.map((m) => [m.name, new AbortController()]));
    const modelSignal = new Map(
      plan.models.map((m) => [m.name, AbortSignal.any([runSignal, modelCancel.get(m.name)!.signal])]),
    );
    plan.judges.connect({
      endpointFor,
      stackFor,
      signal: runSignal,
    });
    const infosPending = fetchInfos(providers);
    // The Azure SDK reads the global FormData on every request with a body (its getRequestBody),
    // and Node defines that global lazily: the first read loads undici, 40–70 ms of CPU (Node
    // 20/22, measured in a fresh process), which a CPU profile of the bench's run showed on the
    // first call, holding every first call back. Read here, it overlaps the /info round trips and
    // the git process instead. /info itself has no body and does not reach it; other providers
    // never do, so they do not pay for it.
    if (!replaying && plan.models.some((m) => m.provider === "azure-ai-inference")) void globalThis.FormData;
    const infos = await infosPending;

    const startedAt = new Date().toISOString();
    manifest = resuming
      ? resumedManifest(options.resume!.manifest, startedAt, options.resume!.retryErrors ?? false)
      : await newManifest(plan, runId, startedAt, await git);
    for (const mm of manifest.models) {
      mm.info = infos.get(mm.name) ?? null;
      const r = resolved.get(mm.name);
      if (r && isEmulatorEndpoint(mm.endpoint)) mm.resolvedEndpoint = r;
    }
    // run.json before the journal: a kill in between leaves a resumable run, never a journal
    // without a manifest.
    await writeManifest(runDir, manifest);
    // The reports are fed each record as the journal takes it, so the run's end only renders
    // them (src/report/live-reports.ts); a journal that may hold superseded records is read in
    // full at the end instead.
    if (options.reports !== false && LiveReports.applies(manifest)) {
      live = new LiveReports(runDir, manifest, options.reports ?? {});
    }
    journal = await JournalWriter.open(join(runDir, PREDICTIONS_FILE), live ? { onWritten: live.onWritten } : {});
    const jw = journal;
    const m0 = manifest;
    // Batch state changes rewrite run.json; one write at a time (they share the temp file).
    let manifestWrites: Promise<void> = Promise.resolve();
    const saveManifest = (): Promise<void> =>
      (manifestWrites = manifestWrites.then(
        () => writeManifest(runDir, m0),
        () => writeManifest(runDir, m0),
      ));

    for (const s of (await options.sinks?.({ runId, runDir, manifest })) ?? []) sinks.push(s);

    const done = resuming
      ? await completedKeys(join(runDir, PREDICTIONS_FILE), { retryErrors: options.resume!.retryErrors ?? false })
      : KeySet.empty();
    const total = manifest.expected;
    progress?.start(total, Math.min(done.size, total));
    // The report modules are imported, and the live feed loads the report builders and reads what
    // the journal already holds (a resumed run's), once the first calls are on the wire: their
    // load (~25 ms of CPU quiet, most of it evaluating the report modules) then overlaps the wait
    // for the first answers instead of delaying the first call (in a CPU profile of the bench's
    // run it sat between the last set-up step and the first request). setImmediate runs after
    // the producers have started every call the concurrency allows (they chain through
    // microtasks over the rows already read). The feed's catch-up scan takes any record written
    // before it starts.
    let reportsStarted = false;
    const startReports = (): void => {
      if (reportsStarted) return;
      reportsStarted = true;
      setImmediate(() => {
        if (options.reports !== false) reportModules().catch(() => {});
        live?.start(jw);
      });
    };

    const limits = new CallLimits(
      plan.concurrency,
      Object.fromEntries(plan.models.map((m) => [m.name, m.concurrency])),
    );
    const adaptive = adaptiveControllers(plan.models, limits, log);
    const stopped = new Map<string, string>();
    const counters = { sent: 0, skipped: 0, recorded: 0, failed: 0 };
    let fatal: unknown;
    let stopReason: string | undefined;
    const isStopping = () => options.stopSignal?.aborted === true || runSignal.aborted || fatal !== undefined;

    const maxDurationMs =
      options.maxDurationMs ??
      (plan.config.deadline !== undefined ? (parseDuration(plan.config.deadline) ?? undefined) : undefined);
    const deadline =
      maxDurationMs === undefined
        ? undefined
        : setTimeout(
            () => {
              stopReason = `the run deadline of ${formatDuration(maxDurationMs)} was reached`;
              log(`bakeoff: ${stopReason}; cancelling calls in flight (they are re-sent on resume).`);
              cancelAll.abort(new Error(stopReason));
            },
            Math.min(maxDurationMs, 2_147_483_647),
          );
    const breaker = new CircuitBreaker(parseDuration(plan.config.giveUpAfter) ?? 600_000, (name, streakMs, last) => {
      const model = plan.models.find((m) => m.name === name);
      if (model) giveUp(model, streakMs, last);
    });

    const runOne = async (ds: PlannedDataset, row: Row, model: ModelSpec, trial: number, key: string) => {
      const signal = modelSignal.get(model.name)!;
      if (stopped.has(model.name) || signal.aborted || fatal !== undefined) return;
      const started = new Date();
      counters.sent++;
      startReports();
      const controller = adaptive.get(model.name);
      const provider = providers.get(model.name)!;
      const params: GenerationParams = callParams(model.params, row.params, trial);
      let output: Completion;
      try {
        output = await callWithRetry(
          provider,
          { messages: row.messages, params },
          {
            trial,
            retry: plan.config.retry,
            timeoutMs: model.timeoutMs,
            signal,
            onAttempt: (a: AttemptReport) => {
              controller?.observe(a.outcome);
              breaker.observe(model.name, a);
            },
          },
        );
      } catch (err) {
        throw err instanceof ReplayMissError
          ? err.withContext({ row: `${row.dataset}/${row.id} (line ${row.line})` })
          : err;
      }
      if (output.error?.kind === "aborted") return; // never completed: resume re-sends it
      if (output.error?.kind === "auth") {
        stopModel(model, output.error);
        return; // not an outcome of the model: re-sent on resume once the key is fixed
      }
      await recordOutcome(ds, row, model, trial, key, output, started);
    };

    /** Scores one call's outcome and appends its record (live calls and ingested batch lines). */
    const recordOutcome = async (
      ds: PlannedDataset,
      row: Row,
      model: ModelSpec,
      trial: number,
      key: string,
      output: Completion,
      started: Date,
    ) => {
      startReports(); // a batched model's first record may come before any live call
      // Awaited only when a scorer is asynchronous (judges, async custom scorers).
      const scored = scoreResult(ds.scorers, {
        output,
        expected: row.expected,
        vars: row.vars,
        row: { id: row.id, messages: row.messages },
      });
      const scores = scored instanceof Promise ? await scored : scored;
      const record = predictionRecord(row, model.name, trial, key, output, scores, started);
      jw.append(record);
      // Hold this call's concurrency slot until its record is in the kernel: then a kill -9 can
      // lose at most the calls in flight (<= the concurrency limit), never a queue of finished
      // ones. Writes still coalesce: every waiter shares the same batched write.
      await jw.flush();
      counters.recorded++;
      if (output.error) counters.failed++;
      progress?.tick(output.error !== undefined);
      for (const s of sinks) s.record(record);
    };

    const stopModel = (model: ModelSpec, error: CallErrorInfo) => {
      if (stopped.has(model.name)) return;
      const reason = sanitizeTerminalText(error.message);
      stopped.set(model.name, `authentication failed: ${reason}`);
      const envHint = model.apiKeyEnv
        ? `Check the key in $${model.apiKeyEnv}`
        : "Check the endpoint's key (emulator.models.*.apiKey)";
      log(
        `bakeoff: model "${model.name}" stopped after an authentication failure: ${reason}. ` +
          `${envHint} and that it has access to ${model.model ?? "this deployment"}. Other models carry on; resume later to finish "${model.name}".`,
      );
    };

    // The circuit breaker: a model that has done nothing but fail for `giveUpAfter` is stopped,
    // its calls in flight cancelled (a server asking to wait forever must not hold the run).
    const giveUp = (model: ModelSpec, streakMs: number, last: AttemptReport) => {
      if (stopped.has(model.name)) return;
      const what = last.outcome === "rate_limit" ? "rate limiting (429)" : "failing calls";
      const reason = `gave up after ${formatDuration(streakMs)} of uninterrupted ${what}; last: ${sanitizeTerminalText(last.error?.message ?? last.outcome)}`;
      stopped.set(model.name, reason);
      modelCancel.get(model.name)!.abort(new Error(reason));
      log(
        `bakeoff: model "${model.name}" stopped: ${reason}. Its remaining rows are not run; other models carry on; resume later to finish "${model.name}".`,
      );
    };

    // One producer per model: each reads the datasets at its own pace, so a slow or throttled
    // model never holds back a fast one, and each keeps a bounded queue (flat memory).
    const produce = async (model: ModelSpec) => {
      // Batch mode: this model's calls go through the Batch API (src/batch), live calls only
      // for lines the service failed; records land in the same journal.
      if (isBatched(model)) {
        // Loaded only for a batched model: the batch modules are not part of every run's start-up.
        const { runBatchedModel } = await import("../batch/phase.js");
        const outcome = await runBatchedModel({
          model,
          plan,
          runId,
          runDir,
          manifest: m0,
          endpoint: resolved.get(model.name)!,
          auth: resolveAuth(model, plan.keys.get(model.name) ?? "", options.credential),
          done,
          isStopping: () => isStopping() || stopped.has(model.name),
          signal: modelSignal.get(model.name)!,
          record: (ds, row, trial, key, output, started) => recordOutcome(ds, row, model, trial, key, output, started),
          live: (ds, row, trial, key) => limits.run(model.name, () => runOne(ds, row, model, trial, key)),
          saveManifest: () => saveManifest(),
          counted: (n) => {
            counters.sent += n;
          },
          skipped: (n) => {
            counters.skipped += n;
          },
          log,
        });
        if (outcome.incomplete !== undefined && !stopped.has(model.name)) stopped.set(model.name, outcome.incomplete);
        return;
      }
      const window = new Window(Math.max(1, limits.concurrency(model.name)) * (QUEUE_FACTOR + 1));
      // One pair of handlers for all of this model's calls (not two closures and promises per call).
      const release = () => window.release();
      const failed = (err: unknown) => {
        fatal ??= err;
        window.release();
      };
      try {
        for (const ds of plan.datasets) {
          // The plan already rejected duplicate ids, unless invalid rows are being skipped: then
          // this pass must skip the same duplicates the plan did, so it keeps checking.
          const openOpts: DatasetOpenOptions = {
            skipInvalidRows: options.skipInvalidRows ?? false,
            index: ds.index,
            checkDuplicateIds: options.skipInvalidRows === true,
            ...(plan.shard ? { shard: plan.shard } : {}),
          };
          for await (const row of openDataset(ds.spec, openOpts)) {
            for (let trial = 0; trial < plan.trials; trial++) {
              if (isStopping() || stopped.has(model.name)) return;
              const key = predictionKey(row.dataset, row.id, model.name, trial);
              if (done.has(key)) {
                counters.skipped++;
                continue;
              }
              const wait = window.acquire();
              if (wait !== undefined) {
                await wait;
                if (isStopping() || stopped.has(model.name)) {
                  window.release();
                  return;
                }
              }
              void limits.run(model.name, () => runOne(ds, row, model, trial, key)).then(release, failed);
            }
          }
        }
      } finally {
        await window.drained();
      }
    };

    await Promise.all(plan.models.map((m) => produce(m)));
    await manifestWrites;
    if (deadline) clearTimeout(deadline);
    breaker.dispose();
    progress?.stop();
    // Every record in the kernel, so fed to the live reports; the fsync comes below.
    await jw.flush();
    if (fatal !== undefined) {
      await jw.sync();
      throw fatal instanceof ReplayMissError && options.cache
        ? fatal.withContext({ misses: options.cache.cache.stats().misses })
        : fatal;
    }

    const interrupted = options.stopSignal?.aborted === true || options.abortSignal?.aborted === true;
    const status: RunStatus = interrupted
      ? "interrupted"
      : stopped.size > 0 || stopReason !== undefined
        ? "incomplete"
        : "complete";
    const endedAt = new Date().toISOString();
    const manifestOut = m0;
    manifestOut.status = status;
    manifestOut.endedAt = endedAt;
    if (stopReason !== undefined) manifestOut.stopReason = stopReason;
    else delete manifestOut.stopReason;
    const session = manifestOut.sessions[manifestOut.sessions.length - 1]!;
    session.endedAt = endedAt;
    session.sent = counters.sent;
    session.skipped = counters.skipped;
    for (const mm of manifestOut.models) {
      const why = stopped.get(mm.name);
      if (why !== undefined) mm.stopped = why;
      else delete mm.stopped;
      mm.finalConcurrency = limits.concurrency(mm.name);
      const history = adaptive.get(mm.name)?.history();
      if (history === undefined) continue;
      mm.concurrencyHistory = history;
      if (history.decreases > 0) {
        log(
          `bakeoff: model "${mm.name}" settled at concurrency ${mm.finalConcurrency} (lowest ${history.min}; lowered ${history.decreases}×, raised ${history.increases}×)`,
        );
      }
    }
    // The journal's fsync (tens of ms for a run's worth of dirty pages, more on a busy disk) runs
    // in the thread pool while the reports' statistics are computed; no report is put in place,
    // and run.json is not written, before it is done (finishRun).
    const durable = jw.close();
    durable.catch(() => undefined); // awaited in finishRun; observed now so it is never unhandled
    // Sinks (Weave: another process) finish their uploads while the reports are written.
    closingSinks = closeSinks(sinks, options.stopSignal);
    // Reports and the index entry first, run.json last: a run is `complete` only once everything
    // derived from its journal is on disk. A kill before that leaves it `running`, and a resume
    // sends nothing new and writes them again.
    const report = await finishRun(runDir, manifestOut, options.reports, live, durable);

    return {
      runId,
      runDir,
      status,
      manifest: manifestOut,
      ...counters,
      stoppedModels: [...stopped].map(([model, reason]) => ({ model, reason })),
      ...(stopReason !== undefined ? { stopReason } : {}),
      ...(report ? { report } : {}),
    };
  } catch (err) {
    throw await storageFailure(err, runDir, runId, manifest);
  } finally {
    progress?.stop();
    await journal?.close().catch(() => undefined);
    await live?.discard();
    await (closingSinks ?? closeSinks(sinks, options.stopSignal));
    await emulator?.close();
    await lock.release();
  }
}

/**
 * One result's journal record, as one object literal: this runs once per result, and the
 * conditional spread it replaced cost a copy and left an object JSON.stringify (the journal line)
 * serialises more slowly. A row without an expected answer gets `expected: undefined`, which
 * JSON.stringify leaves out, so the line is the same as with the key absent; every reader of an
 * in-memory record tests `expected !== undefined`. The field order is the journal's: keep it.
 */
export function predictionRecord(
  row: Row,
  model: string,
  trial: number,
  key: string,
  output: Completion,
  scores: Record<string, Score>,
  started: Date,
): PredictionRecord {
  return {
    v: 1,
    key,
    dataset: row.dataset,
    rowId: row.id,
    line: row.line,
    model,
    trial,
    input: { messages: row.messages, vars: row.vars },
    expected: row.expected,
    output,
    scores,
    startedAt: isoTime(started.getTime()),
    endedAt: isoTime(Date.now()),
  };
}

/** The last two timestamps formatted (results ending, and calls starting, in the same ms share one). */
const isoCache = { ms: [NaN, NaN], text: ["", ""], next: 0 };

/** `new Date(ms).toISOString()`, remembered for the last two distinct ms values. */
function isoTime(ms: number): string {
  const c = isoCache;
  if (c.ms[0] === ms) return c.text[0]!;
  if (c.ms[1] === ms) return c.text[1]!;
  const text = new Date(ms).toISOString();
  const i = c.next;
  c.ms[i] = ms;
  c.text[i] = text;
  c.next = 1 - i;
  return text;
}

function closeSinks(sinks: readonly RecordSink[], signal: AbortSignal | undefined): Promise<unknown> {
  return Promise.all(sinks.map((s) => s.close(signal).catch(() => undefined)));
}

type ReportWriters = [typeof import("../report/run-report.js"), typeof import("../report/index-entry.js")];
let reportWriters: Promise<ReportWriters> | undefined;

/**
 * The report writers (markdown, html, json, csv, junit and the run index: ~70 ms of CPU to
 * import), loaded once per process, when a run starts calling rather than at start-up.
 */
function reportModules(): Promise<ReportWriters> {
  return (reportWriters ??= Promise.all([import("../report/run-report.js"), import("../report/index-entry.js")]));
}

/**
 * Writes the reports and the index entry of a finished session, then run.json. Each report is
 * written to a temp file and renamed, so a report on disk is always whole.
 */
async function finishRun(
  runDir: string,
  manifest: RunManifest,
  reports: RunOptions["reports"],
  live: LiveReports | undefined,
  durable: Promise<void>,
): Promise<RunReport | undefined> {
  let report: RunReport | undefined;
  if (reports !== false) {
    const [{ writeRunReports }, { indexRun }] = await reportModules();
    const options = { ...(reports ?? {}), manifest, durable };
    report = live ? await live.finish(options) : await writeRunReports(runDir, options);
    await indexRun(runDir, { outputDir: dirname(runDir), manifest, summary: report.analysis.summary });
  }
  await durable;
  await writeManifest(runDir, manifest);
  return report;
}

/**
 * Turns a storage failure (disk full, I/O error) into a one-line, resumable error: the run is
 * marked `interrupted` when run.json can still be written, and the message says how to finish.
 */
async function storageFailure(
  err: unknown,
  runDir: string,
  runId: string,
  manifest: RunManifest | undefined,
): Promise<unknown> {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const what = typeof code === "string" ? STORAGE_ERRORS[code] : undefined;
  if (what === undefined) return err;
  if (manifest) {
    manifest.status = "interrupted";
    manifest.endedAt = new Date().toISOString();
    manifest.stopReason = `${what} (${code})`;
    // The disk may still be full: then rewrite run.json in place, which needs no new block.
    await writeManifest(runDir, manifest).catch(() =>
      overwriteManifestInPlace(runDir, manifest).catch(() => undefined),
    );
  }
  // A failed rename (a report moved into place) names the file it was for in `dest`.
  const path = (err as NodeJS.ErrnoException & { dest?: string }).dest ?? (err as NodeJS.ErrnoException).path;
  return new StorageError(
    `could not write ${path ?? `to ${runDir}`}: ${what} (${code}). Results recorded so far are safe; fix the disk, then finish with: bakeoff run --resume ${runId} --out ${dirname(runDir)}`,
    err,
  );
}

/**
 * Per-model give-up rule: tracks how long each model has seen nothing but retryable failures
 * (429, 5xx, timeouts, network). Any answer from the service (a success, a content filter, a bad
 * request) ends the streak. A timer trips it, because a model told to wait (Retry-After) makes
 * no attempt, so nothing would be observed, while the streak runs on.
 */
class CircuitBreaker {
  private readonly streaks = new Map<string, { start: number; last: AttemptReport; timer: NodeJS.Timeout }>();
  constructor(
    private readonly limitMs: number,
    private readonly onTrip: (model: string, streakMs: number, last: AttemptReport) => void,
  ) {}

  /** Records one attempt of `model`. */
  observe(model: string, report: AttemptReport): void {
    if (report.outcome === "aborted") return;
    const failing =
      report.outcome === "rate_limit" ||
      report.outcome === "server" ||
      report.outcome === "timeout" ||
      report.outcome === "network";
    const streak = this.streaks.get(model);
    if (!failing) {
      if (streak) clearTimeout(streak.timer);
      this.streaks.delete(model);
      return;
    }
    if (streak) {
      streak.last = report;
      return;
    }
    const start = Date.now();
    const timer = setTimeout(
      () => {
        const s = this.streaks.get(model);
        this.streaks.delete(model);
        if (s) this.onTrip(model, Date.now() - s.start, s.last);
      },
      Math.min(this.limitMs, 2_147_483_647),
    );
    timer.unref();
    this.streaks.set(model, { start, last: report, timer });
  }

  /** Stops every timer (the run is over). */
  dispose(): void {
    for (const s of this.streaks.values()) clearTimeout(s.timer);
    this.streaks.clear();
  }
}

/**
 * One AIMD controller per adaptive model, resizing that model's limiter. A decrease is logged
 * when it takes the limit to a new low for the run: a long storm makes the limit bounce between
 * its floor and one above, and a line per bounce would bury everything else. The run's end logs
 * where each throttled model settled.
 */
function adaptiveControllers(
  models: ModelSpec[],
  limits: CallLimits,
  log: (message: string) => void,
): Map<string, AdaptiveConcurrency> {
  const controllers = new Map<string, AdaptiveConcurrency>();
  for (const m of models) {
    if (m.adaptive === false) continue;
    const initial = limits.concurrency(m.name);
    let lowest = initial;
    const controller = new AdaptiveConcurrency({
      initial,
      onChange: (limit, change) => {
        limits.setConcurrency(m.name, limit);
        if (change.direction === "down" && limit < lowest) {
          lowest = limit;
          log(`bakeoff: model "${m.name}" is being rate limited; concurrency ${change.from} → ${change.to}`);
        }
      },
    });
    controllers.set(m.name, controller);
  }
  return controllers;
}

async function fetchInfos(providers: Map<string, Provider>): Promise<Map<string, ModelInfo | null>> {
  const out = new Map<string, ModelInfo | null>();
  await Promise.all(
    [...providers].map(async ([name, p]) => {
      try {
        out.set(name, await p.info(AbortSignal.timeout(5000)));
      } catch {
        // Model identity is nice to have; a failing /info must not stop the run (the first
        // real call reports auth or network problems properly).
        out.set(name, null);
      }
    }),
  );
  return out;
}

async function newManifest(
  plan: RunPlan,
  runId: string,
  startedAt: string,
  git: Awaited<ReturnType<typeof gitInfo>>,
): Promise<RunManifest> {
  // The stored snapshot holds no URL secrets (query-string keys, SAS signatures).
  const snapshot = publicConfig(plan.config);
  plan.datasets.forEach((d, i) => {
    snapshot.datasets[i]!.path = d.displayPath;
  });
  const rows = plan.datasets.reduce((n, d) => n + d.rows, 0);
  return {
    v: 1,
    runId,
    status: "running",
    startedAt,
    sessions: [{ startedAt, resumed: false, sent: 0, skipped: 0 }],
    tool: { name: "bakeoff", version: toolVersion(), node: process.version },
    ...(git ? { git } : {}),
    ...(plan.configFile ? { configPath: plan.configFile } : {}),
    configHash: sha256(canonicalJson(snapshot)),
    config: snapshot,
    datasets: plan.datasets.map((d) => ({
      name: d.name,
      path: d.displayPath,
      resolvedPath: d.spec.path,
      sha256: d.sha256,
      rows: d.rows,
      skipped: d.skipped,
    })),
    models: plan.models.map(modelManifest),
    trials: plan.trials,
    expected: rows * plan.models.length * plan.trials,
    ...(plan.shard ? { shard: { index: plan.shard.index, count: plan.shard.count, limits: plan.shard.limits } } : {}),
  };
}

function modelManifest(m: ModelSpec): ModelManifest {
  return {
    name: m.name,
    provider: m.provider,
    endpoint: publicEndpoint(m.endpoint),
    ...(m.model ? { deployment: m.model } : {}),
    ...endpointVariant(m),
    ...(m.stream ? { stream: true as const } : {}),
    params: { ...m.params },
  };
}

function resumedManifest(previous: RunManifest, startedAt: string, retryErrors: boolean): RunManifest {
  return {
    ...previous,
    status: "running",
    sessions: [...previous.sessions, { startedAt, resumed: true, sent: 0, skipped: 0 }],
    ...(retryErrors || previous.mayHaveDuplicates ? { mayHaveDuplicates: true } : {}),
  };
}
