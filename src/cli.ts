/**
 * The command line. This is the only module that prints errors and decides exit codes; every
 * other module throws typed errors (src/errors.ts) or returns results.
 *
 * Start-up stays small: this module imports only yargs and the command registry; the module of
 * the command being run (and with it zod, the Azure SDK, csv-parse, ...) is imported on demand.
 * `--version` does not even load yargs.
 */
import { inspect } from "node:util";
import type { Argv, Options } from "yargs";
import { BakeoffError, ExitCode, UsageError, exitCodeFor } from "./errors.js";
import { closest, typedNumbers, type CommandSpec } from "./cli/command.js";
import { COMMANDS, commandName, type CommandEntry } from "./cli/commands/index.js";
import { sanitizeTerminalText } from "./util/terminal-text.js";
import { defaultIo, type Io } from "./cli/io.js";
import { toolVersion } from "./util/env-info.js";

const NAMES = COMMANDS.map(commandName);

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  try {
    argv = stdinDatasetArgs(argv);
    // `bakeoff help [command]`, as in git and npm.
    if (firstWord(argv) === "help") argv = [...argv.filter((a) => a !== "help").slice(0, 1), "--help"];
    const named = firstWord(argv);
    if (named === undefined && (argv.includes("--version") || argv.includes("-v"))) {
      io.out(toolVersion());
      return ExitCode.ok;
    }
    let entry: CommandEntry | undefined;
    if (named !== undefined) {
      entry = COMMANDS.find((c) => commandName(c) === named);
      if (!entry) {
        const guess = closest(named, NAMES);
        throw new UsageError(
          `unknown command "${named}"${guess ? `; did you mean "${guess}"?` : "."} Commands: ${NAMES.join(", ")}.`,
        );
      }
    }
    const spec = entry ? (await entry.load()).default : undefined;
    return await parse(argv, io, entry, spec);
  } catch (err) {
    reportError(err, io);
    return exitCodeFor(err) === ExitCode.internal && isExpectedSystemError(err) ? ExitCode.usage : exitCodeFor(err);
  }
}

/** yargs reads a lone "-" as a positional; `--dataset -` (standard input) is passed as `--dataset=-`. */
function stdinDatasetArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === "--dataset" || argv[i] === "-d") && argv[i + 1] === "-") {
      out.push("--dataset=-");
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

/** The command word: the first argument that is not an option (no top-level option takes a value). */
function firstWord(argv: string[]): string | undefined {
  for (const a of argv) {
    if (a === "--") return undefined;
    if (!a.startsWith("-")) return a;
  }
  return undefined;
}

async function parse(
  argv: string[],
  io: Io,
  entry: CommandEntry | undefined,
  spec: CommandSpec | undefined,
): Promise<number> {
  const { default: yargs } = await import("yargs");
  let code: number = ExitCode.ok;
  const fail = (message: string): never => {
    throw new UsageError(message);
  };
  const parser: Argv = yargs(argv)
    .scriptName("bakeoff")
    .usage(
      '$0 <command> [options]\n\nRun prompt datasets against several models and report which to ship.\nRun "$0 <command> --help" for a command\'s options and examples.',
    )
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs wraps what a `coerce` throws (our typed-number checks) in its own YError.
      if (err && err.name === "YError") fail(explainUsage(err.message, argv, entry, spec));
      if (err) throw err;
      fail(explainUsage(msg, argv, entry, spec));
    })
    .help("help", "Show help")
    .alias("help", "h")
    .version(false)
    .option("version", { alias: "v", type: "boolean", global: false, describe: "Print bakeoff's version" })
    .example("$0 init", "Write a starter config with two emulated models and a sample dataset")
    .example("$0 run", "Run the config in this folder")
    .example(
      "$0 run --dataset qa.jsonl --prompt question --expected answer --scorer numeric",
      "Run your own file, no config needed",
    )
    .example("$0 open", "Open the newest run's HTML report")
    .epilogue("Exit codes: 0 ok, 1 a gate failed, 2 bad input (nothing sent), 3 run incomplete. Docs: README.md")
    .wrap(Math.min(110, process.stdout.columns || 110));
  for (const c of COMMANDS) {
    if (c === entry && spec) {
      parser.command(
        c.command,
        c.summary,
        (y) => {
          skipHelpRender(y);
          if (spec.description) y.usage(`$0 ${c.command} [options]\n\n${spec.description}`);
          for (const [name, p] of Object.entries(spec.positionals ?? {})) y.positional(name, p);
          y.options(typedNumbers(spec.options, argv, fail));
          for (const [cmd, what] of spec.examples) y.example(cmd, what);
          return y;
        },
        async (args) => {
          code = await spec.run(args, io);
        },
      );
    } else {
      // Listed for the top-level help; its module is loaded only when the command is named.
      parser.command(c.command, c.summary);
    }
  }
  parser.demandCommand(1, `name a command: ${NAMES.join(", ")}`);
  await parser.parseAsync();
  return code;
}

