/** Locating JSON syntax errors ourselves: V8's messages differ between Node versions and often lack a position. */

/** A JSON syntax error: 0-based index into the line and a short reason. */
export interface JsonSyntaxError {
  index: number;
  reason: string;
}

/**
 * Finds the first syntax error in `s` with a small recursive-descent scan of the JSON grammar.
 * Only called after JSON.parse has failed; returns undefined if it finds nothing (or the nesting
 * is too deep to scan), and the caller falls back to V8's message.
 */
export function findJsonError(s: string): JsonSyntaxError | undefined {
  let i = 0;
  const found = (): string => (i >= s.length ? "the end of the line" : JSON.stringify(s[i]));
  const fail = (reason: string): never => {
    throw { index: i, reason } satisfies JsonSyntaxError;
  };
  const ws = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  };
  const digits = (): number => {
    const from = i;
    while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
    return i - from;
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= s.length) fail("unterminated string");
      const c = s.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 0x20) fail("control character in a string (escape it, e.g. \\n)");
      if (c === 92) {
        const e = s[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) i += 6;
        else fail("invalid escape in a string");
      } else i++;
    }
  };
  const number = (): void => {
    if (s[i] === "-") i++;
    if (s[i] === "0") i++;
    else if (digits() === 0) fail(`invalid number: expected a digit, found ${found()}`);
    if (s[i] === ".") {
      i++;
      if (digits() === 0) fail(`invalid number: expected a digit after '.', found ${found()}`);
    }
    if (s[i] === "e" || s[i] === "E") {
      i++;
      if (s[i] === "+" || s[i] === "-") i++;
      if (digits() === 0) fail(`invalid number: expected a digit in the exponent, found ${found()}`);
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === "{") {
      i++;
      ws();
      if (s[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail(`expected a double-quoted property name, found ${found()}`);
        string();
        ws();
        if (s[i] !== ":") fail(`expected ':' after the property name, found ${found()}`);
        i++;
        value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "}") {
          i++;
          return;
        } else fail(`expected ',' or '}' after a property value, found ${found()}`);
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (s[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "]") {
          i++;
          return;
        } else fail(`expected ',' or ']' after an array element, found ${found()}`);
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    for (const literal of ["true", "false", "null"]) {
      if (s.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail(`expected a JSON value, found ${found()}`);
  };

  try {
    value();
    ws();
    if (i < s.length) fail(`unexpected ${found()} after the end of the JSON value`);
    return undefined;
  } catch (err) {
    if (err instanceof RangeError) return undefined; // nesting deeper than the stack
    return err as JsonSyntaxError;
  }
}

/** 1-based line and column of a 0-based index into `text`. */
export function lineColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}
