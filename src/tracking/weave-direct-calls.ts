/**
 * Writes one prediction's calls for the Weave child without the SDK's per-call machinery.
 *
 * weave 0.11.1's EvaluationLogger turns each prediction into 5–6 calls (predict_and_score,
 * Model.predict, bakeoff.model_call, one `<scorer>.score` per score), each going through
 * `createCall`/`finishCall`: an AsyncLocalStorage call stack, a promise chain, a walk of every
 * value to save and to serialize, summary merging, a queue item encoded later. With ~1 ms of CPU
 * per prediction that was the child's whole cost (bench/weave-overhead.ts, `--profile`). Here the
 * same start/end items are built as JSON text directly, from templates *observed* in what the SDK
 * itself sent for earlier predictions: the op ref (`op_name`), the attributes, and the scorer
 * object refs are copied from the SDK's own items, so a prediction written here differs from one
 * the SDK wrote only in its ids and timestamps (test/weave-direct.test.ts compares both paths
 * through the fake trace server).
 *
 * The child sends a prediction through the SDK until every template it needs has been seen:
 * the first prediction, and the first with each scorer name.
 */
import { randomBytes } from "node:crypto";
import { callUriPrefix, scoreFeedbackType, type FeedbackItem } from "./weave-feedback.js";

/** The call a direct prediction hangs under: its evaluation's `Evaluation.evaluate` call. */
export interface DirectEvaluation {
  /** `Evaluation.evaluate` call id (parent of predict_and_score). */
  callId: string;
  traceId: string;
  /** Ref URIs of the evaluation and model objects (predict_and_score's `self` and `model` inputs). */
  evaluationUri: string;
  modelUri: string;
  /** Adds a finished predict_and_score's summary to the evaluation's (the SDK's `childSummary` roll-up). */
  addChildSummary(summary: Summary): void;
  /** Counts a prediction's scores for the SDK's auto-summary. */
  addScores(scores: Record<string, unknown>): void;
}

/** What one prediction logs, as the SDK path passes it to the EvaluationLogger. */
export interface DirectPrediction {
  /** `logPrediction` inputs (the predict_and_score `example`, Model.predict's `arg0`). */
  inputs: Record<string, unknown>;
  /** `logPrediction` output. */
  output: Record<string, unknown>;
  /** The model call op's `model` input (also its display name). */
  model: string;
  /** The model call op's `messages` input. */
  messages: unknown;
  /** Key of the model call's token usage (its result is `{...output, usage_model}`). */
  usageModel: string;
  /** Scores in logging order. */
  scores: [string, Record<string, unknown>][];
}

export type Summary = Record<string, unknown>;

interface OpTemplate {
  /** `"op_name":…,` JSON text (the op's ref URI). */
  opName: string;
  /** `"attributes":…` JSON text. */
  attributes: string;
}

interface ScorerTemplate extends OpTemplate {
  /** JSON text of the scorer object's ref URI (the scorer call's `self`, feedback's `runnable_ref`). */
  selfJson: string;
  runnableRef: string;
  /** Feedback type, from the ref as the SDK derives it. */
  feedbackType: string;
  /** JSON text of the display name. */
  displayName: string;
}

/** Short op names (`weave:///e/p/op/<name>:<digest>` → `<name>`) the direct path needs. */
const PREDICT_AND_SCORE = "Evaluation.predict_and_score";
const PREDICT = "Model.predict";

/** Learns call templates from the SDK's own call starts, then writes predictions from them. */
export class DirectCallWriter {
  private readonly ops = new Map<string, OpTemplate>();
  private readonly scorers = new Map<string, ScorerTemplate>();
  private readonly projectJson: string;
  private readonly callUriPrefix: string;

  constructor(
    private readonly options: {
      /** `entity/project`. */
      projectId: string;
      /** Short name of the model-call op (`bakeoff.model_call`). */
      modelCallOp: string;
      /** Queues one encoded call item (`{"mode":…,"req":…}`). */
      addCall: (text: string) => void;
      /** Queues one score's feedback item. */
      addFeedback: (item: FeedbackItem) => void;
      /** New call id. @default uuidv7 */
      newId?: () => string;
    },
  ) {
    this.projectJson = JSON.stringify(options.projectId);
    this.callUriPrefix = callUriPrefix(options.projectId);
  }

