/** `bakeoff report <run>`: re-renders a run's reports from its journal. */
import { relative } from "node:path";
import { ExitCode } from "../../errors.js";
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

const options = { ...outOption, ...configOption } as const;

export default defineCommand<typeof options, { run: string }>({
  description:
    "Writes report.md, report.html, report.json, predictions.csv and junit.xml again into the run's directory, from predictions.jsonl and run.json alone.",
  positionals: {
    run: { type: "string", demandOption: true, describe: "Run id, path of a run directory, latest or latest~N" },
  },
  options,
  examples: [
    ["$0 report latest", "Re-render the newest run's reports"],
    ["$0 report 20260101T020000Z-ab12 --out nightly", "A run in another results directory"],
  ],
  run: async (args, io) => {
    const [{ writeRunReports }, { indexRun }, { locateRun, lockRunDir }] = await Promise.all([
      import("../../report/run-report.js"),
      import("../../report/index-entry.js"),
      import("../../store/run-dir.js"),
    ]);
    const dir = await locateRun(await resultsDir(args), args.run);
    // Under the run's lock: a run still writing its journal would make the reports stale.
    const lock = await lockRunDir(dir, "report");
    try {
      const report = await writeRunReports(dir);
      if (report.manifest.status !== "running")
        await indexRun(dir, { manifest: report.manifest, summary: report.analysis.summary });
      for (const f of report.files) io.out(relative(process.cwd(), f));
    } finally {
      await lock.release();
    }
    return ExitCode.ok;
  },
});
