/**
 * The Batch API as bakeoff uses it: upload an input file, create a batch, poll it, cancel it,
 * find it again after a crash, download its result files. A thin layer over the `openai`
 * client (the same auth headers and endpoint as live calls); every failure becomes a one-line
 * {@link BatchServiceError} carrying the HTTP status, so callers can tell "gone" (404) apart.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type OpenAI from "openai";
import { BakeoffError, ExitCode } from "../errors.js";
import type { ProviderAuth } from "../providers/auth.js";
import { createOpenAIClient, openAIHttpStatus, openAIRequestError } from "../providers/openai.js";
import type { BatchPartStatus } from "../store/manifest.js";

/** What a poll says about a batch. */
export interface BatchInfo {
  id: string;
  status: BatchPartStatus;
  inputFileId: string;
  outputFileId?: string;
  errorFileId?: string;
  counts?: { total: number; completed: number; failed: number };
  metadata: Record<string, string>;
  /** The service's own description of a failed batch (validation errors). */
  errors?: string;
}

/** A request to the Batch API failed; `status` is the HTTP status when there was an answer. */
export class BatchServiceError extends BakeoffError {
  override name = "BatchServiceError";
  constructor(
    message: string,
    readonly status: number | undefined,
    /** No answer, a rate limit or a server error: worth asking again later. */
    readonly transient: boolean,
    cause: unknown,
  ) {
    super(message, { cause, exitCode: ExitCode.incomplete });
  }
  /** The service does not know the batch or file (404): e.g. an emulator that was restarted. */
  get gone(): boolean {
    return this.status === 404;
  }
}

export interface BatchService {
  upload(path: string): Promise<string>;
  create(input: {
    fileId: string;
    endpoint: "/v1/chat/completions" | "/v1/responses";
    completionWindow: string;
    metadata: Record<string, string>;
  }): Promise<BatchInfo>;
  retrieve(batchId: string): Promise<BatchInfo>;
  cancel(batchId: string): Promise<BatchInfo>;
  /** The batch created from `fileId`, if the service has one (recovery after a crash before run.json knew its id). */
  findByInputFile(fileId: string): Promise<BatchInfo | undefined>;
  /** Streams a result file to `dest` (via a temp file: a file at `dest` is always whole). */
  download(fileId: string, dest: string): Promise<void>;
}

/** Result files are large by design (up to the input's 200 MB plus answers); no per-response cap. */
const NO_BODY_CAP = Number.MAX_SAFE_INTEGER;

/** A {@link BatchService} on an OpenAI v1 endpoint (`…/openai/v1`, `https://api.openai.com/v1`, the emulator). */
export function openAIBatchService(spec: { name: string; endpoint: string; auth: ProviderAuth }): BatchService {
  let client: Promise<OpenAI> | undefined;
  const c = () => (client ??= createOpenAIClient({ ...spec, maxResponseBytes: NO_BODY_CAP }));
  const secrets = spec.auth.kind === "key" && spec.auth.apiKey.length >= 8 ? [spec.auth.apiKey] : [];
  const wrap = async <T>(what: string, fn: (client: OpenAI) => Promise<T>): Promise<T> => {
    try {
      return await fn(await c());
    } catch (err) {
      if (err instanceof BatchServiceError) throw err;
      let message: string;
      let transient = false;
      try {
        const classified = openAIRequestError(err, spec.endpoint, secrets);
        message = classified.message;
        transient = classified.retryable;
      } catch {
        // Not an HTTP or network failure (a local file that cannot be read, ...): not retried.
        message = err instanceof Error ? err.message : String(err);
      }
      throw new BatchServiceError(`${what} (model "${spec.name}"): ${message}`, openAIHttpStatus(err), transient, err);
    }
  };
  return {
    upload: (path) =>
      wrap(`uploading ${basename(path)}`, async (cl) => {
        const file = await cl.files.create({ file: createReadStream(path), purpose: "batch" });
        return file.id;
      }),
    create: (input) =>
      wrap("creating a batch", async (cl) =>
        toInfo(
          await cl.batches.create({
            input_file_id: input.fileId,
            endpoint: input.endpoint,
            completion_window: input.completionWindow as "24h",
            metadata: input.metadata,
          }),
        ),
      ),
    retrieve: (id) => wrap(`polling batch ${id}`, async (cl) => toInfo(await cl.batches.retrieve(id))),
    cancel: (id) => wrap(`cancelling batch ${id}`, async (cl) => toInfo(await cl.batches.cancel(id))),
    findByInputFile: (fileId) =>
      wrap("listing batches", async (cl) => {
        for await (const b of cl.batches.list({ limit: 100 })) {
          if (b.input_file_id === fileId) return toInfo(b);
        }
        return undefined;
      }),
    download: (fileId, dest) =>
      wrap(`downloading file ${fileId}`, async (cl) => {
        const res = await cl.files.content(fileId);
        if (res.body === null) throw new Error("the file has no content");
        const tmp = `${dest}.tmp-${process.pid}`;
        try {
          await pipeline(Readable.fromWeb(res.body), createWriteStream(tmp));
          await rename(tmp, dest);
        } catch (err) {
          await unlink(tmp).catch(() => undefined);
          throw err;
        }
      }),
  };
}

const STATUSES: readonly string[] = [
  "validating",
  "in_progress",
  "finalizing",
  "completed",
  "failed",
  "expired",
  "cancelling",
  "cancelled",
];

function toInfo(b: OpenAI.Batches.Batch): BatchInfo {
  const counts = b.request_counts;
  const errors = b.errors?.data
    ?.map((e) => [e.line ? `line ${e.line}` : "", e.code ?? "", e.message ?? ""].filter((x) => x !== "").join(": "))
    .join("; ");
  return {
    id: b.id,
    // A status newer than this code is treated as still running: polling goes on.
    status: STATUSES.includes(b.status) ? b.status : "in_progress",
    inputFileId: b.input_file_id,
    ...(b.output_file_id ? { outputFileId: b.output_file_id } : {}),
    ...(b.error_file_id ? { errorFileId: b.error_file_id } : {}),
    ...(counts ? { counts: { total: counts.total, completed: counts.completed, failed: counts.failed } } : {}),
    metadata: Object.fromEntries(
      Object.entries(b.metadata ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    ),
    ...(errors ? { errors } : {}),
  };
}

/** Statuses after which a batch changes no more. */
export function isTerminal(status: BatchPartStatus): boolean {
  return status === "completed" || status === "failed" || status === "expired" || status === "cancelled";
}
