/**
 * `bakeoff compare`, `bakeoff history`, and what `run` does after a run (index it, compare with a
 * baseline, apply gates). Returns exit codes; prints through `io`.
 */
import { dirname, relative, resolve } from "node:path";
import { latestComparableRun } from "../compare/baseline.js";
import { checkCompare, type CheckResult } from "../compare/check.js";
import { GateSpec } from "../compare/gate-spec.js";
import { parseGateRules } from "../compare/rules.js";
import { ExitCode, UsageError } from "../errors.js";
import { syncRunIndex } from "../report/index-entry.js";
import { historyTable, renderHistoryText } from "../run/history.js";
import { readManifest } from "../store/manifest.js";
import { locateRun } from "../store/run-dir.js";
import type { Io } from "./io.js";

export interface CompareArgs {
  baseline: string;
  candidate: string;
  out: string;
  "fail-on"?: string[] | undefined;
  "config-gates": boolean;
  write?: string | undefined;
}

export async function compareCommand(args: CompareArgs, io: Io): Promise<number> {
  const extra = parseGateRules(args["fail-on"] ?? []);
  const baselineDir = await locateRun(args.out, args.baseline);
  const candidateDir = await locateRun(args.out, args.candidate);
  const configured = args["config-gates"] ? snapshotGates(await readManifest(candidateDir)) : [];
  const check = await checkCompare({
    baselineDir,
    candidateDir,
    gates: [...configured, ...extra],
    indexDir: dirname(candidateDir),
    ...(args.write ? { writeDir: args.write } : {}),
  });
  return printCheck(check, io);
}

export async function historyCommand(
  args: { out: string; last: number; "all-datasets": boolean },
  io: Io,
): Promise<void> {
  if (!Number.isInteger(args.last) || args.last < 1)
    throw new UsageError(`--last must be a whole number of at least 1 (got ${args.last})`);
  // Runs made before indexing, or by library callers, are indexed now from their directories.
  const entries = await syncRunIndex(resolve(args.out));
  const table = historyTable(entries, { last: args.last, ...(args["all-datasets"] ? { datasetHash: null } : {}) });
  for (const line of renderHistoryText(table)) io.out(line);
}

/** `run --baseline latest`: resolved after the run to the latest run comparable with it. */
export const LATEST_COMPARABLE = "\u0000latest-comparable";

/**
 * After a run (which indexed itself in `<outputDir>/index.jsonl`): compare with the baseline and
 * apply gates when either was asked for. Returns the exit code the gates decide.
 */
export async function afterRun(
  outputDir: string,
  runDir: string,
  baseline: string | undefined,
  gates: GateSpec[],
  io: Io,
): Promise<number> {
  if (baseline === undefined && gates.length === 0) return ExitCode.ok;
  const baselineDir = baseline === LATEST_COMPARABLE ? await latestComparableRun(outputDir, runDir) : baseline;
  const check = await checkCompare({
    candidateDir: runDir,
    gates,
    indexDir: outputDir,
    ...(baselineDir ? { baselineDir } : {}),
  });
  return printCheck(check, io);
}

/** Prints a comparison's headline, warnings and gate outcomes; returns the exit code. */
function printCheck(check: CheckResult, io: Io): number {
  const c = check.comparison;
  if (c) {
    io.out(`Compare ${c.baseline.runId} → ${c.candidate.runId}: ${c.models.length} model(s) matched`);
    for (const ch of c.changes)
      io.out(
        `  ${ch.model.padEnd(12)} ${ch.scorer}: ${ch.sentence}; pass→fail ${ch.passToFail}, fail→pass ${ch.failToPass}`,
      );
    for (const w of c.warnings) io.err(`bakeoff: warning: ${w.message}`);
    for (const f of check.files) io.out(`Compare: ${relative(process.cwd(), f)}`);
  }
  for (const o of check.gates.outcomes) {
    io.out(`Gate ${o.rule}: ${o.status.toUpperCase()}`);
    for (const d of o.details.slice(0, 10)) io.out(`    ${d}`);
    if (o.details.length > 10) io.out(`    … and ${o.details.length - 10} more`);
    for (const p of o.power ?? []) if (p.warning) io.err(`bakeoff: warning: ${p.warning}`);
  }
  if (!check.gates.comparable) {
    // Fail closed: a gate that could not look at the baseline must not read as a pass.
    io.err(`bakeoff: baseline not comparable: ${c?.notComparableReasons.join("; ") ?? "unknown reason"}`);
    return ExitCode.usage;
  }
  const incomplete =
    check.candidateStatus !== "complete" || (check.baselineStatus !== null && check.baselineStatus !== "complete");
  if (!check.gates.passed) io.err("bakeoff: gate failed.");
  // An unfinished run decides nothing: 3 tells CI to fix the run, not the model.
  if (incomplete && c) return ExitCode.incomplete;
  return check.gates.passed ? ExitCode.ok : ExitCode.gateFailed;
}

/** Gates recorded in a run's config snapshot (runs made before gates existed have none). */
export function snapshotGates(manifest: Awaited<ReturnType<typeof readManifest>>): GateSpec[] {
  const raw = (manifest.config as { gates?: unknown }).gates;
  if (!Array.isArray(raw)) return [];
  return raw.map((g, i) => {
    const parsed = GateSpec.safeParse(g);
    if (!parsed.success)
      throw new UsageError(
        `run ${manifest.runId}: config gates[${i}] is not valid: ${parsed.error.issues.map((x) => x.message).join("; ")}`,
      );
    return parsed.data;
  });
}
