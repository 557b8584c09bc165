/** `bakeoff validate`: checks config and rows without calling a model. */
import type { LoadedConfig } from "../../config/load.js";
import { ExitCode, UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { findConfig } from "../locations.js";
import { configOption, ownDataOptions } from "../common-options.js";

export default defineCommand({
  description:
    "Loads the config, checks every row of every dataset and the scorers, and names key variables that are not set. Sends nothing.",
  options: {
    ...configOption,
    ...ownDataOptions,
    models: { alias: "m", type: "string", describe: "Comma-separated model names to check (default: all configured)" },
  },
  examples: [
    ["$0 validate", "Check eval.config.json in this folder"],
    ["$0 validate --dataset qa.csv --prompt question", "Check your own file with the column you name"],
  ],
  run: async (args, io) => {
    const [{ loadConfig }, { planRun }, { printOwnData, withOwnData }, { placeholderKeys, splitList }] =
      await Promise.all([
        import("../../config/load.js"),
        import("../../run/plan.js"),
        import("../own-data.js"),
        import("../run-command.js"),
      ]);
    const file = findConfig(args.config);
    let loaded: LoadedConfig | undefined = file === undefined ? undefined : await loadConfig(file);
    if (args.dataset && args.dataset.length > 0) {
      const own = await withOwnData(loaded, args);
      printOwnData(own.own, io);
      loaded = own.loaded;
    }
    if (loaded === undefined)
      throw new UsageError(
        'no config file here (looked for eval.config.json and eval.config.jsonc); create one with "bakeoff init", or pass --config FILE or --dataset FILE',
      );
    // Check everything else even when keys are missing, then say which ones `run` will want.
    const missingKeys = placeholderKeys(loaded);
    // Said first, so it is not lost when the datasets have problems too (all reported in one pass).
    const unset = Object.keys(missingKeys);
    if (unset.length > 0)
      io.err(`bakeoff: not set (run will refuse to start without them): ${unset.map((k) => `$${k}`).join(", ")}`);
    const plan = await planRun(loaded, {
      ...(args.models ? { models: splitList(args.models) } : {}),
      env: { ...process.env, ...missingKeys },
      collectProblems: true,
    });
    for (const d of plan.datasets) io.out(`ok  ${d.displayPath}: ${d.rows} rows, ${d.scorers.length} scorers`);
    io.out(`ok  ${plan.models.length} models: ${plan.models.map((m) => m.name).join(", ")}`);
    return unset.length > 0 ? ExitCode.usage : ExitCode.ok;
  },
});
