/**
 * Batch mode end to end against the emulator's Batch API: same records and scores as a live run,
 * splitting at the limits, failed and expired lines handed on, a kill while batches are in
 * flight then --resume (nothing submitted twice), cancel/status, and the config rules.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cancelBatches, batchStatus } from "../src/batch/admin.js";
import { batchRequestLine } from "../src/batch/input.js";
import { batchSettings } from "../src/batch/settings.js";
import { buildOpenAIRequest } from "../src/providers/openai.js";
import { ConfigError } from "../src/errors.js";
import { parseConfig, planRun, runEvaluation } from "../src/index.js";
import { startEmulator } from "../src/emulator/index.js";
import { readJournal } from "../src/store/journal.js";
import { readManifest } from "../src/store/manifest.js";
import type { PredictionRecord } from "../src/types.js";
import { BIN, runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const ROWS = 24;

async function dataset(dir: string, rows = ROWS): Promise<string> {
  const file = join(dir, "sums.jsonl");
  const lines = Array.from({ length: rows }, (_, i) =>
    JSON.stringify({ id: `r${i}`, prompt: `What is ${i} + ${i + 3}?`, expected: String(2 * i + 3) }),
  );
  await writeFile(file, lines.join("\n") + "\n");
  return file;
}

type Raw = Record<string, unknown>;

function config(file: string, over: { models?: Raw[]; emulator?: Raw; batch?: Raw } = {}): Raw {
  return {
    datasets: [{ path: file, scorers: [{ type: "numeric" }, { type: "finish_stop" }] }],
    models: over.models ?? [
      {
        name: "small",
        provider: "openai",
        endpoint: "emulator://small",
        model: "small",
        params: { temperature: 0, max_tokens: 40, seed: 7 },
        pricing: { inputPerMillion: 1, outputPerMillion: 2 },
      },
      {
        name: "large",
        provider: "openai",
        endpoint: "emulator://large",
        model: "large",
        api: "responses",
        params: { temperature: 0, max_tokens: 40, seed: 7 },
      },
    ],
    emulator: over.emulator ?? {
      models: {
        small: { accuracy: 0.6, latency: { medianMs: 1, p95Ms: 2 }, batch: { durationMs: 150 } },
        large: { accuracy: 0.9, latency: { medianMs: 1, p95Ms: 2 }, batch: { durationMs: 150 } },
      },
    },
    ...(over.batch ? { batch: over.batch } : {}),
    weave: { enabled: false },
  };
}

async function run(dir: string, raw: Raw, opts: { batch?: boolean; resume?: string } = {}) {
  const resume = opts.resume ? { runDir: opts.resume, manifest: await readManifest(opts.resume) } : undefined;
  // A resume runs the config the run started with (run.json's snapshot), as `run --resume` does.
  const loaded = parseConfig(resume ? resume.manifest.config : raw, { baseDir: dir });
  const plan = await planRun(loaded, { env: { EMU_KEY: "emulator-no-key" }, ...(opts.batch ? { batch: true } : {}) });
  const logs: string[] = [];
  const result = await runEvaluation({
    plan,
    outputDir: join(dir, "results"),
    ...(resume ? { resume } : {}),
    log: (m) => logs.push(m),
  });
  return { result, logs };
}

async function records(runDir: string): Promise<PredictionRecord[]> {
  const out: PredictionRecord[] = [];
  for await (const r of readJournal(join(runDir, "predictions.jsonl"))) out.push(r);
  return out;
}

/** What must be equal between a live and a batched record of the same key. */
function essence(r: PredictionRecord) {
  return {
    text: r.output.text,
    finishReason: r.output.finishReason,
    usage: r.output.usage,
    error: r.output.error?.kind,
    scores: Object.fromEntries(Object.entries(r.scores).map(([k, s]) => [k, [s.value, s.pass]])),
  };
}

