/**
 * Batch mode for one model: plan the calls the journal does not have yet into input files,
 * submit them, poll until each batch ends, ingest the answers into the same journal as live
 * calls, and hand failed lines on (live calls or a new batch). Every state change is written to
 * run.json first, so a resume after a kill polls the batches in flight instead of paying twice.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ModelSpecOf } from "../config/model-spec.js";
import { isEmulatorEndpoint } from "../config/rules.js";
import { openDataset } from "../dataset/index.js";
import type { ProviderAuth } from "../providers/auth.js";
import { abortableSleep } from "../providers/retry.js";
import { formatDuration } from "../util/duration.js";
import type { KeySet } from "../store/key-set.js";
import type { BatchPartState, ModelManifest, RunManifest } from "../store/manifest.js";
import { callParams } from "../run/params.js";
import type { PlannedDataset, RunPlan } from "../run/plan.js";
import { predictionKey, type Completion, type Row } from "../types.js";
import { batchEndpoint, batchRequestLine, PartWriter, type BatchRowLine, type WrittenPart } from "./input.js";
import { readJsonLines, readResults, unansweredResult, type LineResult } from "./results.js";
import { isTerminal, openAIBatchService, type BatchInfo, type BatchService, BatchServiceError } from "./service.js";
import { batchSettings, type BatchSettings } from "./settings.js";
import { pathExists } from "../util/path-exists.js";

export { isBatched } from "./is-batched.js";

/** Folder of a model's batch files inside the run dir. */
export const BATCHES_DIR = "batches";

/** Lines resubmitted as a batch this many times (`retryFailed: "batch"`) are then recorded as failed. */
export const MAX_BATCH_GENERATIONS = 3;

export interface BatchContext {
  model: ModelSpecOf<"openai">;
  plan: RunPlan;
  runId: string;
  runDir: string;
  /** The run's manifest; this model's entry gets `batched` and `batches`. */
  manifest: RunManifest;
  /** Resolved endpoint (the emulator's loopback URL for `emulator://`). */
  endpoint: string;
  auth: ProviderAuth;
  /** Keys already in the journal: never planned again. */
  done: Pick<KeySet, "has">;
  /** The run (or this model) is stopping: leave batches in flight for a resume. */
  isStopping: () => boolean;
  signal: AbortSignal;
  /** Scores and appends one record (the runner's own path for live calls). */
  record: (
    ds: PlannedDataset,
    row: Row,
    trial: number,
    key: string,
    output: Completion,
    started: Date,
  ) => Promise<void>;
  /** One live call with its retries, scored and recorded (failed lines, `retryFailed: "live"`). */
  live: (ds: PlannedDataset, row: Row, trial: number, key: string) => Promise<void>;
  /** Writes run.json (serialised by the runner). */
  saveManifest: () => Promise<void>;
  /** Requests submitted in this session (as the runner's `sent`). */
  counted: (n: number) => void;
  /** Keys skipped because the journal had them. */
  skipped: (n: number) => void;
  log: (message: string) => void;
  /** The service; default: the model's OpenAI v1 endpoint. Tests and tools may inject another. */
  service?: BatchService;
}

export interface BatchOutcome {
  /** Why the model is not finished although nothing failed (a batch cancelled by the user). */
  incomplete?: string;
}

/** Runs `ctx.model`'s share of the run through the Batch API. */
export async function runBatchedModel(ctx: BatchContext): Promise<BatchOutcome> {
  const settings = batchSettings(ctx.plan.config.batch, ctx.model.endpoint);
  const service = ctx.service ?? openAIBatchService({ name: ctx.model.name, endpoint: ctx.endpoint, auth: ctx.auth });
  const runner = new ModelBatches(ctx, settings, service);
  return runner.run();
}

class ModelBatches {
  private readonly mm: ModelManifest;
  private readonly dir: string;
  private readonly datasets: Map<string, PlannedDataset>;
  private cancelledByUser = 0;
  /**
   * Parts already cancelled (or cancelling) when this session started: the user cancelled them
   * and then resumed, so their unanswered lines are submitted again now, not left for yet
   * another resume.
   */
  private readonly cancelledBefore: Set<number>;
  private readonly shown = new Map<number, string>();

