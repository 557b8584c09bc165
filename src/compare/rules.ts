/**
 * The `--fail-on` grammar. One rule per flag (the flag repeats):
 *
 * ```
 * regression[:SCORER][>POINTS][@MODEL]   significant drop vs the baseline, larger than POINTS
 * critical[:SCORER][@MODEL]              any critical-tagged row newly failing vs the baseline
 * floor[:SCORER]<MIN[@MODEL]             mean score below MIN (0..1, or a percentage: 80%)
 * errors>MAX[@MODEL]                     error rate above MAX (0..1 or %)
 * truncation>MAX[@MODEL]                 finish_reason "length" rate above MAX (0..1 or %)
 * p95>MS[@MODEL]                         p95 latency above MS milliseconds ("ms" suffix optional)
 * ```
 *
 * Rules are turned into the config shape and validated by the same zod schema as `gates` in
 * eval.config.json, so both spellings mean exactly the same thing.
 */
import { UsageError } from "../errors.js";
import { GateSpec } from "./gate-spec.js";

const RULE =
  /^(?<kind>[a-z0-9]+)(?::(?<scorer>[^<>@\s]+))?(?:(?<op>[<>])(?<num>-?\d+(?:\.\d+)?)(?<unit>%|ms)?)?(?:@(?<model>[^\s@]+))?$/;

/** What each kind accepts: its comparison operator, whether a scorer may be named, the field set. */
const KINDS: Record<
  string,
  { op: "<" | ">" | null; needsNumber: boolean; scorer: boolean; field?: string; unit?: "%" | "ms" }
> = {
  regression: { op: ">", needsNumber: false, scorer: true, field: "minEffect" },
  critical: { op: null, needsNumber: false, scorer: true },
  floor: { op: "<", needsNumber: true, scorer: true, field: "min", unit: "%" },
  errors: { op: ">", needsNumber: true, scorer: false, field: "max", unit: "%" },
  truncation: { op: ">", needsNumber: true, scorer: false, field: "max", unit: "%" },
  p95: { op: ">", needsNumber: true, scorer: false, field: "maxMs", unit: "ms" },
};

/** Examples quoted in error messages, so a user sees the shape they should have typed. */
export const RULE_EXAMPLES = "regression:numeric>2, critical, floor:numeric<0.8, errors>0.05, truncation>10%, p95>2000";

/**
 * Parses one `--fail-on` rule.
 * @throws UsageError naming the rule and what is wrong with it (the CLI exits 2).
 */
export function parseGateRule(rule: string): GateSpec {
  const text = rule.trim();
  const m = RULE.exec(text);
  const fail = (why: string): never => {
    throw new UsageError(`--fail-on "${rule}": ${why}. Examples: ${RULE_EXAMPLES}`);
  };
  if (!m?.groups) return fail("not a rule");
  const { kind = "", scorer, op, num, unit, model } = m.groups;
  const shape = KINDS[kind];
  if (!shape) return fail(`unknown gate "${kind}" (use ${Object.keys(KINDS).join(", ")})`);
  if (scorer !== undefined && !shape.scorer) fail(`"${kind}" does not take a scorer`);
  if (op === undefined && shape.needsNumber)
    fail(`"${kind}" needs a threshold, e.g. ${kind}${shape.op}${kind === "p95" ? "2000" : "0.1"}`);
  if (op !== undefined && shape.op === null) fail(`"${kind}" takes no threshold`);
  if (op !== undefined && op !== shape.op) fail(`"${kind}" uses "${shape.op}", not "${op}"`);
  if (unit !== undefined && unit !== shape.unit) fail(`"${unit}" is not a unit of "${kind}"`);

  const raw: Record<string, unknown> = { kind };
  if (scorer !== undefined) raw.scorer = scorer;
  if (model !== undefined) raw.model = model;
  if (num !== undefined && shape.field) raw[shape.field] = unit === "%" ? Number(num) / 100 : Number(num);
  const parsed = GateSpec.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".") || kind}: ${i.message}`).join("; ");
    return fail(why);
  }
  return parsed.data;
}

/** Parses every rule; the first bad one throws. */
export function parseGateRules(rules: readonly string[]): GateSpec[] {
  return rules.map(parseGateRule);
}

/** The rule text for a gate (for messages and reports): the inverse of {@link parseGateRule}. */
export function describeGate(gate: GateSpec): string {
  const s = "scorer" in gate && gate.scorer !== undefined ? `:${gate.scorer}` : "";
  const at = gate.model !== undefined ? `@${gate.model}` : "";
  switch (gate.kind) {
    case "regression":
      return `regression${s}${gate.minEffect > 0 ? `>${gate.minEffect}` : ""}${at}`;
    case "critical":
      return `critical${s}${at}`;
    case "floor":
      return `floor${s}<${gate.min}${at}`;
    case "errors":
    case "truncation":
      return `${gate.kind}>${gate.max}${at}`;
    case "p95":
      return `p95>${gate.maxMs}${at}`;
  }
}
