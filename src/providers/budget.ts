/**
 * Request and token budgets per model (a deployment's quota: requests and tokens per minute).
 * bakeoff paces attempts to stay under them instead of sending until the service answers 429:
 * a 429 costs a round trip and a backoff, and a quota shared with production traffic should not
 * be hammered to find its edge.
 *
 * Pacing is a token bucket per budget. Each attempt reserves its cost in every bucket and waits
 * until all of them have it, FIFO; tokens are charged with an estimate up front and corrected
 * with the usage the service reports, so a long run tracks the tokens it really used.
 */
import { ModelCallError } from "../errors.js";
import { messageText, type CompletionRequest } from "../types.js";
import { abortedAttemptError } from "./errors.js";
import { abortableSleep, type Sleep } from "./retry.js";
import type { AttemptResult, CallContext, Provider } from "./types.js";

/** A deployment's quota. Either or both may be set. */
export interface RateBudget {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens (prompt + completion) per minute. */
  tpm?: number;
}

/** Options for {@link BudgetPacer} and {@link withBudget}; the clock and sleep are for tests. */
export interface BudgetOptions {
  /** Clock in ms. @default performance.now */
  now?: () => number;
  /** Abortable wait. @default the retry layer's abortable setTimeout */
  sleep?: Sleep;
  /**
   * Burst size, as seconds of budget: how much may go out at once at the start or after an
   * idle spell. Azure enforces per-minute quotas over 1–10 s intervals (600 rpm means about 10
   * requests in any second), so a bucket holding a whole minute would earn 429s at the start of
   * every run; one second's worth starts promptly and stays inside those intervals. @default 1
   */
  burstSeconds?: number;
}

/** Completion tokens assumed when a request sets no `max_tokens`; usage corrects it later. */
export const DEFAULT_COMPLETION_ESTIMATE = 256;

/**
 * Tokens a request is expected to use: prompt characters / 4 (the usual rule of thumb for
 * English with BPE tokenizers) plus `max_tokens`, or {@link DEFAULT_COMPLETION_ESTIMATE}.
 * Azure's own rate limiter also counts `max_tokens` up front.
 */
export function estimateRequestTokens(
  request: CompletionRequest,
  defaultCompletion = DEFAULT_COMPLETION_ESTIMATE,
): number {
  let chars = 0;
  for (const m of request.messages) chars += messageText(m).length;
  return Math.ceil(chars / 4) + (request.params.max_tokens ?? defaultCompletion);
}

/** One attempt's claim on the budgets, returned by {@link BudgetPacer.reserve}. */
export interface Reservation {
  /** How long to wait before sending, ms from the reservation. */
  readonly waitMs: number;
  /** Tokens charged (the estimate), 0 without a tpm budget. */
  readonly tokens: number;
}

interface Bucket {
  /** Refill per ms. */
  readonly rate: number;
  readonly capacity: number;
  /** May go negative: an attempt that used more than its estimate owes the difference. */
  level: number;
}

function bucket(perMinute: number, burstSeconds: number): Bucket {
  const rate = perMinute / 60_000;
  // At least one unit, so a budget under one request per burst still lets requests through.
  const capacity = Math.max(1, rate * burstSeconds * 1000);
  return { rate, capacity, level: capacity };
}

function refill(b: Bucket, ms: number): void {
  b.level = Math.min(b.capacity, b.level + ms * b.rate);
}

/**
 * The pacing arithmetic, without timers: decides when each attempt may go. Attempts are served
 * in the order they reserve, and every bucket is charged at the attempt's send time, so in any
 * interval of length T at most `capacity + rate·T` goes out, for requests and tokens alike.
 * O(1) time and memory per attempt.
 */
export class BudgetPacer {
  private readonly requests: Bucket | undefined;
  private readonly tokenBucket: Bucket | undefined;
  private readonly now: () => number;
  /** The time the bucket levels refer to: the last reserved send time, possibly in the future. */
  private at: number;

