import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { RecordPositions } from "../src/report/record-positions.js";
import { RowScores } from "../src/report/row-scores.js";

/** The layout RowScores had before it was narrowed: a Float64 sum and a saturating Uint16 count per row. */
class Reference {
  sum = new Map<number, number>();
  count = new Map<number, number>();
  add(row: number, value: number): void {
    this.sum.set(row, (this.sum.get(row) ?? 0) + value);
    this.count.set(row, Math.min(0xffff, (this.count.get(row) ?? 0) + 1));
  }
  mean(row: number): number {
    const c = this.count.get(row) ?? 0;
    return c === 0 ? NaN : this.sum.get(row)! / c;
  }
}

function seeded(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

function expectSame(v: RowScores, ref: Reference, rows: number | number[]): void {
  for (const row of typeof rows === "number" ? Array.from({ length: rows }, (_, i) => i) : rows) {
    // Object.is: the same bits, NaN for unscored rows included.
    expect(Object.is(v.mean(row), ref.mean(row))).toBe(true);
    expect(v.count(row)).toBe(ref.count.get(row) ?? 0);
    expect(v.sum(row)).toBe(ref.sum.get(row) ?? 0);
  }
}

describe("RowScores", () => {
  it("keeps 0/1 scores of up to 15 trials in one byte per row, with the same means as a Float64 column", () => {
    const rnd = seeded(1);
    const v = new RowScores(1000);
    const ref = new Reference();
    for (let i = 0; i < 5000; i++) {
      const row = Math.floor(rnd() * 1000);
      if (ref.count.get(row) === 15) continue;
      const value = rnd() < 0.7 ? 1 : 0;
      v.add(row, value);
      ref.add(row, value);
    }
    expect(v.isNarrow).toBe(true);
    expect(v.byteLength).toBe(1000);
    expectSame(v, ref, 1100);
  });

  it("widens exactly on the first score other than 0 or 1", () => {
    const rnd = seeded(2);
    const v = new RowScores(200);
    const ref = new Reference();
    for (let i = 0; i < 600; i++) {
      const row = i % 200;
      const value = i === 450 ? 0.1 : i > 450 ? rnd() : rnd() < 0.5 ? 1 : 0;
      v.add(row, value);
      ref.add(row, value);
      if (i === 449) expect(v.isNarrow).toBe(true);
    }
    expect(v.isNarrow).toBe(false);
    expectSame(v, ref, 200);
  });

  it("widens on a row's 16th trial and keeps counting (saturating at 65,535)", () => {
    const v = new RowScores(4);
    const ref = new Reference();
    for (let t = 0; t < 70_000; t++) {
      v.add(1, t % 3 === 0 ? 1 : 0);
      ref.add(1, t % 3 === 0 ? 1 : 0);
      if (t === 14) expect(v.isNarrow).toBe(true);
      if (t === 15) expect(v.isNarrow).toBe(false);
    }
    v.add(2, 1);
    ref.add(2, 1);
    expectSame(v, ref, 4);
    expect(v.count(1)).toBe(0xffff);
  });

  it("grows past its capacity in either layout, and reads rows past its end as unscored", () => {
    for (const wide of [false, true]) {
      const v = new RowScores(10);
      const ref = new Reference();
      if (wide) {
        v.add(0, 0.5);
        ref.add(0, 0.5);
      }
      for (const row of [3, 64, 65, 1000, 5000]) {
        v.add(row, 1);
        ref.add(row, 1);
      }
      expect(v.length).toBeGreaterThanOrEqual(5001);
      expectSame(v, ref, [0, 1, 3, 4, 63, 64, 65, 66, 999, 1000, 1001, 4999, 5000, 5001, 5999]);
      expect(Number.isNaN(v.mean(1e9))).toBe(true);
    }
  });
});

describe("RecordPositions", () => {
  const tempFiles = () => readdirSync(tmpdir()).filter((f) => f.startsWith("bakeoff-positions-"));

  it("finds each row's first record and each model's first record of its lowest trial, as a full pass would", () => {
    const rnd = seeded(3);
    const p = new RecordPositions();
    type Rec = { row: number; model: number; trial: number; offset: number };
    const recs: Rec[] = [];
    let rows = 0;
    for (let i = 0; i < 20_000; i++) {
      // New rows in index order, later records of earlier rows mixed in (as in a journal).
      const isNew = rnd() < 0.4 || rows === 0;
      const row = isNew ? rows++ : Math.floor(rnd() * rows);
      if (isNew) p.rowIndexed(row);
      const rec = { row, model: Math.floor(rnd() * 3), trial: Math.floor(rnd() * 4), offset: i * 100 };
      recs.push(rec);
      p.add(rec.row, rec.model, rec.trial, rec.offset);
    }
    expect(p.size).toBe(recs.length);
    const wanted = new Set([0, 1, 7, 1023, 1024, 2500, rows - 1, rows + 5]);
    const found = p.find(wanted);
    for (const row of wanted) {
      const mine = recs.filter((r) => r.row === row);
      if (mine.length === 0) {
        expect(found.has(row)).toBe(false);
        continue;
      }
      expect(found.get(row)!.first).toBe(mine[0]!.offset);
      for (const model of [0, 1, 2]) {
        const of = mine.filter((r) => r.model === model);
        const low = Math.min(...of.map((r) => r.trial));
        const expected = of.find((r) => r.trial === low);
        expect(found.get(row)!.byModel.get(model)?.offset).toBe(expected?.offset);
      }
      expect(p.firstOffset(row)).toBe(mine[0]!.offset);
    }
    expect(Number.isNaN(p.firstOffset(rows + 5))).toBe(true);
    p.close();
    expect(p.size).toBe(0);
  });

  it("leaves no temp file behind", () => {
    const before = tempFiles().length;
    const p = new RecordPositions();
    p.rowIndexed(0);
    for (let i = 0; i < 10_000; i++) p.add(i % 10, 0, 0, i);
    expect(p.firstOffset(3)).toBe(3);
    p.close();
    expect(tempFiles().length).toBe(before);
  });
});
