/**
 * The simulated models' judge skill. When a request is one of bakeoff's rubric prompts (an
 * `llm_judge` scorer's), the sim grades the OUTPUT section against the EXPECTED section the way a
 * careful grader would — final number equal for numeric answers, case-insensitive containment for
 * text — and replies `SCORE: <n>` / `REASON: <text>` on the scale the prompt asks for. Like every
 * sim skill it errs with probability `1 - accuracy`; the caller makes that draw from the request's
 * hash stream, so verdicts are reproducible.
 *
 * The prompt format is parsed here independently of `scoring/judge.ts` (which writes it), as a
 * real model would have to: a test checks the two agree.
 */

/** A judge prompt's parts, as the sim reads them. */
export interface JudgePrompt {
  input: string;
  /** Absent when the prompt has no EXPECTED section (a custom rubric on a row without one). */
  expected?: string;
  output: string;
  scale: { min: number; max: number };
}

/** The sim's reply to a judge prompt, in both response formats. */
export interface JudgeReply {
  prose: string;
  json: string;
  /** The verdict a faithful grader would give (the top or bottom of the scale), as text. */
  expected: string;
}

// Sections are `<<<BAKEOFF NAME tag>>>` … `<<<END NAME tag>>>`; the tag is the same on every
// marker of one prompt, so text inside a section cannot close it without knowing the tag.
const SECTION = /<<<BAKEOFF (INPUT|EXPECTED|OUTPUT) ([0-9a-f]{8})>>>\n([\s\S]*?)\n<<<END \1 \2>>>/g;
const SCALE = /SCORE: <a number from (-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)>/;

/** Reads a bakeoff rubric prompt; undefined for any other prompt. */
export function parseJudgePrompt(text: string): JudgePrompt | undefined {
  const sections = new Map<string, string>();
  let tag: string | undefined;
  for (const m of text.matchAll(SECTION)) {
    const [, name, t, body] = m;
    if (name === undefined || t === undefined || body === undefined) continue;
    tag ??= t;
    if (t === tag && !sections.has(name)) sections.set(name, body);
  }
  const input = sections.get("INPUT");
  const output = sections.get("OUTPUT");
  const scale = SCALE.exec(text);
  if (input === undefined || output === undefined || scale === null) return undefined;
  const expected = sections.get("EXPECTED");
  return {
    input,
    ...(expected === undefined ? {} : { expected }),
    output,
    scale: { min: Number(scale[1]), max: Number(scale[2]) },
  };
}

/** A whole-answer number such as `66`, `-2.5`, `1,475` or `#### 66`; undefined for text. */
function expectedNumber(text: string): number | undefined {
  const m = /^\s*(?:####\s*)?(-?\d[\d,]*(?:\.\d+)?)\s*\.?\s*$/.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1].replace(/,/g, ""));
}

/** The last number in a text ("The answer is 1,475." → 1475). */
function finalNumber(text: string): number | undefined {
  const all = text.match(/-?\d[\d,]*(?:\.\d+)?/g);
  const last = all?.at(-1);
  return last === undefined ? undefined : Number(last.replace(/,/g, ""));
}

/** What a faithful grader concludes, with its reason. */
function grade(prompt: JudgePrompt): { pass: boolean; reason: string } {
  if (prompt.expected === undefined || prompt.expected.trim() === "") {
    return { pass: false, reason: "There is no expected answer to check the output against." };
  }
  const want = expectedNumber(prompt.expected);
  if (want !== undefined) {
    const got = finalNumber(prompt.output);
    if (got === undefined)
      return { pass: false, reason: `The output gives no number; the expected answer is ${want}.` };
    return got === want
      ? { pass: true, reason: `The output's final number ${got} equals the expected ${want}.` }
      : { pass: false, reason: `The output's final number ${got} is not the expected ${want}.` };
  }
  const ref = prompt.expected.trim();
  return prompt.output.toLowerCase().includes(ref.toLowerCase())
    ? { pass: true, reason: `The output contains the expected answer "${ref}".` }
    : { pass: false, reason: `The output does not contain the expected answer "${ref}".` };
}

/**
 * Grades a judge prompt. `faithful` is the sim's accuracy draw: when false, the verdict flips and
 * the reason asserts the wrong conclusion, as a sloppy judge's would.
 */
export function answerJudgePrompt(prompt: JudgePrompt, faithful: boolean, style: "terse" | "steps"): JudgeReply {
  const truth = grade(prompt);
  const pass = faithful ? truth.pass : !truth.pass;
  const ref = prompt.expected?.trim() ?? "";
  const reason = faithful
    ? truth.reason
    : pass
      ? `The output matches the expected answer "${ref}".`
      : `The output does not match the expected answer "${ref}".`;
  const score = pass ? prompt.scale.max : prompt.scale.min;
  const lines = [`SCORE: ${score}`, `REASON: ${reason}`];
  if (style === "steps") lines.unshift("Let me compare the output with the expected answer.");
  return {
    prose: lines.join("\n"),
    json: JSON.stringify({ score, reason }),
    expected: String(truth.pass ? prompt.scale.max : prompt.scale.min),
  };
}
