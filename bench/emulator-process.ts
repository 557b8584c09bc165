/**
 * The emulator in a child process, so a bench measures the runner's CPU and memory alone.
 *
 * As a child (forked with an IPC channel by {@link spawnEmulator}): reads the simulated models
 * as JSON from argv[2], starts the emulator quietly on a free loopback port, sends
 * `{ type: "ready", url }`, answers `{ type: "cpu" }` with its own process.cpuUsage() and
 * `{ type: "stats" }` with its counters (then zeroes them: each measured process gets its own
 * service time), and exits when the parent disconnects or sends `{ type: "stop" }`.
 *
 * Standalone (for poking at it by hand): `npx tsx bench/emulator-process.ts '{"m0":{...}}'`
 * prints the URL and runs until Ctrl-C.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startEmulator, type EmulatorStats, type SimModelSpecInput } from "../src/emulator/index.js";

export interface EmulatorChild {
  url: string;
  child: ChildProcess;
  /** CPU the emulator process has used so far, µs. */
  cpu(): Promise<NodeJS.CpuUsage>;
  /** The emulator's counters since the last call (service time included), then zeroed. */
  takeStats(): Promise<EmulatorStats>;
  stop(): Promise<void>;
}

/** A simulated model with a fixed latency (median = p95, no per-token time). */
export function fixedLatencyModel(ms: number): SimModelSpecInput {
  return { accuracy: 0.9, style: "terse", latency: { medianMs: ms, p95Ms: ms, perTokenMs: 0 } };
}

/** Forks this file as the emulator and resolves once it listens. */
export async function spawnEmulator(models: Record<string, SimModelSpecInput>): Promise<EmulatorChild> {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(models)], {
    // Under `npx tsx` process.execArgv carries the tsx loader; the child needs it too.
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`emulator child exited early (code ${code})`)));
    child.once("message", (m: { type: string; url: string }) => resolve(m.url));
  });
  child.removeAllListeners("exit");
  child.removeAllListeners("error");
  let waiter: ((u: NodeJS.CpuUsage) => void) | undefined;
  let statsWaiter: ((s: EmulatorStats) => void) | undefined;
  child.on("message", (m: { type: string; cpu?: NodeJS.CpuUsage; stats?: EmulatorStats }) => {
    if (m.type === "cpu" && m.cpu) waiter?.(m.cpu);
    if (m.type === "stats" && m.stats) statsWaiter?.(m.stats);
  });
  return {
    url,
    child,
    cpu: () =>
      new Promise<NodeJS.CpuUsage>((resolve) => {
        waiter = resolve;
        child.send({ type: "cpu" });
      }),
    takeStats: () =>
      new Promise<EmulatorStats>((resolve) => {
        statsWaiter = resolve;
        child.send({ type: "stats" });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send({ type: "stop" });
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

async function childMain(): Promise<void> {
  const models = JSON.parse(process.argv[2] ?? "{}") as Record<string, SimModelSpecInput>;
  const emulator = await startEmulator({ models, quiet: true, host: "127.0.0.1", port: 0 });
  const shutdown = async () => {
    await emulator.close();
    process.exit(0);
  };
  if (process.send) {
    process.on("message", (m: { type: string }) => {
      if (m.type === "cpu") process.send!({ type: "cpu", cpu: process.cpuUsage() });
      else if (m.type === "stats") {
        process.send!({ type: "stats", stats: emulator.stats() });
        emulator.resetStats();
      } else if (m.type === "stop") void shutdown();
    });
    process.on("disconnect", () => void shutdown());
    process.send({ type: "ready", url: emulator.url });
  } else {
    console.log(`emulator listening at ${emulator.url} (models: ${Object.keys(models).join(", ")})`);
    process.on("SIGINT", () => void shutdown());
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await childMain();
