/**
 * The built-in emulator of the Azure AI model inference API: simulated models with a real
 * arithmetic skill, a little factual knowledge, configurable accuracy, style and latency.
 */
import { EMULATOR_PRESETS } from "./spec.js";

export { startEmulator, type EmulatorBatchOptions, type EmulatorHandle, type EmulatorOptions } from "./server.js";
export type { BatchModelStats, BatchStats, EmulatorStats, ModelStats, ServiceTimeStats } from "./stats.js";
export {
  BATCH_FAULT_KINDS,
  BatchFaultSpec,
  BatchSpec,
  type BatchFaultKind,
  type BatchFaultSpecInput,
  type BatchSpecInput,
} from "./batch-spec.js";
export { simulateAnswer, modelNameFor, countTokens, type SimAnswer, type SimRequest, type SimTask } from "./models.js";
export { LATENCY_OVERRIDE_HEADER } from "./answer.js";
export { EMULATOR_PRESETS, EmulatorSpec, LatencySpec, SimModelSpec, type SimModelSpecInput } from "./spec.js";
export { FAULT_KINDS, FaultSpec, RetryAfterSpec, type FaultKind, type FaultSpecInput } from "./fault-spec.js";

/** The simulated models `bakeoff serve` runs when no config names any: the built-in presets. */
export const DEFAULT_SIM_MODELS = EMULATOR_PRESETS;
