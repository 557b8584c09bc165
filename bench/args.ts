/** Command-line options of the bench scripts (`--rows 5000`, `--write`): one parser for all of them. */
const argv = process.argv.slice(2);

/** The value after `name`, or `dflt` when the option is absent. */
export function option(name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}

/** The numeric value after `name`, or `dflt`. */
export function numberOption(name: string, dflt: number): number {
  return Number(option(name, String(dflt)));
}

/** Whether the bare flag `name` is given. */
export function flag(name: string): boolean {
  return argv.includes(name);
}
