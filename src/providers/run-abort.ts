/**
 * The run signal's fan-out, shared by the retry layer's backoff sleeps and the attempts'
 * deadlines (attempt-deadline.ts), and the longest delay a Node timer takes.
 */

/** Node fires a timer after 1 ms when asked for more than this (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * One `abort` listener per run signal, fanned out to every call in flight. With hundreds of
 * concurrent calls, a listener each would trip Node's MaxListenersExceededWarning on the
 * caller's signal; this keeps its listener count at one without changing its limits.
 */
const runAbortSubscribers = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` when `signal` aborts (at once if it already has); returns the unsubscriber. */
export function onRunAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return () => undefined;
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  let subscribers = runAbortSubscribers.get(signal);
  if (subscribers === undefined) {
    const set = new Set<() => void>();
    runAbortSubscribers.set(signal, set);
    signal.addEventListener("abort", () => [...set].forEach((f) => f()), { once: true });
    subscribers = set;
  }
  const own = subscribers;
  own.add(onAbort);
  return () => own.delete(onAbort);
}
