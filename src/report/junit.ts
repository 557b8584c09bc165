/**
 * junit.xml: one test case per row × model × scorer (× trial), so CI systems that understand
 * JUnit (GitHub test reporters, Azure Pipelines, GitLab, Jenkins) show a run as tests: a failed
 * score is a <failure>, a failed call an <error>, a score that could not be computed <skipped>.
 * One <testsuite> per model.
 *
 * Model output is untrusted: every text is escaped, and characters XML 1.0 forbids (most C0
 * controls, lone surrogates, U+FFFE/U+FFFF) are dropped, since no escape can represent them.
 *
 * Streaming: a suite's opening tag carries its counts, which are known only at the end, so each
 * model's test cases are streamed to a temp file during one pass over the journal, then the
 * suites are written out with their counts and the temp files copied in. Memory stays constant.
 */
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import type { PredictionRecord } from "../types.js";
import { excerpt, type RunAnalysis } from "./analysis.js";
import { runRecords } from "../store/journal.js";
import { sanitizeTerminalText } from "../util/terminal-text.js";

export const JUNIT_XML = "junit.xml";

// The characters beyond C0 that escapeXml changes (C1, bidi controls, surrogates, U+FFFE/U+FFFF,
// the five XML specials), shared by the two one-scan shortcuts below so they cannot drift apart.
const ESCAPED_NON_C0 =
  "\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff\\ufffe\\uffff&<>\"'";

// Everything outside XML 1.0's Char production; with the u flag a lone surrogate is one match.
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

// Anything escapeXml would change: controls but tab and newline (CR included), C1, bidi
// controls, surrogates (a lone one is dropped; pairs take the slow path, which keeps them),
// U+FFFE/U+FFFF and the five XML specials. Without these, escapeXml returns its input.
const NEEDS_ESCAPE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f${ESCAPED_NON_C0}]`);

/** Escapes text for XML element content or a double-quoted attribute, dropping invalid characters. */
export function escapeXml(value: string): string {
  // Most text (ids, model names, plain answers) needs none of the passes below; one scan says so.
  if (!NEEDS_ESCAPE.test(value)) return value;
  // The same bytes as the terminal and Markdown drop (escape sequences with their payload, C0/C1
  // controls, bidi overrides), then whatever else XML 1.0 cannot hold.
  return sanitizeTerminalText(value)
    .replace(INVALID_XML, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

// What attr() would change: NEEDS_ESCAPE's characters plus tab and newline (CR is in both).
const ATTR_NEEDS_ESCAPE = new RegExp(`[\\u0000-\\u001f${ESCAPED_NON_C0}]`);

/** Like {@link escapeXml}, also keeping tabs and line breaks, which attribute parsing would fold into spaces. */
function attr(value: string): string {
  if (!ATTR_NEEDS_ESCAPE.test(value)) return value;
  const escaped = escapeXml(value);
  return /[\t\n\r]/.test(escaped)
    ? escaped.replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;")
    : escaped;
}

/**
 * Whether attr() leaves a scorer name as it is, asked once per name (a few per run; bounded so a
 * journal of unusual names cannot grow it without limit). attr() of clean parts is their join.
 */
const cleanNames = new Map<string, boolean>();
function cleanName(name: string): boolean {
  let clean = cleanNames.get(name);
  if (clean === undefined) {
    if (cleanNames.size >= 1024) cleanNames.clear();
    cleanNames.set(name, (clean = !ATTR_NEEDS_ESCAPE.test(name)));
  }
  return clean;
}

/** attr() of a test case's class name, `${dataset}.${model}`, without building the string each time. */
const classMemo = new Map<string, Map<string, string>>();
function className(dataset: string, model: string): string {
  let byModel = classMemo.get(dataset);
  if (byModel === undefined) {
    if (classMemo.size >= 1024) classMemo.clear();
    classMemo.set(dataset, (byModel = new Map<string, string>()));
  }
  let escaped = byModel.get(model);
  if (escaped === undefined) {
    if (byModel.size >= 1024) byModel.clear();
    byModel.set(model, (escaped = attr(`${dataset}.${model}`)));
  }
  return escaped;
}

export interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  /**
   * Whole milliseconds, summed from each test case's rounded time: an integer sum does not depend
   * on the order records are read in (float sums did: 1.092 vs 1.093), and the suite's time is
   * exactly the sum of the times its test cases show.
   */
  timeMs: number;
}

/** Milliseconds as JUnit's seconds with three decimals (exact for an integer count of ms). */
function seconds(ms: number): string {
  // toFixed is slow and this runs once per record. For an integer below 2^53 / 1000, ms / 1000 is
  // within 1e-16 of the exact k / 1000, so toFixed(3) prints exactly the digits of ms: the same
  // text from integer arithmetic.
  if (Number.isInteger(ms) && ms >= 0 && ms < 1e15) {
    const frac = ms % 1000;
    return `${(ms - frac) / 1000}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
  }
  return (ms / 1000).toFixed(3);
}

