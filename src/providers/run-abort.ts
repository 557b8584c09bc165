/**
 * The fan-out of a signal many calls share: the run signal (the retry layer's backoff sleeps,
 * the attempts' deadlines in attempt-deadline.ts) and a deadline group's signal (json-post.ts's
 * per-request abort hook); and the longest delay a Node timer takes.
 */

/** Node fires a timer after 1 ms when asked for more than this (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * One `abort` listener per shared signal, fanned out to every call in flight. With hundreds of
 * concurrent calls, a listener each would trip Node's MaxListenersExceededWarning on the
 * caller's signal; this keeps its listener count at one without changing its limits. A
 * subscription is a Set add and delete, far cheaper than an EventTarget listener's add and
 * remove, which matters for hooks taken once per request.
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
