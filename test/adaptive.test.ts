import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, planRun, readJournal, runEvaluation, PREDICTIONS_FILE, type ConfigInput } from "../src/index.js";
import { AdaptiveConcurrency, type LimitChange } from "../src/run/adaptive.js";
import { startServer } from "./helpers/replay-server.js";
import { tempDir } from "./helpers/tmp.js";

function controller(initial: number, extra: { min?: number; max?: number } = {}) {
  const changes: LimitChange[] = [];
  const c = new AdaptiveConcurrency({ initial, ...extra, onChange: (_n, change) => changes.push(change) });
  const feed = (outcome: string, times = 1) => {
    for (let i = 0; i < times; i++) c.observe(outcome);
  };
  return { c, changes, feed };
}

describe("AdaptiveConcurrency (AIMD)", () => {
  it("halves on a 429, at most once per window of completed attempts", () => {
    const { c, changes, feed } = controller(8);
    // The 8 calls in flight all come back 429: one decrease, not three.
    feed("rate_limit", 8);
    expect(c.limit).toBe(4);
    expect(changes).toEqual([{ from: 8, to: 4, direction: "down" }]);
    // The window is the 8 attempts allowed before the decrease; the ninth 429 is news.
    feed("rate_limit");
    expect(c.limit).toBe(2);
    feed("rate_limit", 3);
    expect(c.limit).toBe(2);
    feed("rate_limit");
    expect(c.limit).toBe(1);
    feed("rate_limit", 20);
    expect(c.limit).toBe(1);
    expect(changes.map((x) => x.to)).toEqual([4, 2, 1]);
    expect(c.history()).toEqual({ min: 1, decreases: 3, increases: 0 });
  });

  it("raises by one after `limit` consecutive successes, never above max", () => {
    const { c, changes, feed } = controller(8);
    feed("rate_limit");
    feed("ok", 3);
    expect(c.limit).toBe(4);
    feed("ok");
    expect(c.limit).toBe(5);
    feed("ok", 4);
    expect(c.limit).toBe(5);
    feed("ok");
    expect(c.limit).toBe(6);
    feed("ok", 6 + 7);
    expect(c.limit).toBe(8);
    feed("ok", 100);
    expect(c.limit).toBe(8);
    expect(changes.filter((x) => x.direction === "up").map((x) => x.to)).toEqual([5, 6, 7, 8]);
    expect(c.history()).toEqual({ min: 4, decreases: 1, increases: 4 });
  });

  it("a 429 restarts the run of successes; other errors neither raise nor lower the limit", () => {
    const { c, feed } = controller(8);
    feed("rate_limit");
    feed("ok", 3);
    feed("rate_limit"); // inside the window: no decrease, but the streak is gone
    feed("ok", 3);
    expect(c.limit).toBe(4);
    feed("server", 10);
    feed("timeout", 10);
    expect(c.limit).toBe(4);
    feed("ok");
    expect(c.limit).toBe(5);
  });

  it("other outcomes count towards the decrease window", () => {
    const { c, feed } = controller(8);
    feed("rate_limit");
    feed("server", 8);
    feed("rate_limit");
    expect(c.limit).toBe(2);
  });

  it("respects min and max", () => {
    const floor = controller(8, { min: 3 });
    floor.feed("rate_limit");
    floor.feed("ok", 8);
    floor.feed("rate_limit");
    floor.feed("ok", 2);
    floor.feed("rate_limit", 20);
    expect(floor.c.limit).toBe(3);
    expect(floor.c.history().min).toBe(3);

    const above = controller(2, { max: 4 });
    above.feed("ok", 2 + 3 + 4 + 5);
    expect(above.c.limit).toBe(4);

    const single = controller(1);
    single.feed("rate_limit", 5);
    expect(single.c.limit).toBe(1);
    expect(single.changes).toEqual([]);
    expect(single.c.history()).toEqual({ min: 1, decreases: 0, increases: 0 });
  });
});

/** One request as the storm server saw it arrive. */
interface Arrival {
  /** Requests being handled at that moment, this one included. */
  inFlight: number;
  status: number;
}

interface StormServer {
  url: string;
  arrivals: Arrival[];
  close(): Promise<void>;
}

/**
 * Where the server checks that the client fills its slots: the first `width` successful answers
 * from arrival `from` on are held until `width` requests are in flight at once.
 */
interface FillCheck {
  from: number;
  width: number;
}

/**
 * How long a fill check waits for a client that does not fill its slots before answering anyway:
 * only so that such a client fails the test on its in-flight count instead of hanging it.
 */
const FILL_GIVE_UP_MS = 5_000;

/**
 * A chat completions endpoint that answers 429 to the requests `limited(i)` picks by arrival
 * index and a completion after `latencyMs` to the rest, counting requests in flight.
 *
 * Whether the client uses all its slots is decided by the client, not by how fast a loaded
 * machine sends its requests: during each of `fills`, successful answers are held until as many
 * requests as the check's width are in flight (with a plain latency, a client that sent its eighth
 * request more than `latencyMs` after its first, as happened at load ~5 on 2 cores, showed 7 in
 * flight).
 */
