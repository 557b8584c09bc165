/**
 * Compare and regression gates on real runs: the emulator serves a model "m" over HTTP, and a
 * "redeploy" is the same model name with a lower configured accuracy. Answers are deterministic
 * from (model, prompt, seed), so every count and p-value below is fixed, not a matter of luck.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCompare, parseGateRules } from "../src/compare/index.js";
import { parseConfig, planRun, runEvaluation, startEmulator } from "../src/index.js";
import { runCli } from "./helpers/cli.js";

const ROWS = 400;
let root: string;
let results: string;

/** 400 sums; every 5th row is tagged critical (the tags column as in datasets/arithmetic.jsonl). */
async function writeDataset(dir: string, rows: number, shift = 0): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, "sums.jsonl");
  const lines = Array.from({ length: rows }, (_, i) => {
    const a = 3 * i + 11 + shift;
    const b = 7 * i + 5;
    return JSON.stringify({
      id: `r${i}`,
      prompt: `What is ${a} + ${b}?`,
      expected: String(a + b),
      tags: i % 5 === 0 ? "critical,sums" : "sums",
    });
  });
  await writeFile(file, lines.join("\n") + "\n");
  return file;
}

/** One run of model "m" (accuracy, seed) against a fresh emulator; the run id names the case. */
async function runM(
  runId: string,
  opts: { accuracy: number; seed: number; dataset: string; modelName?: string },
): Promise<string> {
  const emulator = await startEmulator({
    models: {
      m: {
        accuracy: opts.accuracy,
        latency: { medianMs: 1, p95Ms: 2 },
        ...(opts.modelName ? { modelName: opts.modelName } : {}),
      },
    },
    quiet: true,
  });
  try {
    const loaded = parseConfig(
      {
        outputDir: results,
        concurrency: 32,
        datasets: [{ path: opts.dataset, scorers: [{ type: "numeric" }] }],
        models: [{ name: "m", endpoint: emulator.endpointFor("m"), apiKeyEnv: "EMU_KEY", params: { seed: opts.seed } }],
      },
      { baseDir: root },
    );
    const plan = await planRun(loaded, { env: { EMU_KEY: "k" } });
    const result = await runEvaluation({ plan, outputDir: results, runId, log: () => {} });
    expect(result.status).toBe("complete");
    return result.runDir;
  } finally {
    await emulator.close();
  }
}

let base: string;
let noisy: string;
let redeploy: string;
let changed: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "bakeoff-compare-"));
  results = join(root, "results");
  const dataset = await writeDataset(join(root, "v1"), ROWS);
  base = await runM("base", { accuracy: 0.95, seed: 7, dataset });
  // Same model, same accuracy, another seed: different rows go wrong, the rate does not change.
  noisy = await runM("noisy", { accuracy: 0.95, seed: 8, dataset });
  // The redeploy: same name, accuracy 0.90, and the endpoint now reports a new model name.
  redeploy = await runM("redeploy", { accuracy: 0.9, seed: 7, dataset, modelName: "emulated-m-v2" });
  // Same model, but the dataset file changed (other numbers in every prompt).
  changed = await runM("changed", { accuracy: 0.95, seed: 7, dataset: await writeDataset(join(root, "v2"), ROWS, 1) });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const GATES = ["regression:numeric>2", "critical"];

