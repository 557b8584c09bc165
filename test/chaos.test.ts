/**
 * The seeded chaos test of issue 10: 1,000 rows × 2 models against an emulator failing 10% of
 * requests in mixed ways, three SIGKILLs at random journal lengths (the last one in the report
 * phase) and a concurrent --resume attempt. The run must end with exactly 2,000 records, all five
 * reports, one index entry, and no more model requests than the in-flight bound allows.
 *
 * Fast by design (2-core CI): zero emulator latency, high concurrency, tiny retry delays.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { open, readFile, stat, writeFile, watch } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startEmulator } from "../src/index.js";
import { BIN, runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const SEED = 20261130;
const ROWS = 1000;
const CONCURRENCY = 32;
const MAX_ATTEMPTS = 3;

/** mulberry32: a small seeded PRNG, so every run of this test kills at the same places. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts journal lines by reading only what was appended since the last look. */
class LineCounter {
  private offset = 0;
  lines = 0;
  constructor(private readonly path: string) {}
  async poll(): Promise<number> {
    let fh;
    try {
      fh = await open(this.path, "r");
    } catch {
      return this.lines;
    }
    try {
      const { size } = await fh.stat();
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset);
        await fh.read(buf, 0, buf.length, this.offset);
        this.offset = size;
        for (const b of buf) if (b === 0x0a) this.lines++;
      }
    } finally {
      await fh.close();
    }
    return this.lines;
  }
}

