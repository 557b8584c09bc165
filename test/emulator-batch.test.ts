/**
 * The emulator's OpenAI Batch API, driven by the real `openai` client over HTTP on 127.0.0.1:
 * files, batches, the lifecycle on the compressed clock, output and error files, batch faults,
 * cancel, validation, pagination, auth and the duplicate counters. Durations are tiny (or the
 * clock is moved by hand), and nothing asserts on time.
 */
import OpenAI, { AzureOpenAI, toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from "../src/emulator/index.js";
import { multipartBoundary, parseMultipart } from "../src/emulator/multipart.js";

const KEY = "test-key";
/** Live calls made for comparison answer at once. */
const FAST = { medianMs: 1, p95Ms: 1 };
const TERMINAL = new Set(["completed", "failed", "expired", "cancelled"]);

let emulator: EmulatorHandle | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(models: EmulatorOptions["models"], batch?: EmulatorOptions["batch"]): Promise<EmulatorHandle> {
  emulator = await startEmulator({ models, quiet: true, ...(batch ? { batch } : {}) });
  return emulator;
}

function client(baseURL: string, apiKey = KEY): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0 });
}

interface Line {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

function chatLine(id: string, content: string, model = "small"): Line {
  return {
    custom_id: id,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model, messages: [{ role: "user", content }], max_tokens: 50 },
  };
}

function arithmeticLines(n: number, model = "small", prefix = "row"): Line[] {
  return Array.from({ length: n }, (_, i) => chatLine(`${prefix}-${i}`, `What is ${i + 3} * ${i + 7}?`, model));
}

function jsonl(lines: readonly unknown[]): Buffer {
  return Buffer.from(lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l)) + "\n").join(""));
}

async function upload(openai: OpenAI, data: Buffer, name = "input.jsonl"): Promise<string> {
  const file = await openai.files.create({ file: await toFile(data, name), purpose: "batch" });
  return file.id;
}

async function submit(openai: OpenAI, lines: readonly unknown[], endpoint = "/v1/chat/completions"): Promise<Batch> {
  const inputFileId = await upload(openai, jsonl(lines));
  return openai.batches.create({
    input_file_id: inputFileId,
    endpoint: endpoint as "/v1/chat/completions",
    completion_window: "24h",
  });
}