describe("compare: a redeploy with a real 5-point drop", () => {
  it("fails the regression gate on a significant paired drop and lists the newly failing rows with both outputs", async () => {
    const check = await checkCompare({
      baselineDir: base,
      candidateDir: redeploy,
      gates: parseGateRules(GATES),
      indexDir: results,
    });
    const c = check.comparison!;
    const change = c.changes.find((x) => x.model === "m" && x.scorer === "numeric")!;
    expect(change.n).toBe(ROWS);
    expect(change.test).toBe("mcnemar-exact");
    // Fixed by the emulator's determinism (figures at the end of the file).
    expect(change.baselineMean).toBeCloseTo(FIG.redeploy.baseline, 10);
    expect(change.candidateMean).toBeCloseTo(FIG.redeploy.candidate, 10);
    expect(change.passToFail).toBe(FIG.redeploy.passToFail);
    expect(change.failToPass).toBe(0); // same seed: the 0.90 model's errors include the 0.95 model's
    expect(change.pValue).toBeCloseTo(2 * 0.5 ** 25, 15);
    expect(change.significant).toBe(true);
    expect(change.interval![1]).toBeLessThan(0);

    expect(check.gates.passed).toBe(false);
    const regression = check.gates.outcomes.find((o) => o.gate.kind === "regression")!;
    expect(regression.status).toBe("fail");
    expect(regression.details[0]).toMatch(
      /^m numeric: -6\.3 points \(p < 0\.001, n = 400\): significant drop larger than 2 points$/,
    );

    const failing = c.flips.filter((f) => f.direction === "pass→fail");
    expect(failing).toHaveLength(change.passToFail);
    for (const f of failing) {
      expect(f.baseline!.text!.replace(/,/g, "")).toContain(f.candidate!.expected!);
      expect(f.candidate!.text).not.toBe(f.baseline!.text);
      expect(f.candidate!.prompt).toMatch(/^What is \d+ \+ \d+\?$/);
    }
    // Critical rows among them fail the critical gate and are named.
    const critical = failing.filter((f) => f.critical);
    expect(critical.length).toBe(FIG.redeploy.criticalPassToFail);
    const criticalGate = check.gates.outcomes.find((o) => o.gate.kind === "critical")!;
    expect(criticalGate.status).toBe(critical.length > 0 ? "fail" : "pass");
    for (const f of critical)
      expect(criticalGate.details.join("\n")).toContain(`critical row sums/${f.rowId} newly fails`);

    // The endpoint said it is another model now: visible as an identity change.
    expect(c.identity[0]!.changed).toContain("responseModel");
    expect(c.warnings.map((w) => w.kind)).toContain("identity");
    expect(c.warnings.map((w) => w.kind)).not.toContain("dataset");

    const md = await readFile(join(redeploy, "compare.md"), "utf8");
    expect(md).toMatch(/\*\*FAIL\*\*/);
    expect(md).toMatch(/## Newly failing rows/);
    expect(md).toContain(`sums/${failing[0]!.rowId}`);
    const json = JSON.parse(await readFile(join(redeploy, "compare.json"), "utf8"));
    expect(json.gates.passed).toBe(false);
    expect(json.flips).toHaveLength(change.passToFail);
    const html = await readFile(join(redeploy, "compare.html"), "utf8");
    expect(html).toContain('<section class="bakeoff-compare">');
    expect(html).toContain("Newly failing rows");
  });
});

describe("compare: noise and changed inputs", () => {
  it("the same model with another seed passes the gate: no significant change", async () => {
    const check = await checkCompare({ baselineDir: base, candidateDir: noisy, gates: parseGateRules(GATES) });
    const change = check.comparison!.changes[0]!;
    expect(change.baselineMean).toBeCloseTo(FIG.noisy.baseline, 10);
    expect(change.candidateMean).toBeCloseTo(FIG.noisy.candidate, 10);
    expect(change.pValue).toBeCloseTo(FIG.noisy.pValue, 6);
    expect(change.significant).toBe(false);
    // Rows do flip both ways under a new seed; that alone is not a regression.
    expect(change.passToFail).toBeGreaterThan(0);
    expect(change.failToPass).toBeGreaterThan(0);
    expect(check.gates.outcomes.find((o) => o.gate.kind === "regression")!.status).toBe("pass");
    // `critical` is strict by design: any critical row flipping fails it, even from noise.
    expect(change.criticalPassToFail).toBe(3);
    expect(check.gates.outcomes.find((o) => o.gate.kind === "critical")!.status).toBe("fail");
    // The seed is a generation parameter: the difference is reported, not hidden.
    expect(check.comparison!.warnings.filter((w) => w.kind === "params").map((w) => w.message)).toEqual([
      expect.stringContaining('"seed":8'),
    ]);
    expect(check.comparison!.identity[0]!.changed).toEqual([]);
  });

  it("warns when the dataset hash differs between the runs", async () => {
    const check = await checkCompare({ baselineDir: base, candidateDir: changed, gates: [] });
    const warnings = check.comparison!.warnings.filter((w) => w.kind === "dataset");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(
      /^dataset "sums" changed: sha256 [0-9a-f]{12} → [0-9a-f]{12} \(400 → 400 rows\)/,
    );
    expect(await readFile(join(changed, "compare.md"), "utf8")).toMatch(/\*\*dataset:\*\* dataset "sums" changed/);
  });
});

describe("bakeoff compare (built CLI): exit codes", () => {
  const env = { WANDB_API_KEY: "" };
  it("exits 1 for the redeploy, 0 for the noisy rerun, 2 for a bad rule", async () => {
    const fail = await runCli(["compare", "base", "redeploy", "--out", results, "--fail-on", "regression:numeric>2"], {
      cwd: root,
      env,
    });
    expect(fail.stderr).not.toMatch(/internal error/);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/Gate regression:numeric>2: FAIL/);
    expect(fail.stderr).toMatch(/gate failed/);

    const pass = await runCli(["compare", "base", "noisy", "--out", results, "--fail-on", "regression:numeric>2"], {
      cwd: root,
      env,
    });
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(/Gate regression:numeric>2: PASS/);
    expect(pass.stdout).toMatch(/no significant difference/);

    const bad = await runCli(["compare", "base", "noisy", "--out", results, "--fail-on", "regression:numeric<2"], {
      cwd: root,
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fail-on "regression:numeric<2": "regression" uses ">", not "<"');

    const typo = await runCli(["compare", "base", "noisy", "--out", results, "--fail-on", "floor:numric<0.5"], {
      cwd: root,
      env,
    });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/no scorer "numric" in the run \(scorers: numeric\)/);
  }, 60_000);

  it("resolves latest~N and warns about a changed dataset on stderr", async () => {
    // Runs in start order: base, noisy, redeploy, changed.
    const res = await runCli(["compare", "latest~3", "latest", "--out", results], { cwd: root, env });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Compare base → changed/);
    expect(res.stderr).toMatch(/warning: dataset "sums" changed/);
  }, 60_000);
});