describe("batch mode", () => {
  it("a batch run records the same answers, usage and scores as the live run, at the batch price", async () => {
    const dir = await tempDir();
    const file = await dataset(dir);
    const live = await run(dir, config(file));
    const batched = await run(dir, config(file), { batch: true });
    expect(batched.result.status).toBe("complete");
    const a = new Map((await records(live.result.runDir)).map((r) => [r.key, essence(r)]));
    const bRecords = await records(batched.result.runDir);
    expect(bRecords).toHaveLength(ROWS * 2);
    expect(new Set(bRecords.map((r) => r.key)).size).toBe(ROWS * 2);
    for (const r of bRecords) {
      expect(r.output.batch?.id, r.key).toMatch(/^batch_/);
      expect(essence(r), r.key).toEqual(a.get(r.key));
    }
    // Usage details and finish reasons came through the live parser (responses API included).
    expect(bRecords.some((r) => r.model === "large" && (r.output.usage?.completionTokens ?? 0) > 0)).toBe(true);
    const m = batched.result.manifest;
    for (const mm of m.models) {
      expect(mm.batched).toBe(true);
      expect(mm.batches).toHaveLength(1);
      expect(mm.batches![0]).toMatchObject({ status: "completed", ingested: true, lines: ROWS });
    }
    const liveCost = live.result.report!.summary.models.find((x) => x.model === "small")!.cost!.total;
    const small = batched.result.report!.summary.models.find((x) => x.model === "small")!;
    expect(small.batched).toBe(ROWS);
    expect(small.cost!.total).toBeCloseTo(liveCost / 2, 12);
    const md = await readFile(join(batched.result.runDir, "report.md"), "utf8");
    expect(md).toMatch(/\| Batched \(batch price\) \| 24 \(100\.0%\) \| 24 \(100\.0%\) \|/);
    const json = JSON.parse(await readFile(join(batched.result.runDir, "report.json"), "utf8"));
    expect(json.run.models.map((x: { batched?: boolean }) => x.batched)).toEqual([true, true]);
  });

  it("splits input files at maxLines and maxBytes, without a byte-order mark, each line the live body", async () => {
    const dir = await tempDir();
    const file = await dataset(dir);
    const raw = config(file, { batch: { maxLines: 10 } });
    const { result } = await run(dir, raw, { batch: true });
    expect(result.status).toBe("complete");
    const small = result.manifest.models.find((m) => m.name === "small")!;
    expect(small.batches!.map((b) => b.lines)).toEqual([10, 10, 4]);
    for (const b of small.batches!) {
      const bytes = await readFile(join(result.runDir, b.input));
      expect(bytes[0]).not.toBe(0xef); // no UTF-8 BOM
      const lines = bytes.toString("utf8").trimEnd().split("\n");
      expect(lines).toHaveLength(b.lines);
      expect(bytes.length).toBe(b.bytes);
      const first = JSON.parse(lines[0]!);
      expect(first).toMatchObject({ method: "POST", url: "/v1/chat/completions", body: { model: "small" } });
      expect(first.body.messages[0].content).toMatch(/What is \d+ \+ \d+\?/);
      expect(first.body).toMatchObject({ temperature: 0, max_tokens: 40, seed: 7 });
    }
    const large = result.manifest.models.find((m) => m.name === "large")!;
    const line = JSON.parse((await readFile(join(result.runDir, large.batches![0]!.input), "utf8")).split("\n")[0]!);
    expect(line.url).toBe("/v1/responses");
    expect(line.body.max_output_tokens).toBe(40);
    expect(await records(result.runDir)).toHaveLength(ROWS * 2);

    // A byte limit of ~3 lines splits the same rows into more files, none above the limit.
    const dir2 = await tempDir();
    const file2 = await dataset(dir2);
    const { result: r2 } = await run(dir2, config(file2, { batch: { maxBytes: 1000 } }), { batch: true });
    const parts = r2.manifest.models[0]!.batches!;
    expect(parts.length).toBeGreaterThan(3);
    for (const p of parts) expect(p.bytes).toBeLessThanOrEqual(1000);
    expect(parts.reduce((n, p) => n + p.lines, 0)).toBe(ROWS);
  });

  it("retries failed and expired lines live by default, and a failed batch too; nothing is lost", async () => {
    const dir = await tempDir();
    const file = await dataset(dir);
    const raw = config(file, {
      emulator: {
        models: {
          small: {
            accuracy: 0.6,
            latency: { medianMs: 1, p95Ms: 2 },
            batch: {
              durationMs: 150,
              faults: [
                { kind: "batch_expired", completedFraction: 0.5, attempts: 1 },
                { kind: "line_error", rate: 0.3, status: 500, attempts: 1 },
              ],
            },
          },
          large: {
            accuracy: 0.9,
            latency: { medianMs: 1, p95Ms: 2 },
            batch: { durationMs: 150, faults: [{ kind: "batch_failed", attempts: 1 }] },
          },
        },
      },
    });
    const { result } = await run(dir, raw, { batch: true });
    expect(result.status).toBe("complete");
    const recs = await records(result.runDir);
    expect(recs).toHaveLength(ROWS * 2);
    expect(recs.filter((r) => r.output.error)).toHaveLength(0);
    const small = recs.filter((r) => r.model === "small");
    const liveSmall = small.filter((r) => r.output.batch === undefined);
    // Half expired, some of the answered ones failed: those were sent live, the rest came by batch.
    expect(liveSmall.length).toBeGreaterThanOrEqual(ROWS / 2);
    expect(liveSmall.length).toBeLessThan(ROWS);
    // The failed batch: every line live.
    expect(recs.filter((r) => r.model === "large" && r.output.batch === undefined)).toHaveLength(ROWS);
    const parts = result.manifest.models.map((m) => m.batches![0]!.status);
    expect(parts).toEqual(["expired", "failed"]);
  });

  it('retryFailed: "batch" resubmits failed lines as a new batch', async () => {
    const dir = await tempDir();
    const file = await dataset(dir);
    const raw = config(file, {
      batch: { retryFailed: "batch" },
      models: [
        {
          name: "small",
          provider: "openai",
          endpoint: "emulator://small",
          model: "small",
          params: { temperature: 0, max_tokens: 40, seed: 7 },
        },
      ],
      emulator: {
        models: {
          small: {
            accuracy: 0.6,
            batch: { durationMs: 150, faults: [{ kind: "line_error", rate: 0.4, status: 429, attempts: 1 }] },
          },
        },
      },
    });
    const { result } = await run(dir, raw, { batch: true });
    expect(result.status).toBe("complete");
    const recs = await records(result.runDir);
    expect(recs).toHaveLength(ROWS);
    expect(recs.every((r) => r.output.batch !== undefined && r.output.error === undefined)).toBe(true);
    const parts = result.manifest.models[0]!.batches!;
    expect(parts.map((p) => p.generation)).toEqual([0, 1]);
    expect(parts[0]!.counts!.failed).toBe(parts[1]!.lines);
    expect(new Set(recs.map((r) => r.output.batch!.id)).size).toBe(2);
  });

  it("a kill while batches are in flight, then --resume: every record once, no line or batch submitted twice", async () => {
    const dir = await tempDir();
    const file = await dataset(dir);
    // The service must outlive the killed run: an emulator in this process, not emulator://.
    const emu = await startEmulator({
      models: { small: { accuracy: 0.6 }, large: { accuracy: 0.9 } },
      quiet: true,
      batch: { durationMs: 1500 },
    });
    try {
      await writeFile(join(dir, "eval.config.json"), JSON.stringify(config(file, served(emu, { maxLines: 10 }))));
      const env = { EMU_KEY: "emulator-no-key" };
      const child = spawn(process.execPath, [BIN, "run", "--batch", "--run-id", "k1", "--progress", "off"], {
        cwd: dir,
        env: { ...process.env, ...env, CI: "true" },
        stdio: "ignore",
      });
      const runDir = join(dir, "results", "k1");
      await until(async () => {
        const m = await readManifest(runDir).catch(() => undefined);
        return m?.models.some((x) => x.batches?.some((b) => b.status === "in_progress")) === true;
      });
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const before = await readManifest(runDir);
      expect(before.status).toBe("running");
      const created = emu.stats().batch.batchesCreated;
      expect(created).toBeGreaterThan(0);

      const status = await runCli(["batch", "status", "k1"], { cwd: dir, env });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/MODEL\s+PART\s+BATCH\s+STATUS/);
      expect(status.stdout).toMatch(/small\s+#1\s+batch_\w+\s+(validating|in_progress|finalizing|completed)/);

      const resumed = await runCli(["run", "--resume", "k1", "--progress", "off"], { cwd: dir, env });
      expect(resumed.code, resumed.stderr).toBe(0);
      const recs = await records(runDir);
      expect(recs).toHaveLength(ROWS * 2);
      expect(new Set(recs.map((r) => r.key)).size).toBe(ROWS * 2);
      const stats = emu.stats().batch;
      expect(stats.duplicateCustomIds).toBe(0);
      // Each input file became exactly one batch: 3 parts per model (24 rows, 10 lines a file).
      const after = await readManifest(runDir);
      const parts = after.models.flatMap((m) => m.batches ?? []);
      expect(parts).toHaveLength(6);
      expect(stats.batchesCreated).toBe(6);
      expect(new Set(parts.map((p) => p.batchId)).size).toBe(6);
      expect(Object.values(stats.byModel).every((m) => m.answeredTwice === 0)).toBe(true);
    } finally {
      await emu.close();
    }
  }, 60_000);

  it("batch cancel stops the batches in flight: the run ends incomplete, --resume completes it", async () => {
    const { dir, emu, raw, env, plan } = await slowOneModelBatch();
    try {
      let runDir = "";
      let cancelling: ReturnType<typeof cancelBatches> | undefined;
      const result = await runEvaluation({
        plan,
        outputDir: join(dir, "results"),
        sinks: (ctx) => {
          runDir = ctx.runDir;
          return [];
        },
        log: (m) => {
          if (/in_progress/.test(m) && cancelling === undefined) cancelling = cancelBatches(runDir, { env });
        },
      });
      const cancelled = await cancelling!;
      expect(cancelled.cancelled).toHaveLength(1);
      expect(cancelled.recorded).toBe(false); // the run held its lock and recorded it itself
      expect(result.status).toBe("incomplete");
      expect(result.manifest.models[0]!.batches![0]).toMatchObject({ status: "cancelled", ingested: true });
      const partial = (await records(runDir)).length;
      expect(partial).toBeLessThan(ROWS);

      const rows = await batchStatus(runDir, { env });
      expect(rows[0]).toMatchObject({ model: "small", part: 1, status: "cancelled", ingested: true });

      const again = await run(dir, raw, { resume: runDir });
      expect(again.result.status).toBe("complete");
      const recs = await records(runDir);
      expect(recs).toHaveLength(ROWS);
      expect(recs.every((r) => r.output.batch !== undefined)).toBe(true);
      expect(again.result.manifest.models[0]!.batches).toHaveLength(2);
      expect(new Set(recs.map((r) => r.key)).size).toBe(ROWS);
      expect(Object.values(emu.stats().batch.byModel).every((m) => m.answeredTwice === 0)).toBe(true);
    } finally {
      await emu.close();
    }
  }, 30_000);

  it("batch cancel on a stopped run records it; the next --resume resubmits the unanswered lines and completes", async () => {
    const { dir, emu, raw, env, plan } = await slowOneModelBatch();
    try {
      const stop = new AbortController();
      const first = await runEvaluation({
        plan,
        outputDir: join(dir, "results"),
        stopSignal: stop.signal,
        log: (m) => {
          if (/in_progress/.test(m)) stop.abort();
        },
      });
      expect(first.status).toBe("interrupted");
      const cancelled = await cancelBatches(first.runDir, { env });
      expect(cancelled).toMatchObject({ recorded: true, failed: [] });
      expect(cancelled.cancelled).toHaveLength(1);
      expect((await readManifest(first.runDir)).models[0]!.batches![0]!.status).toMatch(/^cancel/);

      const again = await run(dir, raw, { resume: first.runDir });
      expect(again.result.status).toBe("complete");
      const recs = await records(first.runDir);
      expect(recs).toHaveLength(ROWS);
      expect(recs.every((r) => r.output.batch !== undefined)).toBe(true);
      expect(new Set(recs.map((r) => r.key)).size).toBe(ROWS);
      const parts = again.result.manifest.models[0]!.batches!;
      expect(parts[0]).toMatchObject({ status: "cancelled", ingested: true });
      expect(parts.length).toBe(2); // the unanswered lines went out once more, as one new batch
      expect(Object.values(emu.stats().batch.byModel).every((m) => m.answeredTwice === 0)).toBe(true);
    } finally {
      await emu.close();
    }
  }, 30_000);

  it("batchModel names the batch deployment in the lines; the rest of the body is the live one", () => {
    const raw = config("x.jsonl", {
      models: [
        {
          name: "m",
          provider: "openai",
          endpoint: "https://r.openai.azure.com/openai/v1",
          model: "gpt-live",
          batchModel: "gpt-batch",
          apiKeyEnv: "K",
          stream: true,
          params: { temperature: 0.5, max_tokens: 9 },
        },
      ],
    });
    const model = parseConfig(raw).config.models[0]!;
    if (model.provider !== "openai") throw new Error("expected an openai model");
    const line = batchRequestLine(model, "d/r1/m/0", {
      messages: [{ role: "user", content: "hi" }],
      params: model.params,
    });
    const live = buildOpenAIRequest(model, { messages: [{ role: "user", content: "hi" }], params: model.params });
    // Streaming is a live-only transport detail: a batch answer is one JSON document.
    const { stream: _s, stream_options: _o, ...liveBody } = live.body;
    expect(line).toEqual({
      custom_id: "d/r1/m/0",
      method: "POST",
      url: "/v1/chat/completions",
      body: { ...liveBody, model: "gpt-batch" },
    });
    expect(batchSettings(undefined, model.endpoint)).toMatchObject({ maxLines: 100_000, pollIntervalMs: 60_000 });
    expect(batchSettings(undefined, "https://api.openai.com/v1")).toMatchObject({ maxLines: 50_000 });
    expect(batchSettings(undefined, "emulator://small").pollIntervalMs).toBeLessThan(1000);
  });

  it("a non-openai model with batch: true is a config error at its JSON path", () => {
    const raw = config("x.jsonl", {
      models: [{ name: "m", endpoint: "emulator://small", batch: true, batchModel: "m-batch" }],
    });
    let err: unknown;
    try {
      parseConfig(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/models\[0\]\.batch: batch mode needs "provider": "openai"/);
    expect(msg).toMatch(/models\[0\]\.batchModel: /);
  });
});

/** One emulated model whose batches take 3 s, planned in batch mode: time to cancel them in flight. */
async function slowOneModelBatch() {
  const dir = await tempDir();
  const file = await dataset(dir);
  const emu = await startEmulator({ models: { small: { accuracy: 0.6 } }, quiet: true, batch: { durationMs: 3000 } });
  const raw = config(file, served(emu, {}));
  raw.models = (raw.models as Raw[]).slice(0, 1);
  const env = { EMU_KEY: "emulator-no-key" };
  const plan = await planRun(parseConfig(raw, { baseDir: dir }), { env, batch: true });
  return { dir, emu, raw, env, plan };
}

/** Models and config for an emulator the test started (a real http endpoint that outlives a run). */
function served(emu: { endpointFor(sim: string): string }, batch: Raw): { models: Raw[]; emulator: Raw; batch: Raw } {
  const model = (name: string, extra: Raw = {}) => ({
    name,
    provider: "openai",
    endpoint: `${emu.endpointFor(name)}/openai/v1`,
    model: name,
    apiKeyEnv: "EMU_KEY",
    params: { temperature: 0, max_tokens: 40, seed: 7 },
    ...extra,
  });
  return {
    models: [model("small"), model("large", { api: "responses" })],
    emulator: { models: {} },
    batch: { pollInterval: "100ms", ...batch },
  };
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
