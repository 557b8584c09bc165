/**
 * Prompt templates: `{{column}}` placeholders filled from a row's values. A template is parsed
 * once per dataset and the compiled form is a plain loop over literal/variable parts, because
 * rendering runs once per row and must stay far below the per-row CPU budget.
 */
import { DatasetError } from "../errors.js";

/** Where a row comes from, for error messages. */
export interface RowLocation {
  file: string;
  line?: number;
}

/** A template compiled by {@link compileTemplate}. */
export interface CompiledTemplate {
  /**
   * Renders the template. `values` are a row's column values (strings, or any JSON value for
   * JSONL rows); `where` names the row in the error thrown for an unknown variable.
   * @throws DatasetError naming the variable and listing the available columns.
   */
  (values: Readonly<Record<string, unknown>>, where?: RowLocation): string;
  /** Variable names in order of appearance (duplicates kept), e.g. for checking a CSV header once. */
  readonly variables: readonly string[];
}

/**
 * `{{ name }}`: any text without braces, surrounding whitespace ignored. Braces are excluded so
 * column names with spaces (`{{Best Answer}}`) work while `{{{x}}}`-style noise does not match.
 */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

interface Variable {
  name: string;
  /** `name` split on dots, for nested JSON values; undefined when the name has no dot. */
  path: string[] | undefined;
}

/**
 * Turns a raw value into prompt text: strings as they are, `null` as empty (JSON's "no value"),
 * other JSON values (numbers, booleans, objects, arrays) as compact JSON.
 * Returns undefined only for undefined (the column is absent).
 */
export function valueToText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value === undefined) return undefined;
  if (value === null) return "";
  return JSON.stringify(value);
}

/**
 * Compiles a template once. `{{name}}` looks up the column `name`; when no column has that exact
 * name and it contains dots, `{{meta.source}}` walks nested JSON objects (and arrays by index).
 * Text that is not a well-formed placeholder (`{{}}`, an unclosed `{{`) is kept literally, so
 * compiling never fails; unknown variables are reported per row, where the file and line are known.
 */
export function compileTemplate(template: string): CompiledTemplate {
  const literals: string[] = [];
  const vars: Variable[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (name === "") continue;
    literals.push(template.slice(last, match.index));
    vars.push({ name, path: name.includes(".") ? name.split(".") : undefined });
    last = match.index + match[0].length;
  }
  literals.push(template.slice(last));
  const first = literals[0] ?? "";

  const render = (values: Readonly<Record<string, unknown>>, where?: RowLocation): string => {
    let out = first;
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i]!;
      const text = valueToText(lookup(values, v));
      if (text === undefined) throw unknownVariable(v.name, values, where);
      out += text + literals[i + 1]!;
    }
    return out;
  };
  return Object.assign(render, { variables: vars.map((v) => v.name) });
}

/**
 * Renders a template against one row. Compiles on every call: for per-row use, compile once with
 * {@link compileTemplate} and call the result.
 * @throws DatasetError for a variable that is not a column, naming the file and line.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, unknown>>, where: RowLocation): string {
  return compileTemplate(template)(vars, where);
}

function lookup(values: Readonly<Record<string, unknown>>, v: Variable): unknown {
  // An exact column name wins, so a CSV header "meta.source" is not mistaken for a path.
  if (Object.hasOwn(values, v.name)) return values[v.name];
  if (v.path === undefined) return undefined;
  let cur: unknown = values;
  for (const key of v.path) {
    if (typeof cur !== "object" || cur === null || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function unknownVariable(
  name: string,
  values: Readonly<Record<string, unknown>>,
  where: RowLocation | undefined,
): DatasetError {
  const columns = Object.keys(values);
  return new DatasetError(
    `template variable {{${name}}} is not a column; columns are: ${columns.length === 0 ? "(none)" : columns.join(", ")}`,
    { file: where?.file ?? "(template)", line: where?.line },
  );
}
