/**
 * The fault matrix: a small dataset run through the REAL runner (config → plan → runEvaluation →
 * provider → HTTP) against an emulator that injects one fault into model "flaky" while "steady"
 * answers normally. For every fault: each row × model ends in exactly one recorded outcome (or,
 * for auth, the model is stopped and nothing of it is recorded), retries stay within budget
 * (counted at the emulator), and nothing rejects unhandled. Exit codes are checked through the CLI.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ModelErrorKind } from "../src/errors.js";
import type { FaultSpecInput } from "../src/emulator/index.js";
import {
  parseConfig,
  planRun,
  runEvaluation,
  startEmulator,
  type EmulatorHandle,
  type PredictionRecord,
} from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const ROWS = 6;
const RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 20 };
/**
 * Per-attempt deadline: what ends a stall. Small so stalls resolve fast, but not so small that a
 * loaded CI machine turns a reset or a slow 200 into a timeout (300 ms did, at load 15 on 2 cores).
 */
const TIMEOUT_MS = 1_000;
/** Longer than the deadline: the client gives up first, and the server still lets go later. */
const STALL_MS = 4_000;
const MODEL_CONCURRENCY = 3;
const KEYS = { FLAKY_KEY: "flaky-test-key", STEADY_KEY: "steady-test-key" };

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

let emulator: EmulatorHandle | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  // Any promise the run left rejecting without a handler would surface by now.
  await new Promise((r) => setImmediate(r));
  expect(unhandled).toEqual([]);
});

/** What a fault must end as, for each of flaky's rows. */
type Expected =
  /** Faulted on the first `faulted` attempts, then answered: ok with attempts = faulted + 1. */
  | { end: "recovers"; faulted: number; kind: ModelErrorKind; status?: number; waitMs?: number | "backoff" }
  /** Faulted on every attempt: an error after exactly maxAttempts attempts. */
  | { end: "exhausts"; kind: ModelErrorKind; status?: number }
  /** An outcome, not a failure to retry: recorded after one attempt. */
  | { end: "outcome"; kind?: ModelErrorKind; finishReason: string; status?: number }
  /** The model is stopped at the first confirmed auth failure; its rows are not recorded. */
  | { end: "stopped"; status: number };

interface Case {
  name: string;
  fault: FaultSpecInput;
  expected: Expected;
}

const transient = (
  fault: Omit<FaultSpecInput, "attempts">,
  faulted: number,
  kind: ModelErrorKind,
  extra: { status?: number; waitMs?: number | "backoff" } = {},
): Pick<Case, "fault" | "expected"> => ({
  fault: { ...fault, attempts: faulted },
  expected: { end: "recovers", faulted, kind, ...extra },
});

