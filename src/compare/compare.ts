/**
 * Compares a candidate run with a baseline run: rows matched by `<dataset>/<id>`, models by
 * name. Per model and scorer, a paired interval and test (src/stats comparePair: McNemar for 0/1
 * scores, sign-flip otherwise), the rows that went pass→fail and fail→pass with both outputs,
 * whether the endpoint's reported identity changed, and warnings for anything besides the model
 * that differs between the runs.
 */
import { declaredKinds } from "../report/analysis.js";
import type { RunSummary } from "../report/summary.js";
import type { ModelInfo } from "../providers/types.js";
import { comparePair, type PairVerdict } from "../stats/index.js";
import { fetchOutputs, outputKey, type QuotedOutput } from "./outputs.js";
import { loadRunVectors, mostCommon, type CriticalRule, type RunVectors } from "./load.js";
import { RowKeys } from "./row-keys.js";
import { manifestWarnings, type CompareWarning } from "./warnings.js";

/** Options of {@link compareRuns}. */
export interface CompareOptions {
  /** Significance level of the paired tests; the intervals are at 1 − alpha. Default 0.05. */
  alpha?: number;
  /** Seed of the bootstrap and permutation draws (results are reproducible). */
  seed?: number;
  /** Which rows are critical. Default: column `tags` contains `critical`. */
  critical?: CriticalRule;
  /** Most flipped rows quoted per model × scorer × direction (all are counted). Default 100. */
  maxListed?: number;
  /**
   * Share of the baseline's rows each model must have in the candidate for the comparison to
   * count; below it `comparable` is false and regression/critical gates stop with exit 2.
   * Default: the candidate config's `decision.minBaselineMatch`, else 0.9.
   */
  minMatch?: number;
}

/** The change in one model × scorer from baseline to candidate, on rows scored in both. */
export interface ScorerChange {
  model: string;
  scorer: string;
  /**
   * Baseline rows the scorer scored that the candidate has: a candidate call that failed counts
   * as a failed row (score 0), so an outage is a drop, never a smaller sample.
   */
  n: number;
  /** Of `n`, rows whose candidate call failed (counted as failures). */
  candidateErrors: number;
  baselineMean: number | null;
  candidateMean: number | null;
  /** candidate − baseline (negative is a drop). */
  diff: number | null;
  /** Interval of `diff` at 1 − alpha (Newcombe for pass/fail rows, paired bootstrap otherwise). */
  interval: [number, number] | null;
  pValue: number;
  test: PairVerdict["test"];
  significant: boolean;
  /** "points" when scores are in [0, 1] (differences read ×100), else "raw". */
  scale: PairVerdict["scale"];
  /** Smallest drop this comparison detects with 80% power at level alpha (score units): the gate's power. */
  mde: number | null;
  sentence: string;
  passToFail: number;
  failToPass: number;
  /** pass→fail rows tagged critical. */
  criticalPassToFail: number;
}

/** A row whose verdict flipped between the runs, with both outputs. */
export interface FlippedRow {
  model: string;
  scorer: string;
  dataset: string;
  rowId: string;
  direction: "pass→fail" | "fail→pass";
  critical: boolean;
  baseline: QuotedOutput | null;
  candidate: QuotedOutput | null;
}

/** What an endpoint said it was, in one run. */
export interface IdentitySnapshot {
  info: ModelInfo | null;
  /** Most common `model` in responses. */
  responseModel: string | null;
  /** Most common `system_fingerprint`, when the service sends one. */
  systemFingerprint: string | null;
}

export interface IdentityChange {
  model: string;
  baseline: IdentitySnapshot;
  candidate: IdentitySnapshot;
  /** Fields that differ, e.g. `["responseModel"]`. */
  changed: string[];
}

/** Run facts a comparison report shows. */
export interface RunRef {
  runId: string;
  dir: string;
  status: string;
  startedAt: string;
  configHash: string;
}

