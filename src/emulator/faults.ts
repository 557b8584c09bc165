/**
 * Fault injection: decides which chat requests a simulated model fails (deterministically) and
 * serves each failure the way real endpoints and networks do: 429s with every Retry-After
 * variant and the Azure OpenAI / GitHub Models bodies, 5xx, 408, resets, stalls, broken bodies,
 * cut streams, content filters and auth failures. The server calls it from `dispatch()`.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FaultKind, FaultSpec, RetryAfterSpec } from "./fault-spec.js";
import { sendJson, serviceHeaders, wait, type Exchange } from "./exchange.js";
import { modelNameFor } from "./models.js";
import { completionBody, streamChunks, UNAUTHORIZED_BODY, type ResponseIdentity } from "./protocol.js";
import { uniformStream } from "./random.js";
import type { SimModelSpec } from "./spec.js";

/** The parts of a simulated model the injector reads. */
export interface FaultySim {
  name: string;
  spec: SimModelSpec;
  fingerprint: string;
}

/**
 * Default bound on prompts tracked for attempt counting. Past it the oldest prompt is forgotten,
 * so a prompt that comes back after ~100k others counts as new again (faults it already got over
 * come back). Plenty for tests and nightly runs; memory stays flat for `bakeoff serve`.
 */
export const MAX_TRACKED_PROMPTS = 100_000;

/**
 * Chooses the fault for each request. Holds the attempt count of every distinct prompt (a hash of
 * sim, messages and seed), which is what lets `attempts: N` make a fault transient.
 */
export class FaultPlanner {
  private readonly attemptsByPrompt = new Map<string, number>();

  constructor(private readonly maxTracked = MAX_TRACKED_PROMPTS) {}

  /**
   * Counts this request as the next attempt of its prompt and returns the first configured fault
   * that applies to it, or undefined. Sims without faults are not tracked at all.
   * @param body the parsed request body (any shape; only `messages` and `seed` are read)
   */
  choose(sim: FaultySim, body: unknown): FaultSpec | undefined {
    const faults = sim.spec.faults;
    if (faults.length === 0) return undefined;
    const { messages, seed } = promptOf(body);
    const prompt = createHash("sha256")
      .update(JSON.stringify([sim.name, messages, seed]))
      .digest("hex");
    const attempt = this.count(prompt);
    for (const [index, fault] of faults.entries()) {
      if (fault.attempts !== undefined && attempt > fault.attempts) continue;
      // The entry index is in the draw so two entries with the same rate hit different requests.
      // (The prompt hash already covers the seed, so the draw needs no separate seed part.)
      const draw = uniformStream("fault", sim.name, prompt, attempt, index)();
      if (draw < fault.rate) return fault;
    }
    return undefined;
  }

  /** The 1-based attempt number of this prompt, evicting the oldest prompt past the bound. */
  private count(prompt: string): number {
    const attempt = (this.attemptsByPrompt.get(prompt) ?? 0) + 1;
    this.attemptsByPrompt.delete(prompt); // re-inserted below: Map order is then least recent first
    this.attemptsByPrompt.set(prompt, attempt);
    if (this.attemptsByPrompt.size > this.maxTracked) {
      const oldest = this.attemptsByPrompt.keys().next().value;
      if (oldest !== undefined) this.attemptsByPrompt.delete(oldest);
    }
    return attempt;
  }
}

function promptOf(body: unknown): { messages: unknown; seed: unknown } {
  if (typeof body !== "object" || body === null) return { messages: body, seed: undefined };
  const obj = body as Record<string, unknown>;
  return { messages: obj["messages"], seed: obj["seed"] };
}

function wantsStream(body: unknown): boolean {
  return typeof body === "object" && body !== null && (body as Record<string, unknown>)["stream"] === true;
}

