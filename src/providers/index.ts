/**
 * Picks the provider implementation for a model. The runner resolves `emulator://` endpoints
 * and reads the key from the environment before calling this; providers only see real URLs.
 */
import { BakeoffError, ExitCode } from "../errors.js";
import type { ModelSpec } from "../config/schema.js";
import { createAzureAiInferenceProvider } from "./azure-ai-inference.js";
import type { Provider } from "./types.js";

/** The parts of a {@link ModelSpec} a provider needs, with `endpoint` already a real URL. */
export type ProviderSpec = Pick<ModelSpec, "name" | "provider" | "endpoint" | "model" | "apiVersion" | "extraParameters">;

/** Run-wide provider settings. */
export interface ProviderOptions {
  /** Largest response body read, bytes (config `maxResponseBytes`); a larger one is a failed call, not retried. */
  maxResponseBytes?: number;
}

/**
 * Creates the {@link Provider} named by `spec.provider`.
 * @param spec the model's config, endpoint resolved to an http(s) URL
 * @param apiKey the key (never logged; providers redact it from error messages)
 */
export function createProvider(spec: ProviderSpec, apiKey: string, options: ProviderOptions = {}): Provider {
  // Add a case per provider; the `never` check makes the compiler list any that is missing.
  switch (spec.provider) {
    case "azure-ai-inference":
      return createAzureAiInferenceProvider({
        name: spec.name,
        endpoint: spec.endpoint,
        apiKey,
        ...(spec.model === undefined ? {} : { model: spec.model }),
        ...(spec.apiVersion === undefined ? {} : { apiVersion: spec.apiVersion }),
        ...(spec.extraParameters === undefined ? {} : { extraParameters: spec.extraParameters }),
        ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
      });
    default: {
      const unknown: never = spec.provider;
      throw new BakeoffError(`model "${spec.name}": unknown provider "${String(unknown)}"`, { exitCode: ExitCode.internal });
    }
  }
}

export type { AttemptResult, ModelInfo, Provider } from "./types.js";
export { callWithRetry, type RetryOptions, type AttemptReport } from "./retry.js";
export { redactHeaders, redactSecrets } from "./redact.js";
