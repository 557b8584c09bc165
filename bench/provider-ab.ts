/**
 * Same-process A/B of the provider side's CPU per call: what the runner calls per result
 * (`callWithRetry` around a provider, run signal and per-attempt deadline included) from two
 * builds of bakeoff, and the bare floor (bench/bare-loop.mjs's call), all in ONE child process,
 * in interleaved batches against the same 0 ms emulator (its own process). On a machine shared
 * with other work the CPU of one call drifts by ±20% from minute to minute; batches of a few
 * hundred calls, alternated round after round, see the same drift, so the per-round differences
 * (A − floor, A − B) are steadier than separate runs' totals.
 *
 *   npm run build && cp -r dist .ab/base     # the "before" build (inside the repo: it resolves node_modules)
 *   ... change, npm run build ...
 *   npx tsx bench/provider-ab.ts --provider azure-ai-inference --b .ab/base [--a DIR] [--no-floor] [--rounds 50] [--batch 200]
 *
 * Sides: `a` = dist/ (the current build; `--a DIR` for another), `b` = `--b DIR` (optional), `floor` = the bare call
 * (ModelClient for azure-ai-inference, node:http for openai). C = 64 (`--concurrency`). Prints the
 * CPU per call of each side (median, 10th and 25th percentile, min over the batches) and the
 * median and quartiles of the per-round differences.
 * Not written into BENCHMARKS.md: bench/run.ts's throughput section is the figure of record.
 */
import { fork } from "node:child_process";
import http from "node:http";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fixedLatencyModel, spawnEmulator } from "./emulator-process.js";
import { nodeHttpFloor } from "./node-http-floor.mjs";

type Provider = "azure-ai-inference" | "openai";
type Call = (i: number) => Promise<void>;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const SYSTEM = "You are a careful assistant. Solve the problem and end with 'The answer is N.'";
const messagesFor = (i: number) => [
  { role: "system", content: SYSTEM },
  { role: "user", content: `What is ${2 + (i % 97)} * ${3 + ((i * 7) % 89)} - ${(i * 13) % 101}?` },
];
const PARAMS = { temperature: 0, max_tokens: 64, seed: 7 };

/** `callWithRetry` around the provider of the build in `dist` (a file URL ending in `/`), as runner.ts calls it. */
async function bakeoffCall(dist: string, provider: Provider, base: string): Promise<Call> {
  const { callWithRetry } = (await import(dist + "providers/retry.js")) as typeof import("../src/providers/retry.js");
  const p =
    provider === "openai"
      ? (
          (await import(dist + "providers/openai.js")) as typeof import("../src/providers/openai.js")
        ).createOpenAIProvider({ name: "m0", endpoint: `${base}/m0/v1`, auth: { kind: "key", apiKey: "k" } })
      : (
          (await import(
            dist + "providers/azure-ai-inference.js"
          )) as typeof import("../src/providers/azure-ai-inference.js")
        ).createAzureAiInferenceProvider({ name: "m0", endpoint: `${base}/m0`, auth: { kind: "key", apiKey: "k" } });
  // The runner hands each call its model's signal: a child of the run's signal.
  const run = new AbortController();
  const signal = AbortSignal.any([run.signal, new AbortController().signal]);
  const retry = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 };
  let observed = 0;
  return async (i) => {
    const r = await callWithRetry(p, { messages: messagesFor(i), params: { ...PARAMS } } as never, {
      trial: 0,
      retry,
      timeoutMs: 120_000,
      signal,
      onAttempt: () => void observed++,
    });
    if (typeof r.text !== "string") throw new Error(`no answer: ${JSON.stringify(r.error)}`);
  };
}

/** bench/bare-loop.mjs's call for `provider`, call for call. */
async function floorCall(provider: Provider, base: string): Promise<Call> {
  if (provider === "azure-ai-inference") {
    const { default: ModelClient } = await import("@azure-rest/ai-inference");
    const { AzureKeyCredential } = await import("@azure/core-auth");
    const client = ModelClient(`${base}/m0`, new AzureKeyCredential("k"), {
      retryOptions: { maxRetries: 0 },
      allowInsecureConnection: true,
    });
    return async (i) => {
      const res = await client
        .path("/chat/completions")
        .post({ body: { messages: messagesFor(i), ...PARAMS } })
        .asNodeStream();
      const chunks: Buffer[] = [];
      for await (const c of res.body!) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        choices?: { message?: { content?: unknown } }[];
      };
      if (res.status !== "200" || typeof body.choices?.[0]?.message?.content !== "string")
        throw new Error(`call failed: ${res.status}`);
    };
  }
  // bench/bare-loop.mjs's node:http floor, call for call.
  const call = nodeHttpFloor(`${base}/m0/v1/chat/completions`, "k", new http.Agent({ keepAlive: true }));
  return (i) => call({ model: "m0", messages: messagesFor(i), ...PARAMS });
}

/**
 * A side's call, retried once on a reset connection: while the other sides run, a side's idle
 * keep-alive sockets reach the emulator's keep-alive timeout, and reusing one the server is just
 * closing fails with ECONNRESET (bakeoff's retry layer retries that; the bare floor would crash).
 */
