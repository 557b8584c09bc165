/**
 * `bakeoff batch status|cancel <run>`: what a run's batches are doing, and cancelling the ones
 * in flight. Batches on real endpoints are asked about live; emulated ones (`emulator://`) lived
 * in the process that ran them, so their last recorded state is shown.
 */
import { isEmulatorEndpoint } from "../config/rules.js";
import type { ModelSpec } from "../config/model-spec.js";
import { UsageError } from "../errors.js";
import { resolveAuth } from "../providers/auth.js";
import { LockedError } from "../store/lock.js";
import { readManifest, writeManifest, type BatchPartState, type RunManifest } from "../store/manifest.js";
import { lockRunDir } from "../store/run-dir.js";
import { formatDuration } from "../util/duration.js";
import { isTerminal, openAIBatchService, type BatchInfo, type BatchService } from "./service.js";

/** One batch as `batch status` shows it. */
export interface BatchStatusRow {
  model: string;
  part: number;
  batchId: string | null;
  status: string;
  lines: number;
  counts: { total: number; completed: number; failed: number } | null;
  /** Since the batch was submitted (or written, if it never was), ms. */
  ageMs: number;
  ingested: boolean;
  /** Where the status comes from: asked now, or as run.json recorded it. */
  source: "service" | "recorded";
  /** Why the service could not be asked, when it could not. */
  note?: string;
}

export interface BatchAdminOptions {
  env?: NodeJS.ProcessEnv;
  /** A service per model entry (default: the model's OpenAI v1 endpoint with its key from the environment). */
  serviceFor?: (model: ModelSpec) => BatchService | undefined;
  now?: () => number;
}

function defaultService(env: NodeJS.ProcessEnv) {
  return (model: ModelSpec): BatchService | undefined => {
    if (model.provider !== "openai" || isEmulatorEndpoint(model.endpoint)) return undefined;
    const key = model.apiKeyEnv ? (env[model.apiKeyEnv] ?? "") : "";
    return openAIBatchService({ name: model.name, endpoint: model.endpoint, auth: resolveAuth(model, key) });
  };
}

function batchedModels(
  manifest: RunManifest,
): { spec: ModelSpec | undefined; parts: BatchPartState[]; name: string }[] {
  return manifest.models
    .filter((m) => (m.batches?.length ?? 0) > 0)
    .map((m) => ({ name: m.name, parts: m.batches!, spec: manifest.config.models.find((c) => c.name === m.name) }));
}

/** Every batch of the run in `runDir`, in flight ones refreshed from the service where it can be reached. */
export async function batchStatus(runDir: string, options: BatchAdminOptions = {}): Promise<BatchStatusRow[]> {
  const manifest = await readManifest(runDir);
  const serviceFor = options.serviceFor ?? defaultService(options.env ?? process.env);
  const now = (options.now ?? Date.now)();
  const rows: BatchStatusRow[] = [];
  for (const m of batchedModels(manifest)) {
    const service = m.spec ? serviceFor(m.spec) : undefined;
    for (const p of m.parts) {
      let info: BatchInfo | undefined;
      let note: string | undefined;
      if (p.batchId !== undefined && !isTerminal(p.status)) {
        if (service === undefined)
          note = m.spec && isEmulatorEndpoint(m.spec.endpoint) ? "emulated: state as recorded" : undefined;
        else
          info = await service
            .retrieve(p.batchId)
            .catch((err: unknown) => ((note = (err as Error).message), undefined));
      }
      const since = Date.parse(p.submittedAt ?? p.createdAt);
      rows.push({
        model: m.name,
        part: p.part,
        batchId: p.batchId ?? null,
        status: info?.status ?? p.status,
        lines: p.lines,
        counts: info?.counts ?? p.counts ?? null,
        ageMs: Number.isFinite(since) ? Math.max(0, now - since) : 0,
        ingested: p.ingested === true,
        source: info ? "service" : "recorded",
        ...(note ? { note } : {}),
      });
    }
  }
  return rows;
}

/** What `batch cancel` did. */
export interface CancelResult {
  cancelled: { model: string; part: number; batchId: string; status: string }[];
  /** Batches that could not be cancelled, with why. */
  failed: { model: string; part: number; batchId: string; reason: string }[];
  /** Whether run.json was updated (false while another process runs the batches: it records the change itself). */
  recorded: boolean;
}

/**
 * Cancels every batch of the run still in flight on the service. When no process is running
 * the run, the new states go into run.json at once; when one is, it sees them at its next poll
 * and ends the run incomplete (resumable).
 */
export async function cancelBatches(runDir: string, options: BatchAdminOptions = {}): Promise<CancelResult> {
  const serviceFor = options.serviceFor ?? defaultService(options.env ?? process.env);
  let lock: Awaited<ReturnType<typeof lockRunDir>> | undefined;
  try {
    lock = await lockRunDir(runDir, "batch cancel");
  } catch (err) {
    if (!(err instanceof LockedError)) throw err;
  }
  try {
    const manifest = await readManifest(runDir);
    const result: CancelResult = { cancelled: [], failed: [], recorded: false };
    const models = batchedModels(manifest);
    if (models.length === 0) throw new UsageError(`run ${manifest.runId} has no batches (it was not run with --batch)`);
    for (const m of models) {
      const service = m.spec ? serviceFor(m.spec) : undefined;
      for (const p of m.parts) {
        if (p.batchId === undefined || isTerminal(p.status)) continue;
        if (service === undefined) {
          result.failed.push({
            model: m.name,
            part: p.part,
            batchId: p.batchId,
            reason:
              m.spec && isEmulatorEndpoint(m.spec.endpoint)
                ? "emulated batches live only in the process running them"
                : "no batch service for this model",
          });
          continue;
        }
        try {
          const info = await service.cancel(p.batchId);
          p.status = info.status;
          p.updatedAt = new Date().toISOString();
          result.cancelled.push({ model: m.name, part: p.part, batchId: p.batchId, status: info.status });
        } catch (err) {
          result.failed.push({ model: m.name, part: p.part, batchId: p.batchId, reason: (err as Error).message });
        }
      }
    }
    if (lock !== undefined && result.cancelled.length > 0) {
      await writeManifest(runDir, manifest);
      result.recorded = true;
    }
    return result;
  } finally {
    await lock?.release();
  }
}

/** A short age: "45s", "12m", "1h30m". */
export function formatAge(ms: number): string {
  return ms < 1000 ? "0s" : formatDuration(ms);
}
