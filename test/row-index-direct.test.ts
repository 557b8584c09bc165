import { describe, expect, it } from "vitest";
import { RowIndex, rowKey, type RowHash } from "../src/report/row-index.js";

function seeded(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** Every key hashes alike: fingerprints always match, so only lines and keyOf tell rows apart. */
const constant: RowHash = (_d, _r, out) => {
  out[0] = 0x12345678;
  out[1] = 0x9abcdef0;
};

/** An index whose keyOf answers from the keys it was given (as the journal read-back does). */
function indexed(datasets: string[], capacity: number | number[], hash?: RowHash) {
  const keys: string[] = [];
  const index = new RowIndex([...datasets], capacity, (i) => keys[i], hash);
  const add = (dataset: string, rowId: string, line: number) => {
    const i = index.indexOf({ dataset, rowId, line });
    if (i === keys.length) keys.push(rowKey(dataset, rowId));
    return i;
  };
  return { index, add };
}

/**
 * A reference: a Map of keys in first-appearance order, each row ordered by the dataset and line
 * of its first record. The index must agree on every lookup and on the canonical order.
 */
function check(
  index: RowIndex,
  add: (op: { dataset: string; rowId: string; line: number }) => number,
  ops: { dataset: string; rowId: string; line: number }[],
  datasets: string[],
) {
  const ref = new Map<string, number>();
  const first: { d: number; line: number }[] = [];
  for (const op of ops) {
    const key = rowKey(op.dataset, op.rowId);
    let want = ref.get(key);
    if (want === undefined) {
      ref.set(key, (want = ref.size));
      first.push({ d: datasets.indexOf(op.dataset), line: op.line });
    }
    expect(add(op)).toBe(want);
  }
  expect(index.size).toBe(ref.size);
  for (const op of ops) expect(index.find(op)).toBe(ref.get(rowKey(op.dataset, op.rowId)));
  const order = first
    .map((_, i) => i)
    .sort((a, b) => first[a]!.d - first[b]!.d || first[a]!.line - first[b]!.line || a - b);
  expect([...index.canonicalOrder()]).toEqual(order);
  for (let k = 1; k < order.length; k++) expect(index.compare(order[k - 1]!, order[k]!)).toBeLessThan(0);
  for (let i = 0; i < first.length; i++) expect(index.datasetOf(i)).toBe(first[i]!.d);
}

describe("RowIndex addressed by (dataset, line)", () => {
  it("keeps one row per key through hand edits: an id at two lines, two ids at one line, sparse lines", () => {
    const datasets = ["a", "b", "c"];
    for (const [hash, seed] of [
      [undefined, 1],
      [undefined, 2],
      [constant, 3],
    ] as const) {
      const rnd = seeded(seed);
      const keys: string[] = [];
      const index = new RowIndex([...datasets], [300, 200, 0], (i) => keys[i], hash);
      const ops: { dataset: string; rowId: string; line: number }[] = [];
      const lineOf = new Map<string, number>();
      const taken = new Set<string>();
      for (let n = 0; n < 1500; n++) {
        const d = datasets[Math.floor(rnd() * 3)]!;
        const id = `r${Math.floor(rnd() * 400)}`;
        const key = rowKey(d, id);
        let line = lineOf.get(key);
        const roll = rnd();
        if (line === undefined) {
          // Mostly its own line; some sparse (beyond the direct table's reach), some sharing a
          // line with another id (unless every hash is alike: then hash, dataset and line agree,
          // which the index trusts as the hashed index always did).
          line = roll < 0.8 ? Number(id.slice(1)) + 1 : roll < 0.9 ? 10_000_000 + n : 7;
          if (hash === constant && taken.has(`${d}:${line}`)) line = 20_000_000 + n;
          lineOf.set(key, line);
          taken.add(`${d}:${line}`);
        } else if (roll < 0.1) {
          // The same id at another line (with every hash alike, never one another id holds).
          line = hash === constant ? 30_000_000 + n : line + 1 + Math.floor(rnd() * 50);
        }
        ops.push({ dataset: d, rowId: id, line });
      }
      // keyOf reads back a row's first key, as the journal would.
      const add = (op: { dataset: string; rowId: string; line: number }) => {
        const i = index.indexOf(op);
        if (i === keys.length) keys.push(rowKey(op.dataset, op.rowId));
        return i;
      };
      check(index, add, ops, datasets);
    }
  });

  it("tells ids apart by keyOf when every fingerprint matches, and finds a moved row by its key", () => {
    const { index, add } = indexed(["a", "b"], [100, 100], constant);
    for (let i = 0; i < 100; i++) expect(add("a", `x${i}`, i + 1)).toBe(i);
    expect(add("b", "x0", 1)).toBe(100); // same fingerprint and line, other dataset: another row
    expect(add("a", "x5", 6)).toBe(5);
    expect(add("a", "x5", 60)).toBe(5); // another line: keyOf confirms the key
    expect(index.find({ dataset: "a", rowId: "nope", line: 500 })).toBe(-1);
    expect(index.datasetOf(100)).toBe(1);
  });

  it("without keyOf, a match at another line is another row (never merged)", () => {
    const index = new RowIndex(["a"], 10, undefined, constant);
    expect(index.indexOf({ dataset: "a", rowId: "x", line: 1 })).toBe(0);
    expect(index.indexOf({ dataset: "a", rowId: "y", line: 2 })).toBe(1);
    expect(index.indexOf({ dataset: "a", rowId: "x", line: 1 })).toBe(0);
    expect(index.indexOf({ dataset: "a", rowId: "y", line: 2 })).toBe(1);
    expect(index.size).toBe(2);
  });

  it("two ids at one line are two rows, ordered by first appearance", () => {
    const { index, add } = indexed(["a"], 10);
    expect(add("a", "late", 5)).toBe(0);
    expect(add("a", "x", 3)).toBe(1);
    expect(add("a", "y", 3)).toBe(2); // line 3 is taken: the second id is hashed
    expect(add("a", "z", 3)).toBe(3);
    expect(add("a", "y", 3)).toBe(2);
    expect(add("a", "x", 3)).toBe(1);
    expect([...index.canonicalOrder()]).toEqual([1, 2, 3, 0]);
    expect(index.compare(3, 0)).toBeLessThan(0);
    expect(index.compare(1, 2)).toBeLessThan(0);
  });

  it("sparse lines and rows past run.json's count stay findable without a table sized by the lines", () => {
    const { index, add } = indexed(["a"], 50);
    for (let i = 0; i < 2000; i++) expect(add("a", `s${i}`, 1_000_000_000 + i * 1000)).toBe(i);
    for (let i = 0; i < 2000; i++)
      expect(index.find({ dataset: "a", rowId: `s${i}`, line: 1_000_000_000 + i * 1000 })).toBe(i);
    // Bounded by the rows, not by the largest line (4 GB as a direct table).
    expect(index.byteLength).toBeLessThan(2000 * 64);
    expect([...index.canonicalOrder()]).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it("holds a full run's rows in the direct tables in ~10 bytes per row", () => {
    const rows = 20_000;
    const { index, add } = indexed(["a", "b"], [rows / 2, rows / 2]);
    for (let i = 0; i < rows; i++) add(i % 2 ? "b" : "a", `r${i}`, Math.floor(i / 2) + 2); // a CSV: header on line 1
    expect(index.size).toBe(rows);
    expect(index.byteLength / rows).toBeLessThan(10);
    const order = index.canonicalOrder();
    expect(order[0]).toBe(0);
    expect(order[rows / 2]).toBe(1);
    expect([index.datasetOf(0), index.datasetOf(1), index.datasetOf(rows - 1)]).toEqual([0, 1, 1]);
    // Rows of one dataset only (not the first): every row is in it.
    const one = new RowIndex(["a", "b"], [0, 100]);
    for (let i = 0; i < 100; i++) one.indexOf({ dataset: "b", rowId: `r${i}`, line: i + 1 });
    expect([one.datasetOf(0), one.datasetOf(99)]).toEqual([1, 1]);
    one.indexOf({ dataset: "a", rowId: "late", line: 1 });
    expect([one.datasetOf(0), one.datasetOf(100)]).toEqual([1, 0]);
  });
});
