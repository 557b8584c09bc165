/**
 * `run.lock`: one writer per run directory. A second `run --resume`, a CI retry overlapping the
 * original, or an orphan left by killing `npx` would otherwise append to the same journal and
 * every report would count duplicates.
 *
 * The lock file holds who owns it (pid, host, start time, command). It is created atomically with
 * complete contents (written to a private temp file, then hard-linked into place, which fails if a
 * lock exists), so a reader never sees half a lock. A lock left by a dead process on this host is
 * taken over; any other lock is refused with a message naming its holder.
 */
import { randomBytes } from "node:crypto";
import { link, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { BakeoffError, ExitCode } from "../errors.js";

/** File name of a run directory's lock. */
export const LOCK_FILE = "run.lock";

/** Who holds a lock, as stored in the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** What the holder is doing ("run", "resume", "report", ...). */
  command: string;
}

/** The lock is held by a live process (or one on another host, which cannot be checked). */
export class LockedError extends BakeoffError {
  override name = "LockedError";
  readonly holder: LockHolder | null;
  constructor(what: string, path: string, holder: LockHolder | null) {
    const who = holder
      ? `process ${holder.pid} on host ${holder.host} (bakeoff ${holder.command}, since ${holder.startedAt})`
      : "another process (its lock file is unreadable)";
    super(`${what} is in use by ${who}; wait for it to finish, or if that process is gone, delete ${path}`, {
      exitCode: ExitCode.usage,
    });
    this.holder = holder;
  }
}

export interface AcquireOptions {
  /** What this process is doing, shown to anyone refused the lock. */
  command: string;
  /** Name of the locked thing in messages, e.g. `run "nightly"`. */
  what: string;
  /** Keep trying this long while a live process holds it (short critical sections); default 0. */
  waitMs?: number;
}

/** A held lock. `release` is idempotent and removes the file only if it is still ours. */
export interface Lock {
  readonly path: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** Torn or foreign lock files younger than this may still be being written: wait, don't steal. */
const UNREADABLE_GRACE_MS = 10_000;

/**
 * Takes the lock at `path`, taking over a stale one (its process is dead and was on this host).
 * @throws LockedError naming the holder when a live process has it.
 */
export async function acquireLock(path: string, options: AcquireOptions): Promise<Lock> {
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: options.command,
  };
  const text = JSON.stringify(me) + "\n";
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(tmp, text, "utf8");
  const giveUpAt = Date.now() + (options.waitMs ?? 0);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, path);
        return held(path, me);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const seen = await readLockText(path);
      if (seen === null) continue; // released meanwhile: try again
      const holder = parseHolder(seen);
      const stale = holder ? isDeadLocal(holder) : await olderThan(path, UNREADABLE_GRACE_MS);
      if (stale && attempt < 20) {
        // Remove it only if it is still the lock we judged stale: a competing taker may already
        // have replaced it with a live lock of its own.
        if ((await readLockText(path)) === seen) await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() < giveUpAt) {
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
      throw new LockedError(options.what, path, holder);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** The current holder of the lock at `path`, or null when it is free or unreadable. */
export async function readLock(path: string): Promise<LockHolder | null> {
  const text = await readLockText(path);
  return text === null ? null : parseHolder(text);
}

function held(path: string, me: LockHolder): Lock {
  let released = false;
  return {
    path,
    holder: me,
    async release() {
      if (released) return;
      released = true;
      const now = await readLock(path);
      if (now && now.pid === me.pid && now.host === me.host && now.startedAt === me.startedAt)
        await unlink(path).catch(() => undefined);
    },
  };
}

async function readLockText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === "number" && typeof v.host === "string" && typeof v.startedAt === "string") {
      return {
        pid: v.pid,
        host: v.host,
        startedAt: v.startedAt,
        command: typeof v.command === "string" ? v.command : "?",
      };
    }
  } catch {
    // torn or foreign
  }
  return null;
}

/** Only a process on this host can be checked; one on another host (shared disk) is presumed alive. */
function isDeadLocal(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false; // this process holds it (another run in-process)
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}
