/**
 * The row index of a comparison (src/compare/row-keys.ts): keys packed in a typed array behind a
 * hash table. A hash only narrows the search, so forced collisions must never merge two rows; the
 * sorted order must be JavaScript's string order (compare's statistics and flip lists walk rows in
 * it); and a comparison over row ids with wide characters lists its flips in that order.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RowKeys } from "../src/compare/index.js";
import { compareRuns } from "../src/index.js";
import { runOneModel } from "./helpers/run-fixture.js";

/** Every key hashes alike: each lookup must fall back to comparing the stored characters. */
const collideAll = (_s: string, out: Uint32Array) => {
  out[0] = 7;
  out[1] = 7;
};

/** Keys with Latin-1, BMP above U+E000, surrogate pairs, shared prefixes and the empty key. */
const ODD_KEYS = [
  "",
  "a",
  "ab",
  "a/b",
  "ds/é",
  "ds/\u00ff",
  "ds/\u0100",
  "ds/日本",
  "ds/\uffff",
  "ds/\ud83d\ude00", // 😀: UTF-16 puts it before U+FFFF, code point order after
  "ds/\ud83d\ude00x",
  "ds/r1",
  "ds/r10",
  "ds/r2",
  "x".repeat(20_000), // longer than one decoding slice
];

function jsSorted(keys: string[]): string[] {
  return [...keys].sort();
}

describe("RowKeys", () => {
  it("gives each distinct key one dense index and returns its key exactly", () => {
    const rows = new RowKeys();
    const idx = ODD_KEYS.map((k) => rows.indexOf(k));
    expect(idx).toEqual(ODD_KEYS.map((_, i) => i));
    // Asking again (in another order) finds the same indices and adds nothing.
    for (const i of [...idx].reverse()) expect(rows.indexOf(ODD_KEYS[i]!)).toBe(i);
    expect(rows.size).toBe(ODD_KEYS.length);
    for (const i of idx) expect(rows.keyAt(i)).toBe(ODD_KEYS[i]);
    expect(() => rows.keyAt(ODD_KEYS.length)).toThrow(RangeError);
  });

  it("keeps Latin-1 keys exact after a wide character widens the storage", () => {
    const rows = new RowKeys();
    const latin = Array.from({ length: 3000 }, (_, i) => `d/r${i}é`);
    for (const k of latin) rows.indexOf(k);
    const wide = rows.indexOf("d/日本");
    for (const [i, k] of latin.entries()) {
      expect(rows.indexOf(k)).toBe(i);
      expect(rows.keyAt(i)).toBe(k);
    }
    expect(rows.keyAt(wide)).toBe("d/日本");
  });

  it("never merges two keys whose hashes collide (every hash equal)", () => {
    const rows = new RowKeys(collideAll);
    const keys = [...ODD_KEYS, ...Array.from({ length: 2000 }, (_, i) => `ds/r${i}`)];
    const unique = [...new Set(keys)];
    for (const k of keys) rows.indexOf(k);
    expect(rows.size).toBe(unique.length);
    for (const [i, k] of unique.entries()) {
      expect(rows.indexOf(k)).toBe(i);
      expect(rows.keyAt(i)).toBe(k);
    }
  });

  it("sorts indices by key exactly as Array.prototype.sort orders the strings", () => {
    const rows = new RowKeys();
    // Shuffled insertion, enough keys to grow every array and the table several times.
    const keys = [...ODD_KEYS, ...Array.from({ length: 20_000 }, (_, i) => `ds${i % 3}/r${(i * 7919) % 20_011}`)];
    let seed = 1;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    for (const k of keys) rows.indexOf(k);
    const order = Array.from(rows.sortedByKey(), (i) => rows.keyAt(i));
    expect(order).toEqual(jsSorted([...new Set(keys)]));
  });

  it("sorts the same under forced collisions", () => {
    const rows = new RowKeys(collideAll);
    for (const k of [...ODD_KEYS].reverse()) rows.indexOf(k);
    expect(Array.from(rows.sortedByKey(), (i) => rows.keyAt(i))).toEqual(jsSorted(ODD_KEYS));
  });
});

describe("compareRuns over row ids with wide characters", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "bakeoff-row-keys-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const run = (runId: string, accuracy: number, dataset: string) =>
    runOneModel(root, runId, dataset, { accuracy, latencyMs: { median: 0, p95: 0 }, concurrency: 16 });

  it("matches rows by id and lists flips in JavaScript string order of their keys", async () => {
    const ids = Array.from({ length: 120 }, (_, i) => ["é", "日本", "\ud83d\ude00", "\uffff", "r"][i % 5]! + i);
    await mkdir(join(root, "data"), { recursive: true });
    const dataset = join(root, "data", "wide.jsonl");
    await writeFile(
      dataset,
      ids
        .map((id, i) => JSON.stringify({ id, prompt: `What is ${i} + ${2 * i + 1}?`, expected: String(3 * i + 1) }))
        .join("\n") + "\n",
    );
    const base = await run("base", 0.95, dataset);
    const cand = await run("cand", 0.6, dataset);
    const result = await compareRuns(base, cand, { maxListed: 1000 });
    expect(result.rows).toEqual([{ model: "m", matched: 120, onlyBaseline: 0, onlyCandidate: 0 }]);
    const down = result.flips.filter((f) => f.direction === "pass→fail");
    expect(down.length).toBe(result.changes[0]!.passToFail);
    expect(down.length).toBeGreaterThan(10);
    const keys = down.map((f) => `${f.dataset}/${f.rowId}`);
    expect(keys).toEqual(jsSorted(keys));
    // Both outputs were fetched by the decoded key: the quoted prompts are those of the right rows.
    for (const f of down) {
      const i = ids.indexOf(f.rowId);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(f.baseline?.prompt).toContain(`What is ${i} + `);
      expect(f.candidate?.prompt).toContain(`What is ${i} + `);
    }
  }, 60_000);
});
