/**
 * Makes any value safe to hand to the Weave SDK. The SDK copies values by enumerable fields, so a
 * Date, Map, Set or Error arrives as `{}`, NaN becomes null, a BigInt anywhere makes its batch loop
 * throw and hang `waitForBatchProcessing()`, and one item over ~10 M characters blocks its queue
 * for good. Everything here turns such values into plain JSON that says what it was.
 */

/** Limits applied by {@link sanitize}. */
export interface SanitizeOptions {
  /** Strings longer than this are cut and marked `…[truncated N chars]`. @default 100000 */
  maxStringChars?: number;
  /** Nesting deeper than this is replaced by a marker string. @default 24 */
  maxDepth?: number;
  /** Array items / object keys kept per container; the rest are summarised by a marker. @default 10000 */
  maxItems?: number;
}

const DEFAULTS: Required<SanitizeOptions> = { maxStringChars: 100_000, maxDepth: 24, maxItems: 10_000 };

/**
 * Keys that carry credentials in HTTP headers or configs. Matched on the whole key (case and
 * separators ignored) so usage fields such as `total_tokens` are kept.
 */
const SECRET_KEYS = new Set([
  "apikey",
  "xapikey",
  "authorization",
  "proxyauthorization",
  "ocpapimsubscriptionkey",
  "password",
  "secret",
  "clientsecret",
  "accesstoken",
  "bearer",
  "cookie",
  "setcookie",
]);

/** Whether a key names a credential that must never leave the machine. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_\s]/g, ""));
}

/** Cuts `text` to `max` characters, saying how much was removed. */
export function capString(text: string, max: number = DEFAULTS.maxStringChars): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…[truncated ${text.length - max} chars]`;
}

/**
 * Returns a JSON-safe deep copy of `value`: BigInt → decimal string, Date → ISO string, Error →
 * `"Name: message"`, Map → object, Set → array, non-finite numbers → null, binary data → a size
 * marker, functions and symbols dropped, cycles and over-deep nesting replaced by markers, long
 * strings capped, and credential-like keys removed.
 */
export function sanitize(value: unknown, options: SanitizeOptions = {}): unknown {
  const limits = { ...DEFAULTS, ...options };
  return clean(value, limits, 0, new WeakSet());
}

function clean(value: unknown, limits: Required<SanitizeOptions>, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case "string":
      return capString(value, limits.maxStringChars);
    case "number":
      return Number.isFinite(value) ? value : null;
    case "boolean":
      return value;
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    case "object":
      break; // null, dates, errors, buffers, lists and maps: below
  }
  if (value === null) return null;
  const obj = value;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (obj instanceof Error) return capString(`${obj.name}: ${obj.message}`, limits.maxStringChars);
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `[${obj.byteLength} bytes]`;
  if (depth >= limits.maxDepth) return "[depth limit]";
  if (seen.has(obj)) return "[circular]";
  seen.add(obj);
  try {
    if (Array.isArray(obj) || obj instanceof Set) return cleanList([...obj], limits, depth, seen);
    const entries =
      obj instanceof Map ? [...obj.entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(obj);
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const [key, item] of entries) {
      if (isSecretKey(key)) continue;
      if (kept === limits.maxItems) {
        out["…"] = `[${entries.length - kept} more keys]`;
        break;
      }
      const cleaned = clean(item, limits, depth + 1, seen);
      if (cleaned !== undefined) out[key] = cleaned;
      kept++;
    }
    return out;
  } finally {
    // A value seen twice on different branches (not a cycle) is fine to copy again.
    seen.delete(obj);
  }
}

function cleanList(
  items: unknown[],
  limits: Required<SanitizeOptions>,
  depth: number,
  seen: WeakSet<object>,
): unknown[] {
  const out = items.slice(0, limits.maxItems).map((item) => {
    const cleaned = clean(item, limits, depth + 1, seen);
    // JSON turns a dropped array slot into null; do the same explicitly.
    return cleaned === undefined ? null : cleaned;
  });
  if (items.length > limits.maxItems) out.push(`[${items.length - limits.maxItems} more items]`);
  return out;
}
