/**
 * The decision analysis of a run: per-model intervals, paired verdicts for every pair of models,
 * cost and latency, the cost/quality front and the one-sentence recommendation. Every report
 * (report.md, report.json, and report.html later) is rendered from one {@link RunAnalysis}, so
 * they never disagree with each other or with the journal.
 *
 * Memory: the journal is streamed, never loaded. Pairing needs each model's score on each row, so
 * rows get a dense index (src/report/row-index.ts: addressed by dataset and line, ~10 bytes per row) and every
 * scorer × model keeps a column over that index (src/report/row-scores.ts: sum of trial scores
 * and number of scored trials, 1 byte per row for 0/1 scores, else 10). For the disagreements'
 * excerpts, the records' byte offsets go to a temp file (src/report/record-positions.ts), and the
 * few selected records are read back by position after the pass. Nothing else grows with the
 * journal.
 *
 * Determinism: every resampling statistic is seeded (src/stats), models follow run.json order,
 * scorers their first appearance in the journal, so re-rendering a run is byte-identical.
 */
import { readManifest, type RunManifest } from "../store/manifest.js";
import {
  DEFAULT_SEED,
  adjustFamily,
  bootstrapMeanInterval,
  comparePair,
  comparePairedTable,
  paretoFront,
  passAtK,
  passHatK,
  wilsonInterval,
  type PairedTable,
  type PairVerdict,
} from "../stats/index.js";
import { DEFAULT_DECISION } from "../config/decision-defaults.js";
import type { DecisionSpec } from "../config/schema.js";
import { scorerKind, scorerName, type ScorerKind } from "../scoring/names.js";
import { hasTag } from "../compare/load.js";
import { decideDataset, headline, type DatasetDecision, type DecisionModel } from "./decision.js";
import { messageText, type PredictionRecord } from "../types.js";
import {
  runRecords,
  readRecordAtSync,
  scanRunRecords,
  PREDICTIONS_FILE,
  type RecordPosition,
} from "../store/journal.js";
import { datasetOrder, RowIndex, rowKey, type RowHash } from "./row-index.js";
import { RowScores } from "./row-scores.js";
import { noteScorers } from "./scorer-layout.js";
import { RecordPositions } from "./record-positions.js";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";

export { rowKey } from "./row-index.js";
import { SummaryBuilder, type DatasetSummary, type ModelSummary, type RunSummary } from "./summary.js";

/** How many disagreements {@link analyzeRun} keeps by default. */
export const DEFAULT_DISAGREEMENTS = 20;
/** Characters kept of prompts, expected answers and outputs in excerpts. */
export const EXCERPT_CHARS = 300;

/**
 * Upper edges of the latency histogram, ms: 20 log-spaced buckets, four per decade from 1 ms to
 * 100 s. Fixed (not data-driven) so that histograms of different models and runs line up on one
 * axis. Bucket i counts latencies in [edge[i], edge[i+1]); the first bucket also takes anything
 * faster than 1 ms and the last anything slower than 100 s.
 */
export const LATENCY_BUCKET_EDGES_MS: readonly number[] = Array.from({ length: 21 }, (_, i) =>
  Number((10 ** (i / 4)).toPrecision(6)),
);

/**
 * Resampling work per interval (draws). Bootstrap and permutation costs are O(draws × n), so for
 * very large n the resample count shrinks to keep a million-row report to seconds; with that many
 * rows the bootstrap distribution is close to normal and the Monte Carlo error is tiny next to
 * the interval width. Never below {@link MIN_RESAMPLES}.
 */
const RESAMPLING_BUDGET = 50_000_000;
const MIN_RESAMPLES = 200;

/** Finish-reason groups for split scores: a truncated answer is not the same as a wrong one. */
export type FinishGroup = "stop" | "length" | "other";

/** One scorer's statistics for one model. Means are over rows (trials averaged per row first). */
export interface ScorerAnalysis {
  /** The scorer's declared kind (src/scoring/spec.ts scorerKind), not guessed from the data. */
  kind: ScorerKind;
  /** Interval method: Wilson for one-trial binary scores, percentile bootstrap of row means otherwise. */
  method: "wilson" | "bootstrap";
  /** Rows with at least one scored trial. */
  n: number;
  /** Scored records (row × trial). */
  results: number;
  /** Failed calls excluded from the statistics (in datasets where this scorer applies). */
  errors: number;
  /** Successful calls the scorer could not score (also excluded). */
  unscored: number;
  /** Mean of the per-row means; null when n = 0. */
  mean: number | null;
  /** 95% interval for `mean`. */
  low: number | null;
  high: number | null;
  /** Share of passing records (record level), for scorers that report pass/fail. */
  passRate?: number;
  /**
   * With several trials (binary scorers): unbiased pass@k (Chen et al. 2021) averaged over rows,
   * k = the run's trials, failed calls counted as failed trials.
   */
  passAtK?: number;
  /** With several trials (binary scorers): unbiased pass^k (Yao et al. 2024), failed calls failing. */
  passHatK?: number;
  /** With several trials: rows left out of pass@k / pass^k because they have fewer than k trials. */
  rowsBelowK?: number;
}

/** Scores of one model split by how its calls finished (record level, failed calls excluded). */
export interface FinishSplit {
  /** Records in this group. */
  n: number;
  /** Per scorer: scored records and their mean. */
  scores: Record<string, { n: number; mean: number | null }>;
}

/** Everything about one model. */
export interface ModelAnalysis {
  name: string;
  /** Records (row × trial), failed calls included. */
  results: number;
  /** Failed calls. */
  errors: number;
  errorKinds: Record<string, number>;
  scorers: Record<string, ScorerAnalysis>;
  /** Run cost from config prices; null without pricing. */
  cost: { input: number; output: number; total: number; currency: string } | null;
  /**
   * List-price cost per passing answer on the first dataset's primary scorer (its own rows only);
   * null when unknown. Every dataset's figure is in `costPerPassByDataset`.
   */
  costPerPass: number | null;
  /** Per dataset: list-price cost of its records / passes of its primary scorer there (cached calls included). */
  costPerPassByDataset: Record<string, number | null>;
  /** Records answered from the response cache, and their list price (avoided, not paid). */
  cached: { results: number; avoidedCost: number | null };
  /** Records answered through the Batch API (priced at `pricing.batchDiscount`); absent when none. */
  batched?: number;
  latency: {
    p50: number | null;
    p95: number | null;
    p99: number | null;
    mean: number | null;
    /** Counts per bucket of {@link LATENCY_BUCKET_EDGES_MS} (successful calls). */
    histogram: number[];
  };
  /** Time to first token of successful streamed calls, ms; absent when the model never streamed. */
  ttft?: { p50: number | null; p95: number | null; mean: number | null };
  /** Token usage; `cachedPrompt` and `reasoning` appear once any record reported them. */
  tokens: { prompt: number; completion: number; total: number; cachedPrompt?: number; reasoning?: number };
  /** Counts as in {@link ModelSummary.finishReasons}. */
  finishReasons: Record<string, number>;
  /** The same as shares of `results`. */
  finishReasonRates: Record<string, number>;
  byFinishReason: Record<FinishGroup, FinishSplit>;
  attempts: { total: number; retried: number };
  /** Record-level scores per dataset (from the summary). */
  datasets: Record<string, DatasetSummary>;
}

