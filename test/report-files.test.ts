import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { writeRunReports } from "../src/report/run-report.js";
import { escapeXml } from "../src/report/junit.js";
import { JournalWriter, PREDICTIONS_FILE } from "../src/store/journal.js";
import { writeManifest } from "../src/store/manifest.js";
import type { PredictionRecord, Score } from "../src/types.js";
import { fakeManifest } from "./helpers/weave-fixtures.js";
import { tempDir } from "./helpers/tmp.js";

const HOSTILE = [
  '=HYPERLINK("http://evil","x")',
  "+1+1",
  "-2+3",
  "@SUM(A1)",
  "\tTAB",
  "\rCR",
  "<script>alert('x')</script> & \u0001\u001b[31m \ud800 ![img](http://t/p.png)",
  'plain, with "quotes"\nand a newline',
];

/** The config snapshot declares the scorers, as a real run's does: `exact` pass/fail, `delta` custom (continuous). */
function withScorers<T extends { config: unknown }>(manifest: T): T {
  manifest.config = {
    ...(manifest.config as object),
    scorers: [{ type: "exact" }, { type: "custom", name: "delta", module: "./delta.mjs" }],
  };
  return manifest;
}

function record(model: string, row: number, over: Partial<PredictionRecord> = {}): PredictionRecord {
  const text = HOSTILE[row % HOSTILE.length]!;
  const scores: Record<string, Score> = {
    exact: { value: row % 2, pass: row % 2 === 1, reason: row % 2 === 1 ? "ok" : `wanted <b>${row}</b>` },
    delta: { value: -0.5 + row / 10 },
  };
  return {
    v: 1,
    key: `qa/r${row}/${model}/0`,
    dataset: "qa",
    rowId: `r${row}`,
    line: row + 2,
    model,
    trial: 0,
    input: { messages: [{ role: "user", content: `-prompt ${row}` }], vars: {} },
    expected: "=1+1",
    output: {
      text,
      finishReason: "stop",
      usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 },
      latencyMs: 12.5,
      model,
      requestId: null,
      attempts: 1,
    },
    scores,
    startedAt: "2025-01-01T00:00:00.000Z",
    endedAt: "2025-01-01T00:00:00.100Z",
    ...over,
  };
}

async function hostileRun(): Promise<{ dir: string; records: PredictionRecord[] }> {
  const dir = await tempDir();
  const records: PredictionRecord[] = [];
  for (let row = 0; row < HOSTILE.length; row++) {
    records.push(record("a", row));
    records.push(
      row === 3
        ? record("b", row, {
            scores: {},
            output: {
              text: null,
              finishReason: "error",
              usage: null,
              latencyMs: 5,
              model: null,
              requestId: null,
              attempts: 3,
              error: { kind: "server", message: "boom <&>" },
            },
          })
        : row === 4
          ? record("b", row, { scores: { exact: { value: null, error: "judge failed" }, delta: { value: 0.1 } } })
          : row === 6
            ? record("b", row, { scores: { exact: { value: 1, pass: true }, delta: { value: 0.1 } } })
            : record("b", row),
    );
  }
  await writeManifest(dir, withScorers(fakeManifest("run-x", ["a", "b"], HOSTILE.length)));
  const journal = await JournalWriter.open(join(dir, PREDICTIONS_FILE));
  for (const r of records) journal.append(r);
  await journal.close();
  return { dir, records };
}

describe("writeRunReports", () => {
  it("writes report.md, report.json, predictions.csv, junit.xml and report.html, in that order", async () => {
    const { dir } = await hostileRun();
    const report = await writeRunReports(dir, { stepSummary: null });
    expect(report.files.map((f) => basename(f))).toEqual([
      "report.md",
      "report.json",
      "predictions.csv",
      "junit.xml",
      "report.html",
    ]);
    const json = JSON.parse(await readFile(report.files[1]!, "utf8"));
    expect(json.schema).toBe("bakeoff.report/v1");
    expect(json.run.runId).toBe("run-x");
    expect(json.models.map((m: { name: string }) => m.name)).toEqual(["a", "b"]);
    expect(json.pairs).toHaveLength(2);
    expect(typeof json.recommendation).toBe("string");
    // The manifest's endpoint is already credential-free; report.json must not re-add anything.
    expect(JSON.stringify(json)).not.toMatch(/api-key=leak/i);
  });

  it("keeps model output inert in report.md", async () => {
    const { dir } = await hostileRun();
    const md = await readFile((await writeRunReports(dir, { stepSummary: null })).files[0]!, "utf8");
    expect(md).toContain("## Verdicts");
    expect(md).toContain("## Top disagreements");
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("![img]");
    expect(md).toContain("&lt;script&gt;");
    expect(md.split("\n")[2]).toMatch(/^\*\*Recommendation:\*\* /);
  });

  it("appends report.md to $GITHUB_STEP_SUMMARY without overwriting it", async () => {
    const { dir } = await hostileRun();
    const summary = join(await tempDir(), "step-summary.md");
    await writeFile(summary, "earlier step\n");
    const report = await writeRunReports(dir, { stepSummary: summary });
    const md = await readFile(report.files[0]!, "utf8");
    expect(await readFile(summary, "utf8")).toBe(`earlier step\n${md}\n`);

    const saved = process.env.GITHUB_STEP_SUMMARY;
    process.env.GITHUB_STEP_SUMMARY = summary;
    try {
      await writeRunReports(dir);
    } finally {
      if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
      else process.env.GITHUB_STEP_SUMMARY = saved;
    }
    expect(await readFile(summary, "utf8")).toBe(`earlier step\n${md}\n${md}\n`);
  });

  it("reports an unwritable step summary as a warning instead of failing", async () => {
    const { dir } = await hostileRun();
    const report = await writeRunReports(dir, { stepSummary: join(dir, "no", "such", "dir", "summary.md") });
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/GITHUB_STEP_SUMMARY/);
  });
});

