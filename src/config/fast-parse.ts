/**
 * The config schema's check for the configs most runs have, without zod: {@link fastParseConfig}
 * returns exactly what `ConfigSpec.safeParse(raw).data` would (same values, same key order, so
 * run.json and the config hash are byte-identical), or `undefined` whenever it is not sure, and
 * the caller then parses with the zod schema, which alone writes error messages.
 *
 * Why: building the zod schemas (~60 ms of CPU), loading zod itself (a 750 KB chunk of the
 * bundle, ~30 ms) and the first, cold parse (~25 ms) were the largest item of `bakeoff run`'s
 * start-up on Node 22 after module loading (bench/startup.ts, BENCHMARKS.md "Start-up"), paid
 * before the first call by every run whose config is valid.
 *
 * The contract, checked by test/config-fast-parse.test.ts against the schema over generated valid
 * and broken configs: whatever this returns, the schema accepts and returns the same JSON text;
 * whatever the schema refuses, this returns `undefined` for. It knows a subset of the schema
 * (the keys and scorers listed below) and gives up on anything else: other scorer types, row
 * params beyond the scalar ones, `emulator`, `gates`, `decision`, `shards`, `batch` blocks, any
 * object that is not a plain JSON object. Every key it knows is checked as the schema checks it.
 * A change to the schema must be mirrored here, or the key removed from this subset; the test
 * fails until one or the other is done.
 */
import { parseDuration } from "../util/duration.js";
import type { Config } from "./schema.js";

type Obj = Record<string, unknown>;

/** Thrown inside, caught at the top: "not sure, ask zod". */
const GIVE_UP = Symbol("give up");
const giveUp = (): never => {
  throw GIVE_UP;
};

/** `raw` as the schema's output, or undefined when the zod schema must decide. */
export function fastParseConfig(raw: unknown): Config | undefined {
  try {
    return config(raw) as unknown as Config;
  } catch (err) {
    if (err === GIVE_UP) return undefined;
    throw err;
  }
}

/** A plain JSON object (no prototype tricks such as a `__proto__` key set by a parser) with only `keys`. */
function obj(v: unknown, keys: ReadonlySet<string>): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype)
    giveUp();
  for (const k in v as Obj) if (!keys.has(k)) giveUp();
  return v as Obj;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

function str(v: unknown, min = 0, max = Infinity): string {
  if (typeof v !== "string" || v.length < min || v.length > max) giveUp();
  return v as string;
}
function bool(v: unknown): boolean {
  if (typeof v !== "boolean") giveUp();
  return v as boolean;
}
/** A number within [min, max] (gt: strictly above min); `int`: a safe integer. */
function num(v: unknown, o: { min?: number; gt?: number; max?: number; int?: boolean }): number {
  if (!(o.int ? isInt(v) : isNum(v))) giveUp();
  const n = v as number;
  if ((o.min !== undefined && n < o.min) || (o.gt !== undefined && n <= o.gt) || (o.max !== undefined && n > o.max))
    giveUp();
  return n;
}
function oneOf<T extends string>(v: unknown, values: readonly T[]): T {
  if (typeof v !== "string" || !values.includes(v as T)) giveUp();
  return v as T;
}
function arr(v: unknown): unknown[] {
  if (!Array.isArray(v)) giveUp();
  return v as unknown[];
}
/** `items` checked one by one (a plain loop: holes are `undefined`, as the schema sees them). */
function each<T>(items: unknown[], check: (v: unknown) => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < items.length; i++) out.push(check(items[i]));
  return out;
}

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const identifier = (v: unknown): string => {
  const s = str(v, 1, 64);
  if (!IDENTIFIER.test(s)) giveUp();
  return s;
};
/** `Duration` in schema.ts: a string or a number that parseDuration understands; kept as written. */
const duration = (v: unknown): string | number => {
  if ((typeof v !== "string" && !isNum(v)) || parseDuration(v) === null) giveUp();
  return v as string | number;
};

