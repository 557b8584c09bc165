/** Batch mode settings with their defaults, per model (limits depend on the service behind it). */
import type { BatchSpec } from "../config/schema.js";
import { isEmulatorEndpoint } from "../config/rules.js";
import { isAzureStyleEndpoint } from "../providers/openai.js";
import { parseDuration } from "../util/duration.js";

export interface BatchSettings {
  /** Most lines in one input file. */
  maxLines: number;
  /** Largest input file, bytes. */
  maxBytes: number;
  /** Time between polls of a batch in flight, ms. */
  pollIntervalMs: number;
  /** Where retryable failed lines go: live calls, or a new batch. */
  retryFailed: "live" | "batch";
  completionWindow: string;
}

/** Azure Global/Data Zone Batch takes 100,000 lines per file, OpenAI 50,000; both 200 MB. */
export const AZURE_MAX_LINES = 100_000;
export const OPENAI_MAX_LINES = 50_000;
export const DEFAULT_MAX_BYTES = 200_000_000;
/** Azure asks for at least 60 s between polls. */
export const DEFAULT_POLL_MS = 60_000;
/** The emulator answers on a compressed clock: polling it once a minute would waste the test. */
export const EMULATOR_POLL_MS = 200;

/**
 * The settings for one model. `endpoint` is the configured one (`emulator://…` or a URL): the
 * emulator speaks Azure's layout, so it gets Azure's line limit and a fast poll.
 */
export function batchSettings(spec: BatchSpec | undefined, endpoint: string): BatchSettings {
  const emulated = isEmulatorEndpoint(endpoint);
  const azure = emulated || safeIsAzure(endpoint);
  const poll = spec?.pollInterval === undefined ? null : parseDuration(spec.pollInterval);
  return {
    maxLines: spec?.maxLines ?? (azure ? AZURE_MAX_LINES : OPENAI_MAX_LINES),
    maxBytes: spec?.maxBytes ?? DEFAULT_MAX_BYTES,
    pollIntervalMs: poll ?? (emulated ? EMULATOR_POLL_MS : DEFAULT_POLL_MS),
    retryFailed: spec?.retryFailed ?? "live",
    completionWindow: spec?.completionWindow ?? "24h",
  };
}

function safeIsAzure(endpoint: string): boolean {
  try {
    return isAzureStyleEndpoint(endpoint);
  } catch {
    return false;
  }
}
