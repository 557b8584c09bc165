import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { buildScorers, scoreAll, scoreResult, type Scorer, type ScoreInput } from "../src/scoring/index.js";
import { compileSchema } from "../src/scoring/json-schema.js";
import { extractExpectedNumber, extractFinalNumber, extractNumbers, formatNumber } from "../src/scoring/numeric.js";
import { ScorerSpec, type ScorerSpecInput } from "../src/scoring/spec.js";
import { levenshtein, normalise, tokenF1 } from "../src/scoring/text.js";
import type { Completion, Score } from "../src/types.js";

function completion(text: string | null, extra: Partial<Completion> = {}): Completion {
  return {
    text,
    finishReason: "stop",
    usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
    latencyMs: 100,
    model: "m",
    requestId: "r",
    attempts: 1,
    ...extra,
  };
}

function input(text: string | null, expected?: string, extra: Partial<Completion> = {}): ScoreInput {
  return expected === undefined
    ? { output: completion(text, extra), vars: {} }
    : { output: completion(text, extra), expected, vars: {} };
}

/** Builds one scorer from a raw config object, through the real schema (defaults applied). */
function scorer(spec: ScorerSpecInput): Scorer {
  return buildScorers([ScorerSpec.parse(spec)], "scorers")[0]!;
}

async function run(spec: ScorerSpecInput, inp: ScoreInput): Promise<Score> {
  return scorer(spec).score(inp);
}

function configIssues(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error("expected a ConfigError");
}

describe("numeric extraction", () => {
  it("reads GSM8K answers after ####, with thousands separators", () => {
    expect(extractExpectedNumber("Step 1: 2 + 2 = 4\n#### 1,450,000")).toBe(1_450_000);
    expect(extractExpectedNumber("It is 18")).toBe(18);
    expect(extractExpectedNumber("no digits")).toBeNull();
  });

  it("takes the last number in an output, ignoring sentence periods and currency", () => {
    expect(extractFinalNumber("The total is $1,450,000.")).toBe(1_450_000);
    expect(extractFinalNumber("She pays 3 times, so 18.")).toBe(18);
    expect(extractFinalNumber("It costs $18")).toBe(18);
    expect(extractFinalNumber("The answer is 2.5.")).toBe(2.5);
    expect(extractFinalNumber("temperature drops to -3")).toBe(-3);
    expect(extractFinalNumber("a loss of -$3")).toBe(-3);
    expect(extractFinalNumber("about 50%")).toBe(50);
    expect(extractFinalNumber("no number here")).toBeNull();
  });

  it("agrees with the last of extractNumbers, skips overflowing numbers and starts afresh on each text", () => {
    for (const text of ["1e999 then 5", "5 then 1e999", "a 1,450,000 b -2.5e3 c", "7", "x", "−4 and 12%"]) {
      expect(extractFinalNumber(text)).toBe(extractNumbers(text).at(-1) ?? null);
    }
    // A shared regex left mid-text by one call must not make the next one skip its start.
    expect(extractFinalNumber("10 20 30")).toBe(30);
    expect(extractFinalNumber("4")).toBe(4);
  });

  it("formats numbers for reasons without float noise, integers as they are", () => {
    expect(formatNumber(1450000)).toBe("1450000");
    expect(formatNumber(-3)).toBe("-3");
    expect(formatNumber(-0)).toBe("0");
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(2.5)).toBe("2.5");
    expect(formatNumber(2 ** 60)).toBe("1152921504606850000");
    expect(formatNumber(1e21)).toBe("1e+21");
  });

  it("does not merge lists, ranges or space-separated digits", () => {
    expect(extractNumbers("1,2,3")).toEqual([1, 2, 3]);
    expect(extractNumbers("pages 3-4")).toEqual([3, 4]);
    expect(extractNumbers("1 234")).toEqual([1, 234]);
    expect(extractNumbers("1,4500")).toEqual([1, 4500]);
    expect(extractNumbers("GPT4 and H2O")).toEqual([]);
  });
});

describe("text helpers", () => {
  it("normalises with Unicode punctuation and whitespace options", () => {
    const opts = { caseSensitive: false, trim: true, collapseWhitespace: true, stripPunctuation: true };
    expect(normalise("  «Bonjour»,\n\n le   MONDE ! ", opts)).toBe("bonjour le monde");
    expect(normalise("「東京」。", opts)).toBe("東京");
  });

  it("computes SQuAD token F1", () => {
    expect(tokenF1("The Eiffel Tower", "eiffel tower")).toBe(1);
    expect(tokenF1("Paris France", "Paris")).toBeCloseTo(2 / 3);
    expect(tokenF1("", "")).toBe(1);
    expect(tokenF1("x", "")).toBe(0);
  });

  it("counts Levenshtein edits in code points", () => {
    expect(levenshtein("kitten", "sitting")).toBe(3);
    expect(levenshtein("😀a", "😀b")).toBe(1);
    expect(levenshtein("", "abc")).toBe(3);
  });
});

