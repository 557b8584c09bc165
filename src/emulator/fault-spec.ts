/**
 * Config schema for fault injection (`emulator.models.<sim>.faults`): which failures a simulated
 * model serves instead of an answer, and to which requests. Kept apart from the injector
 * (`faults.ts`) so the config schema does not pull in any HTTP code.
 */
import { z } from "zod";

/** Every failure the emulator can reproduce; each is one way a real endpoint or network fails. */
export const FAULT_KINDS = [
  "rate_limit",
  "server_error",
  "bad_gateway",
  "unavailable",
  "request_timeout",
  "reset",
  "stall_headers",
  "stall_body",
  "invalid_json",
  "sse_cut",
  "prompt_filter",
  "output_filter",
  "auth",
  "forbidden",
] as const;

/** One fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How a 429/503 tells the client to wait: the header variants real services send. */
export const RETRY_AFTER_FORMATS = ["seconds", "http-date", "ms", "x-ms-ms", "none"] as const;

export const RetryAfterSpec = z
  .strictObject({
    format: z
      .enum(RETRY_AFTER_FORMATS)
      .default("seconds")
      .describe(
        "`seconds`: `Retry-After: <s>` (decimals allowed); `http-date`: `Retry-After: <IMF date>`; `ms`: `retry-after-ms`; `x-ms-ms`: `x-ms-retry-after-ms`; `none`: no header. @default seconds",
      ),
    ms: z
      .number()
      .nonnegative()
      .default(1000)
      .describe("The wait asked for, in ms (an HTTP date has whole-second precision). @default 1000"),
  })
  .describe("The wait a 429 or 503 asks for, and in which header.");
export type RetryAfterSpec = z.infer<typeof RetryAfterSpec>;

/** Kinds that may carry a wait-before-retry header. */
const WITH_RETRY_AFTER: ReadonlySet<FaultKind> = new Set(["rate_limit", "unavailable"]);

export const FaultSpec = z
  .strictObject({
    kind: z
      .enum(FAULT_KINDS)
      .describe(
        "What goes wrong: rate_limit (429), server_error (500), bad_gateway (502, HTML), unavailable (503), request_timeout (408), reset (socket destroyed), stall_headers, stall_body, invalid_json (200 with a broken body), sse_cut (stream ends before [DONE]), prompt_filter (400 content_filter), output_filter (200, finish_reason content_filter), auth (401), forbidden (403).",
      ),
    rate: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe(
        "Fraction of requests affected, drawn from a hash of (sim, prompt, seed, attempt number for that prompt): deterministic, never Math.random. @default 1",
      ),
    attempts: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "Affect only the first N attempts of each distinct prompt, so the fault is transient and a retry succeeds. @default every attempt",
      ),
    retryAfter: RetryAfterSpec.optional().describe(
      "rate_limit and unavailable only: the wait asked for and its header. Absent: no header at all.",
    ),
    style: z
      .enum(["azure-openai", "github-models", "azure-ai"])
      .default("azure-openai")
      .describe(
        "rate_limit only: body and headers of Azure OpenAI (x-ratelimit-remaining-*), GitHub Models (RateLimitReached, x-ratelimit-type) or the serverless API. @default azure-openai",
      ),
    stallMs: z
      .number()
      .int()
      .nonnegative()
      .default(30_000)
      .describe(
        "stall_headers, stall_body: how long the server stalls before dropping the connection, so it never holds one forever. @default 30000",
      ),
  })
  .superRefine((fault, ctx) => {
    if (fault.retryAfter !== undefined && !WITH_RETRY_AFTER.has(fault.kind)) {
      ctx.addIssue({
        code: "custom",
        path: ["retryAfter"],
        message: `only rate_limit and unavailable send a Retry-After, not ${fault.kind}`,
      });
    }
  })
  .describe("A fault the simulated model injects instead of answering.");
export type FaultSpec = z.infer<typeof FaultSpec>;
export type FaultSpecInput = z.input<typeof FaultSpec>;
