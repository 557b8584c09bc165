/**
 * Per-row score sums of one scorer × model (or one model's failed calls), aligned by the
 * analysis' row index: the statistics pair models row by row, so this is the one thing a report
 * must keep per row and per scorer × model.
 *
 * Most scorers are binary and most runs have one trial per row, so each row starts in one byte:
 * the number of scored trials in the low four bits, the sum (passes) in the high four. The first
 * value that does not fit (a score other than 0 or 1, or a 16th trial of a row) widens the whole
 * column to a Float64 sum and a Uint16 count (10 B per row, the old layout). Means stay exact: a
 * narrow row's sum is a small integer, which a Float64 holds exactly, so widening never changes a
 * later sum, and `sum / count` is the same division either way (test/row-scores.test.ts compares
 * both layouts). A million rows × two binary scorers: 2 MB instead of 20 MB.
 */

const NARROW_MAX = 15;

export class RowScores {
  /** Narrow layout: count | sum << 4 per row; undefined once widened. */
  private narrow: Uint8Array | undefined;
  private sums: Float64Array | undefined;
  private counts: Uint16Array | undefined;

  /** `capacity`: the rows expected (run.json's), so a full run never grows (and copies) the column. */
  constructor(capacity = 64) {
    this.narrow = new Uint8Array(Math.max(64, capacity));
  }

  /** Rows the column has room for (rows past it read as unscored). */
  get length(): number {
    return this.narrow?.length ?? this.counts!.length;
  }

  /** Bytes held (for benches and tests). */
  get byteLength(): number {
    return this.narrow !== undefined ? this.narrow.byteLength : this.sums!.byteLength + this.counts!.byteLength;
  }

  /** Whether the column is still one byte per row. */
  get isNarrow(): boolean {
    return this.narrow !== undefined;
  }

  add(row: number, value: number): void {
    if (row >= this.length) this.grow(row + 1);
    const narrow = this.narrow;
    if (narrow !== undefined) {
      const b = narrow[row]!;
      const count = b & 0x0f;
      if ((value === 0 || value === 1) && count < NARROW_MAX) {
        narrow[row] = (count + 1) | (((b >> 4) + value) << 4);
        return;
      }
      this.widen();
    }
    this.sums![row]! += value;
    // Saturate rather than wrap: a hand-edited journal must not turn 65 536 trials into 0.
    if (this.counts![row]! < 0xffff) this.counts![row]!++;
  }

  /** Scored trials of the row (0 past the column's end). */
  count(row: number): number {
    if (row >= this.length) return 0;
    return this.narrow !== undefined ? this.narrow[row]! & 0x0f : this.counts![row]!;
  }

  /** Sum of the row's scores (0 past the column's end). */
  sum(row: number): number {
    if (row >= this.length) return 0;
    return this.narrow !== undefined ? this.narrow[row]! >> 4 : this.sums![row]!;
  }

  /** Per-row mean, NaN when the row has no scored trial. */
  mean(row: number): number {
    if (row >= this.length) return NaN;
    const narrow = this.narrow;
    if (narrow !== undefined) {
      const b = narrow[row]!;
      return (b & 0x0f) === 0 ? NaN : (b >> 4) / (b & 0x0f);
    }
    const c = this.counts![row]!;
    return c === 0 ? NaN : this.sums![row]! / c;
  }

  /** Converts every row to the wide layout (exact: narrow sums are small integers). */
  private widen(): void {
    const narrow = this.narrow!;
    const sums = new Float64Array(narrow.length);
    const counts = new Uint16Array(narrow.length);
    for (let i = 0; i < narrow.length; i++) {
      const b = narrow[i]!;
      if (b === 0) continue;
      counts[i] = b & 0x0f;
      sums[i] = b >> 4;
    }
    this.narrow = undefined;
    this.sums = sums;
    this.counts = counts;
  }

  private grow(min: number): void {
    let size = this.length;
    while (size < min) size *= 2;
    if (this.narrow !== undefined) {
      const narrow = new Uint8Array(size);
      narrow.set(this.narrow);
      this.narrow = narrow;
      return;
    }
    const sums = new Float64Array(size);
    sums.set(this.sums!);
    const counts = new Uint16Array(size);
    counts.set(this.counts!);
    this.sums = sums;
    this.counts = counts;
  }
}
