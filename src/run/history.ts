/**
 * History over past runs: trend tables and their text rendering, computed from run index
 * entries (stored and read by src/store/run-index.ts). Pure functions over entries: this module
 * reads no files, so reports can use it without depending on how runs are stored.
 */
import { entryGroup, type RunIndexEntry } from "../store/run-index.js";

/** One line of a trend: a model × scorer's mean over a sequence of runs. */
export interface TrendLine {
  model: string;
  scorer: string;
  /** Aligned with {@link HistoryTable.runs}; null where the run lacks this model or scorer. */
  values: (number | null)[];
}

/** Trend table over the last runs of one dataset. */
export interface HistoryTable {
  datasetHash: string | null;
  /** The comparability group shown; null when every run is (`--all-datasets`). */
  group: string | null;
  /** How the group is labelled: dataset names, trials and limits ("arithmetic, capitals"). */
  label: string;
  runs: RunIndexEntry[];
  lines: TrendLine[];
}

/**
 * The trend over the last `last` runs of one comparability group: the same datasets (names and
 * hashes), trials per row and row limits (the newest run's group, unless `group` is given;
 * `datasetHash: null` takes every run). A `--limit 5` smoke test or a `--trials 5` run answers a
 * different question, so it never lands in another run's trend.
 */
export function historyTable(
  entries: readonly RunIndexEntry[],
  options: { last?: number; datasetHash?: string | null; group?: string } = {},
): HistoryTable {
  const newest = entries[entries.length - 1];
  const all = options.datasetHash === null;
  const group = all
    ? null
    : (options.group ?? (options.datasetHash !== undefined ? undefined : newest ? entryGroup(newest) : undefined));
  let pool: readonly RunIndexEntry[] = entries;
  if (group !== null && group !== undefined) pool = entries.filter((e) => entryGroup(e) === group);
  else if (!all && options.datasetHash !== undefined)
    pool = entries.filter((e) => e.datasetHash === options.datasetHash);
  const hash = all ? null : (pool[pool.length - 1]?.datasetHash ?? options.datasetHash ?? null);
  const runs = pool.slice(-(options.last ?? 10));
  const keys: { model: string; scorer: string }[] = [];
  const seen = new Set<string>();
  for (const r of runs) {
    for (const m of r.models) {
      for (const scorer of Object.keys(m.scores)) {
        const k = `${m.name}\u0000${scorer}`;
        if (!seen.has(k)) {
          seen.add(k);
          keys.push({ model: m.name, scorer });
        }
      }
    }
  }
  const lines = keys.map(({ model, scorer }) => ({
    model,
    scorer,
    values: runs.map((r) => r.models.find((m) => m.name === model)?.scores[scorer] ?? null),
  }));
  const last = runs[runs.length - 1];
  const label =
    all || last === undefined
      ? "all datasets"
      : `${last.datasets.map((d) => d.name).join(", ")}${(last.trials ?? 1) > 1 ? ` × ${last.trials} trials` : ""}${last.limits ? ` (limit ${last.limits})` : ""}`;
  return { datasetHash: hash, group: all ? null : (group ?? (last ? entryGroup(last) : null)), label, runs, lines };
}

const SPARKS = "▁▂▃▄▅▆▇█";

/** A one-line sparkline of values (gaps for missing runs), scaled to the line's own range. */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return "";
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return values
    .map((v) => (v === null ? " " : SPARKS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1))]!))
    .join("");
}

/** Plain-text rendering of a history table for the terminal. */
export function renderHistoryText(table: HistoryTable): string[] {
  if (table.runs.length === 0) return ["No runs indexed yet."];
  const out: string[] = [];
  out.push(
    table.datasetHash === null
      ? `Last ${table.runs.length} run(s) (all datasets):`
      : `Last ${table.runs.length} run(s) of ${table.label} (datasets ${table.datasetHash.slice(0, 12)}):`,
  );
  table.runs.forEach((r, i) => {
    const cost = r.cost === null ? "" : `  cost ${r.cost.toFixed(4)}`;
    out.push(`  #${i + 1} ${r.runId}  ${r.startedAt}  ${r.status}  config ${r.configHash.slice(0, 8)}${cost}`);
  });
  out.push("");
  const head = ["model", "scorer", ...table.runs.map((_, i) => `#${i + 1}`), "trend", "change"];
  const body = table.lines.map((l) => {
    const first = l.values.find((v) => v !== null);
    const last = [...l.values].reverse().find((v) => v !== null);
    const change =
      first !== undefined && first !== null && last !== undefined && last !== null ? signed(last - first) : "";
    return [l.model, l.scorer, ...l.values.map((v) => (v === null ? "-" : v.toFixed(3))), sparkline(l.values), change];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  out.push(fmt(head), ...body.map(fmt));
  return out;
}

function signed(x: number): string {
  const t = x.toFixed(3);
  return x >= 0 ? `+${t}` : t;
}
