/**
 * `bakeoff run`: loads or resumes a config, plans, runs, reports, then compares and gates.
 * Prints through `io` only; errors are thrown to the CLI entry point, which picks exit codes.
 */
import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { loadConfig, type LoadedConfig } from "../config/load.js";
import { ExitCode, UsageError } from "../errors.js";
import { lockRunDir } from "../store/run-dir.js";
import { parseDuration } from "../util/duration.js";
import { configDatasetFiles, reexecForLargeRun } from "../util/malloc-reexec.js";
import { prefetchGitInfo } from "../util/env-info.js";
import { spoolStdin, STDIN_DATASET } from "../dataset/stdin.js";
import { formatShard, parseShard } from "../dataset/shard.js";
import { restoreSecretEndpoints } from "../config/public-config.js";
import type { RunSummary } from "../report/summary.js";
import { defaultCacheDir, ResponseCache } from "../run/cache.js";
import { readManifest } from "../store/manifest.js";
import { planRun } from "../run/plan.js";
import { createProgress } from "../run/progress.js";
import { locateRun } from "../store/run-dir.js";
import { runEvaluation, type RecordSink, type RunOptions } from "../run/runner.js";
import type { Io } from "./io.js";
import type { RunArgs } from "./commands/run.js";
import { findConfig, resultsDir } from "./locations.js";

export type { RunArgs };

