/**
 * Child-process entry that owns the Weave SDK. Started by `weave.ts` with `child_process.fork`;
 * it is the only place bakeoff imports `weave`, because the SDK can `process.exit(1)` after
 * repeated upload failures, raises unhandled rejections on 401, patches `require` globally and
 * prints to the console. Here all of that can only end this process, never the run.
 *
 * Per model it keeps one `EvaluationLogger` (created at that model's first record: it publishes
 * the evaluation, model and dataset objects and starts the `Evaluation.evaluate` call) and logs
 * each record as it arrives: prediction (inputs, output), the model call as a child op carrying
 * token usage, every score, then `finish()`. Once the SDK has written a prediction with every op
 * and scorer a record needs, later records are written by {@link DirectCallWriter} from the
 * SDK's own templates instead (same calls, a fraction of the CPU); `BAKEOFF_WEAVE_CALLS=sdk` in
 * the child's environment keeps every record on the SDK's path. All call starts and ends go out
 * through one {@link CallBatcher}. On `finish` it logs each model's numeric summary through the
 * SDK, waits for the uploads and reports `done`.
 */
import { format } from "node:util";
import weave from "weave";
import type { Dataset, EvaluationLogger, ScoreLogger } from "weave";
import type { PredictionRecord } from "../types.js";
import type { FromChild, ToChild, WeaveDatasetRow, WeaveModelInfo, WeaveProblemKind } from "./weave-protocol.js";
import type { WeaveModelSummary } from "./weave-summary.js";
import { predictionInputs, predictionOutput, scoreValue, evaluationName } from "./weave-payload.js";
import { sanitize } from "./sanitize.js";
import { FeedbackBatcher, callUriPrefix, scoreFeedbackType } from "./weave-feedback.js";
import { CallBatcher } from "./weave-call-batcher.js";
import { TracePoster } from "./weave-http.js";
import {
  DirectCallWriter,
  mergeSummaries,
  summarizeModelCall,
  type DirectEvaluation,
  type Summary,
} from "./weave-direct-calls.js";

type Client = Awaited<ReturnType<typeof weave.init>>;

/** Records being logged at once; the SDK limits HTTP to 20 in flight anyway. */
const MAX_IN_FLIGHT = 32;
/** Progress is reported every this many records (the parent bounds its backlog with it). */
const PROGRESS_EVERY = 25;
/**
 * Encoded calls waiting for upload beyond which no more records are taken from the queue, so a
 * slow trace server holds records in the parent's bounded backlog instead of growing this heap.
 */
const MAX_PENDING_CALL_CHARS = 32 * 1024 * 1024;
/** Short name of the model-call op (its `name` option below). */
const MODEL_CALL_OP = "bakeoff.model_call";

/** A model as a Weave object: its fields are what the UI shows as the model's attributes. */
class Model extends weave.WeaveObject {
  constructor(name: string, attributes: Record<string, unknown>) {
    super({ name });
    Object.assign(this, attributes);
  }
}

interface ModelState {
  info: WeaveModelInfo;
  logger: EvaluationLogger | null;
  /** Where direct predictions of this model hang, once its evaluation call has started. */
  direct: DirectEvaluation | null;
}

interface Started {
  client: Client;
  runId: string;
  datasets: string[];
  attributes: Record<string, unknown>;
  dataset: Dataset<WeaveDatasetRow & Record<string, unknown>> | string;
  models: Map<string, ModelState>;
  /** Score feedback, batched; null with an SDK whose internals differ (it then posts per score). */
  feedback: FeedbackBatcher | null;
  /** Call starts and ends, batched; null with an SDK whose internals differ (its own queue then). */
  calls: CallBatcher | null;
  /** Writes records without the SDK; null when forced off or without both batchers. */
  direct: DirectCallWriter | null;
}

