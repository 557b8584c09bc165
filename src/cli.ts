/**
 * The command line. This is the only module that prints errors and decides exit codes; every
 * other module throws typed errors (src/errors.ts) or returns results.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import yargs, { type Argv } from "yargs";
import { loadConfig, parseConfig, type LoadedConfig } from "./config/load.js";
import { configJsonSchema } from "./config/json-schema.js";
import { DEFAULT_SIM_MODELS, startEmulator } from "./emulator/index.js";
import { BakeoffError, ConfigError, ExitCode, UsageError, exitCodeFor } from "./errors.js";
import { writeRunReports } from "./report/run-report.js";
import type { RunSummary } from "./report/summary.js";
import { readManifest } from "./run/manifest.js";
import { planRun } from "./run/plan.js";
import { createProgress } from "./run/progress.js";
import { locateRun } from "./run/run-dir.js";
import { defaultCacheDir, ResponseCache } from "./run/cache.js";
import { runEvaluation, type RecordSink, type RunOptions } from "./run/runner.js";
import { createWeaveSinks, syncRunToWeaveCli } from "./tracking/cli-glue.js";
// --- compare / gates / history (owned by the compare feature) ---
import { checkCompare, type CheckResult } from "./compare/check.js";
import { GateSpec } from "./compare/gate-spec.js";
import { parseGateRules } from "./compare/rules.js";
import { appendRunIndex, historyTable, renderHistoryText, syncRunIndex } from "./run/history.js";
// --- end compare / gates / history ---

const DEFAULT_CONFIG = "eval.config.json";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: Io = {
  out: (l) => void process.stdout.write(l + "\n"),
  err: (l) => void process.stderr.write(l + "\n"),
};

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = ExitCode.ok;
  const setCode = (c: number) => {
    code = c;
  };
  try {
    await buildParser(argv, io, setCode).parseAsync();
    return code;
  } catch (err) {
    reportError(err, io);
    return exitCodeFor(err);
  }
}

function reportError(err: unknown, io: Io): void {
  if (err instanceof BakeoffError) {
    io.err(`bakeoff: ${err.message}`);
    if (process.env.BAKEOFF_DEBUG && err.cause) io.err(String((err.cause as Error).stack ?? err.cause));
  } else {
    io.err(`bakeoff: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}

function buildParser(argv: string[], io: Io, setCode: (c: number) => void): Argv {
  return yargs(argv)
    .scriptName("bakeoff")
    .usage("$0 <command> [options]\n\nRun prompt datasets against several models and report which to ship.")
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(`${msg}\nRun "bakeoff --help" for usage.`);
    })
    .command(
      "run",
      "Run the configured datasets against the configured models",
      (y) =>
        y
          .option("config", { alias: "c", type: "string", default: DEFAULT_CONFIG, describe: "Config file" })
          .option("dataset", { alias: "d", type: "string", array: true, describe: "Dataset file(s) to use instead of the configured ones (columns id, prompt, system, expected)" })
          .option("models", { alias: "m", type: "string", describe: "Comma-separated model names to run (default: all configured)" })
          .option("concurrency", { type: "number", describe: "Most calls in flight overall" })
          .option("trials", { type: "number", describe: "Times each row is sent to each model" })
          .option("limit", { type: "number", describe: "Use only the first N rows of each dataset" })
          .option("run-id", { type: "string", describe: "Name of the run directory (default: timestamp)" })
          .option("out", { type: "string", describe: "Output directory (default: config outputDir)" })
          .option("resume", { type: "string", describe: "Continue an interrupted run (id, path or 'latest'): completed results are not re-sent" })
          .option("retry-errors", { type: "boolean", default: false, describe: "With --resume: also re-send calls that ended in an error" })
          .option("skip-invalid-rows", { type: "boolean", default: false, describe: "Skip malformed rows (recorded with their reason) instead of stopping" })
          .option("weave", { type: "string", describe: "Log to this W&B Weave project (entity/project); --no-weave turns logging off" })
          .option("progress", { choices: ["auto", "bar", "lines", "off"] as const, default: "auto" as const, describe: "Progress display" })
          .option("grace", { type: "number", default: 30, describe: "Seconds in-flight calls get to finish after Ctrl-C / SIGTERM" })
          .option("cache", { type: "string", describe: "Reuse recorded responses for identical requests and record new ones (directory; default <outputDir>/.cache)" })
          .option("replay", { type: "boolean", default: false, describe: "Answer only from recorded responses (see --cache); a missing one fails the run. Calls no model, needs no keys" })
          // --- compare / gates ---
          .option("baseline", { type: "string", describe: "Compare the finished run with this run (id, path, latest, latest~N) and write compare.md/.json/.html" })
          .option("fail-on", { type: "string", array: true, describe: "Gate rule, repeatable (added to config gates); exit 1 when one fails. See README 'Gates'" }),
      // --- end compare / gates ---
      async (args) => {
        setCode(
          await runCommand(
            {
              config: args.config,
              dataset: args.dataset,
              models: args.models,
              concurrency: args.concurrency,
              trials: args.trials,
              limit: args.limit,
              runId: args["run-id"],
              out: args.out,
              resume: args.resume,
              retryErrors: args["retry-errors"],
              skipInvalidRows: args["skip-invalid-rows"],
              weave: args.weave as string | boolean | undefined,
              progress: args.progress,
              grace: args.grace,
              cache: args.cache,
              replay: args.replay,
              baseline: args.baseline,
              failOn: args["fail-on"],
            },
            io,
          ),
        );
      },
    )
    .command(
      "serve",
      "Start the built-in emulator of the Azure AI model inference API",
      (y) =>
        y
          .option("port", { alias: "p", type: "number", default: 8765 })
          .option("host", { type: "string", default: "127.0.0.1" })
          .option("config", { alias: "c", type: "string", describe: "Take simulated models from this config's emulator.models" }),
      async (args) => {
        setCode(await serveCommand(args, io));
      },
    )
    .command(
      "report <run>",
      "Re-render a run's reports from its results journal",
      (y) => y.positional("run", { type: "string", demandOption: true }).option("out", { type: "string", default: "results" }),
      async (args) => {
        const dir = await locateRun(args.out, args.run);
        const report = await writeRunReports(dir);
        for (const f of report.files) io.out(relative(process.cwd(), f));
      },
    )
    .command(
      "validate",
      "Check the config and every dataset row without calling any model",
      (y) =>
        y
          .option("config", { alias: "c", type: "string", default: DEFAULT_CONFIG })
          .option("dataset", { alias: "d", type: "string", array: true })
          .option("models", { alias: "m", type: "string" }),
      async (args) => {
        const loaded = await loadConfig(args.config);
        const plan = await planRun(loaded, {
          ...(args.dataset ? { datasetFiles: args.dataset } : {}),
          ...(args.models ? { models: splitList(args.models) } : {}),
          env: { ...process.env, ...placeholderKeys(loaded) },
        });
        for (const d of plan.datasets) io.out(`ok  ${d.displayPath}: ${d.rows} rows, ${d.scorers.length} scorers`);
        io.out(`ok  ${plan.models.length} models: ${plan.models.map((m) => m.name).join(", ")}`);
      },
    )
    .command(
      "schema",
      "Print (or --write) the JSON Schema of eval.config.json",
      (y) => y.option("write", { type: "string", describe: "Write it to this file (default eval.config.schema.json)" }),
      async (args) => {
        const text = JSON.stringify(configJsonSchema(), null, 2) + "\n";
        if (args.write === undefined) io.out(text.trimEnd());
        else {
          const file = args.write === "" ? "eval.config.schema.json" : args.write;
          await writeFile(file, text, "utf8");
          io.out(`wrote ${file}`);
        }
      },
    )
    .command(
      "weave-sync <run>",
      "Upload a finished run to W&B Weave from its journal (no model is called)",
      (y) =>
        y
          .positional("run", { type: "string", demandOption: true })
          .option("weave", { type: "string", describe: "Weave project (entity/project); default: the run's config" })
          .option("out", { type: "string", default: "results" }),
      async (args) => {
        const dir = await locateRun(args.out, args.run);
        setCode(await syncRunToWeaveCli(dir, { ...(args.weave ? { project: args.weave } : {}), io }));
      },
    )
    // --- compare / history commands ---
    .command(
      "compare <baseline> <candidate>",
      "Compare two runs (ids, paths, latest, latest~N): paired change per model and scorer, flipped rows, warnings; gates set the exit code",
      (y) =>
        y
          .positional("baseline", { type: "string", demandOption: true, describe: "The run to compare against" })
          .positional("candidate", { type: "string", demandOption: true, describe: "The run being judged" })
          .option("out", { type: "string", default: "results", describe: "Output directory the runs are in (for ids and latest)" })
          .option("fail-on", { type: "string", array: true, describe: "Gate rule, repeatable (added to the candidate's config gates)" })
          .option("config-gates", { type: "boolean", default: true, describe: "Apply the gates in the candidate run's config (--no-config-gates: only --fail-on)" })
          .option("write", { type: "string", describe: "Directory for compare.md/.json/.html (default: the candidate's run directory)" }),
      async (args) => {
        const extra = parseGateRules(args["fail-on"] ?? []);
        const baselineDir = await locateRun(args.out, args.baseline);
        const candidateDir = await locateRun(args.out, args.candidate);
        const configured = args["config-gates"] ? snapshotGates(await readManifest(candidateDir)) : [];
        const check = await checkCompare({
          baselineDir,
          candidateDir,
          gates: [...configured, ...extra],
          indexDir: dirname(candidateDir),
          ...(args.write ? { writeDir: args.write } : {}),
        });
        setCode(printCheck(check, io));
      },
    )
    .command(
      "history",
      "Trend of every model and scorer over the last runs of the same dataset (from results/index.jsonl)",
      (y) =>
        y
          .option("out", { type: "string", default: "results", describe: "Output directory" })
          .option("last", { type: "number", default: 10, describe: "Number of runs shown" })
          .option("all-datasets", { type: "boolean", default: false, describe: "Mix runs of every dataset (default: only the newest run's dataset)" }),
      async (args) => {
        if (!Number.isInteger(args.last) || args.last < 1) throw new UsageError(`--last must be a whole number of at least 1 (got ${args.last})`);
        // Runs made before indexing, or by library callers, are indexed now from their directories.
        const entries = await syncRunIndex(resolve(args.out));
        const table = historyTable(entries, { last: args.last, ...(args["all-datasets"] ? { datasetHash: null } : {}) });
        for (const line of renderHistoryText(table)) io.out(line);
      },
    )
    // --- end compare / history commands ---
    .demandCommand(1, "Name a command: run, serve, report, validate, schema, weave-sync, compare or history.")
    .help()
    .version(false);
}

interface RunArgs {
  config: string;
  dataset: string[] | undefined;
  models: string | undefined;
  concurrency: number | undefined;
  trials: number | undefined;
  limit: number | undefined;
  runId: string | undefined;
  out: string | undefined;
  resume: string | undefined;
  retryErrors: boolean;
  skipInvalidRows: boolean;
  weave: string | boolean | undefined;
  progress: "auto" | "bar" | "lines" | "off";
  grace: number;
  /** Response cache directory ("" = the default one), and replay-only mode. */
  cache: string | undefined;
  replay: boolean;
  /** compare / gates: run to compare with, and extra gate rules. */
  baseline: string | undefined;
  failOn: string[] | undefined;
}

