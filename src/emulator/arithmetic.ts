/**
 * The simulated models' one real skill: finding an arithmetic expression in a prompt and computing
 * it, keeping each intermediate step so a "steps" model can show its working. The grammar is the
 * usual one: `+ -` below `* /`, parentheses, unary minus, and the typographic operators people
 * paste into prompts (`×`, `÷`, `−`, and `x` between two numbers).
 */

/** One operation performed while solving: `left op right = result`. */
export interface Step {
  left: number;
  op: "+" | "-" | "*" | "/";
  right: number;
  result: number;
}

/** A solved problem: the answer and the operations that led to it, in order. */
export interface Solution {
  value: number;
  steps: Step[];
}

type Token =
  { kind: "num"; value: number } | { kind: "op"; value: "+" | "-" | "*" | "/" } | { kind: "paren"; value: "(" | ")" };

/**
 * Rounds away binary floating-point noise (0.1 + 0.2) so answers read like a person's. Ten
 * decimals is far beyond anything the datasets ask for.
 */
export function clean(value: number): number {
  const rounded = Math.round(value * 1e10) / 1e10;
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** Applies one operation and records it. Division by zero has no answer: returns undefined. */
export function applyStep(steps: Step[], left: number, op: Step["op"], right: number): number | undefined {
  let result: number;
  switch (op) {
    case "+":
      result = left + right;
      break;
    case "-":
      result = left - right;
      break;
    case "*":
      result = left * right;
      break;
    case "/":
      if (right === 0) return undefined;
      result = left / right;
      break;
  }
  result = clean(result);
  steps.push({ left, op, right, result });
  return result;
}

/** Rewrites typographic operators to ASCII so one tokenizer handles every spelling. */
function normaliseOperators(text: string): string {
  return (
    text
      .replace(/[×✕⨉∙·]/g, "*")
      .replace(/[÷∶]/g, "/")
      .replace(/[−–—]/g, "-")
      // "x" is only multiplication between two operands; elsewhere it is a letter.
      .replace(/([\d)])\s*[xX]\s*(?=[\d(])/g, "$1 * ")
  );
}

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  // Numbers may carry thousands separators ("1,200"), but only in groups of exactly three digits.
  const re = /\s*(?:(\d+(?:,\d{3})*(?:\.\d+)?)|([-+*/])|([()]))/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) {
      if (text.slice(pos).trim() === "") break;
      return undefined;
    }
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: "num", value: Number(m[1].replace(/,/g, "")) });
    else if (m[2] !== undefined) tokens.push({ kind: "op", value: m[2] as "+" | "-" | "*" | "/" });
    else if (m[3] !== undefined) tokens.push({ kind: "paren", value: m[3] as "(" | ")" });
  }
  return tokens;
}

/**
 * Recursive-descent evaluator over tokens. Throws on a syntax error (caught by the caller); steps
 * are recorded in evaluation order, which is the order a person would write them down.
 */
class Evaluator {
  private pos = 0;
  readonly steps: Step[] = [];
  constructor(private readonly tokens: Token[]) {}

