/**
 * A large `bakeoff run` re-executes itself with glibc's mmap threshold pinned.
 *
 * Why: glibc raises its mmap threshold to the size of each large block it frees (up to 32 MB). A
 * big dataset's plan frees V8's string tables (4 MB at a million rows) and the id index (16 + 8
 * MB), after which every smaller block (the row index, read and write buffers, later string
 * tables) comes from the C heap, which glibc keeps: a million-row run's RSS stayed ~20 MB above a
 * small run's for memory it no longer uses (BENCHMARKS.md, memory). A fixed
 * `MALLOC_MMAP_THRESHOLD_` turns the raise off, but glibc reads it only when a process starts, so
 * the run replaces its own process image (`process.execve`: same PID, stdin, TTY and signal
 * handling, no parent left behind) with one that has it set.
 *
 * Only when it can pay: the new image boots Node and loads the config again (~80 ms of CPU, a
 * fifth of a small run's start-up), so only when the datasets add up to {@link REEXEC_MIN_BYTES}
 * (a run of minutes at least, where the raise starts to show), on Linux with glibc, on a Node
 * with `process.execve` (22.15+; not Node 20, not Windows). Never when the user tunes malloc
 * (their setting wins), when a debugger is asked for (it would lose the process), when the
 * dataset came from standard input (already read), for a `--limit` sample, or with
 * `BAKEOFF_NO_REEXEC` set. Should execve fail, the run goes on in this process as before.
 */
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";

/** Marks the re-executed image (the loop guard); removed from its environment once seen. */
const MARK = "BAKEOFF_REEXECED";
/** The variable set, and its value: 1 MiB measured best of 128 KiB–4 MiB at 10k and 1M rows. */
const THRESHOLD_VAR = "MALLOC_MMAP_THRESHOLD_";
const THRESHOLD = String(1024 * 1024);
/**
 * Datasets smaller than this run in place: ~100,000 short rows (the benches' 85 B), far fewer
 * with real prompts. Below it the raise is a few MB and the extra boot a visible share of the run.
 */
export const REEXEC_MIN_BYTES = 8 * 1024 * 1024;

/** `--limit` under this many rows per dataset is a sample run: it runs in place. */
const REEXEC_MIN_LIMIT = 100_000;

/**
 * Re-executes this `bakeoff run` with the threshold pinned when its datasets are large enough
 * (see the module comment); returns only when it did not. Called before anything is printed,
 * spawned or written, so the new image starts the command over from the same state. In the new
 * image it removes what it added from the environment, so the run's subprocesses (custom
 * scorers, the Weave child) see the user's environment, and a bakeoff they start decides anew.
 * @param datasetFiles the run's dataset files, absolute or relative to the current directory
 * @param options.limit the run's `--limit` (rows per dataset), if any
 */
export function reexecForLargeRun(datasetFiles: readonly string[], options: { limit?: number | undefined } = {}): void {
  const env = process.env;
  if (env[MARK] === "1") {
    delete env[MARK];
    delete env[THRESHOLD_VAR];
    return;
  }
  // `--limit N` below a large run's size: a sample of a big file, over before the heap matters.
  if (options.limit !== undefined && options.limit < REEXEC_MIN_LIMIT) return;
  if (env.BAKEOFF_NO_REEXEC || typeof process.execve !== "function" || process.platform !== "linux") return;
  if (Object.keys(env).some((k) => k.startsWith("MALLOC_")) || /glibc\.malloc\./.test(env.GLIBC_TUNABLES ?? "")) return;
  if (/--inspect/.test(`${process.execArgv.join(" ")} ${env.NODE_OPTIONS ?? ""}`)) return;
  let bytes = 0;
  for (const file of datasetFiles) {
    try {
      bytes += statSync(file).size;
    } catch {
      // The plan reports a missing file with its own error; it is not counted here.
    }
  }
  if (bytes < REEXEC_MIN_BYTES) return;
  try {
    // musl (Alpine's Node) ignores the variable: the extra boot would buy nothing.
    if (!readFileSync("/proc/self/maps", "latin1").includes("/libc.so.6\n")) return;
    // execArgv: the user's node flags (--cpu-prof, --import, --enable-source-maps...) carry over;
    // NODE_OPTIONS is in the environment, so it does too.
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...env,
      [THRESHOLD_VAR]: THRESHOLD,
      [MARK]: "1",
    });
  } catch {
    // No /proc, or execve refused (a seccomp policy, say): the run goes on here, as before.
  }
}

/** A config's dataset files, resolved as the plan resolves them (against the config's folder). */
export function configDatasetFiles(loaded: LoadedConfig): string[] {
  return loaded.config.datasets.map((d) => (isAbsolute(d.path) ? d.path : resolve(loaded.baseDir, d.path)));
}
