/**
 * How a provider proves who it is: a key from the environment, or Microsoft Entra ID tokens.
 *
 * Entra tokens come from a `TokenCredential` (by default `DefaultAzureCredential`: az login,
 * managed identity, workload identity, `AZURE_*` variables) through `getBearerTokenProvider`,
 * which caches each token and refreshes it shortly before it expires. Tokens live only in
 * memory: they are never written to the journal, the cache, run.json, logs or Weave.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

/**
 * `@azure/identity` is loaded on first use only: it takes seconds to import, and most runs (and
 * every short-lived CLI process) use keys.
 */
let identity: Promise<typeof import("@azure/identity")> | undefined;
const loadIdentity = () => (identity ??= import("@azure/identity"));

/** The scope of Azure AI services (Azure OpenAI, Foundry, the model inference API). */
export const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";

/** A provider's credentials. */
export type ProviderAuth =
  | { kind: "key"; apiKey: string }
  | {
      kind: "entra";
      /** Where tokens come from; one per process is enough (it caches per scope). */
      credential: TokenCredential;
    };

/** A function returning a valid bearer token, cached and refreshed before it expires. */
export type TokenSource = () => Promise<string>;

/** Token sources per credential, so every model on one credential shares its cached token. */
const sources = new WeakMap<TokenCredential, TokenSource>();

/** The cached, self-refreshing token source for `credential` (scope: Azure AI services). */
export function tokenSourceFor(credential: TokenCredential): TokenSource {
  let source = sources.get(credential);
  if (source === undefined) {
    let provider: Promise<TokenSource> | undefined;
    source = async () => {
      provider ??= loadIdentity().then((m) => m.getBearerTokenProvider(credential, COGNITIVE_SERVICES_SCOPE));
      return (await provider)();
    };
    sources.set(credential, source);
  }
  return source;
}

let defaultCredential: TokenCredential | undefined;

/**
 * The process-wide `DefaultAzureCredential`, created on first use (its constructor reads the
 * environment; nothing is requested until the first token is needed).
 */
export function defaultAzureCredential(): TokenCredential {
  if (defaultCredential === undefined) {
    let real: Promise<TokenCredential> | undefined;
    defaultCredential = {
      getToken: async (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> => {
        real ??= loadIdentity().then((m) => new m.DefaultAzureCredential());
        return (await real).getToken(scopes, options);
      },
    };
  }
  return defaultCredential;
}

/**
 * The credentials for a model entry: its key, or (with `auth: "entra"`) `credential` when one is
 * given (tests, embedding apps), else the process-wide DefaultAzureCredential.
 */
export function resolveAuth(
  model: { auth?: "key" | "entra" | undefined },
  apiKey: string,
  credential?: TokenCredential,
): ProviderAuth {
  if (model.auth === "entra") return { kind: "entra", credential: credential ?? defaultAzureCredential() };
  return { kind: "key", apiKey };
}

/** Normalises the older `apiKey` string argument into a {@link ProviderAuth}. */
export function toAuth(auth: string | ProviderAuth): ProviderAuth {
  return typeof auth === "string" ? { kind: "key", apiKey: auth } : auth;
}
