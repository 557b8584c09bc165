/**
 * Gates: the --fail-on grammar, the config form (validated with JSON paths), and single-run gates
 * (floor, errors, truncation, p95) through `bakeoff run` against the emulator.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeGate, parseGateRule } from "../src/compare/index.js";
import { ConfigError, UsageError, parseConfig } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { runFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

describe("--fail-on grammar", () => {
  it("parses every kind into the config shape, and prints back the same rule", () => {
    expect(parseGateRule("regression:numeric>2")).toEqual({
      kind: "regression",
      scorer: "numeric",
      minEffect: 2,
      alpha: 0.05,
    });
    expect(parseGateRule("regression")).toEqual({ kind: "regression", minEffect: 0, alpha: 0.05 });
    expect(parseGateRule("critical")).toEqual({ kind: "critical", column: "tags", tag: "critical" });
    expect(parseGateRule("floor:numeric<0.8@small")).toEqual({
      kind: "floor",
      scorer: "numeric",
      min: 0.8,
      model: "small",
    });
    expect(parseGateRule("floor<80%")).toEqual({ kind: "floor", min: 0.8 });
    expect(parseGateRule("errors>0.05")).toEqual({ kind: "errors", max: 0.05 });
    expect(parseGateRule("truncation>10%")).toEqual({ kind: "truncation", max: 0.1 });
    expect(parseGateRule("p95>2000ms")).toEqual({ kind: "p95", maxMs: 2000 });
    for (const rule of [
      "regression:numeric>2",
      "critical:numeric@large",
      "floor:numeric<0.8",
      "errors>0.05",
      "truncation>0.1",
      "p95>2000@small",
    ]) {
      expect(describeGate(parseGateRule(rule))).toBe(rule);
    }
  });

  it("rejects bad rules with a message naming the rule", () => {
    const cases: [string, RegExp][] = [
      ["speed>3", /unknown gate "speed"/],
      ["floor:numeric>0.8", /"floor" uses "<", not ">"/],
      ["floor:numeric", /"floor" needs a threshold/],
      ["errors:numeric>0.1", /"errors" does not take a scorer/],
      ["critical>1", /"critical" takes no threshold/],
      ["errors>2", /max: Too big/],
      ["p95>10%", /"%" is not a unit of "p95"/],
      ["floor numeric", /not a rule/],
    ];
    for (const [rule, why] of cases) {
      let err: unknown;
      try {
        parseGateRule(rule);
      } catch (e) {
        err = e;
      }
      expect(err, rule).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain(`--fail-on "${rule}"`);
      expect((err as Error).message).toMatch(why);
    }
  });
});

describe("gates in config", () => {
  const base = {
    datasets: [{ path: "x.jsonl" }],
    models: [{ name: "a", endpoint: "emulator://a" }],
    emulator: { models: { a: {} } },
  };

  it("accepts gates with defaults applied", () => {
    const { config } = parseConfig({
      ...base,
      gates: [
        { kind: "regression", scorer: "numeric", minEffect: 2 },
        { kind: "critical", column: "labels" },
        { kind: "p95", maxMs: 500 },
      ],
    });
    expect(config.gates).toEqual([
      { kind: "regression", scorer: "numeric", minEffect: 2, alpha: 0.05 },
      { kind: "critical", column: "labels", tag: "critical" },
      { kind: "p95", maxMs: 500 },
    ]);
    expect(parseConfig(base).config.gates).toEqual([]);
  });

  it("reports bad gates with their JSON path", () => {
    let err: unknown;
    try {
      parseConfig({ ...base, gates: [{ kind: "errors", max: 0.1 }, { kind: "errors", max: 5 }, { kind: "floor" }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path);
    expect(paths).toContain("gates[1].max");
    expect(paths).toContain("gates[2].min");
  });
});

describe("single-run gates through bakeoff run", () => {
  it("exits 1 when a floor, truncation or latency gate fails, 0 when they pass, and skips baseline gates with a note", async () => {
    const dir = await tempDir();
    // max_tokens 3 cuts the "steps" style mid-answer: every answer ends with finish_reason length.
    const fx = await runFixture(dir, {
      rows: 30,
      sims: {
        terse: { accuracy: 1, latency: { medianMs: 1, p95Ms: 2 } },
        wordy: { accuracy: 1, style: "steps", latency: { medianMs: 1, p95Ms: 2 } },
      },
    });
    try {
      const cfg = JSON.parse(await readFile(fx.config, "utf8"));
      cfg.models[1].params = { max_tokens: 3 };
      await writeFile(fx.config, JSON.stringify(cfg));

      const pass = await runCli(
        [
          "run",
          "--config",
          fx.config,
          "--no-weave",
          "--fail-on",
          "floor:numeric<0.9@terse",
          "--fail-on",
          "errors>0",
          "--fail-on",
          "critical",
        ],
        { cwd: dir, env: fx.env },
      );
      expect(pass.stderr).not.toMatch(/internal error/);
      expect(pass.code).toBe(0);
      expect(pass.stdout).toMatch(/Gate floor:numeric<0\.9@terse: PASS/);
      expect(pass.stdout).toMatch(/Gate critical: SKIPPED\n\s+no baseline to compare with/);

      const fail = await runCli(
        ["run", "--config", fx.config, "--no-weave", "--fail-on", "truncation>0.5", "--fail-on", "p95>100000"],
        { cwd: dir, env: fx.env },
      );
      expect(fail.code).toBe(1);
      expect(fail.stdout).toMatch(
        /Gate truncation>0\.5: FAIL\n\s+wordy: truncation \(finish_reason length\) rate 100\.0% \(30\/30; ceiling 50\.0%\)/,
      );
      expect(fail.stdout).toMatch(/Gate p95>100000: PASS/);

      // A bad rule is a usage error before any model is called: no new run directory.
      const bad = await runCli(["run", "--config", fx.config, "--no-weave", "--fail-on", "floor>0.5"], {
        cwd: dir,
        env: fx.env,
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--fail-on "floor>0.5"');
      const index = (await readFile(join(fx.results, "index.jsonl"), "utf8")).trim().split("\n");
      expect(index).toHaveLength(2);
    } finally {
      await fx.emulator.close();
    }
  }, 60_000);

  it("run --baseline compares in one step and applies config gates", async () => {
    const dir = await tempDir();
    const fx = await runFixture(dir, { rows: 40, sims: { m: { accuracy: 0.9, latency: { medianMs: 1, p95Ms: 2 } } } });
    try {
      const cfg = JSON.parse(await readFile(fx.config, "utf8"));
      cfg.gates = [{ kind: "regression", scorer: "numeric", minEffect: 2 }];
      await writeFile(fx.config, JSON.stringify(cfg));
      const first = await runCli(["run", "--config", fx.config, "--no-weave", "--run-id", "one"], {
        cwd: dir,
        env: fx.env,
      });
      // No baseline: the regression gate is skipped, the run passes.
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/Gate regression:numeric>2: SKIPPED/);
      const second = await runCli(
        ["run", "--config", fx.config, "--no-weave", "--run-id", "two", "--baseline", "latest"],
        { cwd: dir, env: fx.env },
      );
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/Compare one → two/);
      expect(second.stdout).toMatch(/Gate regression:numeric>2: PASS/);
      const json = JSON.parse(await readFile(join(fx.results, "two", "compare.json"), "utf8"));
      // The same model, seed and prompts: identical answers, a zero change.
      expect(json.changes[0]).toMatchObject({
        model: "m",
        scorer: "numeric",
        n: 40,
        diff: 0,
        passToFail: 0,
        failToPass: 0,
      });

      const missing = await runCli(["run", "--config", fx.config, "--no-weave", "--baseline", "nope"], {
        cwd: dir,
        env: fx.env,
      });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/run "nope" not found/);
    } finally {
      await fx.emulator.close();
    }
  }, 60_000);
});
