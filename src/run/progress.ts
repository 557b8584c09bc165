/**
 * Progress for humans: a bar on a TTY (done/total, rate, errors, ETA), and plain periodic lines
 * otherwise (CI logs, nightly jobs), so logs stay readable and small. Writes to stderr: stdout
 * is for results.
 */
import type cliProgressModule from "cli-progress";
import { nodeRequire } from "../util/node-http.js";
import { sanitizeTerminalText } from "../util/terminal-text.js";

export interface Progress {
  start(total: number, alreadyDone: number): void;
  tick(failed: boolean): void;
  /** Prints a line without breaking the bar. */
  log(message: string): void;
  stop(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** "auto" picks the bar on a TTY. */
  mode?: "auto" | "bar" | "lines" | "off";
  /** Seconds between plain lines. @default 10 */
  intervalSec?: number;
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? "auto";
  const inner =
    mode === "off"
      ? silentProgress(stream)
      : mode === "bar" || (mode === "auto" && stream.isTTY && !process.env.CI)
        ? barProgress(stream)
        : lineProgress(stream, options.intervalSec ?? 10);
  return onceStopped(inner);
}

/** stop() may be called from several exit paths; only the first one counts. */
function onceStopped(p: Progress): Progress {
  let stopped = false;
  return {
    start: (t, d) => p.start(t, d),
    tick: (f) => p.tick(f),
    log: (m) => p.log(m),
    stop: () => {
      if (stopped) return;
      stopped = true;
      p.stop();
    },
  };
}

function silentProgress(stream: NodeJS.WriteStream): Progress {
  return { start() {}, tick() {}, log: (m) => void stream.write(sanitizeTerminalText(m) + "\n"), stop() {} };
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  // Loaded here, not at the top: only a terminal shows the bar, and CI runs and nightly jobs
  // (plain lines) need not pay for loading it before their first call (~20 ms of CPU).
  const cliProgress = nodeRequire("cli-progress") as typeof cliProgressModule;
  let errors = 0;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "{bar} {value}/{total} | {rate}/s | errors {errors} | eta {eta_formatted}",
      hideCursor: true,
      etaBuffer: 200,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = 0;
  let base = 0;
  return {
    start(total, done) {
      started = performance.now();
      base = done;
      bar.start(total, done, { rate: "0.0", errors: 0 });
    },
    tick(failed) {
      if (failed) errors++;
      const value = bar.getProgress() * bar.getTotal() + 1;
      const secs = (performance.now() - started) / 1000;
      bar.update(value, { rate: secs > 0 ? ((value - base) / secs).toFixed(1) : "0.0", errors });
    },
    log(message) {
      // cli-progress redraws on the next update; clear the line so the message stands alone.
      stream.write("\r\x1b[K" + sanitizeTerminalText(message) + "\n");
    },
    stop() {
      bar.stop();
    },
  };
}

function lineProgress(stream: NodeJS.WriteStream, intervalSec: number): Progress {
  let total = 0;
  let done = 0;
  let base = 0;
  let errors = 0;
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  const line = () => {
    const secs = (performance.now() - started) / 1000;
    const rate = secs > 0 ? (done - base) / secs : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : undefined;
    const pct = total > 0 ? ((100 * done) / total).toFixed(0) : "100";
    stream.write(
      `[bakeoff] ${done}/${total} (${pct}%) ${rate.toFixed(1)}/s errors ${errors}${eta === undefined ? "" : ` eta ${eta}s`}\n`,
    );
  };
  return {
    start(t, d) {
      total = t;
      done = d;
      base = d;
      started = performance.now();
      timer = setInterval(line, intervalSec * 1000);
      timer.unref();
    },
    tick(failed) {
      done++;
      if (failed) errors++;
    },
    log(message) {
      // Messages quote servers and datasets; their escape sequences never reach the terminal.
      stream.write(sanitizeTerminalText(message) + "\n");
    },
    stop() {
      if (timer) clearInterval(timer);
      if (total > 0) line();
    },
  };
}
