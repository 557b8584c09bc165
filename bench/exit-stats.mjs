/**
 * Preloaded into a benched child (`node --import ./bench/exit-stats.mjs ...`): at exit it writes
 * the process's own CPU time and peak RSS to $BENCH_STATS_FILE, the way /usr/bin/time would, so
 * bench/run.ts can compare whole processes (start-up and shutdown included). Plain JS, so it
 * adds no loader to the process it measures.
 *
 * With $BENCH_RSS_SAMPLE_MS set, it also samples the RSS every that many ms (an unref'd timer and
 * `process.memoryUsage.rss()`, which reads one number from the OS: no heap walk) and writes the
 * samples as `rss: [[epochMs, bytes], ...]`, so the bench can split the peak by phase (run loop
 * vs report tail). A timer only fires when the event loop is free, so a long synchronous stretch
 * is seen at its edges only; maxRssKb stays the kernel's exact high-water mark.
 */
import { writeFileSync } from "node:fs";
import { setInterval } from "node:timers";

const out = process.env.BENCH_STATS_FILE;
const every = Number(process.env.BENCH_RSS_SAMPLE_MS ?? 0);
if (out) {
  /** @type {number[]} epoch ms and RSS bytes, interleaved */
  const samples = [];
  if (every > 0) {
    const sample = () => samples.push(Date.now(), process.memoryUsage.rss());
    sample();
    setInterval(sample, every).unref();
  }
  process.on("exit", () => {
    const r = process.resourceUsage();
    if (every > 0) samples.push(Date.now(), process.memoryUsage.rss());
    const stats = { userUs: r.userCPUTime, systemUs: r.systemCPUTime, maxRssKb: r.maxRSS };
    if (every > 0) stats.rss = samples;
    try {
      writeFileSync(out, JSON.stringify(stats));
    } catch {
      // The parent reports a missing file; a bench aid must never change the child's exit.
    }
  });
}
