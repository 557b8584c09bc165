/**
 * How a simulated model answers: a pure function of (sim name, spec, request). It recognises the
 * task (arithmetic, a capital city, or something it cannot do), decides from a hash-seeded stream
 * whether to get it right, words the answer in the model's style, and applies `stop`/`max_tokens`
 * and token accounting exactly as the server reports them. The server adds only HTTP and waiting.
 */
import { describeStep, formatNumber, solveExpressionIn, type Solution } from "./arithmetic.js";
import { answerJudgePrompt, parseJudgePrompt } from "./judge.js";
import { asksForCapital, findCapitalFact, GUESS_CITIES, type CapitalFact } from "./knowledge.js";
import { logNormal, pick, uniformStream, type Uniform } from "./random.js";
import type { SimModelSpec } from "./spec.js";
import { solveWordProblem } from "./word-problems.js";

/** The parts of a chat request that influence a simulated answer. */
export interface SimRequest {
  /** Messages with their content already flattened to text. */
  messages: ReadonlyArray<{ role: string; content: string }>;
  seed?: number;
  maxTokens?: number;
  stop?: readonly string[];
  responseFormat?: "text" | "json_object" | "json_schema";
}

/** What the task turned out to be. */
export type SimTask = "arithmetic" | "capital" | "judge" | "unknown";

/** A simulated answer, with everything the server needs to report and pace it. */
export interface SimAnswer {
  text: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  completionTokens: number;
  task: SimTask;
  /** Whether the model meant to answer correctly; null when it could not do the task at all. */
  correct: boolean | null;
  /** The right answer as the model would write it, when it knows one. */
  expected?: string;
  latency: {
    /** Time before the first token, ms. */
    baseMs: number;
    /** Extra time per generated token, ms. */
    perTokenMs: number;
    /** baseMs + perTokenMs × completionTokens. */
    totalMs: number;
  };
}

/** The model name a sim reports in responses and `/info`. */
export function modelNameFor(simName: string, spec: Pick<SimModelSpec, "modelName">): string {
  return spec.modelName ?? `emulated-${simName}`;
}

/** Token estimate used for both prompt and completion: about four characters per token. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Answers one request deterministically. The temperature is ignored on purpose: a varying answer
 * for the same request would make runs irreproducible; vary `seed` instead.
 */
export function simulateAnswer(simName: string, spec: SimModelSpec, request: SimRequest): SimAnswer {
  const system = request.messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => m.content);
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const prompt = [...system, lastUser].join("\n");
  const seed = request.seed ?? "none";
  const rand = uniformStream("answer", simName, prompt, seed);
  // Latency has its own stream so that being slow is independent of being wrong.
  const latencyRand = uniformStream("latency", simName, prompt, seed);

  const draft = compose(rand, spec, lastUser, prompt);
  let text =
    request.responseFormat === "json_object" || request.responseFormat === "json_schema" ? draft.json : draft.prose;

  let finishReason: SimAnswer["finishReason"] = "stop";
  const stopAt = firstStop(text, request.stop ?? []);
  if (stopAt !== undefined) text = text.slice(0, stopAt);
  if (request.maxTokens !== undefined && countTokens(text) > request.maxTokens) {
    text = text.slice(0, request.maxTokens * 4);
    finishReason = "length";
  }

  const promptTokens = request.messages.reduce((sum, m) => sum + m.content.length, 0);
  const completionTokens = countTokens(text);
  const baseMs = Math.round(logNormal(latencyRand, spec.latency.medianMs, spec.latency.p95Ms));
  const perTokenMs = spec.latency.perTokenMs;
  return {
    text,
    finishReason,
    promptTokens: Math.ceil(promptTokens / 4),
    completionTokens,
    task: draft.task,
    correct: draft.correct,
    ...(draft.expected === undefined ? {} : { expected: draft.expected }),
    latency: { baseMs, perTokenMs, totalMs: Math.round(baseMs + perTokenMs * completionTokens) },
  };
}

/** Index of the earliest stop sequence in `text`, if any occurs. */
function firstStop(text: string, stops: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    if (s === "") continue;
    const at = text.indexOf(s);
    if (at >= 0 && (best === undefined || at < best)) best = at;
  }
  return best;
}

interface Draft {
  prose: string;
  json: string;
  task: SimTask;
  correct: boolean | null;
  expected?: string;
}

