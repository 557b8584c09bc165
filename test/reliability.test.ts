/**
 * Issue 10: nothing lost, nothing counted twice, nothing hangs a nightly job. Each block is one
 * numbered item of the issue, driven through the CLI against the emulator or a small loopback
 * server (a real HTTP server on 127.0.0.1 speaking just enough of the API).
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCli } from "./helpers/cli.js";
import { runFixture, type RunFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

let fx: RunFixture | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await fx?.emulator.close();
  fx = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function setup(
  rows: number,
  extraConfig: Record<string, unknown> = {},
  sims?: Parameters<typeof runFixture>[1]["sims"],
): Promise<RunFixture> {
  const dir = await tempDir();
  fx = await runFixture(dir, { rows, extraConfig, ...(sims ? { sims } : {}) });
  return fx;
}

const fast = { latency: { medianMs: 1, p95Ms: 2 } };

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, "utf8")).split("\n").filter((l) => l.trim() !== "");
}

async function manifest(
  f: RunFixture,
  id: string,
): Promise<{ status: string; config: { models: { endpoint: string }[] }; weave?: { project: string } }> {
  return JSON.parse(await readFile(join(f.results, id, "run.json"), "utf8"));
}

/** A loopback server answering every chat completion with `respond`. */
async function loopback(
  respond: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void,
): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => respond(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function writeConfig(
  dir: string,
  models: { name: string; endpoint: string }[],
  extra: Record<string, unknown> = {},
  rows = 3,
): Promise<string> {
  const dataset = join(dir, "qa.jsonl");
  await writeFile(
    dataset,
    Array.from({ length: rows }, (_, i) =>
      JSON.stringify({ id: `r${i}`, prompt: `What is ${i} + 1?`, expected: String(i + 1) }),
    ).join("\n") + "\n",
  );
  const config = join(dir, "eval.config.json");
  await writeFile(
    config,
    JSON.stringify({
      outputDir: join(dir, "results"),
      datasets: [{ path: dataset, scorers: [{ type: "numeric" }] }],
      models: models.map((m) => ({ ...m, apiKeyEnv: "LOOPBACK_KEY", apiVersion: "" })),
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 50 },
      ...extra,
    }),
  );
  return config;
}

// eslint-disable-next-line no-control-regex -- the bytes a hostile server sends
const ESCAPES = /[\u001b\u0007\u009b\u009d\u202e]/;