/** Polls until the batch is terminal, returning every state seen. */
async function settle(openai: OpenAI, id: string): Promise<Batch[]> {
  const seen: Batch[] = [];
  for (;;) {
    const batch = await openai.batches.retrieve(id);
    seen.push(batch);
    if (TERMINAL.has(batch.status)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

async function download(openai: OpenAI, fileId: string | null | undefined): Promise<OutputLine[]> {
  if (fileId === null || fileId === undefined) return [];
  const text = await (await openai.files.content(fileId)).text();
  expect(text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as OutputLine);
}

/** What a chat answer is scored and recorded on: text, finish reason, usage. */
function chatEssence(body: unknown): unknown {
  const b = body as { choices: Array<{ message: unknown; finish_reason: string }>; usage: unknown; model: string };
  return { message: b.choices[0]?.message, finish: b.choices[0]?.finish_reason, usage: b.usage, model: b.model };
}

describe("emulator Batch API: the happy path", () => {
  it("runs a chat batch under a sim's own endpoint to completion; every custom_id is answered once, as live", async () => {
    const emu = await start({ small: { apiKey: KEY, latency: FAST, batch: { durationMs: 40 } } });
    const openai = client(`${emu.endpointFor("small")}/openai/v1`);
    const lines = arithmeticLines(30);
    const created = await submit(openai, lines);
    expect(created).toMatchObject({ object: "batch", status: "validating", completion_window: "24h" });
    expect(created.endpoint).toBe("/v1/chat/completions");

    const seen = await settle(openai, created.id);
    const done = seen[seen.length - 1]!;
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 30, completed: 30, failed: 0 });
    expect(done.error_file_id).toBeNull();
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    // Statuses only ever move forward through the lifecycle.
    const order = ["validating", "in_progress", "finalizing", "completed"];
    const ranks = seen.map((b) => order.indexOf(b.status));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!))).toBe(true);

    const output = await download(openai, done.output_file_id);
    expect(output.map((o) => o.custom_id).sort()).toEqual(lines.map((l) => l.custom_id).sort());
    expect(output.map((o) => o.custom_id)).not.toEqual(lines.map((l) => l.custom_id)); // not the input order
    const live = await Promise.all(
      output.map((out) => {
        const line = lines.find((l) => l.custom_id === out.custom_id)!;
        return openai.chat.completions.create(line.body as never);
      }),
    );
    let usageIn = 0;
    for (const [i, out] of output.entries()) {
      expect(out.error).toBeNull();
      expect(out.response?.status_code).toBe(200);
      expect(out.id).toMatch(/^batch_req_/);
      expect(chatEssence(out.response!.body)).toEqual(chatEssence(live[i]));
      usageIn += live[i]!.usage!.prompt_tokens;
    }
    expect(done.usage?.input_tokens).toBe(usageIn);

    const stats = emu.stats().batch;
    expect(stats).toMatchObject({ filesUploaded: 1, batchesCreated: 1, duplicateCustomIds: 0 });
    expect(stats.byModel["small"]).toMatchObject({
      batches: 1,
      linesSubmitted: 30,
      distinctCustomIds: 30,
      duplicateCustomIds: 0,
      answeredTwice: 0,
      linesCompleted: 30,
      linesFailed: 0,
    });
    // Batch lines are not live completions.
    expect(emu.stats().byModel["small"]?.completions).toBe(30); // the 30 live calls above only
  });

  it("answers Responses lines on the multi-model root, routed by body.model, as the live Responses API does", async () => {
    const emu = await start({ small: {}, large: { latency: FAST, batch: { durationMs: 20 } } });
    const openai = client(`${emu.url}/v1`);
    const lines = Array.from({ length: 6 }, (_, i) => ({
      custom_id: `r${i}`,
      method: "POST",
      url: "/v1/responses",
      body: { model: "large", input: `What is ${i} + 11?` },
    }));
    const batch = await submit(openai, lines, "/v1/responses");
    const done = (await settle(openai, batch.id)).pop()!;
    expect(done.status).toBe("completed");
    expect(done.model).toBe("emulated-large");
    const output = await download(openai, done.output_file_id);
    expect(output).toHaveLength(6);
    for (const out of output) {
      const line = lines.find((l) => l.custom_id === out.custom_id)!;
      const live = await openai.responses.create(line.body as never);
      const body = out.response!.body as { output: unknown; usage: unknown; status: string };
      expect({ output: stripIds(body.output), usage: body.usage, status: body.status }).toEqual({
        output: stripIds(live.output),
        usage: live.usage,
        status: live.status,
      });
    }
    expect(emu.stats().batch.byModel["large"]?.linesCompleted).toBe(6);
    expect(emu.stats().batch.byModel["small"]).toBeUndefined();
  });

  it("shows progress in request_counts while in progress, on a hand-moved clock", async () => {
    let now = 1_000_000;
    const emu = await start({ small: { batch: { durationMs: 1000 } } }, { clock: () => now });
    const openai = client(`${emu.url}/small/v1`, "unused");
    const batch = await submit(openai, arithmeticLines(10));
    expect((await openai.batches.retrieve(batch.id)).status).toBe("validating");
    now += 100; // validation ends (10% of the duration)
    expect(await openai.batches.retrieve(batch.id)).toMatchObject({
      status: "in_progress",
      request_counts: { total: 10, completed: 0, failed: 0 },
    });
    now += 400; // half of the processing span
    expect(await openai.batches.retrieve(batch.id)).toMatchObject({
      status: "in_progress",
      request_counts: { total: 10, completed: 5, failed: 0 },
    });
    expect(emu.stats().batch.byModel["small"]?.linesCompleted).toBe(5);
    now += 400;
    expect((await openai.batches.retrieve(batch.id)).status).toBe("finalizing");
    now += 100;
    const done = await openai.batches.retrieve(batch.id);
    expect(done.status).toBe("completed");
    expect(done.in_progress_at).toBe(1000);
    expect(done.completed_at).toBe(1001);
  });

  it("serves Azure OpenAI's pre-v1 data plane (/openai/files, /openai/batches?api-version=) to the AzureOpenAI client", async () => {
    const emu = await start({ small: { apiKey: KEY, batch: { durationMs: 10 } } });
    const azure = new AzureOpenAI({ endpoint: emu.url, apiKey: KEY, apiVersion: "2024-10-21", maxRetries: 0 });
    const inputFileId = await upload(azure, jsonl(arithmeticLines(3).map((l) => ({ ...l, url: "/chat/completions" }))));
    const batch = await azure.batches.create({
      input_file_id: inputFileId,
      endpoint: "/chat/completions" as "/v1/chat/completions",
      completion_window: "24h",
    });
    const done = (await settle(azure, batch.id)).pop()!;
    expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(await download(azure, done.output_file_id)).toHaveLength(3);
    expect(emu.stats().apiVersions["2024-10-21"]).toBeGreaterThan(3);
  });

  it("serves file objects, raw content, listing and deletion", async () => {
    const emu = await start({ small: {} });
    const openai = client(`${emu.url}/openai/v1`, "k");
    const data = jsonl(arithmeticLines(3));
    const id = await upload(openai, data, "rows.jsonl");
    const file = await openai.files.retrieve(id);
    expect(file).toMatchObject({ id, object: "file", bytes: data.length, filename: "rows.jsonl", purpose: "batch" });
    expect(Buffer.from(await (await openai.files.content(id)).arrayBuffer()).equals(data)).toBe(true);
    const other = await upload(openai, jsonl(arithmeticLines(1)));
    const listed = await openai.files.list({ purpose: "batch" });
    expect(listed.data.map((f) => f.id)).toEqual([other, id]);
    expect(await openai.files.delete(id)).toEqual({ id, object: "file", deleted: true });
    await expect(openai.files.retrieve(id)).rejects.toMatchObject({ status: 404 });
    // Files belong to the endpoint they were uploaded to, as to one resource.
    await expect(client(`${emu.url}/small/openai/v1`).files.retrieve(other)).rejects.toMatchObject({ status: 404 });
  });
});

