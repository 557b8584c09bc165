/**
 * Solves arithmetic word problems written in a small controlled grammar (documented in
 * datasets/README.md). The story tracks ONE running quantity: the first statement with a number
 * sets it, each later clause changes it by one operation, and the question ("How many ... ?")
 * asks for it. Anything outside the grammar makes the solver give up (undefined) rather than
 * guess, so the simulated model's mistakes only ever come from its configured accuracy.
 */
import { applyStep, clean, type Solution, type Step } from "./arithmetic.js";

const UNITS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

const SUBTRACT_VERBS = [
  "gives away",
  "gave away",
  "gives",
  "gave",
  "loses",
  "lose",
  "lost",
  "eats",
  "eat",
  "ate",
  "sells",
  "sell",
  "sold",
  "uses",
  "use",
  "used",
  "spends",
  "spend",
  "spent",
  "breaks",
  "broke",
  "donates",
  "donated",
  "drops",
  "dropped",
  "throws away",
  "threw away",
  "removes",
  "removed",
  "takes away",
  "took away",
  "pays",
  "paid",
  "returns",
  "returned",
];
const ADD_VERBS = [
  "gets",
  "get",
  "got",
  "receives",
  "received",
  "finds",
  "found",
  "buys",
  "buy",
  "bought",
  "earns",
  "earned",
  "collects",
  "collected",
  "picks",
  "picked",
  "bakes",
  "baked",
  "makes",
  "made",
  "wins",
  "won",
  "adds",
  "added",
  "gains",
  "gained",
  "catches",
  "caught",
  "plants",
  "planted",
  "saves",
  "saved",
];
const SET_VERBS = [
  "has",
  "have",
  "had",
  "owns",
  "starts with",
  "contains",
  "holds",
  "there are",
  "there were",
  "is",
  "are",
];

const wordAlternation = (words: readonly string[]): string =>
  [...words]
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/ /g, "\\s+"))
    .join("|");

const SUBTRACT_RE = new RegExp(`\\b(?:${wordAlternation(SUBTRACT_VERBS)})\\b`);
const ADD_RE = new RegExp(`\\b(?:${wordAlternation(ADD_VERBS)})\\b`);
const ANY_VERB = wordAlternation([
  ...SUBTRACT_VERBS,
  ...ADD_VERBS,
  ...SET_VERBS,
  "splits",
  "shares",
  "packs",
  "puts",
  "doubles",
  "triples",
]);
/**
 * "A baker bakes 96 rolls and sells 30" is two clauses; "3 apples and 4 pears" is not. So "and"
 * splits only when a verb follows, after at most two words of subject ("and her brother gives").
 */
const CLAUSE_SPLIT = new RegExp(`,?\\s+(?:and\\s+)?then\\s+|,?\\s+and\\s+(?=(?:[a-z]+\\s+){0,2}?(?:${ANY_VERB})\\b)`);

/** Lower-cases and rewrites number words, dozens and money so every quantity is a digit string. */
function normalise(text: string): string {
  let t = text.toLowerCase().replace(/[’]/g, "'");
  t = t.replace(/\$\s*/g, "");
  t = t.replace(/(\d),(?=\d{3}\b)/g, "$1");
  t = t.replace(
    new RegExp(`\\b(${Object.keys(TENS).join("|")})[-\\s](${UNITS.slice(1, 10).join("|")})\\b`, "g"),
    (_, tens: string, unit: string) => String((TENS[tens] ?? 0) + UNITS.indexOf(unit)),
  );
  t = t.replace(new RegExp(`\\b(${Object.keys(TENS).join("|")})\\b`, "g"), (w: string) => String(TENS[w] ?? 0));
  t = t.replace(new RegExp(`\\b(${UNITS.join("|")})\\b`, "g"), (w: string) => String(UNITS.indexOf(w)));
  t = t.replace(/\b(\d+)\s+dozen\b/g, (_, n: string) => String(Number(n) * 12));
  t = t.replace(/\ba\s+dozen\b/g, "12");
  t = t.replace(/\btwice\b/g, "2 times");
  return t;
}

const NUMBER_RE = /\d+(?:\.\d+)?/g;
const TOTAL_QUESTION_RE = /\b(together|altogether|in total|in all|combined|total)\b/;