/** The paired comparison of models `a` and `b` on one scorer (diff = a − b). */
export interface PairAnalysis {
  scorer: string;
  a: string;
  b: string;
  verdict: PairVerdict;
}

/** One model's side of a disagreement. */
export interface DisagreementCell {
  /** Output excerpt of the model's first trial; null when the call failed. */
  output: string | null;
  finishReason: string | null;
  /** The row's per-row mean score (pass rate over trials for binary scorers). */
  score: number | null;
  error?: string;
}

/** A row on which models' verdicts differ. */
export interface Disagreement {
  dataset: string;
  rowId: string;
  line: number;
  prompt: string;
  expected: string | null;
  models: Record<string, DisagreementCell>;
}

/** The analysis every report renders. See docs/report-json.md for field meanings. */
export interface RunAnalysis {
  manifest: RunManifest;
  summary: RunSummary;
  /** Distinct rows seen in the journal. */
  rows: number;
  /** Most trials recorded for one row × model (1 for a run without repeats). */
  trials: number;
  /** Scorers in first-seen order, with their declared kind. */
  scorers: { name: string; kind: ScorerKind }[];
  /** The first dataset's primary scorer; null when nothing was scored. */
  primaryScorer: string | null;
  /** The decision settings used (config `decision`, defaults applied). */
  decision: DecisionSpec;
  /** Per dataset: the verdict on its primary scorer. The headline joins their sentences. */
  decisions: DatasetDecision[];
  /** How the pair table's p-values were adjusted (the decisions' family is reported in each pair). */
  multipleTesting: { method: "holm" | "none"; family: number };
  /** Models in run.json order (then any only the journal knows). */
  models: ModelAnalysis[];
  /** Every scorer × pair of models, on the rows both have (Holm-adjusted over this family). */
  pairs: PairAnalysis[];
  /** Cost vs quality on the primary scorer; null without a primary scorer. */
  pareto: {
    scorer: string;
    /** Which cost is on the axis: cost per pass when every model has one, else total cost. */
    costBasis: "cost per pass" | "cost" | null;
    points: { model: string; cost: number | null; quality: number | null }[];
    front: string[];
  } | null;
  /** The headline: each dataset's decision sentence, ending with a period. */
  recommendation: string;
  disagreements: {
    /** The scorer whose verdicts are compared (the primary one, when binary); null when none. */
    scorer: string | null;
    /** Rows where the models' per-row scores differ. */
    total: number;
    /** The first `limit` of them in dataset and row order. */
    limit: number;
    rows: Disagreement[];
  };
  latencyBucketsMs: readonly number[];
}

/** Options of {@link analyzeRun}. */
export interface AnalyzeOptions {
  /** Disagreements to keep; default {@link DEFAULT_DISAGREEMENTS}. */
  disagreements?: number;
  /** Use this manifest instead of the stored run.json (a run being finished). */
  manifest?: RunManifest;
  /** @internal The row-key hash of the row index; tests force collisions with a weak one. */
  rowHash?: RowHash;
}

/** Record-level per-model tallies the summary does not keep. */
class ModelExtras {
  readonly histogram = new Array<number>(LATENCY_BUCKET_EDGES_MS.length - 1).fill(0);
  /** dataset → scorer → passing records. */
  readonly passesByDataset = new Map<string, Map<string, number>>();
  readonly split = new Map<FinishGroup, { n: number; scores: Map<string, { n: number; sum: number }> }>();
}

/** The group a successful call's finish reason falls in. */
export function finishGroup(reason: string | null): FinishGroup {
  return reason === "stop" ? "stop" : reason === "length" ? "length" : "other";
}

/** The last user message: what the row asked. */
export function promptOf(rec: PredictionRecord): string {
  const msgs = rec.input?.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i]!.role === "user") return messageText(msgs[i]!);
  const last = msgs.at(-1);
  return last === undefined ? "" : messageText(last);
}

/** At most `max` characters (never splitting a surrogate pair), with "…" when cut. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

function latencyBucket(ms: number): number {
  const last = LATENCY_BUCKET_EDGES_MS.length - 2;
  if (!(ms >= 1)) return 0;
  return Math.min(last, Math.floor(Math.log10(ms) * 4));
}

function resamplesFor(n: number, full: number): number {
  return n === 0 ? full : Math.max(MIN_RESAMPLES, Math.min(full, Math.floor(RESAMPLING_BUDGET / n)));
}

function pricingOf(manifest: RunManifest): SummaryBuilderPricing {
  return Object.fromEntries(
    (manifest.config?.models ?? []).flatMap((m) => (m.pricing ? [[m.name, m.pricing] as const] : [])),
  );
}
type SummaryBuilderPricing = NonNullable<ConstructorParameters<typeof SummaryBuilder>[0]>["pricing"];

/**
 * Streams the run's journal once and computes the {@link RunAnalysis}; the disagreements'
 * excerpts are read back by position afterwards (a few records). Reads only `run.json` and
 * `predictions.jsonl`.
 */
export async function analyzeRun(runDir: string, options: AnalyzeOptions = {}): Promise<RunAnalysis> {
  const manifest = options.manifest ?? (await readManifest(runDir));
  const stats = new RunStatistics(manifest, { ...options, journal: join(runDir, PREDICTIONS_FILE) });
  try {
    await scanRunRecords(runDir, manifest, (rec, at) => stats.add(rec, at));
    const { analysis, excerpts } = stats.finish();
    await stats.readExcerpts(excerpts);
    analysis.disagreements = excerpts.result();
    return analysis;
  } finally {
    stats.close();
  }
}

/** Something fed every final record of a run, in journal order, during one shared pass. */
export interface RecordSink {
  add(rec: PredictionRecord): void;
}

/**
 * The analysis' first pass: everything but the disagreements' excerpts, which need the records
 * of rows known only at the end. `excerpts` collects them from records fed later
 * (`analysis.disagreements = excerpts.result()` afterwards). Until then
 * `analysis.disagreements.rows` is empty. Kept for callers that stream records themselves;
 * {@link analyzeRun} and {@link writeRunReports} read the excerpts back by position instead.
 */
