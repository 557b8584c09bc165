/**
 * Own data in one command: turns `--dataset F --prompt question --expected answer --scorer numeric`
 * (and --id, --system, --system-column, --template) into dataset entries, guessing what was not
 * given from the file's header and first rows, and prints what it used as a snippet for a config.
 */
import { basename, extname, relative, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { parseConfig } from "../config/parse.js";
import { DatasetSpec, type ConfigInput } from "../config/schema.js";
import { checkRegularFile, readCsv, readJsonl, type RawRecord } from "../dataset/index.js";
import { uniqueDatasetNames } from "../config/rules.js";
import { DatasetError, UsageError } from "../errors.js";
import { ScorerSpec } from "../scoring/spec.js";
import type { Io } from "./io.js";

/** The own-data flags (see `ownDataOptions`). */
export interface OwnDataFlags {
  dataset?: string[] | undefined;
  prompt?: string | undefined;
  expected?: string | undefined;
  id?: string | undefined;
  system?: string | undefined;
  systemColumn?: string | undefined;
  template?: string | undefined;
  scorer?: string[] | undefined;
}

/** A dataset entry as it would appear in a config, plus what was guessed rather than given. */
export interface OwnDataset {
  /** The entry for `datasets[]`, path as typed (relative to the current folder). */
  entry: Record<string, unknown>;
  /** Absolute path of the file. */
  file: string;
  /** Human-readable notes on each guess, e.g. `prompt column "question" (guessed)`. */
  guesses: string[];
}

/** Rows looked at to guess columns and scorers. */
const SAMPLE_ROWS = 50;

const PROMPT_NAMES = [
  "prompt",
  "question",
  "input",
  "query",
  "problem",
  "instruction",
  "text",
  "content",
  "user",
  "message",
];
const EXPECTED_NAMES = [
  "expected",
  "answer",
  "output",
  "target",
  "label",
  "solution",
  "ground_truth",
  "reference",
  "gold",
  "completion",
  "response",
];
const ID_NAMES = ["id", "_id", "uid", "qid", "question_id", "task_id", "example_id", "idx", "key"];
const SYSTEM_NAMES = ["system", "system_prompt"];

/**
 * Dataset entries for every `--dataset` file. Flags win; a missing column is guessed from the
 * header; scorers default to what the expected answers look like (numbers → numeric, short
 * answers → includes, longer text → similarity), or to none when `keepGlobalScorers` (the config
 * already has global scorers, which apply to every dataset).
 */
export async function ownDatasets(
  flags: OwnDataFlags,
  options: { relativeTo?: string; keepGlobalScorers?: boolean } = {},
): Promise<OwnDataset[]> {
  const base = options.relativeTo ?? process.cwd();
  const given = (flags.scorer ?? []).map(parseScorerFlag);
  const out: OwnDataset[] = [];
  // Names key the journal: two files called qa.csv in different folders would collide and make
  // the run impossible to resume, so later ones get a suffix (and the user is told).
  const nameFor = uniqueDatasetNames();
  for (const typed of flags.dataset ?? []) {
    const file = resolve(typed);
    const { name, base: baseName } = nameFor(file);
    const sample = await sampleRows(file, typed);
    // Nothing to guess from, and nothing to run: said as plainly as for a configured dataset.
    if (sample.length === 0) throw new DatasetError("the dataset has no rows; nothing to run", { file: typed });
    const columns = [...new Set(sample.flatMap((r) => Object.keys(r.values)))];
    const guesses: string[] = [];
    const pick = (flag: string | undefined, role: string, names: string[], required: boolean): string | undefined => {
      if (flag !== undefined) {
        if (sample.length > 0 && !columns.includes(flag)) {
          throw new UsageError(
            `${typed}: no column "${flag}" (--${role}); the file has: ${columns.join(", ") || "(no columns)"}`,
          );
        }
        return flag;
      }
      const found = names.map((n) => columns.find((c) => c.toLowerCase() === n)).find((c) => c !== undefined);
      if (found !== undefined) guesses.push(`${role} column "${found}" (guessed; set with --${role})`);
      else if (required) {
        throw new UsageError(
          `${typed}: cannot tell which column is the prompt (columns: ${columns.join(", ") || "none"}); name it with --prompt COLUMN or give --template`,
        );
      }
      return found;
    };
    const prompt = flags.template === undefined ? pick(flags.prompt, "prompt", PROMPT_NAMES, true) : undefined;
    const expected = pick(flags.expected, "expected", EXPECTED_NAMES, false);
    const id = pick(flags.id, "id", ID_NAMES, false);
    const systemColumn =
      flags.systemColumn ??
      SYSTEM_NAMES.map((n) => columns.find((c) => c.toLowerCase() === n)).find((c) => c !== undefined);

    let scorers: Record<string, unknown>[];
    if (given.length > 0) scorers = given;
    else if (options.keepGlobalScorers) scorers = [];
    else {
      scorers = guessScorers(expected === undefined ? [] : sample.map((r) => r.values[expected]));
      guesses.push(
        `scorers ${scorers.map((s) => String(s.type)).join(", ")} (guessed from the ${expected === undefined ? "missing expected column" : `"${expected}" values`}; set with --scorer)`,
      );
    }

    const columnMap: Record<string, string> = {};
    if (id !== undefined && id !== "id") columnMap.id = id;
    if (prompt !== undefined && prompt !== "prompt") columnMap.prompt = prompt;
    if (systemColumn !== undefined && systemColumn !== "system") columnMap.system = systemColumn;
    if (expected !== undefined && expected !== "expected") columnMap.expected = expected;
    const entry: Record<string, unknown> = {
      ...(name !== baseName ? { name } : {}),
      path: relative(base, file).split("\\").join("/"),
    };
    if (name !== baseName)
      guesses.push(
        `name "${name}": ${typed} and an earlier dataset are both named "${baseName}" (set with "name" in a config)`,
      );
    if (Object.keys(columnMap).length > 0) entry.columns = columnMap;
    if (flags.template !== undefined) entry.template = flags.template;
    if (flags.system !== undefined) entry.system = flags.system;
    entry.scorers = scorers;
    out.push({ entry, file, guesses });
  }
  return out;
}

/**
 * Applies `--dataset` and the column flags to a loaded config (its datasets are replaced), or,
 * with no config, builds the built-in one around them. Returns what to print.
 */
export async function withOwnData(
  loaded: LoadedConfig | undefined,
  flags: OwnDataFlags,
): Promise<{ loaded: LoadedConfig; own: OwnDataset[] }> {
  const own = await ownDatasets(flags, { keepGlobalScorers: (loaded?.config.scorers.length ?? 0) > 0 });
  // No config: paths stay as typed (relative to the current folder, the built-in config's base).
  if (loaded === undefined) return { loaded: builtInConfig(own.map((o) => o.entry)), own };
  const config = structuredClone(loaded.config);
  config.datasets = own.map((o, i) => {
    const parsed = DatasetSpec.safeParse({ ...o.entry, path: o.file });
    if (!parsed.success)
      throw new UsageError(
        `--dataset ${flags.dataset![i]}: ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`,
      );
    return parsed.data;
  });
  return { loaded: { ...loaded, config }, own };
}

/** The config used when there is no config file: the two built-in emulator presets. */
export function builtInConfig(datasets: Record<string, unknown>[]): LoadedConfig {
  return parseConfig(builtInConfigInput(datasets), {
    file: "<built-in config: emulator://small and emulator://large>",
    baseDir: process.cwd(),
  });
}

/** The built-in config's content (also the base of `bakeoff init`). */
export function builtInConfigInput(datasets: Record<string, unknown>[]): ConfigInput {
  return {
    outputDir: "results",
    datasets: datasets as ConfigInput["datasets"],
    models: [
      {
        name: "small",
        endpoint: "emulator://small",
        params: { temperature: 0, seed: 7 },
        pricing: { inputPerMillion: 0.15, outputPerMillion: 0.6 },
      },
      {
        name: "large",
        endpoint: "emulator://large",
        params: { temperature: 0, seed: 7 },
        pricing: { inputPerMillion: 2.5, outputPerMillion: 10 },
      },
    ],
  };
}

/** Prints the dataset entries used, ready to paste into a config's `datasets`, with the guesses. */
export function printOwnData(own: OwnDataset[], io: Io): void {
  for (const o of own) for (const g of o.guesses) io.err(`bakeoff: ${basename(o.file)}: ${g}`);
  io.out(`Dataset settings used (paste into "datasets" in eval.config.json):`);
  io.out(compactJson(own.map((o) => o.entry)));
}

/** JSON indented like a hand-written config: objects and arrays that fit on a line stay on one. */
export function compactJson(value: unknown, indent = "", width = 100): string {
  const flat =
    JSON.stringify(value, null, 1)
      ?.replace(/\n\s*/g, " ")
      .replace(/([[{]) /g, "$1")
      .replace(/ ([\]}])/g, "$1") ?? "null";
  if (value === null || typeof value !== "object" || indent.length + flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value))
    return `[\n${value.map((v) => inner + compactJson(v, inner, width)).join(",\n")}\n${indent}]`;
  const lines = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner, width)}`);
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/**
 * `--scorer numeric`, `--scorer similarity:metric=levenshtein,threshold=0.8` or
 * `--scorer '{"type":"regex","pattern":"^A"}'`, checked against the scorer schema.
 */
export function parseScorerFlag(text: string): Record<string, unknown> {
  let raw: Record<string, unknown>;
  const t = text.trim();
  if (t.startsWith("{")) {
    try {
      raw = JSON.parse(t) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--scorer ${text}: not valid JSON (${(err as Error).message})`);
    }
  } else {
    const colon = t.indexOf(":");
    raw = { type: colon === -1 ? t : t.slice(0, colon) };
    if (colon !== -1) {
      for (const pair of t.slice(colon + 1).split(",")) {
        const eq = pair.indexOf("=");
        if (eq <= 0)
          throw new UsageError(
            `--scorer ${text}: "${pair}" is not key=value (e.g. similarity:metric=levenshtein,threshold=0.8)`,
          );
        const key = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        raw[key] = /^(-?\d+(\.\d+)?|true|false)$/.test(value) ? (JSON.parse(value) as unknown) : value;
      }
    }
  }
  const types = scorerTypes();
  if (typeof raw.type !== "string" || !types.includes(raw.type)) {
    throw new UsageError(
      `--scorer ${text}: unknown scorer type "${String(raw.type)}"; choose one of ${types.join(", ")}`,
    );
  }
  const parsed = ScorerSpec.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const keys =
        i.code === "unrecognized_keys"
          ? `unknown option ${i.keys.map((k) => `"${k}"`).join(", ")}; ${String(raw.type)} takes ${scorerKeys(raw.type as string).join(", ")}`
          : i.message;
      return `${i.path.length > 0 ? `${i.path.join(".")}: ` : ""}${keys}`;
    });
    throw new UsageError(`--scorer ${text}: ${issues.join("; ")} (options of each scorer: README "Scorers")`);
  }
  return raw;
}

