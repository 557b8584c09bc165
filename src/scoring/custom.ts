/**
 * `custom` scorers: a user's own function, exported by a .js/.mjs/.cjs module (or a .ts one when a
 * TypeScript loader is available), loaded by path when the run is planned so that a missing file,
 * a missing export or a syntax error stops the run before anything is spent.
 */
import { access } from "node:fs/promises";
import { createRequire } from "node:module";
import { extname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ChatMessage, Completion, Score } from "../types.js";
import { ScorerSpecIssue, type ScoreInput } from "./scorers.js";
import type { CustomScorerSpec } from "./spec.js";

/** What a custom scorer receives for one result. */
export interface CustomScorerInput {
  /** The model's output text (`null` when it sent no content). */
  output: string | null;
  /** The row's expected answer, when the dataset maps one. */
  expected?: string;
  /**
   * The row: id, every column, and the messages sent. `id` is "" and `messages` empty when the
   * caller scoring the result did not pass the row.
   */
  row: { id: string; vars: Record<string, string>; messages: readonly ChatMessage[] };
  /** The whole call: finish reason, usage, latency, attempts. */
  completion: Completion;
  /** The spec's `options`, as written in the config. */
  options?: Record<string, unknown>;
}

/**
 * What a custom scorer returns: a number (the score's value), a boolean (value 1 or 0, and
 * pass/fail), or a full {@link Score}. It may be async. Throwing records a scorer error for that
 * row only; the run carries on.
 */
export type CustomScorerResult = number | boolean | Score;

/**
 * A custom scorer function, exported from the module named by a `custom` scorer spec:
 *
 * ```ts
 * import type { CustomScorer } from "bakeoff-eval";
 * const polite: CustomScorer = ({ output }) => /please|thank/i.test(output ?? "");
 * export default polite;
 * ```
 */
export type CustomScorer = (input: CustomScorerInput) => CustomScorerResult | Promise<CustomScorerResult>;

const TYPESCRIPT = new Set([".ts", ".mts", ".cts"]);

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The module's exports. A module compiled to CommonJS arrives wrapped: tsx compiles a .ts file
 * outside a `"type": "module"` package to CommonJS, and Node then hands its whole `exports`
 * object over as the default export, marked `__esModule`.
 */
