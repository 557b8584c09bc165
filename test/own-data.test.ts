/**
 * Own data in one command, through the built CLI: `run --dataset F` with column and scorer flags,
 * no config file at all (the built-in emulator presets), guessing, the pasteable snippet, `init`,
 * commented configs and the `emulator://small|large` presets.
 */
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PredictionRecord } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const GSM = [
  {
    question: "Sam has 12 apples. He gives away 5 apples. How many apples does Sam have now?",
    answer: "12 - 5 = 7\n#### 7",
    qid: "g1",
  },
  { question: "What is 17 + 25?", answer: "#### 42", qid: "g2" },
  { question: "What is 7 * 8?", answer: "56", qid: "g3" },
];

async function records(runDir: string): Promise<PredictionRecord[]> {
  const text = await readFile(join(runDir, "predictions.jsonl"), "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as PredictionRecord);
}

async function gsmDir(): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "gsm8k.jsonl"), GSM.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return dir;
}

/** The JSON array printed after "Dataset settings used". */
function snippet(stdout: string): Record<string, unknown>[] {
  const start = stdout.indexOf("[", stdout.indexOf("Dataset settings used"));
  const end = stdout.indexOf("\n]", start);
  return JSON.parse(stdout.slice(start, end + 2)) as Record<string, unknown>[];
}

const quiet = ["--no-weave", "--progress", "off"];

