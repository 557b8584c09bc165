/**
 * Preloaded into a benched `bakeoff run` (`node --import ./bench/tail-cpu.mjs ...`): the CPU time
 * (user + system, every thread) the process spends after its last model answer arrives, i.e. the
 * report tail's CPU, written to $BENCH_TAIL_CPU_FILE at exit (ms; -1 when no answer came). Each
 * answer is a node:http response to a chat or responses route, seen through Node's
 * `http.client.response.finish` diagnostics channel (both providers receive over node:http); the
 * CPU is read at each one, so at exit the last reading is the last answer's. A steadier figure
 * than the tail's wall time when other work loads the machine. Plain JS: no loader added.
 */
import dc from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";

const out = process.env.BENCH_TAIL_CPU_FILE;
if (out) {
  /** @type {number | undefined} */
  let last;
  dc.subscribe("http.client.response.finish", (message) => {
    const { request } = /** @type {{ request: { path: string } }} */ (message);
    if (/\/(chat\/completions|responses)\b/.test(request.path)) {
      const u = process.cpuUsage();
      last = u.user + u.system;
    }
  });
  process.on("exit", () => {
    const u = process.cpuUsage();
    writeFileSync(out, String(last === undefined ? -1 : (u.user + u.system - last) / 1000));
  });
}
