/**
 * predictions.csv and junit.xml written during the same pass over the journal as the statistics,
 * so a report parses each record once (JSON.parse of every line is most of a report's time).
 *
 * Both files have a layout known for sure only at the end: the CSV's score columns are the
 * scorers in first-seen order, junit.xml's test cases per record are its dataset's scorers, and
 * trial numbers appear in test names only when some row has several trials. Records are
 * therefore written with the layout the run's config predicts (global, then per-dataset scorers,
 * in run.json's dataset order, as the runner scores them) for as long as what has been seen
 * agrees with it, else with the layout seen so far. Each change of layout starts a new segment
 * (its own temp files and the journal byte range it covers). At the end, a segment whose layout
 * is the final one is kept as written; any other is rewritten from its byte range of the journal
 * (in a bakeoff run this happens only when the config did not predict the scorers, and then only
 * for the records before the last scorer first appeared). The bytes are those of the one-purpose
 * writers ({@link writePredictionsCsv}, {@link writeJunitXml}), which tests compare against.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { mkdtemp, open, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import type { RunManifest } from "../store/manifest.js";
import { scanRunRecords, type RecordPosition } from "../store/journal.js";
import type { PredictionRecord } from "../types.js";
import { scorerName } from "../scoring/names.js";
import type { RunAnalysis } from "./analysis.js";
import { csvHeader, csvLine, csvText } from "./csv.js";
import { noteScorers } from "./scorer-layout.js";
import { junitHead, scorersByDataset, suiteTag, testCases, type Counts } from "./junit.js";

/** What the CSV's columns and junit.xml's test cases depend on. */
export interface RecordLayout {
  /** Score columns of predictions.csv, in order. */
  csv: readonly string[];
  /** junit.xml: each dataset's scorers (a record of a dataset not listed gets one "call" case). */
  junit: ReadonlyMap<string, readonly string[]>;
  /** junit.xml: test names carry the trial. */
  withTrial: boolean;
}

/** What the statistics have seen so far (a {@link RunStatistics}). */
export interface SeenLayout {
  readonly seenScorers: readonly string[];
  readonly datasetScorers: ReadonlyMap<string, ReadonlySet<string>>;
  readonly trials: number;
  readonly layoutVersion: number;
}

/** The layout the run's config predicts (see the module comment). */
export function predictedLayout(manifest: RunManifest): RecordLayout {
  const cfg = manifest.config;
  const global = (cfg?.scorers ?? []).map(scorerName);
  const csv: string[] = [];
  const sets = new Map<string, Set<string>>();
  manifest.datasets.forEach((d, i) => {
    const names = new Set([...global, ...(cfg?.datasets?.[i]?.scorers ?? []).map(scorerName)]);
    sets.set(d.name, names);
    for (const n of names) if (!csv.includes(n)) csv.push(n);
  });
  return { csv, junit: ordered(csv, sets), withTrial: (manifest.trials ?? 1) > 1 };
}

/** The layout the finished analysis gives (what the one-purpose writers use). */
export function finalLayout(analysis: RunAnalysis): RecordLayout {
  return {
    csv: analysis.scorers.map((s) => s.name),
    junit: scorersByDataset(analysis),
    withTrial: analysis.trials > 1,
  };
}

/**
 * What {@link RecordFiles.finish} needs of the finished analysis: plain data, so the statistics
 * (main thread) can hand it to the writers in a worker thread (src/report/record-worker.ts).
 */
export interface FinishedLayout {
  layout: RecordLayout;
  /** Models in the analysis' order (junit.xml's test suites). */
  models: string[];
  runId: string;
}

/** The {@link FinishedLayout} of a finished analysis. */
export function finishedLayout(analysis: RunAnalysis): FinishedLayout {
  return { layout: finalLayout(analysis), models: analysis.models.map((m) => m.name), runId: analysis.manifest.runId };
}

/**
 * {@link SeenLayout} for a thread that writes the files without the statistics: the same
 * scorer bookkeeping as RunStatistics.add. Trials are not counted (that needs the row index,
 * the statistics' job): a run with more trials than its config announced is written without
 * them and rewritten at the end from the journal, which gives the same bytes.
 */