let started: Started | null = null;
let startFailed = false;
const queue: PredictionRecord[] = [];
let inFlight = 0;
let processed = 0;
let failed = 0;
let scores = 0;
/** Records written by the direct path (the rest went through the SDK). */
let direct = 0;
let idleWaiters: (() => void)[] = [];
/** The queue's head, sanitized, while it waits for an SDK-path record to teach the direct path. */
let held: { rec: PredictionRecord; state: ModelState } | null = null;
/**
 * While true, a record the direct path cannot write yet waits for the SDK-path records in flight
 * (which teach it the templates) instead of joining them: 2–3 records of a run take the SDK's path
 * instead of the first 32. Turned off for good when an SDK-path record did not teach what it
 * should have (another SDK version, or failures): records then go through the SDK in parallel.
 */
let holdForLearning = true;
const reportedKinds = new Set<string>();

function send(msg: FromChild, then?: () => void): void {
  if (!process.connected || !process.send) {
    then?.();
    return;
  }
  try {
    process.send(msg, undefined, {}, () => then?.());
  } catch {
    then?.();
  }
}

/** Reports a problem once per kind+status; fatal problems end the child once the parent has them. */
function problem(kind: WeaveProblemKind, message: string, opts: { status?: number; fatal?: boolean } = {}): void {
  const fatal = opts.fatal ?? false;
  const id = `${kind}:${opts.status ?? ""}`;
  if (!fatal && reportedKinds.has(id)) return;
  reportedKinds.add(id);
  const msg: FromChild = { type: "problem", kind, message, fatal };
  if (opts.status !== undefined) msg.status = opts.status;
  send(msg, fatal ? () => process.exit(1) : undefined);
}

/** Turns whatever the SDK threw (often a fetch `Response`, not an Error) into a problem. */
function classify(reason: unknown): void {
  const status = statusOf(reason);
  if (status === 401 || status === 403) {
    problem("auth", `HTTP ${status} from the trace server: check WANDB_API_KEY`, { status, fatal: true });
  } else if (status !== undefined) {
    problem("http", `HTTP ${status} from the trace server`, { status });
  } else if (isNetworkError(reason)) {
    problem("network", `cannot reach the trace server (${networkCode(reason)})`);
  } else {
    problem("sdk", `Weave SDK error: ${oneLine(reason)}`);
  }
}

function statusOf(reason: unknown): number | undefined {
  if (typeof reason === "object" && reason !== null && "status" in reason) {
    const s = reason.status;
    if (typeof s === "number" && s >= 400) return s;
  }
  return undefined;
}

function isNetworkError(reason: unknown): boolean {
  return (
    reason instanceof Error &&
    (/fetch failed|ECONN|ENOTFOUND|socket|network/i.test(reason.message) || networkCode(reason) !== "network error")
  );
}

