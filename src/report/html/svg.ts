/**
 * Small SVG building blocks shared by the report's charts: the accessible frame, linear scales,
 * "nice" axis ticks and the model palette. Charts are hand-written inline SVG so report.html
 * stays one self-contained file with no chart library and nothing fetched.
 */
import { escapeHtml, html } from "./escape.js";

/**
 * Model colours, in run.json order. A colour-blind-safe set (Okabe–Ito, darkened where needed
 * for contrast on white); it repeats after eight models, and every mark also carries a label or
 * a <title>, so colour is never the only cue.
 */
const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#6a3d9a", "#555555"];

/** The colour of the model at `index` in the analysis' model order. */
export function modelColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** Options of {@link svgFrame}. */
export interface FrameOptions {
  /** Unique in the page: ids of the title and description are derived from it. */
  id: string;
  width: number;
  height: number;
  /** Short accessible name (the chart's <title>). */
  title: string;
  /** Longer text alternative: what the chart shows, in words. */
  description: string;
}

/**
 * Wraps chart content in an <svg> that scales to its container (viewBox, width 100%) and is
 * announced as one image with a name and description, so screen readers do not read every tick.
 */
export function svgFrame(o: FrameOptions, body: string): string {
  return (
    html`<svg id="${o.id}" class="chart" role="img" viewBox="0 0 ${o.width} ${o.height}" ` +
    html`aria-labelledby="${o.id}-title ${o.id}-desc" style="max-width:${o.width}px">` +
    html`<title id="${o.id}-title">${o.title}</title><desc id="${o.id}-desc">${o.description}</desc>` +
    body +
    "</svg>"
  );
}

/** A linear map from `domain` to `range`. */
export function linear(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A <text> element with escaped content. */
export function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${round(x)}" y="${round(y)}"${attrs ? ` ${attrs}` : ""}>${escapeHtml(content)}</text>`;
}

/** Coordinates with two decimals: enough for a crisp chart, and stable bytes across renders. */
export function round(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** A legend of coloured swatches, laid out left to right from (x, y). */
export function legend(items: { label: string; color: string }[], x: number, y: number): string {
  let cx = x;
  let out = "";
  for (const item of items) {
    out += `<rect x="${round(cx)}" y="${round(y - 9)}" width="10" height="10" rx="2" fill="${item.color}"/>`;
    out += text(cx + 14, y, item.label, 'class="legend"');
    cx += 14 + item.label.length * 6.6 + 16;
  }
  return out;
}

/**
 * A name cut to fit a chart's label column. Only for labels drawn in the chart: the full name is
 * always in the mark's <title> and in the tables.
 */
export function short(name: string, max = 14): string {
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}
