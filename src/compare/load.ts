/**
 * Reads one run directory into what a comparison needs and nothing more: per row and model a
 * few numbers in typed columns (score sums and pass counts per scorer, trials, errors, a critical
 * flag), the run's summary, and counts of the identities the endpoint reported. Texts are never kept here; the few
 * outputs a report quotes are fetched in a second pass (outputs.ts).
 */
import { readManifest, type RunManifest } from "../store/manifest.js";
import { runRecords } from "../store/journal.js";
import type { PredictionRecord } from "../types.js";
import { SummaryBuilder, type RunSummary, type SummaryOptions } from "../report/summary.js";
import { RowKeys } from "./row-keys.js";

/**
 * One model's rows in one run, pooled over trials, as columns over the {@link RowKeys} index:
 * a few bytes per row and scorer instead of an object per row (a million-row journal must
 * compare within 300 MB). Per-scorer columns are indexed by {@link RunVectors.scorers}.
 */
export class ModelRows {
  /** Rows this model has at least one record of. */
  size = 0;
  private capacity: number;
  private present: Uint8Array;
  private critical: Uint8Array;
  /** Records per row (trials), and failed calls among them. */
  trials: Uint16Array;
  errors: Uint16Array;
  /**
   * Per scorer: sum of numeric scores over trials that scored, and how many scored. A sum column
   * is a Uint16Array while every value added is a small whole number (pass/fail scores: 2 bytes a
   * row instead of 8) and becomes a Float64Array at the first that is not; both hold the sums exactly.
   */
  sums: (Float64Array | Uint16Array)[] = [];
  counts: Uint16Array[] = [];
  /** Per scorer: trials whose score carried `pass: true`, and trials whose score carried a `pass` at all. */
  passes: Uint16Array[] = [];
  passN: Uint16Array[] = [];

  constructor(capacity: number, scorers: number) {
    this.capacity = Math.max(16, capacity);
    this.present = new Uint8Array(this.capacity);
    this.critical = new Uint8Array(this.capacity);
    this.trials = new Uint16Array(this.capacity);
    this.errors = new Uint16Array(this.capacity);
    for (let i = 0; i < scorers; i++) this.addScorer();
  }

  /** Whether the model has a record of row `i`. */
  has(i: number): boolean {
    return i < this.capacity && this.present[i] === 1;
  }

  isCritical(i: number): boolean {
    return i < this.capacity && this.critical[i] === 1;
  }

  /** Marks row `i` present (growing the columns), flagging it critical on its first record. */
  touch(i: number, critical: boolean): void {
    if (i >= this.capacity) this.grow(i + 1);
    if (this.present[i] === 0) {
      this.present[i] = 1;
      this.critical[i] = critical ? 1 : 0;
      this.size++;
    }
  }

  /** Adds a column for a scorer seen for the first time. */
  addScorer(): void {
    this.sums.push(new Uint16Array(this.capacity));
    this.counts.push(new Uint16Array(this.capacity));
    this.passes.push(new Uint16Array(this.capacity));
    this.passN.push(new Uint16Array(this.capacity));
  }

  /** Adds one trial's numeric score for scorer `s` on row `i`. */
  addScore(i: number, s: number, value: number): void {
    let col = this.sums[s]!;
    if (col instanceof Uint16Array) {
      const next = col[i]! + value;
      if (Number.isInteger(value) && value >= 0 && next <= 0xffff) {
        col[i] = next;
        this.counts[s]![i]!++;
        return;
      }
      col = this.sums[s] = Float64Array.from(col);
    }
    col[i]! += value;
    this.counts[s]![i]!++;
  }

  /** Mean score of row `i` for scorer `s` over its scored trials, or null when none scored. */
  mean(i: number, s: number): number | null {
    const n = i < this.capacity ? (this.counts[s]?.[i] ?? 0) : 0;
    return n > 0 ? this.sums[s]![i]! / n : null;
  }

  /**
   * Whether row `i` passes scorer `s`: a majority of its trials passed. Scorers without `pass`
   * fall back to a perfect score (1) counting as a pass. Null when the row was not scored.
   */
  passesRow(i: number, s: number): boolean | null {
    const passN = i < this.capacity ? (this.passN[s]?.[i] ?? 0) : 0;
    if (passN > 0) return this.passes[s]![i]! * 2 > passN;
    const mean = this.mean(i, s);
    return mean === null ? null : mean >= 1;
  }

