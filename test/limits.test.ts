/**
 * CallLimits (src/run/limits.ts): the global and per-model limits on model calls, driven by
 * calls that finish when the test says so.
 */
import { describe, expect, it } from "vitest";
import { CallLimits } from "../src/run/limits.js";

/** Calls that finish on demand, recording the order they started in and the peak in flight. */
function harness(limits: CallLimits) {
  const started: string[] = [];
  const finish = new Map<string, (fail?: Error) => void>();
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const count = (k: string, d: number) => {
    const n = (inFlight.get(k) ?? 0) + d;
    inFlight.set(k, n);
    peak.set(k, Math.max(peak.get(k) ?? 0, n));
  };
  const call = (model: string, id: string) =>
    limits.run(model, () => {
      started.push(id);
      count(model, 1);
      count("*", 1);
      return new Promise<string>((resolve, reject) =>
        finish.set(id, (fail) => {
          count(model, -1);
          count("*", -1);
          if (fail) reject(fail);
          else resolve(id);
        }),
      );
    });
  const turn = () => new Promise((r) => setImmediate(r));
  return { started, finish, peak, call, turn };
}

describe("CallLimits", () => {
  it("keeps each model under its limit and all under the global one, first come first served", async () => {
    const limits = new CallLimits(3, { a: 2, b: 2 });
    const h = harness(limits);
    const results = ["a1", "a2", "a3", "b1", "b2", "a4", "b3"].map((id) => h.call(id[0]!, id));
    await h.turn();
    // a1, a2 take a's slots; a3 waits for a; b1 takes the last global slot; b2 waits for it.
    expect(h.started).toEqual(["a1", "a2", "b1"]);
    h.finish.get("a1")!();
    await h.turn();
    // The global slot goes to b2 (waiting for it longest), a's slot to a3, which then waits.
    expect(h.started).toEqual(["a1", "a2", "b1", "b2"]);
    h.finish.get("b1")!();
    await h.turn();
    expect(h.started).toEqual(["a1", "a2", "b1", "b2", "a3"]);
    for (const id of ["a2", "b2", "a3", "a4", "b3"]) {
      h.finish.get(id)!();
      await h.turn();
    }
    expect(await Promise.all(results)).toEqual(["a1", "a2", "a3", "b1", "b2", "a4", "b3"]);
    expect(h.started).toHaveLength(7);
    expect(h.peak.get("*")).toBe(3);
    expect(h.peak.get("a")).toBe(2);
    expect(h.peak.get("b")).toBe(2);
  });

  it("a failed call frees its slots and rejects its own promise only", async () => {
    const limits = new CallLimits(1, { a: 1 });
    const h = harness(limits);
    const first = h.call("a", "x");
    const second = h.call("a", "y");
    await h.turn();
    h.finish.get("x")!(new Error("boom"));
    await expect(first).rejects.toThrow("boom");
    await h.turn();
    expect(h.started).toEqual(["x", "y"]);
    h.finish.get("y")!();
    await expect(second).resolves.toBe("y");
    // A function that throws instead of returning a promise: the same.
    await expect(limits.run("a", () => Promise.reject(new Error("sync")))).rejects.toThrow("sync");
    await expect(
      limits.run("a", () => {
        throw new Error("thrown");
      }),
    ).rejects.toThrow("thrown");
    await expect(limits.run("a", () => Promise.resolve(7))).resolves.toBe(7);
  });

  it("a lowered limit holds new calls back; a raised one lets waiting calls start", async () => {
    const limits = new CallLimits(4, { a: 4 });
    const h = harness(limits);
    const calls = ["1", "2", "3", "4", "5", "6"].map((id) => h.call("a", id));
    await h.turn();
    expect(h.started).toEqual(["1", "2", "3", "4"]);
    limits.setConcurrency("a", 1);
    expect(limits.concurrency("a")).toBe(1);
    for (const id of ["1", "2", "3"]) h.finish.get(id)!();
    await h.turn();
    expect(h.started).toHaveLength(4); // still 1 in flight: at the lowered limit
    h.finish.get("4")!();
    await h.turn();
    expect(h.started).toEqual(["1", "2", "3", "4", "5"]);
    limits.setConcurrency("a", 10); // capped at the global limit
    expect(limits.concurrency("a")).toBe(4);
    await h.turn();
    expect(h.started).toEqual(["1", "2", "3", "4", "5", "6"]);
    for (const id of ["5", "6"]) h.finish.get(id)!();
    expect(await Promise.all(calls)).toEqual(["1", "2", "3", "4", "5", "6"]);
  });

  it("a model without a limit of its own gets the global one", async () => {
    const limits = new CallLimits(2, {});
    expect(limits.concurrency("new")).toBe(2);
    expect(() => new CallLimits(0, {})).toThrow(/from 1 and up/);
  });
});