  constructor(budget: RateBudget, options: Pick<BudgetOptions, "now" | "burstSeconds"> = {}) {
    const burst = options.burstSeconds ?? 1;
    this.requests = budget.rpm === undefined ? undefined : bucket(budget.rpm, burst);
    this.tokenBucket = budget.tpm === undefined ? undefined : bucket(budget.tpm, burst);
    this.now = options.now ?? (() => performance.now());
    this.at = this.now();
  }

  /** Whether a tpm budget is set (so callers can skip estimating tokens when it is not). */
  get tracksTokens(): boolean {
    return this.tokenBucket !== undefined;
  }

  /** Claims one request of about `tokens` tokens; the caller waits `waitMs` and then sends. */
  reserve(tokens: number): Reservation {
    const now = this.now();
    const from = Math.max(now, this.at);
    const charged = this.tokenBucket === undefined ? 0 : Math.max(0, tokens);
    const costs: [Bucket | undefined, number][] = [
      [this.requests, 1],
      [this.tokenBucket, charged],
    ];
    let wait = 0;
    for (const [b, cost] of costs) {
      if (b === undefined) continue;
      refill(b, from - this.at);
      // A cost above the capacity waits for a full bucket and leaves it in debt, which later
      // attempts pay off: large requests are slowed, never refused or stuck.
      wait = Math.max(wait, (Math.min(cost, b.capacity) - b.level) / b.rate);
    }
    const sendAt = from + wait;
    for (const [b, cost] of costs) {
      if (b === undefined) continue;
      refill(b, wait);
      b.level -= cost;
    }
    this.at = sendAt;
    return { waitMs: sendAt - now, tokens: charged };
  }

  /** Gives back a reservation that was never sent (its attempt was aborted while waiting). */
  cancel(reservation: Reservation): void {
    if (this.requests) this.requests.level = Math.min(this.requests.capacity, this.requests.level + 1);
    this.refundTokens(reservation);
  }

  /** Gives back a sent attempt's token charge (the service refused it before doing the work). */
  refundTokens(reservation: Reservation): void {
    this.settle(reservation, 0);
  }

  /** Replaces a sent attempt's estimated tokens with what the service reported it used. */
  settle(reservation: Reservation, actualTokens: number): void {
    const b = this.tokenBucket;
    if (b === undefined) return;
    b.level = Math.min(b.capacity, b.level + reservation.tokens - actualTokens);
  }
}

/**
 * Wraps `provider` so every attempt (retries included) first waits for the model's budgets.
 * The wait honours the attempt's signal: a deadline or run shutdown ends it, its reservation is
 * returned, and the attempt fails as the retry layer expects (`timeout` or `aborted`). The
 * attempt's deadline covers the wait, so keep `timeoutMs` above `concurrency / rate`.
 *
 * Token accounting: the estimate is charged before sending; a success is corrected to its
 * reported `usage.totalTokens`; a 429 refunds it (a refused request used no tokens); other
 * failures keep it, as the service may have done the work.
 *
 * @param estimateTokens tokens to charge up front, e.g. {@link estimateRequestTokens}
 */
export function withBudget(
  provider: Provider,
  budget: RateBudget,
  estimateTokens: (request: CompletionRequest) => number,
  options: BudgetOptions = {},
): Provider {
  const pacer = new BudgetPacer(budget, options);
  const sleep = options.sleep ?? abortableSleep;
  return {
    modelName: provider.modelName,
    info: (signal) => provider.info(signal),
    async attempt(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<AttemptResult> {
      const reservation = pacer.reserve(pacer.tracksTokens ? estimateTokens(request) : 0);
      if (reservation.waitMs > 0 || signal.aborted) {
        try {
          if (signal.aborted) throw signal.reason;
          await sleep(reservation.waitMs, signal);
        } catch {
          pacer.cancel(reservation);
          throw abortedAttemptError(signal);
        }
      }
      try {
        const result = await provider.attempt(request, signal, context);
        if (result.usage !== null) pacer.settle(reservation, result.usage.totalTokens);
        return result;
      } catch (err) {
        if (err instanceof ModelCallError && err.kind === "rate_limit") pacer.refundTokens(reservation);
        throw err;
      }
    },
  };
}
