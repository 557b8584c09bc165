/**
 * The `tool_call` scorer: did the model call the expected function with the expected arguments?
 * Expected values come from the scorer spec (`function`, `arguments`) or from the row's expected
 * answer: JSON `{"name": "...", "arguments": {...}}`, or just a function name.
 *
 * Arguments compare as JSON values, not text (key order and spacing never matter). `match:
 * "subset"` (default) accepts extra arguments the model added; `"exact"` does not. `ignoreCase`
 * compares strings trimmed and case-folded. `partialCredit` scores the share of expected
 * arguments that matched instead of 0/1. With several calls, the best one counts.
 */
import type { Score, ToolCall } from "../types.js";
import type { ScoreFn, ScoreInput } from "./scorers.js";
import { CALL_FAILED_REASON, NO_EXPECTED_ERROR } from "./scorers.js";

/** Options of a `tool_call` scorer (see `spec.ts` for the config schema). */
export interface ToolCallScorerOptions {
  function?: string | undefined;
  arguments?: Record<string, unknown> | undefined;
  match: "subset" | "exact";
  ignoreCase: boolean;
  partialCredit: boolean;
}

interface Expected {
  name: string;
  arguments?: Record<string, unknown>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The expectation from the spec, else from the row's expected answer; a string when unusable. */
function expectedOf(opts: ToolCallScorerOptions, input: ScoreInput): Expected | string {
  if (opts.function !== undefined)
    return { name: opts.function, ...(opts.arguments ? { arguments: opts.arguments } : {}) };
  const raw = input.expected?.trim();
  if (raw === undefined || raw === "") return NO_EXPECTED_ERROR;
  if (!raw.startsWith("{")) return { name: raw, ...(opts.arguments ? { arguments: opts.arguments } : {}) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return `expected answer is not JSON {"name", "arguments"}: ${raw.slice(0, 60)}`;
  }
  if (!isRecord(parsed) || typeof parsed.name !== "string") return `expected answer has no "name": ${raw.slice(0, 60)}`;
  let args = parsed.arguments;
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch {
      return `expected "arguments" is a string that is not JSON`;
    }
  }
  if (args !== undefined && !isRecord(args)) return `expected "arguments" must be an object`;
  const merged = args ?? opts.arguments;
  return { name: parsed.name, ...(merged ? { arguments: merged } : {}) };
}

function same(a: unknown, b: unknown, opts: ToolCallScorerOptions, subset: boolean): boolean {
  if (typeof a === "string" && typeof b === "string")
    return opts.ignoreCase ? a.trim().toLowerCase() === b.trim().toLowerCase() : a === b;
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => same(x, b[i], opts, subset));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (!subset && Object.keys(b).length !== keys.length) return false;
    return keys.every((k) => k in b && same(a[k], b[k], opts, subset));
  }
  return a === b;
}

/** Score of one call against the expectation: fraction of expected arguments matched (1 when none expected). */
function scoreCall(call: ToolCall, expected: Expected, opts: ToolCallScorerOptions): { value: number; reason: string } {
  if (call.name !== expected.name) return { value: 0, reason: `called ${call.name}, expected ${expected.name}` };
  if (expected.arguments === undefined) return { value: 1, reason: `called ${call.name}` };
  let actual: unknown;
  try {
    actual = JSON.parse(call.arguments === "" ? "{}" : call.arguments);
  } catch {
    return { value: 0, reason: `${call.name}: arguments are not JSON` };
  }
  if (!isRecord(actual)) return { value: 0, reason: `${call.name}: arguments are not an object` };
  const subset = opts.match === "subset";
  const keys = Object.keys(expected.arguments);
  const wrong = keys.filter((k) => !(k in actual) || !same(expected.arguments![k], actual[k], opts, subset));
  const extra = subset ? [] : Object.keys(actual).filter((k) => !(k in expected.arguments!));
  const total = keys.length + extra.length;
  const value = total === 0 ? 1 : (keys.length - wrong.length) / total;
  const problems = [
    ...wrong.map((k) => `${k} ${k in actual ? `= ${JSON.stringify(actual[k])}` : "missing"}`),
    ...extra.map((k) => `unexpected ${k}`),
  ];
  return {
    value,
    reason:
      problems.length === 0
        ? `called ${call.name} with the expected arguments`
        : `${call.name}: ${problems.join(", ")}`,
  };
}

/** Compiles a `tool_call` scorer. */
export function compileToolCall(opts: ToolCallScorerOptions): ScoreFn {
  return (input): Score => {
    if (input.output.error !== undefined) return { value: null, reason: CALL_FAILED_REASON };
    const expected = expectedOf(opts, input);
    if (typeof expected === "string") return { value: null, error: expected };
    const calls = input.output.toolCalls ?? [];
    if (calls.length === 0) return { value: 0, pass: false, reason: `no tool call (expected ${expected.name})` };
    let best = scoreCall(calls[0]!, expected, opts);
    for (const c of calls.slice(1)) {
      const s = scoreCall(c, expected, opts);
      if (s.value > best.value) best = s;
    }
    const pass = best.value === 1;
    return { value: opts.partialCredit ? best.value : pass ? 1 : 0, pass, reason: best.reason };
  };
}