export async function analyzeRunStatistics(
  runDir: string,
  options: AnalyzeOptions = {},
): Promise<{ analysis: RunAnalysis; excerpts: DisagreementExcerpts }> {
  const manifest = options.manifest ?? (await readManifest(runDir));
  const stats = new RunStatistics(manifest, { ...options, journal: join(runDir, PREDICTIONS_FILE) });
  try {
    await scanRunRecords(runDir, manifest, (rec, at) => stats.add(rec, at));
    return stats.finish();
  } finally {
    stats.close();
  }
}

/** Options of {@link RunStatistics}. */
export interface RunStatisticsOptions extends AnalyzeOptions {
  /**
   * The journal the records come from. With it (and positions given to {@link RunStatistics.add})
   * a hash match in the row index whose dataset or line differ is confirmed by reading the row's
   * first record back, and {@link RunStatistics.readExcerpts} can read the excerpts by position.
   */
  journal?: string;
}

/**
 * The analysis as a sink: {@link add} every final record once, in journal order, then
 * {@link finish}. Memory: a few bytes per row (see the module comment); per record, 24 B in a temp file.
 */
export class RunStatistics {
  private readonly limit: number;
  private readonly decision: DecisionSpec;
  private readonly builder: SummaryBuilder;
  private readonly datasetNames: string[];
  private readonly expectedRows: number;
  readonly rows: RowIndex;
  private readonly vectors = new Map<string, Map<string, RowScores>>(); // scorer → model → rows
  /** Scorers in first-seen order (successful records only): the CSV's score columns. */
  readonly seenScorers: string[] = [];
  /** Per dataset, the scorers its successful records carry (any model): junit.xml's test cases. */
  readonly datasetScorers = new Map<string, Set<string>>();
  private readonly notBinary = new Set<string>(); // declared binary but a value was not 0/1 (a misdeclared scorer)
  private readonly extras = new Map<string, ModelExtras>();
  private readonly errorTrials = new Map<string, RowScores>(); // model → failed calls per row (sum = count)
  private readonly critical: { column: string; tag: string };
  // model → critical rows it failed: [row key, scorer that failed it, or null for a failed call]
  private readonly criticalFails = new Map<string, { key: string; dataset: string; scorer: string | null }[]>();
  private readonly declared: Map<string, ScorerKind>;
  /** Most scored trials of one row × model × scorer so far. */
  trials = 0;
  /** Bumped whenever {@link seenScorers}, {@link datasetScorers} or {@link trials} > 1 changes. */
  layoutVersion = 0;
  /** Where each row's records are in the journal (a temp file), for excerpts and key checks. */
  private readonly positions = new RecordPositions();
  /** Model name → small index, for {@link positions}. */
  private readonly modelIndex = new Map<string, number>();
  private fd: number | undefined;

  constructor(
    readonly manifest: RunManifest,
    private readonly options: RunStatisticsOptions = {},
  ) {
    this.limit = options.disagreements ?? DEFAULT_DISAGREEMENTS;
    this.decision = { ...DEFAULT_DECISION, ...(manifest.config?.decision ?? {}) };
    this.builder = new SummaryBuilder({ pricing: pricingOf(manifest) });
    this.datasetNames = manifest.datasets.map((d) => d.name);
    // Sized for the rows run.json expects: doubling from small would leave up to half unused and
    // hold old and new arrays at once while copying (a million-row report must fit 300 MB).
    this.expectedRows = manifest.datasets.reduce((a, d) => a + (Number.isFinite(d.rows) ? d.rows : 0), 0);
    this.rows = new RowIndex(
      this.datasetNames,
      manifest.datasets.map((d) => d.rows),
      (i) => this.keyOfRow(i),
      options.rowHash,
    );
    this.critical = criticalRule(manifest);
    this.declared = declaredKinds(manifest);
  }

  /** Adds one final record; `at` (its position in the journal) enables excerpts by position. */
  add(rec: PredictionRecord, at?: RecordPosition): void {
    const { rows, expectedRows, critical } = this;
    this.builder.add(rec);
    const indexed = rows.size;
    const row = rows.indexOf(rec);
    if (rows.size > indexed) this.positions.rowIndexed(row);
    if (at !== undefined) this.remember(rec, row, at.offset);
    let x = this.extras.get(rec.model);
    if (x === undefined) this.extras.set(rec.model, (x = new ModelExtras()));
    const isCritical = hasTag(rec.input?.vars?.[critical.column], critical.tag);
    if (rec.output.error !== undefined) {
      // Failed calls: counted by the summary; for pass@k they are failed trials, and a failed
      // call on a critical row fails that row.
      let e = this.errorTrials.get(rec.model);
      if (e === undefined) this.errorTrials.set(rec.model, (e = new RowScores(expectedRows)));
      e.add(row, 1);
      if (isCritical)
        pushCritical(this.criticalFails, rec.model, {
          key: rowKey(rec.dataset, rec.rowId),
          dataset: rec.dataset,
          scorer: null,
        });
      return;
    }
    x.histogram[latencyBucket(rec.output.latencyMs)]!++;
    const group = finishGroup(rec.output.finishReason);
    let split = x.split.get(group);
    if (split === undefined) x.split.set(group, (split = { n: 0, scores: new Map() }));
    split.n++;
    let passes = x.passesByDataset.get(rec.dataset);
    if (passes === undefined) x.passesByDataset.set(rec.dataset, (passes = new Map<string, number>()));
    const scores = rec.scores ?? {};
    this.layoutVersion += noteScorers(this.seenScorers, this.datasetScorers, rec.dataset, scores);
    for (const name in scores) {
      const score = scores[name]!;
      if (isCritical && score.pass === false) {
        pushCritical(this.criticalFails, rec.model, {
          key: rowKey(rec.dataset, rec.rowId),
          dataset: rec.dataset,
          scorer: name,
        });
      }
      if (score.value === null || !Number.isFinite(score.value)) continue;
      if (score.value !== 0 && score.value !== 1) this.notBinary.add(name);
      if (score.pass === true) passes.set(name, (passes.get(name) ?? 0) + 1);
      let s = split.scores.get(name);
      if (s === undefined) split.scores.set(name, (s = { n: 0, sum: 0 }));
      s.n++;
      s.sum += score.value;
      let byModel = this.vectors.get(name);
      if (byModel === undefined) this.vectors.set(name, (byModel = new Map<string, RowScores>()));
      let v = byModel.get(rec.model);
      if (v === undefined) byModel.set(rec.model, (v = new RowScores(expectedRows)));
      v.add(row, score.value);
      const n = v.count(row);
      if (n > this.trials) {
        if (this.trials <= 1 && n > 1) this.layoutVersion++;
        this.trials = n;
      }
    }
  }

  /** Positions for the excerpts: the row's first record, and each model's first lowest-trial record. */
  private remember(rec: PredictionRecord, row: number, offset: number): void {
    let model = this.modelIndex.get(rec.model);
    if (model === undefined) this.modelIndex.set(rec.model, (model = this.modelIndex.size));
    this.positions.add(row, model, rec.trial, offset);
  }

