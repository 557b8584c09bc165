/**
 * Every fault the emulator injects, observed on the wire with plain fetch against a real server on
 * 127.0.0.1: status, headers, body shape, and how the connection behaves (reset, stalls, cuts).
 * The runner's side of the same faults is test/faults.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import {
  FaultSpec,
  startEmulator,
  type EmulatorHandle,
  type FaultSpecInput,
  type SimModelSpecInput,
} from "../src/emulator/index.js";
import { FaultPlanner, retryAfterHeaders } from "../src/emulator/faults.js";
import { SimModelSpec } from "../src/emulator/spec.js";

const instant = { medianMs: 0, p95Ms: 0 };
/** Long enough that a stalled response is still stalled when the test aborts it. */
const STALL_MS = 5_000;

/** One sim per fault, named after it, faulting every request. */
const FAULTS: Record<string, FaultSpecInput> = {
  rl_seconds: { kind: "rate_limit", retryAfter: { format: "seconds", ms: 2500 } },
  rl_date: { kind: "rate_limit", retryAfter: { format: "http-date", ms: 3000 } },
  rl_ms: { kind: "rate_limit", retryAfter: { format: "ms", ms: 15 } },
  rl_xms: { kind: "rate_limit", retryAfter: { format: "x-ms-ms", ms: 7 } },
  rl_none: { kind: "rate_limit", style: "azure-ai" },
  rl_github: { kind: "rate_limit", style: "github-models", retryAfter: { format: "seconds", ms: 54_000 } },
  server_error: { kind: "server_error" },
  bad_gateway: { kind: "bad_gateway" },
  unavailable_ra: { kind: "unavailable", retryAfter: { format: "seconds", ms: 1000 } },
  unavailable: { kind: "unavailable" },
  request_timeout: { kind: "request_timeout" },
  reset: { kind: "reset" },
  stall_headers: { kind: "stall_headers", stallMs: STALL_MS },
  stall_body: { kind: "stall_body", stallMs: STALL_MS },
  invalid_json: { kind: "invalid_json" },
  sse_cut: { kind: "sse_cut" },
  prompt_filter: { kind: "prompt_filter" },
  output_filter: { kind: "output_filter" },
  auth: { kind: "auth" },
  forbidden: { kind: "forbidden" },
};

const sims: Record<string, SimModelSpecInput> = {
  ...Object.fromEntries(Object.entries(FAULTS).map(([name, fault]) => [name, { latency: instant, faults: [fault] }])),
  twice: { latency: instant, faults: [{ kind: "server_error", attempts: 2 }] },
  half: { latency: instant, faults: [{ kind: "server_error", rate: 0.5 }] },
  none: { latency: instant, faults: [{ kind: "server_error", rate: 0 }] },
};

let emu: EmulatorHandle;
beforeAll(async () => {
  emu = await startEmulator({ models: sims, quiet: true });
});
afterAll(async () => {
  await emu.close();
});

function post(
  sim: string,
  prompt = "What is 1 + 1?",
  extra: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${emu.endpointFor(sim)}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: prompt }], ...extra }),
    ...(signal ? { signal } : {}),
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON under test
async function json(res: Response): Promise<any> {
  return JSON.parse(await res.text());
}

describe("429 variants", () => {
  it("Retry-After in seconds, with the Azure OpenAI body and x-ratelimit-remaining-* headers", async () => {
    const res = await post("rl_seconds");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2.5");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(res.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
    const body = await json(res);
    expect(body.error.code).toBe("429");
    expect(body.error.message).toMatch(
      /^Requests to the ChatCompletions_Create Operation under Azure OpenAI API version .* have exceeded token rate limit .* Please retry after 3 seconds\./,
    );
  });

  it("Retry-After as an HTTP date in the future", async () => {
    const res = await post("rl_date");
    expect(res.status).toBe(429);
    const header = res.headers.get("retry-after")!;
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Date.parse(header)).toBeGreaterThan(Date.now());
  });

  it("retry-after-ms and x-ms-retry-after-ms", async () => {
    const ms = await post("rl_ms");
    expect(ms.status).toBe(429);
    expect(ms.headers.get("retry-after-ms")).toBe("15");
    expect(ms.headers.get("retry-after")).toBeNull();
    await ms.arrayBuffer();
    const xms = await post("rl_xms");
    expect(xms.headers.get("x-ms-retry-after-ms")).toBe("7");
    expect(xms.headers.get("retry-after")).toBeNull();
    await xms.arrayBuffer();
  });

  it("no wait header at all (serverless body)", async () => {
    const res = await post("rl_none");
    expect(res.status).toBe(429);
    for (const h of ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"]) expect(res.headers.get(h)).toBeNull();
    expect(res.headers.get("x-ratelimit-reset-requests")).toBe("1s");
    expect(await json(res)).toEqual({
      error: { code: "429", message: "Rate limit is exceeded. Try again in 1 seconds." },
    });
  });

  it("the GitHub Models body and headers", async () => {
    const res = await post("rl_github");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("54");
    expect(res.headers.get("x-ratelimit-type")).toBe("UserByModelByMinute");
    expect(res.headers.get("x-ratelimit-timeremaining")).toBe("54");
    const body = await json(res);
    expect(body.error.code).toBe("RateLimitReached");
    expect(body.error.message).toBe(
      "Rate limit of 15 per 60s exceeded for UserByModelByMinute. Please wait 54 seconds before retrying.",
    );
    expect(body.error.details).toBe(body.error.message);
  });

  it("renders each header variant from the configured wait", () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(retryAfterHeaders({ format: "seconds", ms: 10 })).toEqual({ "retry-after": "0.01" });
    expect(retryAfterHeaders({ format: "http-date", ms: 3000 }, now)).toEqual({
      "retry-after": "Fri, 02 Jan 2026 03:04:08 GMT",
    });
    expect(retryAfterHeaders({ format: "ms", ms: 5 })).toEqual({ "retry-after-ms": "5" });
    expect(retryAfterHeaders({ format: "x-ms-ms", ms: 5 })).toEqual({ "x-ms-retry-after-ms": "5" });
    expect(retryAfterHeaders({ format: "none", ms: 5 })).toEqual({});
    expect(retryAfterHeaders(undefined)).toEqual({});
  });
});

