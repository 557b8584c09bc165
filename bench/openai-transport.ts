/**
 * CPU per call of the openai provider's possible transports, each in its own process (alternated)
 * against the same 0 ms emulator in its own process, C = 16, the loop's CPU only
 * (process.cpuUsage around it, after 200 warm-up calls):
 * - `client`: the `openai` package's client, `client.post("/chat/completions")` over its default
 *   fetch (what bench/bare-loop.mjs runs, and what the provider used for every call before);
 * - `provider`: the openai provider's `attempt()` as it is now (non-streamed calls over
 *   node:http, src/providers/json-post.ts), response parsing included;
 * - `http`: a bare node:http keep-alive POST + JSON.parse, the floor.
 *
 *   npm run build && npx tsx bench/openai-transport.ts [--calls 3000] [--reps 2]
 *
 * Prints one line per run and the median per variant. Not written into BENCHMARKS.md: the wall
 * section's bare-vs-bakeoff rows are the figures of record; this shows where the difference comes from.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import { nodeHttpFloor } from "./node-http-floor.mjs";

/**
 * bakeoff's own variants load the compiled modules (`npm run build` first), as `bakeoff run` does:
 * through tsx, esbuild's `keepNames` wraps every closure in a `__name()` call, which costs per
 * call what the product does not pay.
 */
/**
 * `--dist-b DIR`: a second build (e.g. a copy of dist/ from before a change) for a same-run A/B:
 * every bakeoff variant (`provider`, `retry`, `azure-retry`) also runs as `<variant>@b` from DIR,
 * alternated with the current build's.
 */
const DIST_B = (() => {
  const i = process.argv.indexOf("--dist-b");
  return i >= 0 ? new URL(`file://${resolvePath(process.argv[i + 1]!)}/`).href : undefined;
})();
/** The build a child loads: dist/, or `--dist-b`'s for an `@b` variant (passed to the child as `BENCH_DIST`). */
const DIST = process.env.BENCH_DIST ?? new URL("../dist/", import.meta.url).href;
const openaiModule = () => import(DIST + "providers/openai.js") as Promise<typeof import("../src/providers/openai.js")>;
const retryModule = () => import(DIST + "providers/retry.js") as Promise<typeof import("../src/providers/retry.js")>;
const azureModule = () =>
  import(DIST + "providers/azure-ai-inference.js") as Promise<typeof import("../src/providers/azure-ai-inference.js")>;
const ALL_VARIANTS = ["client", "provider", "retry", "http", "azure-sdk", "azure-retry"] as const;
type BaseVariant = (typeof ALL_VARIANTS)[number];
/** A variant, or (with `--dist-b`) a bakeoff variant from the other build, `<variant>@b`. */
type Variant = BaseVariant | `${BaseVariant}@b`;
const BAKEOFF_VARIANTS: readonly string[] = ["provider", "retry", "azure-retry"];
/** `--concurrency N`: calls in flight (default 16; bench/run.ts's throughput mode uses 64). */
const C = (() => {
  const i = process.argv.indexOf("--concurrency");
  return i >= 0 ? Number(process.argv[i + 1]) : 16;
})();
const WARM = 200;
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
/** `--variants provider,retry,http`: the default leaves out the slow `openai` client and azure. */
const VARIANTS: readonly Variant[] = (() => {
  const i = args.indexOf("--variants");
  const names = i >= 0 ? args[i + 1]!.split(",") : ["client", "provider", "retry", "http"];
  for (const n of names)
    if (!(ALL_VARIANTS as readonly string[]).includes(n))
      throw new Error(`unknown variant "${n}"; use ${ALL_VARIANTS.join(", ")}`);
  if (DIST_B === undefined) return names as Variant[];
  return names.flatMap((n) => (BAKEOFF_VARIANTS.includes(n) ? [n, `${n}@b`] : [n])) as Variant[];
})();

const bodyFor = (i: number) => ({
  model: "m0",
  messages: [
    { role: "system", content: "You are a careful assistant. Solve the problem and end with 'The answer is N.'" },
    { role: "user", content: `What is ${2 + (i % 97)} * ${3 + ((i * 7) % 89)} - ${(i * 13) % 101}?` },
  ],
  temperature: 0,
  max_tokens: 64,
  seed: 7,
});

