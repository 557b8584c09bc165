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
 * The checkout's commit and whether tracked files changed. The two git commands run side by side
 * (each is a process start, tens of ms), and the runner starts this before the emulator and the
 * `/info` round trips so it is off the path to the first call.
 */
export async function gitInfo(cwd: string): Promise<{ sha: string; dirty: boolean } | undefined> {
  try {
    const [{ stdout: sha }, { stdout: status }] = await Promise.all([
      run("git", ["rev-parse", "HEAD"], { cwd, timeout: 5000 }),
      run("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, timeout: 5000 }),
    ]);
    return { sha: sha.trim(), dirty: status.trim() !== "" };
  } catch {
    return undefined;
  }
}