const CASES: Case[] = [
  // 429s: the wait honours the header up to maxRetryAfterMs (20), else full-jitter backoff.
  {
    name: "429 Retry-After seconds (under the cap)",
    ...transient({ kind: "rate_limit", retryAfter: { format: "seconds", ms: 10 } }, 1, "rate_limit", {
      status: 429,
      waitMs: 10,
    }),
  },
  {
    name: "429 Retry-After seconds (over the cap)",
    ...transient({ kind: "rate_limit", retryAfter: { format: "seconds", ms: 2000 } }, 1, "rate_limit", {
      status: 429,
      waitMs: 20,
    }),
  },
  {
    name: "429 Retry-After HTTP date",
    ...transient({ kind: "rate_limit", retryAfter: { format: "http-date", ms: 3000 } }, 1, "rate_limit", {
      status: 429,
      waitMs: 20,
    }),
  },
  {
    name: "429 retry-after-ms",
    ...transient({ kind: "rate_limit", retryAfter: { format: "ms", ms: 15 } }, 2, "rate_limit", {
      status: 429,
      waitMs: 15,
    }),
  },
  {
    name: "429 x-ms-retry-after-ms",
    ...transient({ kind: "rate_limit", retryAfter: { format: "x-ms-ms", ms: 7 } }, 1, "rate_limit", {
      status: 429,
      waitMs: 7,
    }),
  },
  // No Retry-After: only x-ratelimit-reset-requests (1s), which sets the wait (capped at 20 ms here).
  {
    name: "429 with only x-ratelimit-reset-requests",
    ...transient({ kind: "rate_limit", style: "azure-ai" }, 1, "rate_limit", { status: 429, waitMs: 20 }),
  },
  {
    name: "429 Azure OpenAI body and headers",
    ...transient({ kind: "rate_limit", style: "azure-openai", retryAfter: { format: "ms", ms: 5 } }, 1, "rate_limit", {
      status: 429,
      waitMs: 5,
    }),
  },
  {
    name: "429 GitHub Models body and headers",
    ...transient(
      { kind: "rate_limit", style: "github-models", retryAfter: { format: "seconds", ms: 54_000 } },
      1,
      "rate_limit",
      { status: 429, waitMs: 20 },
    ),
  },
  { name: "500", ...transient({ kind: "server_error" }, 2, "server", { status: 500, waitMs: "backoff" }) },
  { name: "502 with an HTML body", ...transient({ kind: "bad_gateway" }, 1, "server", { status: 502 }) },
  {
    name: "503 with Retry-After",
    ...transient({ kind: "unavailable", retryAfter: { format: "seconds", ms: 10 } }, 1, "server", {
      status: 503,
      waitMs: 10,
    }),
  },
  {
    name: "503 without Retry-After",
    ...transient({ kind: "unavailable" }, 1, "server", { status: 503, waitMs: "backoff" }),
  },
  { name: "408", ...transient({ kind: "request_timeout" }, 1, "server", { status: 408 }) },
  { name: "connection reset", ...transient({ kind: "reset" }, 2, "network") },
  { name: "stall before headers", ...transient({ kind: "stall_headers", stallMs: STALL_MS }, 1, "timeout") },
  { name: "stall mid-body", ...transient({ kind: "stall_body", stallMs: STALL_MS }, 1, "timeout") },
  { name: "body cut before the end (sse_cut, non-stream)", ...transient({ kind: "sse_cut" }, 1, "network") },

  {
    name: "500 on every attempt",
    fault: { kind: "server_error" },
    expected: { end: "exhausts", kind: "server", status: 500 },
  },
  {
    name: "429 on every attempt (capped Retry-After)",
    fault: { kind: "rate_limit", retryAfter: { format: "seconds", ms: 60_000 } },
    expected: { end: "exhausts", kind: "rate_limit", status: 429 },
  },
  { name: "reset on every attempt", fault: { kind: "reset" }, expected: { end: "exhausts", kind: "network" } },
  {
    name: "stall before headers on every attempt",
    fault: { kind: "stall_headers", stallMs: STALL_MS },
    expected: { end: "exhausts", kind: "timeout" },
  },

  // A 200 whose JSON does not parse is a bad_response, which the retry layer deliberately does not
  // retry (test/providers.test.ts pins it): recorded once, even though a retry would be answered.
  {
    name: "invalid JSON served as JSON",
    fault: { kind: "invalid_json", attempts: 1 },
    expected: { end: "outcome", kind: "bad_response", finishReason: "error", status: 200 },
  },
  {
    name: "prompt content filter (400 content_filter)",
    fault: { kind: "prompt_filter" },
    expected: { end: "outcome", kind: "content_filter", finishReason: "content_filter", status: 400 },
  },
  {
    name: "output content filter (200, finish_reason content_filter)",
    fault: { kind: "output_filter" },
    expected: { end: "outcome", finishReason: "content_filter" },
  },

  { name: "401", fault: { kind: "auth" }, expected: { end: "stopped", status: 401 } },
  { name: "403", fault: { kind: "forbidden" }, expected: { end: "stopped", status: 403 } },
];

