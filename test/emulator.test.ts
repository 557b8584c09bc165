/**
 * The built-in emulator, end to end over real HTTP on 127.0.0.1 (ephemeral ports), plus the pure
 * simulation for the statistical checks that would need thousands of requests.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { evaluateExpression } from "../src/emulator/arithmetic.js";
import { DurationHistogram } from "../src/emulator/stats.js";
import {
  DEFAULT_SIM_MODELS,
  LATENCY_OVERRIDE_HEADER,
  SimModelSpec,
  simulateAnswer,
  startEmulator,
  type EmulatorHandle,
  type EmulatorStats,
  type SimModelSpecInput,
} from "../src/emulator/index.js";

const datasetPath = (name: string): string => fileURLToPath(new URL(`../datasets/${name}`, import.meta.url));

interface ArithmeticRow {
  id: string;
  prompt: string;
  expected: string;
  tags: string;
}
const arithmeticRows: ArithmeticRow[] = readFileSync(datasetPath("arithmetic.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as ArithmeticRow);

interface CapitalRow {
  id: string;
  question: string;
  expected: string;
  category: string;
}
const capitalRows = parse<CapitalRow>(readFileSync(datasetPath("capitals.csv")), { columns: true });

/** The number a model's answer ends with, without thousands separators ("The answer is 1,475."). */
function finalNumber(text: string): string | undefined {
  const numbers = text.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? [];
  return numbers.at(-1)?.replace(/,/g, "");
}

const instant = { medianMs: 0, p95Ms: 0 };
const SIMS: Record<string, SimModelSpecInput> = {
  perfect: { accuracy: 1, style: "terse", latency: instant, modelName: "Perfect-1" },
  perfectSteps: { accuracy: 1, style: "steps", latency: instant },
  hopeless: { accuracy: 0, style: "terse", latency: instant },
  hopelessSteps: { accuracy: 0, style: "steps", latency: instant },
  locked: { accuracy: 1, latency: instant, apiKey: "emulator-test-key", provider: "Contoso" },
};

interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response JSON under test
}

async function call(
  url: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const hasBody = init.body !== undefined || init.raw !== undefined;
  const res = await fetch(url, {
    method: init.method ?? (hasBody ? "POST" : "GET"),
    headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...init.headers },
    ...(hasBody ? { body: init.raw ?? JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (an SSE stream): the test reads the text.
  }
  return { status: res.status, headers: res.headers, body };
}

const ask = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  messages: [{ role: "user", content }],
  ...extra,
});