  /** The key of an indexed row, read from its first record in the journal (confirms a hash match). */
  private keyOfRow(row: number): string | undefined {
    if (this.options.journal === undefined) return undefined;
    const offset = this.positions.firstOffset(row);
    if (Number.isNaN(offset)) return undefined;
    this.fd ??= openSync(this.options.journal, "r");
    const rec = readRecordAtSync(this.fd, offset);
    return rec === undefined ? undefined : rowKey(rec.dataset, rec.rowId);
  }

  /** Closes the journal if a key check opened it, and removes the positions' temp file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.positions.close();
  }

  /**
   * Feeds `excerpts` the records it wants, read back by position from the journal: the few rows
   * it selected, in journal order, so it keeps exactly what a full pass would have kept.
   */
  async readExcerpts(excerpts: DisagreementExcerpts): Promise<void> {
    const journal = this.options.journal;
    if (!excerpts.wanted || journal === undefined) return;
    const offsets = new Set<number>();
    for (const p of this.positions.find(new Set(excerpts.rowsWanted())).values()) {
      offsets.add(p.first);
      for (const t of p.byModel.values()) offsets.add(t.offset);
    }
    // Read synchronously: a few dozen records from pages the run has just written, where an
    // awaited read each was a thread-pool round trip in series, idle time at the end of a run.
    this.fd ??= openSync(journal, "r");
    for (const offset of [...offsets].sort((a, b) => a - b)) {
      const rec = readRecordAtSync(this.fd, offset);
      if (rec !== undefined) excerpts.add(rec);
    }
  }

  /** The analysis of everything added; the excerpts are still to be fed (see {@link readExcerpts}). */
  finish(): { analysis: RunAnalysis; excerpts: DisagreementExcerpts } {
    const { manifest, builder, rows, vectors, seenScorers, notBinary, extras, errorTrials, criticalFails, declared } =
      this;
    const { limit, decision, datasetNames, trials } = this;
    const summary = builder.result();
    const modelNames = orderModels(manifest, summary);
    // Kinds are declared by the scorers (config snapshot), never guessed from the data; a scorer
    // the snapshot does not know (an old run, a hand-made journal) is treated as continuous, whose
    // statistics are valid for any bounded score.
    const scorers = seenScorers.map((name) => ({ name, kind: declared.get(name) ?? ("continuous" as const) }));
    const k = Math.max(1, manifest.trials ?? 1, trials);
    // Wilson, McNemar and Newcombe need one 0/1 value per row; with repeated trials a row's value
    // is a pass rate, so the row means are treated as continuous (the row stays the unit).
    const rowsAreBinary = (scorer: { name: string; kind: string }) =>
      scorer.kind === "binary" && k <= 1 && !notBinary.has(scorer.name);

    const order = rows.canonicalOrder();
    const bySummary = new Map(summary.models.map((m) => [m.model, m]));
    const primaryByDataset = primaryScorers(manifest, summary, seenScorers, decision);
    const primaryScorer = primaryByDataset.values().next().value ?? seenScorers[0] ?? null;
    const ctx: ModelContext = {
      scorers,
      vectors,
      order,
      k,
      rowsAreBinary,
      primaryByDataset,
      errorTrials,
      rows,
      datasetNames,
    };
    const models = modelNames.map((name) => modelAnalysis(name, bySummary.get(name)!, extras.get(name)!, ctx));

    // A comparison over every row is made once: with one dataset (the usual run) each decision
    // compares the same rows as a pair of the table, and comparePair is most of the statistics'
    // CPU after the last answer. The verdicts are copied before anything changes them (adjustFamily).
    const verdicts = new Map<string, PairVerdict>();
    const compare = (
      scorer: { name: string; kind: string },
      a: string,
      b: string,
      dataset: number | null,
    ): PairVerdict => {
      const allRows = dataset === null || rows.soleDataset() === dataset;
      const key = allRows ? JSON.stringify([scorer.name, scorer.kind, a, b]) : undefined;
      const known = key === undefined ? undefined : verdicts.get(key);
      if (known !== undefined) return known;
      const verdict = allRows ? compareAllRows(scorer, a, b) : compareRows(scorer, a, b, dataset);
      if (key !== undefined) verdicts.set(key, verdict);
      return verdict;
    };
    // Binary scores over every row: the 2×2 table counted from the two columns in one pass, where
    // aligned arrays and comparePair's own scans made about ten (same verdict: comparePairedTable).
    const compareAllRows = (scorer: { name: string; kind: string }, a: string, b: string): PairVerdict => {
      const byModel = vectors.get(scorer.name);
      const ca = byModel?.get(a);
      const cb = byModel?.get(b);
      const table = rowsAreBinary(scorer) && ca && cb ? pairedCounts(ca, cb, rows.size) : undefined;
      if (table === undefined) return compareRows(scorer, a, b, null);
      return comparePairedTable(table, {
        names: [a, b],
        alpha: decision.alpha,
        seed: DEFAULT_SEED,
        // Binary rows are 0 or 1, so the margin (points) applies, as in compareRows.
        margin: decision.margin / 100,
      });
    };
    const compareRows = (
      scorer: { name: string; kind: string },
      a: string,
      b: string,
      dataset: number | null,
    ): PairVerdict => {
      const byModel = vectors.get(scorer.name);
      const [va, vb] = aligned(
        byModel?.get(a),
        byModel?.get(b),
        order,
        dataset === null ? undefined : (i) => rows.datasetOf(i) === dataset,
      );
      const binary = rowsAreBinary(scorer);
      // Binary rows are 0 or 1 (comparePair checks it), so in [0, 1] without two more passes.
      const points = binary || (inUnit(va) && inUnit(vb));
      return comparePair(va, vb, {
        binary,
        names: [a, b],
        alpha: decision.alpha,
        seed: DEFAULT_SEED,
        resamples: resamplesFor(va.length, 2000),
        permutations: resamplesFor(va.length, 10_000),
        // The margin is in points (score × 100), so it applies to scores in [0, 1] only.
        ...(points ? { margin: decision.margin / 100 } : {}),
      });
    };

    // The pair table: every scorer × pair of models over all rows, one Holm family.
    const rawPairs: PairAnalysis[] = [];
    for (const scorer of scorers) {
      for (let i = 0; i < modelNames.length; i++) {
        for (let j = i + 1; j < modelNames.length; j++) {
          rawPairs.push({
            scorer: scorer.name,
            a: modelNames[i]!,
            b: modelNames[j]!,
            verdict: compare(scorer, modelNames[i]!, modelNames[j]!, null),
          });
        }
      }
    }
    const adjusted = adjustFamily(rawPairs.map((p) => p.verdict));
    const pairs = rawPairs.map((p, i) => ({ ...p, verdict: adjusted[i]! }));
    const family = adjusted[0]?.family ?? 0;

    // The decisions: each dataset on its primary scorer, one Holm family across datasets × pairs.
    const decisionPairs: { dataset: string; verdicts: PairVerdict[] }[] = [];
    for (const [dataset, name] of primaryByDataset) {
      const scorer = scorers.find((s) => s.name === name) ?? {
        name,
        kind: declared.get(name) ?? ("continuous" as const),
      };
      const di = datasetNames.indexOf(dataset);
      const present = modelNames.filter((m) => bySummary.get(m)?.datasets?.[dataset] !== undefined);
      const verdicts: PairVerdict[] = [];
      for (let i = 0; i < present.length; i++) {
        for (let j = i + 1; j < present.length; j++) verdicts.push(compare(scorer, present[i]!, present[j]!, di));
      }
      decisionPairs.push({ dataset, verdicts });
    }
    const flat = adjustFamily(decisionPairs.flatMap((d) => d.verdicts));
    let at = 0;
    const decisions: DatasetDecision[] = decisionPairs.map(({ dataset, verdicts }) => {
      const scorer = primaryByDataset.get(dataset)!;
      const dPairs = flat.slice(at, (at += verdicts.length));
      const kind = scorers.find((s) => s.name === scorer)?.kind ?? declared.get(scorer) ?? "continuous";
      const dm: DecisionModel[] = models
        .filter((m) => m.datasets[dataset] !== undefined)
        .map((m) => {
          const d = m.datasets[dataset]!;
          const fails = (criticalFails.get(m.name) ?? []).filter(
            (f) => f.dataset === dataset && (f.scorer === null || f.scorer === scorer),
          );
          return {
            name: m.name,
            quality: datasetMean(vectors.get(scorer)?.get(m.name), order, rows, datasetNames.indexOf(dataset)),
            results: d.n,
            errors: d.errors,
            criticalFailures: [...new Set(fails.map((f) => f.key))],
            costPerPass: m.costPerPassByDataset[dataset] ?? null,
          };
        });
      return decideDataset({
        dataset,
        scorer,
        kind,
        models: dm,
        pairs: dPairs,
        margin: decision.margin / 100,
        maxErrorRate: decision.maxErrorRate,
        costMatters: decision.costMatters,
      });
    });

    const pareto = primaryScorer === null ? null : costQuality(primaryScorer, models, manifest.datasets[0]?.name);
    const recommendation = headline(decisions);

    const disagreementScorer =
      primaryScorer !== null && rowsAreBinary(scorers.find((s) => s.name === primaryScorer) ?? { name: "", kind: "" })
        ? primaryScorer
        : null;
    const excerpts = new DisagreementExcerpts(rows, vectors, modelNames, disagreementScorer, limit);

    const analysis: RunAnalysis = {
      manifest,
      summary,
      rows: rows.size,
      trials: Math.max(1, trials),
      scorers,
      primaryScorer,
      decision,
      decisions,
      multipleTesting: { method: family > 1 ? "holm" : "none", family: Math.max(family, pairs.length > 0 ? 1 : 0) },
      models,
      pairs,
      pareto,
      recommendation,
      disagreements: excerpts.result(),
      latencyBucketsMs: LATENCY_BUCKET_EDGES_MS,
    };
    return { analysis, excerpts };
  }
}

