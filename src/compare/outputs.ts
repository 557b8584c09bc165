/**
 * Second pass over a journal for the few rows a comparison quotes. Only the wanted rows' texts
 * are kept, each cut to a bounded length, so memory stays proportional to the listed rows.
 */
import { runRecords } from "../store/journal.js";
import type { RunManifest } from "../store/manifest.js";
import { rowKey } from "./load.js";
import { messageText } from "../types.js";

/** Longest output or prompt quoted in compare files; beyond this a report is unreadable anyway. */
export const MAX_QUOTED_CHARS = 2000;

/** The parts of one record a comparison quotes. */
export interface QuotedOutput {
  prompt: string;
  expected: string | null;
  text: string | null;
  finishReason: string | null;
  error: string | null;
}

/** Key of a wanted row in {@link fetchOutputs}: model and row key. */
export function outputKey(model: string, key: string): string {
  return `${model}\u0000${key}`;
}

/**
 * Reads the run's records and returns the first trial's output of every wanted model × row
 * (keys from {@link outputKey}).
 */
export async function fetchOutputs(
  dir: string,
  manifest: RunManifest,
  wanted: ReadonlySet<string>,
): Promise<Map<string, QuotedOutput>> {
  const out = new Map<string, QuotedOutput>();
  if (wanted.size === 0) return out;
  const trialOf = new Map<string, number>();
  for await (const rec of runRecords(dir, manifest)) {
    const k = outputKey(rec.model, rowKey(rec.dataset, rec.rowId));
    if (!wanted.has(k)) continue;
    // Quote the lowest trial so both runs show the same attempt of the row.
    const seen = trialOf.get(k);
    if (seen !== undefined && seen <= rec.trial) continue;
    trialOf.set(k, rec.trial);
    const user = [...rec.input.messages].reverse().find((m) => m.role === "user");
    out.set(k, {
      prompt: clip(user === undefined ? "" : messageText(user)),
      expected: rec.expected === undefined ? null : clip(rec.expected),
      text: rec.output.text === null ? null : clip(rec.output.text),
      finishReason: rec.output.finishReason,
      error: rec.output.error ? `${rec.output.error.kind}: ${clip(rec.output.error.message)}` : null,
    });
  }
  return out;
}

function clip(s: string): string {
  return s.length > MAX_QUOTED_CHARS
    ? `${s.slice(0, MAX_QUOTED_CHARS)}… (${s.length - MAX_QUOTED_CHARS} more chars)`
    : s;
}