/**
 * Builds the output in the schema's key order: `fields` lists every key of the object's shape in
 * order, each with its check and, for defaulted keys, the default (a function: a fresh value).
 * Absent optional keys stay absent.
 */
type Field = [key: string, check: (v: unknown) => unknown, fallback?: () => unknown];
function shaped(v: unknown, fields: readonly Field[], keys: ReadonlySet<string>): Obj {
  const input = obj(v, keys);
  const out: Obj = {};
  for (const [key, check, fallback] of fields) {
    const value = input[key];
    if (value !== undefined) out[key] = check(value);
    else if (fallback !== undefined) out[key] = fallback();
  }
  return out;
}
/** The "default" of a required key: absent, the schema reports it. */
const REQUIRED = (): never => giveUp();
const keysOf = (fields: readonly Field[]): ReadonlySet<string> => new Set(fields.map((f) => f[0]));

// ---- config ----------------------------------------------------------------------------------

const COLUMNS: readonly Field[] = [
  ["id", (v) => str(v), () => "id"],
  ["prompt", (v) => str(v), () => "prompt"],
  ["system", (v) => str(v), () => "system"],
  ["expected", (v) => str(v), () => "expected"],
  ["messages", (v) => str(v)],
  ["params", (v) => str(v)],
];
const COLUMN_KEYS = keysOf(COLUMNS);

const NORMALISE: readonly Field[] = [
  ["caseSensitive", bool, () => false],
  ["trim", bool, () => true],
  ["collapseWhitespace", bool, () => true],
  ["stripPunctuation", bool, () => false],
];
const SCORER_NAME = /^[A-Za-z0-9_.-]+$/;
const scorerName = (v: unknown): string => {
  const s = str(v);
  if (!SCORER_NAME.test(s)) giveUp();
  return s;
};
const REGEX_FLAGS = /^[dgimsuvy]*$/;
/** The built-in scorers this module knows, by type: each one's shape after `type`. */
const SCORERS: Record<string, readonly Field[]> = {
  exact: [["name", scorerName], ["value", (v) => str(v)], ...NORMALISE],
  includes: [["name", scorerName], ["value", (v) => str(v)], ...NORMALISE],
  not_includes: [["name", scorerName], ["value", (v) => str(v)], ...NORMALISE],
  starts_with: [["name", scorerName], ["value", (v) => str(v)], ...NORMALISE],
  regex: [
    ["name", scorerName],
    ["pattern", (v) => str(v), REQUIRED],
    [
      "flags",
      (v) => {
        const s = str(v);
        if (!REGEX_FLAGS.test(s)) giveUp();
        return s;
      },
      () => "",
    ],
  ],
  numeric: [
    ["name", scorerName],
    ["tolerance", (v) => num(v, { min: 0 }), () => 0],
  ],
  json_valid: [["name", scorerName]],
  similarity: [
    ["name", scorerName],
    ["metric", (v) => oneOf(v, ["token_f1", "levenshtein"]), () => "token_f1"],
    ["threshold", (v) => num(v, { min: 0, max: 1 })],
  ],
  length: [
    ["name", scorerName],
    ["min", (v) => num(v, { min: 0, int: true })],
    ["max", (v) => num(v, { gt: 0, int: true })],
    ["unit", (v) => oneOf(v, ["chars", "words"]), () => "chars"],
  ],
  finish_stop: [["name", scorerName]],
  latency: [
    ["name", scorerName],
    ["maxMs", (v) => num(v, { gt: 0 }), REQUIRED],
  ],
};
const SCORER_FIELDS = Object.fromEntries(
  Object.entries(SCORERS).map(([type, fields]) => [type, [["type", () => type], ...fields] as readonly Field[]]),
);
const SCORER_KEYS = Object.fromEntries(Object.entries(SCORER_FIELDS).map(([t, f]) => [t, keysOf(f)]));
function scorer(v: unknown): Obj {
  const type = (v as Obj | null)?.type;
  if (typeof type !== "string" || !Object.hasOwn(SCORERS, type)) giveUp();
  return shaped(v, SCORER_FIELDS[type as string]!, SCORER_KEYS[type as string]!);
}
const scorers = (v: unknown): Obj[] => each(arr(v), scorer);