export class ScorerLayoutTracker implements SeenLayout {
  readonly seenScorers: string[] = [];
  readonly datasetScorers = new Map<string, Set<string>>();
  readonly trials = 0;
  layoutVersion = 0;

  add(rec: PredictionRecord): void {
    if (rec.output.error !== undefined) return;
    this.layoutVersion += noteScorers(this.seenScorers, this.datasetScorers, rec.dataset, rec.scores ?? {});
  }
}

function ordered(order: readonly string[], sets: ReadonlyMap<string, ReadonlySet<string>>): Map<string, string[]> {
  return new Map([...sets].map(([ds, set]) => [ds, order.filter((s) => set.has(s))]));
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Whether two layouts write the same bytes for every record. */
export function sameLayout(a: RecordLayout, b: RecordLayout): boolean {
  if (a.withTrial !== b.withTrial || !sameList(a.csv, b.csv)) return false;
  for (const ds of new Set([...a.junit.keys(), ...b.junit.keys()])) {
    if (!sameList(a.junit.get(ds), b.junit.get(ds))) return false;
  }
  return true;
}

/** The predicted layout while what was seen agrees with it, else the layout seen so far. */
function currentLayout(predicted: RecordLayout, seen: SeenLayout): RecordLayout {
  const s = seen.seenScorers;
  const agrees =
    s.length <= predicted.csv.length &&
    s.every((n, i) => predicted.csv[i] === n) &&
    [...seen.datasetScorers].every(([ds, set]) => {
      const p = predicted.junit.get(ds);
      return p !== undefined && [...set].every((n) => p.includes(n));
    }) &&
    (seen.trials <= 1 || predicted.withTrial);
  if (agrees) return predicted;
  return { csv: [...s], junit: ordered(s, seen.datasetScorers), withTrial: seen.trials > 1 };
}

/**
 * A file written in 1 MB chunks, with back-pressure. Text is encoded straight into a Buffer
 * (`buf.write`): appending to a string and encoding each chunk built a long rope that V8 had to
 * flatten before encoding, a third of the writers' time in a CPU profile (bench/reports.ts).
 *
 * A chunk's buffer is reused once the stream has written it, so a long run allocates a few
 * buffers per file instead of one per megabyte: each was a 1 MB malloc'd block, served from
 * glibc's heap once its mmap threshold has been raised (V8's string table and the dataset's id
 * index do that at a million rows) and freed in bursts at GCs. An LD_PRELOAD trace of every
 * ≥ 1 MB malloc of a 1M-row run found one every ~0.3 s through the loop, all from here.
 */
class ChunkedFile {
  private buf = Buffer.allocUnsafe(CHUNK);
  /** Written chunks' buffers, free again (at most {@link SPARE_CHUNKS}). */
  private readonly spare: Buffer<ArrayBuffer>[] = [];
  private len = 0;
  private readonly out: WriteStream;
  private readonly done: Promise<void>;

  constructor(readonly path: string) {
    this.out = createWriteStream(path);
    this.done = finished(this.out);
    this.done.catch(() => undefined); // awaited in close(); observed now so an early error is not unhandled
  }

  /** Returns a promise only when the stream asks to wait. */
  write(text: string): Promise<void> | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.len + text.length * 3 > this.buf.length) {
      const wait = this.flush();
      if (text.length * 3 > this.buf.length) this.buf = Buffer.allocUnsafe(text.length * 3);
      this.len = utf8Write(this.buf, text, 0);
      return wait;
    }
    this.len += utf8Write(this.buf, text, this.len);
    return undefined;
  }

  private flush(): Promise<void> | undefined {
    if (this.len === 0) return undefined;
    const full = this.buf;
    const chunk = full.subarray(0, this.len);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
    this.len = 0;
    // The callback runs once the stream is done with the bytes (written, or failed): only then
    // may the buffer be written over.
    const reuse = (): void => {
      if (full.length === CHUNK && this.spare.length < SPARE_CHUNKS) this.spare.push(full);
    };
    if (this.out.errored === null && this.out.write(chunk, reuse)) return undefined;
    return drained(this.out);
  }

  async close(): Promise<void> {
    try {
      if (this.len > 0) this.out.write(this.buf.subarray(0, this.len));
      this.len = 0;
    } finally {
      this.out.end();
      await this.done;
    }
  }

  destroy(): void {
    if (!this.out.closed) this.out.destroy();
  }
}

