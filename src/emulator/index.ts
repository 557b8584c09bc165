/**
 * The built-in emulator of the Azure AI model inference API: simulated models with a real
 * arithmetic skill, a little factual knowledge, configurable accuracy, style and latency.
 */
import type { SimModelSpecInput } from "./spec.js";

export { startEmulator, type EmulatorHandle, type EmulatorOptions } from "./server.js";
export type { EmulatorStats, ModelStats } from "./stats.js";
export { simulateAnswer, modelNameFor, countTokens, type SimAnswer, type SimRequest, type SimTask } from "./models.js";
export { LATENCY_OVERRIDE_HEADER } from "./answer.js";
export { EmulatorSpec, LatencySpec, SimModelSpec, type SimModelSpecInput } from "./spec.js";
export { FAULT_KINDS, FaultSpec, RetryAfterSpec, type FaultKind, type FaultSpecInput } from "./fault-spec.js";

/**
 * The simulated models `bakeoff serve` runs when no config names any: a cheap, quick, sloppier
 * model and a slower, more accurate one that shows its working, so a first run has a real choice.
 */
export const DEFAULT_SIM_MODELS: Readonly<Record<"small" | "large", SimModelSpecInput>> = {
  small: { accuracy: 0.75, style: "terse", latency: { medianMs: 30, p95Ms: 90 }, modelName: "emulated-small" },
  large: { accuracy: 0.95, style: "steps", latency: { medianMs: 80, p95Ms: 220, perTokenMs: 1 }, modelName: "emulated-large" },
};
