/**
 * The duplicate-id index gives its memory back as soon as openDataset's pass ends (its own index),
 * but never empties an index the caller passed in and may still read.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdIndex, openDataset, validateDataset } from "../src/dataset/index.js";
import { DatasetError } from "../src/errors.js";
import type { DatasetSpec } from "../src/config/schema.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bakeoff-id-release-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function dataset(name: string, ids: string[]): Promise<DatasetSpec> {
  const path = join(dir, name);
  await writeFile(path, ids.map((id, i) => JSON.stringify({ id, prompt: `q${i}` })).join("\n") + "\n");
  return {
    path,
    scorers: [],
    maxPromptChars: 100_000,
    columns: { id: "id", prompt: "prompt", system: "system", expected: "expected" },
  };
}

describe("IdIndex.release", () => {
  it("empties the index and refuses further use", () => {
    const ids = new IdIndex();
    for (let i = 1; i <= 10_000; i++) ids.add(`r${i}`, i);
    expect(ids.byteLength).toBeGreaterThan(0);
    ids.release();
    expect(ids.byteLength).toBe(0);
    expect(ids.size).toBe(0);
    expect(() => ids.add("r1", 1)).toThrow(/after release/);
    ids.release(); // twice is harmless
  });

  it("openDataset keeps a caller's index, complete, after the pass, a finished one and a stopped one", async () => {
    const spec = await dataset("rows.jsonl", ["a", "b", "c", "d"]);
    const ids = new IdIndex();
    await validateDataset(spec, { idIndex: ids });
    expect(ids.size).toBe(4);
    // The same ids again through the same index: every one is a suspect repeat (not a fresh index).
    expect(ids.add("a", 9).kind).toBe("suspect");

    const partial = new IdIndex();
    for await (const row of openDataset(spec, { idIndex: partial })) if (row.id === "b") break;
    // Rows are read a batch ahead (one 64 KB chunk of JSONL), so the stopped pass has seen the
    // whole small file; what matters here is that the caller's index is intact and still usable.
    expect(partial.size).toBe(4);
    expect(partial.add("a", 9).kind).toBe("suspect");
    expect(partial.add("e", 5).kind).toBe("new");
  });

  it("openDataset still finds duplicates and reads every row with its own (released) index", async () => {
    const spec = await dataset("dup.jsonl", ["a", "b", "a"]);
    const err = await validateDataset(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).message).toContain('duplicate id "a" (first used at line 1)');
    const ok = await dataset("ok.jsonl", ["x", "y"]);
    // Two passes over one file: each pass has (and releases) an index of its own.
    expect(await validateDataset(ok)).toEqual({ rows: 2, skipped: 0 });
    expect(await validateDataset(ok)).toEqual({ rows: 2, skipped: 0 });
  });
});
