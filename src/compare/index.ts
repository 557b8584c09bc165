/**
 * Comparing runs and gating on them: `bakeoff compare`, `bakeoff run --baseline` and
 * `--fail-on`. Explicit exports only.
 */
export {
  compareRuns,
  type CompareOptions,
  type CompareResult,
  type FlippedRow,
  type IdentityChange,
  type IdentitySnapshot,
  type RunRef,
  type ScorerChange,
} from "./compare.js";
export { evaluateGates, type GateInput, type GateOutcome, type GateReport } from "./gates.js";
export { GateSpec, needsBaseline, type GateSpecInput } from "./gate-spec.js";
export { describeGate, parseGateRule, parseGateRules, RULE_EXAMPLES } from "./rules.js";
export { hasTag, loadRunVectors, ModelRows, rowKey, type CriticalRule, type RunVectors } from "./load.js";
export { RowKeys, type RowKeyHash } from "./row-keys.js";
export { manifestWarnings, type CompareWarning } from "./warnings.js";
export { renderCompareMarkdown } from "./render.js";
export { renderCompareHtml, renderCompareSection, renderTrendSection } from "./render-html.js";
export { writeCompareFiles, COMPARE_HTML, COMPARE_JSON, COMPARE_MD } from "./write.js";
export { checkCompare, type CheckOptions, type CheckResult } from "./check.js";