interface Suite {
  counts: Counts;
  path: string;
  out: WriteStream;
  done: Promise<void>;
}

async function write(out: WriteStream, chunk: string): Promise<void> {
  // Back-pressure: wait for the disk instead of buffering the whole file in memory.
  if (!out.write(chunk)) await once(out, "drain");
}

function detail(r: PredictionRecord): string {
  const lines = [];
  if (r.expected !== undefined) lines.push(`expected: ${excerpt(r.expected, 1000)}`);
  lines.push(`output: ${r.output.text === null ? "(none)" : excerpt(r.output.text, 1000)}`);
  lines.push(`finish_reason: ${r.output.finishReason ?? "none"}`);
  return lines.join("\n");
}

/** The test cases of one record, and how they count. */
export function testCases(r: PredictionRecord, scorers: string[], withTrial: boolean, counts: Counts): string {
  // Runs once per record of a million-record report, so the common case takes shortcuts that give
  // the same text: names that repeat are escaped once (className, cleanName), and a row id that needs no
  // escaping is joined to the escaped scorer name as it is (attr of clean parts is their concat).
  const ms = Number.isFinite(r.output.latencyMs) ? Math.max(0, Math.round(r.output.latencyMs)) : 0;
  const base = `${r.rowId}${withTrial ? ` [trial ${r.trial}]` : ""}`;
  const cleanBase = !ATTR_NEEDS_ESCAPE.test(r.rowId);
  const head = `    <testcase classname="${className(r.dataset, r.model)}" name="`;
  const tail = `" time="${seconds(ms)}"`;
  let xml = "";
  const names = scorers.length > 0 ? scorers : ["call"];
  for (const name of names) {
    counts.tests++;
    counts.timeMs += ms;
    const open = `${head}${cleanBase && cleanName(name) ? `${base} ${name}` : attr(`${base} ${name}`)}${tail}`;
    const err = r.output.error;
    if (err !== undefined) {
      counts.errors++;
      const message = `${err.kind}: ${err.message}`;
      xml += `${open}>\n      <error message="${attr(excerpt(message, 500))}" type="${attr(err.kind)}">${escapeXml(message)}</error>\n    </testcase>\n`;
      continue;
    }
    const score = r.scores?.[name];
    if (score === undefined || score.value === null || !Number.isFinite(score.value)) {
      counts.skipped++;
      const why = score?.error ?? score?.reason ?? "not scored";
      xml += `${open}>\n      <skipped message="${attr(excerpt(why, 500))}"/>\n    </testcase>\n`;
      continue;
    }
    if (score.pass === false) {
      counts.failures++;
      const why = score.reason ?? `score ${score.value}`;
      xml += `${open}>\n      <failure message="${attr(excerpt(why, 500))}" type="score">${escapeXml(`score: ${score.value}\n${detail(r)}`)}</failure>\n    </testcase>\n`;
      continue;
    }
    xml += `${open}/>\n`;
  }
  return xml;
}

/** Scorer names per dataset, from the summary (so a failed call gets one error per scorer). */
export function scorersByDataset(analysis: RunAnalysis): Map<string, string[]> {
  const order = analysis.scorers.map((s) => s.name);
  const sets = new Map<string, Set<string>>();
  for (const m of analysis.models) {
    for (const [ds, d] of Object.entries(m.datasets)) {
      let set = sets.get(ds);
      if (set === undefined) sets.set(ds, (set = new Set()));
      for (const s of Object.keys(d.scores)) set.add(s);
    }
  }
  return new Map([...sets].map(([ds, set]) => [ds, order.filter((s) => set.has(s))]));
}

export function suiteTag(name: string, c: Counts): string {
  return (
    `  <testsuite name="${attr(name)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" ` +
    `skipped="${c.skipped}" time="${seconds(c.timeMs)}">\n`
  );
}

