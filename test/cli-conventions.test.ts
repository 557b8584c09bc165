/**
 * CLI conventions through the built CLI: --version/-v, -h, help with a description and examples
 * for every command and option, suggestions, typed option errors, one-line expected failures
 * (exit 2, no stack trace), lazy command loading, `runs`, `open` and the one meaning of --out.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandName } from "../src/cli/commands/index.js";
import { startEmulator } from "../src/emulator/index.js";
import { REPO, runCli, type CliResult } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const IMPORT_LOG = fileURLToPath(new URL("./helpers/import-log.mjs", import.meta.url));

/** Exit 2 with exactly one line on stderr, starting "bakeoff: ", and no stack trace. */
function expectOneLineUsageError(res: CliResult, message: RegExp): void {
  expect(res.code, res.stderr).toBe(2);
  expect(res.stderr.trimEnd().split("\n"), res.stderr).toHaveLength(1);
  expect(res.stderr).toMatch(/^bakeoff: /);
  expect(res.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(res.stderr).toMatch(message);
}

describe("version and help", () => {
  it("--version and -v print the package version; -h and --help list every command", async () => {
    const dir = await tempDir();
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-v"]) {
      const res = await runCli([flag], { cwd: dir });
      expect(res.code).toBe(0);
      expect(res.stdout).toBe(`${version}\n`);
    }
    for (const flag of ["--help", "-h"]) {
      const res = await runCli([flag], { cwd: dir });
      expect(res.code).toBe(0);
      for (const c of COMMANDS) expect(res.stdout).toContain(`bakeoff ${c.command}`);
      expect(res.stdout).toMatch(/Examples:/);
    }
    const helpRun = await runCli(["help", "run"], { cwd: dir });
    expect(helpRun.code).toBe(0);
    expect(helpRun.stdout).toMatch(/^bakeoff run \[options\]/);
    expect(helpRun.stdout).toContain("--scorer");
  });

  it("every command's help has a description, examples and a description for every option", async () => {
    const dir = await tempDir();
    for (const entry of COMMANDS) {
      const spec = (await entry.load()).default;
      expect(spec.description, entry.command).toBeTruthy();
      expect(spec.examples.length, entry.command).toBeGreaterThan(0);
      for (const [name, opt] of Object.entries(spec.options))
        expect((opt as { describe?: string }).describe, `${entry.command} --${name}`).toBeTruthy();
      for (const [name, p] of Object.entries(spec.positionals ?? {}))
        expect((p as { describe?: string }).describe, `${entry.command} <${name}>`).toBeTruthy();

      // The same process also shows that a command's help loads only yargs and its descriptor.
      const { res, loaded } = await withImportLog([commandName(entry), "--help"], dir);
      expect(res.code, entry.command).toBe(0);
      expect(res.stdout).toContain("Examples:");
      for (const name of Object.keys(spec.options))
        expect(res.stdout, `${entry.command} --${name}`).toContain(`--${name}`);
      expect(beyondHelp(loaded), `${commandName(entry)} --help`).toEqual([]);
    }
  });

  it("--help, --version and 'help <command>' load only yargs and the command descriptors (no zod, Azure SDK, openai, csv-parse, cli-progress, weave)", async () => {
    const dir = await tempDir();
    for (const args of [["--help"], ["-h"], ["--version"], ["help", "run"], ["help", "compare"]]) {
      const { res, loaded } = await withImportLog(args, dir);
      expect(res.code, args.join(" ")).toBe(0);
      expect(loaded.length, "the import log works").toBeGreaterThan(5);
      expect(beyondHelp(loaded), args.join(" ")).toEqual([]);
    }
    // The check can fail: a command that does its work loads them.
    const { loaded } = await withImportLog(["validate", "--dataset", "x.jsonl"], dir);
    expect(loaded.some((u) => /node_modules\/zod\//.test(u))).toBe(true);
    expect(beyondHelp(loaded)).not.toEqual([]);
  });

  it("a run imports only the providers its models use: openai-only loads no Azure SDK, and no compare module without a baseline or gates", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "q.jsonl"), '{"id":"a","prompt":"What is 2 + 2?","expected":"4"}\n');
    const config = (provider: string) => ({
      datasets: [{ path: "q.jsonl", scorers: [{ type: "numeric" }] }],
      models: [{ name: "m", provider, endpoint: "emulator://small" }],
      emulator: { models: { small: { latency: { medianMs: 0, p95Ms: 0 } } } },
    });
    await writeFile(join(dir, "openai.json"), JSON.stringify(config("openai")));
    await writeFile(join(dir, "azure.json"), JSON.stringify(config("azure-ai-inference")));
    // The Azure SDK is required (CommonJS) by dist/providers/azure-ai-inference.js only, which the
    // ES-module import log does see; its ES-module build must not appear either.
    const azureSdk = (u: string) =>
      u.endsWith("/dist/providers/azure-ai-inference.js") || /node_modules\/(@azure-rest|@azure)\//.test(u);
    const openai = await withImportLog(["run", "--config", "openai.json", "--no-weave"], dir);
    expect(openai.res.code, openai.res.stderr).toBe(0);
    expect(openai.loaded.some((u) => u.endsWith("/dist/providers/openai.js"))).toBe(true);
    expect(openai.loaded.filter(azureSdk)).toEqual([]);
    expect(
      openai.loaded.filter((u) => /\/dist\/(cli\/compare-commands|compare\/(check|compare|render))/.test(u)),
    ).toEqual([]);
    // The check can fail: the Azure provider does load its SDK.
    const azure = await withImportLog(["run", "--config", "azure.json", "--no-weave"], dir);
    expect(azure.res.code, azure.res.stderr).toBe(0);
    expect(azure.loaded.some(azureSdk)).toBe(true);
  });
});