async function callerFor(variant: BaseVariant, base: string): Promise<(i: number) => Promise<void>> {
  if (variant === "client") {
    const { default: OpenAI } = await import("openai");
    const client = new OpenAI({ baseURL: base, apiKey: "k", maxRetries: 0 });
    return async (i) => {
      const r = (await client.post("/chat/completions", { body: bodyFor(i) })) as { choices: unknown[] };
      if (r.choices.length !== 1) throw new Error("no answer");
    };
  }
  if (variant === "provider") {
    const { createOpenAIProvider } = await openaiModule();
    const p = createOpenAIProvider({ name: "m0", endpoint: base, auth: { kind: "key", apiKey: "k" } });
    return async (i) => {
      const { model: _m, messages, ...params } = bodyFor(i);
      // One signal per attempt, as the retry layer gives each attempt its own deadline.
      const r = await p.attempt({ messages, params } as never, new AbortController().signal);
      if (typeof r.text !== "string") throw new Error("no answer");
    };
  }
  if (variant === "retry" || variant === "azure-retry") {
    // What the runner calls per result: the retry layer (deadline, run signal) around the provider.
    const { callWithRetry } = await retryModule();
    const p =
      variant === "retry"
        ? (await openaiModule()).createOpenAIProvider({
            name: "m0",
            endpoint: base,
            auth: { kind: "key", apiKey: "k" },
          })
        : (await azureModule()).createAzureAiInferenceProvider({
            name: "m0",
            endpoint: base.replace(/\/v1$/, ""),
            auth: { kind: "key", apiKey: "k" },
          });
    const run = new AbortController();
    const signal = AbortSignal.any([run.signal, new AbortController().signal]);
    const retry = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 };
    return async (i) => {
      const { model: _m, messages, ...params } = bodyFor(i);
      const r = await callWithRetry(p, { messages, params } as never, {
        retry,
        timeoutMs: 120_000,
        signal,
        onAttempt: () => undefined,
      });
      if (typeof r.text !== "string") throw new Error("no answer");
    };
  }
  if (variant === "azure-sdk") {
    // bench/bare-loop.mjs's ModelClient floor.
    const { default: ModelClient } = await import("@azure-rest/ai-inference");
    const { AzureKeyCredential } = await import("@azure/core-auth");
    const client = ModelClient(base.replace(/\/v1$/, ""), new AzureKeyCredential("k"), {
      retryOptions: { maxRetries: 0 },
      allowInsecureConnection: true,
    });
    return async (i) => {
      const { model: _m, ...body } = bodyFor(i);
      const res = await client.path("/chat/completions").post({ body }).asNodeStream();
      const chunks: Buffer[] = [];
      for await (const c of res.body!) chunks.push(c as Buffer);
      const r = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { choices: unknown[] };
      if (res.status !== "200" || r.choices.length !== 1) throw new Error("no answer");
    };
  }
  // bench/bare-loop.mjs's node:http floor, call for call.
  const call = nodeHttpFloor(`${base}/chat/completions`, "k", new http.Agent({ keepAlive: true }));
  return (i) => call(bodyFor(i));
}

async function child(variant: Variant, base: string, calls: number): Promise<void> {
  const call = await callerFor(variant.replace(/@b$/, "") as BaseVariant, base);
  for (let i = 0; i < WARM; i++) await call(i);
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < n) await call(next++);
      }),
    );
  };
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(calls);
  const cpu = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  process.stdout.write(JSON.stringify({ variant, cpuUsPerCall: (cpu.user + cpu.system) / calls, wallMs }) + "\n");
}

async function main(): Promise<void> {
  if (args[0] === "child") return child(args[1] as Variant, args[2]!, Number(args[3]));
  const calls = option("--calls", 3000);
  const reps = option("--reps", 2);
  const emulator = await spawnEmulator({ m0: fixedLatencyModel(0) });
  const results = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  const client0 = VARIANTS[0]!;
  try {
    for (let r = 0; r < reps; r++) {
      for (const v of VARIANTS) {
        const out = await new Promise<string>((resolve, reject) => {
          const p = spawn(
            process.execPath,
            [...process.execArgv, fileURLToPath(import.meta.url), "child", v, `${emulator.url}/m0/v1`, String(calls)],
            {
              stdio: ["ignore", "pipe", "inherit"],
              env: v.endsWith("@b") ? { ...process.env, BENCH_DIST: DIST_B } : process.env,
            },
          );
          let s = "";
          p.stdout.setEncoding("utf8").on("data", (d: string) => (s += d));
          p.once("exit", (code) => (code === 0 ? resolve(s) : reject(new Error(`${v} exited ${code}`))));
        });
        const line = JSON.parse(out.trim().split("\n").pop()!) as { cpuUsPerCall: number; wallMs: number };
        results.get(v)!.push(line.cpuUsPerCall);
        console.error(
          `[transport] ${v}: ${line.cpuUsPerCall.toFixed(0)} µs CPU/call, ${(line.wallMs / 1000).toFixed(2)} s`,
        );
      }
    }
  } finally {
    await emulator.stop();
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const client = med(results.get(client0)!);
  console.log(`${calls} calls × ${reps} runs per variant, C = ${C}, 0 ms emulator; median CPU per call of the loop:`);
  for (const v of VARIANTS) {
    const m = med(results.get(v)!);
    const all = results
      .get(v)!
      .map((x) => x.toFixed(0))
      .join(", ");
    console.log(
      `  ${v.padEnd(14)} ${m.toFixed(0).padStart(6)} µs  (${(m / client).toFixed(2)}× ${client0}; runs: ${all})`,
    );
  }
}

await main();