async function writeDataset(dir: string): Promise<string> {
  const file = join(dir, "sums.jsonl");
  const rows = Array.from({ length: ROWS }, (_, i) =>
    JSON.stringify({ id: `r${i}`, prompt: `What is ${i} + ${2 * i}?`, expected: String(3 * i) }),
  );
  await writeFile(file, rows.join("\n") + "\n");
  return file;
}

/** The run config, pointing both models at the test's emulator over HTTP. */
function configFor(emu: EmulatorHandle, dataset: string, outputDir: string): Record<string, unknown> {
  const model = (name: string, keyEnv: string) => ({
    name,
    endpoint: emu.endpointFor(name),
    apiKeyEnv: keyEnv,
    concurrency: MODEL_CONCURRENCY,
    timeoutMs: TIMEOUT_MS,
  });
  return {
    outputDir,
    concurrency: 2 * MODEL_CONCURRENCY,
    datasets: [{ path: dataset, scorers: [{ type: "numeric" }] }],
    models: [model("flaky", "FLAKY_KEY"), model("steady", "STEADY_KEY")],
    retry: RETRY,
  };
}

async function startSims(fault: FaultSpecInput): Promise<EmulatorHandle> {
  const latency = { medianMs: 1, p95Ms: 1 };
  return startEmulator({ models: { flaky: { latency, faults: [fault] }, steady: { latency } }, quiet: true });
}

async function journal(runDir: string): Promise<PredictionRecord[]> {
  const text = await readFile(join(runDir, "predictions.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as PredictionRecord);
}

describe("fault matrix through the real runner", () => {
  it.each(CASES)("$name", async ({ fault, expected }) => {
    emulator = await startSims(fault);
    const dir = await tempDir();
    const loaded = parseConfig(configFor(emulator, await writeDataset(dir), join(dir, "results")), { baseDir: dir });
    const plan = await planRun(loaded, { env: KEYS });
    const messages: string[] = [];
    const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: (m) => messages.push(m) });
    const records = await journal(result.runDir);
    const stats = emulator.stats();
    const flakyStats = stats.byModel["flaky"]!;
    const faultKind = typeof fault.kind === "string" ? fault.kind : "";

    // Exactly one record per row × model that finished; never a duplicate key.
    expect(new Set(records.map((r) => r.key)).size).toBe(records.length);
    const steady = records.filter((r) => r.model === "steady");
    const flaky = records.filter((r) => r.model === "flaky");
    expect(steady.map((r) => r.rowId).sort()).toEqual(Array.from({ length: ROWS }, (_, i) => `r${i}`));
    for (const r of steady) expect(r.output).toMatchObject({ attempts: 1, finishReason: "stop" });
    expect(stats.byModel["steady"]!.completions).toBe(ROWS); // paid once per row

    if (expected.end === "stopped") {
      expect(result.status).toBe("incomplete");
      expect(result.stoppedModels.map((s) => s.model)).toEqual(["flaky"]);
      expect(flaky).toEqual([]);
      expect(records).toHaveLength(ROWS);
      // No more calls than were already in flight when the first failure was confirmed.
      expect(flakyStats.completions).toBeGreaterThanOrEqual(1);
      expect(flakyStats.completions).toBeLessThanOrEqual(MODEL_CONCURRENCY);
      // (The one other request it may have seen is GET /info, which faults leave alone.)
      expect(flakyStats.statuses[String(expected.status)]).toBe(flakyStats.completions);
      const stops = messages.filter((m) => /model "flaky" stopped/.test(m));
      expect(stops).toHaveLength(1);
      expect(stops[0]).toContain("$FLAKY_KEY");
      expect(messages.join("\n")).not.toMatch(/"steady" stopped/);
      return;
    }

    expect(result.status).toBe("complete");
    expect(result.stoppedModels).toEqual([]);
    expect(records).toHaveLength(2 * ROWS);
    expect(flaky).toHaveLength(ROWS);

    for (const r of flaky) {
      const out = r.output;
      const log = out.attemptLog!;
      expect(log).toHaveLength(out.attempts);
      if (expected.end === "recovers") {
        expect(out.error).toBeUndefined();
        expect(out.finishReason).toBe("stop");
        expect(out.attempts).toBe(expected.faulted + 1);
        expect(log.at(-1)).toEqual({ outcome: "ok", status: 200 });
        for (const a of log.slice(0, -1)) {
          expect(a.outcome).toBe(expected.kind);
          if (expected.status !== undefined) expect(a.status).toBe(expected.status);
          if (typeof expected.waitMs === "number") expect(a.waitMs).toBe(expected.waitMs);
          // Full-jitter backoff stays under its ceiling; no header asked for more.
          if (expected.waitMs === "backoff") expect(a.waitMs).toBeLessThanOrEqual(RETRY.maxDelayMs);
        }
      } else if (expected.end === "exhausts") {
        expect(out.attempts).toBe(RETRY.maxAttempts);
        expect(out.error?.kind).toBe(expected.kind);
        expect(out.finishReason).toBe("error");
        for (const a of log) expect(a.outcome).toBe(expected.kind);
        for (const a of log.slice(0, -1)) expect(a.waitMs).toBeLessThanOrEqual(RETRY.maxRetryAfterMs);
      } else {
        expect(out.attempts).toBe(1);
        expect(out.finishReason).toBe(expected.finishReason);
        if (expected.kind === undefined) expect(out.error).toBeUndefined();
        else
          expect(out.error).toMatchObject({
            kind: expected.kind,
            ...(expected.status ? { status: expected.status } : {}),
          });
      }
    }

    // Retries within budget, counted at the emulator: every request it saw, and every fault.
    const perRow =
      expected.end === "recovers" ? expected.faulted + 1 : expected.end === "exhausts" ? RETRY.maxAttempts : 1;
    expect(flakyStats.completions).toBe(ROWS * perRow);
    expect(stats.faults).toEqual({
      [faultKind]: expected.end === "recovers" ? ROWS * expected.faulted : ROWS * perRow,
    });
    expect(result.recorded).toBe(2 * ROWS);
    expect(result.failed).toBe(flaky.filter((r) => r.output.error !== undefined).length);
  });

  it("covers every fault kind the emulator has", async () => {
    const { FAULT_KINDS } = await import("../src/emulator/fault-spec.js");
    expect(new Set(CASES.map((c) => c.fault.kind))).toEqual(new Set(FAULT_KINDS));
  });
});

