/**
 * Preloaded into a profiled child (`node --import ./bench/thread-cpu.mjs ...`): at exit it writes
 * the main thread's own CPU time and the time it spent runnable but waiting for a core to
 * $BENCH_THREAD_STATS_FILE, from Linux's /proc/self/task/<tid>/schedstat (ns on CPU, ns waiting
 * on a run queue). bench/profile.ts needs both: a V8 CPU profile's samples last from one tick to
 * the next in wall time, so on a busy machine a "busy" sample also holds the time the thread
 * waited for a core; the thread's real CPU lets the bench scale the samples back to CPU. Plain JS,
 * so it adds no loader; elsewhere than Linux it writes nothing (the bench then leaves the samples
 * unscaled).
 */
import { readFileSync, writeFileSync } from "node:fs";

const out = process.env.BENCH_THREAD_STATS_FILE;
if (out) {
  process.on("exit", () => {
    try {
      // The main thread's task id is the process id.
      const [cpuNs, waitNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8")
        .trim()
        .split(/\s+/)
        .map(Number);
      if (Number.isFinite(cpuNs) && Number.isFinite(waitNs))
        writeFileSync(out, JSON.stringify({ cpuUs: cpuNs / 1000, waitUs: waitNs / 1000 }));
    } catch {
      // No schedstat here: the bench reports unscaled samples; a bench aid never changes the exit.
    }
  });
}