  /**
   * Looks at one call start the SDK is about to send and keeps what a later prediction needs from
   * it: the op ref and attributes per op, and for scorer calls the scorer object's ref.
   */
  observeStart(start: Record<string, unknown>): void {
    const opName = start["op_name"];
    if (typeof opName !== "string") return;
    const name = shortOpName(opName);
    if (name === undefined) return;
    const isScore = name.endsWith(".score");
    if (!isScore && name !== PREDICT_AND_SCORE && name !== PREDICT && name !== this.options.modelCallOp) return;
    if (isScore ? this.scorers.has(name) : this.ops.has(name)) return;
    const template: OpTemplate = {
      opName: JSON.stringify(opName),
      attributes: JSON.stringify(start["attributes"] ?? {}),
    };
    if (!isScore) {
      this.ops.set(name, template);
      return;
    }
    const self = (start["inputs"] as Record<string, unknown> | undefined)?.["self"];
    if (typeof self !== "string") return;
    this.scorers.set(name, {
      ...template,
      selfJson: JSON.stringify(self),
      runnableRef: self,
      feedbackType: scoreFeedbackType(self),
      displayName: JSON.stringify(name),
    });
  }

  /** Whether every template a prediction with these scores needs has been seen. */
  canWrite(scoreNames: Iterable<string>): boolean {
    if (!this.ops.has(PREDICT_AND_SCORE) || !this.ops.has(PREDICT) || !this.ops.has(this.options.modelCallOp)) {
      return false;
    }
    for (const name of scoreNames) if (!this.scorers.has(`${name}.score`)) return false;
    return true;
  }

  /**
   * Queues one prediction's calls and score feedback, in the SDK's order: predict_and_score
   * start, Model.predict start and end, model call start and end, each scorer's start and end
   * (and feedback), predict_and_score end. Call {@link canWrite} first.
   */
  write(ev: DirectEvaluation, p: DirectPrediction): void {
    const newId = this.options.newId ?? uuidv7;
    const add = this.options.addCall;
    const psOp = this.ops.get(PREDICT_AND_SCORE)!;
    const predictOp = this.ops.get(PREDICT)!;
    const mcOp = this.ops.get(this.options.modelCallOp)!;
    // One clock reading for the whole prediction: these calls are bookkeeping written at once;
    // the model call's own times are in its output (started_at, ended_at, latency_ms).
    const now = JSON.stringify(new Date().toISOString());
    const trace = JSON.stringify(ev.traceId);
    const predictId = newId();
    const psId = JSON.stringify(newId());
    const predict = JSON.stringify(predictId);
    const mcId = JSON.stringify(newId());
    const inputs = JSON.stringify(p.inputs);
    const output = JSON.stringify(p.output);
    const evaluation = JSON.stringify(ev.evaluationUri);
    const model = JSON.stringify(ev.modelUri);

    add(
      this.start(
        psOp,
        psId,
        trace,
        JSON.stringify(ev.callId),
        now,
        undefined,
        `{"self":${evaluation},"model":${model},"example":${inputs}}`,
      ),
    );
    add(this.start(predictOp, predict, trace, psId, now, undefined, `{"arg0":${inputs}}`));
    add(this.end(predict, now, output, "{}", undefined));

    // The model call op: called with {model, messages, result}, returns result = {...output,
    // usage_model}, whose text is the output's with one key more (the output is never empty).
    const usageModel = JSON.stringify(p.usageModel);
    const result = `${output.slice(0, -1)},"usage_model":${usageModel}}`;
    const mcDisplay = JSON.stringify(p.model);
    const mcInputs = `{"model":${mcDisplay},"messages":${JSON.stringify(p.messages)},"result":${result}}`;
    // Its summary as the SDK's processSummary makes it: usage entries count one request.
    const own = withRequestCounts(summarizeModelCall({ usage: p.output["usage"], usage_model: p.usageModel }));
    // It is also predict_and_score's summary: what rolls up from its children is the model call's
    // alone (Model.predict and the scorers have none; merged into an empty summary it is unchanged).
    const ownJson = JSON.stringify(own);
    add(this.start(mcOp, mcId, trace, psId, now, mcDisplay, mcInputs));
    add(this.end(mcId, now, result, ownJson, mcDisplay));

    const scores: Record<string, unknown> = {};
    for (const [name, value] of p.scores) {
      const scorer = this.scorers.get(`${name}.score`)!;
      const scorerId = newId();
      const id = JSON.stringify(scorerId);
      add(
        this.start(scorer, id, trace, psId, now, scorer.displayName, `{"self":${scorer.selfJson},"output":${output}}`),
      );
      add(this.end(id, now, JSON.stringify(value), "{}", scorer.displayName));
      // The SDK's addScore: the score attached to the Model.predict call, from the scorer call.
      this.options.addFeedback({
        project_id: this.options.projectId,
        weave_ref: this.callUriPrefix + predictId,
        feedback_type: scorer.feedbackType,
        payload: { output: value },
        runnable_ref: scorer.runnableRef,
        call_ref: this.callUriPrefix + scorerId,
      });
      scores[name] = value;
    }

    add(this.end(psId, now, `{"output":${output},"scores":${JSON.stringify(scores)}}`, ownJson, undefined));
    ev.addChildSummary(own);
    ev.addScores(scores);
  }

