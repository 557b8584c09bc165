/** `bakeoff history`. */
import { ExitCode } from "../../errors.js";
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

export default defineCommand({
  description:
    "Trend of every model and scorer over the last runs of the same dataset, from <out>/index.jsonl (runs not yet indexed are indexed first).",
  options: {
    ...outOption,
    ...configOption,
    last: { type: "number", default: 10, describe: "Number of runs shown (whole number ≥ 1)" },
    "all-datasets": {
      type: "boolean",
      default: false,
      describe: "Mix runs of every dataset (default: only the newest run's dataset)",
    },
  },
  examples: [
    ["$0 history", "The last 10 runs of the newest run's dataset"],
    ["$0 history --last 30 --all-datasets", "Thirty runs, any dataset"],
  ],
  run: async (args, io) => {
    const { historyCommand } = await import("../compare-commands.js");
    await historyCommand({ ...args, out: await resultsDir(args) }, io);
    return ExitCode.ok;
  },
});