/** Output items without their random ids, to compare a batch answer with a live one. */
function stripIds(items: unknown): unknown {
  return JSON.parse(JSON.stringify(items, (key, value: unknown) => (key === "id" ? undefined : value)));
}

describe("emulator Batch API: faults", () => {
  it("fails a batch in validation (batch_failed) and takes the same file again once the fault's attempts are spent", async () => {
    const emu = await start({ small: { batch: { durationMs: 10, faults: [{ kind: "batch_failed", attempts: 1 }] } } });
    const openai = client(`${emu.url}/small/openai/v1`);
    const inputFileId = await upload(openai, jsonl(arithmeticLines(4)));
    const create = () =>
      openai.batches.create({ input_file_id: inputFileId, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const failed = (await settle(openai, (await create()).id)).pop()!;
    expect(failed.status).toBe("failed");
    expect(failed.failed_at).toEqual(expect.any(Number));
    expect(failed.errors?.data?.[0]).toMatchObject({ code: "token_limit_exceeded", line: null });
    expect(failed.output_file_id).toBeNull();
    expect(failed.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
    const retried = (await settle(openai, (await create()).id)).pop()!;
    expect(retried.status).toBe("completed");
    expect(retried.request_counts?.completed).toBe(4);
    // A batch that failed validation submitted nothing: the retry is no duplicate.
    expect(emu.stats().batch.byModel["small"]).toMatchObject({ batches: 2, linesSubmitted: 4, duplicateCustomIds: 0 });
  });

  it("expires a batch (batch_expired): the answered share in the output file, the rest as batch_expired in the error file", async () => {
    const emu = await start({
      small: { batch: { durationMs: 20, faults: [{ kind: "batch_expired", completedFraction: 0.3 }] } },
    });
    const openai = client(`${emu.url}/small/openai/v1`);
    const lines = arithmeticLines(10);
    const done = (await settle(openai, (await submit(openai, lines)).id)).pop()!;
    expect(done.status).toBe("expired");
    expect(done.expired_at).toEqual(expect.any(Number));
    expect(done.request_counts).toEqual({ total: 10, completed: 3, failed: 7 });
    const output = await download(openai, done.output_file_id);
    const errors = await download(openai, done.error_file_id);
    expect(output).toHaveLength(3);
    expect(errors).toHaveLength(7);
    for (const e of errors) {
      expect(e.response).toBeNull();
      expect(e.error?.code).toBe("batch_expired");
    }
    const ids = [...output, ...errors].map((o) => o.custom_id).sort();
    expect(ids).toEqual(lines.map((l) => l.custom_id).sort());
    expect(emu.stats().batch.byModel["small"]).toMatchObject({ linesCompleted: 3, linesExpired: 7 });
  });

  it("fails single lines (line_error) into the error file with the configured status and an error body", async () => {
    const emu = await start({
      small: { batch: { durationMs: 10, faults: [{ kind: "line_error", rate: 0.5, status: 429 }] } },
    });
    const openai = client(`${emu.url}/small/openai/v1`);
    const lines = arithmeticLines(40);
    const done = (await settle(openai, (await submit(openai, lines)).id)).pop()!;
    expect(done.status).toBe("completed");
    const output = await download(openai, done.output_file_id);
    const errors = await download(openai, done.error_file_id);
    expect(errors.length).toBeGreaterThan(5);
    expect(output.length).toBeGreaterThan(5);
    expect(done.request_counts).toEqual({ total: 40, completed: output.length, failed: errors.length });
    for (const e of errors) {
      expect(e.error).toBeNull();
      expect(e.response?.status_code).toBe(429);
      expect(e.response?.body).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    }
    expect(new Set([...output, ...errors].map((o) => o.custom_id)).size).toBe(40);
    expect(emu.stats().batch.byModel["small"]).toMatchObject({
      linesCompleted: output.length,
      linesFailed: errors.length,
    });
  });

  it("puts a line the model rejects (a bad body) in the error file with the live 400", async () => {
    const emu = await start({ small: { batch: { durationMs: 10 } } });
    const openai = client(`${emu.url}/small/openai/v1`);
    const bad = {
      custom_id: "bad",
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "small", messages: [] },
    };
    const done = (await settle(openai, (await submit(openai, [...arithmeticLines(2), bad])).id)).pop()!;
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const [error] = await download(openai, done.error_file_id);
    expect(error?.custom_id).toBe("bad");
    expect(error?.response?.status_code).toBe(400);
    const live = await openai.chat.completions.create(bad.body as never).catch((e: { status: number }) => e);
    expect(live).toMatchObject({ status: 400 });
  });

  it("does not apply live faults to batch lines", async () => {
    const emu = await start({ small: { faults: [{ kind: "server_error" }], batch: { durationMs: 10 } } });
    const openai = client(`${emu.url}/small/openai/v1`);
    await expect(openai.chat.completions.create(arithmeticLines(1)[0]!.body as never)).rejects.toMatchObject({
      status: 500,
    });
    const done = (await settle(openai, (await submit(openai, arithmeticLines(8))).id)).pop()!;
    expect(done.request_counts).toEqual({ total: 8, completed: 8, failed: 0 });
  });
});

describe("emulator Batch API: live faults, when stated", () => {
  it("applies live faults to batch lines with batch.liveFaults, sharing the live attempt count", async () => {
    const emu = await start({
      small: {
        faults: [{ kind: "rate_limit", attempts: 1 }],
        batch: { durationMs: 10, liveFaults: true, faults: [] },
      },
      large: { faults: [{ kind: "output_filter" }], batch: { durationMs: 10, liveFaults: true } },
    });
    const openai = client(`${emu.url}/small/openai/v1`);
    const first = (await settle(openai, (await submit(openai, arithmeticLines(5))).id)).pop()!;
    expect(first.request_counts).toEqual({ total: 5, completed: 0, failed: 5 });
    const errors = await download(openai, first.error_file_id);
    expect(errors.map((e) => e.response?.status_code)).toEqual([429, 429, 429, 429, 429]);
    // Second attempt of each prompt: past `attempts: 1`, answered.
    const second = (await settle(openai, (await submit(openai, arithmeticLines(5))).id)).pop()!;
    expect(second.request_counts).toEqual({ total: 5, completed: 5, failed: 0 });
    expect(emu.stats().faults["rate_limit"]).toBe(5);

    const large = client(`${emu.url}/large/openai/v1`);
    const filtered = (await settle(large, (await submit(large, arithmeticLines(2, "large"))).id)).pop()!;
    const output = await download(large, filtered.output_file_id);
    expect(output.map((o) => chatEssence(o.response?.body))).toEqual(
      Array(2).fill(
        expect.objectContaining({ finish: "content_filter", message: { role: "assistant", content: null } }),
      ),
    );
  });
});

describe("emulator Batch API: cancel", () => {
  it("cancels mid-flight: lines answered before stay in the output file, the rest are not answered", async () => {
    let now = 5_000_000;
    const emu = await start({ small: { batch: { durationMs: 1000 } } }, { clock: () => now });
    const openai = client(`${emu.url}/small/openai/v1`);
    const lines = arithmeticLines(10);
    const batch = await submit(openai, lines);
    now += 100 + 320; // validated, then 40% of the processing span
    const cancelling = await openai.batches.cancel(batch.id);
    expect(cancelling).toMatchObject({ status: "cancelling", request_counts: { total: 10, completed: 4 } });
    expect(cancelling.cancelling_at).toBe(5000);
    now += 400; // past when the lines would have been answered
    expect((await openai.batches.retrieve(batch.id)).request_counts?.completed).toBe(4);
    now += 200;
    const cancelled = await openai.batches.retrieve(batch.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.cancelled_at).toEqual(expect.any(Number));
    const output = await download(openai, cancelled.output_file_id);
    expect(output).toHaveLength(4);
    expect(cancelled.error_file_id).toBeNull();
    expect(emu.stats().batch.byModel["small"]).toMatchObject({ linesCompleted: 4, linesCancelled: 6 });
    // A finished batch cannot be cancelled.
    await expect(openai.batches.cancel(batch.id)).rejects.toMatchObject({ status: 409 });
    await expect(openai.batches.cancel("batch_nope")).rejects.toMatchObject({ status: 404 });
  });
});

describe("emulator Batch API: validation", () => {
  it("refuses a file with a byte-order mark, a non-batch purpose and a missing file at upload", async () => {
    const emu = await start({ small: {} });
    const openai = client(`${emu.url}/small/openai/v1`);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), jsonl(arithmeticLines(1))]);
    await expect(upload(openai, bom)).rejects.toMatchObject({
      status: 400,
      error: { code: "invalid_file_format", param: "file" },
    });
    await expect(
      openai.files.create({ file: await toFile(jsonl(arithmeticLines(1)), "a.jsonl"), purpose: "fine-tune" }),
    ).rejects.toMatchObject({ status: 400, error: { param: "purpose" } });
    await expect(upload(openai, Buffer.alloc(0))).rejects.toMatchObject({ status: 400 });
    expect(emu.stats().batch.filesUploaded).toBe(0);
  });

  it("fails a batch whose lines are malformed, naming each bad line", async () => {
    const emu = await start({ small: { batch: { durationMs: 10 } } });
    const openai = client(`${emu.url}/small/openai/v1`);
    const good = arithmeticLines(2);
    const lines = [
      good[0]!, // line 1
      "{not json", // 2
      { method: "POST", url: "/v1/chat/completions", body: { model: "small" } }, // 3: no custom_id
      { ...good[1]!, custom_id: good[0]!.custom_id }, // 4: duplicate
      { ...good[1]!, custom_id: "u", url: "/v1/embeddings" }, // 5: unsupported url
      { ...good[1]!, custom_id: "m", body: { ...good[1]!.body, model: "large" } }, // 6: mixed model
      { ...good[1]!, custom_id: "g", method: "GET" }, // 7
      { ...good[1]!, custom_id: "r", url: "/v1/responses" }, // 8: not the batch's endpoint
    ];
    const done = (await settle(openai, (await submit(openai, lines)).id)).pop()!;
    expect(done.status).toBe("failed");
    const errors = done.errors?.data ?? [];
    expect(errors.map((e) => [e.line, e.code])).toEqual([
      [2, "invalid_json_line"],
      [3, "missing_required_parameter"],
      [4, "duplicate_custom_id"],
      [5, "invalid_url"],
      [6, "mismatched_model"],
      [7, "invalid_value"],
      [8, "invalid_url"],
    ]);
    expect(errors[1]?.param).toBe("custom_id");
    expect(emu.stats().batch.byModel["small"]?.linesSubmitted).toBe(0);
  });

  it("fails a multi-model batch whose model is unknown or missing, and one over the line limit", async () => {
    const emu = await start({ small: { batch: { durationMs: 10, maxLines: 3 } } });
    const openai = client(`${emu.url}/openai/v1`);
    const unknown = (await settle(openai, (await submit(openai, arithmeticLines(2, "nope"))).id)).pop()!;
    expect(unknown.errors?.data?.[0]?.code).toBe("model_not_found");
    const noModel = arithmeticLines(2).map((l) => ({ ...l, body: { messages: l.body["messages"] } }));
    const missing = (await settle(openai, (await submit(openai, noModel)).id)).pop()!;
    expect(missing.errors?.data?.[0]).toMatchObject({ code: "missing_required_parameter", param: "body.model" });
    const tooMany = (await settle(openai, (await submit(openai, arithmeticLines(4))).id)).pop()!;
    expect(tooMany.errors?.data?.[0]?.code).toBe("too_many_requests");
    expect(emu.stats().batch).toMatchObject({
      batchesCreated: 3,
      byModel: { small: { batches: 1, linesSubmitted: 0 } },
    });
  });

  it("refuses bad batch parameters with OpenAI-shaped 400s and unknown ids with 404s", async () => {
    const emu = await start({ small: {} });
    const openai = client(`${emu.url}/small/openai/v1`);
    const inputFileId = await upload(openai, jsonl(arithmeticLines(1)));
    const create = (params: Record<string, unknown>) =>
      openai.batches.create({
        input_file_id: inputFileId,
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
        ...params,
      } as never);
    await expect(create({ completion_window: "1h" })).rejects.toMatchObject({
      status: 400,
      error: { param: "completion_window", type: "invalid_request_error" },
    });
    await expect(create({ endpoint: "/v1/embeddings" })).rejects.toMatchObject({
      status: 400,
      error: { param: "endpoint" },
    });
    await expect(create({ input_file_id: "file-nope" })).rejects.toMatchObject({ status: 404 });
    await expect(create({ metadata: { k: 1 } })).rejects.toMatchObject({ status: 400, error: { param: "metadata" } });
    await expect(openai.batches.retrieve("batch_nope")).rejects.toMatchObject({ status: 404 });
    const withMeta = await create({ metadata: { run: "nightly" } });
    expect(withMeta.metadata).toEqual({ run: "nightly" });
  });
});