describe("5xx and 408", () => {
  it("500 with a JSON error body", async () => {
    const res = await post("server_error");
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect((await json(res)).error.code).toBe("InternalServerError");
  });

  it("502 with an HTML page from the proxy", async () => {
    const res = await post("bad_gateway");
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("text/html");
    expect(await res.text()).toMatch(/<h1>502 Bad Gateway<\/h1>/);
  });

  it("503 with and without Retry-After", async () => {
    const withHeader = await post("unavailable_ra");
    expect(withHeader.status).toBe(503);
    expect(withHeader.headers.get("retry-after")).toBe("1");
    expect((await json(withHeader)).error.code).toBe("ServiceUnavailable");
    const without = await post("unavailable");
    expect(without.status).toBe(503);
    expect(without.headers.get("retry-after")).toBeNull();
    await without.arrayBuffer();
  });

  it("408", async () => {
    const res = await post("request_timeout");
    expect(res.status).toBe(408);
    expect((await json(res)).error.code).toBe("Timeout");
  });
});

describe("broken connections and bodies", () => {
  it("reset: the socket is destroyed before any response, so fetch fails", async () => {
    await expect(post("reset")).rejects.toThrow(TypeError);
  });

  it("stall_headers: no headers arrive until the client gives up", async () => {
    const abort = new AbortController();
    const pending = post("stall_headers", "What is 1 + 1?", {}, abort.signal);
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    // The emulator counts the request as soon as it has it: then it is provably stalled.
    await waitFor(() => (emu.stats().byModel["stall_headers"]?.inFlight ?? 0) === 1);
    expect(settled).toBe(false);
    abort.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    // The server stops stalling when the client leaves (nothing leaks until stallMs).
    await waitFor(() => emu.stats().byModel["stall_headers"]?.inFlight === 0);
  });

  it("stall_body: headers and half the JSON arrive, then the body hangs until aborted", async () => {
    const abort = new AbortController();
    const res = await post("stall_body", "What is 1 + 1?", {}, abort.signal);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const length = Number(res.headers.get("content-length"));
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(first.value!.length).toBe(Math.floor(length / 2));
    const next = reader.read();
    abort.abort();
    await expect(next).rejects.toThrow(/abort/i);
  });

  it("invalid_json: a complete 200 application/json response that does not parse", async () => {
    const res = await post("invalid_json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(text.startsWith('{"id":"chatcmpl-')).toBe(true);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it("sse_cut on a stream: the stream ends without a finish chunk or [DONE]", async () => {
    const res = await post("sse_cut", "What is 1 + 1?", { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split("\n\n").filter((e) => e !== "");
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.startsWith("data: {"))).toBe(true);
    expect(events.some((e) => e.includes('"finish_reason":"stop"'))).toBe(false);
    expect(events).not.toContain("data: [DONE]");
  });

  it("sse_cut without stream: half the JSON, then the connection drops", async () => {
    const res = await post("sse_cut");
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow(TypeError);
  });
});

describe("content filters and auth", () => {
  it("prompt_filter: 400 content_filter with the ResponsibleAIPolicyViolation innererror", async () => {
    const res = await post("prompt_filter");
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "content_filter", param: "prompt", status: 400 });
    expect(body.error.innererror.code).toBe("ResponsibleAIPolicyViolation");
    expect(body.error.innererror.content_filter_result.violence).toEqual({ filtered: true, severity: "medium" });
  });

  it("output_filter: 200 with finish_reason content_filter and the flagged category", async () => {
    const res = await post("output_filter");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0].finish_reason).toBe("content_filter");
    expect(body.choices[0].message).toEqual({ role: "assistant", content: null });
    expect(body.choices[0].content_filter_results.violence).toEqual({ filtered: true, severity: "high" });

    const stream = await post("output_filter", "What is 1 + 1?", { stream: true });
    const text = await stream.text();
    expect(text).toMatch(/"finish_reason":"content_filter"/);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("auth: the gateway's 401 body; forbidden: 403", async () => {
    const res = await post("auth");
    expect(res.status).toBe(401);
    expect(await json(res)).toMatchObject({ statusCode: 401, message: expect.stringMatching(/^Unauthorized/) });
    const forbidden = await post("forbidden");
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).error.code).toBe("PermissionDenied");
  });
});