  constructor(
    private readonly ctx: BatchContext,
    private readonly settings: BatchSettings,
    private readonly service: BatchService,
  ) {
    const mm = ctx.manifest.models.find((m) => m.name === ctx.model.name);
    if (!mm) throw new Error(`model "${ctx.model.name}" is not in run.json`);
    this.mm = mm;
    mm.batched = true;
    mm.batches ??= [];
    this.dir = join(ctx.runDir, BATCHES_DIR, ctx.model.name);
    this.datasets = new Map(ctx.plan.datasets.map((d) => [d.name, d]));
    this.cancelledBefore = new Set(
      mm.batches
        .filter((p) => p.ingested !== true && (p.status === "cancelling" || p.status === "cancelled"))
        .map((p) => p.part),
    );
  }

  private get parts(): BatchPartState[] {
    return this.mm.batches!;
  }

  async run(): Promise<BatchOutcome> {
    await mkdir(this.dir, { recursive: true });
    await this.planParts();
    while (!this.ctx.isStopping()) {
      const open = this.parts.filter((p) => p.ingested !== true);
      if (open.length === 0) break;
      for (const part of open) {
        if (this.ctx.isStopping()) break;
        await this.advance(part);
      }
      if (this.parts.every((p) => p.ingested === true) || this.ctx.isStopping()) break;
      await abortableSleep(this.settings.pollIntervalMs, this.ctx.signal).catch(() => undefined);
    }
    if (this.cancelledByUser > 0)
      return {
        incomplete: `${this.cancelledByUser} batch(es) were cancelled (bakeoff batch cancel); resume to submit their unanswered lines again`,
      };
    return {};
  }

  /**
   * Writes input files for every call of this model that is neither in the journal nor in a
   * batch already submitted. Parts written but never uploaded (a kill during planning) are
   * planned again from scratch: nothing of them reached the service.
   */
  private async planParts(): Promise<void> {
    const unsent = this.parts.filter((p) => p.status === "written");
    for (const p of unsent) await this.removeFiles(p);
    this.mm.batches = this.parts.filter((p) => p.status !== "written");
    // Keys waiting in submitted batches that have not been ingested yet (bounded by what is in flight).
    const covered = new Set<string>();
    for (const p of this.parts) {
      if (p.ingested === true) continue;
      for await (const line of readJsonLines<BatchRowLine>(join(this.ctx.runDir, p.rows))) covered.add(line.key);
    }
    let skipped = 0;
    const writer = this.writer(0);
    try {
      for (const ds of this.ctx.plan.datasets) {
        for await (const row of openDataset(ds.spec, {
          skipInvalidRows: true,
          index: ds.index,
          checkDuplicateIds: true,
        })) {
          for (let trial = 0; trial < this.ctx.plan.trials; trial++) {
            if (this.ctx.isStopping()) return;
            const key = predictionKey(row.dataset, row.id, this.ctx.model.name, trial);
            if (this.ctx.done.has(key)) {
              skipped++;
              continue;
            }
            if (covered.has(key)) continue;
            await writer.add(this.requestFor(key, row, trial), { key, trial, row });
          }
        }
      }
    } finally {
      await writer.close();
      this.ctx.skipped(skipped);
    }
  }

  private requestFor(key: string, row: Row, trial: number) {
    return batchRequestLine(this.ctx.model, key, {
      messages: row.messages,
      params: callParams(this.ctx.model.params, row.params, trial),
    });
  }

  private writer(generation: number, extra: Partial<BatchPartState> = {}): PartWriter {
    const first = Math.max(0, ...this.parts.map((p) => p.part)) + 1;
    return new PartWriter(
      (n) => ({
        input: join(this.dir, `${n}.input.jsonl`),
        rows: join(this.dir, `${n}.rows.jsonl`),
        inputRel: join(BATCHES_DIR, this.ctx.model.name, `${n}.input.jsonl`),
        rowsRel: join(BATCHES_DIR, this.ctx.model.name, `${n}.rows.jsonl`),
      }),
      first,
      this.settings,
      async (w: WrittenPart) => {
        const now = new Date().toISOString();
        this.parts.push({ ...w, ...extra, generation, status: "written", createdAt: now, updatedAt: now });
        await this.ctx.saveManifest();
      },
    );
  }

