/**
 * The one interface every model provider implements. A provider makes exactly ONE HTTP attempt
 * per `attempt()` call and throws a normalised {@link ModelCallError} on failure; retries,
 * deadlines and backoff belong to the runner's single retry layer (`providers/retry.ts`), so they
 * never multiply.
 */
import type { CompletionRequest, FinishReason, ToolCall, Usage } from "../types.js";

/** What one successful attempt returns; the retry layer turns it into a `Completion`. */
export interface AttemptResult {
  text: string | null;
  finishReason: FinishReason;
  usage: Usage | null;
  model: string | null;
  requestId: string | null;
  systemFingerprint?: string | null;
  /** Time to first token, ms, for streamed attempts. */
  ttftMs?: number;
  /** Output tokens per second after the first token, for streamed attempts with usage. */
  outputTokensPerSec?: number;
  /** Function calls the model asked for, in order (absent when it made none). */
  toolCalls?: ToolCall[];
  /**
   * The attempt's latency as measured by the provider itself, when it knows better than the
   * retry layer's clock (a cached answer reports the latency recorded with it).
   */
  latencyMs?: number;
  /**
   * Set when the result was replayed from the response cache (`run/cache.ts`) instead of being
   * fetched: no HTTP request was made, so latency measured around it is not the model's.
   */
  cached?: true;
}

/** What an endpoint says about itself (`GET /info`), where it has that route. */
export interface ModelInfo {
  modelName: string;
  modelType?: string;
  providerName?: string;
}

/**
 * Facts about the call an attempt belongs to that are not part of the request a model sees.
 * Decorators read what they need (the response cache keys on `trial`) and pass it on unchanged.
 */
export interface CallContext {
  /** Trial number (0-based) of the row × model × trial this attempt serves. */
  trial: number;
}

export interface Provider {
  /** The configured model name (not the service's). */
  readonly modelName: string;
  /**
   * One attempt. `signal` aborts it (per-attempt deadline or run shutdown); the provider must
   * stop reading the body and release the socket when it fires.
   * @throws ModelCallError
   */
  attempt(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<AttemptResult>;
  /** Model identity from the endpoint, or null when the endpoint has no such route (404). */
  info(signal: AbortSignal): Promise<ModelInfo | null>;
}