  private grow(min: number): void {
    let size = this.capacity;
    while (size < min) size *= 2;
    const widen = <T extends Uint8Array | Uint16Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.present = widen(this.present, (n) => new Uint8Array(n));
    this.critical = widen(this.critical, (n) => new Uint8Array(n));
    this.trials = widen(this.trials, (n) => new Uint16Array(n));
    this.errors = widen(this.errors, (n) => new Uint16Array(n));
    this.sums = this.sums.map((c) =>
      c instanceof Uint16Array ? widen(c, (n) => new Uint16Array(n)) : widen(c, (n) => new Float64Array(n)),
    );
    this.counts = this.counts.map((c) => widen(c, (n) => new Uint16Array(n)));
    this.passes = this.passes.map((c) => widen(c, (n) => new Uint16Array(n)));
    this.passN = this.passN.map((c) => widen(c, (n) => new Uint16Array(n)));
    this.capacity = size;
  }
}

/** Identity evidence for one model: how often each reported value was seen. */
export interface IdentityCounts {
  responseModel: Map<string, number>;
  systemFingerprint: Map<string, number>;
}

/** A run reduced to per-row columns, plus its summary (streamed in the same pass). */
export interface RunVectors {
  dir: string;
  manifest: RunManifest;
  /** Scorer names in first-seen order. */
  scorers: string[];
  /** The row index (shared with the other run of a comparison). */
  rows: RowKeys;
  /** Model → its rows. */
  models: Map<string, ModelRows>;
  identity: Map<string, IdentityCounts>;
  /** The run's per-model summary, as {@link summarizeRun} computes it. */
  summary: RunSummary;
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
 * Streams a run's final records (last line per key) into {@link RunVectors}, and its summary in
 * the same pass. Memory is a few bytes per row × model × scorer plus the row keys (held once
 * when `rows` is shared with the other run), independent of output sizes.
 */
export async function loadRunVectors(
  dir: string,
  critical: CriticalRule = { column: "tags", tag: "critical" },
  rows: RowKeys = new RowKeys(),
): Promise<RunVectors> {
  const manifest = await readManifest(dir);
  const scorerIndex = new Map<string, number>();
  const scorers: string[] = [];
  const models = new Map<string, ModelRows>();
  const identity = new Map<string, IdentityCounts>();
  const summary = new SummaryBuilder({ pricing: pricingOf(manifest) });
  // Columns sized for the run's rows up front, so they rarely need to grow (and double).
  const expected = Math.max(
    rows.size,
    manifest.datasets.reduce((a, d) => a + (d.rows ?? 0), 0),
  );

  for await (const rec of runRecords(dir, manifest)) {
    summary.add(rec);
    let m = models.get(rec.model);
    if (!m) models.set(rec.model, (m = new ModelRows(expected, scorers.length)));
    const i = rows.indexOf(rowKey(rec.dataset, rec.rowId));
    m.touch(i, hasTag(rec.input.vars[critical.column], critical.tag));
    m.trials[i]!++;
    countIdentity(identity, rec);
    // Failed calls carry no real scores; they are counted as errors, as the run summary does.
    if (rec.output.error) {
      m.errors[i]!++;
      continue;
    }
    for (const [name, score] of Object.entries(rec.scores)) {
      let s = scorerIndex.get(name);
      if (s === undefined) {
        s = scorers.length;
        scorerIndex.set(name, s);
        scorers.push(name);
        for (const other of models.values()) other.addScorer();
      }
      if (typeof score.value === "number" && Number.isFinite(score.value)) m.addScore(i, s, score.value);
      if (typeof score.pass === "boolean") {
        m.passN[s]![i]!++;
        if (score.pass) m.passes[s]![i]!++;
      }
    }
  }
  return { dir, manifest, scorers, rows, models, identity, summary: summary.result() };
}

function pricingOf(manifest: RunManifest): NonNullable<SummaryOptions["pricing"]> {
  return Object.fromEntries(
    (manifest.config?.models ?? []).flatMap((m) => (m.pricing ? [[m.name, m.pricing] as const] : [])),
  );
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

function countIdentity(identity: Map<string, IdentityCounts>, rec: PredictionRecord): void {
  let c = identity.get(rec.model);
  if (!c) identity.set(rec.model, (c = { responseModel: new Map(), systemFingerprint: new Map() }));
  const { model, systemFingerprint } = rec.output;
  if (typeof model === "string" && model !== "") c.responseModel.set(model, (c.responseModel.get(model) ?? 0) + 1);
  if (typeof systemFingerprint === "string" && systemFingerprint !== "") {
    c.systemFingerprint.set(systemFingerprint, (c.systemFingerprint.get(systemFingerprint) ?? 0) + 1);
  }
}