describe("predictions.csv", () => {
  it("quotes per RFC 4180 and neutralises formulas in text cells only", async () => {
    const { dir, records } = await hostileRun();
    const report = await writeRunReports(dir, { stepSummary: null });
    const raw = await readFile(report.files[2]!, "utf8");
    expect(
      raw.startsWith(
        "\uFEFFrun_id,dataset,row_id,model,trial,finish_reason,error_kind,latency_ms,prompt_tokens,completion_tokens,score_exact,score_delta,prompt,expected,output\r\n",
      ),
    ).toBe(true);
    const rows = parse<Record<string, string>>(raw, { bom: true, columns: true, relax_column_count: false });
    expect(rows).toHaveLength(records.length);
    for (const [i, row] of rows.entries()) {
      const rec = records[i]!;
      expect(row.row_id).toBe(rec.rowId);
      expect(row.prompt).toBe(`'${rec.input.messages[0]!.content as string}`);
      expect(row.expected).toBe("'=1+1");
      const text = rec.output.text;
      if (text === null) expect(row.output).toBe("");
      else if (/^[=+\-@\t\r]/.test(text)) expect(row.output).toBe(`'${text}`);
      // A lone surrogate cannot be encoded as UTF-8; the encoder writes U+FFFD for it.
      else expect(row.output).toBe(text.replace(/[\ud800-\udfff]/g, "\ufffd"));
      // Numeric columns stay plain numbers, negatives included.
      const delta = rec.scores.delta?.value;
      expect(row.score_delta).toBe(delta === undefined || delta === null ? "" : String(delta));
    }
    expect(rows[0]!.score_delta).toBe("-0.5");
    expect(rows[0]!.latency_ms).toBe("12.5");
    const failed = rows.find((r) => r.model === "b" && r.row_id === "r3")!;
    expect(failed).toMatchObject({ error_kind: "server", finish_reason: "error", prompt_tokens: "", score_exact: "" });
    for (const row of rows) {
      for (const col of ["output", "prompt", "expected", "row_id", "model"])
        expect(row[col]!).not.toMatch(/^[=+\-@\t\r]/);
    }
  });
});

/** Checks that tags nest properly and counts each element (a tiny well-formedness check). */
function checkXml(xml: string): Map<string, number> {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>\n/, "");
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop()).toBe(name);
    else {
      counts.set(name!, (counts.get(name!) ?? 0) + 1);
      if (!selfClose) stack.push(name!);
    }
  }
  expect(stack).toEqual([]);
  // Every `<` left in the text belongs to a tag matched above; entities are the only `&` forms.
  const stripped = body.replace(/<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>/g, "");
  expect(stripped).not.toMatch(/</);
  expect(stripped.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, "")).not.toMatch(/&/);
  return counts;
}