function networkCode(reason: unknown): string {
  const cause = reason instanceof Error ? (reason.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? cause.code : "network error";
}

function oneLine(value: unknown): string {
  const text = value instanceof Error ? value.message : format("%o", value);
  return text.split("\n")[0]?.slice(0, 300) ?? "";
}

/**
 * The SDK reports batch upload failures only through console.error, so console output is read
 * for them here (and still written to stderr, which the parent keeps as a debug tail).
 */
function captureConsole(): void {
  const write = (args: unknown[]): void => {
    process.stderr.write(format(...args) + "\n");
  };
  console.log =
    console.info =
    console.debug =
      (...args: unknown[]) => {
        write(args);
        // The SDK's fetch retry loop announces each retry here, minutes before it gives up.
        const head = typeof args[0] === "string" ? args[0] : "";
        const status = /^Return code: (\d+)\. Retrying/.exec(head)?.[1];
        if (status) problem("http", `HTTP ${status} from the trace server`, { status: Number(status) });
        else if (/^Exception .* Retrying fetch/.test(head)) problem("network", "cannot reach the trace server");
      };
  console.warn = console.error = (...args: unknown[]) => {
    write(args);
    const head = typeof args[0] === "string" ? args[0] : "";
    if (
      head.startsWith("Error processing batch") ||
      head.startsWith("Failed to log score") ||
      head.startsWith("Error saving file")
    ) {
      classify(args[1]);
    } else if (head.startsWith("Exceeded max errors")) {
      problem("http", "the trace server rejected uploads repeatedly", { fatal: true });
    }
  };
}

async function start(msg: Extract<ToChild, { type: "start" }>): Promise<void> {
  // The SDK prints a link for every root call unless told not to.
  process.env["WEAVE_PRINT_CALL_LINK"] = "false";
  const client = await weave.init(msg.project, { printCallLink: false });
  saveEachScorerOnce(client);
  serializePlainValuesAtOnce(client);
  const poster = tracePoster(client);
  const feedback = batchFeedback(client, poster);
  const calls = batchCalls(client, poster);
  const direct =
    calls && feedback && process.env["BAKEOFF_WEAVE_CALLS"] !== "sdk"
      ? new DirectCallWriter({
          projectId: (client as unknown as { projectId: string }).projectId,
          modelCallOp: MODEL_CALL_OP,
          addCall: (text) => calls.add(text),
          addFeedback: (item) => feedback.add(item),
        })
      : null;
  if (direct) observeCallStarts(client, direct);
  const dataset =
    msg.rows && msg.rows.length > 0
      ? new weave.Dataset({
          name: `bakeoff-${msg.datasets.join("-") || "dataset"}`,
          rows: msg.rows.map((r) => sanitize(r) as WeaveDatasetRow & Record<string, unknown>),
        })
      : msg.datasets.join("+");
  started = {
    client,
    runId: msg.runId,
    datasets: msg.datasets,
    attributes: sanitize(msg.attributes) as Record<string, unknown>,
    dataset,
    models: new Map(msg.models.map((m) => [m.name, { info: m, logger: null, direct: null }])),
    feedback,
    calls,
    direct,
  };
}

type Saved = Promise<unknown>;
interface Savable {
  __savedRef?: Saved;
  __name?: string;
  __wrappedFunction?: unknown;
  saveAttrs?: () => unknown;
}

/**
 * EvaluationLogger.logScore (weave 0.11.1) builds a new scorer object and a new `<name>.score` op
 * for every score and saves both: two /obj/create and one /file/create per score, each its own
 * HTTP request, with the same content every time (the server stores them by digest). That was
 * 5 of the ~7 requests per record and most of the child's CPU (bench/weave-overhead.ts). Here each
 * distinct op (name + code) and scorer object (class + attributes) is saved once and its ref
 * reused, so what reaches the server is unchanged: the same objects, calls and feedback.
 */
function saveEachScorerOnce(client: Client): void {
  const c = client as unknown as {
    saveOp(op: Savable, objId?: string): Saved;
    saveObject(obj: Savable, objId?: string): Saved;
  };
  if (typeof c.saveOp !== "function" || typeof c.saveObject !== "function") return; // another SDK version
  const ops = new Map<string, Saved>();
  const saveOp = c.saveOp.bind(c);
  c.saveOp = (op, objId) => {
    if (op.__savedRef) return op.__savedRef;
    const key = `${objId ?? op.__name}\u0000${String(op.__wrappedFunction)}`;
    const known = ops.get(key);
    if (known) return (op.__savedRef = known);
    const ref = saveOp(op, objId).then(() => op.__savedRef);
    ops.set(key, ref);
    return ref;
  };
  const scorers = new Map<string, Saved>();
  const saveObject = c.saveObject.bind(c);
  c.saveObject = (obj, objId) => {
    if (obj.__savedRef || objId !== undefined || !isScorer(obj)) return saveObject(obj, objId);
    const key = `${obj.constructor.name}\u0000${JSON.stringify(obj.saveAttrs?.())}`;
    const known = scorers.get(key);
    if (known) return Promise.resolve((obj.__savedRef = known));
    const ref = saveObject(obj, objId);
    scorers.set(key, obj.__savedRef ?? ref);
    return ref;
  };
}

const NOT_PLAIN = Symbol("not plain");

/**
 * A copy of `value` as the SDK's `serializedVal` makes it when `value` is plain JSON data
 * (primitives, arrays, objects of Object.prototype or null): arrays copied item by item, objects
 * key by key, an object met twice becomes "[Circular]". Anything else (saved refs, Weave objects,
 * ops, media, class instances, functions) gives NOT_PLAIN, for the SDK's own path.
 */
function plainCopy(value: unknown, visited: Set<object>): unknown {
  if (typeof value === "function") return NOT_PLAIN;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = plainCopy(value[i], visited);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out[i] = item;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  if ("__savedRef" in value || "_weaveType" in value || "__isOp" in value) return NOT_PLAIN;
  if (visited.has(value)) return "[Circular]";
  visited.add(value);
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const copy = plainCopy((value as Record<string, unknown>)[key], visited);
    if (copy === NOT_PLAIN) return NOT_PLAIN;
    out[key] = copy;
  }
  return out;
}

