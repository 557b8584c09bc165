/**
 * compare.html in a real browser (headless Chromium): it uses report.html's stylesheet and
 * layout, and its tables, the ten-run trend included, fit the page at a laptop's width.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCompare, parseGateRules, renderCompareHtml } from "../src/compare/index.js";
import { STYLES } from "../src/report/html/styles.js";
import type { HistoryTable } from "../src/run/history.js";
import type { RunIndexEntry } from "../src/store/run-index.js";
import { launchBrowser, watchPage, type TestBrowser } from "./helpers/browser.js";
import { runOneModel } from "./helpers/run-fixture.js";

let root: string;
let browser: TestBrowser;

interface Layout {
  pageWidth: number;
  viewport: number;
  mainRight: number;
  trendRight: number;
  changesRight: number;
  trendHeaders: string[];
}

const run = (runId: string, accuracy: number, dataset: string) => runOneModel(root, runId, dataset, { accuracy });

/** Ten runs with real-length run ids, as `bakeoff history` reads them from the run index. */
function tenRunTrend(): HistoryTable {
  const runs = Array.from({ length: 10 }, (_, i) => {
    const t = new Date(Date.UTC(2026, 10, 20 + i, 3, 48, 59));
    const id = `${t.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z-${(0xb14f + i).toString(16)}`;
    return { runId: id, startedAt: t.toISOString() } as RunIndexEntry;
  });
  const lines = ["m", "a-much-longer-model-name"].flatMap((model) =>
    ["numeric", "finish_stop", "includes"].map((scorer) => ({
      model,
      scorer,
      values: runs.map((_, i) => (i % 3 === 0 ? null : 0.5 + i / 40)),
    })),
  );
  return { datasetHash: "h", group: "g", label: "arithmetic", runs, lines };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "bakeoff-compare-html-"));
  browser = await launchBrowser({ width: 1280, height: 900 });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rm(root, { recursive: true, force: true });
});

describe("compare.html", () => {
  it("shares report.html's styles and layout, and its trend table fits a 1280px page", async () => {
    const dataset = join(root, "sums.jsonl");
    const rows = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ id: `r${i}`, prompt: `What is ${i} + ${2 * i}?`, expected: String(3 * i) }),
    );
    await writeFile(dataset, rows.join("\n") + "\n");
    const baselineDir = await run("base", 0.95, dataset);
    const candidateDir = await run("cand", 0.6, dataset);
    const check = await checkCompare({ baselineDir, candidateDir, gates: parseGateRules(["regression:numeric>2"]) });
    const html = renderCompareHtml(check.comparison!, check.gates, tenRunTrend());
    expect(html).toContain(`<style>${STYLES}</style>`);
    expect(html).toMatch(/<body><main>/);
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'');
    const file = join(root, "compare.html");
    await writeFile(file, html);

    const page = await browser.newPage();
    const url = pathToFileURL(file).href;
    const problems = watchPage(page, url);
    await page.goto(url, { waitUntil: "load" });
    // A string, as in html-report.test.ts: the test project is compiled without DOM types.
    const layout = await page.evaluate<Layout>(`(() => {
      const main = document.querySelector("main").getBoundingClientRect();
      const box = (sel) => document.querySelector(sel).getBoundingClientRect();
      return {
        pageWidth: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        mainRight: main.right,
        trendRight: box("table.trend").right,
        changesRight: box("table.changes").right,
        trendHeaders: [...document.querySelectorAll("table.trend thead th")].map((th) => th.textContent),
      };
    })()`);
    expect(layout.pageWidth).toBeLessThanOrEqual(layout.viewport);
    expect(layout.trendRight).toBeLessThanOrEqual(layout.mainRight);
    expect(layout.changesRight).toBeLessThanOrEqual(layout.mainRight);
    expect(layout.trendHeaders[2]).toBe("#111-20 03:48");
    expect(problems).toEqual({ consoleErrors: [], pageErrors: [], requests: [] });
    await page.close();
  }, 60_000);
});
