/**
 * The built-in deterministic scorers, one compile function per `type`. Each compile function
 * checks its spec once (regexes, schemas, bounds) and returns a pure function from one output to
 * one {@link Score}. Shared concerns — failed calls, missing expected answers — are handled here
 * once so that every scorer treats them alike.
 */
import type { Completion, Score } from "../types.js";
import { compileSchema, SchemaCompileError } from "./json-schema.js";
import { extractExpectedNumber, extractFinalNumber, formatNumber, numbersMatch } from "./numeric.js";
import type { ScorerSpec } from "./spec.js";
import { compileToolCall } from "./tool-call.js";
import {
  codePointLength,
  levenshteinSimilarity,
  normalise,
  tokenF1,
  wordCount,
  type NormaliseOptions,
} from "./text.js";

/** What a scorer sees for one result. */
export interface ScoreInput {
  output: Completion;
  /** The row's expected answer, when the dataset maps one. */
  expected?: string;
  /** Every column of the source row. */
  vars: Record<string, string>;
}

/** A synchronous, pure scoring function produced by a compile function. */
export type ScoreFn = (input: ScoreInput) => Score;

/** A problem in one scorer spec, found while compiling it; `field` is relative to the spec. */
export class ScorerSpecIssue extends Error {
  override name = "ScorerSpecIssue";
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Reason recorded for every scorer when the model call failed: statistics exclude these rows. */
export const CALL_FAILED_REASON = "no output (call error)";
/** Error recorded when a scorer needs a reference but the row has none. */
export const NO_EXPECTED_ERROR = "row has no expected answer";

/** `{value: null}` for a failed call, so means are not dragged down by outages. */
export function callFailedScore(): Score {
  return { value: null, reason: CALL_FAILED_REASON };
}

function binary(pass: boolean, reason?: string): Score {
  return reason === undefined ? { value: pass ? 1 : 0, pass } : { value: pass ? 1 : 0, pass, reason };
}

/** Output text of a successful call; a call that succeeded with no content scored as "". */
function textOf(input: ScoreInput): string {
  return input.output.text ?? "";
}

/**
 * The reference text: the spec's `value`, else the row's expected answer. A blank expected
 * answer counts as missing, because blank CSV cells are far more common than intended empty
 * answers and `includes ""` would pass everything.
 */
function referenceOf(value: string | undefined, input: ScoreInput): string | undefined {
  if (value !== undefined) return value;
  const e = input.expected;
  return e === undefined || e.trim() === "" ? undefined : e;
}

function quote(text: string, max = 60): string {
  const t = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return JSON.stringify(t);
}

/** Wraps a scorer body with the checks every scorer shares. */
function guarded(
  needsReference: boolean,
  value: string | undefined,
  body: (text: string, ref: string, input: ScoreInput) => Score,
): ScoreFn {
  return (input) => {
    if (input.output.error !== undefined) return callFailedScore();
    const ref = needsReference ? referenceOf(value, input) : "";
    if (ref === undefined) return { value: null, error: NO_EXPECTED_ERROR };
    return body(textOf(input), ref, input);
  };
}

type Spec<T extends ScorerSpec["type"]> = Extract<ScorerSpec, { type: T }>;

function checkValue(value: string | undefined): void {
  if (value === "") throw new ScorerSpecIssue("value", "must not be empty (an empty string matches every output)");
}

function options(spec: NormaliseOptions): NormaliseOptions {
  return {
    caseSensitive: spec.caseSensitive,
    trim: spec.trim,
    collapseWhitespace: spec.collapseWhitespace,
    stripPunctuation: spec.stripPunctuation,
  };
}

/** `exact`: output equals the reference after normalisation. */
export function compileExact(spec: Spec<"exact">): ScoreFn {
  checkValue(spec.value);
  const opts = options(spec);
  return guarded(true, spec.value, (text, ref) => {
    const pass = normalise(text, opts) === normalise(ref, opts);
    return binary(pass, pass ? undefined : `output ${quote(text)} is not ${quote(ref)}`);
  });
}

/** `includes`: output contains the reference after normalisation. */
export function compileIncludes(spec: Spec<"includes">): ScoreFn {
  checkValue(spec.value);
  const opts = options(spec);
  return guarded(true, spec.value, (text, ref) => {
    const pass = normalise(text, opts).includes(normalise(ref, opts));
    return binary(pass, pass ? undefined : `output does not contain ${quote(ref)}`);
  });
}

/** `not_includes`: output does not contain the reference after normalisation. */
export function compileNotIncludes(spec: Spec<"not_includes">): ScoreFn {
  checkValue(spec.value);
  const opts = options(spec);
  return guarded(true, spec.value, (text, ref) => {
    const pass = !normalise(text, opts).includes(normalise(ref, opts));
    return binary(pass, pass ? undefined : `output contains ${quote(ref)}`);
  });
}

/** `starts_with`: output begins with the reference after normalisation. */
export function compileStartsWith(spec: Spec<"starts_with">): ScoreFn {
  checkValue(spec.value);
  const opts = options(spec);
  return guarded(true, spec.value, (text, ref) => {
    const pass = normalise(text, opts).startsWith(normalise(ref, opts));
    return binary(pass, pass ? undefined : `output does not start with ${quote(ref)}`);
  });
}

/** `regex`: the raw output matches the pattern. Compiled once; invalid patterns fail the config. */
export function compileRegex(spec: Spec<"regex">): ScoreFn {
  let re: RegExp;
  try {
    re = new RegExp(spec.pattern, spec.flags);
  } catch (err) {
    throw new ScorerSpecIssue("pattern", `invalid regular expression: ${(err as Error).message}`);
  }
  return guarded(false, undefined, (text) => {
    // `g` and `y` make test() resume from lastIndex; every output must be matched from the start.
    re.lastIndex = 0;
    const m = re.exec(text);
    return binary(m !== null, m === null ? `no match for /${re.source}/${re.flags}` : `matched ${quote(m[0])}`);
  });
}

/** `numeric`: the output's final number equals the expected number within `tolerance`. */
export function compileNumeric(spec: Spec<"numeric">): ScoreFn {
  const tolerance = spec.tolerance;
  return guarded(true, undefined, (text, ref) => {
    const expected = extractExpectedNumber(ref);
    if (expected === null) return { value: null, error: `expected answer has no number: ${quote(ref)}` };
    const actual = extractFinalNumber(text);
    if (actual === null) return binary(false, `no number in output; expected ${formatNumber(expected)}`);
    const pass = numbersMatch(actual, expected, tolerance);
    return binary(pass, `got ${formatNumber(actual)}, expected ${formatNumber(expected)}`);
  });
}

const FENCED = /^\s*```[\w-]*\s*\n[\s\S]*\n\s*```\s*$/;

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    // A fenced block is the most common near miss; say so, since code consuming the output
    // would fail the same way.
    const hint = FENCED.test(text) ? " (output is wrapped in a ``` code fence)" : "";
    return { ok: false, reason: `not JSON${hint}: ${(err as Error).message}` };
  }
}

