/**
 * `bakeoff validate` reports everything wrong in one pass: every bad row of every dataset (capped
 * per file, with a count of the rest), a dataset that cannot be read at all, and every key
 * variable that is not set.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DatasetProblemsError, parseConfig, planRun } from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

/** 3 good rows and, after them, `bad` rows with no prompt, then one broken JSON line. */
function jsonl(bad: number): string {
  const lines = ['{"prompt":"a"}', '{"prompt":"b"}', '{"prompt":"c"}'];
  for (let i = 0; i < bad; i++) lines.push('{"question":"no prompt here"}');
  lines.push('{"prompt": "broken"');
  return lines.join("\n") + "\n";
}

async function fixture(): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "many.jsonl"), jsonl(25));
  await writeFile(join(dir, "two.jsonl"), jsonl(1));
  await writeFile(join(dir, "good.jsonl"), '{"prompt":"fine"}\n');
  await writeFile(join(dir, "header.csv"), "question,answer\nq,a\n");
  return dir;
}

const datasets = ["good.jsonl", "many.jsonl", "two.jsonl", "missing.jsonl", "header.csv"].map((path) => ({ path }));

describe("validate: every problem in one pass", () => {
  it("planRun({ collectProblems }) lists each bad row of each file, capped at 20 per file", async () => {
    const dir = await fixture();
    const loaded = parseConfig(
      { datasets, models: [{ name: "small", endpoint: "emulator://small" }], emulator: { models: { small: {} } } },
      { baseDir: dir },
    );
    const err = (await planRun(loaded, { collectProblems: true }).catch((e: unknown) => e)) as DatasetProblemsError;
    expect(err).toBeInstanceOf(DatasetProblemsError);
    expect(err.exitCode).toBe(2);
    expect(err.files.map((f) => f.file)).toEqual(["many.jsonl", "two.jsonl", "missing.jsonl", "header.csv"]);
    const [many, two, missing, header] = err.files;
    // 25 rows without a prompt and 1 broken line: 20 kept, 6 counted.
    expect(many!.problems).toHaveLength(20);
    expect(many!.more).toBe(6);
    expect(many!.problems[0]).toMatch(/many\.jsonl:4: .*prompt/);
    expect(many!.problems[19]).toMatch(/many\.jsonl:23: /);
    expect(two!.problems).toHaveLength(2);
    expect(two!.problems[0]).toMatch(/two\.jsonl:4: .*prompt/);
    expect(two!.problems[1]).toMatch(/two\.jsonl:5: /);
    expect(two!.more).toBe(0);
    expect(missing!.problems).toHaveLength(1);
    expect(missing!.problems[0]).toMatch(/missing\.jsonl/);
    expect(header!.problems[0]).toMatch(/header\.csv.*prompt/);
    expect(err.message).toMatch(/^30 problems in 4 datasets:\n/);
    expect(err.message).toContain("  - … and 6 more in many.jsonl");

    // Without the option the first problem still stops the plan, as before.
    await expect(planRun(loaded)).rejects.toThrow(/many\.jsonl:4/);
  });

  it("bakeoff validate prints the missing keys and every dataset problem, exit 2", async () => {
    const dir = await fixture();
    await writeFile(
      join(dir, "eval.config.json"),
      JSON.stringify({
        datasets: datasets.slice(1, 3),
        models: [
          { name: "a", endpoint: "https://a.models.ai.azure.com", apiKeyEnv: "BAKEOFF_TEST_KEY_A" },
          { name: "b", endpoint: "https://b.models.ai.azure.com", apiKeyEnv: "BAKEOFF_TEST_KEY_B" },
        ],
      }),
    );
    const res = await runCli(["validate"], { cwd: dir, env: { BAKEOFF_TEST_KEY_A: "", BAKEOFF_TEST_KEY_B: "" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/not set .*\$BAKEOFF_TEST_KEY_A, \$BAKEOFF_TEST_KEY_B/);
    expect(res.stderr).toMatch(/28 problems in 2 datasets/);
    expect(res.stderr).toContain("… and 6 more in many.jsonl");
    expect(res.stderr).toMatch(/two\.jsonl:5: /);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
