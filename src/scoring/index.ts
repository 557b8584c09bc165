/**
 * Scoring entry point: turns validated scorer specs into {@link Scorer}s and runs them on one
 * result without ever letting a scorer crash the run.
 */
import { ConfigError, type ConfigIssue } from "../errors.js";
import type { ChatMessage, Score } from "../types.js";
import { compileCustom, loadCustomScorer, type CustomScorer } from "./custom.js";
import { compileJudge, resolveJudgeModel, type JudgeModels, type JudgeResolveContext } from "./judge.js";
import { callFailedScore, compileScorer, ScorerSpecIssue, type ScoreInput as BuiltinScoreInput } from "./scorers.js";
import type { AnyScorerSpec, CustomScorerSpec } from "./spec.js";

export { CALL_FAILED_REASON, NO_EXPECTED_ERROR } from "./scorers.js";
export type { CustomScorer, CustomScorerInput, CustomScorerResult } from "./custom.js";
export { JudgeModels, type JudgeConnection, type JudgeModel } from "./judge.js";

/** The row a result came from, as judges and custom scorers see it. */
export interface ScoredRow {
  id: string;
  /** The messages sent to the model (the judge shows them as the INPUT). */
  messages: readonly ChatMessage[];
}

/** What a scorer sees for one result. */
export interface ScoreInput extends BuiltinScoreInput {
  /**
   * The row. Built-in scorers ignore it; `llm_judge` needs its messages (and records a scorer
   * error without them); custom scorers get empty `id`/`messages` without it.
   */
  row?: ScoredRow;
}

/** What building judges and custom scorers needs from the run plan. */
export interface ScorerContext extends JudgeResolveContext {
  /** Directory custom scorer modules are resolved against (the config file's). */
  baseDir: string;
  /** Registry of the plan's judge models; the runner connects it to their endpoints. */
  judges: JudgeModels;
  /**
   * Loaded custom scorer functions (or why each failed to load), by spec. Filled in by
   * {@link loadScorers}; {@link buildScorers} alone cannot load modules (that is async).
   */
  customScorers?: ReadonlyMap<CustomScorerSpec, CustomScorer | ScorerSpecIssue>;
}

/** JSON path of each spec in a list: `datasets[0].scorers` + index, or a function of the index. */
export type ScorerPaths = string | ((index: number) => string);

const NEEDS_CONTEXT = "needs a run context: build scorers with planRun (or loadScorers)";

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
 * unique names, valid regexes and schemas, sensible bounds, judge models and their keys, custom
 * modules (already loaded by {@link loadScorers}). All problems are reported at once.
 *
 * @param specs validated specs (defaults applied).
 * @param where JSON path of the list, e.g. `datasets[0].scorers`, or of each spec by index.
 * @param file config file named in the error message.
 * @param context needed by `llm_judge` and `custom` specs; built-in scorers need none.
 * @throws ConfigError with paths such as `datasets[0].scorers[2].name`.
 */
export function buildScorers(
  specs: readonly AnyScorerSpec[],
  where: ScorerPaths,
  file = "config",
  context?: ScorerContext,
): Scorer[] {
  const pathOf = typeof where === "string" ? (i: number) => `${where}[${i}]` : where;
  const issues: ConfigIssue[] = [];
  const firstIndex = new Map<string, number>();
  const scorers: Scorer[] = [];
  specs.forEach((spec, i) => {
    const at = pathOf(i);
    const name = spec.name ?? spec.type;
    const seen = firstIndex.get(name);
    if (seen !== undefined) {
      issues.push({
        path: `${at}.name`,
        message: `duplicate scorer name "${name}" (also ${pathOf(seen)}); give one of them a distinct "name"`,
      });
    } else {
      firstIndex.set(name, i);
    }
    try {
      scorers.push({ name, type: spec.type, score: compile(spec, context) });
    } catch (err) {
      const found = Array.isArray(err) ? err : [err];
      for (const e of found) {
        if (!(e instanceof ScorerSpecIssue)) throw e;
        issues.push({ path: e.field === "" ? at : `${at}.${e.field}`, message: e.message });
      }
    }
  });
  if (issues.length > 0) throw new ConfigError(file, issues);
  return scorers;
}

