/**
 * Refreshes the README's screenshot of report.html:
 *
 *   npx tsx scripts/screenshot.ts results/<run>/report.html docs/report-screenshot.png
 *
 * Opens the report in headless Chromium (the same launcher the tests use) at 1280 px wide and
 * captures the top of the page (header, recommendation, summary and charts).
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launchBrowser, watchPage } from "../test/helpers/browser.js";

/** Height of the capture: the summary and the charts, not the long per-prompt table. */
const CLIP_HEIGHT = 1600;

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: npx tsx scripts/screenshot.ts <report.html> <out.png>");
  process.exit(2);
}
const url = pathToFileURL(resolve(input)).href;
const browser = await launchBrowser({ width: 1280, height: 900 });
try {
  const page = await browser.newPage();
  const problems = watchPage(page, url);
  await page.goto(url, { waitUntil: "load" });
  const height = await page.evaluate<number>("document.documentElement.scrollHeight");
  await page.screenshot({
    path: output,
    fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: Math.min(CLIP_HEIGHT, height) },
  });
  const all = [...problems.consoleErrors, ...problems.pageErrors, ...problems.requests];
  if (all.length > 0) {
    console.error(`the report had problems:\n${all.join("\n")}`);
    process.exitCode = 1;
  }
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
}