describe("what a run with a valid config loads", () => {
  it("a run whose config the zod-free check accepts loads no zod and no batch modules, start to finish (reports included); a config it does not know loads zod", async () => {
    const dir = await tempDir();
    // The models are served from outside the CLI, as real endpoints are: the built-in emulator
    // checks its own models with zod, so a run that starts it loads zod.
    const emu = await startEmulator({ models: { m: { latency: { medianMs: 0, p95Ms: 0 } } }, quiet: true });
    try {
      await writeFile(
        join(dir, "q.jsonl"),
        '{"id":"a","prompt":"What is 2 + 2?","expected":"4"}\n{"id":"b","prompt":"What is 3 + 4?","expected":"7"}\n',
      );
      const config = (extra: object) => ({
        datasets: [{ path: "q.jsonl", scorers: [{ type: "numeric" }, { type: "finish_stop" }] }],
        models: [{ name: "m", provider: "openai", endpoint: `${emu.endpointFor("m")}/v1`, model: "m", apiKeyEnv: "K" }],
        ...extra,
      });
      await writeFile(join(dir, "plain.json"), JSON.stringify(config({})));
      await writeFile(join(dir, "decision.json"), JSON.stringify(config({ decision: { margin: 3 } })));
      const zod = (u: string) => /node_modules\/zod\//.test(u);
      const plain = await withImportLog(["run", "--config", "plain.json", "--no-weave", "--progress", "off"], dir, {
        K: "test-key",
      });
      expect(plain.res.code, plain.res.stderr).toBe(0);
      expect(plain.res.stdout).toContain("Report:");
      expect(plain.loaded.filter(zod)).toEqual([]);
      // Nor the batch phase (node:readline and the Batch API client), which only batched models need.
      expect(
        plain.loaded.filter((u) => /\/dist\/batch\/(phase|results|service|input)\.js$|^node:readline$/.test(u)),
      ).toEqual([]);
      // The check can fail: a block the zod-free check leaves to the schema loads zod.
      const other = await withImportLog(["run", "--config", "decision.json", "--no-weave", "--progress", "off"], dir, {
        K: "test-key",
      });
      expect(other.res.code, other.res.stderr).toBe(0);
      expect(other.loaded.some(zod)).toBe(true);
    } finally {
      await emu.close();
    }
  });
});

/**
 * Runs the CLI with every resolved module URL logged (test/helpers/import-log.mjs). The CLI is a
 * bundle (scripts/build-cli.mjs): each chunk it loads stands for the modules bundled into it,
 * listed in the bundle's metafile, and is reported as those modules' dist/ and node_modules URLs.
 */
async function withImportLog(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ res: CliResult; loaded: string[] }> {
  const log = join(cwd, `imports-${args.join("_").replace(/[^\w.-]/g, "")}-${Date.now()}.txt`);
  const res = await runCli(args, {
    cwd,
    env: { ...env, NODE_OPTIONS: `--import=${IMPORT_LOG}`, BAKEOFF_IMPORT_LOG: log },
  });
  const urls = (await readFile(log, "utf8").catch(() => "")).split("\n").filter((u) => u !== "");
  const chunks = await bundleChunks();
  return { res, loaded: urls.flatMap((u) => chunks.get(u) ?? [u]) };
}

