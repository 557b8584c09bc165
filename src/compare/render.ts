/**
 * compare.md: what changed from the baseline to the candidate, with the gate verdict first so a
 * CI log reader sees the answer before the evidence.
 */
import { escapeCell, escapeUntrusted } from "../report/markdown.js";
import { formatAmount, formatP } from "../stats/paired.js";
import type { CompareResult, FlippedRow, ScorerChange } from "./compare.js";
import type { GateReport } from "./gates.js";
import { sanitizeTerminalText } from "../util/terminal-text.js";

/** Rendered flipped rows per direction and model × scorer in compare.md (compare.json has all listed). */
const MD_FLIPS = 25;
/** Longest output quoted in a markdown table cell. */
const MD_CELL = 160;

/** Signed change with unit: "-5.0 points" or "+0.12". */
export function formatChange(c: Pick<ScorerChange, "diff" | "scale">): string {
  if (c.diff === null) return "n/a";
  const t = formatAmount(Math.abs(c.diff), c.scale);
  return `${c.diff < 0 && Number(t) !== 0 ? "-" : "+"}${t}${c.scale === "points" ? " pts" : ""}`;
}

/** The interval of a change in the same units. */
export function formatInterval(c: Pick<ScorerChange, "interval" | "scale">): string {
  return c.interval === null
    ? "n/a"
    : `${formatAmount(c.interval[0], c.scale)} to ${formatAmount(c.interval[1], c.scale)}`;
}

/** Renders compare.md. */
export function renderCompareMarkdown(r: CompareResult, gates?: GateReport): string {
  const out: string[] = [`# bakeoff compare: ${esc(r.baseline.runId)} → ${esc(r.candidate.runId)}`, ""];
  out.push(
    `- **Baseline:** ${esc(r.baseline.runId)} (${esc(r.baseline.status)}, started ${esc(r.baseline.startedAt)}, config ${r.baseline.configHash.slice(0, 12)})`,
  );
  out.push(
    `- **Candidate:** ${esc(r.candidate.runId)} (${esc(r.candidate.status)}, started ${esc(r.candidate.startedAt)}, config ${r.candidate.configHash.slice(0, 12)})`,
  );
  out.push(`- **Models compared:** ${r.models.map(esc).join(", ") || "none"}`, "");

  if (gates && gates.outcomes.length > 0) {
    out.push("## Gates", "", `**${gates.passed ? "PASS" : "FAIL"}**`, "");
    for (const o of gates.outcomes) {
      out.push(`- \`${o.rule}\`: **${o.status}**`);
      for (const d of o.details.slice(0, 20)) out.push(`  - ${esc(d)}`);
      if (o.details.length > 20) out.push(`  - … and ${o.details.length - 20} more`);
    }
    out.push("");
    const power = gates.outcomes.flatMap((o) => (o.power ?? []).map((p) => ({ rule: o.rule, ...p })));
    if (power.length > 0) {
      out.push(
        "### Gate power",
        "",
        "The smallest drop each regression check detects with 80% power at its sample size (exact McNemar, Connor's approximation):",
        "",
      );
      for (const p of power) {
        const unit = p.scale === "points" ? " points" : "";
        const drop =
          p.detectableDrop === null ? "not computable" : `≈ ${formatAmount(p.detectableDrop, p.scale)}${unit}`;
        out.push(
          `- \`${p.rule}\` ${esc(p.model)} ${esc(p.scorer)}: n = ${p.n}, detectable drop ${drop}${p.warning ? ` — **warning:** ${esc(p.warning)}` : ""}`,
        );
      }
      out.push("");
    }
  }
  // compare.json written before comparability existed has neither field.
  if (r.comparable === false) {
    out.push(
      "## Baseline not comparable",
      "",
      ...(r.notComparableReasons ?? []).map((x) => `- ${esc(x)}`),
      "",
      "Regression and critical gates decide nothing on these runs (exit 2).",
      "",
    );
  }

  if (r.warnings.length > 0) {
    out.push("## Warnings", "", ...r.warnings.map((w) => `- **${w.kind}:** ${esc(w.message)}`), "");
  }

  out.push("## Changes", "");
  if (r.changes.length === 0) out.push("No scorer was scored in both runs.", "");
  else {
    if (r.changes.some((c) => c.candidateErrors > 0)) {
      out.push("Candidate calls that failed count as failed rows (the `n` includes them).", "");
    }
    out.push("| model | scorer | n | baseline | candidate | change | 95% interval | test | pass→fail | fail→pass |");
    out.push("| --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |");
    for (const c of r.changes) {
      const mark = c.significant ? (c.diff! < 0 ? " ▼" : " ▲") : "";
      out.push(
        `| ${esc(c.model)} | ${esc(c.scorer)} | ${c.n} | ${mean(c.baselineMean)} | ${mean(c.candidateMean)} | ${formatChange(c)}${mark} | ${formatInterval(c)} | ${c.test} ${formatP(c.pValue)} | ${c.passToFail}${c.criticalPassToFail > 0 ? ` (${c.criticalPassToFail} critical)` : ""} | ${c.failToPass} |`,
      );
    }
    out.push("", ...r.changes.map((c) => `- ${esc(c.model)} ${esc(c.scorer)}: ${esc(c.sentence)}`), "");
  }

  out.push("## Model identity", "");
  for (const id of r.identity) {
    const show = (s: typeof id.baseline) =>
      `${s.info?.modelName ?? "no /info"}; responses: ${s.responseModel ?? "n/a"}${s.systemFingerprint ? `; fingerprint ${s.systemFingerprint}` : ""}`;
    out.push(
      `- ${esc(id.model)}: ${esc(show(id.baseline))} → ${esc(show(id.candidate))}${id.changed.length > 0 ? ` **(changed: ${id.changed.join(", ")})**` : " (unchanged)"}`,
    );
  }
  out.push("");

  for (const direction of ["pass→fail", "fail→pass"] as const) {
    const rows = r.flips.filter((f) => f.direction === direction);
    out.push(`## ${direction === "pass→fail" ? "Newly failing" : "Newly passing"} rows`, "");
    if (rows.length === 0) {
      out.push("None.", "");
      continue;
    }
    out.push(...flipTable(rows), "");
  }
  return sanitizeTerminalText(out.join("\n")); // model output may carry terminal escapes
}

