/**
 * Reads eval.config.json, validates it against the schema and the cross-field rules, and returns
 * it typed, with every problem reported at once as `path: message`.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { ConfigSpec, type Config } from "./schema.js";
import { findJsonError, lineColumn } from "../util/json-error.js";
import { checkRules, findLiteralKeys } from "./rules.js";

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file ("<inline>" for configs built in code). */
  file: string;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
}

/** Formats a zod/JSON path as `models[1].params.max_tokens`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found. Create it (see README.md, 'Config reference') or pass --config PATH."
        : `cannot read it (${code ?? String(err)}).`;
    throw new ConfigError(file, [{ path: "", message: why }], { cause: err });
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Comments and trailing commas are allowed (`bakeoff init` writes a commented config).
  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(body, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  if (errors.length > 0) {
    const first = errors[0]!;
    const { line, column } = lineColumn(body, first.offset);
    throw new ConfigError(file, [{ path: "", message: `not valid JSON at line ${line}, column ${column}: ${printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}` }]);
  }
  return parseConfig(raw, { file, baseDir: dirname(abs) });
}

/** Validates an already-parsed config object (also the library entry point for configs in code). */
export function parseConfig(raw: unknown, where: { file?: string; baseDir?: string } = {}): LoadedConfig {
  const file = where.file ?? "<inline config>";
  const issues: ConfigIssue[] = findLiteralKeys(raw);
  const parsed = ConfigSpec.safeParse(raw);
  if (!parsed.success) {
    issues.push(...parsed.error.issues.filter((i) => !isLiteralKeyNoise(i, issues)).map(toIssue));
    throw new ConfigError(file, issues);
  }
  issues.push(...checkRules(parsed.data));
  if (issues.length > 0) throw new ConfigError(file, issues);
  return { config: parsed.data, file: where.file ? resolve(where.file) : file, baseDir: where.baseDir ?? process.cwd() };
}

function toIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return { path, message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling; see eval.config.schema.json)` };
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    return { path, message: issue.message };
  }
  return { path, message: issue.message };
}

/** A literal key is already reported with a better message than "unknown key". */
function isLiteralKeyNoise(issue: z.core.$ZodIssue, found: ConfigIssue[]): boolean {
  if (issue.code !== "unrecognized_keys") return false;
  const path = formatPath(issue.path);
  return issue.keys.every((k) => found.some((f) => f.path === (path === "" ? k : `${path}.${k}`)));
}

/** Where the JSON is broken, as line and column, whatever the Node version's message says. */
export function describeJsonError(text: string, err: unknown): string {
  const found = findJsonError(text);
  if (!found) return `not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  const { line, column } = lineColumn(text, found.index);
  return `not valid JSON at line ${line}, column ${column}: ${found.reason}`;
}
