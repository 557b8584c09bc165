/**
 * Rich rows through the whole run: a JSONL row carrying a conversation (with an image part and a
 * tool round trip), per-row params (tools, max_tokens, response_format), dataset params with a
 * json_schema from a file, and the tool_call scorer on the recorded calls, on both providers.
 * Plus the one-line errors a bad row gets (file, line, JSON path).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDataset } from "../src/dataset/index.js";
import { DatasetSpec } from "../src/config/schema.js";
import {
  parseConfig,
  planRun,
  readJournal,
  runEvaluation,
  PREDICTIONS_FILE,
  type ConfigInput,
  type PredictionRecord,
} from "../src/index.js";
import { tempDir } from "./helpers/tmp.js";

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather in a given location",
    parameters: {
      type: "object",
      properties: { location: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["location"],
    },
  },
};
const IMAGE =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const rows = [
  {
    id: "tool",
    prompt: "What's the weather like in Boston?",
    params: { tools: [WEATHER_TOOL] },
    expected: '{"name":"get_weather","arguments":{"location":"Boston"}}',
  },
  {
    id: "conversation",
    messages: [
      { role: "system", content: "Answer with the number only." },
      {
        role: "user",
        content: [
          { type: "text", text: "What is 6 * 7?" },
          { type: "image_url", image_url: { url: IMAGE, detail: "low" } },
        ],
      },
    ],
    expected: "42",
  },
  {
    id: "tool-result",
    messages: [
      { role: "user", content: "What is 2 + 2?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "calc", arguments: { expr: "2+2" } } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "4" },
      { role: "user", content: "So what is 2 + 2?" },
    ],
    params: { tools: [WEATHER_TOOL] },
    expected: "4",
  },
  { id: "short", prompt: "What is 100 + 23?", params: { max_tokens: 2 }, expected: "123" },
];

async function setup() {
  const dir = await tempDir();
  await mkdir(join(dir, "schemas"));
  await writeFile(
    join(dir, "schemas", "answer.json"),
    JSON.stringify({ type: "object", properties: { answer: { type: "string" } }, required: ["answer"] }),
  );
  const file = join(dir, "rich.jsonl");
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return { dir, file };
}

describe("rich rows", () => {
  it("sends conversations, images, tools and per-row params, records tool calls and scores them, on both providers", async () => {
    const { dir, file } = await setup();
    const config: ConfigInput = {
      datasets: [{ path: file, scorers: [{ type: "tool_call" }, { type: "numeric" }] }],
      models: [
        { name: "legacy", provider: "azure-ai-inference", endpoint: "emulator://sim" },
        { name: "v1", provider: "openai", api: "responses", endpoint: "emulator://sim", model: "sim" },
      ] as never,
      emulator: { models: { sim: { accuracy: 1, latency: { medianMs: 1, p95Ms: 2 } } } },
    };
    const plan = await planRun(parseConfig(config, { baseDir: dir }), { env: {} });
    const result = await runEvaluation({ plan, outputDir: join(dir, "results"), log: () => {} });
    const recs = new Map<string, PredictionRecord>();
    for await (const r of readJournal(join(result.runDir, PREDICTIONS_FILE))) recs.set(`${r.model}/${r.rowId}`, r);
    for (const model of ["legacy", "v1"]) {
      const tool = recs.get(`${model}/tool`)!;
      expect(tool.output.error).toBeUndefined();
      expect(tool.output.finishReason).toBe("tool_calls");
      expect(tool.output.toolCalls).toEqual([
        { id: expect.stringMatching(/^call_/), name: "get_weather", arguments: '{"location":"Boston"}' },
      ]);
      expect(tool.scores["tool_call"]).toMatchObject({ value: 1, pass: true });

      const conv = recs.get(`${model}/conversation`)!;
      expect(conv.input.messages).toEqual(rows[1]!.messages);
      expect(conv.output.text).toBe("42");
      expect(conv.scores["numeric"]).toMatchObject({ value: 1 });

      // With the tool's result in the conversation, the model answers in text.
      const answered = recs.get(`${model}/tool-result`)!;
      expect(answered.output.error).toBeUndefined();
      expect(answered.output.toolCalls).toBeUndefined();
      expect(answered.input.messages[1]!.tool_calls![0]!.function.arguments).toBe('{"expr":"2+2"}');

      expect(recs.get(`${model}/short`)!.output.finishReason).toBe("length");
    }
  });

  it("applies dataset params with a json_schema from a file, rows winning", async () => {
    const { file } = await setup();
    const spec = DatasetSpec.parse({
      path: file,
      params: {
        temperature: 0.5,
        max_tokens: 50,
        response_format: { type: "json_schema", json_schema: { name: "answer", schemaFile: "schemas/answer.json" } },
      },
    });
    const got = [];
    for await (const row of openDataset(spec)) got.push(row);
    expect(got[0]!.params).toMatchObject({
      temperature: 0.5,
      tools: [WEATHER_TOOL],
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object", required: ["answer"] } },
      },
    });
    expect(got[3]!.params?.max_tokens).toBe(2);
  });

  it("rejects bad rows with the file, line and JSON path", async () => {
    const dir = await tempDir();
    const cases: Array<[unknown, string]> = [
      [
        { messages: [{ role: "robot", content: "hi" }] },
        'bad.jsonl:1 (column "messages"): messages[0].role: must be system, developer, user, assistant or tool',
      ],
      [
        { messages: [{ role: "user", content: [{ type: "video" }] }] },
        'messages[0].content[0].type: unknown content part type "video"',
      ],
      [
        {
          messages: [
            { role: "tool", content: "4" },
            { role: "user", content: "x" },
          ],
        },
        "messages[0].tool_call_id: a tool message needs the id of the call it answers",
      ],
      [{ prompt: "x", params: { temperature: 7 } }, 'bad.jsonl:1 (column "params"): params.temperature:'],
      [{ prompt: "x", params: { tools: [{ type: "function", function: {} }] } }, "params.tools.0.function.name:"],
    ];
    for (const [row, message] of cases) {
      const file = join(dir, "bad.jsonl");
      await writeFile(file, JSON.stringify(row) + "\n");
      const err = await (async () => {
        for await (const _ of openDataset(DatasetSpec.parse({ path: file }))) void _;
      })().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toContain(message);
      expect(err?.message.split("\n")).toHaveLength(1);
    }
  });
});

describe("rich rows in CSV", () => {
  it("reads a mapped params column as JSON and leaves an unmapped 'messages' column alone", async () => {
    const dir = await tempDir();
    const file = join(dir, "rows.csv");
    await writeFile(
      file,
      'id,prompt,system,messages,params\nr1,What is 2 + 2?,Be brief.,just a note,"{""max_tokens"": 5}"\n',
    );
    const plain = [];
    for await (const row of openDataset(DatasetSpec.parse({ path: file }))) plain.push(row);
    // Unmapped: a CSV's "messages"/"params" text columns are ordinary columns.
    expect(plain[0]!.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 2 + 2?" },
    ]);
    expect(plain[0]!.params).toBeUndefined();
    const mapped = [];
    for await (const row of openDataset(DatasetSpec.parse({ path: file, columns: { params: "params" } })))
      mapped.push(row);
    expect(mapped[0]!.params).toEqual({ max_tokens: 5 });
  });
});
