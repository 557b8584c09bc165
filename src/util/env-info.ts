/** Facts about the tool and the checkout, for run.json. Never fails: missing facts are omitted. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

let version: string | undefined;

/** bakeoff's own version, from its package.json (read once). */
export function toolVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
        version?: string;
      };
      version = pkg.version ?? "0.0.0";
    } catch {
      version = "0.0.0";
    }
  }
  return version;
}

/**
 * The checkout's commit and whether tracked files changed, from one `git status --porcelain=v2
 * --branch` (its `# branch.oid` header is the commit `git rev-parse HEAD` prints): one process
 * start instead of two (each costs the run ~5-15 ms of CPU to spawn, more on a busy machine).
 * The runner starts this before the emulator and the `/info` round trips, off the path to the
 * first call. Undefined outside a repository and before its first commit.
 */
export function gitInfo(cwd: string): Promise<GitFacts | undefined> {
  if (prefetched?.cwd === cwd) {
    const { facts } = prefetched;
    prefetched = undefined;
    return facts;
  }
  return readGitInfo(cwd);
}

/** What run.json records of the checkout. */
export interface GitFacts {
  sha: string;
  dirty: boolean;
}

let prefetched: { cwd: string; facts: Promise<GitFacts | undefined> } | undefined;

/**
 * Starts {@link gitInfo} for `cwd` now; the next `gitInfo(cwd)` takes this one. `bakeoff run` calls
 * it before the plan reads and checks the datasets, so the git process runs on another core
 * during that CPU-bound pass instead of after it, off the path to the first call. Read-only, so
 * a plan that then fails has cost nothing but the process.
 */
export function prefetchGitInfo(cwd: string): Promise<GitFacts | undefined> {
  prefetched = { cwd, facts: readGitInfo(cwd) };
  return prefetched.facts;
}

async function readGitInfo(cwd: string): Promise<GitFacts | undefined> {
  try {
    const { stdout } = await run("git", ["status", "--porcelain=v2", "--branch", "--untracked-files=no"], {
      cwd,
      timeout: 5000,
    });
    let sha: string | undefined;
    let dirty = false;
    for (const line of stdout.split("\n")) {
      if (line.startsWith("# branch.oid ")) sha = line.slice("# branch.oid ".length).trim();
      else if (line !== "" && !line.startsWith("#")) dirty = true;
    }
    return sha === undefined || !/^[0-9a-f]{40,64}$/.test(sha) ? undefined : { sha, dirty };
  } catch {
    return undefined;
  }
}