describe("junit.xml", () => {
  it("has one test case per row × model × scorer, escapes everything and drops invalid characters", async () => {
    const { dir } = await hostileRun();
    const report = await writeRunReports(dir, { stepSummary: null });
    const xml = await readFile(report.files[3]!, "utf8");
    const counts = checkXml(xml);
    expect(counts.get("testsuites")).toBe(1);
    expect(counts.get("testsuite")).toBe(2);
    expect(counts.get("testcase")).toBe(HOSTILE.length * 2 * 2);
    // Row 3 of b failed: one <error> per scorer. Row 4 of b: exact could not be scored.
    expect(counts.get("error")).toBe(2);
    expect(counts.get("skipped")).toBe(1);
    // exact fails on even rows: 4 for a; 2 for b, whose row 4 is unscored and row 6 passes.
    expect(counts.get("failure")).toBe(4 + 2);
    expect(xml).toContain('<testsuite name="a" tests="16" failures="4" errors="0" skipped="0"');
    expect(xml).toContain('<testcase classname="qa.a" name="r0 exact"');
    expect(xml).not.toContain("<script>");
    expect(xml).toContain("&lt;script&gt;");
    expect(xml).toContain('message="wanted &lt;b&gt;0&lt;/b&gt;"');
    expect(xml).toContain("boom &lt;&amp;&gt;");
    // eslint-disable-next-line no-control-regex -- checks that control characters were dropped
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).not.toMatch(/[\ud800-\udfff]/u);
  });

  it("a suite's time is the sum of its test cases' shown times, whatever the journal order", async () => {
    // Latencies with fractions of a millisecond: summed as floats in journal order, the suite
    // time used to depend on that order and differ from what its test cases showed.
    const latencies = [0.4, 0.4, 12.5, 0.4, 1091.6, 0.4, 0.6, 33.3];
    const suiteTimes = async (order: number[]) => {
      const dir = await tempDir();
      await writeManifest(dir, fakeManifest("run-t", ["a"], latencies.length));
      const journal = await JournalWriter.open(join(dir, PREDICTIONS_FILE));
      for (const i of order) {
        const r = record("a", i);
        journal.append({ ...r, output: { ...r.output, latencyMs: latencies[i]! } });
      }
      await journal.close();
      const xml = await readFile((await writeRunReports(dir, { stepSummary: null })).files[3]!, "utf8");
      const cases = [...xml.matchAll(/<testcase [^>]*time="(\d+\.\d{3})"/g)].map((m) =>
        Math.round(Number(m[1]) * 1000),
      );
      const suite = /<testsuite name="a"[^>]*time="(\d+\.\d{3})"/.exec(xml)?.[1];
      const all = /<testsuites [^>]*time="(\d+\.\d{3})"/.exec(xml)?.[1];
      return { cases: cases.reduce((a, b) => a + b, 0), suite, all };
    };
    const forward = await suiteTimes(latencies.map((_, i) => i));
    const backward = await suiteTimes(latencies.map((_, i) => latencies.length - 1 - i));
    expect(forward.suite).toBe((forward.cases / 1000).toFixed(3));
    expect(forward.all).toBe(forward.suite);
    expect(backward).toEqual(forward);
  });

  it("escapeXml drops characters XML 1.0 cannot hold", () => {
    expect(escapeXml("a\u0000b\u0008c\ufffed\ud800e😀")).toBe("abcde😀");
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  });
});

describe("report.json endpoints", () => {
  it("drops user info and secret query parameters", async () => {
    const { publicEndpoint } = await import("../src/report/json.js");
    expect(publicEndpoint("https://user:secret@h.example.com/models?api-key=leak&api-version=2024-10-21")).toBe(
      "https://h.example.com/models?api-version=2024-10-21",
    );
    expect(publicEndpoint("emulator://small")).toBe("emulator://small");
  });
});

describe("report.md decision sections", () => {
  it("shows intervals, cost vs quality with the Pareto front, and scores by finish reason", async () => {
    const dir = await tempDir();
    const records: PredictionRecord[] = [];
    for (let row = 0; row < 40; row++) {
      records.push(
        record("a", row, { output: { ...record("a", row).output, finishReason: row < 4 ? "length" : "stop" } }),
      );
      records.push(record("b", row));
    }
    const manifest = withScorers(fakeManifest("run-y", ["a", "b"], 40));
    manifest.config = {
      ...manifest.config,
      models: [
        { name: "a", pricing: { inputPerMillion: 1, outputPerMillion: 2, currency: "USD" } },
        { name: "b", pricing: { inputPerMillion: 5, outputPerMillion: 10, currency: "USD" } },
      ],
    } as typeof manifest.config;
    await writeManifest(dir, manifest);
    const journal = await JournalWriter.open(join(dir, PREDICTIONS_FILE));
    for (const r of records) journal.append(r);
    await journal.close();
    const md = await readFile((await writeRunReports(dir, { stepSummary: null })).files[0]!, "utf8");
    expect(md).toMatch(/\| \*\*exact\*\* \| 50\.0% \(\d+\.\d–\d+\.\d\) \|/);
    expect(md).toContain("## Cost vs quality");
    expect(md).toMatch(/\| a \| [^\n]* \| ★ yes \|/);
    expect(md).toContain("## Scores by finish reason");
    expect(md).toMatch(/\| length: exact \| 50\.0% \(n=4\) \| – \|/);
    expect(md).toContain("| Cost per pass (qa · exact) |");
  });
});