describe("1. one writer per run (run.lock)", () => {
  it("refuses a second run into an existing run id, and a resume while a live process holds the lock; takes over a dead one's lock", async () => {
    const f = await setup(10, {}, { small: fast, large: fast });
    const first = await runCli(["run", "--config", f.config, "--no-weave", "--run-id", "dup", "--progress", "off"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(first.code).toBe(0);
    const again = await runCli(["run", "--config", f.config, "--no-weave", "--run-id", "dup", "--progress", "off"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toMatch(/^bakeoff: run "dup" already exists in .*; continue it with --resume dup/);
    expect(await lines(join(f.results, "dup", "predictions.jsonl"))).toHaveLength(20);

    // A live holder (another process on this host) keeps the run: the resume is refused, naming it.
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const lockPath = join(f.results, "dup", "run.lock");
      const m = JSON.parse(await readFile(join(f.results, "dup", "run.json"), "utf8"));
      m.status = "interrupted";
      await writeFile(join(f.results, "dup", "run.json"), JSON.stringify(m));
      await writeFile(
        lockPath,
        JSON.stringify({ pid: holder.pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", command: "resume" }),
      );
      const busy = await runCli(["run", "--resume", "dup", "--out", f.results, "--no-weave", "--progress", "off"], {
        cwd: f.dir,
        env: f.env,
      });
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(
        `in use by process ${holder.pid} on host ${hostname()} (bakeoff resume, since 2026-01-01T00:00:00.000Z)`,
      );
      const report = await runCli(["report", "dup", "--out", f.results], { cwd: f.dir });
      expect(report.code).toBe(2);
      expect(report.stderr).toContain(`process ${holder.pid}`);

      // The holder dies (kill -9 leaves its lock behind): the next resume takes the lock over.
      holder.kill("SIGKILL");
      await new Promise((r) => holder.once("exit", r));
      const resumed = await runCli(["run", "--resume", "dup", "--out", f.results, "--no-weave", "--progress", "off"], {
        cwd: f.dir,
        env: f.env,
      });
      expect(resumed.code).toBe(0);
      await expect(stat(lockPath)).rejects.toThrow(); // released
    } finally {
      holder.kill("SIGKILL");
    }
    expect(await lines(join(f.results, "dup", "predictions.jsonl"))).toHaveLength(20);
  }, 60_000);

  it("two --resume at once: one runs, the other is refused; no key is recorded twice", async () => {
    const f = await setup(
      30,
      { concurrency: 2 },
      { small: { latency: { medianMs: 40, p95Ms: 60 } }, large: { latency: { medianMs: 40, p95Ms: 60 } } },
    );
    const stopped = await runCli(
      [
        "run",
        "--config",
        f.config,
        "--no-weave",
        "--run-id",
        "twice",
        "--limit",
        "30",
        "--max-duration",
        "300ms",
        "--progress",
        "off",
      ],
      { cwd: f.dir, env: f.env },
    );
    expect(stopped.code).toBe(3);
    const args = ["run", "--resume", "twice", "--out", f.results, "--no-weave", "--progress", "off"];
    const [a, b] = await Promise.all([
      runCli(args, { cwd: f.dir, env: f.env }),
      runCli(args, { cwd: f.dir, env: f.env }),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 2]);
    expect((a.code === 2 ? a : b).stderr).toMatch(/is in use by process \d+ on host/);
    const keys = (await lines(join(f.results, "twice", "predictions.jsonl"))).map((l) => JSON.parse(l).key);
    expect(keys).toHaveLength(60);
    expect(new Set(keys).size).toBe(60);
  }, 60_000);
});

describe("2. complete only after every report and the index entry", () => {
  it("a failure while writing reports leaves the run resumable, and --resume rewrites what is missing", async () => {
    const f = await setup(8, {}, { small: fast, large: fast });
    // report.html cannot be written (a non-empty directory is in its way): the report phase fails.
    await mkdir(join(f.results, "rp", "report.html", "in-the-way"), { recursive: true });
    const res = await runCli(["run", "--config", f.config, "--no-weave", "--run-id", "rp", "--progress", "off"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(res.code).toBe(3);
    expect(res.stderr.trim().split("\n").at(-1)).toMatch(
      /^bakeoff: could not write .*report\.html.*a directory is in the way \(EISDIR\).*bakeoff run --resume rp/,
    );
    expect((await manifest(f, "rp")).status).not.toBe("complete");
    expect((await readdir(join(f.results, "rp"))).filter((n) => n.includes(".tmp-"))).toEqual([]);

    await rm(join(f.results, "rp", "report.html"), { recursive: true });
    const resumed = await runCli(["run", "--resume", "rp", "--out", f.results, "--no-weave", "--progress", "off"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(resumed.code).toBe(0);
    expect((await manifest(f, "rp")).status).toBe("complete");
    for (const name of ["report.md", "report.json", "predictions.csv", "junit.xml", "report.html"])
      await stat(join(f.results, "rp", name));
    expect(await lines(join(f.results, "rp", "predictions.jsonl"))).toHaveLength(16);
    expect((await lines(join(f.results, "index.jsonl"))).map((l) => JSON.parse(l).runId)).toEqual(["rp"]);

    // A complete run whose reports and index entry went missing: --resume rewrites them, sends nothing.
    await rm(join(f.results, "rp", "junit.xml"));
    await writeFile(join(f.results, "index.jsonl"), "");
    const before = f.emulator.stats().requests;
    const repaired = await runCli(["run", "--resume", "rp", "--out", f.results, "--no-weave"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toMatch(/rewrote what was missing \(junit\.xml, index\.jsonl entry\)/);
    await stat(join(f.results, "rp", "junit.xml"));
    expect(await lines(join(f.results, "index.jsonl"))).toHaveLength(1);
    expect(f.emulator.stats().requests).toBe(before);
  }, 60_000);
});

describe("3. server and dataset text is sanitised", () => {
  it("a hostile 401 body and model field never reach the terminal or report.md raw; HTML shows bidi overrides inert", async () => {
    const dir = await tempDir();
    const hostile =
      "\u001b[2J\u001b]0;pwned\u0007\u001b]8;;http://evil.example/\u001b\\click\u001b]8;;\u001b\\ \u202Eevil\u0007";
    const auth = await loopback((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "Unauthorized", message: `bad key ${hostile}` } }));
    });
    const ok = await loopback((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "x",
          model: `m${hostile}`,
          choices: [{ index: 0, message: { role: "assistant", content: `42 ${hostile}` }, finish_reason: "stop" }],
        }),
      );
    });
    const config = await writeConfig(dir, [
      { name: "denied", endpoint: auth },
      { name: "ok", endpoint: ok },
    ]);
    const res = await runCli(["run", "--config", config, "--no-weave", "--run-id", "h", "--progress", "lines"], {
      cwd: dir,
      env: { LOOPBACK_KEY: "k" },
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/bad key .*click/);
    expect(res.stderr).not.toMatch(ESCAPES);
    expect(res.stdout).not.toMatch(ESCAPES);
    const md = await readFile(join(dir, "results", "h", "report.md"), "utf8");
    expect(md).toMatch(/\bok\b/);
    // eslint-disable-next-line no-control-regex -- none of these bytes may survive
    expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    const junit = await readFile(join(dir, "results", "h", "junit.xml"), "utf8");
    expect(junit).not.toMatch(ESCAPES);
    const html = await readFile(join(dir, "results", "h", "report.html"), "utf8");
    expect(html).not.toContain("\u202E");
    expect(html).toContain("[U+202E]evil");
  }, 60_000);
});

describe("4. a run deadline and a per-model give-up rule", () => {
  const storm = {
    small: { ...fast, faults: [{ kind: "rate_limit" as const, retryAfter: { ms: 60_000 } }] },
    large: fast,
  };
  const patient = { retry: { maxAttempts: 20, baseDelayMs: 1, maxDelayMs: 60_000, maxRetryAfterMs: 60_000 } };

  it("--max-duration stops a run held by a server asking to wait: exit 3, why, and the resume command", async () => {
    const f = await setup(5, { ...patient, concurrency: 16 }, storm);
    const res = await runCli(
      ["run", "--config", f.config, "--no-weave", "--run-id", "dl", "--max-duration", "1s", "--progress", "off"],
      { cwd: f.dir, env: f.env },
    );
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/the run deadline of 1s was reached/);
    expect(res.stderr).toMatch(
      /bakeoff: run incomplete \(the run deadline of 1s was reached\)\. Finish it with: bakeoff run --resume dl/,
    );
    expect((await manifest(f, "dl")).status).toBe("incomplete");
    const keys = (await lines(join(f.results, "dl", "predictions.jsonl"))).map((l) => JSON.parse(l).model);
    expect(keys.filter((m) => m === "large")).toHaveLength(5);
    expect(keys.filter((m) => m === "small")).toHaveLength(0); // not run: left for the resume
  }, 30_000);

  it("giveUpAfter stops a model after uninterrupted 429s; the others finish; exit 3 says why", async () => {
    const f = await setup(5, { ...patient, giveUpAfter: "500ms" }, storm);
    const res = await runCli(["run", "--config", f.config, "--no-weave", "--run-id", "gu", "--progress", "off"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/model "small" stopped: gave up after \d+ms of uninterrupted rate limiting \(429\)/);
    const m = JSON.parse(await readFile(join(f.results, "gu", "run.json"), "utf8"));
    expect(m.status).toBe("incomplete");
    expect(m.models.find((x: { name: string }) => x.name === "small").stopped).toMatch(/gave up after/);
    expect(await lines(join(f.results, "gu", "predictions.jsonl"))).toHaveLength(5);
  }, 30_000);
});

describe("5. every stored copy of an endpoint is cleaned", () => {
  it("a query-string secret in an endpoint appears in no file the run writes", async () => {
    const f = await setup(4, {}, { small: fast, large: fast });
    const cfg = JSON.parse(await readFile(f.config, "utf8"));
    cfg.models[0].endpoint = `${cfg.models[0].endpoint}?api-key=PLANTED-QUERY-SECRET&sig=PLANTED-SIG-SECRET`;
    await writeFile(f.config, JSON.stringify(cfg));
    const res = await runCli(
      [
        "run",
        "--config",
        f.config,
        "--no-weave",
        "--run-id",
        "sec",
        "--cache",
        join(f.results, ".cache"),
        "--progress",
        "off",
      ],
      { cwd: f.dir, env: f.env },
    );
    expect([0, 3]).toContain(res.code);
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else files.push(join(d, e.name));
      }
    };
    await walk(f.results);
    expect(files.length).toBeGreaterThan(6);
    for (const file of files) {
      const text = await readFile(file, "utf8");
      expect(text, file).not.toContain("PLANTED");
    }
    expect(res.stdout + res.stderr).not.toContain("PLANTED");
  }, 30_000);
});

describe("6. expected failures exit 2 or 3 with one line, never 70", () => {
  it("a foreign directory, a run killed before run.json, and a busy port", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "results", "foreign"), { recursive: true });
    await writeFile(join(dir, "results", "foreign", "notes.txt"), "hello");
    await mkdir(join(dir, "results", "early"), { recursive: true });
    await writeFile(join(dir, "results", "early", "predictions.jsonl"), "");
    for (const args of [
      ["report", "foreign", "--out", join(dir, "results")],
      ["run", "--resume", "early", "--out", join(dir, "results")],
      ["weave-sync", "foreign", "--out", join(dir, "results")],
    ]) {
      const res = await runCli(args, { cwd: dir });
      expect(res.code, args.join(" ")).toBe(2);
      expect(res.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(res.stderr).toMatch(/is not a bakeoff run: it has no run\.json/);
    }
    const busy = await loopback((_q, s) => s.end());
    const port = new URL(busy).port;
    const serve = await runCli(["serve", "--port", port], { cwd: dir });
    expect(serve.code).toBe(2);
    expect(serve.stderr.trim()).toBe(
      `bakeoff: cannot listen on 127.0.0.1:${port}: the port is already in use (another bakeoff serve?). Pick another with --port, or --port 0 for any free one`,
    );
  }, 30_000);

  it("a write failure (file size limit: EFBIG, the same path as ENOSPC/EIO) marks the run interrupted and prints the resume command", async () => {
    const f = await setup(40, { concurrency: 2 }, { small: fast, large: fast });
    // ulimit -f counts 1024-byte blocks in bash: the journal fails after a few dozen records.
    const script = `ulimit -f 24; exec "${process.execPath}" "${BIN}" run --config "${f.config}" --no-weave --run-id full --progress off`;
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", script], {
        cwd: f.dir,
        env: { ...process.env, ...f.env, CI: "true" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (code) => resolve({ code, stderr }));
    });
    expect(res.code).toBe(3);
    const errors = res.stderr
      .trim()
      .split("\n")
      .filter((l) => !/Weave logging is off/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^bakeoff: could not write .*predictions\.jsonl: file too large .*\(EFBIG\)\. Results recorded so far are safe; .*bakeoff run --resume full/,
    );
    expect((await manifest(f, "full")).status).toBe("interrupted");
    const resumed = await runCli(["run", "--resume", "full", "--out", f.results, "--no-weave", "--progress", "off"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(resumed.code).toBe(0);
    const keys = (await lines(join(f.results, "full", "predictions.jsonl"))).map((l) => JSON.parse(l).key);
    expect(new Set(keys).size).toBe(80);
    expect(keys).toHaveLength(80);
  }, 60_000);
});

describe("7. duplicate dataset names", () => {
  it("--dataset a/qa.jsonl --dataset b/qa.jsonl: made unique, said, and the run resumes as complete", async () => {
    const f = await setup(1, {}, { small: fast, large: fast });
    for (const d of ["a", "b"]) {
      await mkdir(join(f.dir, d));
      await writeFile(
        join(f.dir, d, "qa.jsonl"),
        [0, 1, 2]
          .map((i) => JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + 2?`, expected: String(i + 2) }))
          .join("\n") + "\n",
      );
    }
    const res = await runCli(
      [
        "run",
        "--config",
        f.config,
        "--no-weave",
        "--run-id",
        "dd",
        "--dataset",
        "a/qa.jsonl",
        "--dataset",
        "b/qa.jsonl",
        "--progress",
        "off",
      ],
      { cwd: f.dir, env: f.env },
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/name "qa-2": b\/qa\.jsonl and an earlier dataset are both named "qa"/);
    const keys = (await lines(join(f.results, "dd", "predictions.jsonl"))).map((l) => JSON.parse(l).key);
    expect(new Set(keys).size).toBe(12);
    expect(res.stdout).toMatch(/n=6 /);
    const again = await runCli(["run", "--resume", "dd", "--out", f.results, "--no-weave"], { cwd: f.dir, env: f.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already complete/);
  }, 30_000);
});

describe("8. Weave lifecycle", () => {
  it("the project given with --weave is stored, so the printed weave-sync works as printed", async () => {
    const f = await setup(3, { weave: { flushTimeoutSec: 1 } }, { small: fast, large: fast });
    const { closedPortUrl, startFakeTraceServer } = await import("./helpers/fake-trace-server.js");
    const env = { ...f.env, WANDB_API_KEY: "wandb-dummy-key-0123456789abcdef0123456789abcdef", HOME: f.dir };
    const res = await runCli(
      ["run", "--config", f.config, "--run-id", "wv", "--weave", "acme/from-flag", "--progress", "off"],
      {
        cwd: f.dir,
        env: { ...env, WF_TRACE_SERVER_URL: await closedPortUrl() },
      },
    );
    expect(res.code).toBe(0);
    expect((await manifest(f, "wv")).weave).toEqual({ project: "acme/from-flag" });
    const printed = /Upload later with: (bakeoff weave-sync \S+)/.exec(res.stderr)?.[1];
    expect(printed).toBeDefined();
    const trace = await startFakeTraceServer();
    try {
      const sync = await runCli(printed!.split(" ").slice(1), {
        cwd: f.dir,
        env: { ...env, WF_TRACE_SERVER_URL: trace.url },
      });
      expect(sync.code).toBe(0);
      expect(sync.stdout).toMatch(/Uploaded 6 predictions of run wv to Weave project acme\/from-flag/);
    } finally {
      await trace.close();
    }
  }, 60_000);

  it("the first Ctrl-C during the upload wait stops waiting and prints the sync command; a killed parent takes its Weave child with it", async () => {
    const f = await setup(3, { weave: { project: "acme/p", flushTimeoutSec: 120 } }, { small: fast, large: fast });
    const { startFakeTraceServer } = await import("./helpers/fake-trace-server.js");
    const trace = await startFakeTraceServer({ mode: "hang" });
    try {
      const env = {
        ...process.env,
        ...f.env,
        CI: "true",
        WANDB_API_KEY: "wandb-dummy-key-0123456789abcdef0123456789abcdef",
        HOME: f.dir,
        WF_TRACE_SERVER_URL: trace.url,
      };
      const waitFor = (child: import("node:child_process").ChildProcess, re: RegExp) =>
        new Promise<string>((resolve) => {
          let err = "";
          child.stderr!.on("data", (d: Buffer) => {
            err += d.toString();
            if (re.test(err)) resolve(err);
          });
        });
      // Ctrl-C: stop waiting at once.
      const a = spawn(process.execPath, [BIN, "run", "--config", f.config, "--run-id", "cc", "--progress", "off"], {
        cwd: f.dir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      a.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      await waitFor(a, /waiting for Weave uploads/);
      a.kill("SIGINT");
      const code = await new Promise((r) => a.on("close", r));
      expect(code).toBe(0);
      expect(stderr).toMatch(/stopped waiting for Weave uploads; .*Upload them with: bakeoff weave-sync \S+cc/);

      // kill -9 of the parent while it waits: its Weave child exits too (IPC disconnect).
      const b = spawn(process.execPath, [BIN, "run", "--config", f.config, "--run-id", "k9", "--progress", "off"], {
        cwd: f.dir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      await waitFor(b, /waiting for Weave uploads/);
      const kids = execFileSync("ps", ["-o", "pid=", "--ppid", String(b.pid)], { encoding: "utf8" })
        .split("\n")
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
      expect(kids.length).toBeGreaterThan(0);
      b.kill("SIGKILL");
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && kids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
      expect(kids.filter(alive)).toEqual([]);
    } finally {
      await trace.close();
    }
  }, 60_000);
});

describe("9. response size cap", () => {
  it("a body over maxResponseBytes is a failed, non-retried call, cut off while streaming", async () => {
    const dir = await tempDir();
    let requests = 0;
    const huge = await loopback((req, res) => {
      if (req.method === "POST") requests++;
      // 5 MB of chunked JSON, no Content-Length: the cap must stop reading, not buffer it all.
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"choices":[{"message":{"content":"');
      const chunk = "x".repeat(64 * 1024);
      let sent = 0;
      const more = (): void => {
        while (sent < 80) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end('"}}]}');
      };
      more();
      res.on("error", () => undefined);
    });
    const config = await writeConfig(dir, [{ name: "huge", endpoint: huge }], { maxResponseBytes: 1_000_000 }, 2);
    const res = await runCli(["run", "--config", config, "--no-weave", "--run-id", "cap", "--progress", "off"], {
      cwd: dir,
      env: { LOOPBACK_KEY: "k" },
    });
    expect(res.code).toBe(0);
    const recs = (await lines(join(dir, "results", "cap", "predictions.jsonl"))).map((l) => JSON.parse(l));
    expect(recs).toHaveLength(2);
    for (const r of recs) {
      expect(r.output.error.kind).toBe("bad_response");
      expect(r.output.error.message).toMatch(/larger than maxResponseBytes \(1000000 bytes/);
      expect(r.output.attempts).toBe(1);
    }
    expect(requests).toBe(2);
  }, 30_000);
});

describe("10. dataset checks before any call", () => {
  it("an empty dataset, a number as a prompt and a FIFO exit 2 with the file (and line); stdin works with --dataset -", async () => {
    const f = await setup(2, {}, { small: fast, large: fast });
    await writeFile(join(f.dir, "empty.jsonl"), "");
    await writeFile(
      join(f.dir, "num.jsonl"),
      `${JSON.stringify({ id: "a", prompt: "ok?" })}\n${JSON.stringify({ id: "b", prompt: 42 })}\n`,
    );
    execFileSync("mkfifo", [join(f.dir, "pipe.jsonl")]);
    const cases: [string, RegExp][] = [
      ["empty.jsonl", /empty\.jsonl: the dataset has no rows; nothing to run/],
      ["num.jsonl", /num\.jsonl:2: prompt \(column "prompt"\) is a number, not text/],
      ["pipe.jsonl", /pipe\.jsonl: is a named pipe \(FIFO\), not a regular file/],
    ];
    for (const [file, message] of cases) {
      const res = await runCli(["run", "--config", f.config, "--no-weave", "--dataset", file, "--progress", "off"], {
        cwd: f.dir,
        env: f.env,
        timeoutMs: 20_000,
      });
      expect(res.code, file).toBe(2);
      // --dataset without column flags prints what it guessed first; the error is the one last line.
      const lines = res.stderr.trim().split("\n");
      expect(lines.at(-1), file).toMatch(message);
      expect(
        lines.filter((l) => !/\(guessed/.test(l)),
        file,
      ).toHaveLength(1);
    }
    expect(f.emulator.stats().requests).toBe(0);

    // A template may render a number on purpose.
    const cfg = JSON.parse(await readFile(f.config, "utf8"));
    cfg.datasets = [{ path: join(f.dir, "num.jsonl"), template: "Say {{prompt}}" }];
    await writeFile(join(f.dir, "tpl.json"), JSON.stringify(cfg));
    const tpl = await runCli(["validate", "--config", join(f.dir, "tpl.json")], { cwd: f.dir, env: f.env });
    expect(tpl.code).toBe(0);

    const piped = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [BIN, "run", "--config", f.config, "--no-weave", "--run-id", "stdin", "--dataset", "-", "--progress", "off"],
        {
          cwd: f.dir,
          env: { ...process.env, ...f.env, CI: "true" },
          stdio: ["pipe", "pipe", "pipe"],
        },
      );
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.on("close", (code) => resolve({ code, stdout }));
      child.stdin.end(
        [1, 2, 3]
          .map((i) => JSON.stringify({ id: `s${i}`, prompt: `What is ${i} + 1?`, expected: String(i + 1) }))
          .join("\n") + "\n",
      );
    });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/3 rows × 2 models/);
    const resumed = await runCli(["run", "--resume", "stdin", "--out", f.results, "--no-weave"], {
      cwd: f.dir,
      env: f.env,
    });
    expect(resumed.stdout).toMatch(/already complete/);
  }, 60_000);
});