/** Which tag marks a critical row: the first `critical` gate's column and tag, else `tags`/`critical`. */
function criticalRule(manifest: RunManifest): { column: string; tag: string } {
  const gates =
    (manifest.config as { gates?: { kind?: string; column?: string; tag?: string }[] } | undefined)?.gates ?? [];
  const g = gates.find((x) => x.kind === "critical");
  return { column: g?.column ?? "tags", tag: g?.tag ?? "critical" };
}

function pushCritical<T>(m: Map<string, T[]>, model: string, v: T): void {
  let list = m.get(model);
  if (list === undefined) m.set(model, (list = []));
  list.push(v);
}

/** Scorer name → declared kind, from the run's config snapshot (global and per-dataset scorers). */
export function declaredKinds(manifest: RunManifest): Map<string, ScorerKind> {
  const out = new Map<string, ScorerKind>();
  const cfg = manifest.config;
  for (const spec of [...(cfg?.scorers ?? []), ...(cfg?.datasets ?? []).flatMap((d) => d.scorers ?? [])]) {
    const name = scorerName(spec);
    if (!out.has(name)) out.set(name, scorerKind(spec));
  }
  return out;
}

/**
 * Each dataset's primary scorer: `decision.primary[dataset]`, else the dataset's first configured
 * scorer (global scorers come first, as the run lists them), else the first scorer its records
 * carry. Datasets nothing scored are left out.
 */
function primaryScorers(
  manifest: RunManifest,
  summary: RunSummary,
  seen: string[],
  decision: DecisionSpec,
): Map<string, string> {
  const out = new Map<string, string>();
  const cfg = manifest.config;
  const names = manifest.datasets.map((d) => d.name);
  for (const m of summary.models) for (const d of Object.keys(m.datasets ?? {})) if (!names.includes(d)) names.push(d);
  for (const [i, dataset] of names.entries()) {
    const scored = new Set(summary.models.flatMap((m) => Object.keys(m.datasets?.[dataset]?.scores ?? {})));
    const configured = [...(cfg?.scorers ?? []), ...(cfg?.datasets?.[i]?.scorers ?? [])].map(scorerName);
    const chosen = decision.primary?.[dataset];
    // A configured primary scorer stands even when nothing was scored (every call failed): the
    // decision then says why no model qualifies instead of pretending there was nothing to decide.
    if (chosen !== undefined && (scored.has(chosen) || configured.includes(chosen))) {
      out.set(dataset, chosen);
      continue;
    }
    const first = configured[0] ?? seen.find((n) => scored.has(n));
    if (first !== undefined && summary.models.some((m) => m.datasets?.[dataset] !== undefined)) out.set(dataset, first);
  }
  return out;
}

function inUnit(xs: Float64Array): boolean {
  for (const x of xs) if (!(x >= 0 && x <= 1)) return false;
  return true;
}

/**
 * Mean of per-row means over the rows of `dataset` (in canonical order); null when none. An
 * indexed loop with the dataset test skipped when every row is in it (one dataset, the usual
 * run): this runs per model in the report's tail, in code not yet optimised.
 */
function datasetMean(v: RowScores | undefined, order: Uint32Array, rows: RowIndex, dataset: number): number | null {
  if (v === undefined) return null;
  const allRows = rows.soleDataset() === dataset;
  let sum = 0;
  let n = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (!allRows && rows.datasetOf(i) !== dataset) continue;
    const m = v.mean(i);
    if (Number.isNaN(m)) continue;
    sum += m;
    n++;
  }
  return n === 0 ? null : sum / n;
}

