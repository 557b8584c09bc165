/** The generation parameters of one call, shared by live calls and batch lines so both send the same body. */
import type { GenerationParams } from "../types.js";

/**
 * The row's params (dataset's, then its own) go over the model's; trial 0 uses the configured
 * seed and later trials shift it, so each trial is a fresh sample.
 */
export function callParams(
  modelParams: GenerationParams,
  rowParams: GenerationParams | undefined,
  trial: number,
): GenerationParams {
  const params = rowParams === undefined ? modelParams : { ...modelParams, ...rowParams };
  if (trial === 0) return params;
  return { ...params, seed: (params.seed ?? 0) + trial };
}