/**
 * The SDK serializes every call's inputs and output with an async walk that awaits each value
 * (a promise per node, each one also tracked by the AsyncLocalStorage hooks the SDK installs),
 * and walks them once more looking for objects to save. For the plain JSON bakeoff sends (the
 * child sanitizes everything first) both walks find nothing to resolve or save, so they are done
 * here synchronously, with the same result; anything else still takes the SDK's path.
 */
function serializePlainValuesAtOnce(client: Client): void {
  const c = client as unknown as {
    serializedVal?: (value: unknown, visited?: WeakSet<object>) => Promise<unknown>;
    saveWeaveValues?: (value: unknown, visited?: WeakSet<object>) => void;
  };
  const serializedVal = c.serializedVal?.bind(client);
  const saveWeaveValues = c.saveWeaveValues?.bind(client);
  if (!serializedVal || !saveWeaveValues) return; // another SDK version
  c.serializedVal = (value, visited) => {
    // A Set, not the SDK's WeakSet: it lives for one walk, and weak collections cost the GC.
    const copy = plainCopy(value, new Set());
    return copy === NOT_PLAIN ? serializedVal(value, visited) : Promise.resolve(copy);
  };
  c.saveWeaveValues = (value, visited) => {
    if (plainCopy(value, new Set()) === NOT_PLAIN) saveWeaveValues(value, visited);
  };
}

/** A request body already encoded as JSON; passed through by the patched JSON formatter. */
class EncodedJson {
  constructor(readonly body: Buffer) {}
}

/**
 * The bulk routes' HTTP client, built from the base URL and headers of the SDK's client (so the
 * same host and Authorization header); null with an SDK whose client looks different, which then
 * sends everything itself.
 */
function tracePoster(client: Client): TracePoster | null {
  const api = (client as unknown as { traceServerApi?: { baseUrl?: unknown; baseApiParams?: { headers?: unknown } } })
    .traceServerApi;
  const headers = api?.baseApiParams?.headers as Record<string, unknown> | undefined;
  if (typeof api?.baseUrl !== "string" || !headers || typeof headers["Authorization"] !== "string") return null;
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === "string") plain[k] = v;
  return new TracePoster({
    baseUrl: api.baseUrl,
    headers: plain,
    // What the SDK's own retry loop prints (and captureConsole reads as problems).
    onRetry: (status, error) => {
      if (status !== undefined) problem("http", `HTTP ${status} from the trace server`, { status });
      else problem("network", `cannot reach the trace server (${networkCode(new Error("", { cause: error }))})`);
    },
  });
}

interface CallClient {
  saveCallStart(start: Record<string, unknown>): void;
  saveCallEnd(end: Record<string, unknown>): void;
  traceServerApi: {
    contentFormatters: Record<string, (input: unknown) => unknown>;
    call: { callStartBatchCallUpsertBatchPost(body: unknown): Promise<unknown> };
  };
}

/**
 * Routes the SDK's call starts and ends (`saveCallStart`/`saveCallEnd`, which weave 0.11.1 queues
 * for its `processBatch` loop) into a {@link CallBatcher}: each item is encoded once, as it is
 * queued, and sent with the SDK's own authenticated, retrying HTTP client. The SDK's loop encoded
 * every item twice (once to measure it) and took items off its queue with `Array#shift`.
 * Failures are handled as the SDK does: the batch goes back to the queue and is retried, and
 * more than 10 failed batches end the child (the SDK would `process.exit(1)`).
 */
