/** `bakeoff run`: options and examples; the work is in ../run-command.ts. */
import { defineCommand, type ArgsOf } from "../command.js";
import { configOption, outOption, ownDataOptions } from "../common-options.js";

const options = {
  ...configOption,
  ...ownDataOptions,
  models: {
    alias: "m",
    type: "string",
    describe: "Comma-separated model names to run (default: all configured; without a config: small,large)",
  },
  concurrency: { type: "number", describe: "Most calls in flight overall (whole number ≥ 1; default: config)" },
  trials: { type: "number", describe: "Times each row is sent to each model (whole number ≥ 1; default: config)" },
  limit: { type: "number", describe: "Use only the first N rows of each dataset (whole number ≥ 1)" },
  "run-id": { type: "string", describe: "Name of the run directory (default: a timestamp)" },
  shard: {
    type: "string",
    describe:
      "Run only slice i of n of the rows (1-based, e.g. 2/4): a shard run, combined later with 'bakeoff merge'. rpm/tpm are divided by n (config shards.divideLimits)",
  },
  ...outOption,
  resume: {
    type: "string",
    describe: "Continue an interrupted run (id, path or 'latest'): completed results are not re-sent",
  },
  "retry-errors": {
    type: "boolean",
    default: false,
    describe: "With --resume: also re-send calls that ended in an error",
  },
  batch: {
    type: "boolean",
    default: false,
    describe:
      "Send the calls of every 'openai' model through the Batch API (half price, answers within 24 h; other models run live). See config 'batch'",
  },
  "skip-invalid-rows": {
    type: "boolean",
    default: false,
    describe: "Skip malformed rows (recorded with their reason) instead of stopping",
  },
  weave: { type: "string", describe: "Log to this W&B Weave project (entity/project); --no-weave turns logging off" },
  progress: {
    choices: ["auto", "bar", "lines", "off"] as const,
    default: "auto" as const,
    describe: "Progress display (auto: a bar on a terminal, lines otherwise)",
  },
  "max-duration": {
    type: "string",
    describe: "Longest this run may take (90s, 30m, 2h); then it stops, resumable, exit 3. Overrides config 'deadline'",
  },
  grace: { type: "number", default: 30, describe: "Seconds in-flight calls get to finish after Ctrl-C / SIGTERM" },
  cache: {
    type: "string",
    describe: "Reuse recorded responses for identical requests and record new ones (directory; default <out>/.cache)",
  },
  replay: {
    type: "boolean",
    default: false,
    describe:
      "Answer only from recorded responses (see --cache); a missing one fails the run. Calls no model, needs no keys",
  },
  // --- compare / gates ---
  baseline: {
    type: "string",
    describe: "Compare the finished run with this run (id, path, latest, latest~N) and write compare.md/.json/.html",
  },
  "fail-on": {
    type: "string",
    array: true,
    describe: "Gate rule, repeatable (added to config gates); exit 1 when one fails. See README 'Gates'",
  },
} as const;

export type RunArgs = ArgsOf<typeof options>;

export default defineCommand({
  description:
    "Runs every dataset row against every model, scores the answers, records each result in results/<run>/predictions.jsonl and writes reports.\n" +
    "Without a config file, --dataset runs your file against the two built-in emulated models (small, large); the columns and scorers it guessed are printed as a snippet to paste into a config.",
  options,
  examples: [
    ["$0 run", "Run eval.config.json (or .jsonc) in this folder"],
    [
      "$0 run --dataset gsm8k.jsonl --prompt question --expected answer --scorer numeric",
      "Your own file, no config needed",
    ],
    [
      "$0 run --dataset qa.csv --template 'Q: {{q}}\\nA:' --scorer exact --scorer finish_stop",
      "A prompt template and two scorers",
    ],
    ["$0 run --models large --limit 20", "One model, the first 20 rows"],
    ["$0 run --resume latest", "Finish an interrupted run without re-sending completed calls"],
    [
      "$0 run --baseline latest --fail-on regression --fail-on critical",
      "Compare with the latest comparable run and gate CI on it",
    ],
    ["$0 run --max-duration 2h", "A nightly job that stops (resumable, exit 3) after two hours"],
    ["$0 run --batch", "A nightly run through the Batch API at half price; --resume picks up batches in flight"],
    ["cat prompts.jsonl | $0 run --dataset -", "Read the dataset from standard input"],
    [
      "$0 run --shard 2/4 --run-id nightly-2 --out shards",
      "Shard 2 of 4 (a CI matrix job); then: $0 merge shards/nightly-* --run-id nightly",
    ],
  ],
  run: async (args, io) => (await import("../run-command.js")).runCommand(args, io),
});
