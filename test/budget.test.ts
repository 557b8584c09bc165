import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { ModelCallError, parseConfig, planRun, runEvaluation } from "../src/index.js";
import { BudgetPacer, estimateRequestTokens, withBudget } from "../src/providers/budget.js";
import type { AttemptResult, Provider } from "../src/providers/types.js";
import type { CompletionRequest } from "../src/types.js";
import { startServer } from "./helpers/replay-server.js";
import { tempDir } from "./helpers/tmp.js";

/** A clock the test moves by hand. */
function manualClock() {
  const clock = { t: 0, now: () => clock.t };
  return clock;
}

/**
 * Token-bucket conformance: however the sends are spread, any run of them from i to j fits in
 * `capacity + rate · (t_j - t_i)` (plus `slack` for clocks that tick in whole milliseconds).
 */
function expectConforms(
  sends: { at: number; cost: number }[],
  capacity: number,
  ratePerMs: number,
  slack = 1e-9,
): void {
  for (let i = 0; i < sends.length; i++) {
    let used = 0;
    for (let j = i; j < sends.length; j++) {
      used += sends[j]!.cost;
      expect(used).toBeLessThanOrEqual(capacity + ratePerMs * (sends[j]!.at - sends[i]!.at) + slack);
    }
  }
}

describe("BudgetPacer (token buckets, injectable clock)", () => {
  it("rpm: one second's burst at once, then one request per interval, in order", () => {
    const clock = manualClock();
    const pacer = new BudgetPacer({ rpm: 600 }, { now: clock.now });
    const waits = Array.from({ length: 13 }, () => pacer.reserve(0).waitMs);
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits.slice(10).map(Math.round)).toEqual([100, 200, 300]);
    // Idle long enough and the burst is back, but never more than one second's worth.
    clock.t = 60_000;
    const later = Array.from({ length: 11 }, () => pacer.reserve(0).waitMs);
    expect(later.filter((w) => w === 0)).toHaveLength(10);
    expect(Math.round(later[10]!)).toBe(100);
  });

  it("a budget below one request per burst still lets one through at a time", () => {
    const clock = manualClock();
    const pacer = new BudgetPacer({ rpm: 6 }, { now: clock.now });
    expect([pacer.reserve(0).waitMs, pacer.reserve(0).waitMs, pacer.reserve(0).waitMs].map(Math.round)).toEqual([
      0, 10_000, 20_000,
    ]);
  });

  it("sends conform to the budget whatever the arrival pattern", () => {
    const clock = manualClock();
    const pacer = new BudgetPacer({ rpm: 1200, tpm: 60_000 }, { now: clock.now });
    const sends: { at: number; tokens: number }[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 400; i++) {
      clock.t += random() < 0.3 ? random() * 500 : 0;
      const tokens = Math.floor(random() * 900) + 1;
      const r = pacer.reserve(tokens);
      sends.push({ at: clock.t + r.waitMs, tokens });
    }
    sends.sort((a, b) => a.at - b.at);
    expectConforms(
      sends.map((s) => ({ at: s.at, cost: 1 })),
      20,
      1200 / 60_000,
      1e-6,
    );
    expectConforms(
      sends.map((s) => ({ at: s.at, cost: s.tokens })),
      1000,
      60_000 / 60_000,
      1e-6,
    );
  });

  it("tpm: the estimate is charged up front and corrected with real usage", () => {
    const clock = manualClock();
    const pacer = new BudgetPacer({ tpm: 6000 }, { now: clock.now }); // 100 tokens/s, burst 100
    const first = pacer.reserve(80);
    expect(first.waitMs).toBe(0);
    // Another 80 would overdraw the bucket by 60 tokens: 0.6 s at 100 tokens/s.
    const probe = new BudgetPacer({ tpm: 6000 }, { now: clock.now });
    probe.reserve(80);
    expect(Math.round(probe.reserve(80).waitMs)).toBe(600);
    // The first used only 20: the 60 refunded make room for the second at once.
    pacer.settle(first, 20);
    expect(pacer.reserve(80).waitMs).toBe(0);
    // Using more than estimated leaves a debt the next request waits off.
    const third = pacer.reserve(0);
    pacer.settle(third, 100);
    expect(Math.round(pacer.reserve(0).waitMs)).toBe(1000);
  });

  it("a request larger than the burst waits for a full bucket and leaves a debt, never sticks", () => {
    const clock = manualClock();
    const pacer = new BudgetPacer({ tpm: 600 }, { now: clock.now }); // 10 tokens/s, burst 10
    expect(pacer.reserve(50).waitMs).toBe(0);
    expect(Math.round(pacer.reserve(10).waitMs)).toBe(5000);
  });

  it("cancel gives a reservation back", () => {
    const clock = manualClock();
    const pacer = new BudgetPacer({ rpm: 60, tpm: 600 }, { now: clock.now });
    const r = pacer.reserve(10);
    pacer.cancel(r);
    expect(pacer.reserve(10).waitMs).toBe(0);
  });
});

describe("estimateRequestTokens", () => {
  const request = (max_tokens?: number): CompletionRequest => ({
    messages: [
      { role: "system", content: "x".repeat(40) },
      { role: "user", content: "y".repeat(41) },
    ],
    params: max_tokens === undefined ? {} : { max_tokens },
  });
  it("is prompt characters / 4 plus max_tokens, or the default", () => {
    expect(estimateRequestTokens(request(100))).toBe(21 + 100);
    expect(estimateRequestTokens(request())).toBe(21 + 256);
    expect(estimateRequestTokens(request(), 10)).toBe(31);
  });
});

