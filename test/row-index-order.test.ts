import { describe, expect, it } from "vitest";
import { RowIndex } from "../src/report/row-index.js";

function seeded(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** The order the report's statistics walk rows in: dataset order, then line, then first appearance. */
function expectedOrder(rows: { dataset: number; line: number }[]): number[] {
  return rows
    .map((_, i) => i)
    .sort((a, b) => rows[a]!.dataset - rows[b]!.dataset || rows[a]!.line - rows[b]!.line || a - b);
}

describe("RowIndex.canonicalOrder", () => {
  it("orders rows by dataset, line, then first appearance, whatever order they were indexed in", () => {
    const rnd = seeded(5);
    for (const [n, datasets, maxLine] of [
      [0, 1, 1],
      [1, 1, 1],
      [5000, 1, 5000],
      [5000, 3, 2000], // lines about as many as rows: the counting sort
      [4000, 2, 40000], // sparse lines (a shard, a limit): the packed 64-bit sort
      [3000, 2, 2 ** 32 - 1], // lines that need all 32 bits: 2 + 32 + 12 bits still fit one key
    ] as const) {
      const names = Array.from({ length: datasets }, (_, d) => `ds${d}`);
      const index = new RowIndex([...names], 16);
      const rows: { dataset: number; line: number }[] = [];
      for (let i = 0; i < n; i++) {
        const dataset = Math.floor(rnd() * datasets);
        // Repeated (dataset, line) pairs with other ids (a hand-edited journal) tie on the key.
        const line = Math.floor(rnd() * Math.min(maxLine, n / 2)) + (maxLine > n ? maxLine - n : 1);
        const at = index.indexOf({ dataset: names[dataset]!, rowId: `r${i}`, line });
        expect(at).toBe(i);
        rows.push({ dataset, line });
      }
      expect(index.canonicalOrder().join()).toBe(expectedOrder(rows).join());
    }
  });

  it("falls back to a comparator sort when dataset, line and row do not fit 64 bits", () => {
    // 2^15 datasets need 16 bits, 32-bit lines 32, and 2^17 rows 17: 65 bits.
    const names = Array.from({ length: 2 ** 15 + 1 }, (_, d) => `d${d}`);
    const index = new RowIndex([...names], 16);
    const rows: { dataset: number; line: number }[] = [];
    const rnd = seeded(9);
    for (let i = 0; i < 2 ** 16 + 2; i++) {
      const dataset = i === 0 ? 2 ** 15 : Math.floor(rnd() * 4);
      const line = i === 1 ? 2 ** 32 - 1 : Math.floor(rnd() * 1000) + 1;
      index.indexOf({ dataset: names[dataset]!, rowId: `r${i}`, line });
      rows.push({ dataset, line });
    }
    expect(index.canonicalOrder().join()).toBe(expectedOrder(rows).join());
  });
});