describe("string scorers", () => {
  it("exact normalises case and whitespace by default", async () => {
    expect(await run({ type: "exact" }, input("  Paris\n", "paris"))).toMatchObject({ value: 1, pass: true });
    const miss = await run({ type: "exact", caseSensitive: true }, input("paris", "Paris"));
    expect(miss).toMatchObject({ value: 0, pass: false });
    expect(miss.reason).toContain('"Paris"');
  });

  it("exact strips Unicode punctuation when asked", async () => {
    expect(await run({ type: "exact", stripPunctuation: true }, input("¡Hola!", "hola"))).toMatchObject({ pass: true });
    expect(await run({ type: "exact" }, input("¡Hola!", "hola"))).toMatchObject({ pass: false });
  });

  it("value overrides the expected answer", async () => {
    expect(await run({ type: "includes", value: "refund" }, input("We issued a Refund.", "other"))).toMatchObject({
      pass: true,
    });
    expect(await run({ type: "not_includes", value: "as an ai" }, input("As an AI, I cannot"))).toMatchObject({
      pass: false,
    });
    expect(await run({ type: "not_includes", value: "as an ai" }, input("Sure."))).toMatchObject({ pass: true });
    expect(await run({ type: "starts_with", value: "yes" }, input("Yes, because"))).toMatchObject({ pass: true });
  });

  it("reports a missing or blank expected answer as a scorer error, not a fail", async () => {
    for (const expected of [undefined, "", "   "]) {
      expect(await run({ type: "exact" }, input("x", expected))).toEqual({
        value: null,
        error: "row has no expected answer",
      });
    }
    expect(await run({ type: "numeric" }, input("4"))).toEqual({ value: null, error: "row has no expected answer" });
    expect(await run({ type: "similarity" }, input("4"))).toEqual({ value: null, error: "row has no expected answer" });
  });

  it("scores a successful call with null text as empty output", async () => {
    expect(await run({ type: "includes" }, input(null, "x"))).toMatchObject({ pass: false });
    expect(await run({ type: "length", max: 5 }, input(null))).toMatchObject({ pass: true, reason: "0 chars" });
  });
});

