/**
 * Statistics for comparing models: per-model intervals, paired tests and verdicts, power (MDE),
 * and cost/quality recommendations. Explicit exports only.
 */
export {
  bootstrapMeanInterval,
  meanInterval,
  meanOf,
  wilsonInterval,
  type BootstrapOptions,
  type MeanInterval,
} from "./intervals.js";
export {
  binomialCdf,
  binomialPmf,
  comparePair,
  mcnemarExact,
  pairedBootstrapDiff,
  signFlipTest,
  winsTiesLosses,
  type ComparePairOptions,
  type McNemarResult,
  type PairedDiff,
  type PairVerdict,
  type SignFlipOptions,
  type Verdict,
  type WinsTiesLosses,
} from "./paired.js";
export {
  minimumDetectableDifference,
  normalQuantile,
  type BinaryMdeOptions,
  type ContinuousMdeOptions,
  type MdeOptions,
} from "./power.js";
export { paretoFront, recommend, type CostQualityPoint, type ModelSummary, type RecommendInput } from "./pareto.js";
export { DEFAULT_SEED, mulberry32, type Rng } from "./random.js";
