/**
 * Run ids and run directories. A run id names a directory directly under the output dir, so it
 * is restricted to a safe alphabet: nothing a user passes can write outside the results folder.
 */
import { randomBytes } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { UsageError } from "../errors.js";
import { PREDICTIONS_FILE } from "./journal.js";
import { acquireLock, LOCK_FILE, type Lock } from "./lock.js";
import { MANIFEST_FILE } from "./manifest.js";
import { pathExists } from "../util/path-exists.js";

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

export function checkRunId(id: string): string {
  if (!RUN_ID.test(id) || id.includes("..")) {
    throw new UsageError(
      `run id "${id}" is not allowed: use letters, digits, '_', '.' and '-' (it names a folder under the results directory)`,
    );
  }
  return id;
}

/** The directory for a new run id, guaranteed to be inside `outputDir`. */
export function runDirFor(outputDir: string, runId: string): string {
  return join(resolve(outputDir), checkRunId(runId));
}

/**
 * Finds an existing run from what a user typed: a run id, a path to a run directory, or
 * `latest` / `latest~N`. Paths must stay inside the output dir when `confine` is set.
 */
export async function locateRun(outputDir: string, spec: string, options: { confine?: boolean } = {}): Promise<string> {
  const out = resolve(outputDir);
  let dir: string;
  const latest = /^latest(?:~(\d+))?$/.exec(spec);
  if (latest) {
    const { listRuns } = await import("./run-index.js");
    const runs = await listRuns(out);
    const back = Number(latest[1] ?? 0);
    const pick = runs[runs.length - 1 - back];
    if (!pick) throw new UsageError(`"${spec}": there are only ${runs.length} runs in ${outputDir}`);
    dir = pick;
  } else if (RUN_ID.test(spec) && !spec.includes("/") && !spec.includes(sep) && (await isDir(join(out, spec)))) {
    dir = join(out, spec);
  } else {
    dir = resolve(spec);
  }
  if (options.confine) {
    const rel = relative(out, dir);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
      throw new UsageError(`"${spec}" is not a run directory inside ${outputDir}`);
    }
  }
  if (!(await isDir(dir))) throw new UsageError(`run "${spec}" not found (looked for ${dir})`);
  return dir;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Creates the directory of a new run and takes its lock (for `command`: run, merge). A run id that already holds a run is
 * refused: writing a second run into it would mix two runs in one journal.
 */
export async function createRunDir(
  outputDir: string,
  runId: string,
  command = "run",
): Promise<{ runDir: string; lock: Lock }> {
  const runDir = runDirFor(outputDir, runId);
  await mkdir(runDir, { recursive: true });
  const lock = await lockRunDir(runDir, command);
  for (const f of [MANIFEST_FILE, PREDICTIONS_FILE]) {
    if (await pathExists(join(runDir, f))) {
      await lock.release();
      throw new UsageError(
        `run "${runId}" already exists in ${outputDir}; continue it with --resume ${runId}, or choose another --run-id`,
      );
    }
  }
  return { runDir, lock };
}

/** Takes the lock of an existing run directory for `command` (resume, report, merge). */
export function lockRunDir(runDir: string, command: string): Promise<Lock> {
  return acquireLock(join(runDir, LOCK_FILE), { command, what: `run directory ${runDir}` });
}