describe("own data in one command (no config file)", () => {
  it("runs a gsm8k-like file against the built-in small and large models and prints a pasteable dataset entry", async () => {
    const dir = await gsmDir();
    const res = await runCli(
      [
        "run",
        "--dataset",
        "gsm8k.jsonl",
        "--prompt",
        "question",
        "--expected",
        "answer",
        "--scorer",
        "numeric",
        "--run-id",
        "own",
        ...quiet,
      ],
      { cwd: dir },
    );
    expect(res.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(res.code).toBe(0);
    const recs = await records(join(dir, "results", "own"));
    expect(recs.map((r) => r.model).sort()).toEqual(["large", "large", "large", "small", "small", "small"]);
    for (const r of recs) {
      expect(r.output.error).toBeUndefined();
      expect(r.scores.numeric).toEqual(expect.objectContaining({ value: expect.any(Number) }));
      expect(r.input.messages.at(-1)!.content).toBe(GSM.find((g) => g.answer === r.expected)!.question);
    }
    const entry = snippet(res.stdout);
    // The id column was not named, so it was guessed (qid) and shows up in the snippet.
    expect(entry).toEqual([
      {
        path: "gsm8k.jsonl",
        columns: { id: "qid", prompt: "question", expected: "answer" },
        scorers: [{ type: "numeric" }],
      },
    ]);

    // The snippet pasted into a config (with the same built-in models) validates as is.
    await writeFile(
      join(dir, "eval.config.json"),
      JSON.stringify({ datasets: entry, models: [{ name: "small", endpoint: "emulator://small" }] }),
    );
    const check = await runCli(["validate"], { cwd: dir });
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/ok {2}gsm8k\.jsonl: 3 rows, 1 scorers/);
  });

  it("guesses the prompt, expected and id columns and the scorer when not given, and says so", async () => {
    const dir = await gsmDir();
    const res = await runCli(["run", "--dataset", "gsm8k.jsonl", "--models", "large", "--run-id", "g", ...quiet], {
      cwd: dir,
    });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/prompt column "question" \(guessed; set with --prompt\)/);
    expect(res.stderr).toMatch(/expected column "answer" \(guessed/);
    expect(res.stderr).toMatch(/id column "qid" \(guessed/);
    expect(res.stderr).toMatch(/scorers numeric \(guessed/);
    expect(snippet(res.stdout)[0]).toEqual({
      path: "gsm8k.jsonl",
      columns: { id: "qid", prompt: "question", expected: "answer" },
      scorers: [{ type: "numeric" }],
    });
    const recs = await records(join(dir, "results", "g"));
    expect(recs.map((r) => r.rowId).sort()).toEqual(["g1", "g2", "g3"]);
    expect(new Set(recs.map((r) => r.model))).toEqual(new Set(["large"]));
  });

  it("--template, --system, --id and repeated --scorer (with options) shape the requests and scores", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "caps.csv"), "key,country,city\nc1,France,Paris\nc2,Japan,Tokyo\n");
    const res = await runCli(
      [
        "run",
        "--dataset",
        "caps.csv",
        "--template",
        "What is the capital of {{country}}?",
        "--expected",
        "city",
        "--id",
        "key",
        "--system",
        "Answer in one word.",
        "--scorer",
        "includes",
        "--scorer",
        "similarity:metric=levenshtein,threshold=0.5",
        "--run-id",
        "t",
        ...quiet,
      ],
      { cwd: dir },
    );
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const recs = await records(join(dir, "results", "t"));
    expect(recs).toHaveLength(4);
    for (const r of recs) {
      expect(["c1", "c2"]).toContain(r.rowId);
      expect(r.input.messages[0]).toEqual({ role: "system", content: "Answer in one word." });
      expect(r.input.messages[1]!.content).toMatch(/^What is the capital of (France|Japan)\?$/);
      expect(Object.keys(r.scores).sort()).toEqual(["includes", "similarity"]);
    }
    expect(snippet(res.stdout)[0]).toEqual({
      path: "caps.csv",
      columns: { id: "key", expected: "city" },
      template: "What is the capital of {{country}}?",
      system: "Answer in one word.",
      scorers: [{ type: "includes" }, { type: "similarity", metric: "levenshtein", threshold: 0.5 }],
    });
  });

  it("bad own-data input is one line, exit 2, before any call: unknown column, unguessable prompt, bad scorer, unknown model", async () => {
    const dir = await gsmDir();
    await writeFile(join(dir, "odd.csv"), "a,b\n1,2\n");
    const cases: [string[], RegExp][] = [
      [
        ["--dataset", "gsm8k.jsonl", "--prompt", "questoin"],
        /gsm8k\.jsonl: no column "questoin" \(--prompt\); the file has: question, answer, qid/,
      ],
      [
        ["--dataset", "odd.csv"],
        /odd\.csv: cannot tell which column is the prompt \(columns: a, b\); name it with --prompt COLUMN or give --template/,
      ],
      [
        ["--dataset", "gsm8k.jsonl", "--scorer", "numerc"],
        /--scorer numerc: unknown scorer type "numerc"; choose one of exact, includes, .*numeric/,
      ],
      [
        ["--dataset", "gsm8k.jsonl", "--scorer", "similarity:metrc=x"],
        /--scorer similarity:metrc=x: unknown option "metrc"; similarity takes name, metric, threshold/,
      ],
      [
        ["--dataset", "gsm8k.jsonl", "--models", "medium"],
        /unknown model "medium" in --models; the config defines: small, large/,
      ],
      [["--dataset", "missing.jsonl"], /missing\.jsonl: file not found/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(["run", ...args, ...quiet], { cwd: dir });
      expect(res.code, args.join(" ")).toBe(2);
      // Notes on what was guessed may precede it; the error itself is one line, without a stack.
      const errors = res.stderr
        .trim()
        .split("\n")
        .filter((l) => !/\(guessed/.test(l));
      expect(errors, args.join(" ")).toHaveLength(1);
      expect(res.stderr).not.toMatch(/\n\s+at /);
      expect(res.stderr).toMatch(message);
    }
    expect(await readdir(dir)).not.toContain("results");
  });

  it("with no config and no --dataset, run says how to start (exit 2)", async () => {
    const dir = await tempDir();
    const res = await runCli(["run"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no config file here .*bakeoff init.*--dataset FILE/);
  });
});

describe("emulator presets", () => {
  it("emulator://small and emulator://large work without an emulator block; a block entry replaces the preset", async () => {
    const dir = await gsmDir();
    const config = {
      datasets: [
        { path: "gsm8k.jsonl", columns: { prompt: "question", expected: "answer" }, scorers: [{ type: "numeric" }] },
      ],
      models: [
        { name: "s", endpoint: "emulator://small" },
        { name: "l", endpoint: "emulator://large" },
      ],
      // "large" redefined: never right. "small" stays the preset.
      emulator: { models: { large: { accuracy: 0, style: "terse" } } },
      weave: { enabled: false },
    };
    await writeFile(join(dir, "eval.config.json"), JSON.stringify(config));
    const res = await runCli(["run", "--run-id", "p", "--progress", "off"], { cwd: dir });
    expect(res.code).toBe(0);
    const recs = await records(join(dir, "results", "p"));
    expect(recs).toHaveLength(6);
    for (const r of recs.filter((x) => x.model === "l")) expect(r.scores.numeric!.value).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, "results", "p", "run.json"), "utf8")) as {
      models: { name: string; info?: { modelName?: string } }[];
    };
    expect(manifest.models.find((m) => m.name === "s")!.info?.modelName).toBe("emulated-small");
  });

  it("an unknown emulated model still fails validation, naming the built-in ones", async () => {
    const dir = await gsmDir();
    await writeFile(
      join(dir, "eval.config.json"),
      JSON.stringify({ datasets: [{ path: "gsm8k.jsonl" }], models: [{ name: "m", endpoint: "emulator://medium" }] }),
    );
    const res = await runCli(["validate"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/models\[0\]\.endpoint: emulated model "medium" is not defined.*small, large/);
  });
});