interface State {
  total: number | undefined;
  steps: Step[];
  /** The question asks for a sum over several owners ("How many do they have altogether?"). */
  sumsOwners: boolean;
}

/**
 * Solves a word problem, or returns undefined when the prompt is not one (no "how many/how much"
 * question) or strays outside the grammar.
 */
export function solveWordProblem(prompt: string): Solution | undefined {
  const text = normalise(prompt);
  if (!/\bhow\s+(many|much)\b/.test(text)) return undefined;
  const sentences = text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const state: State = { total: undefined, steps: [], sumsOwners: false };
  const statements: string[] = [];
  for (const sentence of sentences) {
    if (!sentence.endsWith("?")) {
      statements.push(sentence);
      continue;
    }
    if (TOTAL_QUESTION_RE.test(sentence)) state.sumsOwners = true;
    // "If she eats 3 more, how many are left?": the condition is one more statement.
    const condition = /^if\s+([^,]+),/.exec(sentence);
    if (condition?.[1] !== undefined) statements.push(condition[1]);
  }
  for (const statement of statements) {
    for (const clause of statement.replace(/[.!]+$/, "").split(CLAUSE_SPLIT)) {
      if (!applyClause(state, clause.trim())) return undefined;
    }
  }
  return state.total === undefined ? undefined : { value: state.total, steps: state.steps };
}

/** Applies one clause to the running quantity. False when the clause is outside the grammar. */
function applyClause(state: State, clause: string): boolean {
  const numbers = (clause.match(NUMBER_RE) ?? []).map(Number);
  const { total } = state;
  const step = (op: Step["op"], left: number, right: number): boolean => {
    const result = applyStep(state.steps, left, op, right);
    if (result === undefined) return false;
    state.total = result;
    return true;
  };

  if (numbers.length > 2) return false;

  // Operations that need no number of their own.
  if (total !== undefined && /\b(doubles?|doubled)\b/.test(clause)) return step("*", total, 2);
  if (total !== undefined && /\b(triples?|tripled)\b/.test(clause)) return step("*", total, 3);
  if (total !== undefined && /\bhalf\b/.test(clause) && SUBTRACT_RE.test(clause) && numbers.length === 0) {
    const half = clean(total / 2);
    return step("-", total, half);
  }
  if (numbers.length === 0) return true; // narrative: "It is a sunny day."

  const [first = 0] = numbers;
  if (total !== undefined && numbers.length === 1) {
    // "splits them equally among 4 friends", "packs them into boxes of 6"
    if (/\b(equally|evenly|equal)\b/.test(clause) || /\binto\s+(?:[a-z]+\s+)?of\s+\d/.test(clause))
      return step("/", total, first);
    const times = /(\d+(?:\.\d+)?)\s+times\s+(?:as\s+many|as\s+much|more)\b/.exec(clause);
    if (times !== null) return step("*", total, Number(times[1]));
    // "Each box has 6 pens." / "There are 6 pens in each box." after "She has 4 boxes."
    if (/^each\b/.test(clause) || /\b(in each|per)\b/.test(clause)) return step("*", total, first);
  }

  const amount = quantity(state, clause, numbers);
  if (amount === undefined) return false;
  if (total === undefined) {
    state.total = amount;
    return true;
  }
  if (SUBTRACT_RE.test(clause)) return step("-", total, amount);
  if (ADD_RE.test(clause) || /\b(more|another)\b/.test(clause)) return step("+", total, amount);
  // A second owner: "Tom has 12 marbles. Ann has 15." only makes sense when the question sums them.
  if (state.sumsOwners) return step("+", total, amount);
  return false;
}

/**
 * The quantity a clause talks about: one number, or the product of two when they describe groups
 * ("12 trays of 8 rolls", "4 bags with 6 apples each", "gives 3 friends 4 stickers each").
 */
function quantity(state: State, clause: string, numbers: number[]): number | undefined {
  const [a, b] = numbers;
  if (a === undefined) return undefined;
  if (b === undefined) return a;
  const grouped =
    /\beach\b/.test(clause) || /\d+\s+(?:[a-z]+\s+){0,2}?(?:of|with|containing|holding)\s+\d/.test(clause);
  if (!grouped) return undefined;
  return applyStep(state.steps, a, "*", b);
}
