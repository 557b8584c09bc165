/**
 * A compact JSON Schema validator for the keywords model-output schemas actually use. It sits
 * behind {@link SchemaValidator} so a full implementation (e.g. ajv) can replace it without
 * touching the scorer.
 *
 * Supported: type (incl. "integer" and type arrays), properties, required, additionalProperties
 * (false or a schema), items (a schema), minItems/maxItems, enum, const, minimum/maximum,
 * exclusiveMinimum/exclusiveMaximum (numeric form), minLength/maxLength (code points), pattern,
 * allOf/anyOf/oneOf/not. Annotation keywords are ignored. Any other keyword (`$ref`, `if`,
 * `patternProperties`, ...) is rejected when the scorer is built: silently ignoring a constraint
 * would let bad outputs pass.
 */
import { codePointLength } from "./text.js";

/** Checks a parsed JSON value; returns human-readable problems, empty when the value conforms. */
export interface SchemaValidator {
  validate(value: unknown): string[];
}

/** Thrown by {@link compileSchema} for a schema it cannot check faithfully. */
export class SchemaCompileError extends Error {
  override name = "SchemaCompileError";
  /** JSON-pointer-like location inside the schema, e.g. `properties.items.type`. */
  readonly at: string;
  constructor(at: string, message: string) {
    super(message);
    this.at = at;
  }
}

const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "format", // an annotation by default since draft 2019-09
]);
const SUPPORTED = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
]);
const TYPES = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);

type Check = (value: unknown, path: string, errors: string[]) => void;

/** Compiles `schema` once into a validator; throws {@link SchemaCompileError} for unsupported input. */
export function compileSchema(schema: unknown): SchemaValidator {
  const check = compile(schema, "");
  return {
    validate(value) {
      const errors: string[] = [];
      check(value, "$", errors);
      return errors;
    },
  };
}

function compile(schema: unknown, at: string): Check {
  if (schema === true) return () => {};
  if (schema === false) return (_v, path, errors) => void errors.push(`${path}: no value is allowed here`);
  if (!isObject(schema)) throw new SchemaCompileError(at, "a schema must be an object or a boolean");
  const checks: Check[] = [];
  const sub = (key: string) => (at === "" ? key : `${at}.${key}`);

  for (const key of Object.keys(schema)) {
    if (!SUPPORTED.has(key) && !ANNOTATIONS.has(key)) {
      throw new SchemaCompileError(sub(key), `keyword "${key}" is not supported by the built-in validator`);
    }
  }

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    for (const t of types) {
      if (typeof t !== "string" || !TYPES.has(t))
        throw new SchemaCompileError(sub("type"), `unknown type ${JSON.stringify(t)}`);
    }
    const wanted = types as string[];
    checks.push((v, path, errors) => {
      if (!wanted.some((t) => hasType(v, t))) errors.push(`${path}: expected ${wanted.join(" or ")}, got ${typeOf(v)}`);
    });
  }
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum)) throw new SchemaCompileError(sub("enum"), "enum must be an array");
    const options = schema.enum;
    checks.push((v, path, errors) => {
      if (!options.some((o) => deepEqual(o, v))) errors.push(`${path}: must be one of ${JSON.stringify(options)}`);
    });
  }
  if ("const" in schema) {
    const c = schema.const;
    checks.push((v, path, errors) => {
      if (!deepEqual(c, v)) errors.push(`${path}: must equal ${JSON.stringify(c)}`);
    });
  }
  addNumberChecks(schema, sub, checks);
  addStringChecks(schema, sub, checks);
  addObjectChecks(schema, sub, checks);
  addArrayChecks(schema, sub, checks);
  addCombinators(schema, sub, checks);

  return (value, path, errors) => {
    for (const c of checks) c(value, path, errors);
  };
}

function addNumberChecks(schema: Record<string, unknown>, sub: (k: string) => string, checks: Check[]): void {
  const bound = (key: string, fails: (v: number, b: number) => boolean, words: string) => {
    const b = schema[key];
    if (b === undefined) return;
    if (typeof b !== "number") throw new SchemaCompileError(sub(key), `${key} must be a number`);
    checks.push((v, path, errors) => {
      if (typeof v === "number" && fails(v, b)) errors.push(`${path}: must be ${words} ${b}, got ${v}`);
    });
  };
  bound("minimum", (v, b) => v < b, ">=");
  bound("maximum", (v, b) => v > b, "<=");
  bound("exclusiveMinimum", (v, b) => v <= b, ">");
  bound("exclusiveMaximum", (v, b) => v >= b, "<");
}