function flipTable(rows: FlippedRow[]): string[] {
  const out = [
    "| model | scorer | row | prompt | expected | baseline output | candidate output |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const shown = new Map<string, number>();
  let hidden = 0;
  for (const f of rows) {
    const k = `${f.model}\u0000${f.scorer}`;
    const n = shown.get(k) ?? 0;
    if (n >= MD_FLIPS && !f.critical) {
      hidden++;
      continue;
    }
    shown.set(k, n + 1);
    out.push(
      `| ${esc(f.model)} | ${esc(f.scorer)} | ${escapeUntrusted(`${f.dataset}/${f.rowId}`)}${f.critical ? " **critical**" : ""} | ${cell(f.candidate?.prompt ?? f.baseline?.prompt)} | ${cell(f.candidate?.expected ?? f.baseline?.expected)} | ${output(f.baseline)} | ${output(f.candidate)} |`,
    );
  }
  if (hidden > 0) out.push("", `… ${hidden} more listed in compare.json.`);
  return out;
}

function output(o: FlippedRow["baseline"]): string {
  if (!o) return "—";
  if (o.error) return `error: ${cell(o.error)}`;
  return `${cell(o.text)}${o.finishReason && o.finishReason !== "stop" ? ` (${escapeUntrusted(o.finishReason)})` : ""}`;
}

function mean(v: number | null): string {
  return v === null ? "—" : v.toFixed(3);
}

function cell(s: string | null | undefined): string {
  if (s === null || s === undefined) return "—";
  const flat = s.replace(/\s+/g, " ").trim();
  return escapeUntrusted(flat.length > MD_CELL ? `${flat.slice(0, MD_CELL)}…` : flat);
}

/**
 * Our own sentences and configured names (model, scorer, run ids): one table-safe line with no raw
 * HTML. Model output, prompts and row ids go through {@link escapeUntrusted} instead, which also
 * defuses links, images and emphasis (compare.md ends up in GitHub job summaries).
 */
function esc(s: string): string {
  return escapeCell(s).replace(/[<>]/g, (c) => (c === "<" ? "&lt;" : "&gt;"));
}
