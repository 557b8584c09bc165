import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { capYoungGeneration, newSpaceBytes, type YoungGenerationCap } from "../src/util/young-generation.js";

/**
 * Allocates in event-loop turns (as a run does) with a share of survivors, the pattern that makes
 * V8 grow its new space; returns the largest new space seen after each turn.
 */
async function churn(turns: number): Promise<number> {
  const kept: unknown[] = [];
  let largest = newSpaceBytes();
  for (let t = 0; t < turns; t++) {
    for (let i = 0; i < 2000; i++) {
      const o = { i, s: `row ${i} of turn ${t}`, a: [i, t, i * t] };
      if (i % 50 === 0) kept.push(o);
    }
    // Survivors that outlive several scavenges, then go: a window of in-flight work.
    if (kept.length > 40_000) kept.splice(0, 20_000);
    await nextTurn();
    largest = Math.max(largest, newSpaceBytes());
  }
  return largest;
}

describe("capYoungGeneration", () => {
  let cap: YoungGenerationCap | undefined;
  afterEach(() => cap?.stop());

  // One sequence: the new space only grows in a process (V8 shrinks it only when allocation goes
  // quiet), so each step starts where the previous one left it.
  it("holds the new space at the ceiling, is replaced by a second call, and lets go when stopped", async () => {
    const start = newSpaceBytes();
    expect(start).toBeGreaterThan(0);

    // A ceiling that is not a power of two stops at the last doubling under it, and a second call
    // replaces the first: stopping the first must not lift the second's ceiling.
    const first = capYoungGeneration(start);
    cap = capYoungGeneration(1.5 * start);
    expect(cap.maxBytes).toBe(1.5 * start);
    first.stop();
    expect(await churn(400)).toBe(start);

    // One doubling allowed: V8's own growth reaches the ceiling and stays there.
    cap.stop();
    cap = capYoungGeneration(2 * start);
    expect(await churn(400)).toBeLessThanOrEqual(2 * start);

    // The same work without a ceiling grows past it: the ceilings above were what held it.
    cap.stop();
    cap = undefined;
    expect(await churn(400)).toBeGreaterThan(2 * start);
  });

  it("refuses a ceiling that is not positive", () => {
    expect(() => capYoungGeneration(0)).toThrow(/must be positive/);
    expect(() => capYoungGeneration(Number.NaN)).toThrow(/must be positive/);
  });
});
