/**
 * A ceiling on V8's young generation (the new space), set from inside a running process.
 *
 * Why: V8 doubles the new space whenever enough objects survive scavenges, up to 2 × 16 MB on
 * 64-bit Node 22, and never gives it back while allocation stays busy. A long `bakeoff run` (a
 * million rows at 0 ms latency) reaches that maximum; a short one does not, so the process's peak
 * RSS grew with the row count for nothing it keeps (BENCHMARKS.md, memory). The usual limit,
 * `--max-semi-space-size`, only works on the `node` command line: V8 sizes the heap when the
 * isolate is created, so `v8.setFlagsFromString` is too late for it. `--semi-space-growth-factor`,
 * however, is read each time the new space grows. This module leaves V8's own growth alone below
 * the ceiling, and sets the factor to 1 once the new space has reached it, so it grows no
 * further; should V8 shrink the space later (it does when allocation goes quiet), growth is
 * allowed again, up to the ceiling.
 *
 * Checked after every collection (a PerformanceObserver on `gc` entries, delivered once the
 * event loop turns), so it needs an asynchronous program, as every bakeoff command is. A
 * synchronous loop that allocates without yielding is not checked until it yields.
 */
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";

/** V8's default `--semi-space-growth-factor` (each growth doubles the new space). */
const DEFAULT_GROWTH = 2;

/** The new space's current size in bytes (both semi-spaces, as V8 reports `new_space`). */
export function newSpaceBytes(): number {
  for (const space of v8.getHeapSpaceStatistics()) if (space.space_name === "new_space") return space.space_size;
  // A V8 without a semi-space new space (none of Node 22/24's defaults): nothing to cap.
  return 0;
}

/** A running ceiling; see {@link capYoungGeneration}. */
export interface YoungGenerationCap {
  /** The ceiling, bytes of `new_space` as {@link newSpaceBytes} reports it. */
  readonly maxBytes: number;
  /** Re-reads the new space's size and sets the growth factor for it (also run after each GC). */
  check(): void;
  /** Stops watching and restores V8's default growth (tests; a process just exits). */
  stop(): void;
}

let active: YoungGenerationCap | undefined;

/**
 * Keeps the new space at or under `maxBytes` for the rest of the process (one ceiling per
 * process: a second call stops the first). The new space grows by doubling from its initial size
 * (2 MB on Node 22), so a power of two is reached exactly; any other ceiling stops at the last
 * doubling under it. A ceiling below the current size does not shrink the space: it stops growth.
 * @param maxBytes the largest `new_space` size to grow to, in bytes (e.g. 16 MiB = 8 MiB semi-spaces)
 */
export function capYoungGeneration(maxBytes: number): YoungGenerationCap {
  if (!(maxBytes > 0)) throw new RangeError(`young generation ceiling must be positive, got ${maxBytes}`);
  active?.stop();
  let factor = DEFAULT_GROWTH;
  const setFactor = (next: number): void => {
    if (next === factor) return;
    v8.setFlagsFromString(`--semi-space-growth-factor=${next}`);
    factor = next;
  };
  // Growth multiplies the size by the factor: double while that stays under the ceiling (V8's own
  // pace), otherwise stay put.
  const check = (): void => setFactor(newSpaceBytes() * DEFAULT_GROWTH <= maxBytes ? DEFAULT_GROWTH : 1);
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ["gc"] });
  const cap: YoungGenerationCap = {
    maxBytes,
    check,
    stop() {
      observer.disconnect();
      setFactor(DEFAULT_GROWTH);
      if (active === cap) active = undefined;
    },
  };
  active = cap;
  check();
  return cap;
}
