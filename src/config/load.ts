/**
 * Reads eval.config.json (JSON with comments and trailing commas; `.jsonc` too), validates it
 * against the schema and the cross-field rules, and returns it typed, with every problem reported
 * at once as `path: message (line L, column C)` (parse.ts).
 *
 * zod is not imported here: a config the zod-free check vouches for (fast-parse.ts: the schema's
 * exact output, or nothing) is returned without it; any other goes through the schema, which
 * writes the messages. Keep it so: importing zod or the schemas here costs every run ~100 ms of
 * CPU before its first call (test/cli-conventions.test.ts checks that a run loads no zod).
 */
import { access, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import type { Config } from "./schema.js";
import { findJsonError, lineColumn } from "../util/json-error.js";
import { checkRules, findBatchOnOtherProviders, findLiteralKeys } from "./rules.js";
import { fastParseConfig } from "./fast-parse.js";
import { JsoncLocator, parseJsonc } from "./jsonc.js";

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file ("<inline>" for configs built in code). */
  file: string;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
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
  const baseDir = dirname(abs);
  const fast = withoutZod(parsed.value, shown, baseDir);
  if (fast !== undefined) return fast;
  // Positions are needed only for messages: the tree is built when a problem is reported.
  let locator: JsoncLocator | undefined;
  const { parseConfig } = await import("./parse.js");
  return parseConfig(parsed.value, {
    file: shown,
    baseDir,
    locate: (path) => (locator ??= new JsoncLocator(text)).locate(path),
  });
}

/**
 * The loaded config when fast-parse.ts vouches for it and it breaks no rule; undefined when the
 * schema must decide (and then report the problems, with the same checks as here).
 */
function withoutZod(raw: unknown, file: string, baseDir: string): LoadedConfig | undefined {
  if (findLiteralKeys(raw).length > 0 || findBatchOnOtherProviders(raw).length > 0) return undefined;
  const config = fastParseConfig(raw);
  if (config === undefined || checkRules(config).length > 0) return undefined;
  return { config, file: resolve(file), baseDir };
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

/** Where the JSON is broken, as line and column, whatever the Node version's message says. */
export function describeJsonError(text: string, err: unknown): string {
  const found = findJsonError(text);
  if (!found) return `not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  const { line, column } = lineColumn(text, found.index);
  return `not valid JSON at line ${line}, column ${column}: ${found.reason}`;
}