  /** One step for one part: submit it, poll it, or ingest it once it ended. */
  private async advance(part: BatchPartState): Promise<void> {
    try {
      if (part.batchId === undefined) {
        await this.submit(part);
        return;
      }
      if (!isTerminal(part.status)) {
        const info = await this.service.retrieve(part.batchId);
        await this.update(part, info);
      }
      if (isTerminal(part.status)) await this.ingest(part);
    } catch (err) {
      if (err instanceof BatchServiceError && err.gone && !isTerminal(part.status)) {
        await this.lost(part);
        return;
      }
      // A blip (network, 429, 5xx) while polling a batch that runs for hours: try again next poll.
      if (err instanceof BatchServiceError && err.transient) {
        this.ctx.log(`bakeoff: ${err.message}; trying again in ${formatDuration(this.settings.pollIntervalMs)}`);
        return;
      }
      throw err;
    }
  }

  /** Uploads (unless already uploaded) and creates the batch, recording each step in run.json. */
  private async submit(part: BatchPartState): Promise<void> {
    if (part.fileId !== undefined) {
      // A kill between creating the batch and recording its id: find it instead of paying twice.
      const found = await this.service.findByInputFile(part.fileId).catch((err: unknown) => {
        if (err instanceof BatchServiceError && err.gone) return undefined;
        throw err;
      });
      if (found !== undefined) {
        part.batchId = found.id;
        part.submittedAt ??= new Date().toISOString();
        await this.update(part, found);
        return;
      }
    } else {
      part.fileId = await this.service.upload(join(this.ctx.runDir, part.input));
      part.status = "uploaded";
      part.updatedAt = new Date().toISOString();
      await this.ctx.saveManifest();
    }
    let info: BatchInfo;
    try {
      info = await this.service.create({
        fileId: part.fileId,
        endpoint: batchEndpoint(this.ctx.model),
        completionWindow: this.settings.completionWindow,
        metadata: {
          bakeoff_run: this.ctx.runId,
          bakeoff_model: this.ctx.model.name,
          bakeoff_part: String(part.part),
        },
      });
    } catch (err) {
      // The uploaded file is gone (a restarted service): upload again next round.
      if (err instanceof BatchServiceError && err.gone) {
        delete part.fileId;
        part.status = "written";
        await this.ctx.saveManifest();
        return;
      }
      throw err;
    }
    part.batchId = info.id;
    part.submittedAt = new Date().toISOString();
    this.ctx.counted(part.lines);
    await this.update(part, info);
  }

  /** Records what a poll said; logs a line when something changed. */
  private async update(part: BatchPartState, info: BatchInfo): Promise<void> {
    const before = JSON.stringify([part.status, part.counts]);
    part.status = info.status;
    if (info.counts) part.counts = info.counts;
    if (info.outputFileId) part.outputFileId = info.outputFileId;
    if (info.errorFileId) part.errorFileId = info.errorFileId;
    const now = new Date().toISOString();
    part.updatedAt = now;
    if (isTerminal(info.status)) part.endedAt ??= now;
    if (JSON.stringify([part.status, part.counts]) !== before) {
      await this.ctx.saveManifest();
      const c = part.counts;
      const line =
        `bakeoff: batch ${this.ctx.model.name} #${part.part} (${part.batchId}): ${part.status}` +
        (c ? ` ${c.completed}/${c.total}${c.failed > 0 ? `, ${c.failed} failed` : ""}` : ` ${part.lines} lines`) +
        (info.errors ? ` — ${info.errors}` : "");
      if (this.shown.get(part.part) !== line) {
        this.shown.set(part.part, line);
        this.ctx.log(line);
      }
    }
  }

  /** The service no longer knows the batch (404): submit its unrecorded lines again. */
  private async lost(part: BatchPartState): Promise<void> {
    this.ctx.log(
      `bakeoff: batch ${this.ctx.model.name} #${part.part} (${part.batchId}) is unknown to the service; submitting its lines again`,
    );
    await this.rewritePart(part);
  }

  /**
   * Rewrites a part's files without the keys the journal already has, and marks it unsent.
   * Used when a batch was lost: nothing already recorded is ever submitted again.
   */
  private async rewritePart(part: BatchPartState): Promise<void> {
    const rows: BatchRowLine[] = [];
    for await (const line of readJsonLines<BatchRowLine>(join(this.ctx.runDir, part.rows)))
      if (!this.ctx.done.has(line.key)) rows.push(line); // one batch file's rows, bounded by maxLines
    const old = { ...part };
    const index = this.parts.indexOf(part);
    this.parts.splice(index, 1);
    await this.removeFiles(old);
    const writer = this.writer(part.generation, { resubmitted: (old.resubmitted ?? 0) + 1 });
    for (const r of rows) await writer.add(this.requestFor(r.key, r.row, r.trial), r);
    await writer.close();
    await this.ctx.saveManifest();
  }