/** Everything {@link compareRuns} found. Serialised as compare.json. */
export interface CompareResult {
  v: 1;
  baseline: RunRef;
  candidate: RunRef;
  alpha: number;
  warnings: CompareWarning[];
  /** Models in both runs, in the candidate's order. */
  models: string[];
  onlyInBaseline: string[];
  onlyInCandidate: string[];
  /** Per model: rows matched, and rows present in one run only. */
  rows: { model: string; matched: number; onlyBaseline: number; onlyCandidate: number }[];
  /**
   * False when some model has fewer than `minMatch` of the baseline's rows (or the baseline's
   * models are missing): nothing about a regression can be concluded, and gates that need the
   * baseline stop with exit 2. `reasons` says why.
   */
  comparable: boolean;
  minMatch: number;
  notComparableReasons: string[];
  changes: ScorerChange[];
  /** Flipped rows, at most `maxListed` per model × scorer × direction. */
  flips: FlippedRow[];
  identity: IdentityChange[];
  summaries: { baseline: RunSummary; candidate: RunSummary };
}

/** Compares two run directories. Reads each journal twice (once when no row flipped); holds per-row columns only. */
export async function compareRuns(
  baselineDir: string,
  candidateDir: string,
  options: CompareOptions = {},
): Promise<CompareResult> {
  const alpha = options.alpha ?? 0.05;
  const maxListed = options.maxListed ?? 100;
  // One row index for both runs: a row has the same index in each, and its key is held once.
  const rowKeys = new RowKeys();
  const base = await loadRunVectors(baselineDir, options.critical, rowKeys);
  const cand = await loadRunVectors(candidateDir, options.critical, rowKeys);
  // Rows in sorted key order: journal order follows completion order, which varies run to run;
  // sorting makes the statistics (which walk rows by position) and the flip lists reproducible.
  const sorted = rowKeys.sortedByKey();
  const minMatch = options.minMatch ?? cand.manifest.config?.decision?.minBaselineMatch ?? 0.9;
  const notComparableReasons: string[] = [];
  const kinds = declaredKinds(cand.manifest);
  const warnings = manifestWarnings(base.manifest, cand.manifest);

  const models = [...cand.models.keys()].filter((m) => base.models.has(m));
  const onlyInBaseline = [...base.models.keys()].filter((m) => !cand.models.has(m));
  const onlyInCandidate = [...cand.models.keys()].filter((m) => !base.models.has(m));
  for (const m of onlyInBaseline) warnings.push({ kind: "model", message: `model "${m}" is only in the baseline` });
  for (const m of onlyInCandidate) warnings.push({ kind: "model", message: `model "${m}" is only in the candidate` });

  const rows: CompareResult["rows"] = [];
  const changes: ScorerChange[] = [];
  const listed: { flip: Omit<FlippedRow, "baseline" | "candidate">; key: string }[] = [];
  for (const model of models) {
    const b = base.models.get(model)!;
    const c = cand.models.get(model)!;
    let matched = 0;
    let usable = 0; // matched rows the baseline has an answer for (not every trial failed)
    for (let i = 0; i < rowKeys.size; i++) {
      if (!b.has(i) || !c.has(i)) continue;
      matched++;
      if (b.errors[i]! < b.trials[i]!) usable++;
    }
    rows.push({ model, matched, onlyBaseline: b.size - matched, onlyCandidate: c.size - matched });
    if (b.size > 0 && usable / b.size < minMatch) {
      const failed = matched - usable;
      notComparableReasons.push(
        `"${model}": ${usable} of the baseline's ${b.size} rows can be compared (${((usable / b.size) * 100).toFixed(1)}%; at least ${(minMatch * 100).toFixed(0)}% needed)` +
          (failed > 0 ? `; the baseline's calls failed on ${failed} of them` : ""),
      );
    }
    if (b.size - matched > 0 || c.size - matched > 0) {
      warnings.push({
        kind: "rows",
        message: `"${model}": ${matched} rows matched by id; ${b.size - matched} only in the baseline, ${c.size - matched} only in the candidate`,
      });
    }
    // The baseline's scorers: a candidate whose every call failed has no scorer of its own.
    for (const scorer of base.scorers) {
      const change = compareScorer(
        model,
        scorer,
        base,
        cand,
        sorted,
        base.scorers.indexOf(scorer),
        cand.scorers.indexOf(scorer),
        alpha,
        options.seed,
        maxListed,
        listed,
        kinds.get(scorer),
      );
      if (change) changes.push(change);
    }
  }
  for (const m of onlyInBaseline) notComparableReasons.push(`model "${m}" of the baseline is not in the candidate`);
  if (models.length === 0) notComparableReasons.push("the runs have no model in common");

  const wanted = new Set(listed.map((l) => l.key));
  // One after the other: two concurrent passes would double the parse garbage at the peak.
  const bOut = await fetchOutputs(baselineDir, base.manifest, wanted);
  const cOut = await fetchOutputs(candidateDir, cand.manifest, wanted);
  const flips = listed.map(({ flip, key }) => ({
    ...flip,
    baseline: bOut.get(key) ?? null,
    candidate: cOut.get(key) ?? null,
  }));

  const identity = models.map((m) => identityChange(m, base, cand));
  for (const id of identity) {
    if (id.changed.length === 0) continue;
    const show = (s: IdentitySnapshot) => describeIdentity(s, id.changed);
    warnings.push({
      kind: "identity",
      message: `"${id.model}" reports a different identity: ${show(id.baseline)} → ${show(id.candidate)}`,
    });
  }

  return {
    v: 1,
    baseline: ref(base),
    candidate: ref(cand),
    alpha,
    warnings,
    models,
    onlyInBaseline,
    onlyInCandidate,
    rows,
    comparable: notComparableReasons.length === 0,
    minMatch,
    notComparableReasons,
    changes,
    flips,
    identity,
    summaries: { baseline: base.summary, candidate: cand.summary },
  };
}