/** Option names of one scorer type (besides `type`), for messages. */
function scorerKeys(type: string): string[] {
  const schema = ScorerSpec.options.find((o) => o.shape.type.value === type);
  return schema ? Object.keys(schema.shape).filter((k) => k !== "type") : [];
}

function scorerTypes(): string[] {
  return ScorerSpec.options.map((o) => String(o.shape.type.value));
}

/** Numbers (or GSM8K-style `… #### 42`) → numeric; short answers → includes; longer → similarity; none → finish_stop. */
export function guessScorers(values: unknown[]): Record<string, unknown>[] {
  const texts = values
    .filter((v) => v !== undefined && v !== null)
    .map((v) => (typeof v === "string" ? v : JSON.stringify(v)).trim())
    .filter((t) => t !== "");
  if (texts.length === 0) return [{ type: "finish_stop" }];
  const numeric = (s: string) => /^[-+]?[$€£]?\s*[\d,]*\.?\d+\s*%?$/.test(s.split("####").pop()!.trim());
  if (texts.every(numeric)) return [{ type: "numeric" }];
  const short = texts.every((s) => s.length <= 40 && s.split(/\s+/).length <= 5);
  return short ? [{ type: "includes" }] : [{ type: "similarity" }];
}

async function sampleRows(file: string, typed: string): Promise<RawRecord[]> {
  // A FIFO or a directory would block or fail obscurely here: refuse it before reading.
  try {
    await checkRegularFile(file);
  } catch (err) {
    if (err instanceof DatasetError) throw new DatasetError(err.reason, { file: typed });
    throw err;
  }
  const ext = extname(file).toLowerCase();
  let reader: AsyncGenerator<RawRecord>;
  if (ext === ".jsonl" || ext === ".ndjson") reader = readJsonl(file);
  else if (ext === ".csv" || ext === ".tsv") reader = readCsv(file, ext === ".tsv" ? { delimiter: "\t" } : {});
  else
    throw new DatasetError(`unknown dataset format "${ext || "(no extension)"}": use .jsonl, .ndjson, .csv or .tsv`, {
      file: typed,
    });
  const rows: RawRecord[] = [];
  try {
    for await (const r of reader) {
      rows.push(r);
      if (rows.length >= SAMPLE_ROWS) break;
    }
  } catch (err) {
    if (err instanceof DatasetError && err.file !== typed)
      throw new DatasetError(
        err.reason,
        { file: typed, ...(err.line !== undefined ? { line: err.line } : {}) },
        { cause: err },
      );
    throw err;
  }
  return rows;
}
