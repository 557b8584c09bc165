/**
 * Builds a run setup around a test-owned emulator: a dataset of arithmetic prompts, a config file
 * whose models point at the emulator over real HTTP, and the env holding their keys.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig, planRun, runEvaluation, startEmulator, type EmulatorHandle } from "../../src/index.js";
import type { SimModelSpecInput } from "../../src/emulator/spec.js";

export interface RunFixture {
  dir: string;
  config: string;
  results: string;
  rows: number;
  emulator: EmulatorHandle;
  env: Record<string, string>;
}

export async function runFixture(
  dir: string,
  options: {
    rows: number;
    sims?: Record<string, SimModelSpecInput>;
    concurrency?: number;
    extraConfig?: Record<string, unknown>;
    keys?: Record<string, string>;
  },
): Promise<RunFixture> {
  const sims = options.sims ?? {
    small: { latency: { medianMs: 20, p95Ms: 40 } },
    large: { latency: { medianMs: 30, p95Ms: 60 } },
  };
  const emulator = await startEmulator({ models: sims, quiet: true });
  const dataset = join(dir, "sums.jsonl");
  await writeFile(
    dataset,
    Array.from({ length: options.rows }, (_, i) =>
      JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + ${i * 3}?`, expected: String(i * 4) }),
    ).join("\n") + "\n",
  );
  const env: Record<string, string> = {};
  const models = Object.keys(sims).map((name) => {
    const keyEnv = `BAKEOFF_TEST_KEY_${name.toUpperCase()}`;
    env[keyEnv] = options.keys?.[name] ?? `test-key-${name}`;
    return { name, endpoint: emulator.endpointFor(name), apiKeyEnv: keyEnv };
  });
  const results = join(dir, "results");
  const config = join(dir, "eval.config.json");
  await writeFile(
    config,
    JSON.stringify({
      outputDir: results,
      concurrency: options.concurrency ?? 4,
      datasets: [{ path: dataset, scorers: [{ type: "numeric" }] }],
      models,
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 50 },
      ...options.extraConfig,
    }),
  );
  return { dir, config, results, rows: options.rows, emulator, env };
}

/**
 * One in-process run of a single emulated model "m" (numeric scorer, fixed seed) over `dataset`,
 * with results under `root`/results; the emulator lives for this run only. Returns the run dir.
 */
export async function runOneModel(
  root: string,
  runId: string,
  dataset: string,
  options: { accuracy: number; latencyMs?: { median: number; p95: number }; concurrency?: number },
): Promise<string> {
  const latency = options.latencyMs ?? { median: 1, p95: 2 };
  const emulator = await startEmulator({
    models: { m: { accuracy: options.accuracy, latency: { medianMs: latency.median, p95Ms: latency.p95 } } },
    quiet: true,
  });
  try {
    const loaded = parseConfig(
      {
        outputDir: join(root, "results"),
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        datasets: [{ path: dataset, scorers: [{ type: "numeric" }] }],
        models: [{ name: "m", endpoint: emulator.endpointFor("m"), apiKeyEnv: "EMU_KEY", params: { seed: 3 } }],
      },
      { baseDir: root },
    );
    const plan = await planRun(loaded, { env: { EMU_KEY: "k" } });
    return (await runEvaluation({ plan, outputDir: join(root, "results"), runId, log: () => {} })).runDir;
  } finally {
    await emulator.close();
  }
}
