import { describe, expect, it } from "vitest";
import { escapeCell, renderMarkdown } from "../src/report/markdown.js";
import type { ModelSummary, RunSummary } from "../src/report/summary.js";

function model(name: string, over: Partial<ModelSummary> = {}): ModelSummary {
  return {
    model: name,
    n: 200,
    errors: 0,
    errorKinds: {},
    finishReasons: { stop: 190, length: 8, tool_calls: 2 },
    scores: {
      numeric: { n: 200, mean: 0.8, passRate: 0.8, errors: 0 },
      f1: { n: 198, mean: 0.71234, passRate: 0.6, errors: 2 },
    },
    latencyMs: { p50: 812.4, p95: 2310.6, p99: 4000, mean: 900 },
    tokens: { prompt: 1_234_567, completion: 45_678, total: 1_280_245 },
    attempts: { total: 205, retried: 5 },
    datasets: {
      math: { n: 100, errors: 0, scores: { numeric: { n: 100, mean: 0.9, passRate: 0.9, errors: 0 } } },
      qa: { n: 100, errors: 0, scores: { f1: { n: 98, mean: 0.71234, passRate: 0.6, errors: 2 } } },
    },
    ...over,
  };
}

/** The table rows whose first cell is `label`, split into cells (honouring `\|` escapes). */
function rowCells(md: string, label: string): string[] {
  const line = md.split("\n").find((l) => l.startsWith(`| ${label} |`));
  if (line === undefined) throw new Error(`no row ${label}`);
  return line
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .slice(1);
}

const base = {
  runId: "2025-01-01T00-00-00Z-abc",
  startedAt: "2025-01-01T00:00:00.000Z",
  endedAt: "2025-01-01T00:12:03.000Z",
  datasets: [
    { name: "math", rows: 100, sha256: "0123456789abcdef0123" },
    { name: "qa", rows: 100 },
  ],
};

describe("renderMarkdown", () => {
  const summary: RunSummary = {
    models: [
      model("gpt-4o"),
      model("phi-4", {
        errors: 4,
        errorKinds: { rate_limit: 3, timeout: 1 },
        finishReasons: { stop: 196, error: 4 },
        scores: { numeric: { n: 196, mean: 0.5, passRate: 0.5, errors: 0 } },
        cost: { input: 0.0123, output: 0.002, total: 0.0143, currency: "USD" },
        datasets: { math: { n: 196, errors: 4, scores: { numeric: { n: 196, mean: 0.5, passRate: 0.5, errors: 0 } } } },
      }),
    ],
  };
  const md = renderMarkdown({ ...base, summary, notes: ["resumed once"] });

  it("puts the run header, time and datasets first", () => {
    expect(md.startsWith("# bakeoff run 2025-01-01T00-00-00Z-abc\n")).toBe(true);
    expect(md).toContain("(12m 3s)");
    expect(md).toContain("  - math (100 rows, sha256 0123456789ab)");
    expect(md).toContain("  - qa (100 rows)");
    expect(md).toContain("## Notes\n\n- resumed once");
  });

  it("shows models side by side, one metric per row", () => {
    expect(md).toContain("|  | gpt-4o | phi-4 |\n|---|---:|---:|");
    expect(rowCells(md, "Results")).toEqual(["200", "200"]);
    expect(rowCells(md, "Errors")).toEqual(["0 (0.0%)", "4 (2.0%)"]);
    expect(rowCells(md, "Error kinds")).toEqual(["–", "rate_limit 3, timeout 1"]);
    expect(rowCells(md, "Finished: stop")).toEqual(["190 (95.0%)", "196 (98.0%)"]);
    expect(rowCells(md, "Finished: length")).toEqual(["8 (4.0%)", "0 (0.0%)"]);
    expect(rowCells(md, "Finished: other")).toEqual(["2 (1.0%)", "0 (0.0%)"]);
    expect(rowCells(md, "Latency p50")).toEqual(["812 ms", "812 ms"]);
    expect(rowCells(md, "Latency p95")).toEqual(["2,311 ms", "2,311 ms"]);
    expect(rowCells(md, "Tokens in")).toEqual(["1,234,567", "1,234,567"]);
    expect(rowCells(md, "Cost")).toEqual(["–", "0.0143 USD"]);
    expect(rowCells(md, "Retried calls")).toEqual(["5 (2.5%)", "5 (2.5%)"]);
  });

  it("formats scores by kind and bolds the best", () => {
    expect(rowCells(md, "**numeric**")).toEqual(["**80.0%**", "50.0%"]);
    // Continuous with a threshold: mean and pass rate; the model without it shows a dash, and
    // with only one value there is nothing to call best.
    expect(rowCells(md, "**f1**")).toEqual(["0.712 · 60.0% pass (2 unscored)", "–"]);
  });

  it("adds per-dataset tables when there are several datasets", () => {
    const section = md.slice(md.indexOf("## By dataset"));
    expect(section).toContain("### math (100 rows)");
    expect(section).toContain("### qa (100 rows)");
    expect(rowCells(section.slice(section.indexOf("### math")), "**numeric**")).toEqual(["**90.0%**", "50.0%"]);
    expect(rowCells(section.slice(section.indexOf("### qa")), "Results")).toEqual(["100", "–"]);
  });

  it("omits per-dataset tables for a single dataset and marks partial runs", () => {
    const one = renderMarkdown({
      ...base,
      datasets: [{ name: "math", rows: 100 }],
      summary: { models: [model("a", { datasets: { math: model("a").datasets!.math! } })] },
      status: "interrupted",
    });
    expect(one).not.toContain("## By dataset");
    expect(one).toContain("> **Interrupted:**");
  });

  it("escapes pipes and newlines in model and scorer names", () => {
    const weird = model("evil|model\nname", { scores: { "a|b": { n: 1, mean: 1, errors: 0 } } });
    const out = renderMarkdown({ ...base, summary: { models: [weird] } });
    expect(out).toContain("|  | evil\\|model name |");
    expect(out).toContain("| **a\\|b** | 1.000 |");
    // Every table line still has exactly the expected number of unescaped separators.
    for (const line of out.split("\n").filter((l) => l.startsWith("|") && l.includes("evil"))) {
      expect(line.split(/(?<!\\)\|/).length).toBe(4);
    }
    expect(escapeCell("a\\|b")).toBe("a\\\\\\|b");
  });

  it("renders an empty run", () => {
    expect(renderMarkdown({ ...base, datasets: [], summary: { models: [] } })).toContain("No results yet.");
  });
});
