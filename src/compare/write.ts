/** Writes compare.md, compare.json and compare.html for a comparison. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HistoryTable } from "../run/history.js";
import type { CompareResult } from "./compare.js";
import type { GateReport } from "./gates.js";
import { renderCompareHtml } from "./render-html.js";
import { renderCompareMarkdown } from "./render.js";

export const COMPARE_MD = "compare.md";
export const COMPARE_JSON = "compare.json";
export const COMPARE_HTML = "compare.html";

/**
 * Writes the three compare files into `dir` (created if needed) and returns their paths.
 * compare.json holds the full result and gate outcomes, for CI tooling.
 */
export async function writeCompareFiles(
  dir: string,
  result: CompareResult,
  gates?: GateReport,
  trend?: HistoryTable,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const md = join(dir, COMPARE_MD);
  const json = join(dir, COMPARE_JSON);
  const html = join(dir, COMPARE_HTML);
  await writeFile(md, renderCompareMarkdown(result, gates), "utf8");
  await writeFile(json, JSON.stringify({ ...result, gates: gates ?? null }, null, 2) + "\n", "utf8");
  await writeFile(html, renderCompareHtml(result, gates, trend), "utf8");
  return [md, json, html];
}