/**
 * yargs renders the command's whole help text each time a command handler starts (its command
 * module calls `cacheHelpMessage()` so a handler could print help later). bakeoff never prints
 * help from a handler (`.fail` throws instead), and for `run` that render is most of the parse
 * cost (~100 ms of CPU: cliui measures every word of 40 option descriptions with
 * Intl.Segmenter). `--help` itself renders afresh (`help()` only returns a cached text if one was
 * stored). Reaches into yargs internals, so it is guarded: without them the render just happens.
 */
function skipHelpRender(y: Argv): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } };
  const usage = (y as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => {};
}

/** One line for a yargs usage failure, with "did you mean" for misspelt options. */
function explainUsage(
  msg: string,
  argv: string[],
  entry: CommandEntry | undefined,
  spec: CommandSpec | undefined,
): string {
  const where = entry ? `bakeoff ${commandName(entry)} --help` : "bakeoff --help";
  const unknown = /^Unknown arguments?: (.+)$/s.exec(msg);
  if (unknown) {
    const known = optionNames(spec?.options ?? {});
    const words = unknown[1]!.split(", ").filter((w, _, all) => !(/[A-Z]/.test(w) && all.includes(kebab(w))));
    const parts = words.map((w) => {
      const asOption = argv.some((a) => a === `--${w}` || a.startsWith(`--${w}=`) || a === `-${w}`);
      if (!asOption) return `unexpected argument "${w}"`;
      const guess = closest(w, known);
      return `unknown option ${w.length === 1 ? "-" : "--"}${w}${guess ? ` (did you mean --${guess}?)` : ""}`;
    });
    return `${parts.join("; ")}. See "${where}".`;
  }
  const needsValue = /^Not enough arguments following: (.+)$/.exec(msg);
  if (needsValue) return `--${needsValue[1]} needs a value. See "${where}".`;
  if (/^Not enough non-option arguments/.test(msg) && entry)
    return `missing argument: bakeoff ${entry.command}. See "${where}".`;
  return `${msg.replace(/\s*\n\s*/g, " ").replace(/\.$/, "")}. See "${where}".`;
}

function optionNames(options: Record<string, Options>): string[] {
  const names = ["help"];
  for (const [name, o] of Object.entries(options)) {
    names.push(name);
    if (o.type === "boolean") names.push(`no-${name}`);
  }
  return names;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Operating-system failures the user can fix (a busy port, a file that cannot be read or
 * written): one line and exit 2, not "internal error". Commands turn the common ones into
 * better messages; this is the net under them.
 */
const EXPECTED_SYSTEM_CODES = new Set([
  "EADDRINUSE",
  "EADDRNOTAVAIL",
  "EACCES",
  "EPERM",
  "ENOENT",
  "EISDIR",
  "ENOTDIR",
  "EEXIST",
  "EROFS",
  "ENOSPC",
  "EMFILE",
]);

function isExpectedSystemError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === "string" &&
    EXPECTED_SYSTEM_CODES.has((err as NodeJS.ErrnoException).code!) &&
    typeof (err as NodeJS.ErrnoException).syscall === "string"
  );
}

function reportError(err: unknown, io: Io): void {
  if (err instanceof BakeoffError) {
    // Messages quote servers and datasets (error bodies, ids): no escape sequence reaches the terminal.
    io.err(`bakeoff: ${sanitizeTerminalText(err.message)}`);
    if (process.env.BAKEOFF_DEBUG && err.cause)
      io.err(err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : inspect(err.cause));
  } else if (isExpectedSystemError(err)) {
    const e = err;
    const target = e.path ?? (e as { address?: string; port?: number }).address;
    io.err(
      `bakeoff: ${e.syscall}${target ? ` ${target}` : ""}: ${e.code} (${e.message.replace(/^[A-Z]+: /, "").split(",")[0]})`,
    );
    if (process.env.BAKEOFF_DEBUG) io.err(String(e.stack));
  } else {
    io.err(
      `bakeoff: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
  }
}
