/**
 * Reads how long a service asked us to wait before retrying. Azure sends `retry-after-ms` or
 * `x-ms-retry-after-ms` (milliseconds) and/or `Retry-After` (seconds, sometimes with decimals, or
 * an HTTP date); GitHub and OpenAI-compatible servers send only `Retry-After`, or nothing; OpenAI
 * and Azure OpenAI may send only `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens`, as
 * Go-style durations (`6m0s`, `1.5s`, `20ms`).
 */

/** Header bag as the HTTP clients hand it over; names in any case. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** Looks a header up by name, ignoring case; the first value when it was sent more than once. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** A non-negative decimal number such as `5`, `0.5` or `1500`; anything else is rejected. */
const DECIMAL = /^\d+(\.\d+)?$/;

function parseNonNegative(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

/** A Go-style duration such as `6m0s`, `1h2m3.5s`, `250ms` or `1s`; a bare number is seconds. */
const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** Milliseconds of a rate-limit reset value, or undefined when it is not one. */
export function parseResetDuration(text: string | undefined): number | undefined {
  const t = text?.trim();
  if (t === undefined || t === "") return undefined;
  const seconds = parseNonNegative(t);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  const m = DURATION.exec(t);
  if (m === null || m.slice(1).every((g) => g === undefined)) return undefined;
  const [h, min, s, ms] = m.slice(1).map((g) => (g === undefined ? 0 : Number(g)));
  return Math.ceil(h! * 3_600_000 + min! * 60_000 + s! * 1000 + ms!);
}

/**
 * The wait the `x-ratelimit-reset-*` headers imply: the reset of the limit that ran out
 * (`x-ratelimit-remaining-* = 0`), else the longer of the two (a 429 means one ran out).
 */
function resetWait(headers: HeaderBag): number | undefined {
  const requests = parseResetDuration(headerValue(headers, "x-ratelimit-reset-requests"));
  const tokens = parseResetDuration(headerValue(headers, "x-ratelimit-reset-tokens"));
  if (requests === undefined && tokens === undefined) return undefined;
  const exhausted = (name: string) => headerValue(headers, name)?.trim() === "0";
  if (requests !== undefined && exhausted("x-ratelimit-remaining-requests")) return requests;
  if (tokens !== undefined && exhausted("x-ratelimit-remaining-tokens")) return tokens;
  return Math.max(requests ?? 0, tokens ?? 0);
}

/**
 * The wait a service asked for, in milliseconds, or `undefined` when it asked for none or the
 * headers are unreadable (negative numbers, garbage, unparseable dates).
 *
 * The millisecond headers win over `Retry-After` because they are more precise; the
 * `x-ratelimit-reset-*` headers are read only when neither is present. An HTTP date in the past
 * means "now" (0), not "no advice".
 *
 * @param headers response headers, any case
 * @param now clock for HTTP-date values, ms since the epoch (injectable for tests)
 */
export function parseRetryAfter(headers: HeaderBag, now: number = Date.now()): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = parseNonNegative(headerValue(headers, name));
    if (ms !== undefined) return Math.ceil(ms);
  }
  const raw = headerValue(headers, "retry-after")?.trim();
  if (raw === undefined || raw === "") return resetWait(headers);
  const seconds = parseNonNegative(raw);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  // Only something that looks like a date: Date.parse is lenient and would accept "-5" or "2".
  if (!/[A-Za-z]/.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
