/**
 * Turns whatever a service or the network threw at us into one {@link ModelCallError}. Real
 * services disagree on error bodies (see docs/azure-ai-inference.md): gateway `{statusCode,
 * message}`, `{error:{code,message}}`, OpenAI `{error:{message,type,param,code}}`, serverless 422
 * `{error:{code,status,details}}`, FastAPI `{detail}`, JSON served as text/plain, HTML from
 * proxies. Everything downstream (retry, reports, the journal) reads only the normalised form.
 *
 * Messages are built from the response alone: never from request headers, which carry the key.
 */
import { ModelCallError, type ModelErrorKind } from "../errors.js";
import { redactSecrets } from "./redact.js";
import { http } from "../util/node-http.js";
import { headerValue, parseRetryAfter, type HeaderBag } from "./retry-after.js";

/** Longest service text quoted in a message; error pages can be kilobytes of HTML. */
const MAX_EXCERPT = 300;

/** What we could read out of an error body. */
interface BodyFacts {
  message?: string;
  code?: string;
  type?: string;
  param?: string;
  details?: string;
  contentFilter: boolean;
  filtered: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Cuts `text` to `max` characters on a readable boundary. */
function clip(text: string, max = MAX_EXCERPT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", apos: "'", nbsp: " " };

/** A short, single-line excerpt of an HTML or plain-text body (proxy error pages, 502s). */
export function textExcerpt(body: string, max = MAX_EXCERPT): string {
  const text = body
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (_, e: string) => ENTITIES[e] ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return clip(text, max);
}

/** JSON text parsed, or `undefined` when it is not JSON (HTML, plain text, empty). */
function tryParseJson(text: string): unknown {
  const t = text.trim();
  if (t === "" || !/^[[{"]/.test(t)) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

/** `details` of a 422, or FastAPI's `detail` list: `loc: msg` per item. */
function summariseDetails(details: unknown): string | undefined {
  if (!Array.isArray(details) || details.length === 0) return undefined;
  const parts = details.map((d) => {
    if (typeof d === "string") return d;
    if (!isRecord(d)) return JSON.stringify(d);
    const msg = str(d.msg) ?? str(d.message) ?? JSON.stringify(d);
    const loc = Array.isArray(d.loc) ? d.loc.join(".") : (str(d.loc) ?? str(d.target));
    return loc === undefined ? msg : `${loc}: ${msg}`;
  });
  return clip(parts.join("; "));
}

/** Categories the content filter flagged, e.g. `hate (high)`, from `content_filter_result`. */
function filteredCategories(result: unknown): string[] {
  if (!isRecord(result)) return [];
  const out: string[] = [];
  for (const [name, v] of Object.entries(result)) {
    if (!isRecord(v) || v.filtered !== true) continue;
    const severity = str(v.severity);
    out.push(severity === undefined ? name : `${name} (${severity})`);
  }
  return out;
}

function factsFromObject(body: Record<string, unknown>): BodyFacts {
  const err = body.error;
  if (isRecord(err)) {
    const inner = isRecord(err.innererror) ? err.innererror : undefined;
    const code = str(err.code);
    const innerCode = str(inner?.code);
    return {
      message: str(err.message),
      code,
      type: str(err.type),
      param: str(err.param),
      details: summariseDetails(err.details),
      contentFilter: code === "content_filter" || innerCode === "ResponsibleAIPolicyViolation",
      filtered: filteredCategories(inner?.content_filter_result),
    };
  }
  const facts: BodyFacts = { code: str(body.code), contentFilter: false, filtered: [] };
  if (typeof err === "string") facts.message = err.trim();
  else if (typeof body.detail === "string") facts.message = body.detail.trim();
  else if (Array.isArray(body.detail)) facts.details = summariseDetails(body.detail);
  else if (str(body.message) !== undefined) facts.message = str(body.message);
  if (facts.message === undefined && facts.details === undefined) {
    facts.message = clip(JSON.stringify(body));
  }
  return facts;
}

/** Reads an error body in any of the shapes real services send. */
function factsFromBody(body: unknown): BodyFacts {
  let value = body;
  // A JSON document served as text/plain (GitHub's 404) reaches us as a string; so can a JSON
  // string literal holding JSON. Two rounds of parsing cover both.
  for (let round = 0; round < 2 && typeof value === "string"; round++) {
    const parsed = tryParseJson(value);
    if (parsed === undefined) break;
    value = parsed;
  }
  if (isRecord(value)) return factsFromObject(value);
  if (typeof value === "string") {
    const excerpt = textExcerpt(value);
    return { message: excerpt === "" ? undefined : excerpt, contentFilter: false, filtered: [] };
  }
  if (value === undefined || value === null) return { contentFilter: false, filtered: [] };
  return { message: clip(JSON.stringify(value)), contentFilter: false, filtered: [] };
}

function kindFor(status: number, contentFilter: boolean): ModelErrorKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limit";
  if (status === 408 || status >= 500) return "server";
  if (status >= 400) return contentFilter ? "content_filter" : "bad_request";
  // A 1xx/2xx/3xx other than the 200 we asked for: the service answered, but not with a result.
  return "bad_response";
}

/** The service's request id from response headers, for support tickets. */
export function requestIdFrom(headers: HeaderBag): string | undefined {
  // One pass over the headers (this runs on every response), keeping the best-ranked name's value.
  let found: string | undefined;
  let rank = REQUEST_ID_HEADERS.length;
  for (const key of Object.keys(headers)) {
    const r = REQUEST_ID_HEADERS.indexOf(key.toLowerCase());
    if (r < 0 || r >= rank) continue;
    const raw = headers[key];
    const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!v) continue;
    found = v;
    rank = r;
  }
  return found;
}

/** Where services put their request id, most specific first. */
const REQUEST_ID_HEADERS = ["apim-request-id", "x-request-id", "x-ms-request-id", "request-id"];

/** What goes in parentheses after the status: the service's code, else its error type. */
function labelFor(code: string | undefined, type: string | undefined, status: number): string | undefined {
  if (code === undefined) return type;
  // A code equal to the status ("401") tells the reader nothing new.
  return code === String(status) ? undefined : code;
}

/**
 * Normalises a non-200 response into a {@link ModelCallError}.
 *
 * Kind: 401/403 → `auth`; 429 → `rate_limit`; 408 and 5xx → `server`; a prompt blocked by the
 * content filter → `content_filter`; other 4xx → `bad_request`; anything else → `bad_response`.
 * `retryAfterMs` is set from the headers for the retryable kinds (servers send `Retry-After` on
 * 503 as well as 429). The message reads `HTTP <status> from the service (<code>): <text>` using
 * the service's own words, an excerpt of a text/HTML body, or the status text when it sent none.
 *
 * @param status HTTP status code
 * @param body parsed JSON, a string (text/plain, HTML, JSON served as text) or nothing
 * @param headers response headers (never request headers)
 * @param secrets values to mask in the message, in case a service echoes the key back
 */
export function normaliseHttpError(
  status: number,
  body: unknown,
  headers: HeaderBag,
  secrets: readonly string[] = [],
): ModelCallError {
  const facts = factsFromBody(body);
  const kind = kindFor(status, facts.contentFilter);
  const code = facts.code ?? headerValue(headers, "x-ms-error-code");

  const label = labelFor(code, facts.type, status);
  const head = `HTTP ${status} from the service${label === undefined ? "" : ` (${label})`}`;
  const text =
    facts.message ??
    (facts.details === undefined
      ? `${http.STATUS_CODES[status] ?? "error"} (no message in the response body)`
      : undefined);
  const parts = [text === undefined ? head : `${head}: ${clip(text, 600)}`];
  if (facts.param !== undefined) parts.push(`(parameter: ${facts.param})`);
  if (facts.details !== undefined) parts.push(`Details: ${facts.details}`);
  if (facts.filtered.length > 0) parts.push(`Filtered categories: ${facts.filtered.join(", ")}.`);

  const retryable = kind === "rate_limit" || kind === "server";
  return new ModelCallError(kind, redactSecrets(parts.join(" "), secrets), {
    status,
    code,
    retryAfterMs: retryable ? parseRetryAfter(headers) : undefined,
    requestId: requestIdFrom(headers),
  });
}

/**
 * A 200 whose body is not what we asked for (no choices, a string, an HTML page).
 * @param what what was wrong, e.g. `no choices`
 */
export function badResponseError(
  what: string,
  body: unknown,
  headers: HeaderBag,
  secrets: readonly string[] = [],
): ModelCallError {
  const shown = typeof body === "string" ? textExcerpt(body, 200) : clip(JSON.stringify(body) ?? String(body), 200);
  const message = `HTTP 200 from the service, but the body is not a chat completion (${what}): ${shown || "(empty)"}`;
  return new ModelCallError("bad_response", redactSecrets(message, secrets), {
    status: 200,
    requestId: requestIdFrom(headers),
  });
}

// --- Aborts: the one contract between the retry layer and providers -------------------------

/**
 * The abort reason the retry layer uses when an attempt's deadline passes. Its `name` is
 * `TimeoutError`, as for `AbortSignal.timeout()`, so providers can tell it from a run abort.
 */
export function deadlineReason(timeoutMs: number): DOMException {
  return new DOMException(`no complete response within ${timeoutMs} ms`, "TimeoutError");
}

/** The abort reason the retry layer uses when the run is shutting down. */
export function runAbortReason(): DOMException {
  return new DOMException("the run was aborted", "AbortError");
}

/** Whether an abort reason means "the deadline passed" rather than "stop everything". */
export function isDeadlineReason(reason: unknown): boolean {
  return typeof reason === "object" && reason !== null && (reason as { name?: unknown }).name === "TimeoutError";
}

/**
 * The error for an attempt whose signal fired: `timeout` when the reason is a deadline
 * ({@link deadlineReason}), else `aborted`.
 */
export function abortedAttemptError(signal: AbortSignal): ModelCallError {
  const reason: unknown = signal.reason;
  if (isDeadlineReason(reason)) {
    const why = (reason as { message?: unknown }).message;
    return new ModelCallError(
      "timeout",
      `Timed out: ${typeof why === "string" && why !== "" ? why : "the attempt's deadline passed"}`,
    );
  }
  return runAbortedError();
}

/** The error for a call cut short because the run is shutting down. */
export function runAbortedError(detail = "the run was stopped before the call finished"): ModelCallError {
  return new ModelCallError("aborted", `Aborted: ${detail}`);
}

/**
 * Node's codes for a server certificate signed by no CA it trusts (OpenSSL's verify results).
 * Behind a company proxy or with a private CA this is a set-up step, not an outage.
 */
const UNTRUSTED_CERTIFICATE = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_UNTRUSTED",
]);

/**
 * A connection-level failure (refused, reset, DNS, socket hang up, body cut off).
 * The original error is not attached as `cause`: SDK errors carry the request, keys included.
 */
export function networkError(
  detail: string,
  code: string | undefined,
  secrets: readonly string[] = [],
): ModelCallError {
  const hint =
    code !== undefined && UNTRUSTED_CERTIFICATE.has(code)
      ? "; if the endpoint's certificate comes from your own CA, point NODE_EXTRA_CA_CERTS at that CA's PEM file"
      : "";
  const text = `Network error: ${detail}${code !== undefined && !detail.includes(code) ? ` (${code})` : ""}${hint}`;
  return new ModelCallError("network", redactSecrets(text, secrets), { code });
}