/** run.json order first (the order the user configured), then models only the journal knows. */
function orderModels(manifest: RunManifest, summary: RunSummary): string[] {
  const seen = new Set(summary.models.map((m) => m.model));
  const ordered = manifest.models.map((m) => m.name).filter((n) => seen.has(n));
  for (const m of summary.models) if (!ordered.includes(m.model)) ordered.push(m.model);
  return ordered;
}

/**
 * The paired 2×2 table of two binary columns over rows 0..`count` − 1 (rows either model did not
 * score are left out), or undefined when a row's mean is not 0 or 1 (then the caller's array path
 * reports it as before). Counts do not depend on the order the rows are visited in.
 */
function pairedCounts(a: RowScores, b: RowScores, count: number): PairedTable | undefined {
  const t: PairedTable = { both: 0, onlyA: 0, onlyB: 0, neither: 0 };
  for (let i = 0; i < count; i++) {
    const x = a.mean(i);
    const y = b.mean(i);
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    if ((x !== 0 && x !== 1) || (y !== 0 && y !== 1)) return undefined;
    if (x === 1) {
      if (y === 1) t.both++;
      else t.onlyA++;
    } else if (y === 1) t.onlyB++;
    else t.neither++;
  }
  return t;
}

/** The rows both models scored (and `keep` selects), as two aligned arrays of per-row means. */
function aligned(
  a: RowScores | undefined,
  b: RowScores | undefined,
  order: Uint32Array,
  keep: (i: number) => boolean = () => true,
): [Float64Array, Float64Array] {
  if (a === undefined || b === undefined) return [new Float64Array(0), new Float64Array(0)];
  const both = (i: number) => !Number.isNaN(a.mean(i)) && !Number.isNaN(b.mean(i)) && keep(i);
  // Counted first, then filled: exact-size arrays, never a growing number[] (8+ B per row more,
  // and both copies at once while converting) at the report's peak.
  let n = 0;
  for (const i of order) if (both(i)) n++;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  n = 0;
  for (const i of order) {
    if (!both(i)) continue;
    xs[n] = a.mean(i);
    ys[n++] = b.mean(i);
  }
  return [xs, ys];
}

interface ModelContext {
  scorers: { name: string; kind: ScorerKind }[];
  vectors: Map<string, Map<string, RowScores>>;
  order: Uint32Array;
  /** Trials per row the run asked for. */
  k: number;
  rowsAreBinary: (scorer: { name: string; kind: string }) => boolean;
  primaryByDataset: Map<string, string>;
  errorTrials: Map<string, RowScores>;
  rows: RowIndex;
  datasetNames: string[];
}

function modelAnalysis(name: string, s: ModelSummary, x: ModelExtras, ctx: ModelContext): ModelAnalysis {
  const { scorers, vectors, order, k, rowsAreBinary } = ctx;
  const errs = ctx.errorTrials.get(name);
  const scorerStats: [string, ScorerAnalysis][] = [];
  for (const scorer of scorers) {
    const stats = s.scores[scorer.name];
    if (stats === undefined) continue; // the scorer never applied to this model's rows
    const v = vectors.get(scorer.name)?.get(name);
    const useWilson = rowsAreBinary(scorer);
    // The scored rows' means in canonical order. Wilson needs only their sum (added in the same
    // order as before, so the same bits); the bootstrap gets an exact-size array.
    let n = 0;
    let sum = 0;
    // Indexed loops, no iterator: they run over every row in the report's tail, not yet optimised.
    if (v !== undefined) {
      for (let r = 0; r < order.length; r++) {
        const m = v.mean(order[r]!);
        if (Number.isNaN(m)) continue;
        n++;
        sum += m;
      }
    }
    let interval;
    if (useWilson) interval = wilsonInterval(sum, n);
    else {
      const values = new Float64Array(n);
      let at = 0;
      if (v !== undefined) {
        for (let r = 0; r < order.length; r++) {
          const m = v.mean(order[r]!);
          if (!Number.isNaN(m)) values[at++] = m;
        }
      }
      interval = bootstrapMeanInterval(values, { seed: DEFAULT_SEED, resamples: resamplesFor(n, 2000) });
    }
    const out: ScorerAnalysis = {
      kind: scorer.kind,
      method: useWilson ? "wilson" : "bootstrap",
      n,
      results: stats.n,
      errors: failedWhereScored(s, scorer.name),
      unscored: stats.errors,
      mean: interval.mean,
      low: interval.low,
      high: interval.high,
    };
    if (stats.passRate !== undefined) out.passRate = stats.passRate;
    if (scorer.kind === "binary" && k > 1) {
      // Unbiased estimators over every trial of every row where the scorer applies; a failed call
      // is a failed trial (dropping it would count "all passed" over fewer trials).
      const applies = new Set(
        Object.entries(s.datasets ?? {}).flatMap(([d, ds]) =>
          ds.scores[scorer.name] ? [ctx.datasetNames.indexOf(d)] : [],
        ),
      );
      let at = 0;
      let hat = 0;
      let used = 0;
      let short = 0;
      for (const i of order) {
        if (!applies.has(ctx.rows.datasetOf(i))) continue;
        const scored = v?.count(i) ?? 0;
        const passed = v?.sum(i) ?? 0;
        const failedCalls = errs?.count(i) ?? 0;
        const n = scored + failedCalls;
        if (n === 0) continue; // the model has no record of this row
        const pk = passAtK(n, passed, k);
        const hk = passHatK(n, passed, k);
        if (pk === null || hk === null) {
          short++;
          continue;
        }
        at += pk;
        hat += hk;
        used++;
      }
      if (used > 0) {
        out.passAtK = at / used;
        out.passHatK = hat / used;
      }
      out.rowsBelowK = short;
    }
    scorerStats.push([scorer.name, out]);
  }

  // Cost per pass per dataset: that dataset's list-price cost over its primary scorer's passes.
  const costPerPassByDataset: Record<string, number | null> = {};
  for (const [dataset, scorer] of ctx.primaryByDataset) {
    const d = s.datasets?.[dataset];
    if (d === undefined) continue;
    const passes = x.passesByDataset.get(dataset)?.get(scorer) ?? 0;
    const kind = scorers.find((sc) => sc.name === scorer)?.kind;
    costPerPassByDataset[dataset] =
      d.cost !== undefined && kind === "binary" && passes > 0 ? (d.cost.paid + d.cost.avoided) / passes : null;
  }
  const firstDataset = ctx.primaryByDataset.keys().next().value;
  const cost = s.cost ?? null;
  const split = (g: FinishGroup): FinishSplit => {
    const acc = x.split.get(g);
    return {
      n: acc?.n ?? 0,
      scores: Object.fromEntries(
        [...(acc?.scores ?? [])].map(([k, v]) => [k, { n: v.n, mean: v.n === 0 ? null : v.sum / v.n }]),
      ),
    };
  };
  return {
    name,
    results: s.n,
    errors: s.errors,
    errorKinds: { ...s.errorKinds },
    scorers: Object.fromEntries(scorerStats),
    cost,
    costPerPass: firstDataset === undefined ? null : (costPerPassByDataset[firstDataset] ?? null),
    costPerPassByDataset,
    cached: { results: s.cached ?? 0, avoidedCost: s.avoidedCost ?? (s.cached ? null : cost === null ? null : 0) },
    ...(s.batched ? { batched: s.batched } : {}),
    latency: { ...s.latencyMs, histogram: [...x.histogram] },
    ...(s.ttftMs === undefined ? {} : { ttft: { ...s.ttftMs } }),
    tokens: { ...s.tokens },
    finishReasons: { ...s.finishReasons },
    finishReasonRates: Object.fromEntries(
      Object.entries(s.finishReasons).map(([k, n]) => [k, s.n === 0 ? 0 : n / s.n]),
    ),
    byFinishReason: { stop: split("stop"), length: split("length"), other: split("other") },
    attempts: { ...s.attempts },
    datasets: s.datasets ?? {},
  };
}

