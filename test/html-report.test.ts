/**
 * report.html in a real browser (Debian's Chromium via playwright-core): hostile model output
 * stays text, the page runs nothing but its own script and makes no request, the charts and the
 * table render, and the filters show the rows they should. Ends with the real CLI on the
 * shipped config writing all five report files.
 */
import { access, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentSecurityPolicy, renderHtml } from "../src/report/html.js";
import { CLIENT_SCRIPT, scriptHashSource } from "../src/report/html/client.js";
import { writeRunReports } from "../src/report/run-report.js";
import { indexRun } from "../src/report/index-entry.js";
import { JournalWriter, PREDICTIONS_FILE } from "../src/store/journal.js";
import { writeManifest, type RunManifest } from "../src/store/manifest.js";
import type { PredictionRecord } from "../src/types.js";
import { launchBrowser, watchPage, type TestBrowser } from "./helpers/browser.js";
import { REPO, runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { fakeManifest } from "./helpers/weave-fixtures.js";

/** Names are untrusted too: a model and a dataset whose names are markup. */
const ALPHA = "alpha";
const BETA = "b<i>eta";
const DATASET = "qa<u>set";

const SCRIPT_OUT = "<script>window.__pwned=1</script>";
const IMG_OUT = `<img src=x onerror="window.__pwned=2">`;
const SVG_OUT = `"><svg onload="window.__pwned=3">`;
const ERROR_MSG = `<img src=x onerror=window.__pwned=4>`;
const PROMPT_HOSTILE = `What is 2+2? <script>window.__pwned=5</script>`;
const EXPECTED_HOSTILE = `</td></tr><script>window.__pwned=6</script>`;

/**
 * One row per entry: alpha's and beta's verdict on the binary scorer "exact" (null: beta's call
 * failed), who was cut off, and what alpha answered. The filter counts below follow from this
 * table by hand.
 */
const ROWS: { a: boolean; b: boolean | null; aLength?: true; bLength?: true; aText?: string }[] = [
  { a: true, b: true }, // r0
  { a: false, b: true }, // r1  disagreement; alpha fails
  { a: false, b: false }, // r2  both fail
  { a: true, b: null }, // r3  beta's call failed (not a disagreement: one verdict only)
  { a: true, b: false, bLength: true }, // r4  disagreement; beta fails; truncated
  { a: true, b: true, aText: SCRIPT_OUT }, // r5
  { a: true, b: false, aText: IMG_OUT }, // r6  disagreement; beta fails
  { a: true, b: true, aText: SVG_OUT }, // r7
  { a: false, b: true, aLength: true }, // r8  disagreement; alpha fails; truncated
  { a: true, b: true }, // r9  hostile prompt
  { a: true, b: true }, // r10 hostile expected answer
  { a: false, b: false }, // r11 both fail
];
const KNOWN = {
  rows: 12,
  disagreements: 4, // r1 r4 r6 r8
  alphaFailures: 4, // r1 r2 r8 r11
  betaFailures: 5, // r2 r3 r4 r6 r11
  truncated: 2, // r4 r8
  disagreementsOfBeta: 2, // r4 r6
  pwned: 6, // r3 (error) r5 r6 r7 (outputs) r9 (prompt) r10 (expected)
};

function record(model: string, row: number): PredictionRecord {
  const spec = ROWS[row]!;
  const pass = model === ALPHA ? spec.a : spec.b;
  const length = model === ALPHA ? spec.aLength : spec.bLength;
  const base = {
    v: 1 as const,
    key: `${DATASET}/r${row}/${model}/0`,
    dataset: DATASET,
    rowId: `r${row}`,
    line: row + 1,
    model,
    trial: 0,
    input: {
      messages: [{ role: "user" as const, content: row === 9 ? PROMPT_HOSTILE : `What is ${row} + ${row}?` }],
      vars: {},
    },
    expected: row === 10 ? EXPECTED_HOSTILE : String(row * 2),
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
  };
  if (pass === null) {
    return {
      ...base,
      output: {
        text: null,
        finishReason: "error",
        usage: null,
        latencyMs: 5,
        model: null,
        requestId: null,
        attempts: 3,
        error: { kind: "server", message: ERROR_MSG },
      },
      scores: {},
    };
  }
  const text = (model === ALPHA ? spec.aText : undefined) ?? `The answer is ${pass ? row * 2 : row * 2 + 1}.`;
  return {
    ...base,
    output: {
      text,
      finishReason: length ? "length" : "stop",
      usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      // Spread over several latency buckets, beta slower than alpha.
      latencyMs: model === ALPHA ? 20 + row * 3 : 100 + row * 20,
      model,
      requestId: null,
      attempts: 1,
    },
    scores: { exact: { value: pass ? 1 : 0, pass }, sim: { value: pass ? 0.9 : 0.2 + row / 100 } },
  };
}

/** A finished run with the rows above, priced so the cost chart has points. */
async function hostileRun(at?: { dir: string; runId: string; startedAt: string }): Promise<string> {
  const dir = at?.dir ?? (await tempDir());
  await mkdir(dir, { recursive: true });
  const manifest: RunManifest = fakeManifest(at?.runId ?? "run-html", [ALPHA, BETA], ROWS.length);
  if (at) manifest.startedAt = at.startedAt;
  manifest.datasets = [{ ...manifest.datasets[0]!, name: DATASET }];
  manifest.config = {
    ...manifest.config,
    models: [
      { name: ALPHA, pricing: { inputPerMillion: 0.15, outputPerMillion: 0.6, currency: "USD" } },
      { name: BETA, pricing: { inputPerMillion: 2.5, outputPerMillion: 10, currency: "USD" } },
    ],
  } as RunManifest["config"];
  await writeManifest(dir, manifest);
  const journal = await JournalWriter.open(join(dir, PREDICTIONS_FILE));
  for (let row = 0; row < ROWS.length; row++) for (const model of [ALPHA, BETA]) journal.append(record(model, row));
  await journal.close();
  return dir;
}

let browser: TestBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** Opens a report from disk and records what went wrong while it loaded. */
async function open(file: string): Promise<{ page: Page; problems: ReturnType<typeof watchPage> }> {
  const page = await browser.newPage();
  const url = pathToFileURL(file).href;
  const problems = watchPage(page, url);
  await page.goto(url, { waitUntil: "load" });
  return { page, problems };
}

/** Values of URL-bearing attributes (src, href, action, ...) in the markup's real tags. */
function urlAttributes(markup: string): string[] {
  const out: string[] = [];
  for (const tag of markup.matchAll(/<[a-zA-Z][^>]*>/g)) {
    for (const attr of tag[0].matchAll(/\s([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/g)) {
      if (/^(src|href|xlink:href|action|formaction|srcset|poster|data)$/i.test(attr[1]!))
        out.push(attr[2]!.replace(/^["']|["']$/g, ""));
    }
  }
  return out;
}

const visibleRows = (page: Page) => page.locator("#rows tbody tr:visible").count();

describe("report.html", () => {
  it("is self-contained and locked down: CSP with the script's hash, no external URL, hostile text escaped", async () => {
    const dir = await hostileRun();
    const report = await writeRunReports(dir, { stepSummary: null });
    const file = report.files.find((f) => f.endsWith("report.html"))!;
    const page = await readFile(file, "utf8");

    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy().replace(/'/g, "&#39;")}">`,
    );
    expect(contentSecurityPolicy()).toMatch(
      /^default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-[A-Za-z0-9+/]+=*';/,
    );
    expect(contentSecurityPolicy()).toContain(scriptHashSource(CLIENT_SCRIPT));
    // The one script in the page is exactly the hashed constant.
    expect([...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(["<script>"]);
    expect(page).toContain(`<script>${CLIENT_SCRIPT}</script>`);
    // No attribute loads anything: only in-page anchors and data: URLs. (Text such as the
    // escaped "&lt;img src=x" is not a tag, so only real tags' attributes are read.)
    expect(urlAttributes(page).filter((u) => !u.startsWith("#") && !u.startsWith("data:"))).toEqual([]);
    expect(urlAttributes(page)).toContain("data:,");
    expect(page).not.toMatch(/<link[^>]+rel=["']?stylesheet/i);
    // Untrusted strings appear only escaped.
    for (const raw of [SCRIPT_OUT, IMG_OUT, SVG_OUT, ERROR_MSG, EXPECTED_HOSTILE, "<i>eta", "<u>set"])
      expect(page).not.toContain(raw);
    expect(page).toContain("&lt;script&gt;window.__pwned=1&lt;/script&gt;");
    expect(page).toContain("&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;");
    expect(page).toContain("b&lt;i&gt;eta");

    // Rendering again gives the same bytes (no clock, no randomness).
    await writeRunReports(dir, { stepSummary: null });
    expect(await readFile(file, "utf8")).toBe(page);
  });

  it("loads in Chromium with no errors or requests, runs no injected script and shows hostile text as text", async () => {
    const dir = await hostileRun();
    await writeRunReports(dir, { stepSummary: null });
    const { page, problems } = await open(join(dir, "report.html"));
    try {
      expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
      expect(problems.consoleErrors).toEqual([]);
      expect(problems.pageErrors).toEqual([]);
      expect(problems.requests).toEqual([]);
      expect(await page.evaluate("document.scripts.length")).toBe(1);
      expect(await page.locator("main img, main iframe, main object, main embed, svg[onload], i, u").count()).toBe(0);
      expect(
        await page.evaluate("[...document.querySelectorAll('[src], [srcset], [action], [onerror], [onload]')].length"),
      ).toBe(0);

      for (const text of [SCRIPT_OUT, IMG_OUT, SVG_OUT]) {
        await expect.poll(() => page.locator("#rows td .out", { hasText: text }).first().isVisible()).toBe(true);
      }
      expect(await page.locator("#rows td .err", { hasText: ERROR_MSG }).count()).toBe(1);
      expect(await page.locator("#rows .col-prompt", { hasText: PROMPT_HOSTILE }).count()).toBe(1);
      expect(await page.locator("#rows .expected", { hasText: EXPECTED_HOSTILE }).count()).toBe(1);
      expect(await page.locator("#rows thead th").allTextContents()).toEqual([
        "Row",
        "Prompt and expected",
        ALPHA,
        BETA,
      ]);
      expect(await page.locator("#rows tbody th").first().textContent()).toContain(DATASET);
      expect(await page.locator("h1").textContent()).toContain("run-html");
      expect(await page.locator(".recommendation").textContent()).toMatch(/^Recommendation: .+\.$/);
    } finally {
      await page.close();
    }
  });

  it("its CSP would stop injected script even if escaping failed", async () => {
    const dir = await hostileRun();
    await writeRunReports(dir, { stepSummary: null });
    // Simulate an escaping bug: raw markup spliced into the rendered page.
    const page = await readFile(join(dir, "report.html"), "utf8");
    const broken = page.replace(
      "<main>",
      `<main><script>window.__pwned=7</script><img src=x onerror="window.__pwned=8"><svg onload="window.__pwned=9"></svg>`,
    );
    expect(broken).not.toBe(page);
    await writeFile(join(dir, "broken.html"), broken);
    const { page: tab, problems } = await open(join(dir, "broken.html"));
    try {
      expect(await tab.evaluate("typeof window.__pwned")).toBe("undefined");
      // Chromium reports each refused script as a console error naming the policy.
      await expect.poll(() => problems.consoleErrors.join("\n")).toMatch(/Content Security Policy/);
      // The page's own script still ran.
      expect(await tab.locator("#row-count").textContent()).toBe(`${KNOWN.rows} of ${KNOWN.rows} rows shown`);
    } finally {
      await tab.close();
    }
  });

  it("draws every chart and the whole table, and the filters show the known rows", async () => {
    const dir = await hostileRun();
    const report = await writeRunReports(dir, { stepSummary: null });
    const { page, problems } = await open(join(dir, "report.html"));
    try {
      // Scores: one bar and one whisker per scorer × model (exact and sim, two models).
      expect(await page.locator("#chart-scores .bar").count()).toBe(4);
      expect(await page.locator("#chart-scores .whisker").count()).toBe(4);
      // Cost vs quality: a point per model, the Pareto front ringed.
      expect(await page.locator("#chart-cost circle.point").count()).toBe(2);
      expect(await page.locator("#chart-cost circle.point.front").count()).toBe(report.analysis.pareto!.front.length);
      // Latency: a histogram per model; finish reasons: alpha stop+length, beta stop+length+error.
      expect(await page.locator("#chart-latency g.lat-model").count()).toBe(2);
      expect(await page.locator("#chart-latency .lat-bar").count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator("#chart-finish rect.seg").count()).toBe(5);
      for (const id of ["chart-scores", "chart-cost", "chart-latency", "chart-finish"]) {
        const svg = page.locator(`#${id}`);
        expect(await svg.getAttribute("role")).toBe("img");
        expect(await page.locator(`#${id}-title`).textContent()).not.toBe("");
        expect((await svg.boundingBox())!.height).toBeGreaterThan(50);
      }

      const count = page.locator("#row-count");
      expect(await page.locator("#rows tbody tr").count()).toBe(KNOWN.rows);
      expect(await visibleRows(page)).toBe(KNOWN.rows);
      expect(await count.textContent()).toBe(`${KNOWN.rows} of ${KNOWN.rows} rows shown`);

      await page.getByLabel("Disagreements only").check();
      expect(await visibleRows(page)).toBe(KNOWN.disagreements);
      expect(await count.textContent()).toBe(`${KNOWN.disagreements} of ${KNOWN.rows} rows shown`);
      await page.getByLabel("Failures of model").selectOption({ label: BETA });
      expect(await visibleRows(page)).toBe(KNOWN.disagreementsOfBeta);
      await page.getByLabel("Disagreements only").uncheck();
      expect(await visibleRows(page)).toBe(KNOWN.betaFailures);
      await page.getByLabel("Failures of model").selectOption({ label: ALPHA });
      expect(await visibleRows(page)).toBe(KNOWN.alphaFailures);
      await page.getByLabel("Failures of model").selectOption({ value: "" });
      expect(await visibleRows(page)).toBe(KNOWN.rows);

      await page.getByLabel("Truncated (finish_reason length)").check();
      expect(await visibleRows(page)).toBe(KNOWN.truncated);
      expect(await count.textContent()).toBe(`${KNOWN.truncated} of ${KNOWN.rows} rows shown`);
      await page.getByLabel("Truncated (finish_reason length)").uncheck();

      await page.getByLabel("Search").fill("__PWNED");
      expect(await visibleRows(page)).toBe(KNOWN.pwned);
      await page.getByLabel("Search").fill("no row says this");
      expect(await visibleRows(page)).toBe(0);
      expect(await count.textContent()).toBe(`0 of ${KNOWN.rows} rows shown`);
      await page.getByLabel("Search").fill("");
      expect(await visibleRows(page)).toBe(KNOWN.rows);

      // Filtering ran injected text through textContent only: still nothing executed.
      expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
      expect(problems.consoleErrors).toEqual([]);
      expect(problems.pageErrors).toEqual([]);

      const png = await page.screenshot({ path: join(dir, "report.png"), fullPage: true });
      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    } finally {
      await page.close();
    }
  });

  it("caps the table and says how many rows it shows", async () => {
    const dir = await hostileRun();
    await writeRunReports(dir, { stepSummary: null, htmlRows: 5 });
    const { page, problems } = await open(join(dir, "report.html"));
    try {
      expect(await page.locator("#rows tbody tr").count()).toBe(5);
      expect(await page.locator("#rows-note").textContent()).toContain(`Showing the first 5 of ${KNOWN.rows} rows`);
      expect(await page.locator("#row-count").textContent()).toBe("5 of 5 rows shown");
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("adds a trend over earlier indexed runs of the same datasets, and none without them", async () => {
    const out = await tempDir();
    const first = await hostileRun({ dir: join(out, "one"), runId: "run-one", startedAt: "2025-01-01T00:00:00.000Z" });
    await writeRunReports(first, { stepSummary: null });
    expect(await readFile(join(first, "report.html"), "utf8")).not.toContain('id="chart-trend"');
    await indexRun(first, { outputDir: out });
    const second = await hostileRun({ dir: join(out, "two"), runId: "run-two", startedAt: "2025-01-02T00:00:00.000Z" });
    await writeRunReports(second, { stepSummary: null });
    const { page, problems } = await open(join(second, "report.html"));
    try {
      // Both runs, both models: one point per model per run.
      expect(await page.locator("#chart-trend circle.trend-point").count()).toBe(4);
      expect(await page.locator("#chart-trend-title").textContent()).toContain("last 2 runs");
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("a missing Chromium is a failure that says how to install it, not a skip", async () => {
    await expect(launchBrowser({ executablePath: "/nonexistent/chromium" })).rejects.toThrow(
      /apt-get install -y chromium/,
    );
  });

  it("renderHtml escapes names, prompts and outputs it is given directly", async () => {
    const dir = await hostileRun();
    const { analysis } = await writeRunReports(dir, { stepSummary: null });
    const html = renderHtml(analysis, [
      {
        dataset: `"><script>x()</script>`,
        rowId: "<b>id</b>",
        line: 1,
        prompt: "a & b",
        expected: null,
        perModel: {
          [ALPHA]: {
            trial: 0,
            trials: 1,
            output: "'quoted' <tag>",
            finishReason: "<fr>",
            latencyMs: 1,
            scores: { "<s>": { value: 1, pass: true } },
          },
        },
      },
    ]);
    expect(html).not.toContain("<script>x()");
    expect(html).not.toContain("<b>id</b>");
    expect(html).not.toContain("<fr>");
    expect(html).not.toContain("<s>");
    expect(html).toContain("&quot;&gt;&lt;script&gt;x()&lt;/script&gt;");
    expect(html).toContain("&#39;quoted&#39; &lt;tag&gt;");
    expect(html).toContain("a &amp; b");
  });
});

describe("bakeoff run on the shipped config (end to end)", () => {
  it("writes report.md, report.html, report.json, predictions.csv and junit.xml, and the HTML loads cleanly", async () => {
    const dir = await tempDir();
    const config = JSON.parse(await readFile(join(REPO, "eval.config.json"), "utf8"));
    delete config.$schema;
    for (const d of config.datasets) d.path = join(REPO, d.path);
    config.outputDir = join(dir, "results");
    await writeFile(join(dir, "eval.config.json"), JSON.stringify(config, null, 2));
    const res = await runCli(["run", "--config", join(dir, "eval.config.json"), "--no-weave"], {
      cwd: dir,
      env: { WANDB_API_KEY: "" },
      timeoutMs: 120_000,
    });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Report: .*report\.html/);

    const runs = (await readdir(join(dir, "results"), { withFileTypes: true })).filter((e) => e.isDirectory());
    expect(runs).toHaveLength(1);
    const runDir = join(dir, "results", runs[0]!.name);
    for (const f of ["report.md", "report.html", "report.json", "predictions.csv", "junit.xml"])
      await access(join(runDir, f));

    const json = JSON.parse(await readFile(join(runDir, "report.json"), "utf8")) as { rows: number; models: unknown[] };
    const { page, problems } = await open(join(runDir, "report.html"));
    try {
      expect(problems.consoleErrors).toEqual([]);
      expect(problems.pageErrors).toEqual([]);
      expect(problems.requests).toEqual([]);
      expect(await page.locator("#rows tbody tr").count()).toBe(json.rows);
      expect(await page.locator("#chart-scores .bar").count()).toBeGreaterThanOrEqual(json.models.length);
      expect(await page.locator("#chart-cost circle.point").count()).toBe(json.models.length);
    } finally {
      await page.close();
    }
  }, 120_000);
});
