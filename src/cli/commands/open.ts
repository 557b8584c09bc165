/** `bakeoff open [run]`: prints or opens a run's HTML report. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ExitCode, UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { resultsDir } from "../locations.js";
import { configOption, outOption } from "../common-options.js";

const options = {
  print: {
    type: "boolean",
    default: false,
    describe: "Only print the report's path (the default when the output is not a terminal)",
  },
  file: {
    choices: ["html", "md", "json", "csv", "junit", "compare"] as const,
    default: "html" as const,
    describe: "Which report",
  },
  ...outOption,
  ...configOption,
} as const;

const FILES = {
  html: "report.html",
  md: "report.md",
  json: "report.json",
  csv: "results.csv",
  junit: "junit.xml",
  compare: "compare.html",
} as const;

export default defineCommand<typeof options, { run?: string }>({
  description:
    "Opens a run's report in the default browser ($BROWSER, else open / xdg-open / start) when run in a terminal; otherwise, or with --print, prints its path so scripts can use it.",
  positionals: {
    run: { type: "string", default: "latest", describe: "Run id, path of a run directory, latest or latest~N" },
  },
  options,
  examples: [
    ["$0 open", "Open the newest run's report.html"],
    ["$0 open latest~1 --print", "Print the path of the previous run's report"],
    ["$0 open latest --file compare", "The newest run's compare.html"],
  ],
  run: async (args, io) => {
    const { locateRun } = await import("../../store/run-dir.js");
    const spec = args.run ?? "latest";
    const dir = await locateRun(await resultsDir(args), spec);
    const file = join(dir, FILES[args.file]);
    if (!existsSync(file)) {
      throw new UsageError(
        `run "${spec}" has no ${FILES[args.file]} (${dir}); it may still be running or its reports failed: re-render with "bakeoff report ${spec}"`,
      );
    }
    if (args.print || !process.stdout.isTTY) {
      io.out(file);
      return ExitCode.ok;
    }
    const opened = await openInBrowser(file);
    io.out(opened ? `Opened ${file}` : file);
    if (!opened) io.err("bakeoff: no browser opener found ($BROWSER, open, xdg-open); open the file above yourself");
    return ExitCode.ok;
  },
});

/** Starts the platform's opener, detached; false when there is none. */
function openInBrowser(file: string): Promise<boolean> {
  const [cmd, args] = process.env.BROWSER
    ? [process.env.BROWSER, [file]]
    : process.platform === "darwin"
      ? ["open", [file]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", '""', file]]
        : ["xdg-open", [file]];
  return new Promise((resolveOpened) => {
    const child = spawn(cmd, args, { detached: true, stdio: "ignore" });
    child.once("error", () => resolveOpened(false));
    child.once("spawn", () => {
      child.unref();
      resolveOpened(true);
    });
  });
}
