/**
 * Past runs in an output directory: listing them, and the run index `<outputDir>/index.jsonl`
 * (one line per indexed run: id, time, config and dataset hashes, per-model headline scores and
 * cost) that `bakeoff history` and trend reports read. The index is derived data: any run
 * missing from it is indexed again from its run directory by {@link syncRunIndex}.
 */
import { appendFile, readFile, readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { summarizeRun } from "../report/run-report.js";
import { canonicalJson, sha256 } from "../util/hash.js";
import { readManifest, type RunManifest, type RunStatus } from "./manifest.js";

/** File name of the run index inside the output directory. */
export const RUN_INDEX_FILE = "index.jsonl";

/** Run directories (those with a run.json), ordered by start time. */
export async function listRuns(outputDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch {
    return [];
  }
  const runs: { dir: string; startedAt: string }[] = [];
  for (const name of names) {
    const dir = join(outputDir, name);
    try {
      const m = await readManifest(dir);
      runs.push({ dir, startedAt: m.startedAt });
    } catch {
      // not a run directory
    }
  }
  runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return runs.map((r) => r.dir);
}

/** One model's headline numbers in an indexed run. */
export interface IndexedModel {
  name: string;
  n: number;
  errors: number;
  /** Mean score per scorer (null when nothing was scored). */
  scores: Record<string, number | null>;
  cost: number | null;
}

/** One line of index.jsonl. */
export interface RunIndexEntry {
  v: 1;
  runId: string;
  /** Directory name under the output directory. */
  dir: string;
  startedAt: string;
  endedAt?: string;
  status: RunStatus;
  configHash: string;
  /** sha256 over the datasets' names and content hashes: equal means the same prompts. */
  datasetHash: string;
  datasets: { name: string; sha256: string; rows: number }[];
  /** Trials per row (absent in entries written before it was indexed: 1). */
  trials?: number;
  /** Row limits (`--limit` / `datasets[].limit`) as `name:N` list; "" or absent when none. */
  limits?: string;
  /**
   * Comparability group: runs with the same datasets (names and hashes), trials and row limits.
   * Trends and `--baseline latest` only ever line up runs of one group.
   */
  group?: string;
  models: IndexedModel[];
  /** Total cost over models with pricing; null when none has pricing. */
  cost: number | null;
}

/** The combined dataset hash of a run (order-independent). */
export function datasetHash(manifest: RunManifest): string {
  const parts = manifest.datasets.map((d) => ({ name: d.name, sha256: d.sha256 })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sha256(canonicalJson(parts));
}

/** A run's row limits as text ("" when no dataset was limited). */
export function runLimits(manifest: RunManifest): string {
  return (manifest.config?.datasets ?? [])
    .flatMap((d, i) => (d.limit === undefined ? [] : [`${manifest.datasets[i]?.name ?? i}:${d.limit}`]))
    .sort()
    .join(",");
}

function groupOf(hash: string, trials: number, limits: string): string {
  return sha256(canonicalJson({ datasetHash: hash, trials, limits })).slice(0, 16);
}

/** The comparability group of a run (see {@link RunIndexEntry.group}). */
export function comparabilityGroup(manifest: RunManifest): string {
  return groupOf(datasetHash(manifest), manifest.trials ?? 1, runLimits(manifest));
}

/** An entry's group, also for entries indexed before groups existed. */
export function entryGroup(e: RunIndexEntry): string {
  return e.group ?? groupOf(e.datasetHash, e.trials ?? 1, e.limits ?? "");
}

/** Builds a run's index entry from its directory (run.json + predictions.jsonl). */
export async function indexEntryFor(runDir: string): Promise<RunIndexEntry> {
  const { manifest, summary } = await summarizeRun(runDir);
  const models: IndexedModel[] = summary.models.map((m) => ({
    name: m.model,
    n: m.n,
    errors: m.errors,
    scores: Object.fromEntries(Object.entries(m.scores).map(([k, s]) => [k, s.mean])),
    cost: m.cost ? m.cost.total : null,
  }));
  const priced = models.filter((m) => m.cost !== null);
  return {
    v: 1,
    runId: manifest.runId,
    dir: basename(runDir),
    startedAt: manifest.startedAt,
    ...(manifest.endedAt ? { endedAt: manifest.endedAt } : {}),
    status: manifest.status,
    configHash: manifest.configHash,
    datasetHash: datasetHash(manifest),
    datasets: manifest.datasets.map((d) => ({ name: d.name, sha256: d.sha256, rows: d.rows })),
    trials: manifest.trials ?? 1,
    limits: runLimits(manifest),
    group: comparabilityGroup(manifest),
    models,
    cost: priced.length > 0 ? priced.reduce((a, m) => a + m.cost!, 0) : null,
  };
}

/**
 * Appends a run's entry to `<outputDir>/index.jsonl`. The CLI calls this after every run; a
 * resumed run appends again and the later line wins.
 */
export async function appendRunIndex(outputDir: string, runDir: string): Promise<RunIndexEntry> {
  const entry = await indexEntryFor(runDir);
  await appendFile(join(outputDir, RUN_INDEX_FILE), JSON.stringify(entry) + "\n", "utf8");
  return entry;
}

/** Reads the index: the last line per run id wins; torn or foreign lines are skipped. Oldest first. */
export async function readRunIndex(outputDir: string): Promise<RunIndexEntry[]> {
  let text: string;
  try {
    text = await readFile(join(outputDir, RUN_INDEX_FILE), "utf8");
  } catch {
    return [];
  }
  const byId = new Map<string, RunIndexEntry>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as RunIndexEntry;
      if (e.v === 1 && typeof e.runId === "string" && Array.isArray(e.models)) byId.set(e.runId, e);
    } catch {
      // a torn last line from a crash mid-append: the run is re-indexed by syncRunIndex
    }
  }
  return [...byId.values()].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
}

/**
 * Indexes every run directory that is missing from the index or whose status changed since it
 * was indexed (a resumed run), so history is complete even for runs made before indexing
 * existed or by library callers. Returns the full index, oldest first.
 */
export async function syncRunIndex(outputDir: string): Promise<RunIndexEntry[]> {
  const known = new Map((await readRunIndex(outputDir)).map((e) => [e.dir, e]));
  let added = false;
  for (const dir of await listRuns(outputDir)) {
    const e = known.get(basename(dir));
    if (e) {
      const status = (await readManifest(dir)).status;
      if (status === e.status) continue;
    }
    await appendRunIndex(outputDir, dir);
    added = true;
  }
  return added ? readRunIndex(outputDir) : [...known.values()].sort((a, b) => (a.startedAt < b.startedAt ? -1 : 1));
}

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
  const group = all ? null : (options.group ?? (options.datasetHash !== undefined ? undefined : newest ? entryGroup(newest) : undefined));
  let pool: readonly RunIndexEntry[] = entries;
  if (group !== null && group !== undefined) pool = entries.filter((e) => entryGroup(e) === group);
  else if (!all && options.datasetHash !== undefined) pool = entries.filter((e) => e.datasetHash === options.datasetHash);
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
    const change = first !== undefined && first !== null && last !== undefined && last !== null ? signed(last - first) : "";
    return [l.model, l.scorer, ...l.values.map((v) => (v === null ? "-" : v.toFixed(3))), sparkline(l.values), change];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  out.push(fmt(head), ...body.map(fmt));
  return out;
}

function signed(x: number): string {
  const t = x.toFixed(3);
  return x >= 0 ? `+${t}` : t;
}