/** Serves `fault` as the response to `ex`. Resolves once the response has ended or been cut. */
export async function serveFault(ex: Exchange, sim: FaultySim, fault: FaultSpec, body: unknown): Promise<void> {
  const serve: Record<FaultKind, () => void | Promise<void>> = {
    rate_limit: () => rateLimited(ex, fault),
    server_error: () =>
      sendJson(ex, 500, {
        error: {
          code: "InternalServerError",
          message: "The server had an error while processing your request. Sorry about that!",
        },
      }),
    bad_gateway: () => sendHtml(ex, 502, BAD_GATEWAY_PAGE),
    unavailable: () =>
      sendJson(
        ex,
        503,
        {
          error: {
            code: "ServiceUnavailable",
            message: "The service is temporarily unable to process your request. Please try again later.",
          },
        },
        retryAfterHeaders(fault.retryAfter),
      ),
    request_timeout: () => sendJson(ex, 408, { error: { code: "Timeout", message: "The operation was timeout." } }),
    reset: () => void ex.res.destroy(),
    stall_headers: async () => {
      await wait(fault.stallMs, ex.signal);
      ex.res.destroy();
    },
    stall_body: async () => {
      sendHalfCompletion(ex, sim);
      await wait(fault.stallMs, ex.signal);
      ex.res.destroy();
    },
    invalid_json: () => {
      // A complete response (right content-length) whose JSON simply breaks off.
      const text = JSON.stringify(
        completionBody(identity(sim), "The answer is 42.", "stop", { promptTokens: 10, completionTokens: 5 }),
      );
      sendRaw(ex, 200, "application/json", text.slice(0, Math.floor(text.length / 2)));
    },
    sse_cut: () => (wantsStream(body) ? cutStream(ex, sim) : cutBody(ex, sim)),
    prompt_filter: () => sendJson(ex, 400, PROMPT_FILTERED_BODY),
    output_filter: () => outputFiltered(ex, sim, wantsStream(body)),
    auth: () => sendJson(ex, 401, UNAUTHORIZED_BODY),
    forbidden: () =>
      sendJson(ex, 403, {
        error: { code: "PermissionDenied", message: "Principal does not have access to API/Operation." },
      }),
  };
  await serve[fault.kind]();
}

function identity(sim: FaultySim): ResponseIdentity {
  return {
    id: `chatcmpl-${randomBytes(22).toString("base64url").slice(0, 29)}`,
    created: Math.floor(Date.now() / 1000),
    model: modelNameFor(sim.name, sim.spec),
    systemFingerprint: sim.fingerprint,
  };
}

// --- Rate limits ---------------------------------------------------------------------------

/** The header that carries the wait, in the configured variant; none when not configured. */
export function retryAfterHeaders(retryAfter: RetryAfterSpec | undefined, now = Date.now()): Record<string, string> {
  if (retryAfter === undefined) return {};
  const { format, ms } = retryAfter;
  switch (format) {
    case "seconds":
      return { "retry-after": String(ms / 1000) };
    case "http-date":
      return { "retry-after": new Date(now + ms).toUTCString() };
    case "ms":
      return { "retry-after-ms": String(ms) };
    case "x-ms-ms":
      return { "x-ms-retry-after-ms": String(ms) };
    case "none":
      return {};
  }
}

function rateLimited(ex: Exchange, fault: FaultSpec): void {
  // Whole seconds in the wording, as the services write it; at least 1 so it reads naturally.
  const seconds = Math.max(1, Math.ceil((fault.retryAfter?.ms ?? 1000) / 1000));
  const wait = retryAfterHeaders(fault.retryAfter);
  if (fault.style === "github-models") {
    const message = `Rate limit of 15 per 60s exceeded for UserByModelByMinute. Please wait ${seconds} seconds before retrying.`;
    sendJson(
      ex,
      429,
      { error: { code: "RateLimitReached", message, details: message } },
      {
        ...wait,
        "x-ratelimit-type": "UserByModelByMinute",
        "x-ratelimit-timeremaining": String(seconds),
      },
    );
    return;
  }
  if (fault.style === "azure-openai") {
    const version = ex.apiVersion ?? "2024-10-21";
    const message =
      `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${version} have exceeded token rate limit ` +
      `of your current AIServices S0 pricing tier. Please retry after ${seconds} seconds. ` +
      "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.";
    sendJson(
      ex,
      429,
      { error: { code: "429", message } },
      {
        ...wait,
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-remaining-tokens": "0",
      },
    );
    return;
  }
  sendJson(
    ex,
    429,
    { error: { code: "429", message: `Rate limit is exceeded. Try again in ${seconds} seconds.` } },
    {
      ...wait,
      "x-ratelimit-reset-requests": `${seconds}s`,
    },
  );
}

// --- Broken bodies -------------------------------------------------------------------------

