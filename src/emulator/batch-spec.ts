/**
 * Config schema for the emulator's Batch API (`emulator.models.<sim>.batch`): how long a batch
 * takes on the emulator's compressed clock, the service limits it enforces, and the batch faults
 * it injects. Kept apart from the engine (`batch-service.ts`) so the config schema pulls in no
 * HTTP code, as `fault-spec.ts` is for live faults.
 */
import { z } from "zod";

/** Every batch failure the emulator can reproduce. */
export const BATCH_FAULT_KINDS = ["batch_failed", "batch_expired", "line_error"] as const;

/** One batch fault kind. */
export type BatchFaultKind = (typeof BATCH_FAULT_KINDS)[number];

export const BatchFaultSpec = z
  .strictObject({
    kind: z
      .enum(BATCH_FAULT_KINDS)
      .describe(
        "What goes wrong: batch_failed (the batch fails in validation with `errors`, nothing is answered), batch_expired (the completion window runs out: part of the lines are answered, the rest land in the error file as `batch_expired`), line_error (single lines are answered with an error body in the error file).",
      ),
    rate: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe(
        "batch_failed, batch_expired: fraction of batches affected, drawn from a hash of (sim, input file content, attempt number for that content). line_error: fraction of lines, drawn from a hash of (sim, custom_id, attempt number for that custom_id). Deterministic. @default 1",
      ),
    attempts: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "Affect only the first N submissions (of each distinct input file for batch faults, of each custom_id for line_error), so a resubmission succeeds. @default every submission",
      ),
    status: z
      .number()
      .int()
      .min(400)
      .max(599)
      .default(500)
      .describe("line_error only: the status_code of the failed line (429 gets a rate-limit body). @default 500"),
    completedFraction: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe("batch_expired only: fraction of the lines answered before the window runs out. @default 0.5"),
  })
  .superRefine((fault, ctx) => {
    if (fault.kind !== "line_error" && fault.status !== 500)
      ctx.addIssue({ code: "custom", path: ["status"], message: `only line_error takes a status, not ${fault.kind}` });
    if (fault.kind !== "batch_expired" && fault.completedFraction !== 0.5)
      ctx.addIssue({
        code: "custom",
        path: ["completedFraction"],
        message: `only batch_expired takes a completedFraction, not ${fault.kind}`,
      });
  })
  .describe("A fault injected into the Batch API of a simulated model.");
export type BatchFaultSpec = z.infer<typeof BatchFaultSpec>;
export type BatchFaultSpecInput = z.input<typeof BatchFaultSpec>;

export const BatchSpec = z
  .strictObject({
    durationMs: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        "Real milliseconds a batch takes from creation to completed (the emulator's compressed 24 h clock): about 10% validating, 80% in_progress answering lines progressively, 10% finalizing. @default the server's default, 300",
      ),
    maxLines: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe(
        "Most requests one input file may hold (Azure: 100,000; OpenAI: 50,000); a larger file fails validation. @default 100000",
      ),
    faults: z
      .array(BatchFaultSpec)
      .default([])
      .describe(
        "Batch faults, checked in order. Live `faults` apply to batch lines only with `liveFaults: true`. @default []",
      ),
    liveFaults: z
      .boolean()
      .default(false)
      .describe(
        "Also apply the model's live `faults` to batch lines, each served as the line's error (429, 5xx, 408, 400 content_filter, 401, 403; a reset, stall or broken body as a 500; output_filter as a 200 with finish_reason content_filter). @default false",
      ),
  })
  .describe("The Batch API of one simulated model (files, batches, output and error files).");
export type BatchSpec = z.infer<typeof BatchSpec>;
export type BatchSpecInput = z.input<typeof BatchSpec>;

/** Server-wide default duration of a batch, ms: a sample batch run ends in seconds. */
export const DEFAULT_BATCH_DURATION_MS = 300;

/** Largest file `POST /files` takes (the services' limit): 200 MB. */
export const DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024;