describe("regex scorer", () => {
  it("honours flags", async () => {
    expect(await run({ type: "regex", pattern: "^answer: yes$" }, input("ANSWER: yes"))).toMatchObject({ pass: false });
    expect(await run({ type: "regex", pattern: "^answer: yes$", flags: "im" }, input("x\nANSWER: yes"))).toMatchObject({
      pass: true,
      reason: 'matched "ANSWER: yes"',
    });
  });

  it("matches every output from the start even with the g or y flag", async () => {
    for (const flags of ["g", "y"]) {
      const s = scorer({ type: "regex", pattern: "ab", flags });
      expect(await s.score(input("ab ab"))).toMatchObject({ pass: true });
      expect(await s.score(input("ab"))).toMatchObject({ pass: true });
      expect(await s.score(input("ab"))).toMatchObject({ pass: true });
    }
  });

  it("rejects an invalid pattern with the config path", () => {
    const issues = configIssues(() =>
      buildScorers(
        [ScorerSpec.parse({ type: "exact" }), ScorerSpec.parse({ type: "regex", pattern: "(" })],
        "datasets[1].scorers",
      ),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("datasets[1].scorers[1].pattern");
    expect(issues[0]!.message).toMatch(/invalid regular expression/);
  });
});

describe("numeric scorer", () => {
  it("passes a GSM8K answer written with currency and a trailing period", async () => {
    const s = await run({ type: "numeric" }, input("The total is $1,450,000.", "Work...\n#### 1,450,000"));
    expect(s).toEqual({ value: 1, pass: true, reason: "got 1450000, expected 1450000" });
  });

  it("fails with both numbers in the reason", async () => {
    expect(await run({ type: "numeric" }, input("I think 17.", "#### 18"))).toEqual({
      value: 0,
      pass: false,
      reason: "got 17, expected 18",
    });
  });

  it("fails when the output has no number", async () => {
    expect(await run({ type: "numeric" }, input("I don't know", "#### 18"))).toMatchObject({
      value: 0,
      pass: false,
      reason: "no number in output; expected 18",
    });
  });

  it("is a scorer error when the expected answer has no number", async () => {
    const s = await run({ type: "numeric" }, input("18", "eighteen"));
    expect(s.value).toBeNull();
    expect(s.error).toMatch(/expected answer has no number/);
  });

  it("applies the tolerance and absorbs float noise", async () => {
    expect(await run({ type: "numeric", tolerance: 0.01 }, input("3.141", "3.14"))).toMatchObject({ pass: true });
    expect(await run({ type: "numeric", tolerance: 0.0001 }, input("3.141", "3.14"))).toMatchObject({ pass: false });
    expect(await run({ type: "numeric" }, input(String(0.1 + 0.2), "0.3"))).toMatchObject({ pass: true });
  });
});

describe("JSON scorers", () => {
  it("json_valid accepts JSON and explains fenced output", async () => {
    expect(await run({ type: "json_valid" }, input(' {"a": 1} '))).toMatchObject({ pass: true });
    const fenced = await run({ type: "json_valid" }, input('```json\n{"a": 1}\n```'));
    expect(fenced.pass).toBe(false);
    expect(fenced.reason).toContain("code fence");
  });

  const schema = {
    type: "object",
    properties: {
      name: { type: "string", minLength: 1, maxLength: 5 },
      age: { type: "integer", minimum: 0, maximum: 150 },
      tags: { type: "array", items: { enum: ["a", "b"] } },
      kind: { const: "person" },
    },
    required: ["name", "kind"],
    additionalProperties: false,
  };

  it("json_schema passes a conforming object", async () => {
    const s = await run({ type: "json_schema", schema }, input('{"name":"Ann","age":30,"tags":["a"],"kind":"person"}'));
    expect(s).toEqual({ value: 1, pass: true });
  });

  it("json_schema lists the problems", async () => {
    const s = await run({ type: "json_schema", schema }, input('{"name":"","age":1.5,"tags":["c"],"extra":1}'));
    expect(s.pass).toBe(false);
    expect(s.reason).toContain('missing required property "kind"');
    expect(s.reason).toContain("+2 more");
    const all = compileSchema(schema).validate({ name: "", age: 1.5, tags: ["c"], extra: 1 });
    expect(all).toEqual([
      '$: missing required property "kind"',
      "$.name: must be at least 1 characters, got 0",
      "$.age: expected integer, got number",
      '$.tags[0]: must be one of ["a","b"]',
      '$: unexpected property "extra"',
    ]);
  });

  it("json_schema rejects keywords it cannot check, with the config path", () => {
    const issues = configIssues(() =>
      buildScorers(
        [ScorerSpec.parse({ type: "json_schema", schema: { properties: { a: { $ref: "#/x" } } } })],
        "scorers",
      ),
    );
    expect(issues[0]!.path).toBe("scorers[0].schema.properties.a.$ref");
  });

  it("json_schema checks the remaining keywords", () => {
    const v = compileSchema({
      type: ["string", "null"],
      pattern: "^[a-z]+$",
      anyOf: [{ maxLength: 3 }, { const: null }],
    });
    expect(v.validate("abc")).toEqual([]);
    expect(v.validate(null)).toEqual([]);
    expect(v.validate("abcd")).toEqual(["$: matches none of anyOf"]);
    // maxLength ignores non-strings (as JSON Schema says), so only the type fails here.
    expect(v.validate(3)).toEqual(["$: expected string or null, got integer"]);
    expect(compileSchema({ type: "array", minItems: 1, maxItems: 1 }).validate([])).toEqual([
      "$: must have at least 1 items, got 0",
    ]);
  });
});

describe("similarity, length, finish_stop, latency", () => {
  it("similarity reports token F1 and passes at the threshold", async () => {
    expect(await run({ type: "similarity" }, input("Paris France", "Paris"))).toEqual({ value: 2 / 3 });
    const s = await run({ type: "similarity", threshold: 0.6 }, input("Paris France", "Paris"));
    expect(s).toMatchObject({ pass: true });
  });

  it("similarity supports normalised Levenshtein", async () => {
    const s = await run({ type: "similarity", metric: "levenshtein", threshold: 0.9 }, input("Kitten", "sitting"));
    expect(s.value).toBeCloseTo(1 - 3 / 7);
    expect(s.pass).toBe(false);
  });

  it("length counts code points or words within bounds", async () => {
    expect(await run({ type: "length", max: 3 }, input(" 😀😀😀 "))).toMatchObject({ pass: true, reason: "3 chars" });
    expect(await run({ type: "length", min: 3, unit: "words" }, input("two  words"))).toMatchObject({
      pass: false,
      reason: "2 words",
    });
  });

  it("length needs a sensible range", () => {
    expect(configIssues(() => buildScorers([ScorerSpec.parse({ type: "length", min: 5, max: 2 })], "s"))[0]!.path).toBe(
      "s[0].min",
    );
    expect(configIssues(() => buildScorers([ScorerSpec.parse({ type: "length" })], "s"))[0]!.path).toBe("s[0]");
  });

  it("finish_stop passes only on stop", async () => {
    expect(await run({ type: "finish_stop" }, input("x"))).toMatchObject({ value: 1, pass: true });
    expect(await run({ type: "finish_stop" }, input("x", undefined, { finishReason: "length" }))).toMatchObject({
      value: 0,
      reason: "finish reason: length",
    });
    expect(await run({ type: "finish_stop" }, input("x", undefined, { finishReason: null }))).toMatchObject({
      pass: false,
    });
  });

  it("latency passes within budget, inclusive", async () => {
    expect(await run({ type: "latency", maxMs: 100 }, input("x"))).toMatchObject({ pass: true });
    expect(await run({ type: "latency", maxMs: 99 }, input("x"))).toMatchObject({ pass: false });
  });
});

describe("buildScorers and scoreAll", () => {
  it("defaults names to the type and rejects duplicates with a path", () => {
    const specs = [{ type: "exact" }, { type: "includes", name: "exact" }, { type: "numeric" }].map((s) =>
      ScorerSpec.parse(s),
    );
    const issues = configIssues(() => buildScorers(specs, "datasets[0].scorers"));
    expect(issues).toEqual([
      {
        path: "datasets[0].scorers[1].name",
        message: 'duplicate scorer name "exact" (also datasets[0].scorers[0]); give one of them a distinct "name"',
      },
    ]);
    const ok = buildScorers(
      [ScorerSpec.parse({ type: "exact" }), ScorerSpec.parse({ type: "exact", name: "exact_cs" })],
      "x",
    );
    expect(ok.map((s) => s.name)).toEqual(["exact", "exact_cs"]);
  });

  it("rejects an empty value", () => {
    expect(configIssues(() => buildScorers([ScorerSpec.parse({ type: "includes", value: "" })], "s"))[0]!.path).toBe(
      "s[0].value",
    );
  });

  it("captures a throwing or rejecting scorer without affecting the others", async () => {
    const scorers: Scorer[] = [
      // Finishes last, listed first: records keep scorer order whatever the timing.
      { name: "slow", type: "custom", score: () => new Promise<Score>((r) => setTimeout(() => r({ value: 0.5 }), 5)) },
      ...buildScorers([ScorerSpec.parse({ type: "exact" })], "s"),
      {
        name: "boom",
        type: "custom",
        score() {
          throw new Error("judge unavailable");
        },
      },
      { name: "reject", type: "custom", score: async () => Promise.reject(new Error("nope")) },
      { name: "nan", type: "custom", score: () => ({ value: Number.NaN }) },
    ];
    const scores = await scoreAll(scorers, input("a", "a"));
    expect(Object.keys(scores)).toEqual(["slow", "exact", "boom", "reject", "nan"]);
    expect(scores).toEqual({
      slow: { value: 0.5 },
      exact: { value: 1, pass: true },
      boom: { value: null, error: "judge unavailable" },
      reject: { value: null, error: "nope" },
      nan: { value: null, error: "scorer returned a non-finite value (NaN)" },
    });
  });

  it("scoreResult answers synchronously when every scorer does, with a promise when one is async", async () => {
    const sync: Scorer[] = [
      ...buildScorers([ScorerSpec.parse({ type: "exact" }), ScorerSpec.parse({ type: "numeric" })], "s"),
      { name: "nan", type: "custom", score: () => ({ value: Number.NaN }) },
    ];
    const now = scoreResult(sync, input("it is 4", "4"));
    expect(now).not.toBeInstanceOf(Promise);
    expect(now).toEqual(await scoreAll(sync, input("it is 4", "4")));
    expect(Object.keys(now)).toEqual(["exact", "numeric", "nan"]);
    const later = scoreResult(
      [...sync, { name: "judge", type: "custom", score: async () => ({ value: 1 }) }],
      input("4", "4"),
    );
    expect(later).toBeInstanceOf(Promise);
    expect(Object.keys(await later)).toEqual(["exact", "numeric", "nan", "judge"]);
    expect((await later)["judge"]).toEqual({ value: 1 });
  });

  it("gives every scorer a null score when the call failed, without calling custom scorers", async () => {
    let called = false;
    const scorers: Scorer[] = [
      ...buildScorers(
        ["exact", "finish_stop", "json_valid"].map((type) => ScorerSpec.parse({ type })),
        "s",
      ),
      { name: "judge", type: "custom", score: () => ((called = true), { value: 1 }) },
    ];
    const failed = input(null, "a", { finishReason: "error", error: { kind: "timeout", message: "deadline" } });
    const scores = await scoreAll(scorers, failed);
    for (const name of ["exact", "finish_stop", "json_valid", "judge"]) {
      expect(scores[name]).toEqual({ value: null, reason: "no output (call error)" });
    }
    expect(called).toBe(false);
    // Built-in scorers agree when called directly.
    expect(await scorers[0]!.score(failed)).toEqual({ value: null, reason: "no output (call error)" });
  });
});
