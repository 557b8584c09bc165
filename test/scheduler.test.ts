import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, planRun, runEvaluation, startEmulator, type EmulatorHandle } from "../src/index.js";
import { tempDir } from "./helpers/tmp.js";

let emulator: EmulatorHandle | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function dataset(dir: string, n: number): Promise<string> {
  const file = join(dir, "sums.jsonl");
  await writeFile(
    file,
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({ id: `s${i}`, prompt: `What is ${i} + ${i}?`, expected: String(2 * i) }),
    ).join("\n") + "\n",
  );
  return file;
}

describe("scheduler limits (counted at the emulator)", () => {
  it("never exceeds the global or per-model limit, and uses them fully", async () => {
    emulator = await startEmulator({
      models: { a: { latency: { medianMs: 15, p95Ms: 25 } }, b: { latency: { medianMs: 15, p95Ms: 25 } } },
    });
    const dir = await tempDir();
    const loaded = parseConfig(
      {
        concurrency: 4,
        datasets: [{ path: await dataset(dir, 60), scorers: [{ type: "numeric" }] }],
        models: [
          { name: "a", endpoint: emulator.endpointFor("a"), apiKeyEnv: "EMU_KEY", concurrency: 2 },
          { name: "b", endpoint: emulator.endpointFor("b"), apiKeyEnv: "EMU_KEY", concurrency: 3 },
        ],
      },
      { baseDir: dir },
    );
    const plan = await planRun(loaded, { env: { EMU_KEY: "k" } });
    const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
    expect(result.status).toBe("complete");
    expect(result.recorded).toBe(120);

    const stats = emulator.stats();
    expect(stats.byModel.a!.completions).toBe(60);
    expect(stats.byModel.b!.completions).toBe(60);
    expect(stats.byModel.a!.maxInFlight).toBe(2);
    expect(stats.byModel.b!.maxInFlight).toBe(3);
    expect(stats.maxInFlight).toBe(4);
  });

  it("a slow model does not hold back a fast one", async () => {
    emulator = await startEmulator({
      models: { slow: { latency: { medianMs: 200, p95Ms: 200 } }, fast: { latency: { medianMs: 1, p95Ms: 1 } } },
    });
    const dir = await tempDir();
    const loaded = parseConfig(
      {
        concurrency: 8,
        datasets: [{ path: await dataset(dir, 40) }],
        models: [
          { name: "slow", endpoint: emulator.endpointFor("slow"), apiKeyEnv: "EMU_KEY", concurrency: 1 },
          { name: "fast", endpoint: emulator.endpointFor("fast"), apiKeyEnv: "EMU_KEY", concurrency: 4 },
        ],
      },
      { baseDir: dir },
    );
    const plan = await planRun(loaded, { env: { EMU_KEY: "k" } });
    const stop = new AbortController();
    const run = runEvaluation({ plan, outputDir: join(dir, "results"), stopSignal: stop.signal, log: () => {} });
    // Stop taking work once the fast model has finished: the slow one has done only a few.
    await waitFor(() => emulator!.stats().byModel.fast?.completions === 40);
    stop.abort();
    const result = await run;
    expect(result.status).toBe("interrupted");
    expect(emulator.stats().byModel.slow!.completions).toBeLessThan(40);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}
