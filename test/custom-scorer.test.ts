/**
 * Custom scorers: user modules loaded by path through the real plan (so paths, JSON paths and
 * load errors are what a user sees), scored through scoreAll (so failures are per-row scorer
 * errors), and one run of the built CLI so .ts loading is checked on the Node running the tests,
 * outside vitest's own TypeScript transform.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/errors.js";
import { parseConfig, planRun, PREDICTIONS_FILE, readJournal, runEvaluation, startEmulator } from "../src/index.js";
import { scoreAll, type Scorer, type ScoreInput } from "../src/scoring/index.js";
import { toScore } from "../src/scoring/custom.js";
import type { Completion } from "../src/types.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/scorers/", import.meta.url));

function completion(text: string | null, extra: Partial<Completion> = {}): Completion {
  return {
    text,
    finishReason: "stop",
    usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
    latencyMs: 12,
    model: "m",
    requestId: "r",
    attempts: 1,
    ...extra,
  };
}

function input(text: string | null, expected?: string): ScoreInput {
  return {
    output: completion(text),
    ...(expected === undefined ? {} : { expected }),
    vars: { prompt: "What is 2 + 2?", expected: expected ?? "" },
    row: { id: "r1", messages: [{ role: "user", content: "What is 2 + 2?" }] },
  };
}

/** A one-row dataset in a fresh directory, which is also the config's base directory. */
async function workspace(): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "qa.jsonl"), JSON.stringify({ id: "q1", prompt: "What is 2 + 2?", expected: "4" }) + "\n");
  return dir;
}

/**
 * Plans a run whose only dataset has these scorers, with a config file in `baseDir` (the fixtures
 * by default), so relative module paths resolve there; the dataset lives in a temp dir.
 */
async function plannedScorers(baseDir: string, scorers: unknown[], globalScorers: unknown[] = []): Promise<Scorer[]> {
  const data = await workspace();
  const loaded = parseConfig(
    {
      datasets: [{ path: join(data, "qa.jsonl"), scorers }],
      scorers: globalScorers,
      models: [{ name: "m", endpoint: "emulator://sim" }],
      emulator: { models: { sim: {} } },
    },
    { file: join(baseDir, "eval.config.json"), baseDir },
  );
  const plan = await planRun(loaded, { env: {} });
  return plan.datasets[0]!.scorers;
}

async function planIssues(
  dir: string,
  scorers: unknown[],
  globalScorers: unknown[] = [],
): Promise<{ path: string; message: string }[]> {
  const err = await plannedScorers(dir, scorers, globalScorers).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return [...(err as ConfigError).issues];
}

describe("custom scorers: results", () => {
  it("a boolean becomes value 1/0 with pass; options reach the function", async () => {
    const [s] = await plannedScorers(FIXTURES, [{ type: "custom", module: "mentions.js", options: { word: "four" } }]);
    expect(s!.name).toBe("custom");
    expect(await scoreAll([s!], input("It is four."))).toEqual({ custom: { value: 1, pass: true } });
    expect(await scoreAll([s!], input("It is 5."))).toEqual({ custom: { value: 0, pass: false } });
  });

  it("a number becomes the value; a named export is found by `export`", async () => {
    const [s] = await plannedScorers(FIXTURES, [
      { type: "custom", name: "ratio", module: "ratio.js", export: "lengthRatio" },
    ]);
    expect(await scoreAll([s!], input("four", "4"))).toEqual({ ratio: { value: 4 } });
    expect(await scoreAll([s!], input("four"))).toEqual({
      ratio: { value: null, error: "row has no expected answer" },
    });
  });

  it("a TypeScript module returning a Score (async) is passed through", async () => {
    const [s] = await plannedScorers(FIXTURES, [
      { type: "custom", name: "brief", module: "verdict.ts", options: { maxWords: 3 } },
    ]);
    expect(await scoreAll([s!], input("It is four."))).toEqual({
      brief: { value: 1, pass: true, reason: "r1: 3 words" },
    });
    expect(await scoreAll([s!], input("Well, I believe it is four."))).toEqual({
      brief: { value: 0, pass: false, reason: "r1: 6 words" },
    });
  });

  it("a .ts module outside an ESM package (compiled to CommonJS) exposes its exports as written", async () => {
    const dir = await workspace();
    await writeFile(
      join(dir, "score.ts"),
      "export const short = (i: { output: string | null }): boolean => (i.output ?? '').length < 5;\nexport default (): number => 0.5;\n",
    );
    const scorers = await plannedScorers(dir, [
      { type: "custom", name: "d", module: "score.ts" },
      { type: "custom", name: "s", module: "score.ts", export: "short" },
    ]);
    expect(await scoreAll(scorers, input("4"))).toEqual({ d: { value: 0.5 }, s: { value: 1, pass: true } });
  });

  it("gets the documented input: output, expected, row {id, vars, messages}, completion, options", async () => {
    const [s] = await plannedScorers(FIXTURES, [{ type: "custom", module: "echo.js", options: { k: 1 } }]);
    const score = (await scoreAll([s!], input("4", "4"))).custom!;
    expect(JSON.parse(score.reason!)).toEqual({
      output: "4",
      expected: "4",
      row: {
        id: "r1",
        vars: { prompt: "What is 2 + 2?", expected: "4" },
        messages: [{ role: "user", content: "What is 2 + 2?" }],
      },
      options: { k: 1 },
      finishReason: "stop",
    });
  });

  it("a scorer that throws, rejects or returns a non-score records an error for itself only", async () => {
    const names = ["throws", "rejects", "returnsString", "returnsNaN", "badScore"];
    const scorers = await plannedScorers(FIXTURES, [
      ...names.map((n) => ({ type: "custom", name: n, module: "misbehaving.js", export: n })),
      { type: "exact" },
    ]);
    const scores = await scoreAll(scorers, input("4", "4"));
    expect(scores).toEqual({
      throws: { value: null, error: "scorer exploded" },
      rejects: { value: null, error: "async scorer exploded" },
      returnsString: {
        value: null,
        error: "scorer returned a string; return a number, a boolean or {value, pass?, reason?}",
      },
      returnsNaN: { value: null, error: "scorer returned NaN, not a finite number" },
      badScore: {
        value: null,
        error:
          "scorer returned an invalid score: value is a string, not a finite number or null; pass is a string, not a boolean",
      },
      exact: { value: 1, pass: true },
    });
  });

  it("is not called for a failed model call", async () => {
    const [s] = await plannedScorers(FIXTURES, [{ type: "custom", module: "misbehaving.js", export: "throws" }]);
    const failed: ScoreInput = {
      output: completion(null, { finishReason: "error", error: { kind: "server", message: "503" } }),
      vars: {},
    };
    expect(await scoreAll([s!], failed)).toEqual({ custom: { value: null, reason: "no output (call error)" } });
  });

  it("copies only the known Score fields (a scorer cannot forge a judge's call record)", () => {
    expect(toScore({ value: 1, call: { name: "fake" } })).toEqual({ value: 1 });
    expect(toScore({ value: null, error: "mine" })).toEqual({ value: null, error: "mine" });
    expect(toScore(undefined).error).toMatch(/^scorer returned undefined/);
  });
});

