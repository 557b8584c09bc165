import { describe, expect, it } from "vitest";
import { formatInteger } from "../src/report/integer.js";

describe("formatInteger", () => {
  const intl = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

  it("prints what Intl.NumberFormat en-US with no fraction digits prints", () => {
    const values = [
      0,
      -0,
      1,
      -1,
      7,
      999,
      1000,
      -1000,
      1234,
      12_345,
      123_456,
      1_234_567,
      999_999.5,
      2.5,
      -2.5,
      0.5,
      -0.5,
      -0.4,
      0.49999999999999994,
      1e15 + 0.5,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      2 ** 60,
      1e21,
      1.2345e25,
      NaN,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
    ];
    // Plus a seeded spread of magnitudes, fractions and signs.
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const magnitude = 10 ** Math.floor(next() * 16);
      values.push((next() - 0.3) * magnitude, Math.round(next() * magnitude) + 0.5);
    }
    for (const v of values) expect(formatInteger(v), String(v)).toBe(intl.format(v));
  });
});