describe("emulator Batch API: listing, auth and the duplicate counter", () => {
  it("lists batches newest first, page by page with after/limit", async () => {
    const emu = await start({ small: { batch: { durationMs: 10 } } });
    const openai = client(`${emu.url}/small/openai/v1`);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(openai, arithmeticLines(1, "small", `b${i}`))).id);
    const first = await openai.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const batch of openai.batches.list({ limit: 2 })) all.push(batch.id);
    expect(all).toEqual([...ids].reverse());
    const last = await openai.batches.list({ limit: 2, after: ids[1]! });
    expect(last.data.map((b) => b.id)).toEqual([ids[0]]);
    expect(last.has_more).toBe(false);
  });

  it("refuses files and batches without the sim's key, on a sim's endpoint and on the multi-model root", async () => {
    const emu = await start({ small: { apiKey: KEY }, large: { apiKey: "other" } });
    for (const base of [`${emu.url}/small/openai/v1`, `${emu.url}/v1`]) {
      await expect(upload(client(base, "wrong"), jsonl(arithmeticLines(1)))).rejects.toMatchObject({ status: 401 });
      await expect(client(base, "wrong").batches.list()).rejects.toMatchObject({ status: 401 });
    }
    // The root takes any sim's key, but a batch runs only with the key of the model its lines name.
    const root = client(`${emu.url}/v1`, "other");
    const inputFileId = await upload(root, jsonl(arithmeticLines(1, "small")));
    await expect(
      root.batches.create({ input_file_id: inputFileId, endpoint: "/v1/chat/completions", completion_window: "24h" }),
    ).rejects.toMatchObject({ status: 401 });
    const withHeader = await fetch(`${emu.url}/small/openai/v1/batches`, { headers: { "api-key": KEY } });
    expect(withHeader.status).toBe(200);
    const without = await fetch(`${emu.url}/small/openai/v1/files`);
    expect(without.status).toBe(401);
    expect(await without.json()).toMatchObject({ statusCode: 401 });
  });

  it("counts custom_ids submitted in more than one batch, and those answered twice", async () => {
    const emu = await start({ small: { batch: { durationMs: 5 } } });
    const openai = client(`${emu.url}/small/openai/v1`);
    await settle(openai, (await submit(openai, arithmeticLines(6))).id);
    expect(emu.stats().batch.duplicateCustomIds).toBe(0);
    // Four of the six again (as a resume that forgot its batch would), plus two new ones.
    const again = [...arithmeticLines(4), ...arithmeticLines(2, "small", "new")];
    await settle(openai, (await submit(openai, again)).id);
    const stats = emu.stats();
    expect(stats.batch.duplicateCustomIds).toBe(4);
    expect(stats.batch.byModel["small"]).toMatchObject({
      batches: 2,
      linesSubmitted: 12,
      distinctCustomIds: 8,
      duplicateCustomIds: 4,
      answeredTwice: 4,
    });
    const served = (await (await fetch(`${emu.url}/_emulator/stats`)).json()) as typeof stats;
    expect(served.batch.duplicateCustomIds).toBe(4);
    emu.resetStats();
    expect(emu.stats().batch).toEqual({ filesUploaded: 0, batchesCreated: 0, duplicateCustomIds: 0, byModel: {} });
  });
});

