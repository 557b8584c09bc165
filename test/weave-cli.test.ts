/**
 * Weave logging through a whole `bakeoff run`, against the fake trace server: a healthy server
 * gets one evaluation per model; a failing one never fails the run (exit 0, every prediction on
 * disk, the report written, one warning), and `weave-sync` uploads the run afterwards.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { BIN, runCli } from "./helpers/cli.js";
import {
  closedPortUrl,
  startFakeTraceServer,
  type FakeMode,
  type FakeTraceServer,
} from "./helpers/fake-trace-server.js";
import { runFixture, type RunFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

const WANDB_KEY = "wandb-dummy-key-0123456789abcdef0123456789abcdef";
let fx: RunFixture | undefined;
let trace: FakeTraceServer | undefined;
afterEach(async () => {
  await fx?.emulator.close();
  await trace?.close();
  fx = trace = undefined;
});

/**
 * The run's bound on waiting for Weave uploads (the config's weave.flushTimeoutSec). Against a
 * failing trace server every run waits all of it, so there it is short: those tests check that
 * the run ends with one warning, not which problem the warning names (weave.test.ts does that).
 * A healthy server finishes well within the generous bound, whatever the machine's load.
 */
const FAILING_FLUSH_SEC = 1;
const HEALTHY_FLUSH_SEC = 60;

async function setup(flushTimeoutSec: number, rows = 6): Promise<RunFixture> {
  const dir = await tempDir();
  fx = await runFixture(dir, { rows, extraConfig: { weave: { project: "acme/bakeoff-test", flushTimeoutSec } } });
  return fx;
}

function weaveEnv(url: string, f: RunFixture): Record<string, string> {
  return { ...f.env, WANDB_API_KEY: WANDB_KEY, WF_TRACE_SERVER_URL: url, HOME: f.dir };
}

async function predictions(f: RunFixture, run: string): Promise<number> {
  return (await readFile(join(f.results, run, "predictions.jsonl"), "utf8")).trim().split("\n").length;
}

describe("bakeoff run with Weave", () => {
  it("logs one evaluation per model with every prediction, and never sends the keys", async () => {
    const f = await setup(HEALTHY_FLUSH_SEC);
    trace = await startFakeTraceServer();
    const res = await runCli(["run", "--config", f.config, "--run-id", "w1"], {
      cwd: f.dir,
      env: weaveEnv(trace.url, f),
    });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/logging to Weave project acme\/bakeoff-test/);
    expect(res.stderr).toMatch(/Weave: uploaded 12 predictions/);
    const evals = trace.callsByOp("Evaluation.evaluate");
    expect(evals).toHaveLength(2);
    expect(trace.callsByOp("Model.predict")).toHaveLength(12);
    for (const r of trace.requests) {
      expect(r.raw).not.toContain(WANDB_KEY);
      for (const k of Object.values(f.env)) expect(r.raw).not.toContain(k);
    }
    const summaries = evals.map((e) => JSON.stringify(e.output ?? e.summary));
    for (const s of summaries) expect(s).toMatch(/finish_reason/);
  });

  it.each<[string, FakeMode | "closed"]>([
    ["answers 500", 500],
    ["answers 401", 401],
    ["hangs", "hang"],
    ["is not listening", "closed"],
  ])(
    "when the trace server %s: exit 0, all predictions on disk, report written, one warning; weave-sync uploads later",
    async (_n, mode) => {
      const f = await setup(FAILING_FLUSH_SEC);
      let url: string;
      if (mode === "closed") url = await closedPortUrl();
      else {
        trace = await startFakeTraceServer({ mode });
        url = trace.url;
      }
      const res = await runCli(["run", "--config", f.config, "--run-id", "w2"], {
        cwd: f.dir,
        env: weaveEnv(url, f),
        timeoutMs: 90_000,
      });
      expect(res.code).toBe(0);
      expect(await predictions(f, "w2")).toBe(12);
      expect(await readFile(join(f.results, "w2", "report.md"), "utf8")).toMatch(/small/);
      const warnings = res.stderr.split("\n").filter((l) => /warning/i.test(l));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/weave-sync/);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace

      await trace?.close();
      trace = await startFakeTraceServer();
      const sync = await runCli(["weave-sync", "w2", "--out", f.results], { cwd: f.dir, env: weaveEnv(trace.url, f) });
      expect(sync.stderr).not.toMatch(/warning/i);
      expect(sync.code).toBe(0);
      expect(sync.stdout).toMatch(/Uploaded 12 predictions/);
      expect(trace.callsByOp("Evaluation.evaluate")).toHaveLength(2);
      expect(trace.callsByOp("Model.predict")).toHaveLength(12);
    },
    120_000,
  );

  it("with no key and no project, the run works and says in one line how to turn Weave on", async () => {
    const dir = await tempDir();
    fx = await runFixture(dir, { rows: 2 });
    const res = await runCli(["run", "--config", fx.config], {
      cwd: dir,
      env: { ...fx.env, WANDB_API_KEY: "", HOME: dir },
    });
    expect(res.code).toBe(0);
    expect(res.stderr.split("\n").filter((l) => /Weave logging is off/.test(l))).toHaveLength(1);
  });

  it("a resumed run's evaluation holds every row, not just the rows of the last session", async () => {
    const dir = await tempDir();
    fx = await runFixture(dir, {
      rows: 16,
      concurrency: 2,
      sims: { slow: { latency: { medianMs: 60, p95Ms: 80 } } },
      extraConfig: { weave: { project: "acme/bakeoff-test", flushTimeoutSec: HEALTHY_FLUSH_SEC } },
    });
    const f = fx;
    const first = await startFakeTraceServer();
    const child = spawn(process.execPath, [BIN, "run", "--config", f.config, "--run-id", "resumed"], {
      cwd: dir,
      env: { ...process.env, ...weaveEnv(first.url, f), CI: "true" },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const journal = join(f.results, "resumed", "predictions.jsonl");
    const lines = async () =>
      (await readFile(journal, "utf8").catch(() => "")).split("\n").filter((l) => l !== "").length;
    while ((await lines()) < 4) await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGINT");
    expect(await exited).toBe(3);
    const before = await lines();
    expect(before).toBeLessThan(16);
    await first.close();

    trace = await startFakeTraceServer();
    const res = await runCli(["run", "--resume", "resumed", "--out", f.results], {
      cwd: dir,
      env: weaveEnv(trace.url, f),
    });
    expect(res.code).toBe(0);
    expect(trace.callsByOp("Evaluation.evaluate")).toHaveLength(1);
    expect(trace.callsByOp("Model.predict")).toHaveLength(16);
    expect(res.stderr).toMatch(/Weave: uploaded 16 predictions/);
  }, 60_000);
});
