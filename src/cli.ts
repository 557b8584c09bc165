/**
 * The command line. This is the only module that prints errors and decides exit codes; every
 * other module throws typed errors (src/errors.ts) or returns results.
 */
import { writeFile } from "node:fs/promises";
import { relative } from "node:path";
import yargs, { type Argv } from "yargs";
import { loadConfig } from "./config/load.js";
import { configJsonSchema } from "./config/json-schema.js";
import { BakeoffError, ExitCode, UsageError, exitCodeFor } from "./errors.js";
import { writeRunReports } from "./report/run-report.js";
import { planRun } from "./run/plan.js";
import { locateRun } from "./run/run-dir.js";
import { syncRunToWeaveCli } from "./tracking/cli-glue.js";
import { compareCommand, historyCommand } from "./cli/compare-commands.js";
import { defaultIo, type Io } from "./cli/io.js";
import { placeholderKeys, runCommand, splitList } from "./cli/run-command.js";
import { serveCommand } from "./cli/serve-command.js";

const DEFAULT_CONFIG = "eval.config.json";

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
        // Check everything else even when keys are missing, then say which ones `run` will want.
        const missingKeys = placeholderKeys(loaded);
        // Said first, so it is not lost when the datasets have problems too (all reported in one pass).
        const unset = Object.keys(missingKeys);
        if (unset.length > 0) {
          io.err(`bakeoff: not set (run will refuse to start without them): ${unset.map((k) => `$${k}`).join(", ")}`);
          setCode(ExitCode.usage);
        }
        const plan = await planRun(loaded, {
          ...(args.dataset ? { datasetFiles: args.dataset } : {}),
          ...(args.models ? { models: splitList(args.models) } : {}),
          env: { ...process.env, ...missingKeys },
          collectProblems: true,
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
        setCode(await compareCommand(args, io));
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
        await historyCommand(args, io);
      },
    )
    // --- end compare / history commands ---
    .demandCommand(1, "Name a command: run, serve, report, validate, schema, weave-sync, compare or history.")
    .help()
    .version(false);
}
