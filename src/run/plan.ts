/**
 * Turns a loaded config plus command-line choices into a run plan, checking everything that can
 * be checked before a single model is called: model names, keys in the environment, every
 * dataset row, scorer definitions. Bad input fails here, with exit code 2 and nothing spent.
 */
import { isAbsolute, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import { datasetName, isEmulatorEndpoint, uniqueDatasetNames } from "../config/rules.js";
import type { Config, DatasetSpec, ModelSpec } from "../config/schema.js";
import { checkDataset, hashDataset, validateDataset, type SkippedRow } from "../dataset/index.js";
import type { Shard } from "../dataset/shard.js";
import { DatasetError, DatasetProblemsError, UsageError } from "../errors.js";
import { JudgeModels, loadScorers, type Scorer } from "../scoring/index.js";

export interface PlannedDataset {
  name: string;
  /** The spec with `path` resolved to an absolute path. */
  spec: DatasetSpec;
  /** Path as the user wrote it (config-relative or as typed on the command line). */
  displayPath: string;
  sha256: string;
  /** Usable rows this run sends (those of its shard, in a shard run). */
  rows: number;
  skipped: number;
  scorers: Scorer[];
  /** Position in the config's `datasets`, for messages such as `datasets[1].columns.prompt`. */
  index: number;
}

export interface RunPlan {
  /** The effective config: datasets replaced / models narrowed / overrides applied. */
  config: Config;
  configFile?: string;
  baseDir: string;
  datasets: PlannedDataset[];
  models: ModelSpec[];
  /** Keys by model name; emulated models without a key variable get a placeholder. */
  keys: Map<string, string>;
  trials: number;
  concurrency: number;
  /** Rows left out by `skipInvalidRows`, with their reason (the first {@link MAX_KEPT_SKIPS}). */
  skippedRows: SkippedRow[];
  /** Models used by `llm_judge` scorers; the runner connects them once the emulator is up. */
  judges: JudgeModels;
  /** Things the user should be told before the run starts (datasets renamed to stay distinct). */
  notices: string[];
  /**
   * The slice of the plan this run sends (`--shard i/n`), with the rpm/tpm budgets the models
   * were given (divided by n unless `shards.divideLimits` is false). `config` stays the whole
   * plan's, so every shard of one plan records the same config hash.
   */
  shard?: Shard & { limits: Record<string, { rpm?: number; tpm?: number }> };
}

/** Skipped rows kept in memory for skipped.jsonl; the count beyond is in each dataset's `skipped`. */
export const MAX_KEPT_SKIPS = 10_000;

export interface PlanOptions {
  /** Replace the configured datasets with these files (conventional column names). */
  datasetFiles?: string[];
  /** Only these models, by name. */
  models?: string[];
  concurrency?: number;
  trials?: number;
  limit?: number;
  /** Send every `openai` model's calls through the Batch API (`bakeoff run --batch`). */
  batch?: boolean;
  skipInvalidRows?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * Read every dataset through and throw one {@link DatasetProblemsError} listing every problem
   * (at most MAX_PROBLEMS_PER_FILE per file, with a count of the rest) instead of a
   * DatasetError for the first. For `bakeoff validate`.
   */
  collectProblems?: boolean;
  /** Plan only this slice of the rows (`--shard i/n`); see src/dataset/shard.ts. */
  shard?: Shard;
}

/** Placeholder credential for the local emulator, which accepts any key unless configured. */
export const EMULATOR_PLACEHOLDER_KEY = "emulator-no-key";

export async function planRun(loaded: LoadedConfig, options: PlanOptions = {}): Promise<RunPlan> {
  const env = options.env ?? process.env;
  const config: Config = structuredClone(loaded.config);
  const notices: string[] = [];

  if (options.datasetFiles && options.datasetFiles.length > 0) {
    const cwd = process.cwd();
    // Files given on the command line use the global scorers; with none configured, a loose
    // "output contains the expected answer" check, so an ad-hoc run still measures something.
    const scorers =
      config.scorers.length > 0 ? [] : [(await import("../scoring/spec.js")).ScorerSpec.parse({ type: "includes" })];
    // Names key the journal: two files called qa.csv in different folders would collide and
    // make the run impossible to resume, so later ones get a suffix (and the user is told).
    const nameFor = uniqueDatasetNames();
    config.datasets = options.datasetFiles.map((file) => {
      const path = resolve(cwd, file);
      const { name, base } = nameFor(path);
      if (name !== base)
        notices.push(
          `datasets ${file} and an earlier one are both named "${base}"; this one is called "${name}" in ids and reports`,
        );
      return {
        ...(name !== base ? { name } : {}),
        path,
        columns: { id: "id", prompt: "prompt", system: "system", expected: "expected" },
        scorers,
        maxPromptChars: 100_000,
      };
    });
  }
  if (options.batch === true) {
    // Written into the config (and so into run.json's snapshot): a resume keeps batch mode.
    for (const m of config.models) {
      if (m.provider === "openai") m.batch = true;
      else
        notices.push(
          `model "${m.name}" runs live: batch mode (--batch) is the OpenAI Batch API, and this model uses the ${m.provider} provider`,
        );
    }
  }
  if (options.limit !== undefined) for (const d of config.datasets) d.limit = options.limit;
  if (options.concurrency !== undefined) config.concurrency = options.concurrency;
  if (options.trials !== undefined) config.trials = options.trials;

  if (options.models && options.models.length > 0) {
    const known = new Map(config.models.map((m) => [m.name, m]));
    const unknown = options.models.filter((m) => !known.has(m));
    if (unknown.length > 0) {
      throw new UsageError(
        `unknown model${unknown.length > 1 ? "s" : ""} ${unknown.map((m) => `"${m}"`).join(", ")} in --models; ` +
          `the config defines: ${[...known.keys()].join(", ")}`,
      );
    }
    config.models = options.models.map((m) => known.get(m)!);
  }

  // One rule for judged and judge models: the named variable, else the emulator's placeholder.
  // Entra models have no key: their tokens come from a credential when the run starts.
  const keyFor = (m: ModelSpec): string | undefined =>
    m.auth === "entra"
      ? ""
      : (m.apiKeyEnv ? env[m.apiKeyEnv] : undefined) ||
        (isEmulatorEndpoint(m.endpoint) ? EMULATOR_PLACEHOLDER_KEY : undefined);
  const keys = new Map<string, string>();
  const missing: string[] = [];
  for (const m of config.models) {
    const value = keyFor(m);
    if (value !== undefined) keys.set(m.name, value);
    else missing.push(`  - model "${m.name}" reads its key from $${m.apiKeyEnv}, which is not set`);
  }
  if (missing.length > 0) {
    throw new UsageError(
      `missing API keys (nothing was sent):\n${missing.join("\n")}\nSet the variables in your shell or CI secrets; keys never go in the config file.`,
    );
  }

  // Judges resolve against the config as written: a judge need not be a model under evaluation.
  const judges = new JudgeModels();
  const scorerContext = { baseDir: loaded.baseDir, config: loaded.config, keyFor, judges };
  const globalScorers = config.scorers.length;
  const datasets: PlannedDataset[] = [];
  const skippedRows: SkippedRow[] = [];
  const problems: { file: string; problems: string[]; more: number }[] = [];
  for (const [i, d] of config.datasets.entries()) {
    const displayPath = d.path;
    const spec: DatasetSpec = { ...d, path: isAbsolute(d.path) ? d.path : resolve(loaded.baseDir, d.path) };
    const name = datasetName(d);
    spec.name = name;
    const scorerPath = (j: number) =>
      j < globalScorers ? `scorers[${j}]` : `datasets[${i}].scorers[${j - globalScorers}]`;
    const scorers = await loadScorers([...config.scorers, ...d.scorers], scorerPath, loaded.file, scorerContext);
    let counts: { rows: number; total?: number; skipped: number };
    if (options.collectProblems) {
      const check = await checkDataset(spec, { index: i });
      if (check.problems.length > 0) {
        problems.push({ file: displayPath, problems: check.problems.map((p) => p.message), more: check.more });
        continue;
      }
      counts = { rows: check.rows, skipped: 0 };
    } else {
      counts = await validateDataset(spec, {
        skipInvalidRows: options.skipInvalidRows ?? false,
        index: i,
        ...(options.shard ? { shard: options.shard } : {}),
        onSkip: (info) => {
          if (skippedRows.length < MAX_KEPT_SKIPS) skippedRows.push(info);
        },
      });
    }
    // An empty shard is fine (a small dataset over many shards); an empty dataset is not.
    if ((counts.total ?? counts.rows) === 0) {
      throw new DatasetError(
        counts.skipped > 0
          ? `all ${counts.skipped} rows are invalid (skipped); nothing to run`
          : "the dataset has no rows; nothing to run",
        { file: displayPath },
      );
    }
    const sha256 = await hashDataset(spec.path);
    datasets.push({ name, spec, displayPath, sha256, rows: counts.rows, skipped: counts.skipped, scorers, index: i });
  }

  if (problems.length > 0) throw new DatasetProblemsError(problems);

  // n shards share each deployment's quota: each gets 1/n of it. The snapshot (config) keeps the
  // configured figures; the models the runner paces with carry the divided ones.
  let models = config.models;
  let shard: RunPlan["shard"];
  if (options.shard) {
    const divide = config.shards?.divideLimits ?? true;
    const n = options.shard.count;
    const limits: Record<string, { rpm?: number; tpm?: number }> = {};
    const share = (m: ModelSpec): ModelSpec => {
      const out = { ...m };
      if (divide && n > 1) {
        if (m.rpm !== undefined) out.rpm = m.rpm / n;
        if (m.tpm !== undefined) out.tpm = m.tpm / n;
      }
      limits[m.name] ??= {
        ...(out.rpm !== undefined ? { rpm: out.rpm } : {}),
        ...(out.tpm !== undefined ? { tpm: out.tpm } : {}),
      };
      return out;
    };
    models = config.models.map(share);
    // Judges call deployments whose quota the shards share too.
    judges.mapSpecs(share);
    shard = { index: options.shard.index, count: n, limits };
  }

  return {
    config,
    ...(loaded.file.startsWith("<") ? {} : { configFile: loaded.file }),
    baseDir: loaded.baseDir,
    datasets,
    models,
    keys,
    trials: config.trials,
    concurrency: config.concurrency,
    skippedRows,
    judges,
    notices,
    ...(shard ? { shard } : {}),
  };
}
