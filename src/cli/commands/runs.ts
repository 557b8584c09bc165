/** `bakeoff runs`: the runs in the results directory, newest first. */
import { relative } from "node:path";
import { ExitCode, UsageError } from "../../errors.js";
import type { RunIndexEntry } from "../../store/run-index.js";
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

export default defineCommand({
  description:
    "Lists runs, newest first: id, start time, status, datasets, and each model's headline score (the mean of its first scorer). Runs not yet in <out>/index.jsonl are indexed first.",
  options: {
    ...outOption,
    ...configOption,
    last: { alias: "n", type: "number", default: 20, describe: "Show this many runs (whole number ≥ 1)" },
    json: { type: "boolean", default: false, describe: "Print the index entries as JSON lines instead of a table" },
  },
  examples: [
    ["$0 runs", "The last 20 runs in ./results (or the config's outputDir)"],
    ["$0 runs --out nightly --last 5", "Five runs of another results directory"],
    ["$0 runs --json | jq .runId", "For scripts"],
  ],
  run: async (args, io) => {
    if (!Number.isInteger(args.last) || args.last < 1)
      throw new UsageError(`--last must be a whole number of at least 1 (got ${args.last})`);
    const { syncRunIndex } = await import("../../report/index-entry.js");
    const dir = await resultsDir(args);
    const entries = (await syncRunIndex(dir)).slice(-args.last).reverse();
    if (args.json) {
      for (const e of entries) io.out(JSON.stringify(e));
      return ExitCode.ok;
    }
    if (entries.length === 0) {
      io.err(`bakeoff: no runs in ${relative(process.cwd(), dir) || "."} (start one with "bakeoff run")`);
      return ExitCode.ok;
    }
    const rows = entries.map((e) => [
      e.runId,
      e.startedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
      e.status,
      e.datasets.map((d) => d.name).join(", "),
      headline(e),
    ]);
    const head = ["RUN", "STARTED", "STATUS", "DATASETS", "MODELS (headline score)"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows])
      io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
    return ExitCode.ok;
  },
});

/** Each model with the mean of its first scorer, e.g. `small numeric 0.750, large numeric 0.950`. */
function headline(e: RunIndexEntry): string {
  return e.models
    .map((m) => {
      const first = Object.entries(m.scores)[0];
      if (!first) return m.name;
      return `${m.name} ${first[0]} ${first[1] === null ? "n/a" : first[1].toFixed(3)}`;
    })
    .join(", ");
}
