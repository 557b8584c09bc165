/**
 * The one sanitiser for text that a model server or a dataset can influence (error bodies,
 * response `model` fields, row ids, prompts in reports) before it reaches a terminal, a Markdown
 * report or a JUnit file. A hostile server must not be able to clear the screen (`ESC[2J`), set
 * the window title (OSC 0), plant hyperlinks (OSC 8), or reorder what the reader sees with bidi
 * overrides (U+202E "Trojan Source").
 *
 * Removed: every escape sequence (CSI, OSC, DCS, SOS, PM, APC, and two-byte ESC sequences, in
 * their 7-bit and 8-bit C1 forms, with their payload), every other C0/C1 control character except
 * newline and tab (a CR alone can overwrite a line), DEL, and the bidi embedding, override and
 * isolate controls. Printable text, including non-Latin scripts and emoji, is untouched.
 */

/* eslint-disable no-control-regex -- control characters are exactly what these patterns find */
// String-type sequences (OSC, DCS, SOS, PM, APC) run to BEL or ST (ESC \ or U+009C); an
// unterminated one runs to the end of the text, so nothing after it can be interpreted.
const STRING_SEQ = /(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)/g;
// CSI: ESC [ or U+009B, parameter bytes, intermediate bytes, one final byte.
const CSI_SEQ = /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?/g;
// Other escape sequences: ESC, intermediates, one final byte (ESC c resets the terminal).
const ESC_SEQ = /\u001b[\u0020-\u002f]*[\u0030-\u007e]?/g;
// Remaining controls: C0 but tab (09) and newline (0a), DEL, C1.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/* eslint-enable no-control-regex */
/** Bidi embedding/override/isolate controls and marks. */
export const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` without escape sequences, control characters (newline and tab are kept; CRLF becomes
 * newline) or bidi controls. Idempotent.
 */
export function sanitizeTerminalText(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .replace(STRING_SEQ, "")
    .replace(CSI_SEQ, "")
    .replace(ESC_SEQ, "")
    .replace(CONTROLS, "")
    .replace(BIDI_CONTROLS, "");
}

/** Like {@link sanitizeTerminalText}, and newlines and tabs become spaces: for one-line messages. */
export function sanitizeLine(text: string): string {
  return sanitizeTerminalText(text).replace(/[\n\t]+/g, " ");
}

/**
 * For HTML: bidi controls become a visible, inert marker (`[U+202E]`) so a reader sees that the
 * text tried to reorder itself; other controls are dropped as for the terminal.
 */
export function neutraliseForHtml(text: string): string {
  const marked = text.replace(
    BIDI_CONTROLS,
    (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`,
  );
  return sanitizeTerminalText(marked);
}
