/**
 * Number formatting for the HTML report. Returns plain text: callers escape it like any other
 * string, so these helpers never have to think about markup.
 */
import { formatInteger } from "../integer.js";

/** Shown where a number is unknown or does not apply. */
export const DASH = "–";

/** 1,234 */
export function int(value: number): string {
  return formatInteger(value);
}

/** "12.5%" of a [0, 1] share. */
export function pct(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)}%`;
}

/** "3 (4.3%)", or a dash when there is nothing to divide by. */
export function countWithPct(count: number, whole: number): string {
  return whole === 0 ? DASH : `${int(count)} (${pct(count / whole)})`;
}

/** "118 ms", "1.2 s" */
export function ms(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${int(Math.round(value))} ms`;
}

/**
 * Money with enough digits to tell small amounts apart: per-run costs are often fractions of a
 * cent and costs per pass far smaller, so amounts under a cent keep two significant digits.
 */
export function money(value: number | null, currency: string): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  if (value > 0 && value < 0.01) {
    return `${value.toLocaleString("en-US", { minimumSignificantDigits: 2, maximumSignificantDigits: 2 })} ${currency}`;
  }
  const digits = value >= 1 ? 2 : 4;
  return `${value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${currency}`;
}

/** A score in its own units: a percentage for binary scorers, three decimals otherwise. */
export function score(value: number | null, kind: "binary" | "continuous" | "scale"): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  const text = kind === "binary" ? pct(value) : value.toFixed(3);
  // A bootstrap bound of -1e-17 is zero: print it as one rather than "-0.000".
  return /^-0(\.0+)?%?$/.test(text) ? text.slice(1) : text;
}

/** Run time between two ISO timestamps ("1m 4s"), or undefined when unknown. */
export function duration(startedAt: string, endedAt: string | undefined): string | undefined {
  if (endedAt === undefined) return undefined;
  const seconds = Math.round((Date.parse(endedAt) - Date.parse(startedAt)) / 1000);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}
