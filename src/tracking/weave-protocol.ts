/**
 * Messages between the main process and the Weave child (`weave-child.ts`) over the Node IPC
 * channel. The SDK lives only in the child, so nothing it does (process.exit, unhandled
 * rejections, require patching, console noise) can reach the run.
 */
import type { ChatMessage, PredictionRecord } from "../types.js";
import type { WeaveModelSummary } from "./weave-summary.js";

/** A model as the child presents it to Weave: name plus the attributes stored on its Weave object. */
export interface WeaveModelInfo {
  name: string;
  /** provider, endpoint host, deployment, params, /info: all non-secret. */
  attributes: Record<string, unknown>;
  /** Key of `summary.usage` on the model-call op (what Weave matches prices against). */
  usageKey: string;
}

/** One dataset row as the evaluation's dataset holds it. */
export interface WeaveDatasetRow {
  dataset: string;
  id: string;
  messages: ChatMessage[];
  expected?: string;
  vars: Record<string, string>;
}

/** Main process → child. */
export type ToChild =
  | {
      type: "start";
      project: string;
      runId: string;
      datasets: string[];
      models: WeaveModelInfo[];
      /** Rows for the evaluation's Dataset; omitted when unknown up front (the dataset is then named only). */
      rows?: WeaveDatasetRow[];
      /** Run-level attributes set on every evaluation (run id, config hash, tool version). */
      attributes: Record<string, unknown>;
    }
  /**
   * Journal records in arrival order, as the journal holds them (plain JSON); the child sanitizes
   * them. Sent in batches: one IPC message (one JSON encode, one pipe write) per batch, not per record.
   */
  | { type: "records"; records: PredictionRecord[] }
  | { type: "finish"; summaries: WeaveModelSummary[] };

/** What kind of trouble the child hit; the parent turns the first one into its single warning. */
export type WeaveProblemKind = "auth" | "http" | "network" | "sdk" | "payload";

/** Child → main process. */
export type FromChild =
  | { type: "progress"; processed: number }
  | { type: "problem"; kind: WeaveProblemKind; status?: number; message: string; fatal: boolean }
  | {
      type: "done";
      stats: {
        predictions: number;
        scores: number;
        evaluations: number;
        /** Records whose prediction could not be logged. */
        failed: number;
        /** Score feedback items the trace server did not take (the scores are still on the calls). */
        feedbackFailed: number;
        /** Records written from the SDK's call templates rather than through its EvaluationLogger. */
        direct: number;
      };
    };