const DATASET: readonly Field[] = [
  ["name", identifier],
  ["path", (v) => str(v, 1), REQUIRED],
  ["format", (v) => oneOf(v, ["csv", "jsonl"])],
  ["delimiter", (v) => str(v, 1, 4)],
  [
    "columns",
    (v) => shaped(v, COLUMNS, COLUMN_KEYS),
    () => ({ id: "id", prompt: "prompt", system: "system", expected: "expected" }),
  ],
  ["template", (v) => str(v)],
  ["system", (v) => str(v)],
  // `params` (tools, response_format, …): left to the schema.
  ["scorers", scorers, () => []],
  ["limit", (v) => num(v, { gt: 0, int: true })],
  ["maxPromptChars", (v) => num(v, { gt: 0, int: true }), () => 100_000],
];
const DATASET_KEYS = keysOf(DATASET);

/** The scalar generation parameters; response_format, tools and tool_choice are left to the schema. */
const PARAMS: readonly Field[] = [
  ["temperature", (v) => num(v, { min: 0, max: 2 })],
  ["top_p", (v) => num(v, { min: 0, max: 1 })],
  ["max_tokens", (v) => num(v, { gt: 0, int: true })],
  ["seed", (v) => num(v, { int: true })],
  [
    "stop",
    (v) => {
      const list = arr(v);
      if (list.length > 4) giveUp();
      return each(list, (s) => str(s));
    },
  ],
  ["presence_penalty", (v) => num(v, { min: -2, max: 2 })],
  ["frequency_penalty", (v) => num(v, { min: -2, max: 2 })],
];
const PARAM_KEYS = keysOf(PARAMS);

const PRICING: readonly Field[] = [
  ["inputPerMillion", (v) => num(v, { min: 0 }), REQUIRED],
  ["outputPerMillion", (v) => num(v, { min: 0 }), REQUIRED],
  ["cachedInputPerMillion", (v) => num(v, { min: 0 })],
  ["batchDiscount", (v) => num(v, { min: 0, max: 1 })],
  ["currency", (v) => str(v), () => "USD"],
];
const PRICING_KEYS = keysOf(PRICING);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODEL_COMMON: readonly Field[] = [
  ["name", identifier, REQUIRED],
  ["endpoint", (v) => str(v, 1), REQUIRED],
  ["model", (v) => str(v)],
  [
    "apiKeyEnv",
    (v) => {
      const s = str(v);
      if (!ENV_NAME.test(s)) giveUp();
      return s;
    },
  ],
  ["auth", (v) => oneOf(v, ["key", "entra"]), () => "key"],
  ["stream", bool, () => false],
  ["params", (v) => shaped(v, PARAMS, PARAM_KEYS), () => ({})],
  ["concurrency", (v) => num(v, { gt: 0, int: true })],
  ["adaptive", bool, () => true],
  ["rpm", (v) => num(v, { gt: 0, int: true })],
  ["tpm", (v) => num(v, { gt: 0, int: true })],
  ["timeoutMs", (v) => num(v, { gt: 0, int: true }), () => 120_000],
  ["pricing", (v) => shaped(v, PRICING, PRICING_KEYS)],
];
const AZURE: readonly Field[] = [
  ["provider", () => "azure-ai-inference", () => "azure-ai-inference"],
  ...MODEL_COMMON,
  ["apiVersion", (v) => str(v)],
  ["extraParameters", (v) => oneOf(v, ["error", "drop", "pass-through"])],
];
const OPENAI: readonly Field[] = [
  ["provider", () => "openai"],
  ...MODEL_COMMON,
  ["api", (v) => oneOf(v, ["chat", "responses"]), () => "chat"],
  ["batch", bool],
  ["batchModel", (v) => str(v, 1)],
];
const AZURE_KEYS = keysOf(AZURE);
const OPENAI_KEYS = keysOf(OPENAI);
function model(v: unknown): Obj {
  const provider = (v as Obj | null)?.provider;
  if (provider === undefined || provider === "azure-ai-inference") return shaped(v, AZURE, AZURE_KEYS);
  if (provider === "openai") return shaped(v, OPENAI, OPENAI_KEYS);
  return giveUp();
}

