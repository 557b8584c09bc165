/**
 * Operating characteristics of the regression gate and the paired interval, by seeded
 * simulation (1,000 datasets per figure). Assumptions: baseline accuracy 0.90; 20% of rows
 * discordant between the runs (two samplings of a non-deterministic model disagree that often);
 * a real regression is a 5-point drop with the same discordance.
 */
import { describe, expect, it } from "vitest";
import { gateFailureRate, intervalCoverage } from "./helpers/gate-sim.js";

describe("regression gate at n = 1,000 (1,000 seeded datasets each)", () => {
  it("false alarms at most 5% when nothing changed", () => {
    expect(gateFailureRate({ baseline: 0.9, change: 0, discordance: 0.2 }, 1000, 1000, 1)).toBeLessThanOrEqual(0.05);
  });
  it("catches a 5-point drop at least 80% of the time", () => {
    expect(gateFailureRate({ baseline: 0.9, change: -0.05, discordance: 0.2 }, 1000, 1000, 2)).toBeGreaterThanOrEqual(
      0.8,
    );
  });
  it("never fails on an improvement", () => {
    expect(gateFailureRate({ baseline: 0.85, change: 0.05, discordance: 0.2 }, 1000, 200, 3)).toBe(0);
  });
});

describe("paired interval coverage (1,000 seeded datasets each)", () => {
  for (const n of [30, 50, 300]) {
    it(`is at least 93% at n = ${n}, accuracies near 0.95 included`, () => {
      expect(
        intervalCoverage({ baseline: 0.97, change: -0.02, discordance: 0.04 }, n, 1000, 10 + n),
      ).toBeGreaterThanOrEqual(0.93);
      expect(
        intervalCoverage({ baseline: 0.9, change: -0.05, discordance: 0.2 }, n, 1000, 20 + n),
      ).toBeGreaterThanOrEqual(0.93);
      expect(intervalCoverage({ baseline: 0.5, change: 0, discordance: 0.3 }, n, 1000, 30 + n)).toBeGreaterThanOrEqual(
        0.93,
      );
    });
  }
});