/** `json_valid`: the whole output parses as JSON (no fences, no prose around it). */
export function compileJsonValid(_spec: Spec<"json_valid">): ScoreFn {
  return guarded(false, undefined, (text) => {
    const parsed = parseJson(text);
    return parsed.ok ? binary(true) : binary(false, parsed.reason);
  });
}

/** `json_schema`: the output parses as JSON and satisfies the schema (compiled once). */
export function compileJsonSchema(spec: Spec<"json_schema">): ScoreFn {
  let validator;
  try {
    validator = compileSchema(spec.schema);
  } catch (err) {
    if (err instanceof SchemaCompileError) {
      throw new ScorerSpecIssue(err.at === "" ? "schema" : `schema.${err.at}`, err.message);
    }
    throw err;
  }
  return guarded(false, undefined, (text) => {
    const parsed = parseJson(text);
    if (!parsed.ok) return binary(false, parsed.reason);
    const problems = validator.validate(parsed.value);
    if (problems.length === 0) return binary(true);
    const more = problems.length > 3 ? ` (+${problems.length - 3} more)` : "";
    return binary(false, problems.slice(0, 3).join("; ") + more);
  });
}

/**
 * `similarity`: 0..1 similarity to the expected answer. token_f1 uses SQuAD normalisation;
 * levenshtein compares after the default normalisation (case-insensitive, whitespace collapsed).
 */
