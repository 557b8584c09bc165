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
  adjustFamily,
  comparePair,
  comparePairedTable,
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
export { holmAdjust } from "./multiple.js";
export { newcombePairedInterval, pairedTable, type PairedTable } from "./newcombe.js";
export { passAtK, passHatK } from "./trials.js";
export {
  minimumDetectableDifference,
  normalQuantile,
  pairedRowsNeeded,
  type RowsNeededOptions,
  type BinaryMdeOptions,
  type ContinuousMdeOptions,
  type MdeOptions,
} from "./power.js";
export { paretoFront, type CostQualityPoint } from "./pareto.js";
export { DEFAULT_SEED, mulberry32, type Rng } from "./random.js";