function exportsOf(ns: Record<string, unknown>): Record<string, unknown> {
  const inner = ns.default;
  return isRecord(inner) && inner.__esModule === true ? inner : ns;
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

type TsImport = (specifier: string, parentURL: string) => Promise<unknown>;

/**
 * tsx's scoped importer, from bakeoff's own dependencies or else from the user's project (the
 * config's directory): a project that writes .ts scorers usually has tsx already.
 */
async function findTsx(baseDir: string): Promise<TsImport | undefined> {
  const candidates: (() => Promise<unknown>)[] = [
    () => import("tsx/esm/api"),
    () => import(pathToFileURL(createRequire(join(baseDir, "noop.js")).resolve("tsx/esm/api")).href),
  ];
  for (const load of candidates) {
    try {
      const api = (await load()) as { tsImport?: unknown };
      if (typeof api.tsImport === "function") return api.tsImport as TsImport;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return undefined;
}

/** Whether this Node runs .ts files itself (type stripping: flag from 22.6, default from 23.6). */
function nodeStripsTypes(): boolean {
  const features = process.features as { typescript?: unknown };
  return Boolean(features.typescript) || process.execArgv.some((a) => a.startsWith("--experimental-strip-types"));
}

/**
 * Imports a module by absolute path. TypeScript goes through tsx when it can be found (it
 * understands all of TypeScript), else through Node's own type stripping, else fails with a
 * message saying how to enable it.
 */
async function importModule(abs: string, baseDir: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(abs).href;
  if (!TYPESCRIPT.has(extname(abs).toLowerCase())) return (await import(url)) as Record<string, unknown>;
  const tsImport = await findTsx(baseDir);
  if (tsImport !== undefined) return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  if (nodeStripsTypes()) return (await import(url)) as Record<string, unknown>;
  throw new ScorerSpecIssue(
    "module",
    `cannot load a TypeScript scorer on Node ${process.versions.node} without a loader: install tsx in your project ` +
      `(npm install --save-dev tsx), use Node 23.6+ (or 22.6+ with --experimental-strip-types), or compile the scorer to .js`,
  );
}

/**
 * Loads the function a `custom` spec names.
 * @param baseDir directory a relative `module` path is resolved against (the config file's)
 * @throws ScorerSpecIssue at `module` (file not found, syntax error, failing top-level code) or
 *   `export` (no such export, not a function)
 */
export async function loadCustomScorer(spec: CustomScorerSpec, baseDir: string): Promise<CustomScorer> {
  const abs = isAbsolute(spec.module) ? spec.module : resolve(baseDir, spec.module);
  try {
    await access(abs);
  } catch {
    throw new ScorerSpecIssue("module", `file not found: ${abs}`);
  }
  let ns: Record<string, unknown>;
  try {
    ns = await importModule(abs, baseDir);
  } catch (err) {
    if (err instanceof ScorerSpecIssue) throw err;
    throw new ScorerSpecIssue("module", `cannot load ${spec.module}: ${messageOf(err)}`);
  }
  const exported = exportsOf(ns);
  const fn = exported[spec.export];
  if (fn === undefined) {
    const names = Object.keys(exported).filter((k) => k !== "__esModule" && k !== "module.exports");
    const has = names.length === 0 ? "it has no exports" : `it exports: ${names.join(", ")}`;
    throw new ScorerSpecIssue("export", `${spec.module} has no export "${spec.export}"; ${has}`);
  }
  if (typeof fn !== "function") {
    throw new ScorerSpecIssue(
      "export",
      `"${spec.export}" in ${spec.module} is ${fn === null ? "null" : `a ${typeof fn}`}, not a function`,
    );
  }
  // The module may declare what its scores are (`export const kind = "binary"`, or a `kind`
  // property on the function). The config's `kind` wins; a declared one is written into the
  // spec so run.json's config snapshot carries it to the report.
  const declared = (fn as { kind?: unknown }).kind ?? exported.kind;
  if (declared !== undefined) {
    if (declared !== "binary" && declared !== "continuous" && declared !== "scale") {
      throw new ScorerSpecIssue(
        "export",
        `${spec.module} declares kind ${JSON.stringify(declared)}; use "binary", "continuous" or "scale"`,
      );
    }
    if (spec.kind === undefined) spec.kind = declared;
  }
  return fn as CustomScorer;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "undefined" ? "undefined" : `a ${typeof v}`;
}

const SCORE_HINT = "return a number, a boolean or {value, pass?, reason?}";

/**
 * Turns what a custom scorer returned into a {@link Score}: numbers become the value, booleans
 * value 1/0 with pass, and score objects are checked field by field and copied (only the known
 * fields: a scorer cannot forge a judge's `call` record). Anything else is a scorer error.
 */
export function toScore(result: unknown): Score {
  if (typeof result === "boolean") return { value: result ? 1 : 0, pass: result };
  if (typeof result === "number") {
    return Number.isFinite(result)
      ? { value: result }
      : { value: null, error: `scorer returned ${result}, not a finite number` };
  }
  if (!isRecord(result)) return { value: null, error: `scorer returned ${describe(result)}; ${SCORE_HINT}` };
  const { value, pass, reason, error } = result;
  const problems: string[] = [];
  if (value !== null && (typeof value !== "number" || !Number.isFinite(value)))
    problems.push(
      `value is ${describe(value)}${typeof value === "number" ? ` (${value})` : ""}, not a finite number or null`,
    );
  if (pass !== undefined && typeof pass !== "boolean") problems.push(`pass is ${describe(pass)}, not a boolean`);
  if (reason !== undefined && typeof reason !== "string") problems.push(`reason is ${describe(reason)}, not a string`);
  if (error !== undefined && typeof error !== "string") problems.push(`error is ${describe(error)}, not a string`);
  if (problems.length > 0) return { value: null, error: `scorer returned an invalid score: ${problems.join("; ")}` };
  return {
    value: value as number | null,
    ...(pass === undefined ? {} : { pass: pass as boolean }),
    ...(reason === undefined ? {} : { reason: reason as string }),
    ...(error === undefined ? {} : { error: error as string }),
  };
}

/** Wraps a loaded custom function as a score function. Throws propagate (scoreAll records them). */
export function compileCustom(
  spec: CustomScorerSpec,
  fn: CustomScorer,
): (input: ScoreInput & { row?: { id: string; messages: readonly ChatMessage[] } }) => Promise<Score> {
  return async (input) => {
    const result = await fn({
      output: input.output.text,
      ...(input.expected === undefined ? {} : { expected: input.expected }),
      row: { id: input.row?.id ?? "", vars: input.vars, messages: input.row?.messages ?? [] },
      completion: input.output,
      ...(spec.options === undefined ? {} : { options: spec.options }),
    });
    return toScore(result);
  };
}
