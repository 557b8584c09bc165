/** `bakeoff weave-sync <run>`: uploads a finished run to W&B Weave from its journal. */
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

const options = {
  weave: { type: "string", describe: "Weave project (entity/project); default: the run's config" },
  ...outOption,
  ...configOption,
} as const;

export default defineCommand<typeof options, { run: string }>({
  description:
    "Uploads a run's recorded results to W&B Weave (no model is called). Use it when a run's upload was cut short or Weave was off. The key comes from WANDB_API_KEY.",
  positionals: {
    run: { type: "string", demandOption: true, describe: "Run id, path of a run directory, latest or latest~N" },
  },
  options,
  examples: [
    ["$0 weave-sync latest", "Upload the newest run to the project in its config"],
    ["$0 weave-sync latest --weave my-team/evals", "Upload to another project"],
  ],
  run: async (args, io) => {
    const [{ locateRun }, { syncRunToWeaveCli }] = await Promise.all([
      import("../../store/run-dir.js"),
      import("../../tracking/cli-glue.js"),
    ]);
    const dir = await locateRun(await resultsDir(args), args.run);
    return syncRunToWeaveCli(dir, { ...(args.weave ? { project: args.weave } : {}), io });
  },
});
