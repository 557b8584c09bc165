/**
 * Reads one run directory into what a comparison needs and nothing more: per row and model a
 * small numeric vector (score sums and pass counts per scorer, trials, errors, a critical flag)
 * plus counts of the identities the endpoint reported. Texts are never kept here; the few
 * outputs a report quotes are fetched in a second pass (outputs.ts).
 */
import { readManifest, type RunManifest } from "../store/manifest.js";
import { runRecords } from "../store/journal.js";
import type { PredictionRecord } from "../types.js";

/** One row × model, pooled over trials. Arrays are indexed by {@link RunVectors.scorers}. */
export interface RowVector {
  /** Sum of numeric scores per scorer over trials that scored. */
  sums: Float64Array;
  /** Trials with a numeric score, per scorer. */
  counts: Uint16Array;
  /** Trials whose score carried `pass: true`, per scorer. */
  passes: Uint16Array;
  /** Trials whose score carried a `pass` at all, per scorer. */
  passN: Uint16Array;
  trials: number;
  errors: number;
  critical: boolean;
}

/** Identity evidence for one model: how often each reported value was seen. */
export interface IdentityCounts {
  responseModel: Map<string, number>;
  systemFingerprint: Map<string, number>;
}

/** A run reduced to per-row vectors. */
export interface RunVectors {
  dir: string;
  manifest: RunManifest;
  /** Scorer names in first-seen order. */
  scorers: string[];
  /** Model → row key (`<dataset>/<rowId>`) → vector. */
  models: Map<string, Map<string, RowVector>>;
  identity: Map<string, IdentityCounts>;
}

/** How a row is recognised as critical: its `column` lists `tag` among comma/space separated tags. */
export interface CriticalRule {
  column: string;
  tag: string;
}

/** The key rows are matched by across runs. */
export function rowKey(dataset: string, rowId: string): string {
  return `${dataset}/${rowId}`;
}

/** Whether a tags cell (e.g. `"critical,thousands"` or `["critical"]`) names `tag`. */
export function hasTag(cell: string | undefined, tag: string): boolean {
  if (cell === undefined || cell === "") return false;
  const want = tag.toLowerCase();
  return cell
    .toLowerCase()
    .split(/[^a-z0-9_:.-]+/)
    .some((t) => t === want);
}

/**
 * Streams a run's final records (last line per key) into {@link RunVectors}. Memory is one
 * vector per row × model, independent of output sizes.
 */
export async function loadRunVectors(
  dir: string,
  critical: CriticalRule = { column: "tags", tag: "critical" },
): Promise<RunVectors> {
  const manifest = await readManifest(dir);
  const scorerIndex = new Map<string, number>();
  const scorers: string[] = [];
  const models = new Map<string, Map<string, RowVector>>();
  const identity = new Map<string, IdentityCounts>();

  for await (const rec of runRecords(dir, manifest)) {
    let rows = models.get(rec.model);
    if (!rows) models.set(rec.model, (rows = new Map<string, RowVector>()));
    const key = rowKey(rec.dataset, rec.rowId);
    let vec = rows.get(key);
    if (!vec) rows.set(key, (vec = newVector(scorers.length, hasTag(rec.input.vars[critical.column], critical.tag))));
    vec.trials++;
    countIdentity(identity, rec);
    // Failed calls carry no real scores; they are counted as errors, as the run summary does.
    if (rec.output.error) {
      vec.errors++;
      continue;
    }
    for (const [name, score] of Object.entries(rec.scores)) {
      let i = scorerIndex.get(name);
      if (i === undefined) {
        i = scorers.length;
        scorerIndex.set(name, i);
        scorers.push(name);
      }
      if (i >= vec.sums.length) vec = grow(rows, key, vec, scorers.length);
      if (typeof score.value === "number" && Number.isFinite(score.value)) {
        vec.sums[i]! += score.value;
        vec.counts[i]!++;
      }
      if (typeof score.pass === "boolean") {
        vec.passN[i]!++;
        if (score.pass) vec.passes[i]!++;
      }
    }
  }
  return { dir, manifest, scorers, models, identity };
}

/** Mean score of a row for scorer `i` over its scored trials, or null when none scored. */
export function rowMean(vec: RowVector, i: number): number | null {
  const n = vec.counts[i] ?? 0;
  return n > 0 ? vec.sums[i]! / n : null;
}

/**
 * Whether a row passes scorer `i`: a majority of its trials passed. Scorers without `pass` fall
 * back to a perfect score (1) counting as a pass. Null when the row was not scored.
 */
export function rowPasses(vec: RowVector, i: number): boolean | null {
  const passN = vec.passN[i] ?? 0;
  if (passN > 0) return vec.passes[i]! * 2 > passN;
  const mean = rowMean(vec, i);
  return mean === null ? null : mean >= 1;
}

/** The most common value in a count map (ties: the first seen), or null when empty. */
export function mostCommon(counts: Map<string, number>): string | null {
  let best: string | null = null;
  let bestN = 0;
  for (const [v, n] of counts) {
    if (n > bestN) {
      best = v;
      bestN = n;
    }
  }
  return best;
}

function newVector(scorers: number, critical: boolean): RowVector {
  return {
    sums: new Float64Array(scorers),
    counts: new Uint16Array(scorers),
    passes: new Uint16Array(scorers),
    passN: new Uint16Array(scorers),
    trials: 0,
    errors: 0,
    critical,
  };
}

/** A scorer appeared after this row's vector was made: widen it (rare; only early rows). */
function grow(rows: Map<string, RowVector>, key: string, old: RowVector, size: number): RowVector {
  const vec = newVector(size, old.critical);
  vec.sums.set(old.sums);
  vec.counts.set(old.counts);
  vec.passes.set(old.passes);
  vec.passN.set(old.passN);
  vec.trials = old.trials;
  vec.errors = old.errors;
  rows.set(key, vec);
  return vec;
}

function countIdentity(identity: Map<string, IdentityCounts>, rec: PredictionRecord): void {
  let c = identity.get(rec.model);
  if (!c) identity.set(rec.model, (c = { responseModel: new Map(), systemFingerprint: new Map() }));
  const { model, systemFingerprint } = rec.output;
  if (typeof model === "string" && model !== "") c.responseModel.set(model, (c.responseModel.get(model) ?? 0) + 1);
  if (typeof systemFingerprint === "string" && systemFingerprint !== "") {
    c.systemFingerprint.set(systemFingerprint, (c.systemFingerprint.get(systemFingerprint) ?? 0) + 1);
  }
}
