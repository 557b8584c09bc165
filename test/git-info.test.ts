/**
 * run.json's git facts come from one `git status --porcelain=v2 --branch`: the same commit as
 * `git rev-parse HEAD` and the same dirty flag as `git status --porcelain --untracked-files=no`
 * (the two commands it replaces), outside a repository and before the first commit none.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitInfo, prefetchGitInfo } from "../src/util/env-info.js";
import { tempDir } from "./helpers/tmp.js";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  }).trim();

async function repo(): Promise<string> {
  const dir = await tempDir("git-info-");
  git(dir, "init", "-q");
  return dir;
}

describe("gitInfo", () => {
  it("is undefined outside a repository and before the first commit", async () => {
    const outside = await tempDir("git-info-none-");
    // A temp dir under a repository would be inside it; only meaningful when it is not.
    let inRepo = true;
    try {
      git(outside, "rev-parse", "--git-dir");
    } catch {
      inRepo = false;
    }
    if (!inRepo) expect(await gitInfo(outside)).toBeUndefined();
    expect(await gitInfo(await repo())).toBeUndefined();
  });

  it("gives HEAD's commit, clean; dirty once a tracked file changes or is staged, not for untracked files", async () => {
    const dir = await repo();
    await writeFile(join(dir, "a.txt"), "one\n");
    git(dir, "add", "a.txt");
    git(dir, "commit", "-qm", "first");
    const head = git(dir, "rev-parse", "HEAD");
    expect(await gitInfo(dir)).toEqual({ sha: head, dirty: false });
    await writeFile(join(dir, "untracked.txt"), "x\n");
    expect(await gitInfo(dir)).toEqual({ sha: head, dirty: false });
    // From a subdirectory, as a config file in one would run it.
    await mkdir(join(dir, "sub"));
    expect(await gitInfo(join(dir, "sub"))).toEqual({ sha: head, dirty: false });
    await writeFile(join(dir, "a.txt"), "two\n");
    expect(await gitInfo(dir)).toEqual({ sha: head, dirty: true });
    git(dir, "add", "a.txt");
    expect(await gitInfo(dir)).toEqual({ sha: head, dirty: true });
    git(dir, "commit", "-qm", "second");
    const second = git(dir, "rev-parse", "HEAD");
    expect(second).not.toBe(head);
    expect(await gitInfo(dir)).toEqual({ sha: second, dirty: false });
    // A detached HEAD still names its commit.
    git(dir, "checkout", "-q", head);
    expect(await gitInfo(dir)).toEqual({ sha: head, dirty: false });
  });

  it("a prefetch is taken once, by the next call for the same folder; later calls read git again", async () => {
    const dir = await repo();
    await writeFile(join(dir, "a.txt"), "one\n");
    git(dir, "add", "a.txt");
    git(dir, "commit", "-qm", "first");
    const head = git(dir, "rev-parse", "HEAD");
    // A prefetch for another folder is not used for this one.
    const other = prefetchGitInfo(await repo());
    const own = prefetchGitInfo(dir);
    const first = gitInfo(dir);
    expect(first).toBe(own);
    expect(first).not.toBe(other);
    expect(await first).toEqual({ sha: head, dirty: false });
    await writeFile(join(dir, "a.txt"), "two\n");
    const second = gitInfo(dir);
    expect(second).not.toBe(own);
    expect(await second).toEqual({ sha: head, dirty: true });
  });
});