const CHUNK = 1 << 20;
/** Written chunks kept for reuse per file: the stream rarely holds more than one or two at once. */
const SPARE_CHUNKS = 2;

/**
 * `buf.write(text, at)` without its argument checks: Buffer's own `utf8Write` (on every Node
 * release, undocumented) was ~1.5x faster per call in a micro-benchmark of ~100-byte strings,
 * and the writers make several million such calls at a million records. Falls back to `write`.
 */
const fastWrite = (Buffer.prototype as unknown as { utf8Write?: (s: string, at: number) => number }).utf8Write;
function utf8Write(buf: Buffer, text: string, at: number): number {
  return fastWrite === undefined ? buf.write(text, at) : fastWrite.call(buf, text, at);
}

/** Records of one layout: its journal range and its temp files. */
class Segment {
  readonly csv: ChunkedFile;
  readonly junit = new Map<string, { file: ChunkedFile; counts: Counts }>();
  /** Byte offset where the next segment starts (Infinity: the end of the journal). */
  end = Infinity;

  constructor(
    private readonly dir: string,
    readonly id: number,
    readonly layout: RecordLayout,
    readonly runIdCell: string,
    /** Byte offset of the segment's first record, and the ordinal before it. */
    readonly start: number,
    readonly ordinalBefore: number,
    /** The CSV file starts with the header line (the first segment of a whole file). */
    readonly header: boolean,
  ) {
    this.csv = new ChunkedFile(join(dir, `${id}.csv`));
    if (header) void this.csv.write(csvHeader([...layout.csv]));
  }

  /** The finished segment's files as plain data (they cross to the other thread). */
  files(): SegmentFiles {
    return {
      csv: this.csv.path,
      header: this.header,
      junit: [...this.junit].map(([model, s]) => ({ model, path: s.file.path, counts: s.counts })),
    };
  }

  add(r: PredictionRecord): Promise<void> | undefined {
    const a = this.csv.write(csvLine(r, this.runIdCell, this.layout.csv));
    let s = this.junit.get(r.model);
    if (s === undefined) {
      const file = new ChunkedFile(join(this.dir, `${this.id}-${this.junit.size}.xml`));
      s = { file, counts: { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 } };
      this.junit.set(r.model, s);
    }
    const names = (this.layout.junit.get(r.dataset) ?? []) as string[];
    const b = s.file.write(testCases(r, names, this.layout.withTrial, s.counts));
    return a && b ? Promise.all([a, b]).then(() => undefined) : (a ?? b);
  }

  async close(): Promise<void> {
    await this.csv.close();
    for (const s of this.junit.values()) await s.file.close();
  }

  destroy(): void {
    this.csv.destroy();
    for (const s of this.junit.values()) s.file.destroy();
  }
}

/**
 * A finished segment's temp files in the final layout: the CSV lines (after the header line when
 * `header`) and each model's JUnit test cases with their counts. Plain data, so the writer thread
 * can put the main thread's segments into the files it writes (see {@link RecordFiles.finish}).
 */
export interface SegmentFiles {
  csv: string;
  header: boolean;
  junit: { model: string; path: string; counts: Counts }[];
}

/** Re-reads the journal's records in [start, end) (byte offsets) into `onRecord`. */
export type RangeScan = (
  range: { start: number; end: number; ordinalBefore: number },
  onRecord: (rec: PredictionRecord) => void | Promise<void>,
) => Promise<void>;

/**
 * The {@link RangeScan} of a report's pass over `runDir`'s journal: the same superseded records
 * skipped, and never past `end`, the size both report threads agreed to stop at.
 */