describe("bakeoff init", () => {
  it("writes a commented config, a sample dataset and the schema; the config loads and runs", async () => {
    const dir = await tempDir();
    const res = await runCli(["init"], { cwd: dir });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /wrote eval\.config\.jsonc\nwrote datasets\/sample\.jsonl\nwrote eval\.config\.schema\.json/,
    );
    const text = await readFile(join(dir, "eval.config.jsonc"), "utf8");
    expect(text).toMatch(/^\/\/ bakeoff config/);
    expect(text).toMatch(/"\$schema": "\.\/eval\.config\.schema\.json"/);
    expect(text).toMatch(/"endpoint": "emulator:\/\/small"/);
    expect(text).toMatch(/"endpoint": "emulator:\/\/large"/);
    expect(text).not.toMatch(/"emulator":/);
    expect(JSON.parse(await readFile(join(dir, "eval.config.schema.json"), "utf8"))).toEqual(
      expect.objectContaining({ title: expect.stringMatching(/bakeoff/) }),
    );

    const run = await runCli(["run", "--run-id", "first", ...quiet], { cwd: dir });
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(0);
    expect(await records(join(dir, "results", "first"))).toHaveLength(16);

    const again = await runCli(["init"], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/eval\.config\.jsonc already exists; pass --force/);
    expect((await runCli(["init", "--force"], { cwd: dir })).code).toBe(0);
  });

  it("init --dataset F writes a config for that file with guessed columns and scorer", async () => {
    const dir = await gsmDir();
    const res = await runCli(["init", "--dataset", "gsm8k.jsonl", "--config", "gsm.jsonc"], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/prompt column "question" \(guessed/);
    const text = await readFile(join(dir, "gsm.jsonc"), "utf8");
    expect(text).toContain('"path": "gsm8k.jsonl"');
    expect(text).toMatch(/"columns": \{"id": "qid", "prompt": "question", "expected": "answer"\}/);
    expect(text).toMatch(/"scorers": \[\{"type": "numeric"\}\]/);
    expect(await readdir(dir)).not.toContain("datasets");
    const check = await runCli(["validate", "--config", "gsm.jsonc"], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/gsm8k\.jsonl: 3 rows, 1 scorers/);
  });

  it("a config with comments and trailing commas loads; a syntax error names line and column", async () => {
    const dir = await gsmDir();
    await writeFile(
      join(dir, "eval.config.json"),
      `// a comment\n{\n  /* block */\n  "datasets": [{ "path": "gsm8k.jsonl", "columns": { "prompt": "question", "expected": "answer" }, },],\n  "models": [{ "name": "small", "endpoint": "emulator://small" }],\n}\n`,
    );
    const ok = await runCli(["validate"], { cwd: dir });
    expect(ok.code).toBe(0);
    await writeFile(join(dir, "eval.config.json"), `{\n  "datasets": [\n    { "path": "x" "y" }\n  ]\n}\n`);
    const bad = await runCli(["validate"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'bakeoff: eval.config.json: not valid JSON at line 3, column 19: expected \',\' between entries near "\\"y\\"" (1 more after it; fix this one first)\n',
    );
  });
});
