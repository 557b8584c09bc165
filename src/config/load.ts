/**
 * Reads eval.config.json (JSON with comments and trailing commas; `.jsonc` too), validates it
 * against the schema and the cross-field rules, and returns it typed, with every problem reported
 * at once as `path: message (line L, column C)`.
 */
import { access, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { ConfigSpec, type Config } from "./schema.js";
import { findJsonError, lineColumn } from "../util/json-error.js";
import { checkRules, findBatchOnOtherProviders, findLiteralKeys } from "./rules.js";
import { JsoncLocator, parseJsonc, splitPath } from "./jsonc.js";
import { closestKey, knownKeysAt } from "./known-keys.js";

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
  const abs = await withJsoncFallback(resolve(file));
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
  const shown = abs === resolve(file) ? file : `${file.slice(0, -".json".length)}.jsonc`;
  const parsed = parseJsonc(text);
  if (!parsed.ok) throw new ConfigError(shown, [{ path: "", message: parsed.message }]);
  const locator = new JsoncLocator(text);
  return parseConfig(parsed.value, { file: shown, baseDir: dirname(abs), locate: (path) => locator.locate(path) });
}

/** `eval.config.json` that does not exist, beside an `eval.config.jsonc` that does: that one. */
async function withJsoncFallback(abs: string): Promise<string> {
  if (!abs.endsWith(".json")) return abs;
  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );
  return !(await exists(abs)) && (await exists(`${abs}c`)) ? `${abs}c` : abs;
}

/** Validates an already-parsed config object (also the library entry point for configs in code). */
export function parseConfig(
  raw: unknown,
  where: {
    file?: string;
    baseDir?: string;
    /** Where a JSON path sits in the source text, so each problem can name its line and column. */
    locate?: (path: readonly (string | number)[]) => { line: number; column: number } | undefined;
  } = {},
): LoadedConfig {
  const file = where.file ?? "<inline config>";
  const issues: ConfigIssue[] = [...findLiteralKeys(raw), ...findBatchOnOtherProviders(raw)];
  const fail = (): never => {
    const locate = where.locate;
    throw new ConfigError(file, locate ? issues.map((i) => ({ ...locate(splitPath(i.path)), ...i })) : issues);
  };
  const parsed = ConfigSpec.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (isLiteralKeyNoise(issue, issues)) continue;
      issues.push(...toIssues(issue, raw));
    }
    return fail();
  }
  issues.push(...checkRules(parsed.data));
  if (issues.length > 0) return fail();
  return {
    config: parsed.data,
    file: where.file ? resolve(where.file) : file,
    baseDir: where.baseDir ?? process.cwd(),
  };
}

/** One issue per zod issue, except unknown keys: one per key, so each gets its own line and column. */
function toIssues(issue: z.core.$ZodIssue, raw: unknown): ConfigIssue[] {
  if (issue.code !== "unrecognized_keys") return [toIssue(issue)];
  const known = knownKeysAt(ConfigSpec, issue.path, raw);
  return issue.keys.map((key) => {
    const path = formatPath([...issue.path, key]);
    if (known === undefined) return { path, message: `unknown key "${key}" (see eval.config.schema.json)` };
    const near = closestKey(key, known);
    const where = issue.path.length === 0 ? "at the top level" : `in ${formatPath(issue.path)}`;
    return {
      path,
      message: `unknown key "${key}"${near ? `: did you mean "${near}"?` : ""} Valid keys ${where}: ${known.join(", ")}`,
    };
  });
}

function toIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = formatPath(issue.path);
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
