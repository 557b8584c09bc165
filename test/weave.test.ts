/**
 * Weave logging end to end against a fake trace server: the real `weave@0.11.1` SDK runs in the
 * child process (dist/tracking/weave-child.js, built by `npm test`), talking HTTP to 127.0.0.1.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JournalWriter, PREDICTIONS_FILE } from "../src/store/journal.js";
import { writeManifest } from "../src/store/manifest.js";
import { sanitize } from "../src/tracking/sanitize.js";
import { SummaryBuilder } from "../src/report/summary.js";
import { WeaveSummaryAccumulator } from "../src/tracking/weave-summary.js";
import { netrcHasPassword } from "../src/tracking/weave-settings.js";
import { resolveWeaveSettings, startWeaveSink, syncRunToWeave, type WeaveResult } from "../src/tracking/weave.js";
import {
  closedPortUrl,
  opNameOf,
  startFakeTraceServer,
  type FakeMode,
  type FakeTraceServer,
} from "./helpers/fake-trace-server.js";
import { fakeManifest, fakeRecords } from "./helpers/weave-fixtures.js";

const KEY = "dummy-wandb-key-4f8a2c";
const MODELS = ["small", "large"];
const ROWS = 10;
const RUN = "2025-01-01T00-00-00-abc";

const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};
beforeAll(() => process.on("unhandledRejection", onRejection));
afterAll(() => process.off("unhandledRejection", onRejection));

let server: FakeTraceServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function envFor(url: string): NodeJS.ProcessEnv {
  return { ...process.env, WANDB_API_KEY: KEY, WF_TRACE_SERVER_URL: url, WANDB_BASE_URL: undefined };
}

type SinkOptions = Parameters<typeof startWeaveSink>[0];

/** A sink for this file's run of `rows` rows per model, with the warnings it gives. */
function startSink(rows: number, options: Omit<SinkOptions, "project" | "runId" | "manifest" | "onWarning">) {
  const warnings: string[] = [];
  const sink = startWeaveSink({
    project: "team/bakeoff",
    runId: RUN,
    manifest: fakeManifest(RUN, MODELS, rows),
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  return { sink, warnings };
}

async function runSink(url: string, opts: { finishTimeoutMs?: number; maxBacklog?: number; rows?: number } = {}) {
  const { sink, warnings } = startSink(opts.rows ?? ROWS, {
    env: envFor(url),
    finishTimeoutMs: opts.finishTimeoutMs ?? 20_000,
    ...(opts.maxBacklog !== undefined ? { maxBacklog: opts.maxBacklog } : {}),
  });
  for (const rec of fakeRecords(MODELS, opts.rows ?? ROWS)) sink.record(rec);
  const result = await sink.finish();
  return { result, warnings };
}

async function writeRun(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bakeoff-weave-"));
  await writeManifest(dir, fakeManifest(RUN, MODELS, ROWS));
  const journal = await JournalWriter.open(join(dir, PREDICTIONS_FILE));
  for (const rec of fakeRecords(MODELS, ROWS)) journal.append(rec);
  await journal.close();
  return dir;
}

function expectUploadedEverything(srv: FakeTraceServer, result: WeaveResult): void {
  expect(result).toMatchObject({ ok: true, uploaded: MODELS.length * ROWS, dropped: 0 });
  // The first prediction (and each model's first if its evaluation had not started by then) goes
  // through the SDK, which teaches the direct path; test/weave-direct.test.ts compares both paths.
  expect(result.direct).toBeGreaterThanOrEqual(MODELS.length * (ROWS - 1));
  expect(result.direct).toBeLessThan(MODELS.length * ROWS);
  const evaluations = srv.callsByOp("Evaluation.evaluate");
  expect(evaluations.map((c) => c.attributes["bakeoff_model"]).sort()).toEqual([...MODELS].sort());
  expect(srv.callsByOp("Model.predict")).toHaveLength(MODELS.length * ROWS);
  for (const ev of evaluations) expect(ev.ended).toBe(true);
}

describe("Weave sink against a healthy trace server", () => {
  it("logs one evaluation per model with predictions, finish reasons, scores, usage and a numeric summary", async () => {
    server = await startFakeTraceServer();
    const { result, warnings } = await runSink(server.url);
    expect(warnings).toEqual([]);
    expectUploadedEverything(server, result);

    const evaluations = server.callsByOp("Evaluation.evaluate");
    for (const ev of evaluations) {
      const model = ev.attributes["bakeoff_model"] as string;
      expect(ev.attributes["bakeoff_run_id"]).toBe(RUN);
      // One predict_and_score per row under this evaluation, each with its own Model.predict.
      const pas = server.callsByOp("Evaluation.predict_and_score").filter((c) => c.parent_id === ev.id);
      expect(pas).toHaveLength(ROWS);
      const predicts = server.callsByOp("Model.predict").filter((c) => pas.some((p) => p.id === c.parent_id));
      expect(predicts).toHaveLength(ROWS);
      const row0 = predicts.find((p) => (p.inputs["arg0"] as { row_id: string }).row_id === "r0")!;
      expect(row0.output).toMatchObject({ text: `answer 0 from ${model}`, finish_reason: "stop", attempts: 1 });
      const row9 = predicts.find((p) => (p.inputs["arg0"] as { row_id: string }).row_id === "r9")!;
      expect(row9.output).toMatchObject({ text: null, finish_reason: "error", error_class: "server" });
      const row6 = predicts.find((p) => (p.inputs["arg0"] as { row_id: string }).row_id === "r6")!;
      expect(row6.output).toMatchObject({ finish_reason: "length" });
      // Scores are recorded on predict_and_score output.
      const pas0 = pas.find((p) => (p.inputs["example"] as { row_id: string }).row_id === "r0")!;
      expect(pas0.output).toMatchObject({ scores: { exact: { value: 1, pass: true }, length: { value: 0.5 } } });
      // Numeric summary: finish-reason counts and rates next to score means and tokens.
      expect(ev.output).toMatchObject({
        n: ROWS,
        errors: 1,
        error_rate: 0.1,
        finish_reason_count: { stop: 6, length: 1, content_filter: 1, tool_calls: 1, error: 1 },
        finish_reason_rate: { stop: 0.6, length: 0.1, content_filter: 0.1, tool_calls: 0.1, error: 0.1 },
        scores: { exact: { mean: 5 / 9, pass_rate: 5 / 9 }, length: { mean: 0.5 } },
        tokens: { prompt: 90, completion: 45, total: 135 },
      });
      // Token usage rolls up from the model-call ops into the evaluation (Weave's cost shape).
      expect(ev.summary).toMatchObject({
        usage: { [`${model}-served`]: { requests: 9, prompt_tokens: 90, completion_tokens: 45, total_tokens: 135 } },
      });
    }

    const modelCalls = server.callsByOp("bakeoff.model_call");
    expect(modelCalls).toHaveLength(MODELS.length * ROWS);
    const someCall = modelCalls.find((c) => (c.output as { finish_reason: string }).finish_reason === "stop")!;
    expect(someCall.summary).toMatchObject({ usage: { [`${someCall.display_name}-served`]: { prompt_tokens: 10 } } });
    expect(server.callsByOp("exact.score")).toHaveLength(MODELS.length * (ROWS - 1));
    // Every score is also attached to its Model.predict call as feedback, from the scorer call
    // (what the SDK's addScore sends), but in batches through /feedback/batch/create rather than
    // one /feedback/create request per score.
    const feedback = server.feedback();
    expect(feedback).toHaveLength(MODELS.length * (ROWS - 1) * 2);
    expect(server.countByRoute()["/feedback/create"] ?? 0).toBe(0);
    expect(server.countByRoute()["/feedback/batch/create"]).toBeLessThan(feedback.length);
    const callById = new Map(server.calls().map((c) => [c.id, c]));
    const callOf = (uri: string) => callById.get(uri.replace("weave:///team/bakeoff/call/", ""));
    for (const item of feedback) {
      const predict = callOf(item.weave_ref)!;
      const scorer = callOf(item.call_ref!)!;
      expect(opNameOf(predict.op_name)).toBe("Model.predict");
      const name = item.feedback_type.replace("wandb.runnable.", "");
      expect(opNameOf(scorer.op_name)).toBe(`${name}.score`);
      expect(scorer.parent_id).toBe(predict.parent_id);
      expect(item).toMatchObject({ project_id: "team/bakeoff", payload: { output: scorer.output } });
      expect(item.runnable_ref).toMatch(new RegExp(`^weave:///team/bakeoff/object/${name}:`));
    }
    // Each scorer object and `<name>.score` op is saved once, not once per score (the SDK rebuilds
    // them per score; identical saves cost requests and child CPU for nothing).
    const created = server.requests
      .filter((r) => r.path === "/obj/create")
      .map((r) => (r.body as { obj: { object_id: string; val: Record<string, unknown> } }).obj);
    expect(created.filter((o) => o.val["_type"] === "exact")).toHaveLength(1);
    expect(created.filter((o) => o.object_id === "exact.score")).toHaveLength(1);
    expect(server.countByRoute()["/file/create"] ?? 0).toBeLessThan(10);

    // Evaluation and model objects: findable names, model attributes with the endpoint host only.
    const objects = server.requests
      .filter((r) => r.path === "/obj/create")
      .map((r) => (r.body as { obj: { object_id: string; val: Record<string, unknown> } }).obj);
    const evalObj = objects.find((o) => o.val["_type"] === "Evaluation" && String(o.val["name"]).includes("large"))!;
    expect(evalObj.val["name"]).toBe(`${RUN} · qa · large`);
    const modelObj = objects.find((o) => o.val["_type"] === "Model" && o.val["name"] === "small")!;
    expect(modelObj.val).toMatchObject({
      provider: "azure-ai-inference",
      endpoint_host: "small.example.com",
      deployment: "small-deploy",
      params: { temperature: 0, max_tokens: 64 },
      info: { modelName: "small-v1" },
    });

    // Auth goes in the header only; the key, endpoint credentials and query never reach a body.
    for (const req of server.requests) {
      expect(req.authorization).toBe(`Basic ${Buffer.from(`api:${KEY}`).toString("base64")}`);
      expect(req.raw).not.toContain(KEY);
      expect(req.raw).not.toContain("secret@");
      expect(req.raw).not.toContain("api-key=leak");
    }
    expect([...server.unknownRoutes]).toEqual([]);
    expect(rejections).toEqual([]);
  });
});

describe("Weave score feedback", () => {
  it("falls back to one /feedback/create per score when the server has no batch route", async () => {
    server = await startFakeTraceServer();
    server.routeStatus["/feedback/batch/create"] = 404;
    const { result, warnings } = await runSink(server.url);
    expect(warnings).toEqual([]);
    expectUploadedEverything(server, result);
    const single = server.requests.filter((r) => r.path === "/feedback/create").map((r) => r.body);
    expect(single).toHaveLength(MODELS.length * (ROWS - 1) * 2);
    expect(new Set(single.map((b) => (b as { call_ref: string }).call_ref)).size).toBe(single.length);
  });

  it("counts feedback the server rejects and says so in one warning", async () => {
    server = await startFakeTraceServer();
    server.routeStatus["/feedback/batch/create"] = 400;
    const { result, warnings } = await runSink(server.url);
    expect(result).toMatchObject({ ok: false, uploaded: MODELS.length * ROWS, dropped: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/36 score\(s\) not attached to their predictions as feedback \(HTTP 400/);
    expect(warnings[0]).toContain(`bakeoff weave-sync results/${RUN}`);
  });
});

describe("Weave payload safety", () => {
  it("drops credential-named fields of a record before anything reaches the trace server", async () => {
    server = await startFakeTraceServer();
    const { sink, warnings } = startSink(1, { env: envFor(server.url), finishTimeoutMs: 20_000 });
    for (const rec of fakeRecords(MODELS, 1)) {
      // A dataset column named like a credential, and a long text the payload caps.
      rec.input.vars = { ...rec.input.vars, api_key: "sk-vars-leak-1", Authorization: "Bearer sk-leak-2" };
      rec.output.text = "y".repeat(150_000);
      sink.record(rec);
    }
    const result = await sink.finish();
    expect(warnings).toEqual([]);
    expect(result).toMatchObject({ ok: true, uploaded: MODELS.length });
    for (const req of server.requests) {
      expect(req.raw).not.toContain("sk-vars-leak-1");
      expect(req.raw).not.toContain("sk-leak-2");
    }
    const predict = server.callsByOp("Model.predict")[0]!;
    expect((predict.output as { text: string }).text).toMatch(/^y{100000}…\[truncated 50000 chars\]$/);
    expect((predict.inputs["arg0"] as { vars: Record<string, string> }).vars).toEqual({ question: "question 0?" });
  });
});

describe("Weave sink when the trace server misbehaves", () => {
  // finish() waits the whole bound when uploads fail. Where the warning must name the problem,
  // the bound leaves the child time to start and see its first failed request; a server that
  // hangs has no problem to name, so that case uses a shorter bound.
  const cases: { name: string; mode: FakeMode | "closed"; boundMs: number; expectText: RegExp }[] = [
    { name: "answers 401", mode: 401, boundMs: 3000, expectText: /HTTP 401 .*WANDB_API_KEY/ },
    { name: "answers 500", mode: 500, boundMs: 3000, expectText: /did not finish within 3s \(HTTP 500/ },
    { name: "hangs", mode: "hang", boundMs: 1000, expectText: /did not finish within 1s/ },
    { name: "is not listening", mode: "closed", boundMs: 3000, expectText: /did not finish within 3s \(cannot reach/ },
  ];
  for (const c of cases) {
    it(`${c.name}: finish() resolves within the bound with ok:false and one warning`, async () => {
      let url: string;
      if (c.mode === "closed") url = await closedPortUrl();
      else {
        server = await startFakeTraceServer({ mode: c.mode });
        url = server.url;
      }
      const { result, warnings } = await runSink(url, { finishTimeoutMs: c.boundMs });
      expect(result.ok).toBe(false);
      expect(result.uploaded).toBe(0);
      expect(result.dropped).toBe(MODELS.length * ROWS);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(c.expectText);
      expect(warnings[0]).toContain(`bakeoff weave-sync results/${RUN}`);
      expect(warnings[0]).not.toMatch(/\n\s+at /);
      expect(result.warning).toBe(warnings[0]);
      expect(rejections).toEqual([]);

      // The journal has everything: a later sync against a healthy server uploads it all.
      await server?.close();
      server = await startFakeTraceServer();
      const dir = await writeRun();
      try {
        const syncWarnings: string[] = [];
        const synced = await syncRunToWeave(dir, {
          project: "team/bakeoff",
          onWarning: (m) => syncWarnings.push(m),
          env: envFor(server.url),
        });
        expect(syncWarnings).toEqual([]);
        expectUploadedEverything(server, synced);
        // weave-sync knows the rows up front, so the evaluation gets a real Dataset table.
        const tables = server.requests.filter((r) => r.path === "/table/create");
        expect(tables).toHaveLength(1);
        expect((tables[0]!.body as { table: { rows: unknown[] } }).table.rows).toHaveLength(ROWS);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it("survives the SDK calling process.exit(1) after repeated batch failures", async () => {
    server = await startFakeTraceServer();
    server.routeStatus["/call/upsert_batch"] = 400;
    const { result, warnings } = await runSink(server.url, { finishTimeoutMs: 20_000, rows: 2 });
    expect(result.ok).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Weave logging failed \((HTTP 400|the trace server rejected)/);
    // More than 10 failed batches is the SDK's own limit before it exits.
    expect(server.countByRoute()["/call/upsert_batch"]).toBeGreaterThan(10);
  });

  it("drops records beyond the backlog bound with one warning instead of growing memory", async () => {
    server = await startFakeTraceServer({ mode: "hang" });
    const { result, warnings } = await runSink(server.url, { finishTimeoutMs: 1000, maxBacklog: 5, rows: 50 });
    expect(result.ok).toBe(false);
    expect(result.dropped).toBe(100);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/falling behind/);
  });

  it("warns once when the child entry is missing, and record() never throws", async () => {
    const { sink, warnings } = startSink(1, { childPath: "/nonexistent/weave-child.js" });
    for (const rec of fakeRecords(MODELS, 3)) sink.record(rec);
    const result = await sink.finish();
    expect(result).toMatchObject({ ok: false, uploaded: 0, dropped: 6 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not start the Weave uploader/);
  });
});

describe("weave-sync", () => {
  it("refuses a directory without run.json", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bakeoff-weave-empty-"));
    try {
      await expect(syncRunToWeave(dir, { project: "a/b", onWarning: () => {} })).rejects.toThrow(
        /not a bakeoff run directory/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("resolveWeaveSettings", () => {
  const noHome = "/nonexistent-home";
  it("is off with a how-to line when there is neither key nor project", () => {
    const s = resolveWeaveSettings({ config: { enabled: true }, env: {}, home: noHome });
    expect(s).toEqual({
      enabled: false,
      reason:
        "Weave logging is off: set weave.project in eval.config.json (or --weave entity/project) and WANDB_API_KEY to turn it on.",
    });
  });
  it("is on with a config project and a key; --weave wins; --no-weave turns it off", () => {
    const env = { WANDB_API_KEY: "k" };
    expect(resolveWeaveSettings({ config: { enabled: true, project: "a/b" }, env, home: noHome })).toEqual({
      enabled: true,
      project: "a/b",
    });
    expect(
      resolveWeaveSettings({ cliProject: "c/d", config: { enabled: true, project: "a/b" }, env, home: noHome }),
    ).toEqual({
      enabled: true,
      project: "c/d",
    });
    expect(
      resolveWeaveSettings({ noWeave: true, config: { enabled: true, project: "a/b" }, env, home: noHome }),
    ).toEqual({
      enabled: false,
      reason: "Weave logging is off: turned off by --no-weave.",
    });
  });
  it("says which half is missing", () => {
    expect(resolveWeaveSettings({ config: { enabled: true, project: "a/b" }, env: {}, home: noHome })).toMatchObject({
      enabled: false,
      reason: expect.stringMatching(/WANDB_API_KEY/),
    });
  });
  it("counts a ~/.netrc entry for the W&B host as a key", () => {
    expect(netrcHasPassword("machine api.wandb.ai\n  login user\n  password abc\n", "api.wandb.ai")).toBe(true);
    expect(netrcHasPassword("machine example.com login u password p", "api.wandb.ai")).toBe(false);
  });
});

describe("sanitize", () => {
  it("turns values the SDK mangles or chokes on into plain JSON, caps strings and drops credentials", () => {
    const err = new TypeError("boom");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    const out = sanitize(
      {
        big: 12n,
        when: new Date("2025-01-02T03:04:05.000Z"),
        err,
        map: new Map([["k", 1]]),
        set: new Set([1, 2]),
        nan: Number.NaN,
        inf: Infinity,
        fn: () => 1,
        long: "x".repeat(30),
        headers: { "api-key": "s1", Authorization: "Bearer s2", "content-type": "json" },
        usage: { total_tokens: 3 },
        cyclic,
      },
      { maxStringChars: 20 },
    );
    expect(out).toEqual({
      big: "12",
      when: "2025-01-02T03:04:05.000Z",
      err: "TypeError: boom",
      map: { k: 1 },
      set: [1, 2],
      nan: null,
      inf: null,
      long: "xxxxxxxxxxxxxxxxxxxx…[truncated 10 chars]",
      headers: { "content-type": "json" },
      usage: { total_tokens: 3 },
      cyclic: { a: 1, self: "[circular]" },
    });
    expect(() => JSON.stringify(out)).not.toThrow();
  });
});

describe("WeaveSummaryAccumulator", () => {
  it("counts finish reasons as numbers and computes percentiles of successful calls", () => {
    const acc = new WeaveSummaryAccumulator();
    for (const rec of fakeRecords(["m"], 10)) acc.add(rec);
    const [m] = acc.result();
    expect(m).toMatchObject({
      model: "m",
      n: 10,
      errors: 1,
      finish_reason_count: { stop: 6, length: 1, content_filter: 1, tool_calls: 1, error: 1, other: 0, none: 0 },
    });
    // The same latency figures report.md shows (its histogram: within 0.5% of the exact 104 / 108).
    const report = new SummaryBuilder();
    for (const rec of fakeRecords(["m"], 10)) report.add(rec);
    const { p50, p95 } = report.result().models[0]!.latencyMs;
    expect(m!.latency_ms).toMatchObject({ p50, p95 });
    expect(Math.abs(m!.latency_ms.p50! - 104) / 104).toBeLessThanOrEqual(0.005);
    expect(Math.abs(m!.latency_ms.p95! - 108) / 108).toBeLessThanOrEqual(0.005);
  });
});
