/**
 * `bakeoff run` re-executes itself with glibc's mmap threshold pinned (bin/bakeoff.js says why),
 * observed from outside as a user's tools would see it: the environment of the running process in
 * /proc/<pid>/environ (the same PID that was spawned: the image is replaced, no child is left),
 * what the run's own code sees in process.env (a custom scorer's reason), node flags carried over
 * (a CPU profile written), and the run's result. Linux only (/proc); the re-exec itself needs a
 * Node with process.execve (22.15+); the fallbacks stand in for a Node or a sandbox without it
 * through a preload (`--import`), the only way to have that runtime here.
 */
import { spawn } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PredictionRecord, RunManifest } from "../src/index.js";
import { REEXEC_MIN_BYTES } from "../src/util/malloc-reexec.js";
import { BIN, runCli } from "./helpers/cli.js";
import { runFixture, type RunFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

const THRESHOLD = "MALLOC_MMAP_THRESHOLD_";
interface CpuProfile {
  nodes: { callFrame: { functionName: string } }[];
}
const PINNED = "1048576";

let fx: RunFixture | undefined;
afterEach(async () => {
  await fx?.emulator.close();
  fx = undefined;
});

async function journal(runDir: string): Promise<PredictionRecord[]> {
  try {
    const text = await readFile(join(runDir, "predictions.jsonl"), "utf8");
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as PredictionRecord);
  } catch {
    return [];
  }
}

interface Observed {
  code: number | null;
  runDir: string;
  /** The running process's environment (/proc/<pid>/environ), read once it had recorded a result. */
  environ: Map<string, string>;
  records: PredictionRecord[];
  stdout: string;
  stderr: string;
}

/**
 * Runs `bakeoff run` over a slow emulated model (so the process is still running when it is
 * looked at), reads the environment of the spawned PID after its first result, and waits for it.
 */