function addStringChecks(schema: Record<string, unknown>, sub: (k: string) => string, checks: Check[]): void {
  const min = nonNegativeInt(schema, "minLength", sub);
  const max = nonNegativeInt(schema, "maxLength", sub);
  if (min !== undefined || max !== undefined) {
    checks.push((v, path, errors) => {
      if (typeof v !== "string") return;
      const n = codePointLength(v);
      if (min !== undefined && n < min) errors.push(`${path}: must be at least ${min} characters, got ${n}`);
      if (max !== undefined && n > max) errors.push(`${path}: must be at most ${max} characters, got ${n}`);
    });
  }
  if (schema.pattern !== undefined) {
    if (typeof schema.pattern !== "string") throw new SchemaCompileError(sub("pattern"), "pattern must be a string");
    let re: RegExp;
    try {
      re = new RegExp(schema.pattern, "u");
    } catch (err) {
      throw new SchemaCompileError(sub("pattern"), `invalid regular expression: ${(err as Error).message}`);
    }
    checks.push((v, path, errors) => {
      if (typeof v === "string" && !re.test(v)) errors.push(`${path}: must match /${re.source}/`);
    });
  }
}

function addObjectChecks(schema: Record<string, unknown>, sub: (k: string) => string, checks: Check[]): void {
  const props = new Map<string, Check>();
  if (schema.properties !== undefined) {
    if (!isObject(schema.properties)) throw new SchemaCompileError(sub("properties"), "properties must be an object");
    for (const [k, s] of Object.entries(schema.properties)) props.set(k, compile(s, `${sub("properties")}.${k}`));
  }
  let required: string[] = [];
  if (schema.required !== undefined) {
    if (!Array.isArray(schema.required) || !schema.required.every((r) => typeof r === "string")) {
      throw new SchemaCompileError(sub("required"), "required must be an array of strings");
    }
    required = schema.required;
  }
  let additional: Check | undefined;
  if (schema.additionalProperties !== undefined) {
    additional = compile(schema.additionalProperties, sub("additionalProperties"));
  }
  if (props.size === 0 && required.length === 0 && additional === undefined) return;
  checks.push((v, path, errors) => {
    if (!isObject(v)) return;
    for (const r of required) {
      if (!Object.hasOwn(v, r)) errors.push(`${path}: missing required property "${r}"`);
    }
    for (const [k, child] of Object.entries(v)) {
      const childPath = `${path}.${k}`;
      const check = props.get(k);
      if (check !== undefined) check(child, childPath, errors);
      else if (additional !== undefined) {
        const before = errors.length;
        additional(child, childPath, errors);
        // Reword the boolean-false case: "not allowed" is what a reader needs to hear.
        if (schema.additionalProperties === false && errors.length > before) {
          errors.length = before;
          errors.push(`${path}: unexpected property "${k}"`);
        }
      }
    }
  });
}

function addArrayChecks(schema: Record<string, unknown>, sub: (k: string) => string, checks: Check[]): void {
  const items = schema.items === undefined ? undefined : compile(schema.items, sub("items"));
  const min = nonNegativeInt(schema, "minItems", sub);
  const max = nonNegativeInt(schema, "maxItems", sub);
  if (items === undefined && min === undefined && max === undefined) return;
  checks.push((v, path, errors) => {
    if (!Array.isArray(v)) return;
    if (min !== undefined && v.length < min) errors.push(`${path}: must have at least ${min} items, got ${v.length}`);
    if (max !== undefined && v.length > max) errors.push(`${path}: must have at most ${max} items, got ${v.length}`);
    if (items !== undefined) v.forEach((item, i) => items(item, `${path}[${i}]`, errors));
  });
}

function addCombinators(schema: Record<string, unknown>, sub: (k: string) => string, checks: Check[]): void {
  const list = (key: string): Check[] | undefined => {
    const s = schema[key];
    if (s === undefined) return undefined;
    if (!Array.isArray(s) || s.length === 0) throw new SchemaCompileError(sub(key), `${key} must be a non-empty array`);
    return s.map((x, i) => compile(x, `${sub(key)}[${i}]`));
  };
  const passes = (c: Check, v: unknown, path: string) => {
    const errs: string[] = [];
    c(v, path, errs);
    return errs.length === 0;
  };
  const all = list("allOf");
  if (all) checks.push((v, path, errors) => all.forEach((c) => c(v, path, errors)));
  const any = list("anyOf");
  if (any) {
    checks.push((v, path, errors) => {
      if (!any.some((c) => passes(c, v, path))) errors.push(`${path}: matches none of anyOf`);
    });
  }
  const one = list("oneOf");
  if (one) {
    checks.push((v, path, errors) => {
      const n = one.filter((c) => passes(c, v, path)).length;
      if (n !== 1) errors.push(`${path}: must match exactly one of oneOf, matched ${n}`);
    });
  }
  if (schema.not !== undefined) {
    const not = compile(schema.not, sub("not"));
    checks.push((v, path, errors) => {
      if (passes(not, v, path)) errors.push(`${path}: must not match the "not" schema`);
    });
  }
}

function nonNegativeInt(schema: Record<string, unknown>, key: string, sub: (k: string) => string): number | undefined {
  const v = schema[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new SchemaCompileError(sub(key), `${key} must be a non-negative integer`);
  }
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v);
    case "object":
      return isObject(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    default:
      return typeof v === t;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && Number.isInteger(v)) return "integer";
  return typeof v;
}

/** Structural equality for JSON values (what `enum` and `const` mean). */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
