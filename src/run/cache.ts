/**
 * Record and replay of model responses. `--cache` reuses a stored answer for a request identical
 * to one already paid for; `--replay` answers ONLY from stored responses and fails the run closed
 * on a miss, so CI can re-score and re-report without calling any model (zero HTTP requests).
 *
 * The cache is a decorator on the one-attempt {@link Provider} interface, outside the budget
 * pacer and inside the retry layer: a hit costs no quota and no network, a miss in cache mode is
 * one ordinary attempt whose successful result is stored. Errors are never stored: a 429, a 5xx
 * or a blocked prompt is a fact about that moment, and replaying it would hide a fixed problem.
 *
 * ## Layout (memory: O(1) per entry — nothing per entry is held in memory)
 *
 * ```
 * <dir>/                      default `results/.cache/` (see {@link defaultCacheDir})
 *   v1/                       format version; a new format gets a new folder, old entries are ignored
 *     3f/                     first two hex digits of the key: 256 shards keep directories small
 *       3f2a…(64 hex).json    one entry: {"v":1,"kind":"completion","key","model","createdAt","latencyMs","result"}
 * ```
 *
 * A lookup is one `readFile` of one small file; a store is a write to a temp file in the same
 * shard plus `rename`, which is atomic on POSIX, so parallel writers (even of the same key)
 * never leave a torn entry and readers never see one. Entries hold the {@link AttemptResult}
 * fields and non-secret metadata only: never request headers, keys or the endpoint URL (URLs
 * can carry SAS tokens); the request itself is represented only by the key, its sha256.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BakeoffError, ExitCode, UsageError } from "../errors.js";
import type { AttemptResult, CallContext, ModelInfo, Provider } from "../providers/types.js";
import type { CompletionRequest, ToolCall, Usage } from "../types.js";
import { canonicalJson, sha256 } from "../util/hash.js";

/** Name of the cache folder inside the output directory. */
export const CACHE_DIR_NAME = ".cache";

/** The default cache directory for an output directory: `<outputDir>/.cache` (`results/.cache`). */
export function defaultCacheDir(outputDir: string): string {
  return join(outputDir, CACHE_DIR_NAME);
}

/** Entry format version; also the name of the folder entries live in. */
const FORMAT = "v1";

const KEY_PATTERN = /^[0-9a-f]{64}$/;

/** Which model endpoint a request goes to: everything in a cache key except the body and trial. */
export interface CacheIdentity {
  /** Provider name from the config (`azure-ai-inference`). */
  provider: string;
  /**
   * The endpoint AS CONFIGURED (`emulator://small`, `https://…`), never the resolved loopback URL
   * of an emulator, whose port changes every run and would make every key a miss.
   */
  endpoint: string;
  /** Model/deployment name sent in the body (`ModelSpec.model`), when there is one. */
  deployment?: string;
  /** `api-version` as configured; `""` (omitted) and absent (SDK default) are different keys. */
  apiVersion?: string;
  /**
   * Which API of the endpoint answers (`openai` provider: `chat` or `responses`): the same body
   * sent to another API is another request. Keyed only when set, so older keys stay valid.
   */
  api?: string;
}

/** Everything that makes two requests "identical" for the cache. */
export interface CacheKeyParts extends CacheIdentity {
  /** The full request body: messages and generation params. */
  body: unknown;
  /** Trial number (0-based); stated explicitly even though later trials also shift the seed. */
  trial: number;
}

/** The endpoint identity both keys share; null rather than absent, so "none" never collides with a future field. */
function identityOf(id: CacheIdentity) {
  return {
    provider: id.provider,
    endpoint: id.endpoint,
    deployment: id.deployment ?? null,
    apiVersion: id.apiVersion ?? null,
    ...(id.api === undefined ? {} : { api: id.api }),
  };
}

/** The cache key: sha256 (hex) of the canonical JSON (sorted keys) of the parts. */
export function cacheKey(parts: CacheKeyParts): string {
  return sha256(canonicalJson({ kind: "completion", ...identityOf(parts), body: parts.body, trial: parts.trial }));
}

/** The key under which an endpoint's `/info` answer is stored (one per endpoint, no trial). */
export function infoCacheKey(identity: CacheIdentity): string {
  return sha256(canonicalJson({ kind: "info", ...identityOf(identity) }));
}