/** What nginx in front of a model sends when the upstream fails: HTML, not JSON. */
const BAD_GATEWAY_PAGE =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

function sendRaw(ex: Exchange, status: number, contentType: string, text: string): void {
  if (ex.res.headersSent || ex.res.destroyed) return;
  ex.res.writeHead(status, {
    ...serviceHeaders(ex),
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
  });
  ex.res.end(text);
}

function sendHtml(ex: Exchange, status: number, html: string): void {
  sendRaw(ex, status, "text/html", html);
}

/**
 * Sends the headers of a complete completion (content-length included) and the first half of its
 * JSON, leaving the response open: the client is mid-body when whatever comes next happens.
 */
function sendHalfCompletion(ex: Exchange, sim: FaultySim): void {
  if (ex.res.headersSent || ex.res.destroyed) return;
  const text = JSON.stringify(
    completionBody(identity(sim), "The answer is 42.", "stop", { promptTokens: 10, completionTokens: 5 }),
  );
  const bytes = Buffer.from(text, "utf8");
  ex.res.writeHead(200, { ...serviceHeaders(ex), "content-type": "application/json", "content-length": bytes.length });
  ex.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** A non-stream response cut mid-body: half the JSON, then the connection drops. */
async function cutBody(ex: Exchange, sim: FaultySim): Promise<void> {
  sendHalfCompletion(ex, sim);
  // Let the half reach the socket before dropping it, so the client sees headers and a partial body.
  await new Promise<void>((resolve) => (ex.res.destroyed ? resolve() : ex.res.write("", () => resolve())));
  ex.res.destroy();
}

function openStream(ex: Exchange): (data: unknown) => void {
  ex.res.writeHead(200, {
    ...serviceHeaders(ex),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  return (data) => {
    if (!ex.res.destroyed) ex.res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  };
}

/** A stream that ends cleanly at the HTTP level but before the finish chunk and `[DONE]`. */
function cutStream(ex: Exchange, sim: FaultySim): void {
  if (ex.res.headersSent || ex.res.destroyed) return;
  const who = identity(sim);
  const send = openStream(ex);
  send(streamChunks.promptFilter());
  send(streamChunks.role(who));
  for (const piece of ["The", " answer"]) send(streamChunks.content(who, piece));
  ex.res.end();
}

// --- Content filters -----------------------------------------------------------------------

const SAFE = { filtered: false, severity: "safe" } as const;

/** The 400 for a blocked prompt, as Azure OpenAI sends it (shared/docs/azure-ai-inference.md). */
export const PROMPT_FILTERED_BODY = {
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. " +
      "To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    type: null,
    param: "prompt",
    code: "content_filter",
    status: 400,
    innererror: {
      code: "ResponsibleAIPolicyViolation",
      content_filter_result: {
        hate: SAFE,
        jailbreak: { filtered: false, detected: false },
        self_harm: SAFE,
        sexual: SAFE,
        violence: { filtered: true, severity: "medium" },
      },
    },
  },
} as const;

/** The verdict attached to a filtered answer. */
const OUTPUT_FILTER_RESULTS = {
  hate: SAFE,
  self_harm: SAFE,
  sexual: SAFE,
  violence: { filtered: true, severity: "high" },
} as const;

/** A 200 whose answer the output filter withheld: no content, `finish_reason: content_filter`. */
function outputFiltered(ex: Exchange, sim: FaultySim, stream: boolean): void {
  const who = identity(sim);
  if (!stream) {
    const body = completionBody(who, "", "content_filter", { promptTokens: 10, completionTokens: 0 }) as {
      choices: Array<Record<string, unknown>>;
    };
    const choice = body.choices[0];
    if (choice !== undefined) {
      choice["message"] = { role: "assistant", content: null };
      choice["content_filter_results"] = OUTPUT_FILTER_RESULTS;
    }
    sendJson(ex, 200, body);
    return;
  }
  if (ex.res.headersSent || ex.res.destroyed) return;
  const send = openStream(ex);
  send(streamChunks.promptFilter());
  send(streamChunks.role(who));
  const finish = streamChunks.finish(who, "content_filter") as { choices: Array<Record<string, unknown>> };
  const choice = finish.choices[0];
  if (choice !== undefined) choice["content_filter_results"] = OUTPUT_FILTER_RESULTS;
  send(finish);
  send("[DONE]");
  ex.res.end();
}