describe("custom scorers: load errors at plan time, with the JSON path", () => {
  it("file not found", async () => {
    const dir = await workspace();
    const issues = await planIssues(dir, [{ type: "exact" }, { type: "custom", module: "./scorers/missing.js" }]);
    expect(issues).toEqual([
      { path: "datasets[0].scorers[1].module", message: `file not found: ${join(dir, "scorers", "missing.js")}` },
    ]);
  });

  it("no such export, and an export that is not a function", async () => {
    const issues = await planIssues(FIXTURES, [
      { type: "custom", name: "a", module: "misbehaving.js", export: "nope" },
      { type: "custom", name: "b", module: "misbehaving.js", export: "threshold" },
    ]);
    expect(issues.map((i) => i.path)).toEqual(["datasets[0].scorers[0].export", "datasets[0].scorers[1].export"]);
    expect(issues[0]!.message).toMatch(/^misbehaving\.js has no export "nope"; it exports: .*throws/);
    expect(issues[1]!.message).toBe('"threshold" in misbehaving.js is a number, not a function');
  });

  it("a syntax error names the module (the error text itself is checked through the CLI below)", async () => {
    const dir = await workspace();
    await brokenScorer(dir);
    const issues = await planIssues(dir, [{ type: "custom", module: "scorers/broken.js" }]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("datasets[0].scorers[0].module");
    // In-process, vitest's own module loader reports the parse error; Node's words are checked below.
    expect(issues[0]!.message).toMatch(/^cannot load scorers\/broken\.js: \w+Error: /);
  });

  it("a module whose top-level code throws", async () => {
    const dir = await workspace();
    await writeFile(join(dir, "init.js"), 'throw new Error("no database");\nexport default () => 1;\n');
    const issues = await planIssues(dir, [{ type: "custom", module: "init.js" }]);
    expect(issues).toEqual([
      { path: "datasets[0].scorers[0].module", message: "cannot load init.js: Error: no database" },
    ]);
  });

  it("a global scorer is reported at scorers[i], and every problem at once", async () => {
    const dir = await workspace();
    const issues = await planIssues(
      dir,
      [
        { type: "custom", module: "b.js" },
        { type: "custom", module: "c.js" },
      ],
      [{ type: "custom", name: "g", module: "a.js" }],
    );
    expect(issues.map((i) => i.path)).toEqual([
      "scorers[0].module",
      "datasets[0].scorers[0].module",
      "datasets[0].scorers[1].name",
      "datasets[0].scorers[1].module",
    ]);
  });
});

describe("custom scorers declare their kind", () => {
  async function plannedKinds(dir: string, scorers: unknown[]): Promise<unknown[]> {
    const data = await workspace();
    const loaded = parseConfig(
      {
        datasets: [{ path: join(data, "qa.jsonl"), scorers }],
        models: [{ name: "m", endpoint: "emulator://sim" }],
        emulator: { models: { sim: {} } },
      },
      { file: join(dir, "eval.config.json"), baseDir: dir },
    );
    const plan = await planRun(loaded, { env: {} });
    // The plan's config is what run.json snapshots, and the report reads kinds from there.
    return plan.config.datasets[0]!.scorers.map((s) => (s as { kind?: unknown }).kind);
  }

  it("from the module (`export const kind` or a property on the function), the config winning", async () => {
    const dir = await workspace();
    await writeFile(
      join(dir, "named.mjs"),
      'export const kind = "binary";\nexport default ({ output }) => /4/.test(output ?? "");\n',
    );
    await writeFile(join(dir, "prop.mjs"), 'const f = () => 0.5;\nf.kind = "scale";\nexport default f;\n');
    await writeFile(join(dir, "plain.mjs"), "export default () => 1;\n");
    const kinds = await plannedKinds(dir, [
      { type: "custom", name: "a", module: "named.mjs" },
      { type: "custom", name: "b", module: "prop.mjs" },
      { type: "custom", name: "c", module: "named.mjs", kind: "continuous" },
      { type: "custom", name: "d", module: "plain.mjs" },
    ]);
    expect(kinds).toEqual(["binary", "scale", "continuous", undefined]);
  });

  it("an unknown kind is a load error naming the module", async () => {
    const dir = await workspace();
    await writeFile(join(dir, "bad.mjs"), 'export const kind = "yes";\nexport default () => 1;\n');
    const issues = await planIssues(dir, [{ type: "custom", module: "bad.mjs" }]);
    expect(issues).toEqual([
      {
        path: "datasets[0].scorers[0].export",
        message: 'bad.mjs declares kind "yes"; use "binary", "continuous" or "scale"',
      },
    ]);
  });
});

describe("custom scorers in a real run", () => {
  it("scores every result in the journal; a throwing scorer does not stop the run", async () => {
    const emulator = await startEmulator({
      models: { sim: { accuracy: 1, latency: { medianMs: 0, p95Ms: 0 } } },
      quiet: true,
    });
    try {
      const dir = await workspace();
      const loaded = parseConfig(
        {
          datasets: [
            {
              path: "qa.jsonl",
              scorers: [
                { type: "custom", name: "mentions4", module: join(FIXTURES, "mentions.js"), options: { word: "4" } },
                { type: "custom", name: "broken", module: join(FIXTURES, "misbehaving.js"), export: "throws" },
              ],
            },
          ],
          models: [{ name: "m", endpoint: emulator.endpointFor("sim"), apiKeyEnv: "EMU_KEY" }],
        },
        { baseDir: dir },
      );
      const plan = await planRun(loaded, { env: { EMU_KEY: "k" } });
      const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
      expect(result.status).toBe("complete");
      const records = [];
      for await (const r of readJournal(join(result.runDir, PREDICTIONS_FILE))) records.push(r);
      const [record] = records;
      expect(record!.scores).toEqual({
        mentions4: { value: 1, pass: true },
        broken: { value: null, error: "scorer exploded" },
      });
    } finally {
      await emulator.close();
    }
  });
});

/** A scorer module with a syntax error on line 2. */
async function brokenScorer(dir: string): Promise<void> {
  await mkdir(join(dir, "scorers"));
  await writeFile(join(dir, "scorers", "broken.js"), "export default (x) => {\n  return x +;\n};\n");
}

/** Writes eval.config.json in `dir` for the one-row dataset with these scorers. */
async function writeConfig(dir: string, scorers: unknown[]): Promise<void> {
  await writeFile(
    join(dir, "eval.config.json"),
    JSON.stringify({
      datasets: [{ path: "qa.jsonl", scorers }],
      models: [{ name: "m", endpoint: "emulator://sim" }],
      emulator: { models: { sim: {} } },
    }),
  );
}

describe("scorer modules loaded by Node itself (the built CLI, outside vitest's loader)", () => {
  it("bakeoff validate loads a .ts and a .js scorer", async () => {
    const dir = await workspace();
    await writeConfig(dir, [
      { type: "custom", name: "ts", module: join(FIXTURES, "verdict.ts"), options: { maxWords: 3 } },
      { type: "custom", name: "js", module: join(FIXTURES, "mentions.js") },
    ]);
    const res = await runCli(["validate", "--config", "eval.config.json"], { cwd: dir });
    expect(res.stderr).toBe("");
    expect(res.stdout).toContain("ok  qa.jsonl: 1 rows, 2 scorers");
    expect(res.code).toBe(0);
  });

  it("a syntax error fails validate with exit code 2, the JSON path and Node's message", async () => {
    const dir = await workspace();
    await brokenScorer(dir);
    await writeConfig(dir, [{ type: "custom", module: "scorers/broken.js" }]);
    const res = await runCli(["validate", "--config", "eval.config.json"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      "datasets[0].scorers[0].module: cannot load scorers/broken.js: SyntaxError: Unexpected token ';'",
    );
  });
});
