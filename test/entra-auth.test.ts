/**
 * Keyless auth end to end: models with `"auth": "entra"` on both providers get their bearer
 * token from an injected TokenCredential (the library API's `credential`), the emulator checks
 * it, tokens are cached (one getToken for many calls) and never written anywhere.
 */
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  COGNITIVE_SERVICES_SCOPE,
  parseConfig,
  planRun,
  readJournal,
  runEvaluation,
  PREDICTIONS_FILE,
  type ConfigInput,
} from "../src/index.js";
import { tempDir } from "./helpers/tmp.js";

const TOKEN = "fake-entra-token-7d1e2c9b";

/** A credential that hands out one token per hour and counts how often it was asked. */
class FakeCredential implements TokenCredential {
  calls = 0;
  scopes: string[] = [];
  constructor(private readonly token: string) {}
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.calls++;
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: this.token, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

async function run(token: string) {
  const dir = await tempDir();
  const file = join(dir, "rows.jsonl");
  await writeFile(
    file,
    Array.from({ length: 6 }, (_, i) =>
      JSON.stringify({ id: `q${i}`, prompt: `What is ${i} + 2?`, expected: String(i + 2) }),
    ).join("\n") + "\n",
  );
  const config: ConfigInput = {
    concurrency: 3,
    datasets: [{ path: file, scorers: [{ type: "numeric" }] }],
    models: [
      { name: "legacy", provider: "azure-ai-inference", endpoint: "emulator://sim", auth: "entra" },
      { name: "v1", provider: "openai", endpoint: "emulator://sim", model: "sim", auth: "entra" },
      {
        name: "v1-responses",
        provider: "openai",
        api: "responses",
        endpoint: "emulator://sim",
        model: "sim",
        auth: "entra",
        stream: true,
      },
    ] as never,
    // The emulator accepts exactly this bearer token.
    emulator: { models: { sim: { apiKey: TOKEN, latency: { medianMs: 1, p95Ms: 2 } } } },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  };
  const plan = await planRun(parseConfig(config, { baseDir: dir }), { env: {} });
  const credential = new FakeCredential(token);
  const logs: string[] = [];
  const result = await runEvaluation({ plan, outputDir: join(dir, "results"), credential, log: (m) => logs.push(m) });
  return { dir, result, credential, logs };
}

async function allText(dir: string): Promise<string> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name), "utf8"));
  }
  return out.join("\n");
}

describe("Entra ID auth", () => {
  it("authenticates both providers with the credential's token, cached, and writes it nowhere", async () => {
    const { dir, result, credential } = await run(TOKEN);
    expect(result.status).toBe("complete");
    const records = [];
    for await (const rec of readJournal(join(result.runDir, PREDICTIONS_FILE))) records.push(rec);
    expect(records).toHaveLength(18);
    expect(records.filter((r) => r.output.error !== undefined)).toEqual([]);
    // One credential, one token source: 18 calls (and /info) asked for a token once.
    expect(credential.calls).toBe(1);
    expect(new Set(credential.scopes)).toEqual(new Set([COGNITIVE_SERVICES_SCOPE]));
    // The only copy on disk is the emulator's own setting in run.json's config snapshot (emulator
    // keys are test fixtures); no record, report or manifest field carries the token.
    expect(await readFile(join(result.runDir, PREDICTIONS_FILE), "utf8")).not.toContain(TOKEN);
    const everything = await allText(dir);
    const runJson = await readFile(join(result.runDir, "run.json"), "utf8");
    expect(everything.split(TOKEN).length - 1).toBe(1);
    expect(JSON.parse(runJson).config.emulator.models.sim.apiKey).toBe(TOKEN);
  });

  it("stops the models when the emulator refuses the token, as for a bad key", async () => {
    const { result, logs } = await run("some-other-token-123456");
    expect(result.status).toBe("incomplete");
    expect(result.stoppedModels.map((m) => m.model).sort()).toEqual(["legacy", "v1", "v1-responses"]);
    expect(logs.join("\n")).toContain("authentication failure");
  });
});