function compareScorer(
  model: string,
  scorer: string,
  base: RunVectors,
  cand: RunVectors,
  sorted: Uint32Array,
  bi: number,
  ci: number,
  alpha: number,
  seed: number | undefined,
  maxListed: number,
  listed: { flip: Omit<FlippedRow, "baseline" | "candidate">; key: string }[],
  kind: string | undefined,
): ScorerChange | null {
  const b = base.models.get(model)!;
  const c = cand.models.get(model)!;
  const bVals: number[] = [];
  const cVals: number[] = [];
  let binary = kind === undefined || kind === "binary";
  let candidateErrors = 0;
  let passToFail = 0;
  let failToPass = 0;
  let criticalPassToFail = 0;
  let listedDown = 0;
  let listedUp = 0;
  // The baseline's rows, in sorted key order.
  for (const i of sorted) {
    if (!b.has(i) || !c.has(i)) continue;
    const bm = b.mean(i, bi);
    if (bm === null) continue; // the baseline did not score this row: nothing to regress from
    let cm = ci < 0 ? null : c.mean(i, ci);
    // Fail closed: a row whose candidate call failed is a failed row (score 0), so a total or
    // partial outage shows as the drop it is instead of shrinking the sample.
    const erred = cm === null && c.errors[i]! > 0;
    if (erred) {
      cm = 0;
      candidateErrors++;
    } else if (cm === null) continue; // scored by the baseline only (the scorer was removed)
    bVals.push(bm);
    cVals.push(cm);
    if ((bm !== 0 && bm !== 1) || (cm !== 0 && cm !== 1)) binary = false;
    const bp = b.passesRow(i, bi);
    const cp = erred ? false : ci < 0 ? null : c.passesRow(i, ci);
    if (bp === null || cp === null || bp === cp) continue;
    const critical = c.isCritical(i) || b.isCritical(i);
    const down = bp && !cp;
    if (down) {
      passToFail++;
      if (critical) criticalPassToFail++;
    } else failToPass++;
    // Critical rows are always listed: the critical gate cites them.
    const within = down ? listedDown++ < maxListed : listedUp++ < maxListed;
    if (within || (down && critical)) {
      const key = base.rows.keyAt(i);
      const slash = key.indexOf("/");
      listed.push({
        key: outputKey(model, key),
        flip: {
          model,
          scorer,
          dataset: key.slice(0, slash),
          rowId: key.slice(slash + 1),
          direction: down ? "pass→fail" : "fail→pass",
          critical,
        },
      });
    }
  }
  if (bVals.length === 0) return null;
  const v = comparePair(cVals, bVals, {
    binary,
    alpha,
    names: ["candidate", "baseline"],
    ...(seed !== undefined ? { seed } : {}),
  });
  return scorerChange(v, { model, scorer, candidateErrors, passToFail, failToPass, criticalPassToFail });
}