export function journalRangeScan(
  runDir: string,
  manifest: RunManifest,
  pass: { end: number; superseded?: Set<number> },
): RangeScan {
  return (range, onRecord) =>
    scanRunRecords(runDir, manifest, (rec) => onRecord(rec), {
      ...pass,
      ...range,
      end: Math.min(range.end, pass.end),
    });
}

/** Prefix of the temp directories {@link RecordFiles.open} makes in a run directory. */
const REPORT_TMP_PREFIX = ".report-tmp-";

/**
 * Removes report temp directories a killed process left in the run directory. The caller holds
 * the run's lock, so no other process is writing one.
 */
export async function removeStaleTemps(runDir: string): Promise<void> {
  const names = await readdir(runDir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(REPORT_TMP_PREFIX))
      .map((n) => rm(join(runDir, n), { recursive: true, force: true }).catch(() => undefined)),
  );
}

/**
 * predictions.csv and junit.xml fed record by record during the statistics pass: {@link open},
 * {@link add} each final record after the statistics have seen it, then {@link finish}; on
 * failure {@link destroy}.
 */
export class RecordFiles {
  private readonly segments: Segment[] = [];
  private version = -1;
  private readonly runIdCell: string;

  private constructor(
    private readonly dir: string,
    private readonly predicted: RecordLayout,
    private readonly seen: SeenLayout,
    runId: string,
    private readonly header: boolean,
  ) {
    this.runIdCell = csvText(runId);
  }

  /**
   * `seen` must have been given each record before {@link add} gets it. `near`: a directory on
   * the file system the reports go to (the run's), so the finished CSV is renamed, not copied,
   * into place (a rename across file systems fails); default the OS temp directory. `tail`: these
   * records are the end of files another RecordFiles begins (no CSV header; see {@link parts}).
   */
  static async open(manifest: RunManifest, seen: SeenLayout, near?: string, options: { tail?: boolean } = {}) {
    const dir = await mkdtemp(near === undefined ? join(tmpdir(), "bakeoff-report-") : join(near, REPORT_TMP_PREFIX));
    return new RecordFiles(dir, predictedLayout(manifest), seen, manifest.runId, options.tail !== true);
  }

  /** Writes one record's CSV line and test cases; a promise only when a file asks to wait. */
  add(r: PredictionRecord, at: RecordPosition): Promise<void> | undefined {
    let seg = this.segments.at(-1);
    if (this.seen.layoutVersion !== this.version || seg === undefined) {
      this.version = this.seen.layoutVersion;
      const layout = currentLayout(this.predicted, this.seen);
      if (seg === undefined || !sameLayout(seg.layout, layout)) {
        if (seg !== undefined) {
          seg.end = at.offset;
          void seg.close().catch(() => undefined); // its errors surface again in finish()
        }
        const n = this.segments.length;
        seg = new Segment(this.dir, n, layout, this.runIdCell, at.offset, at.ordinal - 1, n === 0 && this.header);
        this.segments.push(seg);
      }
    }
    return seg.add(r);
  }

  /**
   * Writes predictions.csv to `csvPath` and junit.xml to `junitPath` for the finished analysis
   * (its {@link finishedLayout}), rewriting the segments whose layout turned out wrong from their
   * journal ranges (`rescan`). `tail`: the {@link parts} of the records after this object's (the
   * main thread's share when the writer thread writes the files), appended in order.
   */
  async finish(
    final: FinishedLayout,
    csvPath: string,
    junitPath: string,
    rescan: RangeScan,
    tail: readonly SegmentFiles[] = [],
  ): Promise<void> {
    const parts = [...(await this.parts(final, rescan)), ...tail];
    await writeCsv(parts, final.layout, csvPath);
    await writeJunit(parts, final, junitPath);
  }

