/**
 * What differs between two runs besides the model under test. A comparison is only evidence
 * about the model when the dataset, scorers, prompt template and generation parameters are the
 * same; each difference found in run.json becomes one plain warning.
 */
import type { DatasetSpec } from "../config/schema.js";
import type { RunManifest } from "../store/manifest.js";
import { canonicalJson, sha256 } from "../util/hash.js";

/** One difference between the runs. `kind` lets tests and CI tooling filter. */
export interface CompareWarning {
  kind: "dataset" | "scorers" | "template" | "params" | "model" | "identity" | "rows" | "status" | "trials";
  message: string;
}

/** Short content hash for messages: equal inputs give equal text. */
export function shortHash(value: unknown): string {
  return sha256(canonicalJson(value ?? null)).slice(0, 12);
}

/** Differences in what the two runs were asked to do (from their run.json files). */
export function manifestWarnings(base: RunManifest, cand: RunManifest): CompareWarning[] {
  const out: CompareWarning[] = [];
  for (const [m, label] of [
    [base, "baseline"],
    [cand, "candidate"],
  ] as const) {
    if (m.status !== "complete")
      out.push({
        kind: "status",
        message: `${label} run ${m.runId} is ${m.status}: only the rows it recorded are compared`,
      });
  }
  if (base.trials !== cand.trials)
    out.push({
      kind: "trials",
      message: `trials differ: ${base.trials} in the baseline, ${cand.trials} in the candidate`,
    });

  const candSets = new Map(cand.datasets.map((d, i) => [d.name, { d, spec: cand.config.datasets[i] }]));
  for (const [i, bd] of base.datasets.entries()) {
    const c = candSets.get(bd.name);
    if (!c) {
      out.push({ kind: "dataset", message: `dataset "${bd.name}" is only in the baseline` });
      continue;
    }
    if (bd.sha256 !== c.d.sha256) {
      out.push({
        kind: "dataset",
        message: `dataset "${bd.name}" changed: sha256 ${bd.sha256.slice(0, 12)} → ${c.d.sha256.slice(0, 12)} (${bd.rows} → ${c.d.rows} rows); rows are matched by id`,
      });
    }
    const bs = base.config.datasets[i];
    if (bs && c.spec) {
      const bScorers = scorerSet(base, bs);
      const cScorers = scorerSet(cand, c.spec);
      if (shortHash(bScorers) !== shortHash(cScorers)) {
        out.push({
          kind: "scorers",
          message: `scorers for "${bd.name}" differ: ${shortHash(bScorers)} → ${shortHash(cScorers)} (${describeScorers(bScorers)} → ${describeScorers(cScorers)})`,
        });
      }
      const bt = promptShape(bs);
      const ct = promptShape(c.spec);
      if (shortHash(bt) !== shortHash(ct)) {
        out.push({
          kind: "template",
          message: `prompt template, system message or columns for "${bd.name}" differ: ${shortHash(bt)} → ${shortHash(ct)}`,
        });
      }
    }
  }
  for (const cd of cand.datasets) {
    if (!base.datasets.some((d) => d.name === cd.name))
      out.push({ kind: "dataset", message: `dataset "${cd.name}" is only in the candidate` });
  }

  const candModels = new Map(cand.models.map((m) => [m.name, m]));
  for (const bm of base.models) {
    const cm = candModels.get(bm.name);
    if (!cm) continue;
    if (shortHash(bm.params) !== shortHash(cm.params)) {
      out.push({
        kind: "params",
        message: `generation params of "${bm.name}" differ: ${canonicalJson(bm.params)} → ${canonicalJson(cm.params)}`,
      });
    }
    const where = (m: typeof bm) => `${m.provider} ${m.endpoint}${m.deployment ? ` (${m.deployment})` : ""}`;
    if (where(bm) !== where(cm))
      out.push({ kind: "model", message: `"${bm.name}" points elsewhere: ${where(bm)} → ${where(cm)}` });
  }
  return out;
}

/** The scorers that apply to a dataset: the global ones plus its own, as configured. */
function scorerSet(m: RunManifest, d: DatasetSpec): unknown[] {
  return [...(m.config.scorers ?? []), ...(d.scorers ?? [])];
}

function describeScorers(specs: unknown[]): string {
  return (
    specs.map((s) => (s as { name?: string; type?: string }).name ?? (s as { type?: string }).type ?? "?").join(", ") ||
    "none"
  );
}

/** Everything that shapes the messages a row becomes. */
function promptShape(d: DatasetSpec): unknown {
  return { template: d.template ?? null, system: d.system ?? null, columns: d.columns ?? null };
}
