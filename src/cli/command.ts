/**
 * What a command module declares. Each command lives in `src/cli/commands/<name>.ts` and exports
 * one {@link CommandSpec}: its options (the only place they are declared), examples, and `run`.
 * The entry point imports a command's module only when that command is used, so `bakeoff --help`
 * and `--version` load neither zod nor the Azure SDK nor the CSV parser.
 *
 * A command module imports its implementation inside `run` (dynamic `import()`), so
 * `bakeoff <command> --help` stays as light as `bakeoff --help`.
 *
 * Adding an option to a command: add it to that module's `options`; its value arrives in `run`'s
 * `args` under the camelCase name, typed from the declaration.
 */
import type { ArgumentsCamelCase, InferredOptionTypes, Options, PositionalOptions } from "yargs";
import type { Io } from "./io.js";

/** Parsed arguments of a command with options `O` and positionals `P`. */
export type ArgsOf<O extends Record<string, Options>, P = object> = ArgumentsCamelCase<InferredOptionTypes<O>> & P;

export interface CommandSpec<O extends Record<string, Options> = Record<string, Options>, P = object> {
  /** Longer description shown by `bakeoff <command> --help` (the one-line summary is in the registry). */
  description?: string;
  /** Positional arguments named in the registry's command string, e.g. `report <run>`. */
  positionals?: Record<string, PositionalOptions>;
  /** Every option of the command, each with a description. `type: "number"` options are checked (see `typedNumbers`). */
  options: O;
  /** `[command line, what it does]`, shown under "Examples:" in the command's help. */
  examples: [string, string][];
  /** Does the work and resolves to the exit code; expected failures throw a BakeoffError. */
  run: (args: ArgsOf<O, P>, io: Io) => Promise<number>;
}

/** Declares a command with its option types inferred (use this instead of a type annotation). */
export function defineCommand<const O extends Record<string, Options>, P = object>(
  spec: CommandSpec<O, P>,
): CommandSpec<O, P> {
  return spec;
}

/**
 * Number options as the parser sees them: yargs turns `--limit abc` into NaN and the message
 * would say "got NaN". Here each number option gets a check that finds what was typed in `argv`
 * and names it. Semantic checks (whole number, at least 1) stay with the command.
 */
export function typedNumbers(
  options: Record<string, Options>,
  argv: readonly string[],
  fail: (message: string) => never,
): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const [name, opt] of Object.entries(options)) {
    if (opt.type !== "number" || opt.coerce) {
      out[name] = opt;
      continue;
    }
    const flags = [name, ...(typeof opt.alias === "string" ? [opt.alias] : (opt.alias ?? []))].map((n) =>
      n.length === 1 ? `-${n}` : `--${n}`,
    );
    out[name] = {
      ...opt,
      requiresArg: true,
      coerce: (value: unknown) => {
        const last: unknown = Array.isArray(value) ? (value as unknown[])[value.length - 1] : value;
        if (typeof last === "number" && Number.isFinite(last)) return last;
        fail(`--${name} expects a number, got "${typedValue(argv, flags) ?? String(last)}"`);
      },
    };
  }
  return out;
}

/** The text given for a flag (`--x v` or `--x=v`), last occurrence. */
function typedValue(argv: readonly string[], flags: string[]): string | undefined {
  let found: string | undefined;
  argv.forEach((a, i) => {
    for (const f of flags) {
      if (a === f && i + 1 < argv.length) found = argv[i + 1];
      else if (a.startsWith(`${f}=`)) found = a.slice(f.length + 1);
    }
  });
  return found;
}

/** Edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}