/** A provider that answers at once with the given usage, recording when each attempt started. */
function recordingProvider(clock: { now: () => number }, totalTokens: number) {
  const starts: number[] = [];
  const provider: Provider = {
    modelName: "p",
    info: () => Promise.resolve(null),
    attempt: (): Promise<AttemptResult> => {
      starts.push(clock.now());
      return Promise.resolve({
        text: "ok",
        finishReason: "stop",
        usage: { promptTokens: totalTokens, completionTokens: 0, totalTokens },
        model: "p",
        requestId: null,
      });
    },
  };
  return { provider, starts };
}

describe("withBudget", () => {
  const req: CompletionRequest = { messages: [{ role: "user", content: "hi" }], params: {} };

  it("waits before each attempt until the budget allows it", async () => {
    const clock = manualClock();
    const sleeps: number[] = [];
    const sleep = (ms: number) => {
      sleeps.push(ms);
      clock.t += ms;
      return Promise.resolve();
    };
    const { provider, starts } = recordingProvider(clock, 1);
    const paced = withBudget(provider, { rpm: 120 }, () => 0, { now: clock.now, sleep });
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) await paced.attempt(req, signal);
    // 2 per second, burst 2: two at once, then one every 500 ms.
    expect(starts.map(Math.round)).toEqual([0, 0, 500, 1000, 1500]);
    expect(sleeps.map(Math.round)).toEqual([500, 500, 500]);
  });

  it("charges real usage: attempts are paced by the tokens they used, not by the estimate", async () => {
    const clock = manualClock();
    const sleep = (ms: number) => ((clock.t += ms), Promise.resolve());
    const { provider, starts } = recordingProvider(clock, 10);
    // 100 tokens/s, burst 100; each attempt is estimated at 100 but uses 10. Each needs the
    // bucket back to 100 before it goes, which the 10 it used take 100 ms to refill (charged at
    // the estimate, it would be 1000 ms).
    const paced = withBudget(provider, { tpm: 6000 }, () => 100, { now: clock.now, sleep });
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) await paced.attempt(req, signal);
    expect(starts.map(Math.round)).toEqual([0, 100, 200, 300, 400]);
  });

  it("an abort while waiting ends the attempt as the retry layer expects and returns the reservation", async () => {
    const clock = manualClock();
    const { provider, starts } = recordingProvider(clock, 1);
    const never = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
    const paced = withBudget(provider, { rpm: 60 }, () => 0, { now: clock.now, sleep: never });
    await paced.attempt(req, new AbortController().signal); // uses the burst
    const ac = new AbortController();
    const waiting = paced.attempt(req, ac.signal);
    ac.abort();
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelCallError);
    expect((err as ModelCallError).kind).toBe("aborted");
    expect(starts).toHaveLength(1);
    // The cancelled reservation was given back: one second on, the next goes without waiting.
    clock.t += 1000;
    await paced.attempt(req, new AbortController().signal);
    expect(starts).toHaveLength(2);
  });

  it("a 429 refunds the token estimate", async () => {
    const clock = manualClock();
    let calls = 0;
    const provider: Provider = {
      modelName: "p",
      info: () => Promise.resolve(null),
      attempt: () => {
        calls++;
        return Promise.reject(new ModelCallError("rate_limit", "429", { status: 429 }));
      },
    };
    const waits: number[] = [];
    const sleep = (ms: number) => (waits.push(ms), (clock.t += ms), Promise.resolve());
    const paced = withBudget(provider, { tpm: 6000 }, () => 100, { now: clock.now, sleep });
    for (let i = 0; i < 3; i++) await paced.attempt(req, new AbortController().signal).catch(() => undefined);
    expect(calls).toBe(3);
    expect(waits).toEqual([]);
  });
});

/** A chat completions endpoint that records when each request arrived (server clock). */
async function startRecordingServer(): Promise<{ url: string; arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const server = await startServer((req, res) => {
    if (req.method !== "POST") {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "NotFound", message: "no" } }));
      return;
    }
    arrivals.push(performance.now());
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: "cmpl-1",
        object: "chat.completion",
        model: "paced",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "ok" } }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    );
  });
  return { url: `${server.url}/m`, arrivals, close: () => server.close() };
}

let server: Awaited<ReturnType<typeof startRecordingServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("rpm budget in a run (timestamps taken at the server)", () => {
  it("never sends more than the budget allows in any window", async () => {
    server = await startRecordingServer();
    const dir = await tempDir();
    const file = join(dir, "rows.jsonl");
    const rows = 30;
    await writeFile(
      file,
      Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `r${i}`, prompt: `row ${i}` })).join("\n") + "\n",
    );
    const plan = await planRun(
      parseConfig(
        {
          concurrency: 8,
          datasets: [{ path: file }],
          models: [{ name: "paced", endpoint: server.url, apiKeyEnv: "PACED_KEY", rpm: 600 }],
        },
        { baseDir: dir },
      ),
      { env: { PACED_KEY: "k" } },
    );
    const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
    expect(result.status).toBe("complete");
    expect(result.recorded).toBe(rows);
    expect(server.arrivals).toHaveLength(rows);

    // 600 rpm = 10 per second with a one-second burst of 10. Unpaced, all 30 would arrive within
    // a few ms (30 in one window). Three requests of slack absorb the jitter between client and
    // server on a busy machine (requests paced apart can reach the server together).
    expectConforms(
      server.arrivals.map((at) => ({ at, cost: 1 })),
      10,
      600 / 60_000,
      3,
    );
  });
});