/** Chunk URL → the URLs of the modules it holds, from dist/cli-bundle/meta.json (read once). */
let chunksOnce: Promise<Map<string, string[]>> | undefined;
function bundleChunks(): Promise<Map<string, string[]>> {
  chunksOnce ??= readBundleChunks();
  return chunksOnce;
}

async function readBundleChunks(): Promise<Map<string, string[]>> {
  const meta = JSON.parse(await readFile(join(REPO, "dist", "cli-bundle", "meta.json"), "utf8")) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const out = new Map<string, string[]>();
  for (const [chunk, { inputs }] of Object.entries(meta.outputs)) {
    if (!chunk.endsWith(".js")) continue;
    const modules = Object.keys(inputs).map(
      (input) => pathToFileURL(join(REPO, input.replace(/^src\/(.*)\.ts$/, "dist/$1.js"))).href,
    );
    out.set(pathToFileURL(join(REPO, chunk)).href, modules);
  }
  expect(out.size, "the bundle's metafile lists its chunks").toBeGreaterThan(5);
  return out;
}

/** yargs and what it depends on: all that help and --version may load from node_modules. */
const YARGS_CLOSURE = new Set([
  "yargs",
  "yargs-parser",
  "cliui",
  "y18n",
  "escalade",
  "get-caller-file",
  "string-width",
  "strip-ansi",
  "ansi-regex",
  "ansi-styles",
  "wrap-ansi",
  "emoji-regex",
  "get-east-asian-width",
]);

/** bakeoff's own modules help needs: the entry point, the registry, the command descriptors. */
const HELP_MODULES =
  /\/dist\/(cli\.js|cli\/command\.js|cli\/commands\/[\w-]+\.js|cli\/common-options\.js|cli\/locations\.js|cli\/io\.js|errors\.js|util\/(env-info|terminal-text)\.js)$/;