async function observeRun(
  options: {
    env?: Record<string, string>;
    nodeArgs?: string[];
    scorerReason?: boolean;
    small?: boolean;
    /** More `bakeoff run` arguments. */
    args?: string[];
    /** Sends SIGINT once the journal has this many results. */
    interruptAt?: number;
  } = {},
): Promise<Observed> {
  const dir = await tempDir();
  const scorers = [{ type: "numeric" }];
  if (options.scorerReason) {
    // Reports what the run's own code sees of the variable (custom scorers run in the process).
    await writeFile(
      join(dir, "env-scorer.js"),
      `export default () => ({ value: 1, reason: String(process.env.${THRESHOLD}) });\n`,
    );
  }
  fx = await runFixture(dir, {
    rows: 12,
    concurrency: 2,
    sims: { slow: { latency: { medianMs: 60, p95Ms: 80 } } },
    extraConfig: options.scorerReason
      ? {
          datasets: [
            {
              path: join(dir, "sums.jsonl"),
              scorers: [...scorers, { type: "custom", name: "env", module: join(dir, "env-scorer.js") }],
            },
          ],
        }
      : {},
  });
  if (!options.small) {
    // The same 12 rows, each carrying an unused column: a dataset file past the size at which a
    // run re-executes, with a dozen calls.
    const pad = "x".repeat(Math.ceil(REEXEC_MIN_BYTES / 12));
    const rows = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + ${i * 3}?`, expected: String(i * 4), pad }),
    );
    await writeFile(join(dir, "sums.jsonl"), rows.join("\n") + "\n");
  }
  const runDir = join(fx.results, "r");
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      BIN,
      "run",
      "--config",
      fx.config,
      "--run-id",
      "r",
      "--no-weave",
      ...(options.args ?? []),
    ],
    { cwd: dir, env: { ...process.env, ...fx.env, CI: "true", NO_COLOR: "1", ...options.env }, stdio: "pipe" },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let environ = new Map<string, string>();
  for (let i = 0; i < 2000 && child.exitCode === null; i++) {
    if ((await journal(runDir)).length > 0) {
      const raw = await readFile(`/proc/${child.pid}/environ`, "latin1").catch(() => "");
      environ = new Map(
        raw
          .split("\0")
          .filter((kv) => kv.includes("="))
          .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (options.interruptAt !== undefined) {
    while (child.exitCode === null && (await journal(runDir)).length < options.interruptAt)
      await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGINT");
  }
  const code = await exited;
  return { code, runDir, environ, records: await journal(runDir), stdout, stderr };
}

const canReexec = process.platform === "linux" && typeof process.execve === "function";

describe.runIf(process.platform === "linux")("bakeoff run: glibc's mmap threshold pinned by re-executing", () => {
  it.runIf(canReexec)("the running process has the threshold; the run's own code does not see it", async () => {
    const r = await observeRun({ scorerReason: true });
    expect(r.code).toBe(0);
    expect(r.environ.get("PATH")).toBe(process.env.PATH); // the environment was read at all
    expect(r.environ.get(THRESHOLD)).toBe(PINNED);
    expect(r.records).toHaveLength(12);
    // Subprocesses and user code get the user's environment, not the launcher's addition.
    for (const rec of r.records) expect(rec.scores.env?.reason).toBe("undefined");
    expect(r.stderr).not.toMatch(/Warning|internal error/);
  });

  it.runIf(canReexec)("a user's own malloc setting is kept as it is, and reaches the run's code", async () => {
    const r = await observeRun({ env: { [THRESHOLD]: "65536" }, scorerReason: true });
    expect(r.code).toBe(0);
    expect(r.environ.get(THRESHOLD)).toBe("65536");
    for (const rec of r.records) expect(rec.scores.env?.reason).toBe("65536");
  });

  it.runIf(canReexec)("another MALLOC_ setting of the user's means malloc is theirs: nothing is added", async () => {
    const r = await observeRun({ env: { MALLOC_ARENA_MAX: "2" } });
    expect(r.code).toBe(0);
    expect(r.environ.get("MALLOC_ARENA_MAX")).toBe("2");
    expect(r.environ.has(THRESHOLD)).toBe(false);
  });

  it.runIf(canReexec)("SIGINT reaches the new image: partial report, exit 3, and the resume ends it", async () => {
    const r = await observeRun({ interruptAt: 3 });
    expect(r.environ.get(THRESHOLD)).toBe(PINNED);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/SIGINT: no new calls; letting calls in flight finish/);
    expect(r.stderr).toMatch(/bakeoff run --resume r/);
    const manifest = JSON.parse(await readFile(join(r.runDir, "run.json"), "utf8")) as RunManifest;
    expect(manifest.status).toBe("interrupted");
    expect(await readFile(join(r.runDir, "report.md"), "utf8")).toMatch(/interrupted/);
    expect(r.records.length).toBeLessThan(12);

    const resumed = await runCli(["run", "--resume", "r", "--out", fx!.results, "--no-weave"], {
      cwd: fx!.dir,
      env: fx!.env,
    });
    expect(resumed.code).toBe(0);
    const keys = (await journal(r.runDir)).map((rec) => rec.key);
    expect(new Set(keys).size).toBe(12);
    expect(keys).toHaveLength(12);
  });

  it.runIf(canReexec)("a small dataset runs in the first process (the extra boot would not pay)", async () => {
    const r = await observeRun({ small: true });
    expect(r.code).toBe(0);
    expect(r.environ.get("PATH")).toBe(process.env.PATH);
    expect(r.environ.has(THRESHOLD)).toBe(false);
    expect(r.records).toHaveLength(12);
  });

  it.runIf(canReexec)("a --limit sample of a large dataset runs in the first process", async () => {
    const r = await observeRun({ args: ["--limit", "10"] });
    expect(r.code).toBe(0);
    expect(r.environ.get("PATH")).toBe(process.env.PATH);
    expect(r.environ.has(THRESHOLD)).toBe(false);
    expect(r.records).toHaveLength(10);
  });

  it("BAKEOFF_NO_REEXEC=1 runs in the first process, with glibc's defaults", async () => {
    const r = await observeRun({ env: { BAKEOFF_NO_REEXEC: "1" } });
    expect(r.code).toBe(0);
    expect(r.environ.get("BAKEOFF_NO_REEXEC")).toBe("1");
    expect(r.environ.has(THRESHOLD)).toBe(false);
    expect(r.records).toHaveLength(12);
  });

  it.runIf(canReexec)("node's own flags carry over to the new image (--cpu-prof profiles the run)", async () => {
    const dir = await tempDir();
    const profile = ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", "run.cpuprofile"];
    const r = await observeRun({ nodeArgs: profile });
    expect(r.code).toBe(0);
    expect(r.environ.get(THRESHOLD)).toBe(PINNED);
    // Node writes the replaced image's profile as it execs (it never reaches the plan); the new
    // image, started with the same flags, writes the run's over it at exit.
    expect(await readdir(dir)).toEqual(["run.cpuprofile"]);
    const nodes = (JSON.parse(await readFile(join(dir, "run.cpuprofile"), "utf8")) as CpuProfile).nodes;
    expect(nodes.some((n) => n.callFrame.functionName === "planRun")).toBe(true);
  });

  it("a Node without process.execve (Node 20) runs in place", async () => {
    const r = await observeRun({ nodeArgs: ["--import", "data:text/javascript,delete process.execve"] });
    expect(r.code).toBe(0);
    expect(r.environ.has(THRESHOLD)).toBe(false);
    expect(r.records).toHaveLength(12);
  });

  it("an execve that fails (e.g. refused by a sandbox) falls back to running in place", async () => {
    const refuse = "data:text/javascript,process.execve=()=>{throw Object.assign(new Error('EPERM'),{code:'EPERM'})}";
    const r = await observeRun({ nodeArgs: ["--import", refuse] });
    expect(r.code).toBe(0);
    expect(r.environ.has(THRESHOLD)).toBe(false);
    expect(r.records).toHaveLength(12);
    expect(r.stderr).not.toMatch(/EPERM|internal error/);
  });
});
