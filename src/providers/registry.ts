/**
 * The provider registry: every provider bakeoff can call, by the `provider` name in a model entry.
 * A new provider is one new file exporting a {@link ProviderDefinition}, one line in
 * {@link PROVIDERS}, and its variant in `config/model-spec.ts`; the compiler lists any that is
 * missing (the map is typed over every provider name).
 *
 * A provider's module is imported only when a model uses it: the Azure SDK alone costs about
 * 0.3 s of CPU to load, which a run of OpenAI-compatible models (or `bakeoff validate`) should
 * not pay. The registry therefore holds what is known without the module (the request variant)
 * and a loader; `create` returns at once and the first `attempt`/`info` waits for the module.
 */
import type { ModelSpecOf, ProviderName } from "../config/model-spec.js";
import { toAuth, type ProviderAuth } from "./auth.js";
import type { Provider } from "./types.js";

/**
 * The parts of a model entry a provider reads, with `endpoint` already a real http(s) URL.
 * Everything but the name, provider and endpoint may be left out (defaults apply).
 */
export type ProviderSpecOf<P extends ProviderName> = { provider: P } & Pick<ModelSpecOf<P>, "name" | "endpoint"> &
  Partial<Omit<ModelSpecOf<P>, "provider" | "name" | "endpoint">>;

/** A {@link ProviderSpecOf} for any provider. */
export type ProviderSpec = { [P in ProviderName]: ProviderSpecOf<P> }[ProviderName];

/** What identifies an endpoint's API beyond provider, endpoint and deployment (cache keys, run.json). */
export interface EndpointVariant {
  /** `api-version` as configured (azure-ai-inference). */
  apiVersion?: string;
  /** Which API answers (`openai`: chat or responses). */
  api?: string;
}

/** Run-wide settings every provider honours. */
export interface ProviderOptions {
  /** Largest response body read, bytes (config `maxResponseBytes`); a larger one is a failed call, not retried. */
  maxResponseBytes?: number;
}

/** One provider implementation. */
export interface ProviderDefinition<P extends ProviderName> {
  /** Creates the one-attempt {@link Provider}; it must not retry (the retry layer does). */
  create(spec: ProviderSpecOf<P>, auth: ProviderAuth, options: ProviderOptions): Provider;
  /** The fields of the entry that change what a request means (see {@link EndpointVariant}). */
  variant(spec: ProviderSpecOf<P>): EndpointVariant;
}

/** What a provider's module exports: the factory behind {@link ProviderDefinition.create}. */
export type ProviderFactory<P extends ProviderName> = Pick<ProviderDefinition<P>, "create">;

/** Every provider, by name. */
export const PROVIDERS: { readonly [P in ProviderName]: ProviderDefinition<P> } = {
  "azure-ai-inference": {
    create: lazyCreate(async () => (await import("./azure-ai-inference.js")).azureAiInferenceProvider),
    variant: (spec) => (spec.apiVersion === undefined ? {} : { apiVersion: spec.apiVersion }),
  },
  openai: {
    create: lazyCreate(async () => (await import("./openai.js")).openaiProvider),
    variant: (spec) => ({ api: spec.api ?? "chat" }),
  },
};

/**
 * A `create` that starts importing the provider's module right away and hands back a
 * {@link Provider} whose calls wait for it (once; later calls find it loaded). A module that
 * fails to load fails the first call with that error, as a broken install would anyway.
 */
function lazyCreate<P extends ProviderName>(load: () => Promise<ProviderFactory<P>>): ProviderDefinition<P>["create"] {
  return (spec, auth, options) => {
    const ready = load().then((factory) => factory.create(spec, auth, options));
    // Kept until the first call awaits it; a run that never calls must not see an unhandled rejection.
    ready.catch(() => {});
    return {
      modelName: spec.name,
      attempt: async (request, signal, context) => (await ready).attempt(request, signal, context),
      info: async (signal) => (await ready).info(signal),
    };
  };
}

function definitionFor<P extends ProviderName>(spec: ProviderSpecOf<P>): ProviderDefinition<P> {
  return PROVIDERS[spec.provider];
}

/**
 * Creates the {@link Provider} named by `spec.provider`. Prefer `buildProviderStack`, which
 * also puts the budget and the response cache in front of it.
 * @param spec the model's entry, endpoint resolved to an http(s) URL
 * @param auth the key (a string) or Entra credential; never logged
 */
export function createProvider(
  spec: ProviderSpec,
  auth: string | ProviderAuth,
  options: ProviderOptions = {},
): Provider {
  return definitionFor(spec).create(spec, toAuth(auth), options);
}

/** The {@link EndpointVariant} of a model entry. */
export function endpointVariant(spec: ProviderSpec): EndpointVariant {
  return definitionFor(spec).variant(spec);
}