/** Figures measured once from the deterministic emulator (see the test names for what they mean). */
const FIG = {
  // 386/400 → 361/400: a 6.25-point drop; 25 discordant rows, all losses: p = 2 · 0.5^25.
  redeploy: { baseline: 0.965, candidate: 0.9025, passToFail: 25, criticalPassToFail: 2 },
  // 386/400 → 381/400 with 18 losses and 13 wins: p = 0.473.
  noisy: { baseline: 0.965, candidate: 0.9525, pValue: 0.4731296598911286 },
};

describe("compare.md with hostile model output", () => {
  it("quotes outputs, prompts and row ids inertly (compare.md goes into GitHub job summaries)", async () => {
    const { renderCompareMarkdown } = await import("../src/compare/render.js");
    const run = { runId: "a", status: "complete", startedAt: "t", configHash: "0".repeat(64) };
    const hostile =
      "![px](http://t.example/p.png) [click](http://evil.example) <img src=x onerror=alert(1)> **bold** `code`";
    const result = {
      baseline: run,
      candidate: { ...run, runId: "b" },
      models: ["m"],
      changes: [],
      identity: [],
      warnings: [],
      flips: [
        {
          model: "m",
          scorer: "exact",
          dataset: "d",
          rowId: "[r](http://x)",
          direction: "pass→fail",
          critical: false,
          baseline: { prompt: hostile, expected: "ok", text: "ok", finishReason: "stop", error: null },
          candidate: { prompt: hostile, expected: "ok", text: hostile, finishReason: "<b>", error: null },
        },
      ],
    } as unknown as Parameters<typeof renderCompareMarkdown>[0];
    const md = renderCompareMarkdown(result);
    expect(md).not.toMatch(/!\[px\]\(/);
    expect(md).not.toMatch(/(?<!\\)\[click\]\(/);
    expect(md).not.toMatch(/(?<!\\)\[r\]\(/);
    expect(md).not.toContain("<img");
    expect(md).not.toContain("<b>");
    expect(md).toContain("!\\[px\\]");
  });
});
