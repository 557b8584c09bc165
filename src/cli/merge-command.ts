/**
 * `bakeoff merge`: checks and merges shard runs (src/store/merge.ts), writes the merged run's
 * reports and index entry, then compares and gates it exactly as `bakeoff run` gates a run.
 */
import { dirname, relative } from "node:path";
import { parseGateRules } from "../compare/rules.js";
import { indexRun } from "../report/index-entry.js";
import { writeRunReports, type RunReport } from "../report/run-report.js";
import { mergeShardRuns } from "../store/merge.js";
import { checkRunId, locateRun } from "../store/run-dir.js";
import { afterRun, LATEST_COMPARABLE, snapshotGates } from "./compare-commands.js";
import type { Io } from "./io.js";
import { resultsDir } from "./locations.js";

export interface MergeArgs {
  runs: string[];
  runId?: string | undefined;
  out?: string | undefined;
  config?: string | undefined;
  baseline?: string | undefined;
  failOn?: string[] | undefined;
}

export async function mergeCommand(args: MergeArgs, io: Io): Promise<number> {
  const outputDir = await resultsDir(args);
  if (args.runId !== undefined) checkRunId(args.runId);
  // Bad rules and a missing baseline are usage errors, found before anything is written.
  const extra = parseGateRules(args.failOn ?? []);
  const baselineDir =
    args.baseline === undefined
      ? undefined
      : args.baseline === "latest"
        ? LATEST_COMPARABLE
        : await locateRun(outputDir, args.baseline);
  const shardDirs: string[] = [];
  for (const spec of args.runs) shardDirs.push(await locateRun(outputDir, spec));

  let report: RunReport | undefined;
  const merged = await mergeShardRuns({
    shardDirs,
    outputDir,
    ...(args.runId !== undefined ? { runId: args.runId } : {}),
    finish: async (runDir, manifest) => {
      report = await writeRunReports(runDir, { manifest });
      await indexRun(runDir, { outputDir: dirname(runDir), manifest });
    },
  });
  const m = merged.manifest;
  const rows = m.datasets.reduce((a, d) => a + d.rows, 0);
  io.out(
    `Merged ${merged.shards.length} shard run(s) (${m.mergedFrom!.join(", ")}) into run ${m.runId}: ${m.status}. ` +
      `${rows} rows × ${m.models.length} models${m.trials > 1 ? ` × ${m.trials} trials` : ""}; ${merged.records} results.`,
  );
  if (report) {
    io.out(`Verdict: ${report.analysis.recommendation}`);
    for (const f of report.files) io.out(`Report: ${relative(process.cwd(), f)}`);
    for (const w of report.warnings) io.err(`bakeoff: warning: ${w}`);
  }
  // The plan's config gates were not applied to any shard: they apply here, with --fail-on's.
  const gates = [...snapshotGates(m), ...extra];
  return afterRun(outputDir, merged.runDir, baselineDir, gates, io);
}
