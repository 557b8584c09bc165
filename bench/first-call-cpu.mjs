/**
 * Preloaded into a benched `bakeoff run` (`node --import ./bench/first-call-cpu.mjs ...`): the
 * process's CPU time (user + system, every thread) when its first model call starts, i.e. the
 * start-up's CPU, written to $BENCH_FIRST_CALL_FILE at exit (ms; -1 when no call was made). The
 * first call is the first node:http request to a chat or responses route, seen through Node's
 * `http.client.request.start` diagnostics channel (both providers send over node:http), so the
 * `/info` requests before it do not count. Plain JS: it adds no loader to what it measures.
 */
import dc from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";

const out = process.env.BENCH_FIRST_CALL_FILE;
if (out) {
  /** @type {number | undefined} */
  let first;
  dc.subscribe("http.client.request.start", (message) => {
    const { request } = /** @type {{ request: { path: string } }} */ (message);
    if (first === undefined && /\/(chat\/completions|responses)\b/.test(request.path)) {
      const u = process.cpuUsage();
      first = (u.user + u.system) / 1000;
    }
  });
  process.on("exit", () => writeFileSync(out, String(first ?? -1)));
}