/** Failed calls in the datasets where `scorer` applies: the rows it could not score because of them. */
function failedWhereScored(s: ModelSummary, scorer: string): number {
  let n = 0;
  for (const d of Object.values(s.datasets ?? {})) if (d.scores[scorer] !== undefined) n += d.errors;
  return n;
}

/**
 * Cost vs quality on the first dataset's primary scorer, over that dataset's rows: quality is the
 * model's mean there, cost its cost per pass there (or the dataset's list-price cost when some
 * model has no pass), so the chart and the headline talk about the same numbers.
 */
function costQuality(
  scorer: string,
  models: ModelAnalysis[],
  dataset: string | undefined,
): NonNullable<RunAnalysis["pareto"]> {
  const valid = (c: number | null | undefined): c is number => c !== null && c !== undefined && Number.isFinite(c);
  const listCost = (m: ModelAnalysis) => {
    const c = dataset === undefined ? undefined : m.datasets[dataset]?.cost;
    return c === undefined ? null : c.paid + c.avoided;
  };
  const perPass = (m: ModelAnalysis) => (dataset === undefined ? null : (m.costPerPassByDataset[dataset] ?? null));
  const costBasis = models.every((m) => valid(perPass(m)))
    ? ("cost per pass" as const)
    : models.every((m) => valid(listCost(m)))
      ? ("cost" as const)
      : null;
  const points = models.map((m) => ({
    model: m.name,
    cost: costBasis === "cost per pass" ? perPass(m) : costBasis === "cost" ? listCost(m) : null,
    quality: m.scorers[scorer]?.mean ?? null,
  }));
  const front = paretoFront(points.map((p) => ({ name: p.model, cost: p.cost ?? NaN, quality: p.quality ?? NaN })));
  return { scorer, costBasis, points, front: points.filter((p) => front.has(p.model)).map((p) => p.model) };
}

/**
 * The disagreements: which rows (chosen from the per-row vectors at construction) and, fed the
 * run's records through {@link add}, the excerpts of those rows only (first trial per model).
 */
export class DisagreementExcerpts implements RecordSink {
  private readonly candidates: number[] = [];
  private readonly total: number = 0;
  private readonly slot = new Map<number, { rec: Disagreement; trial: Map<string, number> }>();
  private readonly cells = new Map<number, Map<string, DisagreementCell>>();
  private readonly byModel: Map<string, RowScores> | undefined;

  constructor(
    private readonly rows: RowIndex,
    vectors: Map<string, Map<string, RowScores>>,
    private readonly models: string[],
    private readonly scorer: string | null,
    private readonly limit: number,
  ) {
    this.byModel = scorer === null ? undefined : vectors.get(scorer);
    const byModel = this.byModel;
    if (byModel === undefined) return;
    const candidates = this.candidates;
    // An array, not the map's iterator per row (this loop runs over every row in the report's tail).
    const columns = [...byModel.values()];
    let total = 0;
    for (let i = 0; i < rows.size; i++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let c = 0; c < columns.length; c++) {
        const m = columns[c]!.mean(i);
        if (Number.isNaN(m)) continue;
        lo = Math.min(lo, m);
        hi = Math.max(hi, m);
      }
      if (!(hi > lo)) continue;
      total++;
      // Keep only the `limit` earliest rows in dataset order: a bounded sorted buffer.
      if (candidates.length === limit && rows.compare(i, candidates[limit - 1]!) > 0) continue;
      let at = candidates.length;
      while (at > 0 && rows.compare(i, candidates[at - 1]!) < 0) at--;
      candidates.splice(at, 0, i);
      if (candidates.length > limit) candidates.pop();
    }
    this.total = total;
    for (const i of candidates) {
      this.slot.set(i, {
        rec: { dataset: "", rowId: "", line: 0, prompt: "", expected: null, models: {} },
        trial: new Map(),
      });
    }
  }

  /** Whether any record is wanted (else the pass over the journal can be skipped). */
  get wanted(): boolean {
    return this.candidates.length > 0;
  }

  /** The row indices whose records are wanted. */
  rowsWanted(): readonly number[] {
    return this.candidates;
  }

  add(r: PredictionRecord): void {
    if (this.slot.size === 0) return;
    const i = this.rows.find(r);
    const s = i < 0 ? undefined : this.slot.get(i);
    if (s === undefined) return;
    if (s.rec.rowId === "") {
      s.rec.dataset = r.dataset;
      s.rec.rowId = r.rowId;
      s.rec.line = r.line;
      s.rec.prompt = excerpt(promptOf(r));
      s.rec.expected = r.expected === undefined ? null : excerpt(r.expected);
    }
    const seen = s.trial.get(r.model);
    if (seen !== undefined && seen <= r.trial) return;
    s.trial.set(r.model, r.trial);
    let c = this.cells.get(i);
    if (c === undefined) this.cells.set(i, (c = new Map<string, DisagreementCell>()));
    const cell: DisagreementCell = {
      output: r.output.text === null ? null : excerpt(r.output.text),
      finishReason: r.output.finishReason,
      score: null,
    };
    if (r.output.error !== undefined) cell.error = `${r.output.error.kind}: ${excerpt(r.output.error.message, 200)}`;
    c.set(r.model, cell);
  }

  /** The disagreements, with the excerpts of the records added so far. */
  result(): RunAnalysis["disagreements"] {
    const { scorer, total, limit, byModel } = this;
    if (byModel === undefined || this.candidates.length === 0) return { scorer, total, limit, rows: [] };
    const out: Disagreement[] = [];
    for (const i of this.candidates) {
      const s = this.slot.get(i)!;
      const c = this.cells.get(i);
      out.push({
        ...s.rec,
        models: Object.fromEntries(
          this.models.flatMap((m) => {
            const cell = c?.get(m);
            if (cell === undefined) return [];
            const mean = byModel.get(m)?.mean(i) ?? NaN;
            return [[m, { ...cell, score: Number.isNaN(mean) ? null : mean }]];
          }),
        ),
      });
    }
    return { scorer, total, limit, rows: out };
  }
}

