/**
 * Per-attempt deadlines whose AbortSignal is shared by the attempts that start close together.
 *
 * Why not one AbortController per attempt: on Node 20 a fresh AbortSignal (an EventTarget with
 * its own listener maps) and the first `abort` listener added to it cost ~10 µs of CPU, plus
 * their garbage, where an added listener on an existing signal costs ~1 µs. With the retry
 * layer, node:http and the SDKs each listening, that was the largest part of what bakeoff's
 * openai provider spent per call above a bare node:http loop (bench/openai-transport.ts:
 * `retry` vs `http`; BENCHMARKS.md).
 *
 * Attempts that start within one window of each other, with the same timeout and run signal,
 * join one group: one controller, one timer, one subscription to the run signal. The group's
 * timer fires `timeoutMs + window` after it opened, so every attempt gets at least its
 * `timeoutMs` and at most one window more (the window is ≤ 5% of the timeout and ≤ 100 ms).
 * Aborting a group only ever aborts attempts that are past their deadline (or, on a run abort,
 * every attempt, as before). A group takes at most {@link MAX_SHARED} attempts (EventTarget
 * listener lists are scanned linearly on add and remove), and its timer is cleared once its last
 * attempt settled, so an idle run leaves no timer behind.
 */
import { setMaxListeners } from "node:events";
import { abortedAttemptError, deadlineReason, runAbortReason } from "./errors.js";
import { MAX_TIMER_MS, onRunAbort } from "./run-abort.js";

/** Most attempts one signal serves: bounds the listener list each add/remove scans. */
const MAX_SHARED = 32;

/** Longest extension of a deadline: the window in which attempts join the same group, ms. */
const MAX_WINDOW_MS = 100;

/** What one attempt holds while it runs. */
export interface AttemptDeadline {
  /** Aborts at the deadline (reason: `deadlineReason`) or when the run stops (`runAbortReason`). */
  signal: AbortSignal;
  /**
   * Rejects with the attempt's timeout/abort error as soon as the signal aborts, so a race with
   * it holds the deadline even for a provider that ignores its signal. Never resolves.
   */
  aborted: Promise<never>;
  /** The attempt settled: stop counting it (the last one out clears the group's timer). */
  release(): void;
}

class DeadlineGroup {
  readonly controller = new AbortController();
  readonly openedAt = performance.now();
  joined = 0;
  private inFlight = 0;
  private closed = false;
  private readonly losers = new Set<(err: unknown) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    timeoutMs: number,
    windowMs: number,
    runSignal: AbortSignal | undefined,
    private readonly onClose: (group: DeadlineGroup) => void,
  ) {
    // Up to MAX_SHARED attempts, each with a listener or two (ours, node:http's, the SDK's).
    setMaxListeners(0, this.controller.signal);
    this.timer = setTimeout(() => this.abort(deadlineReason(timeoutMs)), Math.min(timeoutMs + windowMs, MAX_TIMER_MS));
    this.unsubscribe = onRunAbort(runSignal, () => this.abort(runAbortReason()));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether another attempt starting `now` may join. */
  accepts(now: number, windowMs: number): boolean {
    return !this.closed && this.joined < MAX_SHARED && now - this.openedAt < windowMs;
  }

  join(): AttemptDeadline {
    this.joined++;
    this.inFlight++;
    let lose!: (err: unknown) => void;
    const aborted = new Promise<never>((_, reject) => (lose = reject));
    aborted.catch(() => undefined); // the race may already be settled when the signal fires
    const signal = this.controller.signal;
    if (signal.aborted) lose(abortedAttemptError(signal));
    else this.losers.add(lose);
    let released = false;
    return {
      signal,
      aborted,
      release: () => {
        if (released) return;
        released = true;
        this.losers.delete(lose);
        if (--this.inFlight === 0) this.close();
      },
    };
  }

  private abort(reason: unknown): void {
    this.close();
    this.controller.abort(reason);
    const signal = this.controller.signal;
    for (const lose of this.losers) lose(abortedAttemptError(signal));
    this.losers.clear();
  }

  /** No attempt joins any more; the timer and the run subscription go. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    this.onClose(this);
  }
}

/** Groups open for joining, by run signal (a placeholder key for none) and timeout. */
const openGroups = new WeakMap<object, Map<number, DeadlineGroup>>();
const NO_RUN_SIGNAL = {};

/**
 * The deadline of one attempt: `timeoutMs` (plus at most a few % when it shares its signal; see
 * the module comment), cut short when `runSignal` aborts. Call `release()` once the attempt
 * settled, whatever its outcome.
 */
export function attemptDeadline(timeoutMs: number, runSignal: AbortSignal | undefined): AttemptDeadline {
  const key: object = runSignal ?? NO_RUN_SIGNAL;
  let byTimeout = openGroups.get(key);
  if (byTimeout === undefined) openGroups.set(key, (byTimeout = new Map<number, DeadlineGroup>()));
  const windowMs = Math.min(MAX_WINDOW_MS, timeoutMs / 20);
  let group = byTimeout.get(timeoutMs);
  if (group === undefined || !group.accepts(performance.now(), windowMs)) {
    const groups = byTimeout;
    group = new DeadlineGroup(timeoutMs, windowMs, runSignal, (g) => {
      if (groups.get(timeoutMs) === g) groups.delete(timeoutMs);
    });
    // An already-aborted run signal closed it at once; it still serves this one attempt.
    if (group.accepts(group.openedAt, windowMs)) byTimeout.set(timeoutMs, group);
  }
  return group.join();
}
