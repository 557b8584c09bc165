/**
 * Bad input fails early with a clear one-paragraph error (exit 2) naming file and line; keys
 * never land in anything a run writes or prints.
 */
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { runFixture, type RunFixture } from "./helpers/run-fixture.js";
import { tempDir } from "./helpers/tmp.js";

let fx: RunFixture | undefined;
afterEach(async () => {
  await fx?.emulator.close();
  fx = undefined;
});

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

async function configWith(dir: string, datasetFile: string, content: string | Buffer): Promise<string> {
  await writeFile(join(dir, datasetFile), content);
  const config = join(dir, "eval.config.json");
  await writeFile(
    config,
    JSON.stringify({
      datasets: [{ path: datasetFile }],
      models: [{ name: "small", endpoint: "emulator://small" }],
      emulator: { models: { small: { latency: { medianMs: 1, p95Ms: 2 } } } },
    }),
  );
  return config;
}

describe("bad input", () => {
  it.each([
    ["unclosed quote", "d.csv", 'id,prompt\n1,"fine"\n2,"never closed\n', /d\.csv:3.*unclosed quote/],
    ["ragged row", "d.csv", "id,prompt\n1,a\n2,b,extra\n", /d\.csv:3.*row has 3 fields but the header has 2/],
    ["malformed JSONL line", "d.jsonl", '{"prompt":"a"}\n{"prompt": "b",}\n', /d\.jsonl:2:\d+: invalid JSON/],
    ["missing mapped column", "d.csv", "id,question\n1,a\n", /column "prompt" not found; columns are: id, question/],
    ["empty prompt", "d.jsonl", '{"prompt":"a"}\n{"prompt":"   "}\n', /d\.jsonl:2.*empty prompt/],
    [
      "duplicate id",
      "d.jsonl",
      '{"id":"x","prompt":"a"}\n{"id":"x","prompt":"b"}\n',
      /d\.jsonl:2.*duplicate id "x" \(first used at line 1\)/,
    ],
    [
      "invalid UTF-8",
      "d.jsonl",
      Buffer.concat([Buffer.from('{"prompt":"a"}\n{"prompt":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
      /d\.jsonl:2.*invalid UTF-8/,
    ],
  ])("%s: exit 2 with file and line, before any model is called", async (_name, file, content, message) => {
    const dir = await tempDir();
    const config = await configWith(dir, file, content);
    const res = await runCli(["run", "--config", config, "--no-weave"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    await expect(stat(join(dir, "results"))).rejects.toThrow(); // nothing started
  });

  it("a dataset path that does not exist is named", async () => {
    const dir = await tempDir();
    const config = await configWith(dir, "d.jsonl", '{"prompt":"a"}\n');
    const res = await runCli(["run", "--config", config, "--dataset", "nope.csv", "--no-weave"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/nope\.csv.*file not found/);
  });

  it("--skip-invalid-rows runs the good rows and records each skipped row with its reason", async () => {
    const dir = await tempDir();
    const config = await configWith(
      dir,
      "d.jsonl",
      '{"prompt":"What is 1 + 1?"}\n{"prompt": broken}\n{"prompt":""}\n{"prompt":"What is 2 + 2?"}\n',
    );
    const res = await runCli(["run", "--config", config, "--no-weave", "--skip-invalid-rows", "--run-id", "skippy"], {
      cwd: dir,
    });
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/skipping 2 invalid row\(s\)/);
    const runDir = join(dir, "results", "skippy");
    const skipped = (await readFile(join(runDir, "skipped.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(skipped.map((s) => s.line)).toEqual([2, 3]);
    expect(skipped[0]!.reason).toMatch(/invalid JSON/);
    expect(skipped[1]!.reason).toMatch(/empty prompt/);
    expect((await readFile(join(runDir, "predictions.jsonl"), "utf8")).trim().split("\n")).toHaveLength(2);
  });

  it("--skip-invalid-rows skips a duplicate id in the run exactly as validation did", async () => {
    const dir = await tempDir();
    const config = await configWith(
      dir,
      "d.jsonl",
      '{"id":"a","prompt":"What is 1 + 1?"}\n{"id":"a","prompt":"What is 5 + 5?"}\n{"id":"b","prompt":"What is 2 + 2?"}\n',
    );
    const res = await runCli(["run", "--config", config, "--no-weave", "--skip-invalid-rows", "--run-id", "dups"], {
      cwd: dir,
    });
    expect(res.code).toBe(0);
    const records = (await readFile(join(dir, "results", "dups", "predictions.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { rowId: string; line: number });
    expect(records.map((r) => `${r.rowId}@${r.line}`).sort()).toEqual(["a@1", "b@3"]);
  });

  it("a run id cannot escape the results directory", async () => {
    const dir = await tempDir();
    const config = await configWith(dir, "d.jsonl", '{"prompt":"a"}\n');
    const res = await runCli(["run", "--config", config, "--run-id", "../../etc", "--no-weave"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/run id "..\/..\/etc" is not allowed/);
  });
});

describe("secrets", () => {
  it("keys never appear in any file the run wrote, nor in its output, even when a key is rejected", async () => {
    const good = "sk-GOOD-7f3a9c1e5b2d4f6a8c0e";
    const bad = "sk-BAD-1a2b3c4d5e6f7a8b9c0d";
    const dir = await tempDir();
    fx = await runFixture(dir, {
      rows: 8,
      sims: {
        small: { apiKey: good, latency: { medianMs: 1, p95Ms: 2 } },
        large: { apiKey: good, latency: { medianMs: 1, p95Ms: 2 } },
      },
      keys: { small: good, large: bad },
    });
    const res = await runCli(["run", "--config", fx.config, "--no-weave", "--run-id", "keys"], {
      cwd: dir,
      env: fx.env,
    });
    expect(res.code).toBe(3); // "large" was stopped on its 401
    expect(res.stderr).toMatch(/model "large" stopped after an authentication failure.*\$BAKEOFF_TEST_KEY_LARGE/);
    const files = await allFiles(fx.results);
    expect(files.map((f) => f.slice(fx!.results.length + 1)).sort()).toEqual(
      expect.arrayContaining(["keys/predictions.jsonl", "keys/report.md", "keys/run.json"]),
    );
    for (const f of files) {
      const text = await readFile(f, "utf8");
      expect(text, f).not.toContain(good);
      expect(text, f).not.toContain(bad);
    }
    for (const out of [res.stdout, res.stderr]) {
      expect(out).not.toContain(good);
      expect(out).not.toContain(bad);
    }
  });
});
