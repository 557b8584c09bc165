import { sanitizeTerminalText } from "../util/terminal-text.js";

/** Where the CLI writes: results to `out` (stdout), messages and errors to `err` (stderr). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The terminal: every line is passed through the one terminal-text sanitiser, because messages
 * quote servers and datasets (error bodies, response `model` fields, row ids).
 */
export const defaultIo: Io = {
  out: (l) => void process.stdout.write(sanitizeTerminalText(l) + "\n"),
  err: (l) => void process.stderr.write(sanitizeTerminalText(l) + "\n"),
};
