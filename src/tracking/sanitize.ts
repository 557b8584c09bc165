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

/**
 * Verdicts of {@link isSecretKey} for keys seen before: records repeat the same few dozen keys,
 * and lower-casing plus a regex per key was a tenth of the Weave child's CPU. Bounded, because
 * keys can come from datasets (`vars`).
 */
const secretKeyCache = new Map<string, boolean>();
const SECRET_KEY_CACHE_MAX = 4096;

/** Whether a key names a credential that must never leave the machine. */
export function isSecretKey(key: string): boolean {
  let secret = secretKeyCache.get(key);
  if (secret === undefined) {
    secret = SECRET_KEYS.has(key.toLowerCase().replace(/[-_\s]/g, ""));
    if (secretKeyCache.size < SECRET_KEY_CACHE_MAX) secretKeyCache.set(key, secret);
  }
  return secret;
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
  return clean(value, limits, 0, []);
}

/**
 * `path` holds the containers from the root to `value` (at most `maxDepth` of them): a value met
 * again on its own path is a cycle. A short array beats a WeakSet here (no hashing, no ephemeron
 * work for the GC), and this runs on every record the Weave child uploads.
 */
function clean(value: unknown, limits: Required<SanitizeOptions>, depth: number, path: object[]): unknown {
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
  if (path.includes(obj)) return "[circular]";
  // Popped on the way out: a value seen twice on different branches (not a cycle) is copied again.
  path.push(obj);
  try {
    if (Array.isArray(obj)) return cleanList(obj, limits, depth, path);
    if (obj instanceof Set) return cleanList([...obj], limits, depth, path);
    if (obj instanceof Map) {
      const entries = [...obj.entries()];
      return cleanEntries(
        entries.length,
        (i) => String(entries[i]![0]),
        (i) => entries[i]![1],
        limits,
        depth,
        path,
      );
    }
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record);
    return cleanEntries(
      keys.length,
      (i) => keys[i]!,
      (i) => record[keys[i]!],
      limits,
      depth,
      path,
    );
  } finally {
    path.pop();
  }
}

function cleanEntries(
  count: number,
  keyAt: (i: number) => string,
  valueAt: (i: number) => unknown,
  limits: Required<SanitizeOptions>,
  depth: number,
  path: object[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const key = keyAt(i);
    if (isSecretKey(key)) continue;
    if (kept === limits.maxItems) {
      out["…"] = `[${count - kept} more keys]`;
      break;
    }
    const cleaned = clean(valueAt(i), limits, depth + 1, path);
    if (cleaned !== undefined) out[key] = cleaned;
    kept++;
  }
  return out;
}

function cleanList(items: unknown[], limits: Required<SanitizeOptions>, depth: number, path: object[]): unknown[] {
  const out = items.slice(0, limits.maxItems).map((item) => {
    const cleaned = clean(item, limits, depth + 1, path);
    // JSON turns a dropped array slot into null; do the same explicitly.
    return cleaned === undefined ? null : cleaned;
  });
  if (items.length > limits.maxItems) out.push(`[${items.length - limits.maxItems} more items]`);
  return out;
}