/** Every loaded module a help screen should not need (empty when start-up stays lean). */
function beyondHelp(loaded: string[]): string[] {
  const extra = new Set<string>();
  for (const url of loaded) {
    if (!url.startsWith("file:")) continue; // node: built-ins
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) {
      if (!YARGS_CLOSURE.has(pkg[1]!)) extra.add(pkg[1]!);
    } else if (url.includes("/dist/") && !HELP_MODULES.test(url)) extra.add(url.replace(/.*\/dist\//, "dist/"));
  }
  return [...extra].sort();
}

describe("usage errors: one line, exit 2, a suggestion where one fits", () => {
  it("suggests commands and options, names typed option errors", async () => {
    const dir = await tempDir();
    expectOneLineUsageError(await runCli(["runn"], { cwd: dir }), /unknown command "runn"; did you mean "run"\?/);
    expectOneLineUsageError(await runCli(["histroy"], { cwd: dir }), /did you mean "history"\?/);
    expectOneLineUsageError(
      await runCli(["run", "--lmit", "3"], { cwd: dir }),
      /unknown option --lmit \(did you mean --limit\?\)/,
    );
    expectOneLineUsageError(
      await runCli(["compare", "a", "b", "--fail-onn", "x"], { cwd: dir }),
      /unknown option --fail-onn \(did you mean --fail-on\?\)/,
    );
    expectOneLineUsageError(
      await runCli(["run", "--limit", "abc"], { cwd: dir }),
      /--limit expects a number, got "abc"/,
    );
    expectOneLineUsageError(
      await runCli(["history", "--last=ten"], { cwd: dir }),
      /--last expects a number, got "ten"/,
    );
    expectOneLineUsageError(await runCli(["run", "--limit"], { cwd: dir }), /--limit needs a value/);
    expectOneLineUsageError(
      await runCli(["run", "--limit", "0", "--dataset", "x.jsonl"], { cwd: dir }),
      /--limit must be a whole number of at least 1 \(got 0\)/,
    );
    expectOneLineUsageError(
      await runCli(["run", "--progress", "loud"], { cwd: dir }),
      /Given: "loud", Choices: "auto", "bar", "lines", "off"/,
    );
    expectOneLineUsageError(await runCli(["report"], { cwd: dir }), /missing argument: bakeoff report <run>/);
    expectOneLineUsageError(await runCli([], { cwd: dir }), /name a command: run, init/);
  });

  it("expected failures are one line with exit 2: busy port, unreadable config or dataset, missing run", async () => {
    const dir = await tempDir();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      expectOneLineUsageError(
        await runCli(["serve", "--port", String(port)], { cwd: dir }),
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use.*--port`),
      );
    } finally {
      busy.close();
    }
    await mkdir(join(dir, "adir.json"));
    expectOneLineUsageError(
      await runCli(["validate", "--config", "adir.json"], { cwd: dir }),
      /adir\.json: .*cannot read it \(EISDIR\)/,
    );
    expectOneLineUsageError(
      await runCli(["validate", "--config", "nope.json"], { cwd: dir }),
      /nope\.json: .*file not found/,
    );
    expectOneLineUsageError(
      await runCli(["run", "--dataset", "adir.json", "--no-weave"], { cwd: dir }),
      /adir\.json: is a directory, not a regular file/,
    );
    await mkdir(join(dir, "d.jsonl"));
    expectOneLineUsageError(
      await runCli(["run", "--dataset", "d.jsonl", "--no-weave"], { cwd: dir }),
      /d\.jsonl: is a directory/,
    );
    expectOneLineUsageError(await runCli(["report", "nope"], { cwd: dir }), /run "nope" not found/);
    expectOneLineUsageError(await runCli(["open"], { cwd: dir }), /"latest": there are only 0 runs/);
    expectOneLineUsageError(await runCli(["compare", "latest~1", "latest"], { cwd: dir }), /there are only 0 runs/);
  });
});

describe("runs, open and the one meaning of --out", () => {
  it("runs lists id, datasets by name, models, status and headline; open prints the report path; --out and outputDir agree", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, "qa.jsonl"),
      '{"id":"a","prompt":"What is 2 + 3?","expected":"5"}\n{"id":"b","prompt":"What is 6 * 7?","expected":"42"}\n',
    );
    const quiet = ["--no-weave", "--progress", "off"];
    expect(
      (await runCli(["run", "--dataset", "qa.jsonl", "--out", "elsewhere", "--run-id", "one", ...quiet], { cwd: dir }))
        .code,
    ).toBe(0);
    expect(
      (
        await runCli(
          ["run", "--dataset", "qa.jsonl", "--models", "large", "--out", "elsewhere", "--run-id", "two", ...quiet],
          { cwd: dir },
        )
      ).code,
    ).toBe(0);
    expect(await readdir(join(dir, "elsewhere"))).toEqual(expect.arrayContaining(["one", "two"]));

    const runs = await runCli(["runs", "--out", "elsewhere"], { cwd: dir });
    expect(runs.code).toBe(0);
    const lines = runs.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+STARTED\s+STATUS\s+DATASETS\s+MODELS/);
    expect(lines[1]).toMatch(/^two\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+complete\s+qa\s+large numeric \d\.\d{3}$/);
    expect(lines[2]).toMatch(/^one\s+.*complete\s+qa\s+small numeric \d\.\d{3}, large numeric \d\.\d{3}$/);
    const json = (await runCli(["runs", "--out", "elsewhere", "--json", "--last", "1"], { cwd: dir })).stdout
      .trim()
      .split("\n");
    expect(json.map((l) => (JSON.parse(l) as { runId: string }).runId)).toEqual(["two"]);

    // Nothing in ./results: --out is where runs live for every command.
    const none = await runCli(["runs"], { cwd: dir });
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no runs in results/);

    const open = await runCli(["open", "--out", "elsewhere"], { cwd: dir });
    expect(open.code).toBe(0);
    expect(open.stdout).toBe(`${join(dir, "elsewhere", "two", "report.html")}\n`);
    const openOne = await runCli(["open", "latest~1", "--out", "elsewhere", "--print", "--file", "md"], { cwd: dir });
    expect(openOne.stdout).toBe(`${join(dir, "elsewhere", "one", "report.md")}\n`);
    const report = await runCli(["report", "one", "--out", "elsewhere"], { cwd: dir });
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(join("elsewhere", "one", "report.html"));

    // With a config, its outputDir is the default --out for every command.
    await writeFile(
      join(dir, "eval.config.json"),
      JSON.stringify({
        outputDir: "elsewhere",
        datasets: [{ path: "qa.jsonl" }],
        models: [{ name: "small", endpoint: "emulator://small" }],
      }),
    );
    const viaConfig = await runCli(["runs"], { cwd: dir });
    expect(viaConfig.stdout).toMatch(/^two\s/m);
    expect((await runCli(["open", "--print"], { cwd: dir })).stdout).toBe(
      `${join(dir, "elsewhere", "two", "report.html")}\n`,
    );
    const history = await runCli(["history"], { cwd: dir });
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/two/);
  });
});