/** Non-secret metadata stored beside a result. */
export interface CacheEntryMeta {
  /** Configured model name (for people reading the cache; not part of the key). */
  model: string;
  /** ISO time the response was recorded. */
  createdAt: string;
  /** Wall time of the recorded attempt, ms, so a replay can report the model's real latency. */
  latencyMs?: number;
}

/** Counters since the cache was opened. */
export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isNullableString = (v: unknown): v is string | null => v === null || typeof v === "string";

function readUsage(v: unknown): Usage | null | undefined {
  if (v === null) return null;
  if (!isRecord(v)) return undefined;
  const { promptTokens, completionTokens, totalTokens, cachedPromptTokens, reasoningTokens } = v;
  if (typeof promptTokens !== "number" || typeof completionTokens !== "number" || typeof totalTokens !== "number")
    return undefined;
  return {
    promptTokens,
    completionTokens,
    totalTokens,
    ...(typeof cachedPromptTokens === "number" ? { cachedPromptTokens } : {}),
    ...(typeof reasoningTokens === "number" ? { reasoningTokens } : {}),
  };
}

/**
 * Copies exactly the {@link AttemptResult} fields, from a fresh result or a parsed entry; any
 * other property (a provider's future debug field, a tampered entry) is dropped rather than
 * stored or replayed. Undefined when the value is not a result.
 */
function pickResult(v: unknown): AttemptResult | undefined {
  if (!isRecord(v)) return undefined;
  const usage = readUsage(v.usage);
  if (!isNullableString(v.text) || !isNullableString(v.finishReason) || usage === undefined) return undefined;
  if (!isNullableString(v.model) || !isNullableString(v.requestId)) return undefined;
  return {
    text: v.text,
    finishReason: v.finishReason,
    usage,
    model: v.model,
    requestId: v.requestId,
    ...(isNullableString(v.systemFingerprint) ? { systemFingerprint: v.systemFingerprint } : {}),
    ...(typeof v.ttftMs === "number" ? { ttftMs: v.ttftMs } : {}),
    ...(typeof v.outputTokensPerSec === "number" ? { outputTokensPerSec: v.outputTokensPerSec } : {}),
    ...(Array.isArray(v.toolCalls) ? { toolCalls: readToolCalls(v.toolCalls) } : {}),
  };
}

function readToolCalls(list: unknown[]): ToolCall[] {
  return list.filter(isRecord).map((c) => ({ id: text(c.id), name: text(c.name), arguments: text(c.arguments) }));
}

/** A stored field as text: strings as they are, anything else as JSON, absent as "". */
function text(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v);
}

function pickInfo(v: unknown): ModelInfo | undefined {
  if (!isRecord(v) || typeof v.modelName !== "string") return undefined;
  return {
    modelName: v.modelName,
    ...(typeof v.modelType === "string" ? { modelType: v.modelType } : {}),
    ...(typeof v.providerName === "string" ? { providerName: v.providerName } : {}),
  };
}

function isMissing(err: unknown): boolean {
  return isRecord(err) && (err.code === "ENOENT" || err.code === "ENOTDIR");
}

/**
 * Stored responses, one file per entry in a sharded directory (see the module comment). Holds no
 * entries in memory, so it scales to any number of them; safe for any number of parallel calls.
 */
export class ResponseCache {
  private hits = 0;
  private misses = 0;
  private writes = 0;

  private constructor(
    /** The cache directory, as given to {@link ResponseCache.open}. */
    readonly dir: string,
    readonly mode: "readwrite" | "readonly",
  ) {}

  /**
   * Opens the cache in `dir`. `readwrite` creates it; `readonly` (replay) requires it to exist,
   * so a mistyped path fails at once with a clear message instead of as a miss on the first row.
   * @throws UsageError when a readonly cache directory does not exist
   */
  static async open(dir: string, mode: "readwrite" | "readonly"): Promise<ResponseCache> {
    if (mode === "readwrite") {
      await mkdir(join(dir, FORMAT), { recursive: true });
    } else {
      const exists = await stat(dir).then(
        (s) => s.isDirectory(),
        (err: unknown) => (isMissing(err) ? false : Promise.reject(err)),
      );
      if (!exists) {
        throw new UsageError(
          `--replay: there is no response cache at ${dir} (nothing was sent). Record one first with --cache ${dir}.`,
        );
      }
    }
    return new ResponseCache(dir, mode);
  }

