/**
 * The run store's small pieces through their public API: the lock, the idempotent run index,
 * and the one terminal-text sanitiser.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, LockedError, readLock } from "../src/store/lock.js";
import { putRunIndexEntries, readRunIndex, type RunIndexEntry } from "../src/store/run-index.js";
import { neutraliseForHtml, sanitizeLine, sanitizeTerminalText } from "../src/util/terminal-text.js";
import { escapeHtml } from "../src/report/html/escape.js";
import { escapeXml } from "../src/report/junit.js";
import { parseDuration } from "../src/util/duration.js";
import { tempDir } from "./helpers/tmp.js";

describe("run lock", () => {
  it("is exclusive, names its holder, is released, and a dead holder's lock is taken over", async () => {
    const dir = await tempDir();
    const path = join(dir, "run.lock");
    const a = await acquireLock(path, { command: "run", what: "run x" });
    expect(await readLock(path)).toMatchObject({ pid: process.pid, host: hostname(), command: "run" });
    // Same process, second taker: refused (two runs in one process must not share a journal either).
    await expect(acquireLock(path, { command: "resume", what: "run x" })).rejects.toThrow(LockedError);
    await expect(acquireLock(path, { command: "resume", what: "run x" })).rejects.toThrow(
      `run x is in use by process ${process.pid} on host ${hostname()} (bakeoff run, since`,
    );
    await a.release();
    await a.release(); // idempotent
    expect(await readLock(path)).toBeNull();

    const dead = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((r) => dead.once("exit", r));
    await writeFile(
      path,
      JSON.stringify({ pid: dead.pid, host: hostname(), startedAt: "2026-01-01T00:00:00Z", command: "run" }),
    );
    const b = await acquireLock(path, { command: "resume", what: "run x" });
    expect(await readLock(path)).toMatchObject({ pid: process.pid, command: "resume" });
    await b.release();

    // Another host's lock cannot be checked: refused, never stolen.
    await writeFile(
      path,
      JSON.stringify({ pid: 1, host: "elsewhere.example", startedAt: "2026-01-01T00:00:00Z", command: "run" }),
    );
    await expect(acquireLock(path, { command: "report", what: "run x" })).rejects.toThrow(
      /process 1 on host elsewhere\.example/,
    );
  });

  it("many takers at once: exactly one wins", async () => {
    const dir = await tempDir();
    const path = join(dir, "run.lock");
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => acquireLock(path, { command: "run", what: "r" })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});

describe("run index", () => {
  const entry = (runId: string, status: RunIndexEntry["status"], startedAt: string): RunIndexEntry => ({
    v: 1,
    runId,
    dir: runId,
    startedAt,
    status,
    configHash: "c",
    datasetHash: "d",
    datasets: [],
    models: [],
    cost: null,
  });

  it("holds one line per run however often it is written, and folds duplicate lines of older versions", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, "index.jsonl"),
      [entry("a", "interrupted", "1"), entry("a", "complete", "1")].map((e) => JSON.stringify(e)).join("\n") + "\n",
    );
    await putRunIndexEntries(dir, [entry("b", "running", "2")]);
    await putRunIndexEntries(dir, [entry("b", "complete", "2")]);
    await putRunIndexEntries(dir, [entry("b", "complete", "2")]);
    await Promise.all([
      putRunIndexEntries(dir, [entry("c", "complete", "3")]),
      putRunIndexEntries(dir, [entry("d", "complete", "4")]),
    ]);
    const lines = (await readFile(join(dir, "index.jsonl"), "utf8")).trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).runId).sort()).toEqual(["a", "b", "c", "d"]);
    expect((await readRunIndex(dir)).map((e) => `${e.runId}:${e.status}`)).toEqual([
      "a:complete",
      "b:complete",
      "c:complete",
      "d:complete",
    ]);
  });
});

describe("terminal-text sanitiser", () => {
  it("strips CSI, OSC (BEL- and ST-terminated), 8-bit C1, other controls and bidi overrides; keeps text, newline and tab", () => {
    const hostile =
      "a\u001b[2Jb\u001b]0;title\u0007c\u001b]8;;http://x/\u001b\\link\u001b]8;;\u001b\\d\u009b31me\u0007f\rg\u202Eh\u2066i\u0000j\tk\nl é 漢 🙂\u001bcm";
    expect(sanitizeTerminalText(hostile)).toBe("abclinkdefgh" + "ij\tk\nl é 漢 🙂m");
    expect(sanitizeTerminalText(sanitizeTerminalText(hostile))).toBe(sanitizeTerminalText(hostile));
    expect(sanitizeTerminalText("x\u001b]0;never terminated")).toBe("x");
    expect(sanitizeTerminalText("line\r\nnext")).toBe("line\nnext");
    expect(sanitizeLine("a\nb\tc")).toBe("a b c");
  });

  it("HTML shows bidi controls as inert markers; JUnit drops the same bytes as the terminal", () => {
    expect(escapeHtml("x\u202Ey")).toBe("x[U+202E]y");
    expect(neutraliseForHtml("\u2067a\u001b[31m")).toBe("[U+2067]a");
    expect(escapeXml("ok\u001b[2J\u001b]0;t\u0007\u202Edone")).toBe("okdone");
  });
});

describe("durations", () => {
  it("reads 90s, 30m, 2h, 500ms and bare seconds; refuses anything else", () => {
    expect([
      parseDuration("90s"),
      parseDuration("30m"),
      parseDuration("2h"),
      parseDuration("500ms"),
      parseDuration("1.5"),
      parseDuration(2),
    ]).toEqual([90_000, 1_800_000, 7_200_000, 500, 1500, 2000]);
    expect([parseDuration("soon"), parseDuration("-1s"), parseDuration("0"), parseDuration("")]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});