function batchCalls(client: Client, poster: TracePoster | null): CallBatcher | null {
  const c = client as unknown as Partial<CallClient>;
  const api = c.traceServerApi;
  const json = api?.contentFormatters?.["application/json"];
  if (
    typeof c.saveCallStart !== "function" ||
    typeof c.saveCallEnd !== "function" ||
    typeof json !== "function" ||
    typeof api?.call?.callStartBatchCallUpsertBatchPost !== "function"
  ) {
    return null; // another SDK version: leave its queue alone
  }
  const sdkPost = api.call.callStartBatchCallUpsertBatchPost.bind(api.call);
  api.contentFormatters["application/json"] = (input) => (input instanceof EncodedJson ? input.body : json(input));
  const batcher = new CallBatcher({
    post: poster ? (body) => poster.post("call/upsert_batch", body) : (body) => sdkPost(new EncodedJson(body)),
    // Read by captureConsole, as the SDK's own message was.
    onError: (err) => console.error("Error processing batch:", err),
    onGiveUp: () => problem("http", "the trace server rejected uploads repeatedly", { fatal: true }),
    onOversize: (chars) =>
      problem("payload", `a Weave call of ${chars} characters is over the trace server's bound; not sent`),
    onSent: () => pump(),
  });
  const add = (mode: "start" | "end", data: unknown): void => {
    let text: string;
    try {
      text = `{"mode":"${mode}","req":${JSON.stringify(data)}}`;
    } catch (err) {
      // The SDK's loop would throw here and never send again; drop this item instead.
      problem("payload", `a Weave call could not be encoded: ${oneLine(err)}`);
      return;
    }
    batcher.add(text);
  };
  c.saveCallStart = (start) => add("start", { start });
  c.saveCallEnd = (end) => add("end", { end });
  return batcher;
}

/** Shows the direct writer every call start the SDK writes, so it learns the ops' templates. */
function observeCallStarts(client: Client, direct: DirectCallWriter): void {
  const c = client as unknown as CallClient;
  const saveCallStart = c.saveCallStart.bind(c);
  c.saveCallStart = (start) => {
    direct.observeStart(start);
    saveCallStart(start);
  };
}

interface FeedbackClient {
  projectId: string;
  traceServerApi: {
    request(params: Record<string, unknown>): Promise<unknown>;
    feedback: { feedbackCreateFeedbackCreatePost(data: unknown): Promise<unknown> };
  };
  addScore(predictCallId: string, scorerCallId: string, runnableRefUri: string, scorerOutput: unknown): Promise<string>;
  saveWeaveValues(value: unknown): void;
  serializedVal(value: unknown): Promise<unknown>;
}

/**
 * Routes `client.addScore` (one `POST /feedback/create` per score in weave 0.11.1, called by
 * ScoreLogger.logScore) into a {@link FeedbackBatcher}: the same items, built the same way as the
 * SDK builds them, sent through `/feedback/batch/create` with the SDK's own authenticated,
 * retrying, concurrency-limited HTTP client. The ScoreLogger ignores the returned feedback id.
 */
