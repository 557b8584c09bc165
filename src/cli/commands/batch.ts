/** `bakeoff batch status|cancel <run>`: a batch run's batches on the service. */
import { ExitCode } from "../../errors.js";
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

const options = {
  ...outOption,
  ...configOption,
  json: { type: "boolean", default: false, describe: "Print one JSON object per batch instead of a table" },
} as const;

export default defineCommand<typeof options, { action: string; run: string }>({
  description:
    "status: each batch of a run made with --batch (model, part, batch id, status, request counts, age), in-flight ones asked from the service (keys from the environment, as for run).\n" +
    "cancel: cancels the batches still in flight on the service and records it; the run then ends incomplete, and --resume submits their unanswered lines again.",
  positionals: {
    action: { choices: ["status", "cancel"] as const, demandOption: true, describe: "status or cancel" },
    run: { type: "string", demandOption: true, describe: "Run id, path of a run directory, latest or latest~N" },
  },
  options,
  examples: [
    ["$0 batch status latest", "Where the newest run's batches stand"],
    ["$0 batch cancel 20260101T020000Z-ab12", "Cancel that run's batches in flight"],
  ],
  run: async (args, io) => {
    const [{ locateRun }, admin] = await Promise.all([
      import("../../store/run-dir.js"),
      import("../../batch/admin.js"),
    ]);
    const dir = await locateRun(await resultsDir(args), args.run);
    if (args.action === "cancel") {
      const r = await admin.cancelBatches(dir);
      for (const c of r.cancelled) io.out(`${c.model} #${c.part} ${c.batchId}: ${c.status}`);
      for (const f of r.failed) io.err(`bakeoff: ${f.model} #${f.part} ${f.batchId}: not cancelled: ${f.reason}`);
      if (r.cancelled.length === 0 && r.failed.length === 0) io.out("No batch of this run is in flight.");
      else if (r.cancelled.length > 0 && !r.recorded)
        io.err("bakeoff: the run is active in another process; it records the cancellation at its next poll.");
      return r.failed.length > 0 ? ExitCode.incomplete : ExitCode.ok;
    }
    const rows = await admin.batchStatus(dir);
    if (args.json) {
      for (const r of rows) io.out(JSON.stringify(r));
      return ExitCode.ok;
    }
    if (rows.length === 0) {
      io.out("This run has no batches (it was not run with --batch).");
      return ExitCode.ok;
    }
    const table = rows.map((r) => [
      r.model,
      `#${r.part}`,
      r.batchId ?? "(not submitted)",
      r.status + (r.ingested ? ", ingested" : ""),
      r.counts
        ? `${r.counts.completed}/${r.counts.total}${r.counts.failed ? ` (${r.counts.failed} failed)` : ""}`
        : `${r.lines} lines`,
      admin.formatAge(r.ageMs),
      r.note ?? "",
    ]);
    const head = ["MODEL", "PART", "BATCH", "STATUS", "REQUESTS", "AGE", ""];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
    for (const t of [head, ...table])
      io.out(
        t
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      );
    return ExitCode.ok;
  },
});
