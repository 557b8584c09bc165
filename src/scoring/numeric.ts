/**
 * Finding "the answer" number in free text, as math benchmarks (GSM8K and friends) need: models
 * write `The total is $1,450,000.` and datasets write `...reasoning...\n#### 1450000`.
 */

// One number as people write it in prose:
// - not glued to a preceding letter, digit or dot (`GPT4`, `v1.2.3` tails, `H2O` are not answers);
// - optional sign (ASCII or U+2212 minus) and optional currency symbol, in either order;
// - comma thousands separators only in well-formed groups (`1,450,000`; `1,2,3` is a list);
// - optional decimals and exponent; a trailing sentence period (`18.`) is not a decimal point;
// - optional `%`, which is dropped (`50%` → 50): answers and references use the same convention.
// Space-separated thousands (`1 234`) are deliberately not joined: `1 234` reads as two numbers.
const NUMBER =
  /(?<![\p{L}\p{N}_.])([-+\u2212]?)[$€£¥]?([-+\u2212]?)((?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)(?:[eE]([-+]?\d+))?%?/gu;

/** One regex match as a number, or `null` when it overflows (`1e999`). */
function matchValue(m: RegExpExecArray): number | null {
  const sign = m[1] || m[2];
  const digits = m[3]!.replaceAll(",", "");
  const exponent = m[4] === undefined ? "" : `e${m[4]}`;
  const value = Number(`${digits}${exponent}`);
  if (!Number.isFinite(value)) return null;
  return sign === "-" || sign === "\u2212" ? -value : value;
}

/** Every number in `text`, in order of appearance. */
export function extractNumbers(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const value = matchValue(m);
    if (value !== null) out.push(value);
  }
  return out;
}

/** The last number in `text` (where answers conventionally end up), or `null` when there is none. */
export function extractFinalNumber(text: string): number | null {
  // The same matches as extractNumbers, keeping only the last: this runs on every scored answer,
  // and the array (plus matchAll's iterator) was garbage for all but one element.
  // The shared regex is safe to drive by hand here: the loop is synchronous and always leaves
  // lastIndex at 0 (exec resets it when it finds nothing more; matches are never empty).
  NUMBER.lastIndex = 0;
  let last: number | null = null;
  for (let m = NUMBER.exec(text); m !== null; m = NUMBER.exec(text)) {
    const value = matchValue(m);
    if (value !== null) last = value;
  }
  return last;
}

/**
 * The reference number from an expected answer: the first number after the last `####` marker
 * (GSM8K's convention) when there is one, else the last number in the text.
 */
export function extractExpectedNumber(expected: string): number | null {
  const marker = expected.lastIndexOf("####");
  if (marker >= 0) {
    const after = extractNumbers(expected.slice(marker + 4));
    if (after.length > 0) return after[0]!;
  }
  return extractFinalNumber(expected);
}

/**
 * Whether two numbers agree within an absolute tolerance. A relative slack of 1e-9 absorbs binary
 * floating-point noise (`0.1 + 0.2` vs `0.3`) that no person would call a different answer.
 */
export function numbersMatch(actual: number, expected: number, tolerance: number): boolean {
  const slack = 1e-9 * Math.max(Math.abs(actual), Math.abs(expected));
  return Math.abs(actual - expected) <= tolerance + slack;
}

/** Formats a number for a reason string without float noise (`1450000`, `0.3`). */
export function formatNumber(n: number): string {
  // Safe integers print exactly as the rounding below would print them, and they are most
  // answers; toPrecision is the slow part of scoring a numeric answer.
  if (Number.isSafeInteger(n) && Math.abs(n) < 1e15) return String(n);
  return String(Number(n.toPrecision(15)));
}
