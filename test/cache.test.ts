/**
 * The response cache (record and replay) against a real emulator on 127.0.0.1 and the real
 * azure-ai-inference provider. Requests are counted at the emulator, never inferred.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ExitCode, UsageError } from "../src/errors.js";
import { startEmulator, type EmulatorHandle } from "../src/index.js";
import { createProvider } from "../src/providers/index.js";
import { callWithRetry, type RetryOptions } from "../src/providers/retry.js";
import type { Provider } from "../src/providers/types.js";
import {
  cacheKey,
  defaultCacheDir,
  infoCacheKey,
  ReplayMissError,
  ResponseCache,
  withCache,
  type CacheIdentity,
  type CacheMode,
} from "../src/run/cache.js";
import type { CompletionRequest } from "../src/types.js";
import { tempDir } from "./helpers/tmp.js";

const SECRET = "sk-test-SECRET-123";
const FAST = { medianMs: 0, p95Ms: 0 };

let emulator: EmulatorHandle;
beforeAll(async () => {
  emulator = await startEmulator({
    quiet: true,
    models: {
      small: { accuracy: 1, latency: FAST },
      locked: { accuracy: 1, latency: FAST, apiKey: SECRET },
    },
  });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.resetStats());

/** What the run configured: the emulator:// form, never the loopback port. */
const SMALL: CacheIdentity = { provider: "azure-ai-inference", endpoint: "emulator://small" };
const LOCKED: CacheIdentity = { provider: "azure-ai-inference", endpoint: "emulator://locked" };

const RETRY: RetryOptions = {
  retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
  timeoutMs: 30_000,
};

function ask(i: number, params: CompletionRequest["params"] = { temperature: 0 }): CompletionRequest {
  return { messages: [{ role: "user", content: `What is ${i} + ${i}?` }], params };
}

function azure(sim: string, key = "emulator-key"): Provider {
  return createProvider({ name: sim, provider: "azure-ai-inference", endpoint: emulator.endpointFor(sim) }, key);
}

async function cached(dir: string, mode: CacheMode, sim = "small", identity = SMALL, key?: string) {
  const cache = await ResponseCache.open(dir, mode === "replay" ? "readonly" : "readwrite");
  return { cache, provider: withCache(azure(sim, key), cache, identity, mode) };
}

/** Chat completion requests the emulator has served for `sim` since the last reset. */
const completions = (sim = "small") => emulator.stats().byModel[sim]?.completions ?? 0;