  /** The stored result for `key`, or undefined (a miss). Unreadable entries count as misses. */
  async get(key: string): Promise<AttemptResult | undefined> {
    const entry = await this.readEntry(key, "completion");
    const result = pickResult(entry?.result);
    if (result === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // The latency recorded with the answer, so a replayed report shows the model's latency.
    return typeof entry?.latencyMs === "number" ? { ...result, latencyMs: entry.latencyMs } : result;
  }

  /**
   * Stores `value` under `key` (replacing any entry). Only the {@link AttemptResult} fields and
   * `meta` are written.
   * @throws BakeoffError when the cache was opened readonly
   */
  async put(key: string, value: AttemptResult, meta: CacheEntryMeta): Promise<void> {
    const result = pickResult(value);
    if (result === undefined)
      throw new BakeoffError(`response cache: refusing to store a malformed result under ${key}`, {
        exitCode: ExitCode.internal,
      });
    await this.writeEntry(key, { kind: "completion", ...meta, result });
    this.writes++;
  }

  /** The stored `/info` answer for `key` (see {@link infoCacheKey}); not counted in {@link stats}. */
  async getInfo(key: string): Promise<ModelInfo | undefined> {
    return pickInfo((await this.readEntry(key, "info"))?.info);
  }

  /** Stores an endpoint's `/info` answer; not counted in {@link stats}. */
  async putInfo(key: string, info: ModelInfo, meta: CacheEntryMeta): Promise<void> {
    const picked = pickInfo(info);
    if (picked === undefined) return;
    await this.writeEntry(key, { kind: "info", ...meta, info: picked });
  }

  /** Completion lookups and stores since the cache was opened. */
  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, writes: this.writes };
  }

  /** Path of the entry file for `key`. */
  entryPath(key: string): string {
    if (!KEY_PATTERN.test(key)) {
      // Keys name files: anything but a sha256 hex digest could escape the directory.
      throw new BakeoffError(`response cache: invalid key ${JSON.stringify(key)} (expected 64 hex digits)`, {
        exitCode: ExitCode.internal,
      });
    }
    return join(this.dir, FORMAT, key.slice(0, 2), `${key}.json`);
  }

  private async readEntry(key: string, kind: string): Promise<Record<string, unknown> | undefined> {
    let text: string;
    try {
      text = await readFile(this.entryPath(key), "utf8");
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      // Rename makes torn writes impossible; a file that does not parse was edited by hand.
      // Treat it as absent: cache mode re-fetches and overwrites it, replay fails closed.
      return undefined;
    }
    if (!isRecord(entry) || entry.v !== 1 || entry.kind !== kind || entry.key !== key) return undefined;
    return entry;
  }

  private async writeEntry(key: string, body: Record<string, unknown>): Promise<void> {
    if (this.mode === "readonly") {
      throw new BakeoffError(`response cache at ${this.dir} is open readonly (--replay); nothing may be stored`, {
        exitCode: ExitCode.internal,
      });
    }
    const file = this.entryPath(key);
    const shard = join(this.dir, FORMAT, key.slice(0, 2));
    await mkdir(shard, { recursive: true });
    // The temp file sits in the same directory so the rename stays on one filesystem (atomic);
    // the uuid keeps parallel writers of one key from sharing a temp file.
    const temp = join(shard, `.${key}.${process.pid}.${randomUUID()}.tmp`);
    try {
      await writeFile(temp, JSON.stringify({ v: 1, key, ...body }) + "\n", "utf8");
      await rename(temp, file);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * A `--replay` request with no stored response. It is deliberately not a `ModelCallError`: the
 * retry layer rethrows anything else unretried, and the runner treats a thrown call as fatal, so
 * a miss stops the run instead of being recorded as a model error.
 *
 * Exit code 2 (`usage`): nothing was sent to any model, and running the same command again (or
 * resuming, the remedy for exit 3) cannot succeed; the fix is in the inputs: record the
 * responses with `--cache`, or make the config and datasets match the recording.
 */
export class ReplayMissError extends BakeoffError {
  override name = "ReplayMissError";
  /** Configured model name. */
  readonly model: string;
  readonly trial: number;
  /** The cache key that was missing. */
  readonly key: string;
  /** Where the request came from (e.g. `arithmetic/a07`, line 7), when the caller added it. */
  readonly row: string | undefined;
  /** Misses the cache had seen when this was raised (this one included), or a later total. */
  readonly misses: number;

  constructor(details: { model: string; trial: number; key: string; misses: number; row?: string }) {
    const where = details.row === undefined ? "" : ` for ${details.row}`;
    super(
      `--replay: no stored response${where} (model "${details.model}", trial ${details.trial}, cache key ${details.key.slice(0, 12)}…); ` +
        `${details.misses === 1 ? "1 request" : `${details.misses} requests`} missed the cache, and replay never calls a model. ` +
        `Record the responses first with --cache (same config, datasets and params), or drop --replay.`,
      { exitCode: ExitCode.usage },
    );
    this.model = details.model;
    this.trial = details.trial;
    this.key = details.key;
    this.row = details.row;
    this.misses = details.misses;
  }

  /** The same error with the row it belongs to and/or an updated miss count in its message. */
  withContext(context: { row?: string; misses?: number }): ReplayMissError {
    const row = context.row ?? this.row;
    return new ReplayMissError({
      model: this.model,
      trial: this.trial,
      key: this.key,
      misses: context.misses ?? this.misses,
      ...(row === undefined ? {} : { row }),
    });
  }
}

/** `cache`: hit → stored result, miss → call and store. `replay`: hit → stored result, miss → {@link ReplayMissError}. */
export type CacheMode = "cache" | "replay";

/**
 * A provider behind the response cache. The trial each attempt serves comes in its
 * {@link CallContext} (`callWithRetry`'s `trial` option), so one instance serves every trial.
 */
export class CachingProvider implements Provider {
  readonly modelName: string;

  constructor(
    private readonly inner: Provider,
    private readonly cache: ResponseCache,
    private readonly identity: CacheIdentity,
    private readonly mode: CacheMode,
  ) {
    this.modelName = inner.modelName;
  }

  /**
   * Cache mode: the endpoint's answer, stored for later replays. Replay mode: the stored answer,
   * or null; never a network call.
   */
  async info(signal: AbortSignal): Promise<ModelInfo | null> {
    const key = infoCacheKey(this.identity);
    if (this.mode === "replay") return (await this.cache.getInfo(key)) ?? null;
    const info = await this.inner.info(signal);
    if (info !== null)
      await this.cache.putInfo(key, info, { model: this.modelName, createdAt: new Date().toISOString() });
    return info;
  }

  /** An attempt keyed by the request and `context.trial` (trial 0 without a context). */
  async attempt(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<AttemptResult> {
    const trial = context?.trial ?? 0;
    const key = cacheKey({ ...this.identity, body: request, trial });
    const stored = await this.cache.get(key);
    if (stored !== undefined) return { ...stored, cached: true };
    if (this.mode === "replay") {
      throw new ReplayMissError({ model: this.modelName, trial, key, misses: this.cache.stats().misses });
    }
    const started = performance.now();
    // A failed attempt throws straight through: errors are never stored.
    const result = await this.inner.attempt(request, signal, context);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    await this.cache.put(key, result, { model: this.modelName, createdAt: new Date().toISOString(), latencyMs });
    // Report the latency that was stored, so a later replay reproduces this run's report.
    return { ...result, latencyMs };
  }
}

/**
 * Puts `provider` behind `cache`. Wrap outermost (outside rpm/tpm pacing) so hits spend no
 * budget; the retry layer goes outside this, so each stored result is one successful attempt.
 * @param identity the model's endpoint as configured (see {@link CacheIdentity})
 */
export function withCache(
  provider: Provider,
  cache: ResponseCache,
  identity: CacheIdentity,
  mode: CacheMode,
): CachingProvider {
  if (mode === "cache" && cache.mode === "readonly") {
    throw new BakeoffError("--cache needs a writable response cache (open it readwrite)", {
      exitCode: ExitCode.internal,
    });
  }
  return new CachingProvider(provider, cache, identity, mode);
}