function batchFeedback(client: Client, poster: TracePoster | null): FeedbackBatcher | null {
  const c = client as unknown as Partial<FeedbackClient>;
  const api = c.traceServerApi;
  if (
    typeof c.projectId !== "string" ||
    typeof c.addScore !== "function" ||
    typeof c.saveWeaveValues !== "function" ||
    typeof c.serializedVal !== "function" ||
    typeof api?.request !== "function" ||
    typeof api.feedback?.feedbackCreateFeedbackCreatePost !== "function"
  ) {
    return null; // another SDK version: leave its addScore alone
  }
  const fc = c as FeedbackClient;
  const batcher = new FeedbackBatcher({
    postBatch: (batch) =>
      poster?.post("feedback/batch/create", JSON.stringify({ batch })) ??
      api.request({
        path: "/feedback/batch/create",
        method: "POST",
        body: { batch },
        secure: true,
        type: "application/json",
        format: "json",
      }),
    postOne: (item) => api.feedback.feedbackCreateFeedbackCreatePost(item),
    onError: (err) => classify(err),
  });
  const callUri = callUriPrefix(fc.projectId);
  fc.addScore = async (predictCallId, scorerCallId, runnableRefUri, scorerOutput) => {
    fc.saveWeaveValues(scorerOutput);
    const output = await fc.serializedVal(scorerOutput);
    batcher.add({
      project_id: fc.projectId,
      weave_ref: callUri + predictCallId,
      feedback_type: scoreFeedbackType(runnableRefUri),
      payload: { output },
      runnable_ref: runnableRefUri,
      call_ref: callUri + scorerCallId,
    });
    return "";
  };
  return batcher;
}

/** Whether `obj` is one of EvaluationLogger's per-score scorer objects (class chain …→ Scorer). */
function isScorer(obj: object): boolean {
  const parent = Object.getPrototypeOf(Object.getPrototypeOf(obj) as object) as {
    constructor?: { name?: string };
  } | null;
  return parent?.constructor?.name === "Scorer";
}

function stateFor(s: Started, modelName: string): ModelState {
  let state = s.models.get(modelName);
  if (!state) {
    state = { info: { name: modelName, attributes: {}, usageKey: modelName }, logger: null, direct: null };
    s.models.set(modelName, state);
  }
  if (!state.logger) {
    state.logger = new weave.EvaluationLogger({
      name: evaluationName(s.runId, s.datasets, modelName),
      dataset: s.dataset,
      model: new Model(modelName, sanitize(state.info.attributes) as Record<string, unknown>),
      attributes: { ...s.attributes, bakeoff_model: modelName },
    });
    if (s.direct) void learnEvaluation(state, state.logger);
  }
  return state;
}

interface Ref {
  uri(): string;
}

/** EvaluationLogger's private state in weave 0.11.1 that direct predictions need. */
interface LoggerInternals {
  initPromise?: Promise<void>;
  evaluateEntry?: { callId?: unknown; traceId?: unknown; childSummary?: Summary };
  evaluation?: { __savedRef?: Promise<Ref> | Ref };
  model?: { __savedRef?: Promise<Ref> | Ref };
  updateScoreAggregates?: (scores: Record<string, unknown>) => void;
}

/**
 * Once a model's `Evaluation.evaluate` call has started (the logger's init), takes from the logger
 * what direct predictions need: the call's ids, the refs of the evaluation and model objects it
 * published, and its summary roll-up. With another SDK version (any of these missing) the
 * model's records stay on the SDK's path.
 */
async function learnEvaluation(state: ModelState, logger: EvaluationLogger): Promise<void> {
  const l = logger as unknown as LoggerInternals;
  const update = l.updateScoreAggregates;
  if (!(l.initPromise instanceof Promise) || typeof update !== "function") return;
  try {
    await l.initPromise;
    const entry = l.evaluateEntry;
    const evaluation = await l.evaluation?.__savedRef;
    const model = await l.model?.__savedRef;
    if (
      !entry ||
      typeof entry.callId !== "string" ||
      typeof entry.traceId !== "string" ||
      typeof entry.childSummary !== "object" ||
      typeof evaluation?.uri !== "function" ||
      typeof model?.uri !== "function"
    ) {
      return;
    }
    state.direct = {
      callId: entry.callId,
      traceId: entry.traceId,
      evaluationUri: evaluation.uri(),
      modelUri: model.uri(),
      // As the SDK's finishCall does for a child of the evaluate call; read back by logSummary.
      addChildSummary: (summary) => {
        entry.childSummary = mergeSummaries(summary, entry.childSummary ?? {});
      },
      addScores: (scores) => update.call(logger, scores),
    };
  } catch {
    // The SDK's path reports whatever went wrong; this model's records simply stay on it.
  }
}

