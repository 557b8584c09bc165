/**
 * What a scorer is called and what its values mean, from its spec: in their own module, without
 * the zod schemas of spec.ts, so that the report modules a run loads do not load zod (see
 * config/load.ts for why a run keeps zod out).
 */
import type { AnyScorerSpec } from "./spec.js";

/** What a scorer's values are, which decides the statistics used on them. */
export type ScorerKind = "binary" | "continuous" | "scale";

/**
 * The declared kind of a scorer: built-ins know theirs (`similarity` is a 0..1 similarity, every
 * other built-in is pass/fail), an LLM judge gives a rating (`scale`), and a custom scorer says
 * so in its config or module (recorded into its spec at load time), else `continuous`, whose
 * statistics (bootstrap, sign-flip) are valid for any bounded score.
 */
export function scorerKind(spec: AnyScorerSpec): ScorerKind {
  switch (spec.type) {
    case "similarity":
      return "continuous";
    case "llm_judge":
      return "scale";
    case "custom":
      return spec.kind ?? "continuous";
    default:
      return "binary";
  }
}

/** The name a scorer's results are recorded under: its `name`, else its `type`. */
export function scorerName(spec: AnyScorerSpec): string {
  return spec.name ?? spec.type;
}
