/**
 * Config files are JSON with comments (JSONC, as VS Code's settings): `//` and `/* *\/` comments
 * and trailing commas are accepted in `eval.config.json` and `eval.config.jsonc` alike. Parsing is
 * jsonc-parser's (VS Code's own parser); this module turns its error codes into sentences with a
 * line and column, and finds where a JSON path sits in the text so schema problems can say so too.
 */
import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { lineColumn } from "../util/json-error.js";

const OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false } as const;

/** What each jsonc-parser error means, said for the person editing the file. */
const REASONS: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "not a valid number",
  PropertyNameExpected: "expected a key in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':' after the key",
  CommaExpected: "expected ',' between entries",
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the list",
  EndOfFileExpected: "unexpected text after the end of the config",
  InvalidCommentToken: "unexpected comment",
  UnexpectedEndOfComment: "a /* comment is not closed",
  UnexpectedEndOfString: "a string is not closed (or has a raw line break)",
  UnexpectedEndOfNumber: "a number ends too early",
  InvalidUnicode: "invalid \\u escape",
  InvalidEscapeCharacter: "invalid escape after \\",
  InvalidCharacter: "a control character inside a string (write \\n, \\t, ...)",
};

export type JsoncResult = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses JSONC; on failure, the first error as `not valid JSON at line L, column C: reason`. */
export function parseJsonc(text: string): JsoncResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const errors: ParseError[] = [];
  const value: unknown = parse(body, errors, OPTIONS);
  const first = errors[0];
  if (first === undefined) {
    if (value === undefined) return { ok: false, message: "the file is empty (expected a JSON object)" };
    return { ok: true, value };
  }
  const { line, column } = lineColumn(body, first.offset);
  const code = printParseErrorCode(first.error);
  const near = body.slice(first.offset, first.offset + Math.min(Math.max(first.length, 1), 20)).split("\n")[0];
  const more = errors.length > 1 ? ` (${errors.length - 1} more after it; fix this one first)` : "";
  return {
    ok: false,
    message: `not valid JSON at line ${line}, column ${column}: ${REASONS[code] ?? code}${near ? ` near ${JSON.stringify(near)}` : ""}${more}`,
  };
}

/** Finds where JSON paths sit in one config text (built once per file). */
export class JsoncLocator {
  private readonly root: Node | undefined;
  private readonly body: string;
  constructor(text: string) {
    this.body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    this.root = parseTree(this.body, [], OPTIONS);
  }

  /**
   * Line and column of the value at `path` (of its key, when it is an object member); of the
   * nearest enclosing value that exists when the path goes further than the file.
   */
  locate(path: readonly (string | number)[]): { line: number; column: number } | undefined {
    if (this.root === undefined) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(this.root, [...path.slice(0, n)]);
      if (node === undefined) continue;
      const at = node.parent?.type === "property" ? (node.parent.children?.[0] ?? node) : node;
      return lineColumn(this.body, at.offset);
    }
    return undefined;
  }
}

/** Splits `models[1].params.max_tokens` back into `["models", 1, "params", "max_tokens"]`. */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}
