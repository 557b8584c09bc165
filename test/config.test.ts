import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseJsonc, type ParseError } from "jsonc-parser";
import { describe, expect, it } from "vitest";
import { ConfigError, configJsonSchema, loadConfig, parseConfig } from "../src/index.js";
import { tempDir } from "./helpers/tmp.js";

const minimal = {
  datasets: [{ path: "d.jsonl" }],
  models: [{ name: "small", endpoint: "emulator://small" }],
  emulator: { models: { small: {} } },
};

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("applies defaults to a minimal config", () => {
    const { config } = parseConfig(minimal);
    expect(config.concurrency).toBe(8);
    expect(config.outputDir).toBe("results");
    expect(config.retry.maxAttempts).toBe(5);
    expect(config.datasets[0]!.columns).toEqual({ id: "id", prompt: "prompt", system: "system", expected: "expected" });
    expect(config.models[0]!.provider).toBe("azure-ai-inference");
  });

  it("reports every problem at once, each with its JSON path", () => {
    const issues = issuesOf({
      concurrency: 0,
      datasets: [{ path: "a.csv", format: "xml" }],
      models: [
        { name: "a", endpoint: "https://x.models.ai.azure.com", params: { temperature: 5 } },
        { name: "b", endpoint: "emulator://b", typo: 1 },
      ],
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain("concurrency");
    expect(paths).toContain("datasets[0].format");
    expect(paths).toContain("models[0].params.temperature");
    expect(paths).toContain("models[1].typo");
    expect(issues.find((i) => i.path === "models[1].typo")!.message).toMatch(/unknown key "typo"/);
  });

  it("checks cross-field rules: unique names, emulator references, key variables", () => {
    const issues = issuesOf({
      datasets: [{ path: "x/a.csv" }, { path: "y/a.jsonl" }],
      models: [
        { name: "m", endpoint: "emulator://nope" },
        { name: "m", endpoint: "https://res.services.ai.azure.com/models" },
        { name: "z", endpoint: "ftp://host", apiKeyEnv: "K" },
      ],
      emulator: { models: { small: {} } },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        {
          path: "models[0].endpoint",
          message: expect.stringMatching(/"nope" is not defined; emulator.models defines: small/),
        },
        { path: "models[1].name", message: expect.stringMatching(/already the name of models\[0\]/) },
        { path: "models[1].apiKeyEnv", message: expect.stringMatching(/required for a real endpoint/) },
        { path: "models[2].endpoint", message: expect.stringMatching(/unsupported scheme/) },
        { path: "datasets[1].name", message: expect.stringMatching(/"a" is already the name of datasets\[0\]/) },
      ]),
    );
  });

  it("refuses a literal key with an explanation, and a key pasted into apiKeyEnv", () => {
    const issues = issuesOf({
      ...minimal,
      models: [
        { name: "a", endpoint: "https://x.models.ai.azure.com", apiKey: "abc", apiKeyEnv: "A_KEY" },
        { name: "b", endpoint: "https://y.models.ai.azure.com", apiKeyEnv: "d41d8cd98f00b204e9800998ecf8427e" },
      ],
    });
    expect(issues.find((i) => i.path === "models[0].apiKey")!.message).toMatch(
      /keys never go in the config file.*apiKeyEnv/,
    );
    expect(issues.filter((i) => i.path === "models[0]")).toEqual([]); // no duplicate "unknown key" noise
    expect(issues.find((i) => i.path === "models[1].apiKeyEnv")!.message).toMatch(/looks like a key itself/);
  });

  it("points at line and column for a JSON syntax error", async () => {
    const dir = await tempDir();
    const file = join(dir, "eval.config.json");
    await writeFile(file, '{\n  "datasets": [],\n  "models": [,]\n}\n');
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/not valid JSON at line 3, column 14/);
  });

  it("says what to do when the file is missing", async () => {
    const err = await loadConfig("/nonexistent/eval.config.json").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/file not found.*--config/);
  });

  it("the committed eval.config.schema.json is generated from the current schema", async () => {
    const committed = JSON.parse(await readFile(new URL("../eval.config.schema.json", import.meta.url), "utf8"));
    expect(committed).toEqual(configJsonSchema());
  });

  it("the shipped eval.config.json is valid", async () => {
    const loaded = await loadConfig(new URL("../eval.config.json", import.meta.url).pathname);
    expect(loaded.config.models.map((m) => m.name)).toEqual(["small", "large"]);
  });

  it("reads comments and trailing commas, in .json and .jsonc, and falls back from .json to .jsonc", async () => {
    const dir = await tempDir();
    const text = [
      "// the starter config",
      "{",
      '  /* where the rows come from */ "datasets": [{ "path": "d.jsonl", },],',
      '  "models": [{ "name": "small", "endpoint": "emulator://small" }], // one model',
      '  "emulator": { "models": { "small": {} } },',
      "}",
    ].join("\n");
    await writeFile(join(dir, "eval.config.json"), text);
    expect((await loadConfig(join(dir, "eval.config.json"))).config.datasets[0]!.path).toBe("d.jsonl");
    const other = await tempDir();
    await writeFile(join(other, "eval.config.jsonc"), text);
    expect((await loadConfig(join(other, "eval.config.jsonc"))).config.models[0]!.name).toBe("small");
    // The default name, eval.config.json, finds eval.config.jsonc when only that exists.
    const loaded = await loadConfig(join(other, "eval.config.json"));
    expect(loaded.file).toBe(join(other, "eval.config.jsonc"));
  });

  it("names line and column for syntax errors in a commented file", async () => {
    const dir = await tempDir();
    const file = join(dir, "eval.config.jsonc");
    await writeFile(file, '{\n  // models below\n  "datasets": []\n  "models": []\n}\n');
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/not valid JSON at line 4, column 3: expected ',' between entries/);
    await writeFile(file, '{ "datasets": [] /* never closed\n');
    expect(((await loadConfig(file).catch((e: unknown) => e)) as Error).message).toMatch(
      /line 1, column 18: a \/\* comment is not closed/,
    );
  });

  it("lists the valid keys of the object with an unknown key, suggests the nearest, and names its line", async () => {
    const dir = await tempDir();
    const file = join(dir, "eval.config.json");
    await writeFile(
      file,
      JSON.stringify(
        {
          ...minimal,
          datasets: [{ path: "d.jsonl", scorers: [{ type: "similarity", metrics: "jaccard" }] }],
          modles: [],
        },
        null,
        2,
      ),
    );
    const err = (await loadConfig(file).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const scorer = err.issues.find((i) => i.path === "datasets[0].scorers[0].metrics")!;
    expect(scorer.message).toMatch(
      /^unknown key "metrics": did you mean "metric"\? Valid keys in datasets\[0\]\.scorers\[0\]: type, .*metric/,
    );
    // Only the similarity scorer's keys, not every scorer's.
    expect(scorer.message).not.toMatch(/pattern|module/);
    expect(scorer).toMatchObject({ line: 8, column: 11 });
    const top = err.issues.find((i) => i.path === "modles")!;
    expect(top.message).toMatch(/did you mean "models"\? Valid keys at the top level: .*datasets.*models/);
    expect(err.message).toMatch(/ {2}- modles: unknown key "modles".* \(line \d+, column 3\)(\n|$)/);
  });

  it("the README's commented config examples parse, and the whole configs among them load", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const blocks = [...readme.matchAll(/```jsonc\n([\s\S]*?)```/g)].map((m) => m[1]!);
    let whole = 0;
    for (const [i, block] of blocks.entries()) {
      // A fragment such as `"decision": { ... }` is shown as it sits inside a config.
      const text = block.trim().startsWith('"') ? `{${block}}` : block;
      const errors: ParseError[] = [];
      const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
      expect(errors, `README jsonc block ${i + 1}`).toEqual([]);
      if (typeof value !== "object" || value === null || !("datasets" in value) || !("models" in value)) continue;
      whole++;
      const dir = await tempDir();
      await writeFile(join(dir, "eval.config.jsonc"), block);
      const loaded = await loadConfig(join(dir, "eval.config.jsonc")).catch((e: unknown) => e);
      expect(
        loaded,
        `README jsonc block ${i + 1}: ${loaded instanceof Error ? loaded.message : ""}`,
      ).not.toBeInstanceOf(Error);
    }
    expect(whole).toBeGreaterThan(0);
  });
});