  run(): number {
    const value = this.sum();
    if (this.pos !== this.tokens.length) throw new Error("trailing tokens");
    return value;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private sum(): number {
    let left = this.product();
    for (let t = this.peek(); t?.kind === "op" && (t.value === "+" || t.value === "-"); t = this.peek()) {
      this.pos++;
      left = this.step(left, t.value, this.product());
    }
    return left;
  }

  private product(): number {
    let left = this.unary();
    for (let t = this.peek(); t?.kind === "op" && (t.value === "*" || t.value === "/"); t = this.peek()) {
      this.pos++;
      left = this.step(left, t.value, this.unary());
    }
    return left;
  }

  private unary(): number {
    const t = this.peek();
    if (t?.kind === "op" && t.value === "-") {
      this.pos++;
      return clean(-this.unary());
    }
    if (t?.kind === "op" && t.value === "+") {
      this.pos++;
      return this.unary();
    }
    return this.atom();
  }

  private atom(): number {
    const t = this.peek();
    if (t?.kind === "num") {
      this.pos++;
      return t.value;
    }
    if (t?.kind === "paren" && t.value === "(") {
      this.pos++;
      const value = this.sum();
      const close = this.peek();
      if (close?.kind !== "paren" || close.value !== ")") throw new Error("missing )");
      this.pos++;
      return value;
    }
    throw new Error("expected a number");
  }

  private step(left: number, op: Step["op"], right: number): number {
    const result = applyStep(this.steps, left, op, right);
    if (result === undefined) throw new Error("division by zero");
    return result;
  }
}

/**
 * Evaluates a complete expression such as `12 * (3 + 4) - 5 / 5`. Returns undefined when the text
 * is not exactly one well-formed expression, or divides by zero.
 */
export function evaluateExpression(text: string): Solution | undefined {
  const tokens = tokenize(normaliseOperators(text));
  if (tokens === undefined || tokens.length === 0) return undefined;
  const evaluator = new Evaluator(tokens);
  try {
    const value = evaluator.run();
    return { value, steps: evaluator.steps };
  } catch {
    return undefined;
  }
}

/**
 * Finds the arithmetic in free text ("What is 12 × 8 − 30?") and solves it. Takes the longest
 * run of expression characters that parses and contains at least one operation, so a stray
 * number elsewhere in the prompt ("Question 3: ...") is not mistaken for the problem.
 */
export function solveExpressionIn(prompt: string): Solution | undefined {
  const text = normaliseOperators(prompt);
  // A comma belongs to a number only before exactly three digits; a period only before a digit.
  // Anything else (a sentence's comma or full stop) ends the candidate.
  // A leading minus counts only when it is glued to the number ("-8 + 3"), not a dash in prose.
  const candidates = text.match(/(?:-(?=[\d(]))?[\d(](?:[\d\s()+\-*/]|,(?=\d{3}\b)|\.(?=\d))*[\d)]/g) ?? [];
  let best: { solution: Solution; length: number } | undefined;
  for (const raw of candidates) {
    const solution = evaluateTrimmed(raw);
    if (solution === undefined || solution.steps.length === 0) continue;
    if (best === undefined || raw.length > best.length) best = { solution, length: raw.length };
  }
  return best?.solution;
}

/** Evaluates a candidate, dropping unbalanced parentheses at its edges ("(about 3 + 4)" cut short). */
function evaluateTrimmed(raw: string): Solution | undefined {
  let text = raw.trim();
  for (let i = 0; i < 4 && text.length > 0; i++) {
    const solution = evaluateExpression(text);
    if (solution !== undefined) return solution;
    const opens = (text.match(/\(/g) ?? []).length;
    const closes = (text.match(/\)/g) ?? []).length;
    if (closes > opens && text.endsWith(")")) text = text.slice(0, -1).trim();
    else if (opens > closes && text.startsWith("(")) text = text.slice(1).trim();
    else return undefined;
  }
  return undefined;
}

/**
 * Formats a number the way a model writes it in prose: thousands separators ("5,280"), at most six
 * decimals, an ASCII minus. Separators are deliberate: expected answers in datasets have none, so
 * scorers must normalise numbers, as they must for real models.
 */
export function formatNumber(value: number): string {
  const rounded = clean(Math.round(value * 1e6) / 1e6);
  const negative = rounded < 0;
  const [intPart = "0", fracPart] = Math.abs(rounded).toString().split(".");
  if (/e/i.test(intPart)) return String(rounded); // astronomically large: leave as the runtime prints it
  const grouped = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fracPart === undefined ? "" : `.${fracPart}`}`;
}

const OP_SYMBOL: Record<Step["op"], string> = { "+": "+", "-": "−", "*": "×", "/": "÷" };

/** Writes one step for a "steps" model: `12 × 8 = 96`. */
export function describeStep(step: Step): string {
  return `${formatNumber(step.left)} ${OP_SYMBOL[step.op]} ${formatNumber(step.right)} = ${formatNumber(step.result)}`;
}
