/**
 * Scoring entry point: turns validated scorer specs into {@link Scorer}s and runs them on one
 * result without ever letting a scorer crash the run.
 */
import { ConfigError, type ConfigIssue } from "../errors.js";
import type { Score } from "../types.js";
import { callFailedScore, compileScorer, ScorerSpecIssue, type ScoreInput } from "./scorers.js";
import type { ScorerSpec } from "./spec.js";

export type { ScoreInput } from "./scorers.js";
export { CALL_FAILED_REASON, NO_EXPECTED_ERROR } from "./scorers.js";

/**
 * Something that scores one output. Built-in scorers are synchronous; LLM judges and custom
 * module scorers implement the same interface and may return a promise.
 */
export interface Scorer {
  /** Name the score is recorded under (unique within a dataset's scorer list). */
  name: string;
  /** The spec's `type`, e.g. `numeric`. */
  type: string;
  score(input: ScoreInput): Score | Promise<Score>;
}

/**
 * Compiles scorer specs, checking everything that can be checked before any model is called:
 * unique names, valid regexes and schemas, sensible bounds. All problems are reported at once.
 *
 * @param specs validated specs (defaults applied).
 * @param where JSON path of the list, e.g. `datasets[0].scorers`, used in error paths.
 * @param file config file named in the error message.
 * @throws ConfigError with paths such as `datasets[0].scorers[2].name`.
 */
export function buildScorers(specs: readonly ScorerSpec[], where: string, file = "config"): Scorer[] {
  const issues: ConfigIssue[] = [];
  const firstIndex = new Map<string, number>();
  const scorers: Scorer[] = [];
  specs.forEach((spec, i) => {
    const at = `${where}[${i}]`;
    const name = spec.name ?? spec.type;
    const seen = firstIndex.get(name);
    if (seen !== undefined) {
      issues.push({
        path: `${at}.name`,
        message: `duplicate scorer name "${name}" (also ${where}[${seen}]); give one of them a distinct "name"`,
      });
    } else {
      firstIndex.set(name, i);
    }
    try {
      const fn = compileScorer(spec);
      scorers.push({ name, type: spec.type, score: fn });
    } catch (err) {
      if (!(err instanceof ScorerSpecIssue)) throw err;
      issues.push({ path: err.field === "" ? at : `${at}.${err.field}`, message: err.message });
    }
  });
  if (issues.length > 0) throw new ConfigError(file, issues);
  return scorers;
}

/**
 * Runs every scorer on one result, concurrently. A scorer that throws or rejects yields
 * `{value: null, error}` for itself only. When the call failed, every scorer (including custom
 * ones) records `{value: null, reason: "no output (call error)"}` without being invoked, so
 * statistics exclude the row and the report counts it as an error instead.
 */
export async function scoreAll(scorers: readonly Scorer[], input: ScoreInput): Promise<Record<string, Score>> {
  const out: Record<string, Score> = {};
  if (input.output.error !== undefined) {
    for (const s of scorers) out[s.name] = callFailedScore();
    return out;
  }
  const results = await Promise.all(scorers.map((s) => runOne(s, input)));
  scorers.forEach((s, i) => {
    out[s.name] = results[i]!;
  });
  return out;
}

async function runOne(scorer: Scorer, input: ScoreInput): Promise<Score> {
  try {
    return checked(await scorer.score(input));
  } catch (err) {
    return { value: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Guards the journal against malformed scores from custom scorers (NaN is not JSON). */
function checked(score: Score): Score {
  if (score === null || typeof score !== "object") {
    return { value: null, error: `scorer returned ${score === null ? "null" : typeof score}, not a score` };
  }
  if (score.value !== null && !Number.isFinite(score.value)) {
    return { ...score, value: null, error: `scorer returned a non-finite value (${String(score.value)})` };
  }
  return score;
}
