import { existsSync } from "node:fs";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JournalWriter, completedKeys, readJournal } from "../src/index.js";
import type { PredictionRecord } from "../src/index.js";
import { tempDir } from "./helpers/tmp.js";

function rec(i: number, error = false): PredictionRecord {
  return {
    v: 1,
    key: `ds/r${i}/m/0`,
    dataset: "ds",
    rowId: `r${i}`,
    line: i + 1,
    model: "m",
    trial: 0,
    input: { messages: [{ role: "user", content: `q${i}` }], vars: {} },
    output: {
      text: error ? null : `a${i}`,
      finishReason: error ? "error" : "stop",
      usage: null,
      latencyMs: 1,
      model: "x",
      requestId: null,
      attempts: 1,
      ...(error ? { error: { kind: "server" as const, message: "HTTP 500" } } : {}),
    },
    scores: {},
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:00.001Z",
  };
}

async function collect(path: string, onBad?: (l: number, r: string) => void): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  for await (const r of readJournal(path, onBad ? { onBadLine: onBad } : {})) out.push(r);
  return out;
}

describe("journal", () => {
  it("appends records from many concurrent completions as whole lines, in completion order", async () => {
    const path = join(await tempDir(), "predictions.jsonl");
    const j = await JournalWriter.open(path);
    await Promise.all(Array.from({ length: 500 }, (_, i) => Promise.resolve().then(() => j.append(rec(i)))));
    await j.close();
    const text = await readFile(path, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const rows = await collect(path);
    expect(rows.map((r) => r.rowId)).toEqual(Array.from({ length: 500 }, (_, i) => `r${i}`));
  });

  it("writes batches of every size byte for byte, and tells each line's offset", async () => {
    const path = join(await tempDir(), "predictions.jsonl");
    const told: { line: string; offset: number; same: boolean }[] = [];
    const j = await JournalWriter.open(path, {
      onWritten: (r, line, offset) => told.push({ line, offset, same: r !== undefined && line === JSON.stringify(r) }),
    });
    // Texts with 1-, 2-, 3- and 4-byte UTF-8 and JSON escapes; batches (one per turn) of one record,
    // of ~50k characters (more than the first buffer holds, kept), of ~3M (more than it keeps), then smaller again.
    const text = (i: number) => `${i} ünï ✓ 日本 🎉 "q" \\ \n\u0001 `.repeat(1 + (i % 40));
    const expected: string[] = [];
    let n = 0;
    for (const size of [1, 40, 2500, 40, 1]) {
      for (let k = 0; k < size; k++, n++) {
        const r = rec(n);
        r.output.text = text(n);
        expected.push(JSON.stringify(r));
        j.append(r);
      }
      await j.flush();
    }
    j.appendSerialized(JSON.stringify(rec(n)));
    expected.push(JSON.stringify(rec(n)));
    await j.close();
    const bytes = await readFile(path);
    expect(bytes.equals(Buffer.from(expected.map((l) => l + "\n").join(""), "utf8"))).toBe(true);
    expect(told.map((t) => t.line)).toEqual(expected);
    let offset = 0;
    for (const [i, t] of told.entries()) {
      expect(t.offset).toBe(offset);
      offset += Buffer.byteLength(expected[i]! + "\n");
    }
    expect(told.slice(0, -1).every((t) => t.same)).toBe(true);
  });

  // /dev/full takes the open and fails every write with ENOSPC: a full disk, for real (Linux).
  it.runIf(existsSync("/dev/full"))(
    "a failed write rejects flush() and every later append, naming the file",
    async () => {
      const j = await JournalWriter.open("/dev/full");
      j.append(rec(0));
      j.append(rec(1));
      const flushed = j.flush();
      await expect(flushed).rejects.toMatchObject({ code: "ENOSPC", path: "/dev/full" });
      await expect(j.flush()).rejects.toMatchObject({ code: "ENOSPC" });
      expect(() => j.append(rec(2))).toThrow(/ENOSPC/);
      await expect(j.close()).rejects.toMatchObject({ code: "ENOSPC" });
    },
  );

  it("skips a torn final line when reading, and truncates it before appending again", async () => {
    const path = join(await tempDir(), "predictions.jsonl");
    await writeFile(
      path,
      JSON.stringify(rec(0)) + "\n" + JSON.stringify(rec(1)) + "\n" + JSON.stringify(rec(2)).slice(0, 40),
    );
    const bad: number[] = [];
    expect((await collect(path, (l) => bad.push(l))).length).toBe(2);
    expect(bad).toEqual([3]);

    const j = await JournalWriter.open(path);
    j.append(rec(3));
    await j.close();
    const rows = await collect(path, () => {
      throw new Error("no bad lines expected after reopening");
    });
    expect(rows.map((r) => r.rowId)).toEqual(["r0", "r1", "r3"]);
  });

  it("completedKeys gives the keys to skip on resume; retryErrors leaves failed calls out", async () => {
    const path = join(await tempDir(), "predictions.jsonl");
    await writeFile(path, [rec(0), rec(1, true), rec(2)].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const keys = ["ds/r0/m/0", "ds/r1/m/0", "ds/r2/m/0", "ds/r3/m/0"];
    const all = await completedKeys(path);
    expect(keys.filter((k) => all.has(k))).toEqual(["ds/r0/m/0", "ds/r1/m/0", "ds/r2/m/0"]);
    expect(all.size).toBe(3);
    const retry = await completedKeys(path, { retryErrors: true });
    expect(keys.filter((k) => retry.has(k))).toEqual(["ds/r0/m/0", "ds/r2/m/0"]);
    expect(retry.size).toBe(2);
    // A later success for the same key counts as done again.
    await appendFile(path, JSON.stringify(rec(1)) + "\n");
    expect((await completedKeys(path, { retryErrors: true })).has("ds/r1/m/0")).toBe(true);
  });

  it("completedKeys of a missing journal is empty", async () => {
    expect((await completedKeys(join(await tempDir(), "none.jsonl"))).size).toBe(0);
  });
});