function compose(rand: Uniform, spec: SimModelSpec, lastUser: string, prompt: string): Draft {
  // The first draw decides right or wrong, so accuracy 0 and 1 are exact and measured accuracy
  // converges on the configured value whatever the task.
  const correct = rand() < spec.accuracy;
  // A rubric prompt first: the output it grades may itself contain arithmetic or a capital.
  const judgePrompt = parseJudgePrompt(lastUser);
  if (judgePrompt !== undefined)
    return { ...answerJudgePrompt(judgePrompt, correct, spec.style), task: "judge", correct };
  // Word problems first: a story's numbers could otherwise be misread as a bare expression.
  const solution = solveWordProblem(lastUser) ?? solveExpressionIn(lastUser);
  if (solution !== undefined) return arithmeticDraft(rand, spec, solution, correct, wantsBareAnswer(prompt));
  const fact = findCapitalFact(lastUser);
  if (fact !== undefined) return capitalDraft(rand, spec, fact, correct, wantsBareAnswer(prompt));
  return unknownDraft(rand, asksForCapital(lastUser));
}

/** "Answer with only the number." A terse model obeys; a steps model shows its working anyway. */
function wantsBareAnswer(prompt: string): boolean {
  return (
    /\b(only|just)\s+(?:with\s+)?(?:the|a)\s+(?:number|answer|city|name|result)\b/i.test(prompt) ||
    /\b(?:the|a)\s+(?:number|answer|city(?:\s+name)?|name|result)\s+only\b/i.test(prompt)
  );
}

function arithmeticDraft(
  rand: Uniform,
  spec: SimModelSpec,
  solution: Solution,
  correct: boolean,
  bare: boolean,
): Draft {
  const expected = formatNumber(solution.value);
  let steps = solution.steps.map(describeStep);
  let answer = solution.value;
  if (!correct) {
    const wrong = mistake(rand, solution);
    answer = wrong.value;
    steps = wrong.steps.map(describeStep);
  }
  const shown = formatNumber(answer);
  const prose =
    spec.style === "steps"
      ? [...narrate(steps), `The answer is ${shown}.`].join(" ")
      : bare
        ? shown
        : `The answer is ${shown}.`;
  const json =
    spec.style === "steps"
      ? JSON.stringify({ reasoning: narrate(steps).join(" "), answer: shown })
      : JSON.stringify({ answer: shown });
  return { prose, json, task: "arithmetic", correct, expected };
}

/** "First, a. Then b. Finally, c." */
function narrate(steps: readonly string[]): string[] {
  if (steps.length === 1) return [`${steps[0]}.`];
  return steps.map((s, i) => (i === 0 ? `First, ${s}.` : i === steps.length - 1 ? `Finally, ${s}.` : `Then ${s}.`));
}

/**
 * A plausible arithmetic mistake: dropping the last step of a multi-step problem, or slipping by
 * one or by ten in the last step. The working shown matches the mistake, like a real model's.
 */
function mistake(rand: Uniform, solution: Solution): Solution {
  const { steps, value } = solution;
  const kinds =
    steps.length >= 2 ? ["drop", "plus1", "minus1", "plus10", "minus10"] : ["plus1", "minus1", "plus10", "minus10"];
  const kind = pick(rand, kinds);
  const last = steps[steps.length - 1];
  // Dropping the last step leaves its left operand: the running value before the final operation.
  if (kind === "drop" && last !== undefined && last.left !== value)
    return { value: last.left, steps: steps.slice(0, -1) };
  const delta = kind === "minus1" ? -1 : kind === "plus10" ? 10 : kind === "minus10" ? -10 : 1;
  const wrong = value + delta === value ? value + 1 : value + delta;
  const wrongSteps = last === undefined ? [] : [...steps.slice(0, -1), { ...last, result: wrong }];
  return { value: wrong, steps: wrongSteps };
}

function capitalDraft(rand: Uniform, spec: SimModelSpec, fact: CapitalFact, correct: boolean, bare: boolean): Draft {
  let city = fact.capital;
  if (!correct) {
    // Mostly the famous decoy city; sometimes another country's capital entirely.
    const others = GUESS_CITIES.filter((c) => c !== fact.capital);
    city = rand() < 0.7 ? fact.decoy : pick(rand, others);
  }
  const end = city.endsWith(".") ? "" : ".";
  const prose =
    spec.style === "steps"
      ? `Thinking about ${fact.country}: its capital city is ${city}${end} The answer is ${city}${end}`
      : bare
        ? city
        : `The capital of ${fact.country} is ${city}${end}`;
  return { prose, json: JSON.stringify({ answer: city }), task: "capital", correct, expected: fact.capital };
}

function unknownDraft(rand: Uniform, aboutCapital: boolean): Draft {
  const guess = aboutCapital ? pick(rand, GUESS_CITIES) : String(Math.floor(rand() * 100));
  const end = guess.endsWith(".") ? "" : ".";
  return {
    prose: `I'm not sure, but I think it is ${guess}${end}`,
    json: JSON.stringify({ answer: guess, confidence: "low" }),
    task: "unknown",
    correct: null,
  };
}