/**
 * The model call as an op: output and token usage in `summary.usage[model]`, the shape Weave's
 * cost tracking reads. EvaluationLogger creates `Model.predict` itself with no way to attach a
 * summary, so this op is made a child of the prediction's `predict_and_score` call; its usage then
 * rolls up into predict_and_score and the evaluation's summary.
 */
const modelCall = weave.op(
  async function model_call(call: { model: string; messages: unknown; result: Record<string, unknown> }) {
    return call.result;
  },
  {
    name: MODEL_CALL_OP,
    parameterNames: "useParam0Object",
    callDisplayName: (call) => call.model,
    summarize: summarizeModelCall,
  },
);

/** Key of a record's token usage: the model the endpoint says served it, else the configured one. */
function usageModelOf(rec: PredictionRecord, info: WeaveModelInfo): string {
  return rec.output.model ?? info.usageKey;
}

async function traceModelCall(
  client: Client,
  sl: ScoreLogger,
  info: WeaveModelInfo,
  rec: PredictionRecord,
  output: Record<string, unknown>,
): Promise<void> {
  // predMeta is private in 0.11.1 (pinned); without it the op would be a stray root call, so skip.
  const parent = (sl as unknown as { predMeta?: { predictAndScoreEntry?: unknown } }).predMeta?.predictAndScoreEntry;
  if (!parent) return;
  const Stack = client.getCallStack().constructor as new (stack: unknown[]) => ReturnType<Client["getCallStack"]>;
  const result = { ...output, usage_model: usageModelOf(rec, info) };
  await client.runWithCallStack(new Stack([parent]), () =>
    modelCall({ model: rec.model, messages: rec.input.messages, result }),
  );
}

/** Logs one (sanitized) record through the SDK's EvaluationLogger. */
async function logWithSdk(s: Started, state: ModelState, rec: PredictionRecord): Promise<void> {
  const output = predictionOutput(rec);
  const sl = await state.logger!.logPredictionAsync(predictionInputs(rec), output);
  await traceModelCall(s.client, sl, state.info, rec, output);
  for (const [name, score] of Object.entries(rec.scores ?? {})) {
    void sl.logScore(name, scoreValue(score));
    scores++;
  }
  await sl.finish();
}

/** Whether the direct path can write a record of this model with these scores now. */
function canWriteDirect(s: Started, state: ModelState, names: string[]): boolean {
  return s.direct !== null && state.direct !== null && s.direct.canWrite(names);
}

/** Writes one (sanitized) record directly; call {@link canWriteDirect} first. */
function logDirect(s: Started, state: ModelState, rec: PredictionRecord, names: string[]): void {
  const recScores = rec.scores ?? {};
  s.direct!.write(state.direct!, {
    inputs: predictionInputs(rec),
    output: predictionOutput(rec),
    model: rec.model,
    messages: rec.input.messages,
    usageModel: usageModelOf(rec, state.info),
    scores: names.map((name) => [name, scoreValue(recScores[name]!)]),
  });
  scores += names.length;
  direct++;
}

function pump(): void {
  const s = started;
  if (!s) return;
  while (inFlight < MAX_IN_FLIGHT && (held !== null || queue.length > 0)) {
    // Resumed by the call batcher once a request has gone out.
    if (s.calls && s.calls.pendingChars > MAX_PENDING_CALL_CHARS) return;
    let next: { rec: PredictionRecord; state: ModelState };
    let names: string[];
    try {
      // Sanitized once, whole: the payloads only rearrange its (already safe) values.
      if (held) next = held;
      else {
        const rec = sanitize(queue.shift()!) as PredictionRecord;
        next = { rec, state: stateFor(s, rec.model) };
      }
      held = null;
      names = Object.keys(next.rec.scores ?? {});
      if (canWriteDirect(s, next.state, names)) {
        logDirect(s, next.state, next.rec, names);
        recordDone();
        continue;
      }
    } catch (err) {
      failed++;
      classify(err);
      recordDone();
      continue;
    }
    if (s.direct && holdForLearning && inFlight > 0) {
      held = next; // resumed when an SDK-path record finishes
      return;
    }
    const { rec, state } = next;
    inFlight++;
    logWithSdk(s, state, rec)
      .then(
        () => {
          // It went through the SDK because the direct path lacked something this record needs;
          // the SDK has now written all of it, so the direct path should have learned it.
          if (!canWriteDirect(s, state, names)) holdForLearning = false;
        },
        (err: unknown) => {
          failed++;
          holdForLearning = false;
          classify(err);
        },
      )
      .finally(() => {
        inFlight--;
        recordDone();
        pump();
      });
  }
}