async function runCommand(args: RunArgs, io: Io): Promise<number> {
  for (const [name, v] of [["concurrency", args.concurrency], ["trials", args.trials], ["limit", args.limit]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UsageError(`--${name} must be a whole number of at least 1 (got ${v})`);
  }
  let loaded: LoadedConfig;
  let resume: Parameters<typeof runEvaluation>[0]["resume"];
  let outputDir: string;
  if (args.resume) {
    const base = await loadOutputDirGuess(args);
    const runDir = await locateRun(base, args.resume);
    const manifest = await readManifest(runDir);
    if (manifest.status === "complete" && !args.retryErrors) {
      io.out(`Run ${manifest.runId} is already complete; nothing to resume. (Use --retry-errors to re-send failed calls.)`);
      return ExitCode.ok;
    }
    const baseDir = manifest.configPath ? dirname(manifest.configPath) : process.cwd();
    loaded = parseConfig(manifest.config, { file: `${runDir}/run.json (config snapshot)`, baseDir });
    resume = { runDir, manifest, retryErrors: args.retryErrors };
    outputDir = dirname(runDir);
  } else {
    loaded = await loadConfig(args.config);
    outputDir = args.out ?? resolve(loaded.baseDir, loaded.config.outputDir);
  }

  const plan = await planRun(loaded, {
    ...(args.resume ? {} : {
      ...(args.dataset ? { datasetFiles: args.dataset } : {}),
      ...(args.models ? { models: splitList(args.models) } : {}),
      ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
      ...(args.trials !== undefined ? { trials: args.trials } : {}),
      ...(args.limit !== undefined ? { limit: args.limit } : {}),
    }),
    skipInvalidRows: args.skipInvalidRows,
    // A replay sends nothing, so it needs no keys (CI jobs that re-score have none).
    ...(args.replay ? { env: { ...process.env, ...placeholderKeys(loaded) } } : {}),
  });
  let cache: RunOptions["cache"];
  if (args.replay || args.cache !== undefined) {
    const dir = args.cache ? resolve(args.cache) : defaultCacheDir(outputDir);
    cache = { cache: await ResponseCache.open(dir, args.replay ? "readonly" : "readwrite"), mode: args.replay ? "replay" : "cache" };
  }
  // compare / gates: bad rules or a missing baseline are usage errors, found before any call.
  const gates = [...loaded.config.gates, ...parseGateRules(args.failOn ?? [])];
  const baselineDir = args.baseline === undefined ? undefined : await locateRun(outputDir, args.baseline);
  const skippedRows = plan.skippedRows.map((s) => `${s.file}:${s.line}: ${s.reason}`);
  if (resume) {
    for (const d of plan.datasets) {
      const before = resume.manifest.datasets.find((x) => x.name === d.name);
      if (before && before.sha256 !== d.sha256) {
        throw new UsageError(`dataset "${d.name}" (${d.displayPath}) changed since run ${resume.manifest.runId} started; resuming would mix two datasets. Start a new run instead.`);
      }
    }
  }
  if (skippedRows.length > 0) {
    const total = plan.datasets.reduce((n, d) => n + d.skipped, 0);
    io.err(`bakeoff: skipping ${total} invalid row(s) (--skip-invalid-rows; listed in the run's skipped.jsonl):`);
    for (const s of skippedRows.slice(0, 20)) io.err(`  ${s}`);
    if (skippedRows.length > 20) io.err(`  … and ${skippedRows.length - 20} more`);
  }

  const progress = createProgress({ mode: args.progress });
  const stop = new AbortController();
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      progress.log(`bakeoff: ${sig}: no new calls; letting calls in flight finish (up to ${args.grace}s). Press Ctrl-C again to stop now.`);
      stop.abort();
      setTimeout(() => abort.abort(), args.grace * 1000).unref();
    } else abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const weaveProject = typeof args.weave === "string" ? args.weave : undefined;
  const noWeave = args.weave === false;
  try {
    const result = await runEvaluation({
      plan,
      outputDir,
      ...(args.runId ? { runId: args.runId } : {}),
      ...(resume ? { resume } : {}),
      skipInvalidRows: args.skipInvalidRows,
      ...(cache ? { cache } : {}),
      stopSignal: stop.signal,
      abortSignal: abort.signal,
      progress,
      log: (m) => progress.log(m),
      sinks: ({ runId, runDir, manifest }): Promise<RecordSink[]> =>
        createWeaveSinks({ runId, runDir, manifest, config: plan.config, datasets: plan.datasets, noWeave, ...(weaveProject ? { project: weaveProject } : {}), log: (m) => progress.log(m) }),
    });
    const report = await writeRunReports(result.runDir);
    printRunSummary(result, report.summary, report.files, io);
    for (const w of report.warnings) io.err(`bakeoff: warning: ${w}`);
    if (cache) {
      const st = cache.cache.stats();
      io.err(`bakeoff: response cache ${cache.cache.dir}: ${st.hits} hits, ${st.misses} misses, ${st.writes} stored`);
    }
    // compare / gates / history
    const gated = await afterRun(outputDir, result.runDir, baselineDir, gates, io);
    if (result.status === "interrupted" || result.status === "incomplete") {
      io.err(`bakeoff: run ${result.status}. Finish it with: bakeoff run --resume ${result.runId}${outputDir === resolve("results") ? "" : ` (in ${relative(process.cwd(), outputDir) || "."})`}`);
      return ExitCode.incomplete;
    }
    return gated;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function printRunSummary(
  result: Awaited<ReturnType<typeof runEvaluation>>,
  summary: RunSummary,
  files: string[],
  io: Io,
): void {
  const m = result.manifest;
  const rows = m.datasets.reduce((a, d) => a + d.rows, 0);
  io.out(
    `Run ${result.runId}: ${result.status}. ${rows} rows × ${m.models.length} models${m.trials > 1 ? ` × ${m.trials} trials` : ""}; ` +
      `${result.recorded} results recorded this session (${result.failed} failed calls)` +
      (result.skipped > 0 ? `, ${result.skipped} already done` : "") +
      ".",
  );
  for (const s of summary.models) {
    const scores = Object.entries(s.scores)
      .map(([name, v]) => `${name} ${v.mean === null || v.mean === undefined ? "n/a" : v.mean.toFixed(3)}`)
      .join(", ");
    io.out(`  ${s.model.padEnd(12)} n=${s.n} errors=${s.errors} p50=${s.latencyMs.p50 === null ? "n/a" : `${Math.round(s.latencyMs.p50)}ms`} ${scores}`);
  }
  for (const f of files) io.out(`Report: ${relative(process.cwd(), f)}`);
}

async function loadOutputDirGuess(args: RunArgs): Promise<string> {
  if (args.out) return args.out;
  if (existsSync(args.config)) {
    try {
      const loaded = await loadConfig(args.config);
      return resolve(loaded.baseDir, loaded.config.outputDir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  return "results";
}

async function serveCommand(args: { port: number; host: string; config?: string | undefined }, io: Io): Promise<number> {
  let models = DEFAULT_SIM_MODELS as Parameters<typeof startEmulator>[0]["models"];
  if (args.config) {
    const loaded = await loadConfig(args.config);
    if (Object.keys(loaded.config.emulator.models).length > 0) models = loaded.config.emulator.models;
  }
  const emulator = await startEmulator({ models, host: args.host, port: args.port });
  io.out(`bakeoff emulator listening on ${emulator.url}`);
  for (const name of Object.keys(models)) io.out(`  ${name}: ${emulator.endpointFor(name)}  (POST /chat/completions, GET /info)`);
  io.out(`Multi-model route: ${emulator.url}/chat/completions with "model" in the body. Stats: ${emulator.url}/_emulator/stats. Ctrl-C to stop.`);
  await new Promise<void>((resolveDone) => {
    const stop = () => resolveDone();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await emulator.close();
  return ExitCode.ok;
}

function splitList(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/**
 * Stand-in keys for every key variable that is not set (models and inline judge models), for
 * commands that send nothing: `validate` and `run --replay`.
 */
function placeholderKeys(loaded: LoadedConfig): Record<string, string> {
  const names = loaded.config.models.map((m) => m.apiKeyEnv);
  for (const spec of [...loaded.config.scorers, ...loaded.config.datasets.flatMap((d) => d.scorers)]) {
    if (spec.type === "llm_judge" && typeof spec.model === "object") names.push(spec.model.apiKeyEnv);
  }
  const out: Record<string, string> = {};
  for (const name of names) if (name && !process.env[name]) out[name] = "placeholder-not-sent";
  return out;
}


// ---------------------------------------------------------------------------------------------
// compare / gates / history (owned by the compare feature)

/**
 * After a run: index it in `<outputDir>/index.jsonl`, then compare with the baseline and apply
 * gates when either was asked for. Returns the exit code the gates decide.
 */
async function afterRun(outputDir: string, runDir: string, baselineDir: string | undefined, gates: GateSpec[], io: Io): Promise<number> {
  await appendRunIndex(outputDir, runDir);
  if (baselineDir === undefined && gates.length === 0) return ExitCode.ok;
  const check = await checkCompare({ candidateDir: runDir, gates, indexDir: outputDir, ...(baselineDir ? { baselineDir } : {}) });
  return printCheck(check, io);
}

/** Prints a comparison's headline, warnings and gate outcomes; returns the exit code. */
function printCheck(check: CheckResult, io: Io): number {
  const c = check.comparison;
  if (c) {
    io.out(`Compare ${c.baseline.runId} → ${c.candidate.runId}: ${c.models.length} model(s) matched`);
    for (const ch of c.changes) io.out(`  ${ch.model.padEnd(12)} ${ch.scorer}: ${ch.sentence}; pass→fail ${ch.passToFail}, fail→pass ${ch.failToPass}`);
    for (const w of c.warnings) io.err(`bakeoff: warning: ${w.message}`);
    for (const f of check.files) io.out(`Compare: ${relative(process.cwd(), f)}`);
  }
  for (const o of check.gates.outcomes) {
    io.out(`Gate ${o.rule}: ${o.status.toUpperCase()}`);
    for (const d of o.details.slice(0, 10)) io.out(`    ${d}`);
    if (o.details.length > 10) io.out(`    … and ${o.details.length - 10} more`);
  }
  const incomplete = check.candidateStatus !== "complete" || (check.baselineStatus !== null && check.baselineStatus !== "complete");
  if (!check.gates.passed) io.err("bakeoff: gate failed.");
  // An unfinished run decides nothing: 3 tells CI to fix the run, not the model.
  if (incomplete && c) return ExitCode.incomplete;
  return check.gates.passed ? ExitCode.ok : ExitCode.gateFailed;
}

/** Gates recorded in a run's config snapshot (runs made before gates existed have none). */
function snapshotGates(manifest: Awaited<ReturnType<typeof readManifest>>): GateSpec[] {
  const raw = (manifest.config as { gates?: unknown }).gates;
  if (!Array.isArray(raw)) return [];
  return raw.map((g, i) => {
    const parsed = GateSpec.safeParse(g);
    if (!parsed.success) throw new UsageError(`run ${manifest.runId}: config gates[${i}] is not valid: ${parsed.error.issues.map((x) => x.message).join("; ")}`);
    return parsed.data;
  });
}