const onceMore =
  (call: Call): Call =>
  (i) =>
    call(i).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== "ECONNRESET") throw err;
      return call(i);
    });

/** `n` calls, `c` in flight; returns the process CPU they took, µs per call. */
async function batch(call: Call, n: number, c: number, offset: number): Promise<number> {
  let next = 0;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await call(offset + next++);
    }),
  );
  const cpu = process.cpuUsage(c0);
  return (cpu.user + cpu.system) / n;
}

interface ChildArgs {
  provider: Provider;
  base: string;
  sides: { label: string; dist?: string }[];
  rounds: number;
  batch: number;
  concurrency: number;
}

async function child(a: ChildArgs): Promise<void> {
  const calls: Call[] = [];
  for (const s of a.sides)
    calls.push(
      s.dist === undefined
        ? onceMore(await floorCall(a.provider, a.base))
        : await bakeoffCall(s.dist, a.provider, a.base),
    );
  // Warm every side (JIT, sockets) before anything is counted.
  for (const call of calls) await batch(call, 1000, a.concurrency, 0);
  const perSide: number[][] = a.sides.map(() => []);
  for (let r = 0; r < a.rounds; r++) {
    // Rotated order: no side always runs right after the same other one.
    for (let k = 0; k < calls.length; k++) {
      const s = (r + k) % calls.length;
      perSide[s]!.push(await batch(calls[s]!, a.batch, a.concurrency, r * a.batch));
    }
  }
  process.send!({ perSide });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return [s[Math.floor((s.length - 1) / 4)]!, s[Math.ceil(((s.length - 1) * 3) / 4)]!];
};

async function main(): Promise<void> {
  if (args[0] === "child") {
    process.once("message", (m: ChildArgs) => void child(m).then(() => process.disconnect()));
    return;
  }
  const provider = (option("--provider") ?? "azure-ai-inference") as Provider;
  if (provider !== "azure-ai-inference" && provider !== "openai")
    throw new Error(`--provider: azure-ai-inference or openai, not "${String(provider)}"`);
  const root = new URL("../", import.meta.url);
  const a = option("--a");
  const sides: ChildArgs["sides"] = [
    a === undefined
      ? { label: "a (dist/)", dist: new URL("dist/", root).href }
      : { label: `a (${a})`, dist: pathToFileURL(resolvePath(a)).href + "/" },
  ];
  const b = option("--b");
  if (b !== undefined) sides.push({ label: `b (${b})`, dist: pathToFileURL(resolvePath(b)).href + "/" });
  // `--no-floor`: the two builds only (more rounds in the same time when only a − b matters).
  const withFloor = !args.includes("--no-floor");
  if (withFloor) sides.push({ label: provider === "openai" ? "floor (node:http)" : "floor (ModelClient)" });
  const emulator = await spawnEmulator({ m0: fixedLatencyModel(0) });
  try {
    const childArgs: ChildArgs = {
      provider,
      base: emulator.url,
      sides,
      rounds: Number(option("--rounds") ?? 50),
      batch: Number(option("--batch") ?? 200),
      concurrency: Number(option("--concurrency") ?? 64),
    };
    const proc = fork(fileURLToPath(import.meta.url), ["child"], {
      execArgv: process.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const result = await new Promise<{ perSide: number[][] }>((resolve, reject) => {
      proc.once("message", (m: { perSide: number[][] }) => resolve(m));
      proc.once("exit", (code) => reject(new Error(`child exited ${code}`)));
      proc.send(childArgs);
    });
    const { perSide } = result;
    const fmt = (x: number) => x.toFixed(1).padStart(7);
    console.log(
      `${provider}: ${childArgs.rounds} rounds × ${childArgs.batch} calls per side, C = ${childArgs.concurrency}, 0 ms emulator, Node ${process.version}; CPU µs per call`,
    );
    // Under load a batch's CPU only ever goes up (waits for caches and cores), so the low
    // percentiles are the steadier estimate of what a call costs; the median is shown beside them.
    const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)]!;
    for (let s = 0; s < sides.length; s++) {
      const xs = perSide[s]!;
      console.log(
        `  ${sides[s]!.label.padEnd(28)} median ${fmt(median(xs))}  p10 ${fmt(pct(xs, 0.1))}  p25 ${fmt(pct(xs, 0.25))}  min ${fmt(Math.min(...xs))}`,
      );
    }
    const diff = (x: number[], y: number[]) => x.map((v, i) => v - y[i]!);
    const show = (label: string, d: number[]) => {
      const [q1, q3] = quartiles(d);
      console.log(`  ${label.padEnd(28)} median ${fmt(median(d))}  (quartiles ${q1!.toFixed(1)} … ${q3!.toFixed(1)})`);
    };
    if (withFloor) {
      const floor = perSide.at(-1)!;
      for (let s = 0; s < sides.length - 1; s++)
        show(`${sides[s]!.label.split(" ")[0]} − floor`, diff(perSide[s]!, floor));
    }
    if (b !== undefined) show("a − b", diff(perSide[0]!, perSide[1]!));
  } finally {
    await emulator.stop();
  }
}

await main();
