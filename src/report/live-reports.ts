/**
 * The run's reports fed as it goes: the runner's journal writer tells this module of each line
 * it has handed to the kernel, and each record goes to the same builders a `bakeoff report` pass
 * feeds (statistics, report.html's table, predictions.csv and junit.xml), with its byte position.
 * At the end of the run only the finishing and rendering is left (writeRunReports with `fed`),
 * instead of reading and parsing the whole journal again after the last answer.
 *
 * The journal stays the source of truth: a record is fed only once its line is in the file, in
 * file order, as the value `JSON.parse` of that line gives (see {@link asParsed}), so the bytes
 * are those `bakeoff report` renders from disk. Lines already in the file when feeding starts (a
 * resumed run's earlier sessions, or the first answers while the report modules load) are read
 * from the file by a catch-up scan, run while calls are in flight. Anything that goes wrong here
 * (a temp file that cannot be written) drops the feed, and the reports are then written by the
 * full pass over the journal, as before: the feed can make reports faster, never different.
 *
 * Not used for a journal that may hold superseded records (a resume with --retry-errors): a fed
 * record cannot be taken back when a later line for the same key replaces it; such runs use the
 * full pass.
 */
import { join } from "node:path";
import { PREDICTIONS_FILE, scanJournal, type JournalWriter, type WrittenListener } from "../store/journal.js";
import type { RunManifest } from "../store/manifest.js";
import type { PredictionRecord } from "../types.js";
import type { ReportBuilders, RunReport, WriteReportsOptions } from "./run-report.js";

export class LiveReports {
  /** Lines from this byte offset on are fed as written; before it, the catch-up scan reads them. */
  private liveFrom = Infinity;
  /** Ordinal of the last record fed (as scanJournal numbers them). */
  private ordinal = 0;
  private builders: ReportBuilders | undefined;
  private failure: unknown;
  private ready: Promise<void> | undefined;
  private closed = false;

  /** `manifest`: the run's, the same object the runner finishes (status, end time). */
  constructor(
    private readonly runDir: string,
    private readonly manifest: RunManifest,
    private readonly options: Pick<WriteReportsOptions, "htmlRows"> = {},
  ) {}

  /** Whether a run with this manifest can be fed live (no superseded records possible). */
  static applies(manifest: RunManifest): boolean {
    return manifest.mayHaveDuplicates !== true;
  }

  /** The journal writer's listener (give it to JournalWriter.open). */
  readonly onWritten: WrittenListener = (record, line, offset) => {
    if (offset < this.liveFrom || this.failure !== undefined) return;
    try {
      // merge's byte copies carry no record; the runner never writes them, so no feed for them.
      if (record === undefined) throw new Error("a line was written without its record");
      const rec = asParsed(record, line);
      const wait = this.builders!.add(rec, { offset, ordinal: ++this.ordinal });
      if (wait) wait.catch((err: unknown) => this.fail(err));
    } catch (err) {
      this.fail(err);
    }
  };

  /**
   * Starts feeding from `journal` (opened with {@link onWritten}): loads the report modules,
   * opens the builders, reads the lines already in the file, then takes each new line as written.
   * Returns at once; problems surface as a fallback in {@link finish}.
   */
  start(journal: JournalWriter): void {
    this.ready = this.catchUp(journal).catch((err: unknown) => this.fail(err));
  }

  private async catchUp(journal: JournalWriter): Promise<void> {
    // Loaded lazily, like the rest of the report modules (the runner imports this one at start).
    const [{ openReportBuilders }, { removeStaleTemps }] = await Promise.all([
      import("./run-report.js"),
      import("./record-files.js"),
    ]);
    await removeStaleTemps(this.runDir);
    if (this.closed) return;
    this.builders = await openReportBuilders(this.runDir, this.manifest, this.options);
    if (this.closed) return this.dropBuilders();
    const path = join(this.runDir, PREDICTIONS_FILE);
    let from = 0;
    for (;;) {
      // Checked and switched in one synchronous step: every later line starts at or after `end`
      // and reaches onWritten, every earlier one has been scanned.
      const end = journal.written;
      if (from === end || this.failure !== undefined) {
        this.liveFrom = end;
        return;
      }
      await scanJournal(path, (rec, at) => this.feedScanned(rec, at.offset), {
        start: from,
        end,
        ordinalBefore: this.ordinal,
      });
      from = end;
    }
  }

  private feedScanned(rec: PredictionRecord, offset: number): void | Promise<void> {
    if (this.failure !== undefined) return;
    return this.builders!.add(rec, { offset, ordinal: ++this.ordinal });
  }

  private fail(err: unknown): void {
    this.failure ??= err ?? new Error("live report feed failed");
  }

  /** Why the feed was dropped (the reports then came from a full pass), if it was. */
  get dropped(): unknown {
    return this.failure;
  }

  /**
   * Writes the run's reports once every record is in the journal and the writer is closed:
   * finishes the fed builders, or (feed dropped) reads the journal in full as `bakeoff report`.
   */
  async finish(options: WriteReportsOptions = {}): Promise<RunReport> {
    await this.ready;
    const { writeRunReports } = await import("./run-report.js");
    const builders = this.builders;
    this.closed = true;
    this.builders = undefined;
    // Builders exist only once start() ran; fed, they hold every record unless the feed failed.
    const fed = this.failure === undefined ? builders : undefined;
    if (builders !== undefined && fed === undefined) await closeBuilders(builders);
    return writeRunReports(this.runDir, { ...options, manifest: this.manifest, ...(fed ? { fed } : {}) });
  }

  /** Drops the feed and its temp files (the run failed; idempotent, a no-op after {@link finish}). */
  async discard(): Promise<void> {
    this.closed = true;
    this.liveFrom = Infinity;
    await this.ready?.catch(() => undefined);
    await this.dropBuilders();
  }

  private async dropBuilders(): Promise<void> {
    const builders = this.builders;
    this.builders = undefined;
    if (builders !== undefined) await closeBuilders(builders);
  }
}

async function closeBuilders(b: ReportBuilders): Promise<void> {
  b.stats.close();
  await b.recordFiles.destroy();
}

/**
 * `record` as `JSON.parse(line)` gives it, where `line` is `JSON.stringify(record)`: the record
 * itself when serialising loses nothing (the usual case: a walk, no allocation), else the parse.
 * What serialising changes: undefined or function values (dropped from objects, null in arrays),
 * -0 (0), NaN and ±Infinity (null), holes (null), objects with toJSON (Date) or another prototype
 * (class instances, Map: their own enumerable fields or {}), and an own "__proto__" key (a
 * prototype for an object literal, a plain key for JSON.parse). Key order needs no check: both
 * enumerate integer-like keys first, then the rest in insertion order.
 */
export function asParsed(record: PredictionRecord, line: string): PredictionRecord {
  return survivesJson(record, 0) ? record : (JSON.parse(line) as PredictionRecord);
}

/** Deeper than any record; JSON.stringify would have thrown on a cycle before this runs. */
const MAX_DEPTH = 64;

function survivesJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v) && !Object.is(v, -0);
    case "object": {
      if (v === null) return true;
      if (depth > MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          if (!(i in v) || !survivesJson(v[i], depth + 1)) return false;
        }
        return Object.getPrototypeOf(v) === Array.prototype;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype || typeof (v as { toJSON?: unknown }).toJSON === "function")
        return false;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (k === "__proto__") return false;
        const x = o[k];
        if (x === undefined || !survivesJson(x, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false; // undefined, function, symbol, bigint (stringify would have thrown on bigint)
  }
}