describe("exit codes through the CLI", () => {
  async function cliRun(
    fault: FaultSpecInput,
  ): Promise<{ code: number | null; stderr: string; records: PredictionRecord[] }> {
    emulator = await startSims(fault);
    const dir = await tempDir();
    const config = join(dir, "eval.config.json");
    await writeFile(config, JSON.stringify(configFor(emulator, await writeDataset(dir), join(dir, "results"))));
    const res = await runCli(["run", "--config", config, "--no-weave", "--run-id", "faulty"], {
      cwd: dir,
      env: { ...KEYS, WANDB_API_KEY: "" },
    });
    expect(res.stderr).not.toMatch(/internal error|Unhandled/i);
    return { code: res.code, stderr: res.stderr, records: await journal(join(dir, "results", "faulty")) };
  }

  it("exits 3 when a model is stopped by an auth failure, after finishing the other model", async () => {
    const { code, stderr, records } = await cliRun({ kind: "auth" });
    expect(code).toBe(3);
    expect(stderr).toMatch(/model "flaky" stopped after an authentication failure.*\$FLAKY_KEY/);
    expect(records.map((r) => r.model)).toEqual(Array(ROWS).fill("steady"));
  });

  it("exits 0 when every fault was transient", async () => {
    const { code, records } = await cliRun({ kind: "rate_limit", attempts: 1, retryAfter: { format: "ms", ms: 5 } });
    expect(code).toBe(0);
    expect(records).toHaveLength(2 * ROWS);
    expect(
      records.filter((r) => r.model === "flaky").every((r) => r.output.attempts === 2 && r.output.error === undefined),
    ).toBe(true);
  });
});