describe("emulator Batch API: config and the multipart parser", () => {
  it("names the JSON path of a bad batch option", async () => {
    const bad = startEmulator({
      models: { small: { batch: { faults: [{ kind: "batch_failed", status: 429 }] } } },
      quiet: true,
    });
    await expect(bad).rejects.toThrow(/emulator\.models\.small\.batch\.faults\.0\.status/);
    await expect(startEmulator({ models: { small: { batch: { durationMs: -1 } } }, quiet: true })).rejects.toThrow(
      /emulator\.models\.small\.batch\.durationMs/,
    );
  });

  it("parses multipart bodies as RFC 7578 writes them: quoted boundary, preamble, binary data, escaped names", () => {
    expect(multipartBoundary('multipart/form-data; boundary="a b:c"')).toBe("a b:c");
    expect(multipartBoundary("multipart/form-data; charset=utf-8; boundary=xyz")).toBe("xyz");
    expect(multipartBoundary("application/json")).toBeUndefined();
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x0d, 0x0a, 0x2d, 0x2d, 0x00]);
    const body = Buffer.concat([
      Buffer.from('preamble\r\n--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--xyz\r\n'),
      Buffer.from('Content-Disposition: form-data; name="file"; filename="we \\"quote\\".jsonl"\r\n'),
      Buffer.from("Content-Type: application/octet-stream\r\n\r\n"),
      bytes,
      Buffer.from("\r\n--xyz--\r\n"),
    ]);
    const parsed = parseMultipart(body, "xyz");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ["purpose", undefined, undefined],
      ["file", 'we "quote".jsonl', "application/octet-stream"],
    ]);
    expect(parsed.parts[0]!.data.toString()).toBe("batch");
    expect(parsed.parts[1]!.data.equals(bytes)).toBe(true);
    expect(parseMultipart(Buffer.from('--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx'), "xyz")).toEqual({
      ok: false,
      message: "the multipart body ends before its closing boundary",
    });
    expect(parseMultipart(Buffer.from("--xyz\r\nContent-Type: text/plain\r\n\r\nx\r\n--xyz--"), "xyz").ok).toBe(false);
  });
});