export function compileSimilarity(spec: Spec<"similarity">): ScoreFn {
  const { metric, threshold } = spec;
  const opts: NormaliseOptions = {
    caseSensitive: false,
    trim: true,
    collapseWhitespace: true,
    stripPunctuation: false,
  };
  return guarded(true, undefined, (text, ref) => {
    const value =
      metric === "token_f1" ? tokenF1(text, ref) : levenshteinSimilarity(normalise(text, opts), normalise(ref, opts));
    if (threshold === undefined) return { value };
    return { value, pass: value >= threshold, reason: `${metric} ${value.toFixed(3)} vs threshold ${threshold}` };
  });
}

/** `length`: the trimmed output's length in chars (code points) or words is within [min, max]. */
export function compileLength(spec: Spec<"length">): ScoreFn {
  const { min, max, unit } = spec;
  if (min === undefined && max === undefined) throw new ScorerSpecIssue("", "set min, max or both");
  if (min !== undefined && max !== undefined && min > max)
    throw new ScorerSpecIssue("min", `min (${min}) is greater than max (${max})`);
  return guarded(false, undefined, (text) => {
    const n = unit === "words" ? wordCount(text) : codePointLength(text.trim());
    const pass = (min === undefined || n >= min) && (max === undefined || n <= max);
    return binary(pass, `${n} ${unit}`);
  });
}

/** `finish_stop`: the model stopped on its own (not truncated, filtered or a tool call). */
export function compileFinishStop(_spec: Spec<"finish_stop">): ScoreFn {
  return guarded(false, undefined, (_text, _ref, input) => {
    const reason = input.output.finishReason;
    return binary(reason === "stop", `finish reason: ${reason ?? "none"}`);
  });
}

/** `latency`: the successful attempt took at most `maxMs`. */
export function compileLatency(spec: Spec<"latency">): ScoreFn {
  const { maxMs } = spec;
  return guarded(false, undefined, (_text, _ref, input) => {
    const ms = input.output.latencyMs;
    return binary(ms <= maxMs, `${Math.round(ms)} ms (budget ${maxMs} ms)`);
  });
}

/** Compiles any built-in scorer spec; throws {@link ScorerSpecIssue} for a spec that cannot work. */
export function compileScorer(spec: ScorerSpec): ScoreFn {
  switch (spec.type) {
    case "exact":
      return compileExact(spec);
    case "includes":
      return compileIncludes(spec);
    case "not_includes":
      return compileNotIncludes(spec);
    case "starts_with":
      return compileStartsWith(spec);
    case "regex":
      return compileRegex(spec);
    case "numeric":
      return compileNumeric(spec);
    case "json_valid":
      return compileJsonValid(spec);
    case "json_schema":
      return compileJsonSchema(spec);
    case "similarity":
      return compileSimilarity(spec);
    case "length":
      return compileLength(spec);
    case "finish_stop":
      return compileFinishStop(spec);
    case "latency":
      return compileLatency(spec);
    case "tool_call":
      return compileToolCall(spec);
    default: {
      // Exhaustiveness: a new type in spec.ts without a scorer here fails to compile.
      const never: never = spec;
      throw new ScorerSpecIssue("type", `unknown scorer type ${JSON.stringify((never as { type: unknown }).type)}`);
    }
  }
}
