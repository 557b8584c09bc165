/**
 * The compact per-row structures that keep a million-row run's memory flat: the resume key set
 * (64-bit key hashes, sorted) and the dataset's duplicate-id index (64-bit id hashes, a suspect
 * confirmed exactly from the file). Collisions are forced with a degenerate hash.
 */
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetSpec } from "../src/config/schema.js";
import { IdIndex, openDataset, validateDataset, type SkippedRow } from "../src/dataset/index.js";
import { DatasetError } from "../src/errors.js";
import { completedKeys, KeySet } from "../src/index.js";
import { KeySetBuilder } from "../src/store/index.js";
import type { PredictionRecord } from "../src/types.js";

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bakeoff-compact-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string, text: string) => {
  const p = join(dir, `${n++}-${name}`);
  await writeFile(p, text);
  return p;
};

function spec(path: string): DatasetSpec {
  return {
    path,
    scorers: [],
    maxPromptChars: 100_000,
    columns: { id: "id", prompt: "prompt", system: "system", expected: "expected" },
  };
}

/** Every id hashes to the same value: every repeat of a hash is a collision to confirm. */
const collideAll = (_s: string, out: Uint32Array) => {
  out[0] = 7;
  out[1] = 7;
};

function record(i: number, failed = false, model = "m"): PredictionRecord {
  return {
    v: 1,
    key: `ds/r${i}/${model}/0`,
    dataset: "ds",
    rowId: `r${i}`,
    line: i + 1,
    model,
    trial: 0,
    input: { messages: [{ role: "user", content: "q" }], vars: {} },
    output: {
      text: failed ? null : "a",
      finishReason: failed ? "error" : "stop",
      usage: null,
      latencyMs: 1,
      model: null,
      requestId: null,
      attempts: 1,
      attemptLog: [],
      ...(failed ? { error: { kind: "server" as const, message: "boom" } } : {}),
    },
    scores: {},
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:00.000Z",
  };
}

