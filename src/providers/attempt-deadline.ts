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
   * Settles as `attempt` does, or rejects with the attempt's timeout/abort error as soon as the
   * signal aborts (whichever comes first), so the deadline holds even for a provider that ignores
   * its signal; the deadline is released then. One promise per attempt: this replaces a
   * `Promise.race` with a never-resolving "aborted" promise, which cost two more promises, an
   * array and their reactions on every call.
   */
  settle<T>(attempt: Promise<T>): Promise<T>;
  /** The attempt never started (its provider threw synchronously): stop counting it. */
  release(): void;
}

/** One attempt of a group: settled once, by its provider or by the group's abort. */
class GroupAttempt implements AttemptDeadline {
  private done = false;
  private rejectOuter: ((err: unknown) => void) | undefined;

  constructor(private readonly group: DeadlineGroup) {}

  get signal(): AbortSignal {
    return this.group.signal;
  }

  settle<T>(attempt: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.rejectOuter = reject;
      attempt.then(
        (value) => {
          if (this.finish()) resolve(value);
        },
        (err: unknown) => {
          if (this.finish()) reject(err);
        },
      );
      const signal = this.group.signal;
      // Already aborted: lose after the attempt's own outcome if that is already known (as the
      // race did, its reaction is queued first), else at once.
      if (signal.aborted) queueMicrotask(() => this.lose(abortedAttemptError(signal)));
      else this.group.losers.add(this);
    });
  }

  /** The group aborted: reject now, whatever the provider does later. */
  lose(err: unknown): void {
    if (this.finish()) this.rejectOuter?.(err);
  }

  release(): void {
    this.finish();
  }

  /** Marks the attempt settled (false if it already was) and releases it from its group. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.group.settled(this);
    return true;
  }
}

class DeadlineGroup {
  readonly controller = new AbortController();
  readonly openedAt = performance.now();
  joined = 0;
  private inFlight = 0;
  private closed = false;
  /** Attempts still running, rejected when the group aborts. */
  readonly losers = new Set<GroupAttempt>();
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
    return new GroupAttempt(this);
  }

  /** `attempt` settled: stop counting it (the last one out clears the group's timer). */
  settled(attempt: GroupAttempt): void {
    this.losers.delete(attempt);
    if (--this.inFlight === 0) this.close();
  }

  private abort(reason: unknown): void {
    this.close();
    this.controller.abort(reason);
    const signal = this.controller.signal;
    // Each lose() deletes its attempt from the set: iterate over a copy.
    for (const attempt of [...this.losers]) attempt.lose(abortedAttemptError(signal));
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
 * the module comment), cut short when `runSignal` aborts. Hand the attempt's promise to
 * `settle()` (which releases the deadline once either settles), or call `release()` if the
 * attempt never started.
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