  /**
   * The segments' files in the final layout, in journal order: those whose layout was right as
   * written, the others rewritten from their journal ranges (`rescan`). The files stay until
   * {@link destroy}.
   */
  async parts(final: FinishedLayout, rescan: RangeScan): Promise<SegmentFiles[]> {
    const { layout } = final;
    const parts: SegmentFiles[] = [];
    let redone = 0;
    for (const seg of this.segments) {
      await seg.close();
      if (sameLayout(seg.layout, layout)) {
        parts.push(seg.files());
        continue;
      }
      const redo = new Segment(
        this.dir,
        this.segments.length + redone++,
        layout,
        this.runIdCell,
        seg.start,
        seg.ordinalBefore,
        false,
      );
      try {
        await rescan({ start: seg.start, end: seg.end, ordinalBefore: seg.ordinalBefore }, (r) => redo.add(r));
      } finally {
        await redo.close();
      }
      parts.push(redo.files());
    }
    return parts;
  }

  /** Stops writing and removes the temp files (after {@link finish}, or instead of it). */
  async destroy(): Promise<void> {
    for (const seg of this.segments) seg.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * predictions.csv from the parts' CSV files. When the first part starts with the header (the
 * usual case) it becomes the file by a rename and the rest is appended: a single part, the common
 * case, is not copied at all.
 */
async function writeCsv(parts: readonly SegmentFiles[], layout: RecordLayout, path: string): Promise<void> {
  const first = parts[0];
  const renamed = first !== undefined && first.header;
  if (renamed) {
    await rename(first.csv, path);
    if (parts.length === 1) return;
  }
  const out = createWriteStream(path, { flags: renamed ? "a" : "w" });
  const done = finished(out);
  done.catch(() => undefined);
  try {
    if (!renamed) await write(out, csvHeader([...layout.csv]));
    for (const p of renamed ? parts.slice(1) : parts) await copyInto(out, p.csv);
  } finally {
    out.end();
    await done;
  }
}

/** junit.xml: per model (the analysis' order), a suite tag with the parts' summed counts, then their test cases. */
async function writeJunit(parts: readonly SegmentFiles[], final: FinishedLayout, path: string): Promise<void> {
  const models = new Set<string>();
  for (const p of parts) for (const j of p.junit) models.add(j.model);
  const order = [...final.models.filter((m) => models.has(m)), ...[...models].filter((m) => !final.models.includes(m))];
  const sum = (model?: string): Counts => {
    const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 };
    for (const p of parts) {
      for (const j of p.junit) {
        if (model !== undefined && j.model !== model) continue;
        for (const k of ["tests", "failures", "errors", "skipped", "timeMs"] as const) total[k] += j.counts[k];
      }
    }
    return total;
  };
  const out = createWriteStream(path, { encoding: "utf8" });
  const done = finished(out);
  done.catch(() => undefined);
  try {
    await write(out, junitHead(final.runId, sum()));
    for (const model of order) {
      await write(out, suiteTag(model, sum(model)));
      for (const p of parts) {
        for (const j of p.junit) if (j.model === model) await copyInto(out, j.path);
      }
      await write(out, "  </testsuite>\n");
    }
    await write(out, "</testsuites>\n");
  } finally {
    out.end();
    await done;
  }
}

async function write(out: WriteStream, chunk: string | Buffer): Promise<void> {
  // Back-pressure: wait for the disk instead of buffering the whole file in memory.
  if (out.errored !== null || !out.write(chunk)) await drained(out);
}

/**
 * Waits until `out` asks for more. A stream that already failed (its file could not be opened)
 * never drains: its error is thrown instead of waiting forever; `once` rejects on a later error.
 */
async function drained(out: WriteStream): Promise<void> {
  if (out.errored !== null) throw out.errored;
  await once(out, "drain");
}

/**
 * Appends the file at `path` to `out` through one buffer, reused once each chunk is written.
 * A read stream allocates a new 1 MB chunk per read, and those waited for a collection as
 * garbage: a 200k-record report's junit.xml copy held ~30 MB of them at once, the peak of the
 * run's tail (BENCHMARKS.md, memory).
 */
async function copyInto(out: WriteStream, path: string): Promise<void> {
  const file = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      await written(out, buf.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
}

/** Writes `chunk` and waits until the stream is done with it (so its buffer can be reused). */
function written(out: WriteStream, chunk: Buffer): Promise<void> {
  if (out.errored !== null) return Promise.reject(out.errored);
  return new Promise((resolve, reject) => {
    out.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