/** One spec's score function; throws a {@link ScorerSpecIssue} or an array of them. */
function compile(spec: AnyScorerSpec, context: ScorerContext | undefined): Scorer["score"] {
  switch (spec.type) {
    case "llm_judge": {
      if (context === undefined) throw new ScorerSpecIssue("", `llm_judge ${NEEDS_CONTEXT}`);
      const model = context.judges.register(spec.model, () => resolveJudgeModel(spec.model, context));
      if (Array.isArray(model)) throw model;
      return compileJudge(spec, { model, judges: context.judges, retry: context.config.retry });
    }
    case "custom": {
      const loaded = context?.customScorers?.get(spec);
      if (loaded === undefined) throw new ScorerSpecIssue("", `custom ${NEEDS_CONTEXT}`);
      if (loaded instanceof ScorerSpecIssue) throw loaded;
      return compileCustom(spec, loaded);
    }
    default:
      return compileScorer(spec);
  }
}

/**
 * Loads every custom scorer module, then {@link buildScorers}: the async entry point the run plan
 * uses. Load failures (file not found, syntax error, no such export) are reported with the other
 * problems, at paths such as `datasets[0].scorers[1].module`.
 */
export async function loadScorers(
  specs: readonly AnyScorerSpec[],
  where: ScorerPaths,
  file: string,
  context: ScorerContext,
): Promise<Scorer[]> {
  const customScorers = new Map(context.customScorers ?? []);
  await Promise.all(
    specs.map(async (spec) => {
      if (spec.type !== "custom" || customScorers.has(spec)) return;
      try {
        customScorers.set(spec, await loadCustomScorer(spec, context.baseDir));
      } catch (err) {
        if (!(err instanceof ScorerSpecIssue)) throw err;
        customScorers.set(spec, err);
      }
    }),
  );
  return buildScorers(specs, where, file, { ...context, customScorers });
}

/**
 * Runs every scorer on one result, concurrently. A scorer that throws or rejects yields
 * `{value: null, error}` for itself only. When the call failed, every scorer (including custom
 * ones) records `{value: null, reason: "no output (call error)"}` without being invoked, so
 * statistics exclude the row and the report counts it as an error instead.
 */
export async function scoreAll(scorers: readonly Scorer[], input: ScoreInput): Promise<Record<string, Score>> {
  return scoreResult(scorers, input);
}

/**
 * {@link scoreAll}, synchronous when it can be: the scores themselves when every scorer answered
 * synchronously (the built-in ones), a promise only when one returned a promise (judges, async
 * custom scorers). The runner calls this once per result and awaits only a promise: an `await`
 * of scoreAll's promise cost a promise and a microtask turn per result for nothing.
 */
export function scoreResult(
  scorers: readonly Scorer[],
  input: ScoreInput,
): Record<string, Score> | Promise<Record<string, Score>> {
  const out: Record<string, Score> = {};
  if (input.output.error !== undefined) {
    for (const s of scorers) out[s.name] = callFailedScore();
    return out;
  }
  // Built-in scorers are synchronous: their scores are taken as they are, and only scorers that
  // return a promise (judges, async custom scorers) are awaited.
  let async = false;
  const results = scorers.map((s) => {
    const r = startOne(s, input);
    if (r instanceof Promise) async = true;
    return r;
  });
  if (!async) {
    for (let i = 0; i < scorers.length; i++) out[scorers[i]!.name] = results[i] as Score;
    return out;
  }
  // In scorer order, whenever each finished: the journal's bytes do not depend on timing.
  return Promise.all(results.map((r) => Promise.resolve(r))).then((scores) => {
    for (let i = 0; i < scorers.length; i++) out[scorers[i]!.name] = scores[i]!;
    return out;
  });
}

/** One scorer's score, or a promise of it when the scorer is asynchronous; never throws. */
function startOne(scorer: Scorer, input: ScoreInput): Score | Promise<Score> {
  try {
    const r = scorer.score(input);
    return isThenable(r) ? Promise.resolve(r).then(checked, thrownScore) : checked(r);
  } catch (err) {
    return thrownScore(err);
  }
}

function isThenable(x: unknown): x is PromiseLike<Score> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}

function thrownScore(err: unknown): Score {
  return { value: null, error: err instanceof Error ? err.message : String(err) };
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
