/**
 * The run-loop workload of issue 14's benches, as a module: the generated dataset (arithmetic
 * prompts), the bakeoff config against the emulator, the floors (bench/bare-loop.mjs), spawning a
 * measured child (CPU and peak RSS from bench/exit-stats.mjs) and the facts a run's journal holds.
 *
 * bench/run.ts times this workload and bench/profile.ts profiles it, both from these definitions,
 * so a profile is of exactly the work the timings measure.
 */
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
export const ROOT = join(BENCH_DIR, "..");
export const BIN = join(ROOT, "bin", "bakeoff.js");
export const EXIT_STATS = join(BENCH_DIR, "exit-stats.mjs");
export const BARE = join(BENCH_DIR, "bare-loop.mjs");
export const SYSTEM = "You are a careful assistant. Solve the problem and end with 'The answer is N.'";
export const PARAMS = { temperature: 0, max_tokens: 64, seed: 7 };
export const KEY_ENV = "BENCH_KEY";
export const KEY = "bench-key-not-secret";
export const ALL_PROVIDERS = ["azure-ai-inference", "openai"] as const;
export type ProviderName = (typeof ALL_PROVIDERS)[number];

/** A bare loop's floor: bench/bare-loop.mjs's `client` and how the tables name it. */
export interface Floor {
  client: "sdk" | "node-http";
  label: string;
}

/**
 * The floors each provider is measured against, the stricter last (bench/run.ts's verdicts use
 * it). openai has two: the "provider's own client" (the `openai` package), and bare
 * node:http with a keep-alive agent, the physical floor: the provider itself sends non-streamed
 * calls over node:http (src/providers/json-post.ts), so against the `openai` client alone it
 * would look faster than its floor.
 */
export const FLOORS: Record<ProviderName, readonly Floor[]> = {
  "azure-ai-inference": [{ client: "sdk", label: "ModelClient" }],
  openai: [
    { client: "sdk", label: "`openai` client" },
    { client: "node-http", label: "node:http" },
  ],
};

/** `provider`'s floors, only the one `client` names when given (`--floor`). */
export function floorsOf(provider: ProviderName, client?: string): readonly Floor[] {
  if (client === undefined) return FLOORS[provider];
  const only = FLOORS[provider].filter((f) => f.client === client);
  if (only.length === 0) throw new Error(`--floor "${client}" is not a floor of ${provider}`);
  return only;
}

/** Each provider's strictest floor: the ModelClient for azure-ai-inference; bare node:http for openai. */
export const strictFloor = (provider: ProviderName): Floor => FLOORS[provider].at(-1)!;

/** `--provider x` checked against the known providers (all of them when absent). */
export function providersFrom(only: string | undefined): readonly ProviderName[] {
  if (only === undefined) return ALL_PROVIDERS;
  const p = ALL_PROVIDERS.find((x) => x === only);
  if (p === undefined) throw new Error(`--provider "${only}": use ${ALL_PROVIDERS.join(" or ")}`);
  return [p];
}

export function datasetLine(i: number): string {
  const a = 2 + (i % 97);
  const b = 3 + ((i * 7) % 89);
  const c = (i * 13) % 101;
  const id = `r${String(i).padStart(7, "0")}`;
  return JSON.stringify({ id, prompt: `What is ${a} * ${b} - ${c}?`, expected: String(a * b - c) }) + "\n";
}

export async function writeDataset(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  let buf = "";
  for (let i = 1; i <= rows; i++) {
    buf += datasetLine(i);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once("drain", () => r()));
      buf = "";
    }
  }
  out.end(buf);
  await new Promise<void>((r, j) => out.once("finish", () => r()).once("error", j));
}

export const modelNames = (m: number) => Array.from({ length: m }, (_, i) => `m${i}`);

export function endpoint(provider: ProviderName, url: string, model: string): string {
  return provider === "openai" ? `${url}/${model}/v1` : `${url}/${model}`;
}

