/** `bakeoff compare <baseline> <candidate>`. */
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

const options = {
  ...outOption,
  ...configOption,
  "fail-on": {
    type: "string",
    array: true,
    describe: "Gate rule, repeatable (added to the candidate's config gates); exit 1 when one fails",
  },
  "config-gates": {
    type: "boolean",
    default: true,
    describe: "Apply the gates in the candidate run's config (--no-config-gates: only --fail-on)",
  },
  write: { type: "string", describe: "Directory for compare.md/.json/.html (default: the candidate's run directory)" },
} as const;

export default defineCommand<typeof options, { baseline: string; candidate: string }>({
  description:
    "Paired change per model and scorer between two runs of the same dataset, flipped rows and warnings; writes compare.md/.json/.html. Gates decide the exit code (1 when one fails, 3 when a run is incomplete).",
  positionals: {
    baseline: {
      type: "string",
      demandOption: true,
      describe: "The run to compare against (id, path, latest, latest~N)",
    },
    candidate: { type: "string", demandOption: true, describe: "The run being judged (id, path, latest, latest~N)" },
  },
  options,
  examples: [
    ["$0 compare latest~1 latest", "The newest run against the one before"],
    ['$0 compare nightly-41 nightly-42 --fail-on "regression:numeric>2"', "Fail (exit 1) on a real regression"],
  ],
  run: async (args, io) => {
    const { compareCommand } = await import("../compare-commands.js");
    return compareCommand({ ...args, out: await resultsDir(args) }, io);
  },
});
