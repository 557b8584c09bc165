/**
 * The one place that assembles what a model call goes through, for evaluated models and judges
 * alike: response cache → rpm/tpm budget → provider. The retry layer (`callWithRetry`) sits
 * outside it, so a cache hit costs no quota and each stored result is one successful attempt.
 */
import type { ModelSpec } from "../config/model-spec.js";
import { withCache, type CacheIdentity, type CacheMode, type ResponseCache } from "../run/cache.js";
import type { ProviderAuth } from "./auth.js";
import { estimateRequestTokens, withBudget } from "./budget.js";
import { createProvider, endpointVariant } from "./registry.js";
import type { Provider } from "./types.js";

/** What {@link buildProviderStack} needs besides the model entry. */
export interface ProviderStackOptions {
  /** The real http(s) URL to call (an `emulator://` endpoint already resolved). */
  endpoint: string;
  /** Key or Entra credential. */
  auth: ProviderAuth;
  /** Record responses (`cache`) or answer only from recorded ones (`replay`). */
  cache?: { cache: ResponseCache; mode: CacheMode };
  /** Largest response body accepted (config `maxResponseBytes`). */
  maxResponseBytes?: number;
}

/**
 * The provider stack for one model entry. Cache keys use the endpoint AS CONFIGURED
 * (`emulator://small`), never the loopback port of this run.
 */
export function buildProviderStack(model: ModelSpec, options: ProviderStackOptions): Provider {
  let provider = createProvider(
    { ...model, endpoint: options.endpoint },
    options.auth,
    options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes },
  );
  if (model.rpm !== undefined || model.tpm !== undefined) {
    provider = withBudget(provider, { rpm: model.rpm, tpm: model.tpm }, (request) => estimateRequestTokens(request));
  }
  if (options.cache) provider = withCache(provider, options.cache.cache, cacheIdentity(model), options.cache.mode);
  return provider;
}

/**
 * The URL of the built-in emulator for a model entry: `simBase` (`http://127.0.0.1:port/<sim>`)
 * plus the path layout the entry's provider uses (`/openai/v1` for `openai`, as on Azure).
 */
export function emulatorEndpointFor(model: ModelSpec, simBase: string): string {
  return model.provider === "openai" ? `${simBase}/openai/v1` : simBase;
}

/** The endpoint identity of a model entry as the response cache keys it. */
export function cacheIdentity(model: ModelSpec): CacheIdentity {
  const variant = endpointVariant(model);
  return {
    provider: model.provider,
    endpoint: model.endpoint,
    ...(model.model !== undefined ? { deployment: model.model } : {}),
    ...(variant.apiVersion !== undefined ? { apiVersion: variant.apiVersion } : {}),
    ...(variant.api !== undefined ? { api: variant.api } : {}),
  };
}
