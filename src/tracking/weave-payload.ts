/**
 * Pure builders for what bakeoff sends to Weave: evaluation names, model attributes, and the
 * inputs/outputs/scores/usage of one prediction. Kept apart from the child so they can be tested
 * without the SDK and so the main process can build them without importing `weave`.
 */
import type { ModelManifest, RunManifest } from "../store/manifest.js";
import type { PredictionRecord, Score } from "../types.js";
import type { WeaveDatasetRow, WeaveModelInfo } from "./weave-protocol.js";

/** Host (and port) of an endpoint URL; never path, query string or credentials. */
export function endpointHost(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (url.protocol === "emulator:") return `emulator://${url.host}`;
    return url.host || "unknown";
  } catch {
    return "unknown";
  }
}

/** The attributes stored on a model's Weave object. Secrets never appear in the manifest. */
export function modelInfoFor(model: ModelManifest): WeaveModelInfo {
  const attributes: Record<string, unknown> = {
    provider: model.provider,
    endpoint_host: endpointHost(model.endpoint),
    params: model.params ?? {},
  };
  if (model.deployment !== undefined) attributes["deployment"] = model.deployment;
  if (model.apiVersion !== undefined) attributes["api_version"] = model.apiVersion;
  if (model.info) attributes["info"] = model.info;
  const usageKey = model.info?.modelName ?? model.deployment ?? model.name;
  return { name: model.name, attributes, usageKey };
}

/** Run-level attributes set on each evaluation call. */
export function runAttributes(manifest: RunManifest): Record<string, unknown> {
  return {
    bakeoff_run_id: manifest.runId,
    bakeoff_config_hash: manifest.configHash,
    bakeoff_version: manifest.tool?.version,
    trials: manifest.trials,
    datasets: manifest.datasets.map((d) => ({ name: d.name, rows: d.rows, sha256: d.sha256 })),
  };
}

/** Name a person can search for in the Weave UI: run id, dataset(s), model. */
export function evaluationName(runId: string, datasets: readonly string[], model: string): string {
  return `${runId} · ${datasets.join("+") || "dataset"} · ${model}`;
}

/** The journal's view of a row, as the evaluation's dataset row. */
export function datasetRowOf(rec: PredictionRecord): WeaveDatasetRow {
  const row: WeaveDatasetRow = {
    dataset: rec.dataset,
    id: rec.rowId,
    messages: rec.input.messages,
    vars: rec.input.vars,
  };
  if (rec.expected !== undefined) row.expected = rec.expected;
  return row;
}

/** Inputs of one prediction: the row and the rendered messages, plus the trial number. */
export function predictionInputs(rec: PredictionRecord): Record<string, unknown> {
  return {
    dataset: rec.dataset,
    row_id: rec.rowId,
    line: rec.line,
    trial: rec.trial,
    messages: rec.input.messages,
    vars: rec.input.vars,
    ...(rec.expected !== undefined ? { expected: rec.expected } : {}),
  };
}

/** Output of one prediction: text, finish reason, usage, latency, attempts and the error class. */
export function predictionOutput(rec: PredictionRecord): Record<string, unknown> {
  const out = rec.output;
  return {
    text: out.text,
    finish_reason: out.error ? (out.error.kind === "content_filter" ? "content_filter" : "error") : out.finishReason,
    usage: out.usage
      ? {
          prompt_tokens: out.usage.promptTokens,
          completion_tokens: out.usage.completionTokens,
          total_tokens: out.usage.totalTokens,
        }
      : null,
    latency_ms: out.latencyMs,
    ...(out.ttftMs !== undefined ? { ttft_ms: out.ttftMs } : {}),
    attempts: out.attempts,
    error_class: out.error?.kind ?? null,
    ...(out.error ? { error: { message: out.error.message, status: out.error.status ?? null } } : {}),
    model: out.model,
    request_id: out.requestId,
    started_at: rec.startedAt,
    ended_at: rec.endedAt,
  };
}

/** A scorer's verdict as logged: numbers and booleans the Weave UI can average. */
export function scoreValue(score: Score): Record<string, unknown> {
  const v: Record<string, unknown> = { value: score.value };
  if (score.pass !== undefined) v["pass"] = score.pass;
  if (score.reason !== undefined) v["reason"] = score.reason;
  if (score.error !== undefined) v["error"] = score.error;
  return v;
}

/** Token usage in the shape Weave uses for cost tracking (`summary.usage[model]`). */
export function usageSummary(rec: PredictionRecord, usageKey: string): Record<string, unknown> {
  const usage = rec.output.usage;
  if (!usage) return {};
  return {
    usage: {
      [rec.output.model ?? usageKey]: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.totalTokens,
      },
    },
  };
}