/** bakeoff's config for the workload: one dataset, two scorers, the models at the emulator, Weave off. */
export async function writeConfig(
  dir: string,
  dataset: string,
  provider: ProviderName,
  url: string,
  models: string[],
  concurrency: number,
  tag = "",
): Promise<string> {
  const path = join(dir, `bench-${provider}${tag}.config.json`);
  const config = {
    outputDir: join(dir, "results"),
    concurrency,
    datasets: [{ path: dataset, system: SYSTEM, scorers: [{ type: "numeric" }, { type: "finish_stop" }] }],
    models: models.map((name) => ({
      name,
      provider,
      endpoint: endpoint(provider, url, name),
      // The openai provider sends the model name in the body (required there); the emulator
      // serves the sim named in the path either way.
      ...(provider === "openai" ? { model: name } : {}),
      apiKeyEnv: KEY_ENV,
      params: PARAMS,
    })),
    weave: { enabled: false },
  };
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** bench/bare-loop.mjs's argument for the same rows and models through `floor`. */
export function bareLoopArg(
  provider: ProviderName,
  floor: Floor,
  url: string,
  models: string[],
  dataset: string,
  concurrency: number,
): string {
  return JSON.stringify({
    provider,
    client: floor.client,
    url,
    models,
    dataset,
    concurrency,
    system: SYSTEM,
    params: PARAMS,
    key: KEY,
  });
}

export interface ProcOutcome {
  /** Spawn to exit, ms. */
  wallMs: number;
  /** Epoch ms at spawn. */
  spawnedAt: number;
  /** User + system CPU of the whole process (every thread), µs. */
  cpuUs: number;
  maxRssBytes: number;
  /** RSS samples, `[epochMs, bytes, ...]` (only with BENCH_RSS_SAMPLE_MS in env). */
  rss?: number[];
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --import exit-stats.mjs <nodeArgs> <argv>` in `dir` to its exit (non-zero exit is an
 * error carrying the end of its stderr), with the bench key in its environment.
 */
export async function runMeasured(
  argv: string[],
  dir: string,
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ProcOutcome> {
  const statsFile = join(dir, `stats-${process.hrtime.bigint()}.json`);
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", EXIT_STATS, ...nodeArgs, ...argv], {
    cwd: dir,
    env: { ...process.env, ...env, BENCH_STATS_FILE: statsFile, [KEY_ENV]: KEY, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-20_000)));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const wallMs = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${stderr.slice(-3000)}`);
  const stats = JSON.parse(await readFile(statsFile, "utf8")) as {
    userUs: number;
    systemUs: number;
    maxRssKb: number;
    rss?: number[];
  };
  return {
    wallMs,
    spawnedAt,
    cpuUs: stats.userUs + stats.systemUs,
    maxRssBytes: stats.maxRssKb * 1024,
    ...(stats.rss ? { rss: stats.rss } : {}),
    stdout,
    stderr,
  };
}

/** What a run recorded: its first call's start, its last result's end (epoch ms), latencies, failures. */
export async function journalFacts(
  runDir: string,
): Promise<{ results: number; firstStart: number; lastEnd: number; p50Ms: number; errors: number }> {
  let firstStart = Infinity;
  let lastEnd = 0;
  let errors = 0;
  const lat: number[] = [];
  // Line by line: a million-record journal (~900 MB) is longer than V8's largest string.
  const lines = createInterface({ input: createReadStream(join(runDir, "predictions.jsonl")), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === "") continue;
    const r = JSON.parse(line) as {
      startedAt: string;
      endedAt: string;
      output: { latencyMs: number; error?: unknown };
    };
    firstStart = Math.min(firstStart, Date.parse(r.startedAt));
    lastEnd = Math.max(lastEnd, Date.parse(r.endedAt));
    lat.push(r.output.latencyMs);
    if (r.output.error) errors++;
  }
  lat.sort((a, b) => a - b);
  return { results: lat.length, firstStart, lastEnd, p50Ms: lat[Math.floor(lat.length / 2)] ?? NaN, errors };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "bakeoff-bench-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** "2 CPUs (AMD EPYC …), 24 GB RAM": the machine line every section prints. */
export function machineLine(): string {
  return `${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? "unknown"}), ${Math.round(totalmem() / 1024 ** 3)} GB RAM`;
}
