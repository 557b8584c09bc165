/**
 * `--baseline latest`: the newest earlier run a candidate can honestly be compared with. "Latest"
 * alone would pick an ad-hoc run on another dataset, match 0 rows and pass every gate; a baseline
 * must have asked the same questions of the same models in the same way.
 */
import { basename, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { readManifest, type RunManifest } from "../store/manifest.js";
import { listRuns, readRunIndex, runLimits } from "../store/run-index.js";

/**
 * Why `baseline` cannot serve as the baseline of `candidate`, or null when it can: the same
 * dataset names and content hashes, the same models, the same row limits (so an unlimited run
 * never takes a `--limit` run as its baseline), the same trials per row, a complete run, and not
 * a shard run (`run --shard`) when the candidate is a whole run.
 */
export function whyNotComparable(baseline: RunManifest, candidate: RunManifest): string | null {
  // A shard holds a slice of the rows: compared with a whole run it would match a fraction of them.
  if (baseline.shard !== undefined && candidate.shard === undefined)
    return `it is shard ${baseline.shard.index}/${baseline.shard.count} of a sharded run (compare the merged run)`;
  const ds = (m: RunManifest) =>
    m.datasets
      .map((d) => `${d.name}@${d.sha256}`)
      .sort()
      .join(",");
  if (ds(baseline) !== ds(candidate)) {
    const names = (m: RunManifest) =>
      m.datasets
        .map((d) => d.name)
        .sort()
        .join(", ");
    return names(baseline) === names(candidate)
      ? "a dataset's content changed (different hash)"
      : `different datasets (${names(baseline)} vs ${names(candidate)})`;
  }
  const ms = (m: RunManifest) =>
    m.models
      .map((x) => x.name)
      .sort()
      .join(", ");
  if (ms(baseline) !== ms(candidate)) return `different models (${ms(baseline)} vs ${ms(candidate)})`;
  if (runLimits(baseline) !== runLimits(candidate)) {
    return runLimits(candidate) === ""
      ? "it used a row limit (--limit)"
      : `different row limits (${runLimits(baseline) || "none"} vs ${runLimits(candidate)})`;
  }
  if ((baseline.trials ?? 1) !== (candidate.trials ?? 1))
    return `different trials per row (${baseline.trials ?? 1} vs ${candidate.trials ?? 1})`;
  if (baseline.status !== "complete") return `it is ${baseline.status}`;
  return null;
}

/**
 * The newest run in `outputDir`, other than the candidate and started before it, that is
 * comparable with it.
 * @throws UsageError (exit 2) saying why the newest earlier runs are not comparable.
 */
export async function latestComparableRun(outputDir: string, candidateDir: string): Promise<string> {
  const candidate = await readManifest(candidateDir);
  const runs = (await listRuns(outputDir)).filter((d) => resolve(d) !== resolve(candidateDir));
  const minMatch = candidate.config?.decision?.minBaselineMatch ?? 0.9;
  // A run whose calls mostly failed answers nothing: it cannot be what "worse" is measured from.
  const health = new Map((await readRunIndex(outputDir)).map((e) => [e.dir, e]));
  const rejected: string[] = [];
  for (let i = runs.length - 1; i >= 0; i--) {
    const dir = runs[i]!;
    const m = await readManifest(dir);
    if (m.startedAt > candidate.startedAt) continue;
    const sick = health.get(basename(dir))?.models.find((x) => x.n > 0 && (x.n - x.errors) / x.n < minMatch);
    const why =
      whyNotComparable(m, candidate) ?? (sick ? `"${sick.name}" failed ${sick.errors} of its ${sick.n} calls` : null);
    if (why === null) return dir;
    if (rejected.length < 3) rejected.push(`${basename(dir)}: ${why}`);
  }
  const seen = rejected.length > 0 ? ` Newest runs skipped: ${rejected.join("; ")}.` : "";
  throw new UsageError(
    `--baseline latest: no earlier run is comparable with ${candidate.runId} (same datasets and hashes, same models, no --limit, same trials, complete).${seen} Name a baseline explicitly to compare anyway.`,
  );
}