describe("resume key set", () => {
  it("holds exactly the recorded keys of a 6,000-record journal", async () => {
    const path = join(dir, "big.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < 6000; i += 2) lines.push(JSON.stringify(record(i)));
    await writeFile(path, lines.join("\n") + "\n");
    const keys = await completedKeys(path);
    expect(keys.size).toBe(3000);
    let hits = 0;
    for (let i = 0; i < 6000; i++) if (keys.has(`ds/r${i}/m/0`)) hits++;
    expect(hits).toBe(3000);
    expect(keys.has("ds/r5998/m/0")).toBe(true);
    expect(keys.has("ds/r1/m/0")).toBe(false);
    expect(keys.has("ds/r0/other/0")).toBe(false);
    expect(keys.has("")).toBe(false);
  });

  it("counts a key recorded twice once", async () => {
    const path = await file(
      "twice.jsonl",
      [record(1), record(1), record(2)].map((r) => JSON.stringify(r) + "\n").join(""),
    );
    expect((await completedKeys(path)).size).toBe(2);
  });

  it("retryErrors: a key is done when its last record succeeded, whatever came before", async () => {
    // r0 ok; r1 failed; r2 failed then ok; r3 ok then failed; r4 failed twice.
    const recs = [
      record(0),
      record(1, true),
      record(2, true),
      record(3),
      record(2),
      record(3, true),
      record(4, true),
      record(4, true),
    ];
    const path = await file("retry.jsonl", recs.map((r) => JSON.stringify(r) + "\n").join(""));
    const done = await completedKeys(path, { retryErrors: true });
    expect([0, 1, 2, 3, 4].filter((i) => done.has(`ds/r${i}/m/0`))).toEqual([0, 2]);
    expect(done.size).toBe(2);
    const all = await completedKeys(path);
    expect([0, 1, 2, 3, 4].filter((i) => all.has(`ds/r${i}/m/0`))).toEqual([0, 1, 2, 3, 4]);
    await appendFile(path, JSON.stringify(record(3)) + "\n");
    expect((await completedKeys(path, { retryErrors: true })).has("ds/r3/m/0")).toBe(true);
  });

  it("the builder grows past its first buffer and the empty set has nothing", () => {
    const b = new KeySetBuilder();
    for (let i = 0; i < 5000; i++) b.add(`k${i}`);
    const set = b.build();
    expect(set.size).toBe(5000);
    expect(set.byteLength).toBe(5000 * 8);
    expect(set.has("k4999") && set.has("k0") && !set.has("k5000")).toBe(true);
    expect(KeySet.empty().has("k0")).toBe(false);
  });
});

describe("duplicate-id index", () => {
  it("finds repeats among 50,000 ids and nothing else", () => {
    const ids = new IdIndex();
    let fresh = 0;
    for (let i = 1; i <= 50_000; i++) if (ids.add(`id-${i}`, i).kind === "new") fresh++;
    expect(fresh).toBe(50_000);
    expect(ids.size).toBe(50_000);
    expect(ids.add("id-123", 50_001)).toMatchObject({ kind: "suspect", firstLine: 123 });
    expect(ids.add("id-50001", 50_002).kind).toBe("new");
  });

  it("with every hash colliding, tells ids apart exactly once confirmed", () => {
    const ids = new IdIndex(collideAll);
    expect(ids.add("a", 1).kind).toBe("new");
    const s = ids.add("b", 2);
    expect(s.kind).toBe("suspect");
    if (s.kind !== "suspect") return;
    expect(ids.resolve(s, "a", "b", 2)).toBe(false); // a collision, not a duplicate
    expect(ids.add("c", 3).kind).toBe("new"); // known hash: decided without reading the file
    expect(ids.add("b", 4)).toEqual({ kind: "duplicate", firstLine: 2 });
    expect(ids.add("a", 5)).toEqual({ kind: "duplicate", firstLine: 1 });
  });

  it("openDataset refuses a real duplicate naming both lines, with or without colliding hashes", async () => {
    const path = await file(
      "dup.jsonl",
      ['{"id":"a","prompt":"p"}', '{"id":"b","prompt":"p"}', '{"id":"a","prompt":"p"}', ""].join("\n"),
    );
    for (const idIndex of [new IdIndex(), new IdIndex(collideAll)]) {
      const err = await validateDataset(spec(path), { idIndex }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).message).toBe(`${path}:3: duplicate id "a" (first used at line 1)`);
    }
  });

  it("a hash collision is confirmed from the file and never refuses a dataset", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: `row-${i}`, prompt: `q${i}` }));
    const path = await file("collide.jsonl", lines.join("\n") + "\n");
    const rows: string[] = [];
    for await (const row of openDataset(spec(path), { idIndex: new IdIndex(collideAll) })) rows.push(row.id);
    expect(rows).toEqual(lines.map((_, i) => `row-${i}`));
  });

  it("--skip-invalid-rows skips exactly the real duplicates among colliding hashes (CSV, derived ids too)", async () => {
    const csv = ["id,prompt", "a,p1", "b,p2", "a,p3", ",p4", "c,p5", "b,p6", "a,p7", ",p8", ""].join("\n");
    const path = await file("dups.csv", csv);
    for (const idIndex of [new IdIndex(), new IdIndex(collideAll)]) {
      const skipped: SkippedRow[] = [];
      const rows: string[] = [];
      for await (const row of openDataset(spec(path), {
        skipInvalidRows: true,
        onSkip: (s) => skipped.push(s),
        idIndex,
      }))
        rows.push(`${row.id}@${row.line}`);
      expect(rows).toEqual(["a@2", "b@3", `${n - 1}-dups:5@5`, "c@6", `${n - 1}-dups:9@9`]);
      expect(skipped.map((s) => [s.line, s.reason])).toEqual([
        [4, 'duplicate id "a" (first used at line 2)'],
        [7, 'duplicate id "b" (first used at line 3)'],
        [8, 'duplicate id "a" (first used at line 2)'],
      ]);
    }
  });
});