  /** A start item: the keys in the order the SDK's `createCall` writes them. */
  private start(
    op: OpTemplate,
    id: string,
    trace: string,
    parent: string,
    startedAt: string,
    displayName: string | undefined,
    inputs: string,
  ): string {
    return `{"mode":"start","req":{"start":{"project_id":${this.projectJson},"id":${id},"op_name":${op.opName},"trace_id":${trace},"parent_id":${parent},"started_at":${startedAt},${displayName === undefined ? "" : `"display_name":${displayName},`}"attributes":${op.attributes},"inputs":${inputs}}}}`;
  }

  /** An end item: the keys in the order the SDK's `finishCall` writes them. */
  private end(id: string, endedAt: string, output: string, summary: string, displayName: string | undefined): string {
    return `{"mode":"end","req":{"end":{"project_id":${this.projectJson},"id":${id},"ended_at":${endedAt},"output":${output},"summary":${summary}${displayName === undefined ? "" : `,"display_name":${displayName}`}}}}`;
  }
}

/**
 * The model call op's `summarize`: token usage under the served model's name (`usage_model`), the
 * shape Weave's cost tracking reads. Shared by the op (SDK path) and the direct path.
 */
export function summarizeModelCall(result: Record<string, unknown>): Summary {
  const usage = result["usage"] as Record<string, unknown> | null | undefined;
  const key = result["usage_model"];
  return usage && typeof key === "string" ? { usage: { [key]: usage } } : {};
}

/** `<name>` of an op ref URI `weave:///<entity>/<project>/op/<name>:<digest>`. */
export function shortOpName(ref: string): string | undefined {
  const m = /\/op\/([^/:]+):[^/]*$/.exec(ref);
  return m?.[1];
}

/** The SDK's processSummary for an op's own summary: each `usage[model]` object gets `requests: 1` first. */
function withRequestCounts(summary: Summary): Summary {
  const usage = summary["usage"];
  if (usage === null || typeof usage !== "object") return summary;
  const counted: Record<string, unknown> = {};
  for (const [model, u] of Object.entries(usage as Record<string, unknown>)) {
    counted[model] = u !== null && typeof u === "object" ? { requests: 1, ...u } : u;
  }
  return { ...summary, usage: counted };
}

/**
 * weave 0.11.1's `mergeSummaries(left, right)`, the rule by which a call's summary rolls up into
 * its parent: numbers add, objects merge recursively, otherwise the left value wins.
 */
export function mergeSummaries(left: Summary, right: Summary): Summary {
  const result: Summary = { ...right };
  for (const [key, leftValue] of Object.entries(left)) {
    const rightValue = result[key];
    if (key in result) {
      if (typeof leftValue === "number" && typeof rightValue === "number") {
        result[key] = leftValue + rightValue;
      } else if (isObject(leftValue) && isObject(rightValue)) {
        result[key] = mergeSummaries(leftValue, rightValue);
      } else {
        result[key] = leftValue;
      }
    } else {
      result[key] = leftValue;
    }
  }
  return result;
}

function isObject(v: unknown): v is Summary {
  return v !== null && typeof v === "object";
}

/** Random hex digits, 20 taken per id; refilled 8 KiB of random bytes at a time. */
let randomHex = "";
let randomPos = 0;
let lastMs = -1;
let msPrefix = "";

/**
 * A version-7 UUID (RFC 9562: 48-bit Unix milliseconds, version, variant, random bits), the id
 * format the SDK gives calls. The random digits are sliced from a pooled hex string and the time
 * part is formatted once per millisecond, instead of one `getRandomValues` and formatting per id.
 */
export function uuidv7(): string {
  if (randomPos + 20 > randomHex.length) {
    randomHex = randomBytes(8192).toString("hex");
    randomPos = 0;
  }
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    const t = ms.toString(16).padStart(12, "0");
    msPrefix = `${t.slice(0, 8)}-${t.slice(8)}-7`;
  }
  const h = randomHex;
  const i = randomPos;
  randomPos += 20;
  // The variant's two high bits are 10: the digit is one of 8, 9, a, b.
  const variant = VARIANT[parseInt(h[i + 3]!, 16) & 3]!;
  return `${msPrefix}${h.slice(i, i + 3)}-${variant}${h.slice(i + 4, i + 7)}-${h.slice(i + 7, i + 19)}`;
}

const VARIANT = "89ab";
