import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PredictionRecord, RunManifest } from "../src/index.js";
import { REPO, runCli } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

async function lines(file: string): Promise<PredictionRecord[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as PredictionRecord);
}

async function countRows(file: string): Promise<number> {
  if (file.endsWith(".jsonl")) return (await readFile(file, "utf8")).split("\n").filter((l) => l.trim() !== "").length;
  const { parse } = await import("csv-parse/sync");
  return parse<unknown>(await readFile(file), { columns: true, bom: true }).length;
}

/** The shipped config, with datasets read from the repo and results written to `out`. */
async function shippedConfigIn(dir: string): Promise<string> {
  const config = JSON.parse(await readFile(join(REPO, "eval.config.json"), "utf8"));
  delete config.$schema;
  for (const d of config.datasets) d.path = join(REPO, d.path);
  config.outputDir = join(dir, "results");
  const file = join(dir, "eval.config.json");
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

describe("bakeoff run (end to end, built CLI against the built-in emulator)", () => {
  it("runs every row against both models, writes the journal, run.json and a side-by-side report", async () => {
    const dir = await tempDir();
    const config = await shippedConfigIn(dir);
    const res = await runCli(["run", "--config", config, "--no-weave"], { cwd: dir, env: { WANDB_API_KEY: "" } });
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Report: .*report\.md/);

    const runs = (await readdir(join(dir, "results"))).filter((n) => n !== "index.jsonl");
    expect(runs).toHaveLength(1);
    const runDir = join(dir, "results", runs[0]!);
    const rows =
      (await countRows(join(REPO, "datasets/arithmetic.jsonl"))) +
      (await countRows(join(REPO, "datasets/capitals.csv")));
    const records = await lines(join(runDir, "predictions.jsonl"));
    expect(records).toHaveLength(rows * 2);
    expect(new Set(records.map((r) => r.key)).size).toBe(rows * 2);
    for (const r of records) {
      expect(r.output.error).toBeUndefined();
      expect(typeof r.output.text).toBe("string");
      expect(["stop", "length"]).toContain(r.output.finishReason);
      expect(r.output.usage!.totalTokens).toBeGreaterThan(0);
      expect(r.output.attempts).toBe(1);
    }
    const byModel = (m: string) => records.filter((r) => r.model === m);
    expect(byModel("small")).toHaveLength(rows);
    expect(byModel("large")).toHaveLength(rows);

    const manifest = JSON.parse(await readFile(join(runDir, "run.json"), "utf8")) as RunManifest;
    expect(manifest.status).toBe("complete");
    expect(manifest.expected).toBe(rows * 2);
    expect(manifest.datasets.map((d) => d.sha256)).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}$/),
      expect.stringMatching(/^[0-9a-f]{64}$/),
    ]);
    expect(manifest.models[0]!.info).toEqual(expect.objectContaining({ modelName: expect.any(String) }));
    expect(manifest.tool.version).toMatch(/^\d+\.\d+\.\d+/);

    const report = await readFile(join(runDir, "report.md"), "utf8");
    expect(report).toMatch(/\|[^\n]*small[^\n]*\|[^\n]*large[^\n]*\|/);
  });

  it("--dataset replaces the configured datasets with conventional columns; --models narrows", async () => {
    const dir = await tempDir();
    const config = await shippedConfigIn(dir);
    await writeFile(join(dir, "qa.csv"), 'id,prompt,expected\nq1,"What is 2 + 3?",5\nq2,What is 7 * 6?,42\n');
    const res = await runCli(
      ["run", "--config", config, "--dataset", "qa.csv", "--models", "large", "--no-weave", "--run-id", "mine"],
      { cwd: dir },
    );
    expect(res.code).toBe(0);
    const records = await lines(join(dir, "results", "mine", "predictions.jsonl"));
    expect(records.map((r) => [r.rowId, r.model]).sort()).toEqual([
      ["q1", "large"],
      ["q2", "large"],
    ]);
    // No global scorers in the config: the scorer is guessed from the expected answers (numbers → numeric).
    for (const r of records) expect(r.scores.numeric).toEqual(expect.objectContaining({ value: expect.any(Number) }));
    expect(res.stderr).toMatch(/scorers numeric \(guessed/);
  });

  it("an unknown model name is a usage error (exit 2) naming the known ones, before any call", async () => {
    const dir = await tempDir();
    const config = await shippedConfigIn(dir);
    const res = await runCli(["run", "--config", config, "--models", "small,huge", "--no-weave"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown model "huge" in --models; the config defines: small, large/);
    await expect(readdir(join(dir, "results"))).rejects.toThrow();
  });

  it("an invalid config exits 2 listing every problem with its JSON path", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, "eval.config.json"),
      JSON.stringify({ datasets: [], models: [{ name: "x", endpoint: "emulator://x", apiKey: "k" }] }),
    );
    const res = await runCli(["run"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/datasets: name at least one dataset/);
    expect(res.stderr).toMatch(/models\[0\]\.apiKey: keys never go in the config file/);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("a missing key variable for a real endpoint is reported before anything is sent", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "d.jsonl"), '{"prompt":"hi"}\n');
    await writeFile(
      join(dir, "eval.config.json"),
      JSON.stringify({
        datasets: [{ path: "d.jsonl" }],
        models: [{ name: "prod", endpoint: "https://127.0.0.1:9/x", apiKeyEnv: "BAKEOFF_TEST_UNSET_KEY" }],
      }),
    );
    const res = await runCli(["run", "--no-weave"], { cwd: dir, env: { BAKEOFF_TEST_UNSET_KEY: "" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/model "prod" reads its key from \$BAKEOFF_TEST_UNSET_KEY, which is not set/);
  });

  it("report re-renders from the journal alone", async () => {
    const dir = await tempDir();
    const config = await shippedConfigIn(dir);
    expect(
      (await runCli(["run", "--config", config, "--no-weave", "--run-id", "r1", "--limit", "3"], { cwd: dir })).code,
    ).toBe(0);
    const before = await readFile(join(dir, "results", "r1", "report.md"), "utf8");
    await writeFile(join(dir, "results", "r1", "report.md"), "stale");
    const res = await runCli(["report", "r1", "--out", join(dir, "results")], { cwd: dir });
    expect(res.code).toBe(0);
    expect(await readFile(join(dir, "results", "r1", "report.md"), "utf8")).toBe(before);
  });

  it("--trials k sends each row k times with different seeds and reports per-row pass@k / pass^k", async () => {
    const dir = await tempDir();
    const config = await shippedConfigIn(dir);
    const res = await runCli(
      ["run", "--config", config, "--no-weave", "--run-id", "t3", "--trials", "3", "--limit", "5", "--models", "small"],
      { cwd: dir },
    );
    expect(res.code).toBe(0);
    const records = await lines(join(dir, "results", "t3", "predictions.jsonl"));
    expect(records).toHaveLength(10 * 3);
    expect(new Set(records.map((r) => r.trial))).toEqual(new Set([0, 1, 2]));
    // The emulator answers from (model, prompt, seed): a different seed per trial changes some answers.
    const byRow = new Map<string, Set<string>>();
    for (const r of records)
      byRow.set(
        `${r.dataset}/${r.rowId}`,
        (byRow.get(`${r.dataset}/${r.rowId}`) ?? new Set()).add(r.output.text ?? ""),
      );
    expect([...byRow.values()].some((texts) => texts.size > 1)).toBe(true);
    const report = JSON.parse(await readFile(join(dir, "results", "t3", "report.json"), "utf8"));
    expect(JSON.stringify(report)).toMatch(/"passAtK"/);
    expect(await readFile(join(dir, "results", "t3", "report.md"), "utf8")).toMatch(/pass@3/);
  });

  it("serve runs the emulator alone on the given port, for other tools", async () => {
    const dir = await tempDir();
    const { spawn } = await import("node:child_process");
    const { BIN } = await import("./helpers/cli.js");
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          // The banner ends with the stats line; stdout may arrive in several chunks.
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*Ctrl-C to stop/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on("exit", () => reject(new Error(`serve exited: ${out}`)));
      });
      expect(out).toMatch(/small: http:\/\/127\.0\.0\.1:\d+\/small/);
      const info = (await (await fetch(`${url}/small/info`)).json()) as { model_name: string };
      expect(info.model_name).toBe("emulated-small");
      const res = await fetch(`${url}/large/chat/completions?api-version=2024-05-01-preview`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": "anything" },
        body: JSON.stringify({ messages: [{ role: "user", content: "What is 6 * 7?" }], seed: 1 }),
      });
      const body = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
      expect(res.status).toBe(200);
      expect(body.choices[0]!.finish_reason).toBe("stop");
    } finally {
      child.kill("SIGINT");
    }
  });

  it("validate checks config and rows without calling anything, and names key variables that are not set", async () => {
    const dir = await tempDir();
    const config = await shippedConfigIn(dir);
    const ok = await runCli(["validate", "--config", config], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok {2}.*arithmetic\.jsonl: 42 rows, 2 scorers/);
    expect(ok.stdout).toMatch(/ok {2}2 models: small, large/);

    await writeFile(join(dir, "d.jsonl"), '{"prompt":"hi"}\n');
    await writeFile(
      join(dir, "real.json"),
      JSON.stringify({
        datasets: [{ path: "d.jsonl" }],
        models: [{ name: "prod", endpoint: "https://x.models.ai.azure.com", apiKeyEnv: "BAKEOFF_TEST_NOT_SET" }],
      }),
    );
    const missing = await runCli(["validate", "--config", join(dir, "real.json")], {
      cwd: dir,
      env: { BAKEOFF_TEST_NOT_SET: "" },
    });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toMatch(/ok {2}1 models: prod/);
    expect(missing.stderr).toMatch(/not set .*\$BAKEOFF_TEST_NOT_SET/);
  });
});