  /** Downloads the result files and records every line of a batch that ended. */
  private async ingest(part: BatchPartState): Promise<void> {
    const files: string[] = [];
    for (const [id, suffix] of [
      [part.outputFileId, "output"],
      [part.errorFileId, "errors"],
    ] as const) {
      if (id === undefined) continue;
      const dest = join(this.dir, `${part.part}.${suffix}.jsonl`);
      if (!(await pathExists(dest))) await this.service.download(id, dest);
      files.push(dest);
    }
    const batchId = part.batchId!;
    const secrets = this.ctx.auth.kind === "key" && this.ctx.auth.apiKey.length >= 8 ? [this.ctx.auth.apiKey] : [];
    const results = await readResults(
      files,
      this.ctx.model.api ?? "chat",
      batchId,
      (file, line) => this.ctx.log(`bakeoff: ${file}:${line}: not a batch result line; skipped`),
      secrets,
    );
    // Cancelled in this session: the run ends incomplete. Cancelled before it: resubmit now.
    const cancelled = part.status === "cancelled" && !this.cancelledBefore.has(part.part);
    const started = new Date(part.submittedAt ?? part.createdAt);
    const pending = new Set<Promise<void>>();
    // Records go through scoring (LLM judges call live), so several are in flight at once.
    const width = Math.max(1, this.ctx.plan.concurrency) * 2;
    const go = async (task: () => Promise<void>) => {
      while (pending.size >= width) await Promise.race(pending);
      const p = task().finally(() => pending.delete(p));
      pending.add(p);
    };
    const resubmit: BatchRowLine[] = [];
    let left = 0;
    let failure: unknown;
    for await (const line of readJsonLines<BatchRowLine>(join(this.ctx.runDir, part.rows))) {
      if (failure !== undefined) break;
      if (this.ctx.done.has(line.key)) continue;
      const ds = this.datasets.get(line.row.dataset);
      if (ds === undefined) continue;
      let result: LineResult | undefined = results.get(line.key);
      if (result === undefined) {
        // A cancelled batch's unanswered lines wait for a resume (the user stopped them).
        if (cancelled) {
          left++;
          continue;
        }
        if (part.status === "cancelled") {
          resubmit.push(line);
          continue;
        }
        result = unansweredResult(batchId, { status: part.status });
      }
      const r = result;
      const task = !r.retry
        ? () => this.ctx.record(ds, line.row, line.trial, line.key, r.output, started)
        : this.settings.retryFailed === "live"
          ? () => this.ctx.live(ds, line.row, line.trial, line.key)
          : part.generation + 1 < MAX_BATCH_GENERATIONS
            ? null
            : () => this.ctx.record(ds, line.row, line.trial, line.key, r.output, started);
      if (task === null) resubmit.push(line);
      else
        await go(() =>
          task().catch((err: unknown) => {
            failure ??= err;
          }),
        );
    }
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
    if (this.ctx.isStopping()) return; // some live retries may have been cut: ingest again on resume
    if (resubmit.length > 0) {
      this.ctx.log(
        `bakeoff: batch ${this.ctx.model.name} #${part.part}: ${resubmit.length} ${part.status === "cancelled" ? "unanswered" : "failed"} line(s) resubmitted as a new batch`,
      );
      // Cancelled lines never ran: they are submitted again, not counted as a failed attempt.
      const writer = this.writer(part.status === "cancelled" ? part.generation : part.generation + 1);
      for (const r of resubmit) await writer.add(this.requestFor(r.key, r.row, r.trial), r);
      await writer.close();
    }
    if (cancelled && left > 0) this.cancelledByUser++;
    part.ingested = true;
    part.updatedAt = new Date().toISOString();
    await this.ctx.saveManifest();
  }

  private async removeFiles(p: BatchPartState): Promise<void> {
    for (const rel of [p.input, p.rows]) await rm(join(this.ctx.runDir, rel), { force: true });
    for (const s of ["output", "errors"]) await rm(join(this.dir, `${p.part}.${s}.jsonl`), { force: true });
  }
}

/** Whether any model of a run uses an emulated endpoint (its batches die with the process). */
export function emulatedBatches(manifest: RunManifest): boolean {
  return manifest.models.some((m) => m.batched === true && isEmulatorEndpoint(m.endpoint));
}
