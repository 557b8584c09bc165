/**
 * The Weave child writes most predictions' calls itself (src/tracking/weave-direct-calls.ts)
 * instead of through the SDK's EvaluationLogger. What the trace server receives must not depend
 * on that: the same run is logged once with `BAKEOFF_WEAVE_CALLS=sdk` (every prediction through
 * the SDK) and once as normal, each to its own fake trace server, and every call start and end,
 * the call tree, the summaries and the score feedback are compared, with ids replaced by each
 * call's place in the tree and timestamps checked then blanked.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWeaveSink, type WeaveResult } from "../src/tracking/weave.js";
import { opNameOf, startFakeTraceServer, type FakeTraceServer } from "./helpers/fake-trace-server.js";
import { fakeManifest, fakeRecords } from "./helpers/weave-fixtures.js";
import type { PredictionRecord } from "../src/types.js";

const KEY = "dummy-wandb-key-direct";
const MODELS = ["small", "large"];
const ROWS = 12;
const RUN = "2025-01-01T00-00-00-direct";

const servers: FakeTraceServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** The fixture's records, plus a third scorer that first appears at row 5 (so mid-run). */
function records(): PredictionRecord[] {
  return fakeRecords(MODELS, ROWS).map((rec) => {
    if (rec.line - 1 >= 5 && rec.output.error === undefined) {
      rec.scores = { ...rec.scores, judge: { value: 0.25, pass: false, reason: "late scorer" } };
    }
    return rec;
  });
}

async function logRun(extraEnv: Record<string, string>): Promise<{ server: FakeTraceServer; result: WeaveResult }> {
  const server = await startFakeTraceServer();
  servers.push(server);
  const warnings: string[] = [];
  const sink = startWeaveSink({
    project: "team/bakeoff",
    runId: RUN,
    manifest: fakeManifest(RUN, MODELS, ROWS),
    onWarning: (m) => warnings.push(m),
    env: {
      ...process.env,
      WANDB_API_KEY: KEY,
      WF_TRACE_SERVER_URL: server.url,
      WANDB_BASE_URL: undefined,
      ...extraEnv,
    },
    finishTimeoutMs: 20_000,
  });
  for (const rec of records()) sink.record(rec);
  const result = await sink.finish();
  expect(warnings).toEqual([]);
  return { server, result };
}

interface Item {
  mode: "start" | "end";
  req: { start?: Record<string, unknown>; end?: Record<string, unknown> };
}

/**
 * Every call start and end the server received, keyed by the call's place in the tree instead of
 * its id: `<model>` for an evaluation, `<model>/<row>/<trial>` for a predict_and_score, then the
 * child's short op name. Ids, trace ids and parent ids become those keys; timestamps must be ISO
 * dates and become "<time>".
 */