/** Polls the stats until `ready` holds; no timing is asserted, the test timeout bounds the wait. */
async function until(emulator: EmulatorHandle, ready: (s: EmulatorStats) => boolean): Promise<EmulatorStats> {
  for (;;) {
    const s = emulator.stats();
    if (ready(s)) return s;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("emulator over HTTP", () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({ models: SIMS, quiet: true });
  });
  afterAll(async () => {
    await emu.close();
  });

  describe("routes", () => {
    it("serves the serverless route with a real-looking chat.completion", async () => {
      const r = await call(`${emu.endpointFor("perfect")}/chat/completions?api-version=2024-05-01-preview`, {
        body: ask("What is 6 x 7?"),
      });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers.get("apim-request-id")).toBeTruthy();
      expect(r.body).toMatchObject({
        object: "chat.completion",
        model: "Perfect-1",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "The answer is 42." } }],
      });
      expect(r.body.id).toMatch(/^chatcmpl-/);
      expect(typeof r.body.created).toBe("number");
      const { prompt_tokens, completion_tokens, total_tokens } = r.body.usage;
      expect(prompt_tokens).toBe(Math.ceil("What is 6 x 7?".length / 4));
      expect(completion_tokens).toBe(Math.ceil("The answer is 42.".length / 4));
      expect(total_tokens).toBe(prompt_tokens + completion_tokens);
    });

    it("serves the multi-model route with the model named in the body, with or without /models", async () => {
      for (const path of ["/chat/completions", "/models/chat/completions"]) {
        const r = await call(`${emu.url}${path}`, { body: ask("What is 2 + 3?", { model: "perfectSteps" }) });
        expect(r.status).toBe(200);
        expect(r.body.model).toBe("emulated-perfectSteps");
        expect(r.body.choices[0].message.content).toBe("2 + 3 = 5. The answer is 5.");
      }
    });

    it("routes a multi-model request by the x-ms-model-mesh-model-name header when the body names none", async () => {
      const r = await call(`${emu.url}/chat/completions`, {
        body: ask("What is 2 + 3?"),
        headers: { "x-ms-model-mesh-model-name": "perfect" },
      });
      expect(r.body.model).toBe("Perfect-1");
    });

    it("rejects a multi-model request without a model or with an unknown one", async () => {
      const none = await call(`${emu.url}/chat/completions`, { body: ask("hi") });
      expect(none.status).toBe(400);
      expect(none.body.error.code).toBe("no_model_name");
      const unknown = await call(`${emu.url}/chat/completions`, { body: ask("hi", { model: "gpt-9" }) });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("unknown_model");
      const path = await call(`${emu.endpointFor("nosuch")}/chat/completions`, { body: ask("hi") });
      expect(path.status).toBe(404);
      expect(path.body.error).toBeDefined();
    });

    it("answers /info in both styles", async () => {
      const serverless = await call(`${emu.endpointFor("perfect")}/info?api-version=2024-05-01-preview`);
      expect(serverless.status).toBe(200);
      expect(serverless.body).toEqual({
        model_name: "Perfect-1",
        model_type: "chat-completion",
        model_provider_name: "bakeoff-emulator",
      });
      const multi = await call(`${emu.url}/info?model=locked`, { headers: { "api-key": "emulator-test-key" } });
      expect(multi.body).toEqual({
        model_name: "emulated-locked",
        model_type: "chat-completion",
        model_provider_name: "Contoso",
      });
      const ambiguous = await call(`${emu.url}/info`);
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.body.error.code).toBe("no_model_name");
    });

    it("infers the model for /info when only one is served", async () => {
      const single = await startEmulator({ models: { solo: {} }, quiet: true });
      try {
        const r = await call(`${single.url}/info`);
        expect(r.body.model_name).toBe("emulated-solo");
      } finally {
        await single.close();
      }
    });

    it("answers 404 for unknown paths and 405 for the wrong method", async () => {
      expect((await call(`${emu.url}/nope`)).status).toBe(404);
      const wrong = await call(`${emu.endpointFor("perfect")}/chat/completions`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("POST");
    });

    it("serves its stats as JSON, recording api-version", async () => {
      await call(`${emu.endpointFor("perfect")}/chat/completions?api-version=2099-01-01`, {
        body: ask("What is 1 + 1?"),
      });
      const r = await call(`${emu.url}/_emulator/stats`);
      expect(r.status).toBe(200);
      expect(r.body.apiVersions["2099-01-01"]).toBeGreaterThanOrEqual(1);
      expect(r.body.byModel.perfect.statuses["200"]).toBeGreaterThanOrEqual(1);
    });
  });

  describe("auth", () => {
    const url = (): string => `${emu.endpointFor("locked")}/chat/completions`;

    it("accepts the key as api-key or as a Bearer token", async () => {
      expect(
        (await call(url(), { body: ask("What is 1 + 1?"), headers: { "api-key": "emulator-test-key" } })).status,
      ).toBe(200);
      expect(
        (await call(url(), { body: ask("What is 1 + 1?"), headers: { authorization: "Bearer emulator-test-key" } }))
          .status,
      ).toBe(200);
    });

    it("answers a missing or wrong key with the gateway's 401 body", async () => {
      const attempts: Array<Record<string, string>> = [
        {},
        { "api-key": "wrong" },
        { authorization: "Bearer wrong" },
        { authorization: "emulator-test-key" },
      ];
      for (const headers of attempts) {
        const r = await call(url(), { body: ask("What is 1 + 1?"), headers });
        expect(r.status).toBe(401);
        expect(r.body).toEqual({
          statusCode: 401,
          message:
            "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
        });
      }
      expect((await call(`${emu.endpointFor("locked")}/info`)).status).toBe(401);
      const multi = await call(`${emu.url}/chat/completions`, { body: ask("hi", { model: "locked" }) });
      expect(multi.status).toBe(401);
    });

    it("accepts any key, or none, when the sim has no apiKey", async () => {
      const attempts: Array<Record<string, string>> = [
        {},
        { "api-key": "anything" },
        { authorization: "Bearer whatever" },
      ];
      for (const headers of attempts) {
        expect(
          (await call(`${emu.endpointFor("perfect")}/chat/completions`, { body: ask("What is 1 + 1?"), headers }))
            .status,
        ).toBe(200);
      }
    });
  });

  describe("bad requests", () => {
    const url = (): string => `${emu.endpointFor("perfect")}/chat/completions`;

    it("answers malformed JSON with invalid_json", async () => {
      const r = await call(url(), { raw: '{"messages": [' });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: "invalid_request_error", param: null, code: "invalid_json" });
      expect(typeof r.body.error.message).toBe("string");
    });

    it.each([
      ["missing messages", {}, "messages", "missing_required_parameter"],
      ["messages not an array", { messages: "hi" }, "messages", "invalid_type"],
      ["empty messages", { messages: [] }, "messages", "empty_array"],
      ["a message without content", { messages: [{ role: "user" }] }, "messages[0].content", "invalid_type"],
      ["an unknown role", { messages: [{ role: "wizard", content: "hi" }] }, "messages[0].role", "invalid_value"],
      ["a non-object body", [1, 2], null, "invalid_type"],
      ["response_format as a string", { ...ask("hi"), response_format: "foo" }, "response_format", "invalid_type"],
      ["a fractional max_tokens", { ...ask("hi"), max_tokens: 1.5 }, "max_tokens", "invalid_value"],
      ["temperature as a string", { ...ask("hi"), temperature: "hot" }, "temperature", "invalid_type"],
    ])("rejects %s with an OpenAI-style 400", async (_name, body, param, code) => {
      const r = await call(url(), { body });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: "invalid_request_error", param, code });
      expect(r.body.error.message.length).toBeGreaterThan(0);
    });

    it("accepts content as an array of text parts", async () => {
      const body = { messages: [{ role: "user", content: [{ type: "text", text: "What is 8 x 8?" }] }] };
      const r = await call(url(), { body });
      expect(r.body.choices[0].message.content).toBe("The answer is 64.");
    });
  });

  describe("extra-parameters", () => {
    const url = (): string => `${emu.endpointFor("perfect")}/chat/completions`;

    it("rejects unknown body keys by default and with 'error', naming them", async () => {
      const attempts: Array<Record<string, string>> = [{}, { "extra-parameters": "error" }];
      for (const headers of attempts) {
        const r = await call(url(), { body: ask("What is 1 + 1?", { n: 2, logit_bias: {} }), headers });
        expect(r.status).toBe(400);
        expect(r.body.detail).toMatch(
          /^Extra parameters \['n', 'logit_bias'\] are not allowed when extra-parameters is not set or set to be 'error'\./,
        );
      }
    });

    it("accepts them with 'drop' and 'pass-through'", async () => {
      for (const mode of ["drop", "pass-through"]) {
        const r = await call(url(), { body: ask("What is 1 + 1?", { n: 2 }), headers: { "extra-parameters": mode } });
        expect(r.status).toBe(200);
        expect(r.body.choices).toHaveLength(1);
      }
    });

    it("accepts every documented key without the header", async () => {
      const body = ask("What is 1 + 1?", {
        model: "perfect",
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 50,
        seed: 7,
        stop: ["\n"],
        stream: false,
        presence_penalty: 0,
        frequency_penalty: 0,
        response_format: { type: "text" },
        tools: [],
        tool_choice: "none",
        modalities: ["text"],
      });
      expect((await call(url(), { body })).status).toBe(200);
    });
  });

  describe("answers", () => {
    const chatUrl = (sim: string): string => `${emu.endpointFor(sim)}/chat/completions`;
    const content = (r: Reply): string => r.body.choices[0].message.content as string;

    it("gives the same answer to the same request, and varies with the seed", async () => {
      const body = ask("What is 12 * (3 + 4) - 5 / 5?", { seed: 11 });
      const first = await call(chatUrl("hopeless"), { body });
      const second = await call(chatUrl("hopeless"), { body });
      expect(content(second)).toBe(content(first));
      const answers = new Set<string>();
      for (let seed = 0; seed < 12; seed++)
        answers.add(content(await call(chatUrl("hopeless"), { body: { ...body, seed } })));
      expect(answers.size).toBeGreaterThan(1);
    });

    it("solves every row of both datasets at accuracy 1, in both styles", async () => {
      for (const sim of ["perfect", "perfectSteps"]) {
        for (const row of arithmeticRows) {
          const text = content(await call(chatUrl(sim), { body: ask(row.prompt) }));
          expect(finalNumber(text), `${sim} ${row.id}: ${text}`).toBe(row.expected);
        }
        for (const row of capitalRows) {
          const text = content(await call(chatUrl(sim), { body: ask(row.question) }));
          expect(text, `${sim} ${row.id}`).toContain(row.expected);
        }
      }
    });

    it("gets every row of both datasets wrong at accuracy 0", async () => {
      for (const sim of ["hopeless", "hopelessSteps"]) {
        for (const row of arithmeticRows) {
          const text = content(await call(chatUrl(sim), { body: ask(row.prompt, { seed: 3 }) }));
          expect(finalNumber(text), `${sim} ${row.id}: ${text}`).not.toBe(row.expected);
        }
        for (const row of capitalRows) {
          const text = content(await call(chatUrl(sim), { body: ask(row.question, { seed: 3 }) }));
          expect(text, `${sim} ${row.id}`).not.toContain(row.expected);
        }
      }
    });

    it("shows its working in the steps style, at a higher token cost", async () => {
      const prompt = arithmeticRows.find((r) => r.id === "word-01")?.prompt ?? "";
      const terse = await call(chatUrl("perfect"), { body: ask(prompt) });
      const steps = await call(chatUrl("perfectSteps"), { body: ask(prompt) });
      expect(content(terse)).toBe("The answer is 66.");
      expect(content(steps)).toBe("First, 12 × 8 = 96. Finally, 96 − 30 = 66. The answer is 66.");
      expect(steps.body.usage.completion_tokens).toBeGreaterThan(terse.body.usage.completion_tokens);
    });

    it("admits what it does not know with a deterministic guess", async () => {
      const r1 = await call(chatUrl("perfect"), { body: ask("What is the capital of Atlantis?") });
      const r2 = await call(chatUrl("perfect"), { body: ask("What is the capital of Atlantis?") });
      expect(content(r1)).toMatch(/^I'm not sure, but I think it is .+\.$/);
      expect(content(r2)).toBe(content(r1));
    });

    it("cuts the answer at max_tokens with finish_reason length", async () => {
      const prompt = arithmeticRows.find((r) => r.id === "expr-03")?.prompt ?? "";
      const full = content(await call(chatUrl("perfectSteps"), { body: ask(prompt) }));
      const r = await call(chatUrl("perfectSteps"), { body: ask(prompt, { max_tokens: 5 }) });
      expect(r.body.choices[0].finish_reason).toBe("length");
      expect(content(r)).toBe(full.slice(0, 20));
      expect(r.body.usage.completion_tokens).toBe(5);
    });

    it("cuts the answer at the first stop sequence with finish_reason stop", async () => {
      const r = await call(chatUrl("perfectSteps"), { body: ask("What is 2 * 3 + 4?", { stop: ["Finally", "="] }) });
      expect(content(r)).toBe("First, 2 × 3 ");
      expect(r.body.choices[0].finish_reason).toBe("stop");
    });

    it("answers in JSON when response_format asks for it", async () => {
      const r = await call(chatUrl("perfect"), {
        body: ask("What is 9 x 9?", { response_format: { type: "json_object" } }),
      });
      expect(JSON.parse(content(r))).toEqual({ answer: "81" });
    });

    it("reads the system message too", async () => {
      const body = {
        messages: [
          { role: "system", content: "Reply with the number only." },
          { role: "user", content: "What is 9 x 9?" },
        ],
      };
      expect(content(await call(chatUrl("perfect"), { body }))).toBe("81");
    });
  });

  describe("streaming", () => {
    const events = (text: string): string[] => {
      expect(text.endsWith("\n\n")).toBe(true);
      return text
        .split("\n\n")
        .filter((e) => e !== "")
        .map((e) => {
          expect(e.startsWith("data: ")).toBe(true);
          return e.slice("data: ".length);
        });
    };

    it("streams SSE chunks shaped like Azure's, joining to the non-streamed answer", async () => {
      const url = `${emu.endpointFor("perfectSteps")}/chat/completions`;
      const prompt = "A library has 1,200 books. It buys 350 more books. How many books does it have?";
      const plain = await call(url, { body: ask(prompt, { seed: 1 }) });
      const streamed = await call(url, { body: ask(prompt, { seed: 1, stream: true }) });
      expect(streamed.status).toBe(200);
      expect(streamed.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");

      const data = events(streamed.body as string);
      expect(data.at(-1)).toBe("[DONE]");
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks[0]).toMatchObject({ choices: [], id: "", model: "", object: "", created: 0 });
      expect(chunks[0].prompt_filter_results).toHaveLength(1);
      expect(chunks[1].choices[0]).toMatchObject({
        index: 0,
        delta: { role: "assistant", content: "" },
        finish_reason: null,
      });
      const last = chunks.at(-1);
      expect(last.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
      const middle = chunks.slice(2, -1);
      expect(middle.length).toBeGreaterThan(3);
      for (const c of chunks.slice(1)) {
        expect(c).toMatchObject({ object: "chat.completion.chunk", model: "emulated-perfectSteps" });
        expect(c.id).toBe(chunks[1].id);
      }
      expect(middle.map((c) => c.choices[0].delta.content).join("")).toBe(plain.body.choices[0].message.content);
      expect(chunks.some((c) => c.usage !== undefined)).toBe(false);
    });

    it("adds a usage chunk when stream_options passes through to the model", async () => {
      const r = await call(`${emu.endpointFor("perfect")}/chat/completions`, {
        body: ask("What is 7 x 6?", { stream: true, stream_options: { include_usage: true } }),
        headers: { "extra-parameters": "pass-through" },
      });
      const chunks = events(r.body as string)
        .slice(0, -1)
        .map((d) => JSON.parse(d));
      const usage = chunks.at(-1);
      expect(usage.choices).toEqual([]);
      expect(usage.usage).toEqual({ prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
    });
  });
});

describe("emulator stats and lifecycle", () => {
  it("counts concurrent requests, and stops counting a request when its client leaves", async () => {
    const emu = await startEmulator({ models: { a: { latency: instant }, b: { latency: instant } }, quiet: true });
    try {
      await call(`${emu.endpointFor("a")}/chat/completions`, { body: ask("What is 1 + 1?") });
      await call(`${emu.endpointFor("a")}/chat/completions`, { body: {} });
      expect(emu.stats().byModel["a"]).toMatchObject({
        requests: 2,
        completions: 2,
        inFlight: 0,
        maxInFlight: 1,
        statuses: { "200": 1, "400": 1 },
      });

      emu.resetStats();
      const aborts = Array.from({ length: 5 }, () => new AbortController());
      const pending = aborts.map((ac, i) =>
        fetch(`${emu.endpointFor(i < 3 ? "a" : "b")}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", [LATENCY_OVERRIDE_HEADER]: "600000" },
          body: JSON.stringify(ask(`What is ${i} + 1?`)),
          signal: ac.signal,
        }).catch((err: unknown) => err),
      );
      const busy = await until(emu, (s) => s.inFlight === 5);
      expect(busy.maxInFlight).toBe(5);
      expect(busy.byModel["a"]).toMatchObject({ requests: 3, inFlight: 3, maxInFlight: 3 });
      expect(busy.byModel["b"]).toMatchObject({ requests: 2, inFlight: 2, maxInFlight: 2 });

      for (const ac of aborts) ac.abort();
      await Promise.all(pending);
      const idle = await until(emu, (s) => s.inFlight === 0);
      expect(idle.requests).toBe(5);
      expect(idle.maxInFlight).toBe(5);
      expect(idle.byModel["a"]?.statuses).toEqual({ "499": 3 });
    } finally {
      await emu.close();
    }
  });

  it("reports the service time of its answers, overall and per model, from a histogram that reset() clears", async () => {
    const emu = await startEmulator({
      models: { slow: { latency: { medianMs: 30, p95Ms: 30, perTokenMs: 0 } }, fast: { latency: instant } },
      quiet: true,
    });
    try {
      const empty = emu.stats().serviceTime;
      expect(empty).toEqual({ count: 0, meanMs: null, p50Ms: null, p90Ms: null, p99Ms: null, maxMs: null });
      for (let i = 0; i < 3; i++)
        expect(
          (await call(`${emu.endpointFor("slow")}/chat/completions`, { body: ask(`What is ${i} + 1?`) })).status,
        ).toBe(200);
      expect((await call(`${emu.endpointFor("fast")}/chat/completions`, { body: ask("What is 2 + 2?") })).status).toBe(
        200,
      );
      // Neither an error (400), an /info call, nor the stats route counts: only answers.
      expect((await call(`${emu.endpointFor("fast")}/chat/completions`, { body: {} })).status).toBe(400);
      expect((await call(`${emu.endpointFor("fast")}/info`)).status).toBe(200);

      const served = (await call(`${emu.url}/_emulator/stats`)).body as EmulatorStats;
      expect(served.serviceTime.count).toBe(4);
      const slow = served.byModel["slow"]!.serviceTime;
      const fast = served.byModel["fast"]!.serviceTime;
      expect(slow.count).toBe(3);
      expect(fast.count).toBe(1);
      // The simulated 30 ms is part of the service time; the answer takes at least that long.
      expect(slow.p50Ms).toBeGreaterThanOrEqual(29);
      expect(slow.p50Ms!).toBeGreaterThan(fast.p50Ms!);
      expect(fast.p50Ms).toBeGreaterThan(0);
      for (const st of [slow, served.serviceTime]) {
        expect(st.p50Ms!).toBeLessThanOrEqual(st.p90Ms!);
        expect(st.p90Ms!).toBeLessThanOrEqual(st.p99Ms!);
        expect(st.p99Ms!).toBeLessThanOrEqual(st.maxMs!);
        expect(st.meanMs!).toBeGreaterThan(0);
      }
      expect(served.serviceTime.maxMs).toBe(slow.maxMs);

      emu.resetStats();
      expect(emu.stats().serviceTime.count).toBe(0);
      expect(emu.stats().byModel["slow"]!.serviceTime.p50Ms).toBeNull();
    } finally {
      await emu.close();
    }
  });

  it("keeps service-time percentiles within half a 1% bucket of the exact ones, in constant memory", () => {
    const h = new DurationHistogram();
    for (let i = 1; i <= 10_000; i++) h.add(i / 10); // 0.1 .. 1000 ms
    const s = h.snapshot();
    expect(s.count).toBe(10_000);
    expect(s.meanMs).toBeCloseTo(500.05, 1);
    expect(Math.abs(s.p50Ms! / 500 - 1)).toBeLessThan(0.006);
    expect(Math.abs(s.p90Ms! / 900 - 1)).toBeLessThan(0.006);
    expect(Math.abs(s.p99Ms! / 990 - 1)).toBeLessThan(0.006);
    expect(s.maxMs).toBe(1000);
    h.add(3_600_000); // an hour: past the last bucket, still counted, max exact
    expect(h.snapshot().maxMs).toBe(3_600_000);
    h.add(0); // below the smallest bucket: shares it (0.01 ms wide), never a negative or NaN figure
    expect(h.quantile(0)).toBeGreaterThanOrEqual(0);
    expect(h.quantile(0)).toBeLessThan(0.011);
  });

  it("close() ends in-flight and keep-alive connections", async () => {
    const emu = await startEmulator({ models: { a: { latency: instant } }, quiet: true });
    // A finished request leaves an idle keep-alive socket behind.
    expect((await call(`${emu.endpointFor("a")}/chat/completions`, { body: ask("What is 1 + 1?") })).status).toBe(200);
    const slow = fetch(`${emu.endpointFor("a")}/chat/completions`, {
      method: "POST",
      headers: { [LATENCY_OVERRIDE_HEADER]: "600000" },
      body: JSON.stringify(ask("What is 2 + 2?")),
    }).then(
      () => "answered",
      () => "failed",
    );
    await until(emu, (s) => s.inFlight === 1);
    await emu.close();
    expect(await slow).toBe("failed");
    await expect(fetch(`${emu.url}/info`)).rejects.toThrow();
    await emu.close(); // idempotent
  });

  it("rejects invalid sim specs with a ConfigError naming the field", async () => {
    const attempt = startEmulator({ models: { bad: { accuracy: 2 } }, quiet: true });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/emulator\.models\.bad\.accuracy/);
  });

  it("starts with the default sims", async () => {
    const emu = await startEmulator({ models: { ...DEFAULT_SIM_MODELS }, quiet: true });
    try {
      const info = await call(`${emu.endpointFor("large")}/info`);
      expect(info.body.model_name).toBe("emulated-large");
      expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    } finally {
      await emu.close();
    }
  });
});

describe("simulation", () => {
  const spec = (input: SimModelSpecInput): SimModelSpec => SimModelSpec.parse(input);
  const user = (content: string, seed?: number) => ({
    messages: [{ role: "user", content }],
    ...(seed === undefined ? {} : { seed }),
  });

  it("evaluates expressions with the usual precedence and spellings", () => {
    expect(evaluateExpression("2 + 2 * 2")?.value).toBe(6);
    expect(evaluateExpression("(2 + 2) × 2")?.value).toBe(8);
    expect(evaluateExpression("7 x 6 ÷ 3 − 1")?.value).toBe(13);
    expect(evaluateExpression("1,000 / 8")?.value).toBe(125);
    expect(evaluateExpression("0.1 + 0.2")?.value).toBe(0.3);
    expect(evaluateExpression("5 / 0")).toBeUndefined();
    expect(evaluateExpression("2 +")).toBeUndefined();
  });

  it("does not guess at word problems outside its grammar", () => {
    const answer = simulateAnswer(
      "x",
      spec({ accuracy: 1 }),
      user("Tom has 3 cats, 4 dogs and 5 fish. How many legs are there?"),
    );
    expect(answer.task).toBe("unknown");
    expect(answer.text).toMatch(/^I'm not sure/);
  });

  it.each([0.75, 0.95, 0.5])("is right about %s of the time across seeds", (accuracy) => {
    const sim = spec({ accuracy });
    let right = 0;
    let total = 0;
    for (let seed = 0; seed < 20; seed++) {
      for (const row of arithmeticRows) {
        total++;
        if (finalNumber(simulateAnswer("measured", sim, user(row.prompt, seed)).text) === row.expected) right++;
      }
    }
    // 840 deterministic draws: the binomial standard deviation is under 0.018, so 0.06 is >3σ.
    expect(Math.abs(right / total - accuracy)).toBeLessThan(0.06);
  });

  it("draws latency from the configured log-normal distribution, plus time per token", () => {
    const sim = spec({ latency: { medianMs: 100, p95Ms: 300, perTokenMs: 2 } });
    const draws = Array.from({ length: 2000 }, (_, i) => simulateAnswer("lat", sim, user(`What is ${i} + 1?`)));
    const base = draws.map((d) => d.latency.baseMs).sort((a, b) => a - b);
    expect(base[1000]).toBeGreaterThan(90);
    expect(base[1000]).toBeLessThan(110);
    expect(base[1900]).toBeGreaterThan(260);
    expect(base[1900]).toBeLessThan(340);
    for (const d of draws.slice(0, 20))
      expect(d.latency.totalMs).toBe(Math.round(d.latency.baseMs + 2 * d.completionTokens));
  });

  it("makes plausible mistakes: near misses or a dropped step", () => {
    const sim = spec({ accuracy: 0, style: "steps" });
    const wrongs = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      wrongs.add(
        Number(
          finalNumber(
            simulateAnswer(
              "m",
              sim,
              user("A baker bakes 12 trays of 8 rolls and sells 30 rolls. How many rolls are left?", seed),
            ).text,
          ),
        ),
      );
    }
    expect([...wrongs].sort((a, b) => a - b)).toEqual([56, 65, 67, 76, 96]);
  });
});