const RETRY: readonly Field[] = [
  ["maxAttempts", (v) => num(v, { min: 1, max: 20, int: true }), () => 5],
  ["baseDelayMs", (v) => num(v, { min: 0, int: true }), () => 500],
  ["maxDelayMs", (v) => num(v, { min: 0, int: true }), () => 30_000],
  ["maxRetryAfterMs", (v) => num(v, { min: 0, int: true }), () => 60_000],
];
const RETRY_KEYS = keysOf(RETRY);

const WEAVE_PROJECT = /^[^/\s]+\/[^/\s]+$/;
const WEAVE: readonly Field[] = [
  [
    "project",
    (v) => {
      const s = str(v);
      if (!WEAVE_PROJECT.test(s)) giveUp();
      return s;
    },
  ],
  ["enabled", bool, () => true],
  ["flushTimeoutSec", (v) => num(v, { gt: 0 }), () => 60],
];
const WEAVE_KEYS = keysOf(WEAVE);

/** `emulator` without the block: the schema's prefault, i.e. the two presets parsed. */
function presetEmulator(): Obj {
  const batch = () => ({ maxLines: 100_000, faults: [], liveFaults: false });
  return {
    models: {
      small: {
        accuracy: 0.75,
        style: "terse",
        latency: { medianMs: 30, p95Ms: 90, perTokenMs: 0 },
        modelName: "emulated-small",
        provider: "bakeoff-emulator",
        faults: [],
        batch: batch(),
      },
      large: {
        accuracy: 0.95,
        style: "steps",
        latency: { medianMs: 80, p95Ms: 220, perTokenMs: 1 },
        modelName: "emulated-large",
        provider: "bakeoff-emulator",
        faults: [],
        batch: batch(),
      },
    },
  };
}

const nonEmptyList = (item: (v: unknown) => Obj) => (v: unknown) => {
  const list = arr(v);
  if (list.length === 0) giveUp();
  return each(list, item);
};

const CONFIG: readonly Field[] = [
  ["$schema", (v) => str(v)],
  ["outputDir", (v) => str(v), () => "results"],
  ["concurrency", (v) => num(v, { gt: 0, max: 1024, int: true }), () => 8],
  ["trials", (v) => num(v, { gt: 0, max: 100, int: true }), () => 1],
  ["datasets", nonEmptyList((v) => shaped(v, DATASET, DATASET_KEYS)), REQUIRED],
  ["models", nonEmptyList(model), REQUIRED],
  ["scorers", scorers, () => []],
  [
    "retry",
    (v) => shaped(v, RETRY, RETRY_KEYS),
    () => ({ maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 }),
  ],
  ["emulator", giveUp, presetEmulator],
  ["weave", (v) => shaped(v, WEAVE, WEAVE_KEYS), () => ({ enabled: true, flushTimeoutSec: 60 })],
  ["deadline", duration],
  ["giveUpAfter", duration, () => "10m"],
  ["maxResponseBytes", (v) => num(v, { gt: 0, int: true }), () => 10 * 1024 * 1024],
  ["gates", (v) => (arr(v).length === 0 ? [] : giveUp()), () => []],
  [
    "decision",
    giveUp,
    () => ({ margin: 5, maxErrorRate: 0.05, costMatters: true, alpha: 0.05, minBaselineMatch: 0.9 }),
  ],
  ["shards", giveUp],
  ["batch", giveUp],
];
const CONFIG_KEYS = keysOf(CONFIG);

function config(raw: unknown): Obj {
  return shaped(raw, CONFIG, CONFIG_KEYS);
}
