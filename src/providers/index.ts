/**
 * The providers module's public face: the registry (which provider serves a model entry), the
 * stack builder (cache → budget → provider) and the one retry layer in front of them.
 */
export {
  createProvider,
  endpointVariant,
  PROVIDERS,
  type ProviderDefinition,
  type ProviderSpec,
  type ProviderSpecOf,
  type EndpointVariant,
  type ProviderOptions,
} from "./registry.js";
export { buildProviderStack, cacheIdentity, type ProviderStackOptions } from "./stack.js";
export { COGNITIVE_SERVICES_SCOPE, defaultAzureCredential, type ProviderAuth } from "./auth.js";
export { buildOpenAIRequest, isAzureStyleEndpoint, responsesFinishReason, type OpenAIRequest } from "./openai.js";
export type { AttemptResult, CallContext, ModelInfo, Provider } from "./types.js";
export { callWithRetry, type RetryOptions, type AttemptReport } from "./retry.js";
export { redactHeaders, redactSecrets } from "./redact.js";
