/**
 * The report's stylesheet, inlined in a <style> element (allowed by the page's CSP through
 * style-src 'unsafe-inline'; styles cannot run script). Light theme, system fonts, one column
 * with a max width so long lines stay readable; wide tables scroll inside their own box.
 */
export const STYLES = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5; --accent: #0969da; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; font-weight: 600; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); font-weight: 600; }
h3 { font-size: 15px; margin: 18px 0 8px; }
code, .mono, .rowid { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.status { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; vertical-align: middle; margin-left: 8px; }
.status-complete { background: var(--pass-bg); color: var(--pass); }
.status-other { background: var(--warn-bg); color: var(--warn); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.recommendation { margin: 20px 0 0; padding: 14px 18px; border-left: 4px solid var(--accent); background: #ddf4ff; font-size: 16px; border-radius: 4px; }
.notice { margin: 12px 0 0; padding: 10px 14px; border-left: 4px solid var(--warn); background: var(--warn-bg); border-radius: 4px; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
thead th { background: var(--bg-soft); font-weight: 600; position: sticky; top: 0; z-index: 1; }
table.summary td, table.summary th { padding: 4px 12px; }
table.summary td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary th[scope=row] { font-weight: normal; color: var(--muted); white-space: nowrap; }
table.summary th[scope=row].scorer { color: var(--fg); font-weight: 600; }
table.summary thead th { text-align: right; }
table.summary thead th:first-child { text-align: left; }
.best { font-weight: 700; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.models td, .models th { font-size: 13px; }
.overview { display: flex; flex-wrap: wrap; gap: 20px 28px; align-items: flex-start; }
.overview > figure { flex: 1 1 520px; }
.stack { display: flex; flex-direction: column; gap: 20px; }
.summary-wrap { flex: 0 1 auto; max-width: 100%; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 20px 28px; align-items: start; }
figure { margin: 0; padding: 12px 14px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figcaption { font-weight: 600; margin-bottom: 6px; }
figure p.note { margin: 6px 0 0; font-size: 12.5px; color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--fg); }
svg .tick, svg .legend { fill: var(--muted); font-size: 11px; }
svg .group-label { font-weight: 600; }
svg .axis-label { fill: var(--muted); font-size: 12px; }
svg .value { font-variant-numeric: tabular-nums; }
svg .grid { stroke: #e6e9ed; stroke-width: 1; }
svg .baseline { stroke: #8c959f; stroke-width: 1; }
svg .marker { stroke: var(--fg); stroke-width: 1.2; }
svg .seg-label { fill: #fff; font-size: 11px; font-weight: 600; }
svg .point-label { font-weight: 600; }
ul.verdicts { padding-left: 20px; margin: 6px 0; }
ul.verdicts li { margin: 4px 0; }
.filters { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; padding: 10px 12px; background: var(--bg-soft); border: 1px solid var(--line); border-radius: 8px; margin: 8px 0 10px; position: sticky; top: 0; z-index: 2; }
.filters input[type=search] { width: 220px; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
.filters select { padding: 3px 6px; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.filters output { margin-left: auto; font-weight: 600; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table.side-by-side { width: 100%; font-size: 13px; }
table.side-by-side .col-row { width: 110px; font-weight: normal; white-space: nowrap; }
table.side-by-side .col-prompt { width: 26%; min-width: 220px; }
table.side-by-side td { min-width: 240px; }
.out, .err { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 14em; overflow-y: auto; }
.err { color: var(--fail); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.expected { margin-top: 6px; color: var(--muted); overflow-wrap: anywhere; white-space: pre-wrap; }
.label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.meta { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 11.5px; background: var(--bg-soft); border: 1px solid var(--line); white-space: nowrap; }
.badge.pass { background: var(--pass-bg); color: var(--pass); border-color: #aceebb; }
.badge.fail { background: var(--fail-bg); color: var(--fail); border-color: #ffcecb; }
.badge.finish-length { background: var(--warn-bg); color: var(--warn); border-color: #f5e0a0; }
.lat { font-size: 11.5px; color: var(--muted); }
td.cell-fail { background: #fff6f5; }
.disagreement { margin: 10px 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.disagreement h3 { margin: 2px 0 6px; font-size: 14px; }
.disagreement table { width: 100%; font-size: 13px; table-layout: fixed; }
.disagreement th:nth-child(1) { width: 140px; }
.disagreement th:nth-child(2), .disagreement th:nth-child(3) { width: 90px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
.bakeoff-compare .pass { color: var(--pass); font-weight: 600; }
.bakeoff-compare .fail { color: var(--fail); font-weight: 600; }
.bakeoff-compare .skipped { color: var(--muted); }
.bakeoff-compare ul.warn { background: var(--warn-bg); border-left: 4px solid var(--warn); border-radius: 4px; padding: 8px 14px 8px 32px; }
.bakeoff-compare .table-wrap { margin: 8px 0 16px; }
.bakeoff-compare table { width: 100%; font-size: 13px; }
.bakeoff-compare td.num, .bakeoff-compare th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bakeoff-compare table.flips td { min-width: 90px; }
.bakeoff-compare pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 14em; overflow-y: auto; font-size: 12px; }
.bakeoff-compare table.trend th.num { font-weight: 600; line-height: 1.25; }
.bakeoff-compare table.trend th .muted { font-weight: normal; font-size: 11.5px; white-space: nowrap; }
.bakeoff-compare ol.trend-runs { font-size: 12px; columns: 2 28em; margin: 4px 0 0; }
`;