/** Every file under `dir` (full paths), temp files included, so a leftover would show. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("expected a rejection"),
    (e: unknown) => e,
  );
}

describe("cacheKey", () => {
  const base = { ...SMALL, body: ask(1), trial: 0 };

  it("is a sha256 hex digest that ignores key order", () => {
    const key = cacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const reordered = {
      trial: 0,
      body: { params: { temperature: 0 }, messages: ask(1).messages },
      endpoint: SMALL.endpoint,
      provider: SMALL.provider,
    };
    expect(cacheKey(reordered)).toBe(key);
  });

  it("changes with the body, params, trial, endpoint, deployment, api version and provider", () => {
    const key = cacheKey(base);
    const variants = [
      { ...base, body: ask(2) },
      { ...base, body: ask(1, { temperature: 0.5 }) },
      { ...base, trial: 1 },
      { ...base, endpoint: "emulator://large" },
      { ...base, deployment: "gpt-4o" },
      { ...base, apiVersion: "2024-10-21" },
      { ...base, apiVersion: "" },
      { ...base, provider: "openai" },
    ];
    const keys = variants.map(cacheKey);
    expect(new Set([key, ...keys]).size).toBe(variants.length + 1);
    expect(infoCacheKey(SMALL)).not.toBe(key);
  });
});

describe("ResponseCache on disk", () => {
  it("defaults to <outputDir>/.cache", () => {
    expect(defaultCacheDir("results")).toBe(join("results", ".cache"));
  });

  it("refuses to replay from a directory that does not exist", async () => {
    const dir = join(await tempDir(), "nope");
    const err = await rejection(ResponseCache.open(dir, "readonly"));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain(dir);
  });

  it("stores one sharded file per entry and treats a hand-broken entry as a miss", async () => {
    const dir = await tempDir();
    const cache = await ResponseCache.open(dir, "readwrite");
    const key = cacheKey({ ...SMALL, body: ask(1), trial: 0 });
    await cache.put(
      key,
      { text: "2", finishReason: "stop", usage: null, model: "m", requestId: "r" },
      { model: "small", createdAt: "2026-01-01T00:00:00.000Z" },
    );
    const path = join(dir, "v1", key.slice(0, 2), `${key}.json`);
    expect(await files(dir)).toEqual([path]);
    expect(await cache.get(key)).toEqual({ text: "2", finishReason: "stop", usage: null, model: "m", requestId: "r" });

    await writeFile(path, "{not json", "utf8");
    expect(await cache.get(key)).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, writes: 1 });
  });

  it("rejects keys that are not sha256 digests (they name files)", async () => {
    const cache = await ResponseCache.open(await tempDir(), "readwrite");
    await expect(cache.get("../../etc/passwd")).rejects.toThrow(/invalid key/);
  });
});

describe("withCache: record, reuse, replay", () => {
  const N = 5;

  it("records N answers, then serves them all without a request, then replays with zero HTTP requests", async () => {
    const dir = await tempDir();

    // Pass 1 (cache mode, empty cache): every request reaches the emulator and is stored.
    const first = await cached(dir, "cache");
    const recorded = await Promise.all(
      Array.from({ length: N }, (_, i) => callWithRetry(first.provider, ask(i), RETRY)),
    );
    expect(completions()).toBe(N);
    expect(first.cache.stats()).toEqual({ hits: 0, misses: N, writes: N });
    expect(await files(join(dir, "v1"))).toHaveLength(N);
    expect(recorded.every((c) => c.error === undefined && c.text !== null)).toBe(true);

    // Pass 2 (cache mode, new process-like state): all hits, no new requests.
    emulator.resetStats();
    const second = await cached(dir, "cache");
    const reused = await Promise.all(
      Array.from({ length: N }, (_, i) => second.provider.attempt(ask(i), new AbortController().signal)),
    );
    expect(completions()).toBe(0);
    expect(second.cache.stats()).toEqual({ hits: N, misses: 0, writes: 0 });
    reused.forEach((r, i) => {
      const original = recorded[i]!;
      expect(r).toEqual({
        text: original.text,
        finishReason: original.finishReason,
        usage: original.usage,
        model: original.model,
        requestId: original.requestId,
        systemFingerprint: original.systemFingerprint,
        cached: true,
        // The latency recorded with the answer (what a replayed report must show).
        latencyMs: original.latencyMs,
      });
      expect(original.latencyMs).toEqual(expect.any(Number));
    });

    // Replay: the same answers, and not one HTTP request, /info included.
    emulator.resetStats();
    const replay = await cached(dir, "replay");
    expect(await replay.provider.info(new AbortController().signal)).toBeNull(); // pass 1 never asked /info
    const replayed = await Promise.all(
      Array.from({ length: N }, (_, i) => callWithRetry(replay.provider, ask(i), RETRY)),
    );
    expect(emulator.stats().requests).toBe(0);
    expect(replayed.map((c) => c.text)).toEqual(recorded.map((c) => c.text));
    expect(replay.cache.stats()).toEqual({ hits: N, misses: 0, writes: 0 });
  });

  it("records /info in cache mode and answers it from the cache in replay mode", async () => {
    const dir = await tempDir();
    const live = await (await cached(dir, "cache")).provider.info(new AbortController().signal);
    expect(live?.modelName).toBeTruthy();
    expect(emulator.stats().requests).toBe(1);

    emulator.resetStats();
    const replayed = await (await cached(dir, "replay")).provider.info(new AbortController().signal);
    expect(replayed).toEqual(live);
    expect(emulator.stats().requests).toBe(0);
  });

  it("misses on a changed body, trial or endpoint (each is a new request in cache mode)", async () => {
    const dir = await tempDir();
    const { provider, cache } = await cached(dir, "cache");
    await callWithRetry(provider, ask(1), RETRY);
    expect(completions()).toBe(1);

    await callWithRetry(provider, ask(1, { temperature: 0.7 }), RETRY); // params changed
    await callWithRetry(provider, ask(1), { ...RETRY, trial: 1 }); // trial changed
    const elsewhere = withCache(azure("small"), cache, { ...SMALL, endpoint: "emulator://small-v2" }, "cache");
    await callWithRetry(elsewhere, ask(1), RETRY); // configured endpoint changed
    expect(completions()).toBe(4);

    // ...and each of those is now a hit.
    emulator.resetStats();
    await callWithRetry(provider, ask(1, { temperature: 0.7 }), RETRY);
    await callWithRetry(provider, ask(1), { ...RETRY, trial: 1 });
    await callWithRetry(provider, ask(1), { ...RETRY, trial: 0 });
    expect(completions()).toBe(0);
    expect(cache.stats()).toEqual({ hits: 3, misses: 4, writes: 4 });
  });

  it("fails a replay miss closed: ReplayMissError (exit 2) out of the retry layer, one lookup, no request", async () => {
    const dir = await tempDir();
    await callWithRetry((await cached(dir, "cache")).provider, ask(1), RETRY);
    emulator.resetStats();

    const { provider, cache } = await cached(dir, "replay");
    const err = await rejection(callWithRetry(provider, ask(1), { ...RETRY, trial: 2 }));
    expect(err).toBeInstanceOf(ReplayMissError);
    const miss = err as ReplayMissError;
    expect(miss.exitCode).toBe(ExitCode.usage);
    expect(miss).toMatchObject({ model: "small", trial: 2, misses: 1 });
    expect(miss.message).toContain('model "small"');
    // Not retried: exactly one lookup for three allowed attempts.
    expect(cache.stats()).toEqual({ hits: 0, misses: 1, writes: 0 });
    expect(emulator.stats().requests).toBe(0);

    const located = miss.withContext({ row: "arithmetic/a07 (line 7)", misses: 3 });
    expect(located.message).toContain("for arithmetic/a07 (line 7)");
    expect(located.message).toContain("3 requests missed the cache");
  });

  it("never stores errors: a 401 is not cached and stays a miss", async () => {
    const dir = await tempDir();
    const { provider, cache } = await cached(dir, "cache", "locked", LOCKED, "sk-wrong-key-000");
    const completion = await callWithRetry(provider, ask(1), RETRY);
    expect(completion.error?.kind).toBe("auth");
    expect(emulator.stats().byModel.locked?.statuses).toEqual({ "401": 1 });
    expect(cache.stats().writes).toBe(0);
    expect(await files(dir)).toEqual([]);

    const replay = await cached(dir, "replay", "locked", LOCKED, "sk-wrong-key-000");
    await expect(replay.provider.attempt(ask(1), new AbortController().signal)).rejects.toBeInstanceOf(ReplayMissError);
  });

  it("never writes the API key into the cache", async () => {
    const dir = await tempDir();
    const { provider } = await cached(dir, "cache", "locked", LOCKED, SECRET);
    await provider.info(new AbortController().signal);
    const results = await Promise.all([1, 2, 3].map((i) => callWithRetry(provider, ask(i), RETRY)));
    expect(results.every((r) => r.error === undefined)).toBe(true);

    const written = await files(dir);
    expect(written).toHaveLength(4); // three answers and /info
    for (const file of written) {
      expect(file).not.toContain(SECRET);
      expect(await readFile(file, "utf8")).not.toContain(SECRET);
    }
  });

  it("stays readable after 50 parallel calls, and after 50 parallel puts of one key", async () => {
    const dir = await tempDir();
    const { provider, cache } = await cached(dir, "cache");
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => callWithRetry(provider, ask(i), RETRY)));
    expect(completions()).toBe(50);
    expect(cache.stats().writes).toBe(50);

    const key = cacheKey({ ...SMALL, body: ask(1000), trial: 0 });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        cache.put(
          key,
          { text: `answer ${i}`, finishReason: "stop", usage: null, model: "m", requestId: String(i) },
          { model: "small", createdAt: "2026-01-01T00:00:00.000Z" },
        ),
      ),
    );

    // 51 entries, no temp files left, every one parses; the contended key holds one whole write.
    const all = await files(dir);
    expect(all).toHaveLength(51);
    expect(all.every((f) => f.endsWith(".json") && !f.includes(".tmp"))).toBe(true);
    for (const f of all) JSON.parse(await readFile(f, "utf8"));

    emulator.resetStats();
    const replay = await cached(dir, "replay");
    const replayed = await Promise.all(
      Array.from({ length: 50 }, (_, i) => callWithRetry(replay.provider, ask(i), RETRY)),
    );
    expect(replayed.map((c) => c.text)).toEqual(answers.map((c) => c.text));
    expect(emulator.stats().requests).toBe(0);
    const contended = await replay.cache.get(key);
    expect(contended?.text).toBe(`answer ${contended?.requestId}`);
  });
});