/** One model's answer to a row in the side-by-side table (its lowest-numbered trial). */
export interface SideBySideCell {
  trial: number;
  /** Trials recorded for this row × model. */
  trials: number;
  /** Output excerpt; null when the call failed. */
  output: string | null;
  finishReason: string | null;
  latencyMs: number;
  scores: PredictionRecord["scores"];
  /** "kind: message" when the call failed. */
  error?: string;
}

/** One row with every model's answer, as the HTML side-by-side table shows it. */
export interface SideBySideRow {
  dataset: string;
  rowId: string;
  line: number;
  prompt: string;
  expected: string | null;
  /** Keyed by model, in the analysis' model order; models without a record are absent. */
  perModel: Record<string, SideBySideCell>;
}

/** Options of {@link iterateRowsSideBySide}. */
export interface SideBySideOptions {
  /** Rows to yield at most (the first ones in dataset and line order); default 500. */
  limit?: number;
  /** Characters kept of prompts, expected answers and outputs; default 2000. */
  maxChars?: number;
}

interface Pending {
  order: [number, number, string];
  row: SideBySideRow;
  cells: Map<string, SideBySideCell>;
}

/**
 * Yields the run's rows grouped per row, every model side by side, for a per-prompt table.
 *
 * The journal is in completion order, not grouped by row, so grouping needs a buffer. This makes
 * one pass and keeps only the `limit` smallest rows in (dataset, line, row id) order: a sorted
 * buffer of at most `limit` rows, where a row that sorts after a full buffer's last row is
 * skipped, and a smaller one evicts the last. Because the buffer's last row can only move
 * earlier, a row skipped or evicted once is skipped for good, so every kept row has all its
 * records. Memory is O(limit × models) excerpts whatever the run's size; compare
 * `analysis.rows` with the number yielded to say "first N of M rows".
 */
export async function* iterateRowsSideBySide(
  runDir: string,
  analysis: RunAnalysis,
  options: SideBySideOptions = {},
): AsyncGenerator<SideBySideRow> {
  const table = new SideBySideRows(analysis, options);
  if (table.limit === 0) return;
  for await (const r of runRecords(runDir, analysis.manifest)) table.add(r);
  yield* table.rows();
}

/**
 * The bounded buffer behind {@link iterateRowsSideBySide}, fed record by record so it can share
 * a pass over the journal with other writers.
 */
export class SideBySideRows implements RecordSink {
  readonly limit: number;
  private readonly maxChars: number;
  private readonly datasets: string[];
  private readonly kept: Pending[] = [];
  /**
   * The kept rows by dataset, then row id: two lookups of the record's own strings, where one of
   * `rowKey(dataset, rowId)` built (and flattened to hash) a string per record of the run.
   */
  private readonly byKey = new Map<string, Map<string, Pending>>();

  /**
   * `source`: the run's analysis, or just its manifest while the analysis is still being
   * computed in the same pass (then give {@link rows} the models' order).
   */
  constructor(
    private readonly source: { manifest: RunManifest; models?: readonly { name: string }[] },
    options: SideBySideOptions = {},
  ) {
    this.limit = Math.max(0, options.limit ?? 500);
    this.maxChars = options.maxChars ?? 2000;
    this.datasets = source.manifest.datasets.map((d) => d.name);
  }

  add(r: PredictionRecord): void {
    const { limit, kept, byKey, maxChars } = this;
    if (limit === 0) return;
    let inDataset = byKey.get(r.dataset);
    let p = inDataset?.get(r.rowId);
    if (p === undefined) {
      const ds = datasetOrder(this.datasets, r.dataset);
      // Past the first rows, most records sort after a full buffer: no order array for those.
      if (kept.length === limit && compareOrder3(ds, r.line, r.rowId, kept[limit - 1]!.order) > 0) return;
      const order: Pending["order"] = [ds, r.line, r.rowId];
      p = {
        order,
        row: {
          dataset: r.dataset,
          rowId: r.rowId,
          line: r.line,
          prompt: excerpt(promptOf(r), maxChars),
          expected: r.expected === undefined ? null : excerpt(r.expected, maxChars),
          perModel: {},
        },
        cells: new Map(),
      };
      let at = kept.length;
      while (at > 0 && compareOrder(order, kept[at - 1]!.order) < 0) at--;
      kept.splice(at, 0, p);
      if (inDataset === undefined) byKey.set(r.dataset, (inDataset = new Map<string, Pending>()));
      inDataset.set(r.rowId, p);
      if (kept.length > limit) {
        const evicted = kept.pop()!;
        byKey.get(evicted.row.dataset)?.delete(evicted.row.rowId);
      }
    }
    const prev = p.cells.get(r.model);
    const trials = (prev?.trials ?? 0) + 1;
    if (prev !== undefined && prev.trial <= r.trial) {
      prev.trials = trials;
      return;
    }
    const cell: SideBySideCell = {
      trial: r.trial,
      trials,
      output: r.output.text === null ? null : excerpt(r.output.text, maxChars),
      finishReason: r.output.finishReason,
      latencyMs: r.output.latencyMs,
      scores: r.scores ?? {},
    };
    if (r.output.error !== undefined)
      cell.error = `${r.output.error.kind}: ${excerpt(r.output.error.message, maxChars)}`;
    p.cells.set(r.model, cell);
  }

  /** The kept rows in (dataset, line, row id) order, every model side by side (in `models` order). */
  rows(models: readonly string[] = (this.source.models ?? []).map((m) => m.name)): SideBySideRow[] {
    return this.kept.map((p) => {
      const extra = [...p.cells.keys()].filter((m) => !models.includes(m));
      p.row.perModel = Object.fromEntries(
        [...models, ...extra].flatMap((m) => {
          const c = p.cells.get(m);
          return c === undefined ? [] : [[m, c]];
        }),
      );
      return p.row;
    });
  }
}

function compareOrder(a: Pending["order"], b: Pending["order"]): number {
  return compareOrder3(a[0], a[1], a[2], b);
}

function compareOrder3(dataset: number, line: number, rowId: string, b: Pending["order"]): number {
  return dataset - b[0] || line - b[1] || (rowId < b[2] ? -1 : rowId > b[2] ? 1 : 0);
}
