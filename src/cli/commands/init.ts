/** `bakeoff init`: a commented starter config (and a sample dataset, unless --dataset names one). */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ExitCode, UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { ownDataOptions } from "../common-options.js";

/** A few GSM8K-style rows the built-in emulated models can answer (see datasets/README.md). */
const SAMPLE_ROWS = [
  { id: "s01", question: "What is 17 + 25?", answer: "42" },
  { id: "s02", question: "Calculate 144 / 12.", answer: "12" },
  { id: "s03", question: "What is 12 * (3 + 4) - 5?", answer: "79" },
  {
    id: "s04",
    question: "Sam has 12 apples. He gives away 5 apples. How many apples does Sam have now?",
    answer: "Sam had 12 and gave away 5, so 12 - 5 = 7.\n#### 7",
  },
  {
    id: "s05",
    question: "Mia has 8 stickers. She buys 9 more stickers. How many stickers does Mia have?",
    answer: "8 + 9 = 17\n#### 17",
  },
  { id: "s06", question: "What is 240 / 8 + 6?", answer: "36" },
  { id: "s07", question: "What is 1,250 - 375?", answer: "875" },
  { id: "s08", question: "What is 7 * 8 * 2?", answer: "112" },
];

const options = {
  config: {
    alias: "c",
    type: "string",
    default: "eval.config.jsonc",
    describe: "File to write (comments are allowed in .json and .jsonc config files)",
  },
  force: { type: "boolean", default: false, describe: "Overwrite the config file if it exists" },
  ...ownDataOptions,
} as const;

export default defineCommand({
  description:
    "Writes a commented starter config: two built-in emulated models (no keys, no network), a dataset and $schema for editor completion. " +
    "Without --dataset it also writes datasets/sample.jsonl; with --dataset FILE the config is for that file, with its columns and scorer guessed from the data (or given with --prompt, --expected, --scorer, ...).",
  options,
  examples: [
    ["$0 init && $0 run", "A starter config with a sample dataset, then a first run"],
    ["$0 init --dataset gsm8k.jsonl", "A config for your file (columns and scorer guessed)"],
    [
      "$0 init --dataset qa.csv --prompt q --expected a --scorer exact --config qa.config.jsonc",
      "Say which columns and scorer",
    ],
  ],
  run: async (args, io) => {
    const [{ configJsonSchema }, { loadConfig }, { compactJson, ownDatasets, printOwnData }] = await Promise.all([
      import("../../config/json-schema.js"),
      import("../../config/load.js"),
      import("../own-data.js"),
    ]);
    const file = resolve(args.config);
    if (existsSync(file) && !args.force)
      throw new UsageError(`${args.config} already exists; pass --force to overwrite it, or --config OTHER.jsonc`);
    const dir = dirname(file);
    const written: string[] = [];
    let entries: Record<string, unknown>[];
    if (args.dataset && args.dataset.length > 0) {
      const own = await ownDatasets(args, { relativeTo: dir });
      printOwnData(own, { out: () => {}, err: io.err });
      entries = own.map((o) => o.entry);
    } else {
      const sample = join(dir, "datasets", "sample.jsonl");
      if (!existsSync(sample)) {
        await mkdir(dirname(sample), { recursive: true });
        await writeFile(sample, SAMPLE_ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n", "utf8");
        written.push(sample);
      }
      entries = [
        {
          path: "datasets/sample.jsonl",
          columns: { prompt: "question", expected: "answer" },
          scorers: [{ type: "numeric" }, { type: "finish_stop" }],
        },
      ];
    }
    const schemaFile = join(dir, "eval.config.schema.json");
    if (!existsSync(schemaFile)) {
      await writeFile(schemaFile, JSON.stringify(configJsonSchema(), null, 2) + "\n", "utf8");
      written.push(schemaFile);
    }
    await mkdir(dir, { recursive: true });
    await writeFile(file, starterConfig(entries, compactJson), "utf8");
    written.unshift(file);
    // What we wrote must load: a broken starter config would be the worst first impression.
    await loadConfig(file);
    for (const f of written) io.out(`wrote ${relative(process.cwd(), f) || basename(f)}`);
    const configArg =
      basename(file) === "eval.config.jsonc" && dir === process.cwd()
        ? ""
        : ` --config ${relative(process.cwd(), file)}`;
    io.out(`Next: bakeoff validate${configArg} && bakeoff run${configArg}`);
    return ExitCode.ok;
  },
});

/** The config text, with comments explaining each part (JSONC: the loader accepts comments). */
export function starterConfig(
  datasets: Record<string, unknown>[],
  compactJson: (value: unknown, indent: string) => string,
): string {
  const ds = datasets.map((d) => `    ${compactJson(d, "    ")}`).join(",\n");
  return `// bakeoff config (JSON with comments). Every key: README "Config reference", or hover in an editor ($schema).
{
  "$schema": "./eval.config.schema.json",
  // Run directories go here (relative to this file); each holds predictions.jsonl and the reports.
  "outputDir": "results",
  // Most model calls in flight at once, over all models.
  "concurrency": 8,
  // Times each row is sent to each model (more than 1 gives pass@k and steadier statistics).
  "trials": 1,
  "datasets": [
    // One entry per file (.jsonl, .csv, .tsv). "columns" says which column holds the prompt,
    // expected answer, id and system message (defaults: prompt, expected, id, system);
    // "template" builds the prompt from several columns instead: "Q: {{question}}\\nA:".
    // Scorers: numeric, exact, includes, regex, similarity, json_valid, json_schema, length,
    // finish_stop, latency, llm_judge, custom (options: README "Scorers").
${ds}
  ],
  "models": [
    // emulator://small and emulator://large are built-in simulated models: no keys, no network.
    // A real endpoint reads its key from the environment variable named in apiKeyEnv, e.g.
    // { "name": "gpt4o", "endpoint": "https://my-res.openai.azure.com/openai/deployments/gpt-4o", "apiKeyEnv": "AOAI_KEY", "apiVersion": "2024-10-21" },
    { "name": "small", "endpoint": "emulator://small", "params": { "temperature": 0, "seed": 7 }, "pricing": { "inputPerMillion": 0.15, "outputPerMillion": 0.6 } },
    { "name": "large", "endpoint": "emulator://large", "params": { "temperature": 0, "seed": 7 }, "pricing": { "inputPerMillion": 2.5, "outputPerMillion": 10 } },
  ],
  // Gates decide the exit code in CI (exit 1 when one fails); README "Nightly and CI" shows
  // the forms, and --fail-on "regression:numeric>2" adds one for a single run.
  "gates": [],
  // Log runs to W&B Weave: set "project": "entity/project" and export WANDB_API_KEY.
  "weave": { "enabled": true },
}
`;
}