/**
 * A paired verdict (candidate first, baseline second) as one model × scorer line of a comparison.
 * The gates read these lines; the gate simulation builds them with this same function.
 */
export function scorerChange(
  v: PairVerdict,
  counts: Pick<
    ScorerChange,
    "model" | "scorer" | "candidateErrors" | "passToFail" | "failToPass" | "criticalPassToFail"
  >,
): ScorerChange {
  return {
    model: counts.model,
    scorer: counts.scorer,
    n: v.n,
    candidateErrors: counts.candidateErrors,
    baselineMean: v.meanB,
    candidateMean: v.meanA,
    diff: v.diff,
    interval: v.interval,
    pValue: v.pValue,
    test: v.test,
    significant: v.significant,
    scale: v.scale,
    mde: v.mde,
    sentence: v.sentence,
    passToFail: counts.passToFail,
    failToPass: counts.failToPass,
    criticalPassToFail: counts.criticalPassToFail,
  };
}

function snapshot(run: RunVectors, model: string): IdentitySnapshot {
  const counts = run.identity.get(model);
  return {
    info: run.manifest.models.find((m) => m.name === model)?.info ?? null,
    responseModel: counts ? mostCommon(counts.responseModel) : null,
    systemFingerprint: counts ? mostCommon(counts.systemFingerprint) : null,
  };
}

function identityChange(model: string, base: RunVectors, cand: RunVectors): IdentityChange {
  const b = snapshot(base, model);
  const c = snapshot(cand, model);
  const changed: string[] = [];
  // Only values both runs recorded are compared: a missing /info is absence of evidence.
  if (b.info && c.info) {
    for (const f of ["modelName", "modelType", "providerName"] as const)
      if (b.info[f] !== c.info[f]) changed.push(`info.${f}`);
  }
  if (b.responseModel !== null && c.responseModel !== null && b.responseModel !== c.responseModel)
    changed.push("responseModel");
  if (b.systemFingerprint !== null && c.systemFingerprint !== null && b.systemFingerprint !== c.systemFingerprint)
    changed.push("systemFingerprint");
  return { model, baseline: b, candidate: c, changed };
}

function describeIdentity(s: IdentitySnapshot, fields: string[]): string {
  const parts: string[] = [];
  for (const f of fields) {
    if (f.startsWith("info."))
      parts.push(`/info ${f.slice(5)}=${String(s.info?.[f.slice(5) as keyof ModelInfo] ?? "none")}`);
    else if (f === "responseModel") parts.push(`response model=${s.responseModel ?? "none"}`);
    else parts.push(`system_fingerprint=${s.systemFingerprint ?? "none"}`);
  }
  return parts.join(", ");
}

function ref(run: RunVectors): RunRef {
  const m = run.manifest;
  return { runId: m.runId, dir: run.dir, status: m.status, startedAt: m.startedAt, configHash: m.configHash };
}