function start(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, CI: "true", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

describe("chaos", () => {
  it("1,000 rows × 2 models, 10% faults, three SIGKILLs (one in the report phase), a concurrent resume: exactly 2,000 records, five reports, one index entry", async () => {
    const random = prng(SEED);
    const dir = await tempDir();
    const zero = { medianMs: 0, p95Ms: 0, perTokenMs: 0 };
    // 10% of requests fail, mixed: throttling, server errors, dropped connections, broken JSON.
    // Each fault hits a prompt's first attempt only, so retries recover (broken JSON is recorded as an error).
    const faults = [
      { kind: "rate_limit" as const, rate: 0.04, attempts: 1, retryAfter: { ms: 1 } },
      { kind: "server_error" as const, rate: 0.03, attempts: 1 },
      { kind: "reset" as const, rate: 0.02, attempts: 1 },
      { kind: "invalid_json" as const, rate: 0.01, attempts: 1 },
    ];
    const emulator = await startEmulator({
      models: { small: { latency: zero, faults }, large: { latency: zero, faults } },
      quiet: true,
    });
    try {
      const dataset = join(dir, "chaos.jsonl");
      await writeFile(
        dataset,
        Array.from({ length: ROWS }, (_, i) =>
          JSON.stringify({ id: `c${i}`, prompt: `What is ${i} + ${i % 7}?`, expected: String(i + (i % 7)) }),
        ).join("\n") + "\n",
      );
      const results = join(dir, "results");
      const config = join(dir, "eval.config.json");
      await writeFile(
        config,
        JSON.stringify({
          outputDir: results,
          concurrency: CONCURRENCY * 2,
          datasets: [{ path: dataset, scorers: [{ type: "numeric" }] }],
          models: ["small", "large"].map((name) => ({
            name,
            endpoint: emulator.endpointFor(name),
            apiKeyEnv: "CHAOS_KEY",
            concurrency: CONCURRENCY,
            adaptive: false,
          })),
          retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 2 },
        }),
      );
      const env = { CHAOS_KEY: "chaos-key-0123456789" };
      const runDir = join(results, "chaos");
      const journal = new LineCounter(join(runDir, "predictions.jsonl"));
      const base = ["--no-weave", "--progress", "off"];

      // Two kills at seeded journal lengths while calls are in flight.
      const targets = [100 + Math.floor(random() * 700), 1000 + Math.floor(random() * 800)];
      const killedAt: number[] = [];
      const killWhen = async (p: ReturnType<typeof start>, target: number): Promise<void> => {
        let exited = false;
        void p.done.then(() => (exited = true));
        while (!exited && (await journal.poll()) < target) await new Promise((r) => setTimeout(r, 5));
        expect(exited, `the run finished before the journal reached ${target} lines`).toBe(false);
        p.child.kill("SIGKILL");
        const r = await p.done;
        expect(r.signal).toBe("SIGKILL");
        killedAt.push(await journal.poll());
      };

      await killWhen(start(["run", "--config", config, "--run-id", "chaos", ...base], dir, env), targets[0]!);

      // Two resumes at once (a CI retry, a cron overlap): one takes the lock, the other is refused.
      const resume = ["run", "--resume", "chaos", "--out", results, ...base];
      const pair = [start(resume, dir, env), start(resume, dir, env)];
      const loser = await Promise.race(pair.map((p, i) => p.done.then((r) => ({ i, r }))));
      expect(loser.r.code).toBe(2);
      expect(loser.r.stderr).toMatch(/is in use by process \d+ on host .* \(bakeoff resume/);
      await killWhen(pair[1 - loser.i]!, targets[1]!);

      // Third kill: in the report phase, as soon as the first report file appears.
      const third = start(resume, dir, env);
      const watcher = watch(runDir);
      let killedInReports = false;
      const exitedEarly = third.done.then(() => "exited" as const);
      for await (const ev of watcher) {
        if (ev.filename && /^(report\.md|report\.json|predictions\.csv|junit\.xml|report\.html)/.test(ev.filename)) {
          third.child.kill("SIGKILL");
          killedInReports = true;
          break;
        }
      }
      const r3 = await Promise.race([third.done, exitedEarly]);
      expect(killedInReports).toBe(true);
      expect(typeof r3 === "object" && r3.signal).toBe("SIGKILL");
      // Killed before run.json said complete: the journal is whole, the reports are not.
      expect(JSON.parse(await readFile(join(runDir, "run.json"), "utf8")).status).not.toBe("complete");
      killedAt.push(await journal.poll());

      const final = await runCli(resume, { cwd: dir, env });
      expect(final.code).toBe(0);

      const records = (await readFile(join(runDir, "predictions.jsonl"), "utf8"))
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { key: string; output: { attempts: number } });
      expect(records).toHaveLength(ROWS * 2);
      expect(new Set(records.map((r) => r.key)).size).toBe(ROWS * 2);
      const manifest = JSON.parse(await readFile(join(runDir, "run.json"), "utf8"));
      expect(manifest.status).toBe("complete");
      for (const f of ["report.md", "report.json", "predictions.csv", "junit.xml", "report.html"])
        expect((await stat(join(runDir, f))).size).toBeGreaterThan(0);
      const index = (await readFile(join(results, "index.jsonl"), "utf8")).split("\n").filter((l) => l !== "");
      expect(index).toHaveLength(1);
      expect(JSON.parse(index[0]!)).toMatchObject({ runId: "chaos", status: "complete" });
      expect(
        JSON.parse(await readFile(join(runDir, "report.json"), "utf8")).models.map(
          (m: { results: number }) => m.results,
        ),
      ).toEqual([ROWS, ROWS]);

      // Requests the emulator saw beyond the recorded attempts: only calls in flight at the two
      // mid-run kills (at most the concurrency limit each, each up to MAX_ATTEMPTS attempts).
      const byModel = emulator.stats().byModel;
      const completions = (byModel.small?.completions ?? 0) + (byModel.large?.completions ?? 0);
      const recordedAttempts = records.reduce((a, r) => a + r.output.attempts, 0);
      const bound = 2 * CONCURRENCY * 2 * MAX_ATTEMPTS;
      console.log(
        `[chaos figures] seed=${SEED} kills at journal lines ${killedAt.join(", ")}; completions=${completions} recordedAttempts=${recordedAttempts} extra=${completions - recordedAttempts} bound=${bound}`,
      );
      expect(completions).toBeGreaterThanOrEqual(recordedAttempts);
      expect(completions - recordedAttempts).toBeLessThanOrEqual(bound);
    } finally {
      await emulator.close();
    }
  }, 120_000);
});
