/**
 * Options several commands share, declared once so they mean the same everywhere.
 *
 * `--out DIR` has one meaning in every command: the results directory that holds run directories
 * (`run` creates the new run in it; `report`, `compare`, `history`, `runs`, `open` and
 * `weave-sync` look runs up in it). Default: the config's `outputDir`, else `results`. Reports
 * always go inside the run's own directory; `compare --write DIR` is where compare files go.
 */
import type { Options } from "yargs";

export const configOption = {
  config: {
    alias: "c",
    type: "string",
    describe: "Config file (default: eval.config.json, else eval.config.jsonc, in the current folder)",
  },
} as const satisfies Record<string, Options>;

export const outOption = {
  out: {
    alias: "o",
    type: "string",
    describe: "Results directory holding the run directories (default: the config's outputDir, else ./results)",
  },
} as const satisfies Record<string, Options>;

/** Own data without a config: which file, which columns play which part, how to score. */
export const ownDataOptions = {
  dataset: {
    alias: "d",
    type: "string",
    array: true,
    describe:
      "Dataset file(s) (.jsonl, .csv, .tsv) to use instead of the configured datasets; columns and scorers are guessed unless given",
  },
  prompt: { type: "string", describe: "Column holding the prompt (guessed: prompt, question, input, …)" },
  expected: { type: "string", describe: "Column holding the expected answer (guessed: expected, answer, output, …)" },
  id: { type: "string", describe: "Column holding a stable row id (guessed: id, …; default <file>:<line>)" },
  system: { type: "string", describe: "System message sent with every row (a row's own system column wins)" },
  "system-column": { type: "string", describe: "Column holding a per-row system message (default: system)" },
  template: {
    type: "string",
    describe: "Prompt template with {{column}} variables, instead of a prompt column, e.g. 'Q: {{question}}\\nA:'",
  },
  scorer: {
    type: "string",
    array: true,
    describe:
      "Scorer, repeatable: a type (numeric, exact, includes, similarity, …), type:key=value,… or a JSON object (default: guessed from the expected answers)",
  },
} as const satisfies Record<string, Options>;
