/**
 * The optional trend: the primary scorer over the last runs of the same datasets, read from the
 * run index (`<outputDir>/index.jsonl`, see src/run/history.ts). Cheap by design: one small file
 * read, no journal of another run is opened, and any problem just leaves the chart out.
 */
import { dirname } from "node:path";
import { historyTable } from "../../run/history.js";
import { comparabilityGroup, readRunIndex } from "../../store/run-index.js";
import type { RunAnalysis } from "../analysis.js";
import { escapeHtml } from "./escape.js";
import { score } from "./format.js";
import { linear, modelColor, niceTicks, round, short, svgFrame, text } from "./svg.js";

/** Runs kept in the trend, this one included. */
export const TREND_RUNS = 10;

/** A scorer's mean per model over a sequence of runs, oldest first, the last being this run. */
export interface TrendData {
  scorer: string;
  kind: "binary" | "continuous" | "scale";
  runs: { runId: string; startedAt: string }[];
  /** Aligned with `runs`; null where a run lacks the model or the scorer. */
  lines: { model: string; values: (number | null)[] }[];
}

/**
 * Reads the trend of `runDir`'s run from the index in its parent directory: runs with the same
 * dataset hash that started before it (so re-rendering an old run gives the same chart), plus
 * this run from `analysis`. Null when there is no earlier run to compare with or no index.
 */
export async function loadTrend(runDir: string, analysis: RunAnalysis): Promise<TrendData | null> {
  const scorer = analysis.primaryScorer;
  if (scorer === null) return null;
  try {
    const me = analysis.manifest;
    const earlier = (await readRunIndex(dirname(runDir))).filter(
      (e) => e.runId !== me.runId && e.startedAt <= me.startedAt,
    );
    const past = historyTable(earlier, { group: comparabilityGroup(me), last: TREND_RUNS - 1 });
    if (past.runs.length === 0) return null;
    const models = analysis.models.map((m) => m.name);
    // This run's values as the index would record them (record-level means from the summary).
    const current = new Map(analysis.summary.models.map((m) => [m.model, m.scores[scorer]?.mean ?? null]));
    return {
      scorer,
      kind: analysis.scorers.find((s) => s.name === scorer)?.kind ?? "continuous",
      runs: [
        ...past.runs.map((r) => ({ runId: r.runId, startedAt: r.startedAt })),
        { runId: me.runId, startedAt: me.startedAt },
      ],
      lines: models.map((model) => ({
        model,
        values: [
          ...past.runs.map((r) => r.models.find((m) => m.name === model)?.scores[scorer] ?? null),
          current.get(model) ?? null,
        ],
      })),
    };
  } catch {
    return null; // no readable index: the trend is optional
  }
}

/** A line per model over the runs; points carry class "trend-point". */
export function trendChart(t: TrendData): string {
  const W = 760; // the trend has a row of its own, so it is wider than the grid's charts
  const H = 260;
  const m = { l: 60, r: 130, t: 14, b: 42 };
  const all = t.lines.flatMap((l) => l.values.filter((v): v is number => v !== null));
  if (all.length === 0) return "";
  const lo = Math.max(0, Math.floor(Math.min(...all) * 10) / 10 - 0.05);
  const hi = Math.min(Math.max(1, ...all), Math.ceil(Math.max(...all) * 10) / 10 + 0.05);
  const x = linear([0, Math.max(1, t.runs.length - 1)], [m.l, W - m.r]);
  const y = linear([lo, hi], [H - m.b, m.t]);
  let body = "";
  for (const v of niceTicks(lo, hi, 4)) {
    body += `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${round(y(v))}" y2="${round(y(v))}"/>`;
    body += text(m.l - 8, y(v) + 4, score(v, t.kind), 'class="tick" text-anchor="end"');
  }
  t.runs.forEach((r, i) => {
    // "11-27 03:36": runs of one day are told apart by their start time.
    const label = i === t.runs.length - 1 ? "this run" : r.startedAt.slice(5, 16).replace("T", " ");
    body += text(x(i), H - m.b + 16, label, 'class="tick" text-anchor="middle"');
  });
  t.lines.forEach((l, li) => {
    const color = modelColor(li);
    const pts = l.values.flatMap((v, i) => (v === null ? [] : [[x(i), y(v), v, i] as const]));
    if (pts.length > 1)
      body += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([px, py]) => `${round(px)},${round(py)}`).join(" ")}"/>`;
    for (const [px, py, v, i] of pts) {
      body += `<circle class="trend-point" cx="${round(px)}" cy="${round(py)}" r="4" fill="${color}"><title>${escapeHtml(`${l.model} · ${t.runs[i]!.runId}: ${score(v, t.kind)}`)}</title></circle>`;
    }
    const lastPt = pts.at(-1);
    if (lastPt !== undefined) body += text(lastPt[0] + 8, lastPt[1] + 4, short(l.model), 'class="point-label"');
  });
  return svgFrame(
    {
      id: "chart-trend",
      width: W,
      height: H,
      title: `${t.scorer} over the last ${t.runs.length} runs of these datasets`,
      description: t.lines.map((l) => `${l.model}: ${l.values.map((v) => score(v, t.kind)).join(", ")}`).join("; "),
    },
    body,
  );
}
