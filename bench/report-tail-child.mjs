/**
 * One measurement of bench/report-tail.ts, in its own process (plain JS over dist/, no loader):
 *   node bench/report-tail-child.mjs journal <runDir>   # the reports from one pass over the journal (the old tail)
 *   node bench/report-tail-child.mjs live <runDir>      # the same builders fed record by record, then finished (the new tail)
 * Prints one JSON line: the CPU (user + system, µs) of each timed step.
 */
import { readFile } from "node:fs/promises";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { openReportBuilders, writeRunReports } from "../dist/report/run-report.js";
import { asParsed } from "../dist/report/live-reports.js";
import { readManifest } from "../dist/store/manifest.js";

const [mode, runDir] = process.argv.slice(2);
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const t0 = cpu();
if (mode === "journal") {
  await writeRunReports(runDir, { stepSummary: null });
  console.log(JSON.stringify({ reportUs: cpu() - t0 }));
} else if (mode === "live") {
  // Untimed: the records and lines as the journal writer holds them when it tells the feed.
  const manifest = await readManifest(runDir);
  const text = await readFile(join(runDir, "predictions.jsonl"), "utf8");
  const lines = text.split("\n").filter((l) => l !== "");
  const records = lines.map((l) => JSON.parse(l));
  const offsets = [];
  let at = 0;
  for (const l of lines) {
    offsets.push(at);
    at += Buffer.byteLength(l) + 1;
  }
  const builders = await openReportBuilders(runDir, manifest);
  // Timed: what the run loop now pays per record (asParsed's walk and the builders' add) ...
  const f0 = cpu();
  for (let i = 0; i < records.length; i++) {
    const wait = builders.add(asParsed(records[i], lines[i]), { offset: offsets[i], ordinal: i + 1 });
    if (wait) await wait;
  }
  const f1 = cpu();
  // ... and what is left for the tail: finishing and rendering.
  await writeRunReports(runDir, { stepSummary: null, manifest, fed: builders });
  console.log(JSON.stringify({ feedUs: f1 - f0, reportUs: cpu() - f1, records: records.length }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
