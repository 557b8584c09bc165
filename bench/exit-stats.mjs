/**
 * Preloaded into a benched child (`node --import ./bench/exit-stats.mjs ...`): at exit it writes
 * the process's own CPU time and peak RSS to $BENCH_STATS_FILE, the way /usr/bin/time would, so
 * bench/run.ts can compare whole processes (start-up and shutdown included). Plain JS, so it
 * adds no loader to the process it measures.
 */
import { writeFileSync } from "node:fs";

const out = process.env.BENCH_STATS_FILE;
if (out) {
  process.on("exit", () => {
    const r = process.resourceUsage();
    const stats = { userUs: r.userCPUTime, systemUs: r.systemCPUTime, maxRssKb: r.maxRSS };
    try {
      writeFileSync(out, JSON.stringify(stats));
    } catch {
      // The parent reports a missing file; a bench aid must never change the child's exit.
    }
  });
}
