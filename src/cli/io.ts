/** Where the CLI writes: results to `out` (stdout), messages and errors to `err` (stderr). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const defaultIo: Io = {
  out: (l) => void process.stdout.write(l + "\n"),
  err: (l) => void process.stderr.write(l + "\n"),
};
