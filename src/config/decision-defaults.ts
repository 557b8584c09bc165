/**
 * The decision block's defaults, in a module without zod: the report modules read them for runs
 * whose config snapshot predates the block, and a run does not load zod (see config/load.ts).
 */
import type { DecisionSpec } from "./schema.js";

/** Defaults of {@link DecisionSpec}, for runs whose config snapshot predates the block. */
export const DEFAULT_DECISION: DecisionSpec = {
  margin: 5,
  maxErrorRate: 0.05,
  costMatters: true,
  alpha: 0.05,
  minBaselineMatch: 0.9,
};
