/**
 * bakeoff's public library API. Everything a program needs to run evaluations, read results and
 * run the emulator; nothing else is public (no `export *`).
 */
export { main } from "./cli.js";
export { loadConfig, parseConfig, type LoadedConfig } from "./config/load.js";
export { ConfigSpec, type Config, type ConfigInput, type DatasetSpec, type ModelSpec } from "./config/schema.js";
export { configJsonSchema } from "./config/json-schema.js";
export {
  BakeoffError,
  ConfigError,
  DatasetError,
  ExitCode,
  ModelCallError,
  UsageError,
  type ConfigIssue,
  type ModelErrorKind,
} from "./errors.js";
export { planRun, type PlanOptions, type RunPlan } from "./run/plan.js";
export { runEvaluation, type RecordSink, type RunOptions, type RunResult } from "./run/runner.js";
export { readJournal, completedKeys, JournalWriter, PREDICTIONS_FILE } from "./run/journal.js";
export { readManifest, type RunManifest, type RunStatus } from "./run/manifest.js";
export { writeRunReports, summarizeRun } from "./report/run-report.js";
export { analyzeRun, iterateRowsSideBySide, type RunAnalysis } from "./report/analysis.js";
export { checkCompare, compareRuns, evaluateGates, parseGateRules, type CheckResult, type CompareResult, type GateSpec } from "./compare/index.js";
export { appendRunIndex, listRuns } from "./run/history.js";
export { ResponseCache, ReplayMissError, defaultCacheDir, type CacheMode } from "./run/cache.js";
export { JudgeModels, type CustomScorer, type CustomScorerInput, type CustomScorerResult, type Scorer, type ScoreInput } from "./scoring/index.js";
export {
  adjustFamily,
  comparePair,
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
export { startEmulator, DEFAULT_SIM_MODELS, type EmulatorHandle, type EmulatorStats } from "./emulator/index.js";
export type { Provider, AttemptResult, ModelInfo } from "./providers/types.js";
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
  Usage,
} from "./types.js";
