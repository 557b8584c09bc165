/**
 * The command registry: names and one-line summaries only, so the top-level help needs no command
 * module. `load` imports a command's module (and through it zod, the SDK, ...) only when used.
 */
import type { CommandSpec } from "../command.js";

export interface CommandEntry {
  /** yargs command string: the name, then positionals (`report <run>`, `open [run]`). */
  command: string;
  summary: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module has its own option types
  load: () => Promise<{ default: CommandSpec<any, any> }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { command: "run", summary: "Run datasets against models, score, record and report", load: () => import("./run.js") },
  {
    command: "init",
    summary: "Write a commented starter config (for a sample dataset or your own file)",
    load: () => import("./init.js"),
  },
  {
    command: "validate",
    summary: "Check the config and every dataset row without calling any model",
    load: () => import("./validate.js"),
  },
  {
    command: "merge <runs..>",
    summary: "Merge the shard runs of one plan (run --shard i/n) into one run, then report and gate",
    load: () => import("./merge.js"),
  },
  { command: "runs", summary: "List the runs in the results directory", load: () => import("./runs.js") },
  {
    command: "open [run]",
    summary: "Print the path of a run's HTML report, or open it in a browser",
    load: () => import("./open.js"),
  },
  {
    command: "report <run>",
    summary: "Re-render a run's reports from its results journal",
    load: () => import("./report.js"),
  },
  {
    command: "compare <baseline> <candidate>",
    summary: "Compare two runs; gates set the exit code",
    load: () => import("./compare.js"),
  },
  {
    command: "history",
    summary: "Trend of every model and scorer over the last runs of a dataset",
    load: () => import("./history.js"),
  },
  {
    command: "batch <action> <run>",
    summary: "Status of a --batch run's batches, or cancel the ones in flight (status | cancel)",
    load: () => import("./batch.js"),
  },
  {
    command: "serve",
    summary: "Start the built-in emulator of the Azure AI model inference API",
    load: () => import("./serve.js"),
  },
  {
    command: "weave-sync <run>",
    summary: "Upload a finished run to W&B Weave from its journal",
    load: () => import("./weave-sync.js"),
  },
  {
    command: "schema",
    summary: "Print (or --write) the JSON Schema of the config file",
    load: () => import("./schema.js"),
  },
];

/** A command's name (the first word of its command string). */
export function commandName(entry: CommandEntry): string {
  return entry.command.split(" ")[0]!;
}