export async function runCommand(args: RunArgs, io: Io): Promise<number> {
  for (const [name, v] of [
    ["concurrency", args.concurrency],
    ["trials", args.trials],
    ["limit", args.limit],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new UsageError(`--${name} must be a whole number of at least 1 (got ${v})`);
  }
  const maxDurationMs = args.maxDuration === undefined ? undefined : parseDuration(args.maxDuration);
  if (maxDurationMs === null)
    throw new UsageError(`--max-duration must be a duration such as 90s, 30m or 2h (got "${args.maxDuration}")`);
  let shard = args.shard === undefined ? undefined : parseShard(String(args.shard));
  if (shard && (args.baseline !== undefined || (args.failOn ?? []).length > 0))
    throw new UsageError(
      `--baseline and --fail-on cannot be used with --shard: a shard holds one slice of the rows, so gates and compare run on the merged run. Give them to: bakeoff merge <shard runs…> --baseline … --fail-on …`,
    );
  let loaded: LoadedConfig;
  let resume: Parameters<typeof runEvaluation>[0]["resume"];
  let outputDir: string;
  if (args.resume) {
    if (args.dataset && args.dataset.length > 0)
      throw new UsageError(
        "--dataset cannot be combined with --resume: a resumed run keeps the datasets it started with",
      );
    const base = await resultsDir(args);
    const runDir = await locateRun(base, args.resume);
    const manifest = await readManifest(runDir);
    if (manifest.status === "complete" && !args.retryErrors) {
      // A run killed while its reports or index entry were written by an older version, or whose
      // reports were deleted: rebuild them from the journal, sending nothing.
      const { missingRunOutputs, rewriteRunOutputs } = await import("../report/index-entry.js");
      const missing = await missingRunOutputs(runDir, manifest);
      if (missing.length > 0) {
        const lock = await lockRunDir(runDir, "report");
        try {
          const files = await rewriteRunOutputs(runDir);
          io.out(`Run ${manifest.runId} is complete; rewrote what was missing (${missing.join(", ")}):`);
          for (const f of files) io.out(`Report: ${relative(process.cwd(), f)}`);
        } finally {
          await lock.release();
        }
        return ExitCode.ok;
      }
      io.out(
        `Run ${manifest.runId} is already complete; nothing to resume. (Use --retry-errors to re-send failed calls.)`,
      );
      return ExitCode.ok;
    }
    const baseDir = manifest.configPath ? dirname(manifest.configPath) : process.cwd();
    const { parseConfig } = await import("../config/parse.js");
    loaded = parseConfig(manifest.config, { file: `${runDir}/run.json (config snapshot)`, baseDir });
    reexecForLargeRun(configDatasetFiles(loaded));
    // run.json stores endpoints without URL secrets; the original config file still has them.
    if (manifest.configPath && existsSync(manifest.configPath)) {
      const original = await loadConfig(manifest.configPath).catch(() => undefined);
      if (original) restoreSecretEndpoints(loaded.config, original.config);
    }
    // A shard run resumes as the same shard: the slice is the run's, not the command line's.
    if (shard && (!manifest.shard || formatShard(shard) !== formatShard(manifest.shard)))
      throw new UsageError(
        `--shard ${formatShard(shard)} does not match run ${manifest.runId}, which is ${manifest.shard ? `shard ${formatShard(manifest.shard)}` : "not a shard run"}; resume it without --shard`,
      );
    if (manifest.shard) {
      shard = { index: manifest.shard.index, count: manifest.shard.count };
      if (args.baseline !== undefined || (args.failOn ?? []).length > 0)
        throw new UsageError(
          `run ${manifest.runId} is shard ${formatShard(shard)}: gates and compare run on the merged run, so --baseline and --fail-on go to bakeoff merge`,
        );
    }
    resume = { runDir, manifest, retryErrors: args.retryErrors };
    outputDir = dirname(runDir);
  } else {
    // A large run re-executes itself before anything is printed (own data prints its settings
    // while loading, so it is decided from the files named) or spawned (git, below).
    const ownData = args.dataset !== undefined && args.dataset.length > 0;
    if (ownData && !args.dataset!.includes(STDIN_DATASET)) reexecForLargeRun(args.dataset!, args);
    // `--dataset -`: standard input, spooled once to a file so it can be read again (and resumed).
    if (args.dataset?.includes(STDIN_DATASET)) {
      const spoolDir = await resultsDir(args);
      const files: string[] = [];
      for (const d of args.dataset) files.push(d === STDIN_DATASET ? await spoolStdin(spoolDir, process.stdin) : d);
      args = { ...args, dataset: files };
    }
    loaded = await loadRunConfig(args, io);
    if (!ownData) reexecForLargeRun(configDatasetFiles(loaded), args);
    outputDir = args.out !== undefined ? resolve(args.out) : resolve(loaded.baseDir, loaded.config.outputDir);
    // run.json's git facts: the process runs while the plan checks the datasets (see env-info.ts).
    void prefetchGitInfo(loaded.baseDir);
  }

  const plan = await planRun(loaded, {
    ...(args.resume
      ? {}
      : {
          ...(args.models ? { models: splitList(args.models) } : {}),
          ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
          ...(args.trials !== undefined ? { trials: args.trials } : {}),
          ...(args.limit !== undefined ? { limit: args.limit } : {}),
          ...(args.batch ? { batch: true } : {}),
        }),
    skipInvalidRows: args.skipInvalidRows,
    ...(shard ? { shard } : {}),
    // A replay sends nothing, so it needs no keys (CI jobs that re-score have none).
    ...(args.replay ? { env: { ...process.env, ...placeholderKeys(loaded) } } : {}),
  });
  let cache: RunOptions["cache"];
  if (args.replay || args.cache !== undefined) {
    const dir = args.cache ? resolve(args.cache) : defaultCacheDir(outputDir);
    cache = {
      cache: await ResponseCache.open(dir, args.replay ? "readonly" : "readwrite"),
      mode: args.replay ? "replay" : "cache",
    };
  }
  // compare / gates: bad rules or a missing baseline are usage errors, found before any call.
  // A shard run gates nothing: the config's gates apply to the merged run (bakeoff merge).
  if (shard && loaded.config.gates.length > 0)
    io.err(
      `bakeoff: note: shard ${formatShard(shard)}: the config's ${loaded.config.gates.length} gate(s) are not applied to a shard; bakeoff merge applies them to the merged run`,
    );
  // Their modules (compare, its renderers) load only for a run that compares or gates.
  const compares =
    !shard && (args.baseline !== undefined || loaded.config.gates.length > 0 || (args.failOn ?? []).length > 0);
  const compare = compares ? await import("./compare-commands.js") : undefined;
  const gates = shard
    ? []
    : [
        ...loaded.config.gates,
        ...(args.failOn?.length ? (await import("../compare/rules.js")).parseGateRules(args.failOn) : []),
      ];
  // `latest` is resolved after the run: it means the latest run comparable with this one.
  const baselineDir =
    args.baseline === undefined
      ? undefined
      : args.baseline === "latest"
        ? compare!.LATEST_COMPARABLE
        : await locateRun(outputDir, args.baseline);
  for (const n of plan.notices) io.err(`bakeoff: note: ${n}`);
  const skippedRows = plan.skippedRows.map((s) => `${s.file}:${s.line}: ${s.reason}`);
  if (resume) {
    for (const d of plan.datasets) {
      const before = resume.manifest.datasets.find((x) => x.name === d.name);
      if (before && before.sha256 !== d.sha256) {
        throw new UsageError(
          `dataset "${d.name}" (${d.displayPath}) changed since run ${resume.manifest.runId} started; resuming would mix two datasets. Start a new run instead.`,
        );
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
      progress.log(
        `bakeoff: ${sig}: no new calls; letting calls in flight finish (up to ${args.grace}s). Press Ctrl-C again to stop now.`,
      );
      stop.abort();
      setTimeout(() => abort.abort(), args.grace * 1000).unref();
    } else abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // --no-weave arrives as false although the option is declared as a string.
  const weave = args.weave as string | boolean | undefined;
  const weaveProject = typeof weave === "string" ? weave : undefined;
  const noWeave = weave === false;
  try {
    const result = await runEvaluation({
      plan,
      outputDir,
      ...(args.runId ? { runId: args.runId } : {}),
      ...(resume ? { resume } : {}),
      skipInvalidRows: args.skipInvalidRows,
      ...(cache ? { cache } : {}),
      ...(maxDurationMs !== undefined ? { maxDurationMs } : {}),
      stopSignal: stop.signal,
      abortSignal: abort.signal,
      progress,
      log: (m) => progress.log(m),
      // The Weave glue (and through it the uploader) loads when the run's directory exists, not at start-up.
      sinks: async ({ runId, runDir, manifest }): Promise<RecordSink[]> =>
        (await import("../tracking/cli-glue.js")).createWeaveSinks({
          runId,
          runDir,
          manifest,
          config: plan.config,
          datasets: plan.datasets,
          noWeave,
          ...(weaveProject ? { project: weaveProject } : {}),
          log: (m) => progress.log(m),
        }),
    });
    const report = result.report!;
    printRunSummary(result, report.summary, report.files, io, report.analysis.recommendation);
    if (result.manifest.shard)
      io.out(
        `Shard ${formatShard(result.manifest.shard)}: ${result.manifest.expected} results in this shard; gates and compare run on the merged run (bakeoff merge).`,
      );
    for (const w of report.warnings) io.err(`bakeoff: warning: ${w}`);
    if (cache) {
      const st = cache.cache.stats();
      io.err(`bakeoff: response cache ${cache.cache.dir}: ${st.hits} hits, ${st.misses} misses, ${st.writes} stored`);
    }
    // compare / gates / history
    const gated = compare ? await compare.afterRun(outputDir, result.runDir, baselineDir, gates, io) : ExitCode.ok;
    if (result.status === "interrupted" || result.status === "incomplete") {
      const why = [result.stopReason, ...result.stoppedModels.map((s) => `model "${s.model}" ${s.reason}`)].filter(
        (x) => x !== undefined,
      );
      io.err(
        `bakeoff: run ${result.status}${why.length > 0 ? ` (${why.join("; ")})` : ""}. Finish it with: bakeoff run --resume ${result.runId}${outputDir === resolve("results") ? "" : ` (in ${relative(process.cwd(), outputDir) || "."})`}`,
      );
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
  recommendation: string,
): void {
  const m = result.manifest;
  const rows = m.datasets.reduce((a, d) => a + d.rows, 0);
  io.out(
    `Run ${result.runId}: ${result.status}. ${rows} rows × ${m.models.length} models${m.trials > 1 ? ` × ${m.trials} trials` : ""}; ` +
      `${result.recorded} results recorded this session (${result.failed} failed calls)` +
      (result.skipped > 0 ? `, ${result.skipped} already done` : "") +
      ".",
  );
  // The decision heads the summary, as it heads every report.
  io.out(`Verdict: ${recommendation}`);
  for (const s of summary.models) {
    const scores = Object.entries(s.scores)
      .map(([name, v]) => `${name} ${v.mean === null || v.mean === undefined ? "n/a" : v.mean.toFixed(3)}`)
      .join(", ");
    io.out(
      `  ${s.model.padEnd(12)} n=${s.n} errors=${s.errors} p50=${s.latencyMs.p50 === null ? "n/a" : `${Math.round(s.latencyMs.p50)}ms`} ${scores}`,
    );
  }
  for (const f of files) io.out(`Report: ${relative(process.cwd(), f)}`);
}

/**
 * The config for a new run: the file named or found in this folder; with none and `--dataset`
 * given, the built-in one (the two emulator presets), so own data needs no config file.
 */
async function loadRunConfig(args: RunArgs, io: Io): Promise<LoadedConfig> {
  const file = findConfig(args.config);
  const fromFile = file === undefined ? undefined : await loadConfig(file);
  if (args.dataset && args.dataset.length > 0) {
    // Loaded only for `--dataset` runs: it builds configs with the zod schemas (see config/load.ts).
    const { printOwnData, withOwnData } = await import("./own-data.js");
    const { loaded, own } = await withOwnData(fromFile, args);
    printOwnData(own, io);
    return loaded;
  }
  if (fromFile) return fromFile;
  throw new UsageError(
    'no config file here (looked for eval.config.json and eval.config.jsonc). Create one with "bakeoff init", pass --config FILE, or run a file directly with "bakeoff run --dataset FILE"',
  );
}

export function splitList(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/**
 * Stand-in keys for every key variable that is not set (models and inline judge models), for
 * commands that send nothing: `validate` and `run --replay`.
 */
export function placeholderKeys(loaded: LoadedConfig): Record<string, string> {
  const names = loaded.config.models.map((m) => m.apiKeyEnv);
  for (const spec of [...loaded.config.scorers, ...loaded.config.datasets.flatMap((d) => d.scorers)]) {
    if (spec.type === "llm_judge" && typeof spec.model === "object") names.push(spec.model.apiKeyEnv);
  }
  const out: Record<string, string> = {};
  for (const name of names) if (name && !process.env[name]) out[name] = "placeholder-not-sent";
  return out;
}
