/**
 * The one escaping function of the HTML report. Everything interpolated into report.html that
 * did not come from this module's own literals goes through {@link escapeHtml}: model output,
 * prompts, expected answers, model, scorer and dataset names, error messages, numbers.
 */

import { BIDI_CONTROLS } from "../../util/terminal-text.js";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/**
 * Any character {@link escapeHtml} replaces (tab and newline match too: they just take the slow
 * path). Not global, so test() keeps no state between calls.
 */
const ESCAPED = new RegExp(`[&<>"'\u0000-\u001f\u007f]|${BIDI_CONTROLS.source}`);

/**
 * Escapes text for an HTML text node or a quoted attribute value. Quotes are escaped too, so the
 * same function is safe in both places and no caller has to know which one it is in.
 * Control characters other than tab and newline are shown as U+FFFD: they are invisible at
 * best and, as NUL, make Chromium drop the rest of a text node at worst.
 */
export function escapeHtml(value: string | number): string {
  const text = String(value);
  // Most values (numbers, names, plain answers) need none of the three passes below: one scan
  // for any character they replace settles them (the report tail renders ~10^4 values).
  if (!ESCAPED.test(text)) return text;
  return (
    text
      .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
      // eslint-disable-next-line no-control-regex -- control characters are what this replaces
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd")
      .replace(BIDI_CONTROLS, bidiMarker)
  );
}

/**
 * Bidi overrides and isolates ("Trojan Source") would let a row reorder how the page reads;
 * they are shown as an inert, visible marker instead.
 */
function bidiMarker(c: string): string {
  return `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`;
}

/** Tagged template that escapes every interpolated value; literal parts are trusted markup. */
export function html(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += escapeHtml(values[i]!) + strings[i + 1]!;
  return out;
}