function recordDone(): void {
  processed++;
  if (processed % PROGRESS_EVERY === 0) send({ type: "progress", processed });
  if (inFlight === 0 && queue.length === 0 && held === null) {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }
}

function idle(): Promise<void> {
  if (inFlight === 0 && queue.length === 0 && held === null) return Promise.resolve();
  return new Promise((resolve) => idleWaiters.push(resolve));
}

async function finish(summaries: WeaveModelSummary[]): Promise<void> {
  const s = started;
  if (!s) {
    send(
      { type: "done", stats: { predictions: 0, scores: 0, evaluations: 0, failed, feedbackFailed: 0, direct: 0 } },
      () => process.exit(startFailed ? 1 : 0),
    );
    return;
  }
  await idle();
  // Everything is queued now: later call batches go out at once instead of every 200 ms, so
  // the run is not held for a batch timer. The SDK's own call queue is used only when its calls
  // could not be routed into s.calls (another SDK version); otherwise it stays empty.
  if (s.calls) s.calls.flushEagerly();
  else (s.client as unknown as { BATCH_INTERVAL?: number }).BATCH_INTERVAL = 0;
  const bySummary = new Map(summaries.map((m) => [m.model, m]));
  let evaluations = 0;
  for (const [name, state] of s.models) {
    if (!state.logger) continue;
    const summary = bySummary.get(name);
    try {
      await state.logger.logSummary(summary ? (sanitize(summary) as Record<string, unknown>) : undefined);
      evaluations++;
    } catch (err) {
      classify(err);
    }
  }
  if (s.calls) {
    await s.calls.drain();
    // Calls were lost: the fatal problem already sent ends the child, as the SDK's exit would.
    if (s.calls.gaveUp) return;
  } else {
    await s.client.waitForBatchProcessing();
  }
  await s.feedback?.drain();
  const stats = {
    predictions: processed - failed,
    scores,
    evaluations,
    failed,
    feedbackFailed: s.feedback?.failed ?? 0,
    direct,
  };
  send({ type: "done", stats }, () => process.exit(0));
}

function main(): void {
  captureConsole();
  // Without these the SDK's rejections (a bare Response on 401) would kill the child with a trace.
  process.on("unhandledRejection", (reason) => classify(reason));
  process.on("uncaughtException", (err) => {
    problem("sdk", `Weave SDK crashed: ${oneLine(err)}`, { fatal: true });
  });
  // Parent gone (run over, or killed even while it waited for uploads): nobody is left to wait
  // for this child, and everything is in the journal for `weave-sync`, so stop at once.
  process.on("disconnect", () => process.exit(0));
  let startPromise: Promise<void> = Promise.resolve();
  process.on("message", (raw: ToChild) => {
    switch (raw.type) {
      case "start":
        startPromise = start(raw).then(pump, (err: unknown) => {
          startFailed = true;
          problem("sdk", `Weave init failed: ${oneLine(err)}`, { fatal: true });
        });
        break;
      case "records":
        for (const rec of raw.records) queue.push(rec);
        if (started) pump();
        break;
      case "finish":
        void startPromise
          .then(() => finish(raw.summaries))
          .catch((err: unknown) => {
            problem("sdk", `Weave finish failed: ${oneLine(err)}`, { fatal: true });
          });
        break;
    }
  });
}

main();