describe("which requests are faulted", () => {
  it("attempts: N faults only the first N attempts of each prompt, then answers", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post("twice", "What is 2 + 2?");
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([500, 500, 200]);
    // Another prompt, or the same prompt with another seed, is another prompt: counted afresh.
    expect((await post("twice", "What is 3 + 3?")).status).toBe(500);
    expect((await post("twice", "What is 2 + 2?", { seed: 7 })).status).toBe(500);
  });

  it("rate is a deterministic fraction: about half at 0.5, none at 0, the same on a fresh emulator", async () => {
    const run = async (handle: EmulatorHandle): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${handle.endpointFor("half")}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: `What is ${i} + 1?` }] }),
        });
        out.push(res.status);
        await res.arrayBuffer();
      }
      return out;
    };
    const first = await run(emu);
    const faulted = first.filter((s) => s === 500).length;
    expect(faulted).toBeGreaterThan(8);
    expect(faulted).toBeLessThan(32);
    const fresh = await startEmulator({ models: { half: sims["half"]! }, quiet: true });
    try {
      expect(await run(fresh)).toEqual(first);
    } finally {
      await fresh.close();
    }
    expect((await post("none")).status).toBe(200);
  });

  it("counts faults by kind in stats; /info is never faulted", async () => {
    const local = await startEmulator({ models: { a: { latency: instant, faults: [{ kind: "auth" }] } }, quiet: true });
    try {
      await (
        await fetch(`${local.endpointFor("a")}/chat/completions`, {
          method: "POST",
          body: '{"messages":[{"role":"user","content":"hi"}]}',
        })
      ).arrayBuffer();
      expect((await fetch(`${local.endpointFor("a")}/info`)).status).toBe(200);
      const stats = local.stats();
      expect(stats.faults).toEqual({ auth: 1 });
      expect(stats.byModel["a"]).toMatchObject({ requests: 2, completions: 1, statuses: { "200": 1, "401": 1 } });
      local.resetStats();
      expect(local.stats().faults).toEqual({});
    } finally {
      await local.close();
    }
  });

  it("forgets the oldest prompt past its bound (memory stays flat)", () => {
    const planner = new FaultPlanner(2);
    const sim = {
      name: "s",
      fingerprint: "fp",
      spec: SimModelSpec.parse({ faults: [{ kind: "server_error", attempts: 1 }] }),
    };
    const ask = (p: string) => planner.choose(sim, { messages: [{ role: "user", content: p }] })?.kind;
    expect([ask("a"), ask("a"), ask("b"), ask("c")]).toEqual([
      "server_error",
      undefined,
      "server_error",
      "server_error",
    ]);
    expect(ask("a")).toBe("server_error"); // "a" was evicted: counted as new
  });
});

describe("fault spec validation", () => {
  it("fills in defaults", () => {
    expect(FaultSpec.parse({ kind: "reset" })).toEqual({
      kind: "reset",
      rate: 1,
      style: "azure-openai",
      stallMs: 30_000,
    });
  });

  it("rejects bad specs with the path of each problem", async () => {
    await expect(
      startEmulator({
        models: {
          bad: {
            faults: [
              { kind: "explode" } as unknown as FaultSpecInput,
              { kind: "reset", rate: 2 },
              { kind: "reset", retryAfter: { format: "ms", ms: 1 } },
              { kind: "rate_limit", attempts: 0 },
            ],
          },
        },
        quiet: true,
      }),
    ).rejects.toSatisfy((err: unknown) => {
      const paths = (err as ConfigError).issues.map((i) => i.path);
      return (
        err instanceof ConfigError &&
        [
          "emulator.models.bad.faults.0.kind",
          "emulator.models.bad.faults.1.rate",
          "emulator.models.bad.faults.2.retryAfter",
          "emulator.models.bad.faults.3.attempts",
        ].every((p) => paths.includes(p))
      );
    });
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}