/** The XML declaration and the opening <testsuites> tag with the run's totals. */
export function junitHead(runId: string, total: Counts): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${attr(`bakeoff ${runId}`)}" tests="${total.tests}" ` +
    `failures="${total.failures}" errors="${total.errors}" skipped="${total.skipped}" time="${seconds(total.timeMs)}">\n`
  );
}

/** Characters of test cases gathered per suite before a write to its temp file. */
const CHUNK = 64 * 1024;

interface SuiteBuffer extends Suite {
  buf: string;
}

/**
 * junit.xml as a stream: {@link open}, {@link add} every record in journal order, then
 * {@link close}, which assembles the file; {@link destroy} on failure removes the temp files.
 */
export class JunitWriter {
  private readonly suites = new Map<string, SuiteBuffer>();
  private readonly scorers: Map<string, string[]>;
  private readonly withTrial: boolean;

  private constructor(
    private readonly tmp: string,
    private readonly analysis: RunAnalysis,
    private readonly path: string,
  ) {
    this.scorers = scorersByDataset(analysis);
    this.withTrial = analysis.trials > 1;
  }

  /** Prepares to write junit.xml to `path` (test cases wait in a temp directory until {@link close}). */
  static async open(path: string, analysis: RunAnalysis): Promise<JunitWriter> {
    return new JunitWriter(await mkdtemp(join(tmpdir(), "bakeoff-junit-")), analysis, path);
  }

  /** Adds one record's test cases; returns a promise only when a temp file asks to wait. */
  add(r: PredictionRecord): Promise<void> | undefined {
    let s = this.suites.get(r.model);
    if (s === undefined) {
      const file = join(this.tmp, `${this.suites.size}.xml`);
      const out = createWriteStream(file, { encoding: "utf8" });
      const done = finished(out);
      done.catch(() => undefined); // awaited in close(); observed now so an early error is not unhandled
      s = { counts: { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 }, path: file, out, done, buf: "" };
      this.suites.set(r.model, s);
    }
    s.buf += testCases(r, this.scorers.get(r.dataset) ?? [], this.withTrial, s.counts);
    if (s.buf.length < CHUNK) return undefined;
    const chunk = s.buf;
    s.buf = "";
    // Back-pressure: wait for the disk instead of buffering the whole file in memory.
    return s.out.write(chunk) ? undefined : once(s.out, "drain").then(() => undefined);
  }

  /** Writes junit.xml: the suites with their counts, then removes the temp files. */
  async close(): Promise<void> {
    const { analysis, suites } = this;
    try {
      for (const s of suites.values()) {
        if (s.buf !== "") s.out.write(s.buf);
        s.buf = "";
        s.out.end();
        await s.done;
      }
      const order = [
        ...analysis.models.map((m) => m.name),
        ...[...suites.keys()].filter((m) => !analysis.models.some((x) => x.name === m)),
      ];
      const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, timeMs: 0 };
      for (const s of suites.values()) {
        for (const k of ["tests", "failures", "errors", "skipped", "timeMs"] as const) total[k] += s.counts[k];
      }
      const out = createWriteStream(this.path, { encoding: "utf8" });
      const done = finished(out);
      done.catch(() => undefined);
      try {
        await write(out, junitHead(analysis.manifest.runId, total));
        for (const model of order) {
          const s = suites.get(model);
          if (s === undefined) continue;
          await write(out, suiteTag(model, s.counts));
          for await (const chunk of createReadStream(s.path, { encoding: "utf8" })) await write(out, chunk as string);
          await write(out, "  </testsuite>\n");
        }
        await write(out, "</testsuites>\n");
      } finally {
        out.end();
        await done;
      }
    } finally {
      await this.destroy();
    }
  }

  /** Stops writing and removes the temp files (after {@link close}, or instead of it on failure). */
  async destroy(): Promise<void> {
    for (const s of this.suites.values()) if (!s.out.closed) s.out.destroy();
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/** Writes junit.xml for the run at `runDir` to `path`. */
export async function writeJunitXml(runDir: string, analysis: RunAnalysis, path: string): Promise<void> {
  const junit = await JunitWriter.open(path, analysis);
  try {
    for await (const r of runRecords(runDir, analysis.manifest)) {
      const wait = junit.add(r);
      if (wait) await wait;
    }
  } catch (err) {
    await junit.destroy();
    throw err;
  }
  await junit.close();
}
