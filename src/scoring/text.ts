/**
 * Text helpers shared by the string scorers: configurable normalisation, SQuAD-style token F1 and
 * normalised Levenshtein similarity. All functions are pure and allocation-light because they run
 * once per result.
 */

/** How two strings are made comparable before a string scorer looks at them. */
export interface NormaliseOptions {
  caseSensitive: boolean;
  trim: boolean;
  collapseWhitespace: boolean;
  /** Drop every Unicode punctuation character (`\p{P}`), so `«Paris»` and `Paris.` both become `Paris`. */
  stripPunctuation: boolean;
}

// \p{P} covers ASCII and non-ASCII punctuation alike (。、«»—¿); symbols such as `$` or `+` are
// kept because they often carry meaning in answers.
const PUNCTUATION = /\p{P}+/gu;
const WHITESPACE = /\s+/gu;

/**
 * Applies `opts` to `text`. NFC normalisation is always applied so that a precomposed `é` and `e`
 * plus a combining accent compare equal; models and dataset files disagree on this often.
 */
export function normalise(text: string, opts: NormaliseOptions): string {
  let s = text.normalize("NFC");
  if (opts.stripPunctuation) s = s.replace(PUNCTUATION, "");
  if (!opts.caseSensitive) s = s.toLowerCase();
  if (opts.collapseWhitespace) s = s.replace(WHITESPACE, " ");
  if (opts.trim) s = s.trim();
  return s;
}

const ARTICLES = /\b(?:a|an|the)\b/gu;

/**
 * SQuAD answer normalisation: lower case, drop punctuation, drop English articles, collapse
 * whitespace. Returns the tokens.
 */
export function squadTokens(text: string): string[] {
  const s = text.normalize("NFC").toLowerCase().replace(PUNCTUATION, " ").replace(ARTICLES, " ").trim();
  return s === "" ? [] : s.split(WHITESPACE);
}

/**
 * Token-overlap F1 between a prediction and a reference, as in the SQuAD evaluation script.
 * Two empty answers agree (1); one empty answer scores 0.
 */
export function tokenF1(prediction: string, reference: string): number {
  const pred = squadTokens(prediction);
  const ref = squadTokens(reference);
  if (pred.length === 0 || ref.length === 0) return pred.length === ref.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of ref) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of pred) {
    const c = counts.get(t);
    if (c !== undefined && c > 0) {
      common++;
      counts.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / pred.length;
  const recall = common / ref.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * Levenshtein edit distance counted in code points (so an emoji is one edit, not two).
 * Cost is O(n·m) time and O(min(n, m)) memory after the shared prefix and suffix are removed:
 * roughly 4–7 ns per cell, so a 600-character answer against a 30-character reference costs
 * ~0.1 ms but 2,000 × 200 characters costs ~1.6 ms. It is meant for short answers; for long
 * texts prefer token_f1, which is linear.
 */
export function levenshtein(a: string, b: string): number {
  let x = codePoints(a);
  let y = codePoints(b);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) {
    endX--;
    endY--;
  }
  x = x.subarray(start, endX);
  y = y.subarray(start, endY);
  if (x.length < y.length) [x, y] = [y, x];
  const m = y.length;
  if (m === 0) return x.length;
  // One rolling row over the shorter string; `diag` holds the previous row's left neighbour.
  const row = new Uint32Array(m + 1);
  for (let j = 0; j <= m; j++) row[j] = j;
  for (let i = 1; i <= x.length; i++) {
    const xi = x[i - 1];
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= m; j++) {
      const up = row[j]!;
      const sub = diag + (xi === y[j - 1] ? 0 : 1);
      const del = up + 1;
      const ins = row[j - 1]! + 1;
      row[j] = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
      diag = up;
    }
  }
  return row[m]!;
}

function codePoints(text: string): Uint32Array {
  const out = new Uint32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    out[n++] = c;
    if (c > 0xffff) i++; // skip the low surrogate just consumed
  }
  return out.subarray(0, n);
}

/** `1 - distance / max(length)`, in 0..1; two empty strings are identical (1). */
export function levenshteinSimilarity(a: string, b: string): number {
  const max = Math.max(codePointLength(a), codePointLength(b));
  return max === 0 ? 1 : 1 - levenshtein(a, b) / max;
}

/** Number of Unicode code points (what a person counts as characters, near enough). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Count every unit except the low half of a surrogate pair.
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Number of whitespace-separated words. */
export function wordCount(text: string): number {
  const s = text.trim();
  return s === "" ? 0 : s.split(WHITESPACE).length;
}
