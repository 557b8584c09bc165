/**
 * bakeoff's public library API. Everything a program needs to run evaluations, read results and
 * run the emulator; nothing else is public (no `export *`).
 */
export { main } from "./cli.js";
export { loadConfig, type LoadedConfig } from "./config/load.js";
export { parseConfig } from "./config/parse.js";
export { ConfigSpec, type Config, type ConfigInput, type DatasetSpec, type ModelSpec } from "./config/schema.js";
export { configJsonSchema } from "./config/json-schema.js";
export {
  BakeoffError,
  ConfigError,
  DatasetError,
  DatasetProblemsError,
  ExitCode,
  ModelCallError,
  UsageError,
  type ConfigIssue,
  type ModelErrorKind,
} from "./errors.js";
export { planRun, type PlanOptions, type RunPlan } from "./run/plan.js";
export { runEvaluation, StorageError, type RecordSink, type RunOptions, type RunResult } from "./run/runner.js";
export {
  acquireLock,
  completedKeys,
  KeySet,
  createRunDir,
  JournalWriter,
  listRuns,
  LOCK_FILE,
  LockedError,
  lockRunDir,
  mergeShardRuns,
  type MergeOptions,
  type MergeResult,
  PREDICTIONS_FILE,
  putRunIndexEntries,
  readJournal,
  readManifest,
  readRunIndex,
  RUN_INDEX_FILE,
  type Lock,
  type LockHolder,
  type RunIndexEntry,
  type RunManifest,
  type RunStatus,
} from "./store/index.js";
export { formatShard, parseShard, shardOf, type Shard } from "./dataset/shard.js";
export { sanitizeTerminalText } from "./util/terminal-text.js";
export { writeRunReports, summarizeRun } from "./report/run-report.js";
export { analyzeRun, iterateRowsSideBySide, type RunAnalysis } from "./report/analysis.js";
export {
  checkCompare,
  compareRuns,
  evaluateGates,
  parseGateRules,
  type CheckResult,
  type CompareResult,
  type GateSpec,
} from "./compare/index.js";
export { indexRun, syncRunIndex } from "./report/index-entry.js";
export { ResponseCache, ReplayMissError, defaultCacheDir, type CacheMode } from "./run/cache.js";
export {
  JudgeModels,
  type CustomScorer,
  type CustomScorerInput,
  type CustomScorerResult,
  type Scorer,
  type ScoreInput,
} from "./scoring/index.js";
export {
  adjustFamily,
  comparePair,
  comparePairedTable,
  holmAdjust,
  meanInterval,
  mcnemarExact,
  minimumDetectableDifference,
  newcombePairedInterval,
  pairedBootstrapDiff,
  pairedRowsNeeded,
  paretoFront,
  passAtK,
  passHatK,
  wilsonInterval,
  type PairedTable,
  type PairVerdict,
} from "./stats/index.js";
export { decideDataset, type DatasetDecision, type DecisionInput, type DecisionModel } from "./report/decision.js";
export { latestComparableRun, whyNotComparable } from "./compare/baseline.js";
export {
  startEmulator,
  DEFAULT_SIM_MODELS,
  EMULATOR_PRESETS,
  type BatchModelStats,
  type BatchStats,
  type EmulatorBatchOptions,
  type EmulatorHandle,
  type EmulatorOptions,
  type EmulatorStats,
  type ServiceTimeStats,
} from "./emulator/index.js";
export type { Provider, AttemptResult, CallContext, ModelInfo } from "./providers/types.js";
export { createProvider, PROVIDERS, type ProviderDefinition, type ProviderSpec } from "./providers/registry.js";
export { buildProviderStack, type ProviderStackOptions } from "./providers/stack.js";
export { COGNITIVE_SERVICES_SCOPE, type ProviderAuth } from "./providers/auth.js";
export { buildOpenAIRequest, parseOpenAIBody, type OpenAIRequest } from "./providers/openai.js";
export { batchStatus, cancelBatches, type BatchStatusRow, type CancelResult } from "./batch/admin.js";
export { batchRequestLine, type BatchRequestLine } from "./batch/input.js";
export { resultOfLine, type LineResult } from "./batch/results.js";
export { batchSettings, type BatchSettings } from "./batch/settings.js";
export type { BatchPartState, BatchPartStatus } from "./store/manifest.js";

export type {
  ChatMessage,
  Completion,
  CallErrorInfo,
  FinishReason,
  GenerationParams,
  PredictionRecord,
  Row,
  Score,
  ScorerCall,
  ToolCall,
  Usage,
} from "./types.js";
