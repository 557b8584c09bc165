/** `bakeoff merge <runs…>`: options and examples; the work is in ../merge-command.ts. */
import { defineCommand } from "../command.js";
import { configOption, outOption } from "../common-options.js";

const options = {
  "run-id": { type: "string", describe: "Name of the merged run's directory (default: a timestamp)" },
  ...outOption,
  ...configOption,
  baseline: {
    type: "string",
    describe: "Compare the merged run with this run (id, path, latest, latest~N) and write compare.md/.json/.html",
  },
  "fail-on": {
    type: "string",
    array: true,
    describe: "Gate rule, repeatable (added to the config gates of the plan); exit 1 when one fails",
  },
} as const;

export default defineCommand<typeof options, { runs: string[] }>({
  description:
    "Merges the shard runs of one plan (bakeoff run --shard i/n, one per shard) into one run, as if it had run on one machine: one journal in a canonical order, the five reports and the run index entry. " +
    "Refuses (exit 2) a missing or repeated shard, a shard of another plan (config or dataset hash) and an unfinished shard. " +
    "Gates (the plan's config gates, --fail-on) and --baseline apply to the merged run, with the exit codes of bakeoff run.",
  positionals: {
    runs: {
      type: "string",
      array: true,
      demandOption: true,
      describe: "The shard runs (ids in the results directory, or paths to run directories)",
    },
  },
  options,
  examples: [
    [
      "$0 merge shards/nightly-1 shards/nightly-2 shards/nightly-3 shards/nightly-4 --run-id nightly",
      "Four shards into results/nightly",
    ],
    [
      "$0 merge artifacts/*/ --run-id nightly-$(date +%F) --baseline latest --fail-on regression",
      "Merge CI artifacts, then compare with the latest comparable run and gate",
    ],
  ],
  run: async (args, io) => (await import("../merge-command.js")).mergeCommand(args, io),
});