async function startStormServer(
  limited: (index: number) => boolean,
  latencyMs: number,
  fills: readonly FillCheck[] = [],
): Promise<StormServer> {
  const arrivals: Arrival[] = [];
  let inFlight = 0;
  const checks = fills.map((f) => ({
    ...f,
    taken: 0,
    held: [] as (() => void)[],
    giveUp: undefined as NodeJS.Timeout | undefined,
  }));
  // Filled or given up, a check is over: later answers take the plain latency.
  const release = (check: (typeof checks)[number]) => {
    clearTimeout(check.giveUp);
    check.taken = check.width;
    for (const answer of check.held.splice(0)) answer();
  };
  const server = await startServer((req, res) => {
    if (req.method !== "POST" || !req.path.includes("/chat/completions")) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "NotFound", message: "no" } }));
      return;
    }
    const index = arrivals.length;
    const status = limited(index) ? 429 : 200;
    inFlight++;
    arrivals.push({ inFlight, status });
    res.on("close", () => inFlight--);
    if (status === 429) {
      res.writeHead(429, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "429", message: "Rate limit is exceeded." } }));
      return;
    }
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(completion()));
    };
    const check = checks.find((c) => index >= c.from && c.taken < c.width);
    if (check === undefined) {
      setTimeout(answer, latencyMs);
      return;
    }
    check.taken++;
    check.held.push(answer);
    if (inFlight >= check.width) release(check);
    else check.giveUp ??= setTimeout(() => release(check), FILL_GIVE_UP_MS);
  });
  return {
    url: `${server.url}/m`,
    arrivals,
    close: () => {
      for (const c of checks) release(c);
      return server.close();
    },
  };
}

function completion() {
  return {
    id: "cmpl-1",
    object: "chat.completion",
    model: "storm",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "ok" } }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

let server: StormServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function stormRun(rows: number, model: Partial<NonNullable<ConfigInput["models"]>[number]>) {
  const dir = await tempDir();
  const file = join(dir, "rows.jsonl");
  await writeFile(
    file,
    Array.from({ length: rows }, (_, i) => JSON.stringify({ id: `r${i}`, prompt: `row ${i}` })).join("\n") + "\n",
  );
  const config: ConfigInput = {
    concurrency: 8,
    datasets: [{ path: file }],
    models: [{ name: "storm", endpoint: server!.url, apiKeyEnv: "STORM_KEY", ...model }],
    // Fast retries, and enough of them that no row fails because of the storm.
    retry: { maxAttempts: 20, baseDelayMs: 1, maxDelayMs: 5 },
  };
  const plan = await planRun(parseConfig(config, { baseDir: dir }), { env: { STORM_KEY: "k" } });
  const logs: string[] = [];
  const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: (m) => logs.push(m) });
  const keys: string[] = [];
  for await (const rec of readJournal(join(result.runDir, PREDICTIONS_FILE))) keys.push(rec.key);
  return { result, logs, keys };
}

const maxInFlight = (arrivals: Arrival[]) => Math.max(...arrivals.map((a) => a.inFlight));

describe("adaptive concurrency in a run (counted at a 429-storm server)", () => {
  // Arrivals 30..129 are the storm: every other one is refused with a 429.
  const STORM_START = 30;
  const STORM_END = 130;
  const storm = (i: number) => i >= STORM_START && i < STORM_END && i % 2 === 0;

  it("backs off during a 429 storm, records every row once, and climbs back", async () => {
    const rows = 240;
    const storm429s = (STORM_END - STORM_START) / 2;
    // Every 429 costs one more attempt and no row fails: the arrivals are known in advance. The
    // last 60 come long after the storm (100 successes after it; climbing back from 1 to 8 takes 28).
    const tail = rows + storm429s - 60;
    server = await startStormServer(storm, 40, [
      { from: 0, width: 8 },
      { from: tail, width: 8 },
    ]);
    const { result, logs, keys } = await stormRun(rows, { concurrency: 8 });

    expect(result.status).toBe("complete");
    expect(result.recorded).toBe(rows);
    expect(result.failed).toBe(0);
    expect(keys).toHaveLength(rows);
    expect(new Set(keys).size).toBe(rows);

    const arrivals = server.arrivals;
    expect(arrivals.filter((a) => a.status === 429)).toHaveLength(storm429s);
    expect(arrivals).toHaveLength(rows + storm429s);
    // Before the storm the configured limit is used fully; late in the storm far less is in flight.
    expect(maxInFlight(arrivals.slice(0, STORM_START))).toBe(8);
    const lateStorm = maxInFlight(arrivals.slice((STORM_START + STORM_END) / 2, STORM_END));
    expect(lateStorm).toBeLessThan(8);
    // After it, successes raise the limit again: the tail fills all 8 slots again.
    expect(maxInFlight(arrivals.slice(tail))).toBe(8);

    const mm = result.manifest.models[0]!;
    expect(mm.finalConcurrency).toBe(8);
    const history = mm.concurrencyHistory!;
    expect(history.decreases).toBeGreaterThanOrEqual(2);
    expect(history.min).toBeLessThanOrEqual(2);
    expect(history.increases).toBeGreaterThanOrEqual(8 - history.min);

    // One line per new low (8 → 4 → 2 → 1 at most), then where the model settled.
    const throttled = logs.filter((l) => l.includes("is being rate limited"));
    expect(throttled[0]).toBe('bakeoff: model "storm" is being rate limited; concurrency 8 → 4');
    expect(throttled.length).toBeLessThanOrEqual(3);
    expect(logs.filter((l) => l.includes('model "storm" settled at concurrency 8'))).toHaveLength(1);
  });

  it("with adaptive: false the limit stays where it was configured", async () => {
    // Deep in the storm, the next 4 successful answers wait until 4 requests are in flight.
    server = await startStormServer(storm, 10, [{ from: STORM_START + 20, width: 4 }]);
    const { result, logs } = await stormRun(120, { concurrency: 4, adaptive: false });

    expect(result.status).toBe("complete");
    expect(result.recorded).toBe(120);
    const mm = result.manifest.models[0]!;
    expect(mm.finalConcurrency).toBe(4);
    expect(mm.concurrencyHistory).toBeUndefined();
    expect(logs.filter((l) => l.includes("rate limited"))).toEqual([]);
    expect(maxInFlight(server.arrivals.slice(STORM_START))).toBe(4);
  });
});