function normalized(server: FakeTraceServer) {
  const items = server.requests
    .filter((r) => r.path === "/call/upsert_batch")
    .flatMap((r) => (r.body as { batch: Item[] }).batch);
  const starts = new Map<string, Record<string, unknown>>();
  for (const item of items) if (item.mode === "start") starts.set(item.req.start!["id"] as string, item.req.start!);
  const keys = new Map<string, string>();
  const keyOf = (id: string): string => {
    const known = keys.get(id);
    if (known) return known;
    const start = starts.get(id);
    if (!start) throw new Error(`call ${id} ended without a start`);
    const op = opNameOf(start["op_name"] as string);
    const inputs = start["inputs"] as Record<string, Record<string, unknown>>;
    const parent = start["parent_id"] as string | undefined;
    let key: string;
    if (op === "Evaluation.evaluate") key = String((start["attributes"] as Record<string, unknown>)["bakeoff_model"]);
    else if (op === "Evaluation.predict_and_score")
      key = `${keyOf(parent!)}/${String(inputs["example"]!["row_id"])}/${String(inputs["example"]!["trial"])}`;
    else key = `${keyOf(parent!)}/${op}`;
    keys.set(id, key);
    return key;
  };
  const time = (v: unknown): string => {
    expect(typeof v === "string" && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v).toBe(true);
    return "<time>";
  };
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const body = { ...(item.mode === "start" ? item.req.start! : item.req.end!) };
    // Call ids are version-7 UUIDs on both paths (the SDK's format).
    expect(body["id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const key = keyOf(body["id"] as string);
    body["id"] = key;
    if (item.mode === "start") {
      body["trace_id"] = keyOf(traceRoot(starts, body["trace_id"] as string));
      if (body["parent_id"] !== undefined) body["parent_id"] = keyOf(body["parent_id"] as string);
      body["started_at"] = time(body["started_at"]);
    } else {
      body["ended_at"] = time(body["ended_at"]);
    }
    const slot = `${key} ${item.mode}`;
    expect(out[slot], `${slot} sent twice`).toBeUndefined();
    out[slot] = body;
  }
  const feedback = server
    .feedback()
    .map((f) => ({
      ...f,
      weave_ref: keyOf(f.weave_ref.split("/").pop()!),
      call_ref: keyOf(f.call_ref!.split("/").pop()!),
    }))
    .sort((a, b) => a.call_ref.localeCompare(b.call_ref));
  return { calls: out, feedback };
}

/** The id of the root call (no parent) whose trace id is `traceId`. */
function traceRoot(starts: Map<string, Record<string, unknown>>, traceId: string): string {
  for (const [id, s] of starts) if (s["trace_id"] === traceId && s["parent_id"] === undefined) return id;
  throw new Error(`no root call for trace ${traceId}`);
}

describe("Weave calls written directly", () => {
  it("reach the trace server exactly as the SDK writes them: calls, tree, summaries, feedback", async () => {
    const sdk = await logRun({ BAKEOFF_WEAVE_CALLS: "sdk" });
    const direct = await logRun({});
    const total = MODELS.length * ROWS;
    expect(sdk.result).toEqual({ ok: true, uploaded: total, dropped: 0, direct: 0 });
    // Through the SDK: the first prediction, each model's first if its evaluation had not started
    // by then, and the first with the late scorer; the rest are written directly.
    expect(direct.result).toMatchObject({ ok: true, uploaded: total, dropped: 0 });
    expect(direct.result.direct).toBeGreaterThanOrEqual(total - MODELS.length - 1);
    expect(direct.result.direct).toBeLessThanOrEqual(total - 2);

    const a = normalized(sdk.server);
    const b = normalized(direct.server);
    // 2 evaluations (start, end) and their summarize calls; per prediction predict_and_score,
    // Model.predict, bakeoff.model_call and one call per score, each a start and an end.
    const scoresPerModel = (ROWS - 1) * 2 + (ROWS - 6);
    expect(Object.keys(a.calls)).toHaveLength(2 * (MODELS.length * 2 + total * 3 + MODELS.length * scoresPerModel));
    expect(Object.keys(b.calls).sort()).toEqual(Object.keys(a.calls).sort());
    for (const slot of Object.keys(a.calls)) {
      if (slot.endsWith("/bakeoff.model_call end")) {
        // weave 0.11.1 keeps one call record per op and reads an end's display_name from it, so
        // with predictions in flight at once the SDK can end one model's call under another's
        // name. The direct path ends each call under its own start's name.
        const start = b.calls[slot.replace(/ end$/, " start")] as Record<string, unknown>;
        expect((b.calls[slot] as Record<string, unknown>)["display_name"], slot).toBe(start["display_name"]);
        const { display_name: _a, ...sdkEnd } = a.calls[slot] as Record<string, unknown>;
        const { display_name: _b, ...directEnd } = b.calls[slot] as Record<string, unknown>;
        expect(directEnd, slot).toEqual(sdkEnd);
      } else {
        expect(b.calls[slot], slot).toEqual(a.calls[slot]);
      }
    }
    expect(b.feedback).toEqual(a.feedback);
    expect(a.feedback).toHaveLength(MODELS.length * scoresPerModel);

    // The evaluation's token usage rolled up from the direct predictions' model calls.
    expect(b.calls["large end"]).toMatchObject({
      summary: { usage: { "large-served": { requests: ROWS - 1, prompt_tokens: 10 * (ROWS - 1) } } },
    });
    // The same objects were published (each once) on both paths.
    const published = (s: FakeTraceServer) =>
      s.requests
        .filter((r) => r.path === "/obj/create")
        .map((r) => JSON.stringify(r.body))
        .sort();
    expect(published(direct.server)).toEqual(published(sdk.server));
  });
});
