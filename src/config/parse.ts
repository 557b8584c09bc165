/**
 * The config schema's check with zod, and its error messages: every problem reported at once as
 * `path: message (line L, column C)`. The library's `parseConfig`; `loadConfig` comes here only
 * when its zod-free check (fast-parse.ts) cannot vouch for a config, so a valid config's run does
 * not load zod at all.
 */
import { resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { ConfigSpec } from "./schema.js";
import { checkRules, findBatchOnOtherProviders, findLiteralKeys } from "./rules.js";
import { splitPath } from "./jsonc.js";
import { closestKey, knownKeysAt } from "./known-keys.js";
import type { LoadedConfig } from "./load.js";

/** Formats a zod/JSON path as `models[1].params.max_tokens`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
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
