import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetSpec } from "../src/config/schema.js";
import {
  compileTemplate,
  hashDataset,
  openDataset,
  readCsv,
  readJsonl,
  renderTemplate,
  validateDataset,
  type RawRecord,
  type SkippedRow,
} from "../src/dataset/index.js";
import { DatasetError } from "../src/errors.js";
import type { Row } from "../src/types.js";

// Copies of the public files live in the repository (test/fixtures/datasets/README.md says where from).
const GSM8K = fileURLToPath(new URL("./fixtures/datasets/gsm8k-test.jsonl", import.meta.url));
const TRUTHFULQA = fileURLToPath(new URL("./fixtures/datasets/truthfulqa.csv", import.meta.url));

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bakeoff-dataset-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a fixture with a unique name (keeping the extension) and returns its path. */
async function fixture(name: string, content: string | Buffer): Promise<string> {
  const file = join(dir, `${counter++}-${name}`);
  await writeFile(file, content);
  return file;
}

/** A spec with the schema's defaults, as the config loader would produce it. */
function spec(path: string, extra: Partial<DatasetSpec> = {}): DatasetSpec {
  return {
    path,
    scorers: [],
    maxPromptChars: 100_000,
    ...extra,
    columns: { id: "id", prompt: "prompt", system: "system", expected: "expected", ...extra.columns },
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Runs `fn`, expects a DatasetError, and returns it. */
async function datasetError(fn: () => Promise<unknown>): Promise<DatasetError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error("expected a DatasetError, got none");
}

const lines = (records: RawRecord[]) => records.map((r) => r.line);

describe("readCsv", () => {
  it("drops a UTF-8 BOM from the first header", async () => {
    const file = await fixture("bom.csv", "\ufeffType,prompt\nA,hello\n");
    const records = await collect(readCsv(file, {}));
    expect(records).toEqual([{ line: 2, values: { Type: "A", prompt: "hello" } }]);
  });

  it("reads CRLF files, quoted commas and quotes", async () => {
    const file = await fixture("crlf.csv", 'a,b\r\n"x, y","say ""hi"""\r\n3,4\r\n');
    const records = await collect(readCsv(file, {}));
    expect(records).toEqual([
      { line: 2, values: { a: "x, y", b: 'say "hi"' } },
      { line: 3, values: { a: "3", b: "4" } },
    ]);
  });

  it("reports the start line of rows after multi-line fields (LF and CRLF inside quotes)", async () => {
    const lf = await fixture("multi.csv", 'a,b\n1,"two\nlines"\n2,x\n"3\n\n\nmore",y\n4,z\n');
    const lfRecords = await collect(readCsv(lf, {}));
    expect(lfRecords.map((r) => r.values.a)).toEqual(["1", "2", "3\n\n\nmore", "4"]);
    expect(lines(lfRecords)).toEqual([2, 4, 5, 9]);

    // csv-parse itself counts a CRLF inside a quoted field twice; our lines must not drift.
    const crlf = await fixture("multi-crlf.csv", 'a,b\r\n1,"two\r\nlines"\r\n2,x\r\n"3\r\n4\r\n5",y\r\n6,z\r\n');
    expect(lines(await collect(readCsv(crlf, {})))).toEqual([2, 4, 5, 8]);
  });

  it("skips blank lines and still counts them", async () => {
    const file = await fixture("blank.csv", "\na,b\n\n1,2\n\n\n3,4\n\n");
    const records = await collect(readCsv(file, {}));
    expect(lines(records)).toEqual([4, 7]);
  });

  it("takes a custom delimiter", async () => {
    const file = await fixture("tabs.txt", 'a\tb\nx,1\t"y\tz"\n');
    const records = await collect(readCsv(file, { delimiter: "\t" }));
    expect(records).toEqual([{ line: 2, values: { a: "x,1", b: "y\tz" } }]);
  });

  it("rejects a ragged row with file, line and counts", async () => {
    const file = await fixture("ragged.csv", 'a,b,c,d\n1,2,3,4\n"multi\nline",2,3,4\n1,2,3,4,5\n');
    const err = await datasetError(() => collect(readCsv(file, {})));
    expect(err.line).toBe(5);
    expect(err.message).toBe(`${file}:5: row has 5 fields but the header has 4`);
  });

  it("passes ragged rows to onInvalid and keeps reading", async () => {
    const file = await fixture("ragged-skip.csv", 'a,b\n1,2\n1\n"x\ny",2,3\n4,5\n');
    const invalid: DatasetError[] = [];
    const records = await collect(readCsv(file, { onInvalid: (e) => invalid.push(e) }));
    expect(lines(records)).toEqual([2, 6]);
    expect(invalid.map((e) => [e.line, e.reason])).toEqual([
      [3, "row has 1 fields but the header has 2"],
      [4, "row has 3 fields but the header has 2"],
    ]);
  });

  it("reports an unclosed quote at the line where the record starts", async () => {
    const file = await fixture("unclosed.csv", 'a,b\n1,2\n3,"never closed\n4,5\n6,7\n');
    const err = await datasetError(() => collect(readCsv(file, {})));
    expect(err.line).toBe(3);
    expect(err.message).toContain(`${file}:3`);
    expect(err.reason).toMatch(/^unclosed quote starting at line 3/);
  });

  it("explains a stray quote in an unquoted field, naming the column", async () => {
    const file = await fixture("stray.csv", 'a,b\n1,2\n3,x"y"\n');
    const err = await datasetError(() => collect(readCsv(file, {})));
    expect(err.line).toBe(3);
    expect(err.column).toBe("b");
    expect(err.reason).toMatch(/quote inside an unquoted field/);
  });

  it("reports problems in file order: a ragged row before a later quote error or bad byte", async () => {
    const quote = await fixture("order.csv", 'a,b\n1,2\n1,2,3\n4,5\n6,"open\n');
    expect((await datasetError(() => collect(readCsv(quote, {})))).line).toBe(3);
    const invalid: number[] = [];
    const err = await datasetError(() => collect(readCsv(quote, { onInvalid: (e) => invalid.push(e.line ?? -1) })));
    expect([invalid, err.line]).toEqual([[3], 5]);

    const bytes = Buffer.concat([Buffer.from("a,b\n1,2\n1\n4,bad "), Buffer.from([0xc3, 0x28]), Buffer.from("\n")]);
    const utf8 = await fixture("order-utf8.csv", bytes);
    expect((await datasetError(() => collect(readCsv(utf8, {})))).line).toBe(3);
  });

  it("rejects a header that names a column twice", async () => {
    const file = await fixture("dup-header.csv", "a,b,a\n1,2,3\n");
    const err = await datasetError(() => collect(readCsv(file, {})));
    expect(err.message).toBe(`${file}:1: column "a" appears twice in the header`);
  });

  it("reports invalid UTF-8 with its line, even inside a quoted multi-line field", async () => {
    const bytes = Buffer.concat([
      Buffer.from('a,b\n1,"caf\xc3\xa9 ok\nline"\n2,"x\n'), // é as proper UTF-8
      Buffer.from([0x63, 0x61, 0x66, 0xe9]), // "caf" + Latin-1 é: invalid
      Buffer.from('"\n3,4\n'),
    ]);
    const file = await fixture("latin1.csv", bytes);
    const err = await datasetError(() => collect(readCsv(file, {})));
    expect(err.line).toBe(5);
    expect(err.reason).toMatch(/^invalid UTF-8 at line 5\b/);
  });

  it("accepts multi-byte characters split across read chunks", async () => {
    // 64 KiB is the read stream's chunk size: put a 4-byte emoji across the boundary.
    const prefix = "a,b\n1,";
    const pad = "x".repeat(64 * 1024 - Buffer.byteLength(prefix) - 2);
    const file = await fixture("split.csv", `${prefix}${pad}😀\n2,ü\n`);
    const records = await collect(readCsv(file, {}));
    expect(records.map((r) => r.values.b)).toEqual([`${pad}😀`, "ü"]);
  });

  it("fails with 'file not found' and the path as given", async () => {
    const missing = join(dir, "nope.csv");
    const err = await datasetError(() => collect(readCsv(missing, {})));
    expect(err.message).toBe(`${missing}: file not found`);
  });
});

describe("readJsonl", () => {
  it("skips blank lines, accepts CRLF and a BOM, and keeps physical line numbers", async () => {
    const file = await fixture("blank.jsonl", '\ufeff{"a":1}\r\n\r\n   \n{"a":2}\n\n{"a":3}');
    const records = await collect(readJsonl(file));
    expect(records).toEqual([
      { line: 1, values: { a: 1 } },
      { line: 4, values: { a: 2 } },
      { line: 6, values: { a: 3 } },
    ]);
  });

  it("reports a JSON syntax error with line and column", async () => {
    const file = await fixture("bad.jsonl", '{"a":1}\n{"a":2}\n{"prompt": "x",}\n');
    const err = await datasetError(() => collect(readJsonl(file)));
    expect(err.line).toBe(3);
    expect(err.column).toBe(16);
    expect(err.message).toBe(`${file}:3:16: invalid JSON: expected a double-quoted property name, found "}"`);
  });

  it("finds the column where V8 gives no position", async () => {
    // V8 says only "Unexpected token '}', ... is not valid JSON" for this one.
    const file = await fixture("nopos.jsonl", '{"a": }\n');
    const err = await datasetError(() => collect(readJsonl(file)));
    expect([err.line, err.column]).toEqual([1, 7]);
    expect(err.reason).toBe('invalid JSON: expected a JSON value, found "}"');
  });

  it("rejects lines that are not objects", async () => {
    for (const [text, kind] of [
      ["[1,2]", "an array"],
      ["42", "a number"],
      ['"s"', "a string"],
      ["null", "null"],
    ] as const) {
      const file = await fixture("nonobject.jsonl", `{"a":1}\n${text}\n`);
      const err = await datasetError(() => collect(readJsonl(file)));
      expect(err.message).toBe(`${file}:2: expected a JSON object, got ${kind}`);
    }
  });

  it("passes bad lines to onInvalid and keeps reading", async () => {
    const file = await fixture("skip.jsonl", '{"a":1}\n{oops\n[]\n{"a":4}\n');
    const invalid: number[] = [];
    const records = await collect(readJsonl(file, { onInvalid: (e) => invalid.push(e.line ?? -1) }));
    expect(lines(records)).toEqual([1, 4]);
    expect(invalid).toEqual([2, 3]);
  });

  it("reports invalid UTF-8 with its line", async () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"ok"}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const file = await fixture("bad-utf8.jsonl", bytes);
    const err = await datasetError(() => collect(readJsonl(file)));
    expect(err.line).toBe(2);
    expect(err.reason).toMatch(/^invalid UTF-8 at line 2\b/);
  });

  it("joins a line split across read chunks", async () => {
    const long = "y".repeat(200_000);
    const file = await fixture("long.jsonl", `{"a":"${long}"}\n{"a":"é"}\n`);
    const records = await collect(readJsonl(file));
    expect(records.map((r) => r.values.a)).toEqual([long, "é"]);
    expect(lines(records)).toEqual([1, 2]);
  });
});

describe("readJsonl over many read chunks", () => {
  /**
   * What readJsonl must give, computed the simplest way: the whole file split at newline bytes,
   * each line on its own (CR, the BOM on line 1, UTF-8 check, blank, JSON, object).
   */
  function reference(bytes: Buffer): { records: RawRecord[]; invalid: string[]; fatal?: string } {
    const records: RawRecord[] = [];
    const invalid: string[] = [];
    let start = 0;
    let line = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start);
      if (end === -1) end = bytes.length;
      let b = bytes.subarray(start, end);
      start = end + 1;
      line++;
      if (b.length > 0 && b[b.length - 1] === 13) b = b.subarray(0, -1);
      if (line === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
      const text = new TextDecoder("utf-8", { fatal: false }).decode(b);
      if (!Buffer.from(text, "utf8").equals(b)) return { records, invalid, fatal: `${line}` };
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        invalid.push(`${line}`);
        continue;
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) invalid.push(`${line}`);
      else records.push({ line, values: value as Record<string, unknown> });
    }
    return { records, invalid };
  }

  /** Lines of every kind, some long enough to span read chunks (64 KB), multi-byte text at every offset. */
  function generate(seed: number, badUtf8At?: number): Buffer {
    let x = seed;
    const rnd = (n: number) => {
      x = (x * 48271) % 2147483647;
      return x % n;
    };
    const parts: Buffer[] = [Buffer.from(seed % 2 === 0 ? "\ufeff" : "")];
    const words = ["é", "日本語", "🙂", "a", "\\u00e9", "tab\\t", " "];
    for (let i = 0; i < 1500; i++) {
      const kind = rnd(40);
      const eol = rnd(3) === 0 ? "\r\n" : "\n";
      let text: string;
      if (kind === 0) text = "";
      else if (kind === 1) text = "   \t";
      else if (kind === 2) text = "{oops";
      else if (kind === 3) text = "[1,2]";
      else if (kind === 4) text = JSON.stringify({ id: `r${i}`, long: "é".repeat(10_000 + rnd(30_000)) });
      else {
        let s = "";
        for (let k = rnd(12); k >= 0; k--) s += words[rnd(words.length)];
        text = JSON.stringify({ id: `r${i}`, prompt: s, n: i });
      }
      parts.push(Buffer.from(text + (i === 1499 && seed % 3 === 0 ? "" : eol)));
      if (badUtf8At === i) parts.push(Buffer.from([0x7b, 0xff, 0x7d, 0x0a]));
    }
    return Buffer.concat(parts);
  }

  it("gives the records and problems of a line-by-line read, with exact line numbers", async () => {
    for (const seed of [1, 2, 3]) {
      const bytes = generate(seed);
      expect(bytes.length).toBeGreaterThan(3 * 64 * 1024);
      const file = await fixture("chunks.jsonl", bytes);
      const want = reference(bytes);
      const invalid: string[] = [];
      const records = await collect(readJsonl(file, { onInvalid: (e) => invalid.push(`${e.line}`) }));
      expect(want.fatal).toBeUndefined();
      expect(invalid).toEqual(want.invalid);
      expect(records).toEqual(want.records);
    }
  });

  it("stops at invalid UTF-8 in a later chunk after handing out every record before it", async () => {
    const bytes = generate(4, 1000);
    const file = await fixture("chunks-bad.jsonl", bytes);
    const want = reference(bytes);
    expect(want.fatal).toBeDefined();
    const records: RawRecord[] = [];
    const err = await datasetError(async () => {
      for await (const r of readJsonl(file, { onInvalid: () => {} })) records.push(r);
    });
    expect(`${err.line}`).toBe(want.fatal);
    expect(err.reason).toBe(`invalid UTF-8 at line ${want.fatal}; save the file as UTF-8`);
    expect(records).toEqual(want.records);
  });

  it("reports skipped rows in file order, bad JSON and bad rows interleaved", async () => {
    const file = await fixture(
      "order.jsonl",
      '{"id":"a","prompt":"x"}\n{"id":"b","prompt":""}\n{oops\n{"id":"a","prompt":"y"}\n[]\n{"id":"c","prompt":"z"}\n',
    );
    const skipped: number[] = [];
    const rows = await collect(openDataset(spec(file), { skipInvalidRows: true, onSkip: (s) => skipped.push(s.line) }));
    expect(skipped).toEqual([2, 3, 4, 5]);
    expect(rows.map((r) => r.id)).toEqual(["a", "c"]);
  });
});

describe("templates", () => {
  it("renders columns, whitespace inside braces, dotted paths into nested JSON, and non-strings as JSON", () => {
    const t = compileTemplate("Q: {{question}}\nSrc: {{ meta.source }} ({{meta.tags}}) n={{n}} none={{missing_value}}");
    const out = t(
      { question: "2+2?", meta: { source: "web", tags: ["a", "b"] }, n: 3, missing_value: null },
      { file: "f.jsonl", line: 1 },
    );
    expect(out).toBe('Q: 2+2?\nSrc: web (["a","b"]) n=3 none=');
    expect(t.variables).toEqual(["question", "meta.source", "meta.tags", "n", "missing_value"]);
  });

  it("prefers an exact column name with a dot and allows spaces in names", () => {
    expect(
      renderTemplate("{{a.b}}|{{Best Answer}}", { "a.b": "flat", "Best Answer": "yes" }, { file: "f", line: 1 }),
    ).toBe("flat|yes");
  });

  it("keeps malformed placeholders as text", () => {
    expect(renderTemplate("{{}} {{ x", {}, { file: "f", line: 1 })).toBe("{{}} {{ x");
  });

  it("names the unknown variable, the file and line, and the available columns", () => {
    expect(() => renderTemplate("{{questoin}}", { question: "q", answer: "a" }, { file: "data.csv", line: 7 })).toThrow(
      "data.csv:7: template variable {{questoin}} is not a column; columns are: question, answer",
    );
    expect(() => renderTemplate("{{meta.nope}}", { meta: { source: "x" } }, { file: "d.jsonl", line: 2 })).toThrow(
      DatasetError,
    );
  });
});

describe("openDataset", () => {
  it("maps columns to rows: id, system (row wins), expected, vars, messages", async () => {
    const file = await fixture("map.csv", "id,prompt,system,expected,tag\nq1,Hi,,42,x\nq2,Yo,Be brief,,y\n");
    const rows = await collect(openDataset(spec(file, { system: "Default system" })));
    expect(rows).toEqual<Row[]>([
      {
        id: "q1",
        dataset: file.replace(/^.*\//, "").replace(/\.csv$/, ""),
        line: 2,
        messages: [
          { role: "system", content: "Default system" },
          { role: "user", content: "Hi" },
        ],
        expected: "42",
        vars: { id: "q1", prompt: "Hi", system: "", expected: "42", tag: "x" },
      },
      {
        id: "q2",
        dataset: file.replace(/^.*\//, "").replace(/\.csv$/, ""),
        line: 3,
        messages: [
          { role: "system", content: "Be brief" },
          { role: "user", content: "Yo" },
        ],
        vars: { id: "q2", prompt: "Yo", system: "Be brief", expected: "", tag: "y" },
      },
    ]);
  });

  it("uses spec.name, custom column names, and a template over every column (nested JSONL values too)", async () => {
    const file = await fixture("tmpl.jsonl", '{"q":"2+2?","meta":{"src":"web"},"n":1}\n');
    const [row] = await collect(
      openDataset(
        spec(file, {
          name: "maths",
          template: "{{q}} [{{meta.src}}] #{{n}}",
          columns: { id: "key" } as DatasetSpec["columns"],
        }),
      ),
    );
    expect(row?.dataset).toBe("maths");
    expect(row?.messages).toEqual([{ role: "user", content: "2+2? [web] #1" }]);
    expect(row?.vars).toEqual({ q: "2+2?", meta: '{"src":"web"}', n: "1" });
  });

  it("derives ids from the file name and line, the same on every read", async () => {
    const file = await fixture("noid.jsonl", '{"prompt":"a"}\n\n{"prompt":"b"}\n');
    const stem = file.replace(/^.*\//, "").replace(/\.jsonl$/, "");
    const first = (await collect(openDataset(spec(file)))).map((r) => r.id);
    const second = (await collect(openDataset(spec(file)))).map((r) => r.id);
    expect(first).toEqual([`${stem}:1`, `${stem}:3`]);
    expect(second).toEqual(first);
  });

  it("rejects a duplicate id naming both lines", async () => {
    const file = await fixture("dup.csv", "id,prompt\na,1\nb,2\na,3\n");
    const err = await datasetError(() => collect(openDataset(spec(file))));
    expect(err.message).toBe(`${file}:4: duplicate id "a" (first used at line 2)`);
  });

  it("rejects an empty prompt and a prompt over maxPromptChars", async () => {
    const empty = await fixture("empty.jsonl", '{"prompt":"ok"}\n{"prompt":"  \\n "}\n');
    expect((await datasetError(() => collect(openDataset(spec(empty))))).message).toBe(
      `${empty}:2: empty prompt (column "prompt")`,
    );
    const long = await fixture("long.csv", `prompt\nshort\n${"z".repeat(11)}\n`);
    expect((await datasetError(() => collect(openDataset(spec(long, { maxPromptChars: 10 }))))).message).toBe(
      `${long}:3: prompt has 11 characters, more than maxPromptChars (10)`,
    );
  });

  it("explains a missing prompt column with the columns there are and the config key", async () => {
    const file = await fixture("cols.csv", "\ufeffquestion,answer\nq,a\n");
    const err = await datasetError(() => collect(openDataset(spec(file), { index: 1 })));
    expect(err.message).toBe(
      `${file}:2: column "prompt" not found; columns are: question, answer. ` +
        "Map it with datasets[1].columns.prompt (or set datasets[1].template)",
    );
  });

  it("treats a missing CSV column as a file problem even when skipping invalid rows", async () => {
    const file = await fixture("cols-skip.csv", "question\nq\n");
    await datasetError(() => collect(openDataset(spec(file), { skipInvalidRows: true })));
    const tmpl = await fixture("tmpl-cols.csv", "question\nq\n");
    const err = await datasetError(() =>
      collect(openDataset(spec(tmpl, { template: "{{qestion}}" }), { skipInvalidRows: true })),
    );
    expect(err.message).toBe(`${tmpl}:2: template variable {{qestion}} is not a column; columns are: question`);
  });

  it("stops after spec.limit rows without reading what follows", async () => {
    // Line 4 is broken: with the limit at 2 it must never be parsed.
    const file = await fixture("limit.jsonl", '{"prompt":"a"}\n{"prompt":"b"}\n{"prompt":"c"}\n{broken\n');
    const rows = await collect(openDataset(spec(file, { limit: 2 })));
    expect(rows.map((r) => r.line)).toEqual([1, 2]);
    expect(await validateDataset(spec(file, { limit: 3 }))).toEqual({ rows: 3, skipped: 0 });
  });

  it("stops a CSV at the limit even when the rest of the already-read chunk is broken", async () => {
    const file = await fixture("limit.csv", 'prompt\na\nb\n"never closed\n');
    expect((await collect(openDataset(spec(file, { limit: 2 })))).map((r) => r.line)).toEqual([2, 3]);
    await datasetError(() => validateDataset(spec(file)));
  });

  it("skips invalid rows with skipInvalidRows and reports each to onSkip", async () => {
    const file = await fixture(
      "skip.jsonl",
      [
        '{"id":"a","prompt":"x"}',
        "{nope",
        '{"id":"b","prompt":""}',
        '{"id":"a","prompt":"y"}',
        '{"id":"c","prompt":"z"}',
        "7",
      ].join("\n"),
    );
    const skipped: SkippedRow[] = [];
    const rows = await collect(openDataset(spec(file), { skipInvalidRows: true, onSkip: (s) => skipped.push(s) }));
    expect(rows.map((r) => r.id)).toEqual(["a", "c"]);
    expect(skipped).toEqual([
      { file, line: 2, reason: 'invalid JSON: expected a double-quoted property name, found "n"' },
      { file, line: 3, reason: 'empty prompt (column "prompt")' },
      { file, line: 4, reason: 'duplicate id "a" (first used at line 1)' },
      { file, line: 6, reason: "expected a JSON object, got a number" },
    ]);
    expect(await validateDataset(spec(file), { skipInvalidRows: true })).toEqual({ rows: 2, skipped: 4 });
  });

  it("fails on the first problem by default, and validateDataset does the same", async () => {
    const file = await fixture("strict.csv", 'prompt\nok\n""\n');
    const err = await datasetError(() => validateDataset(spec(file)));
    expect(err.line).toBe(3);
  });

  it("validateDataset checks every row as reading it does, though it builds no row: same error, same line", async () => {
    const ok = '{"id":"a","prompt":"fine"}';
    const cases: [string, Partial<DatasetSpec>][] = [
      ['{"id":"b","prompt":"   "}', {}],
      ['{"id":"b","prompt":"far too long"}', { maxPromptChars: 5 }],
      ['{"id":"b","prompt":42}', {}],
      ['{"id":"b","question":"no prompt column"}', {}],
      ['{"id":"b","q":"x"}', { template: "Q: {{prompt}}" }],
      ['{"id":"b","messages":"[not json"}', { columns: { messages: "messages" } as DatasetSpec["columns"] }],
      ['{"id":"b","messages":[{"role":"wizard","content":"x"}]}', {}],
      ['{"id":"b","prompt":"x","params":{"temperature":"hot"}}', {}],
      ['{"id":"a","prompt":"again"}', {}],
    ];
    for (const [bad, extra] of cases) {
      const file = await fixture("bad.jsonl", [ok, ok.replace('"a"', '"z"'), bad, ok.replace('"a"', '"y"')].join("\n"));
      const s = spec(file, extra);
      const reading = await datasetError(() => collect(openDataset(s)));
      const validating = await datasetError(() => validateDataset(s));
      expect(reading.line, bad).toBe(3);
      expect(validating.message).toBe(reading.message);
      expect(validating.line).toBe(3);
    }
  });

  it("picks the format from the extension, .tsv meaning tabs, and explains unknown extensions", async () => {
    const tsv = await fixture("data.tsv", "prompt\tid\nhello, world\tr1\n");
    expect((await collect(openDataset(spec(tsv))))[0]?.messages).toEqual([{ role: "user", content: "hello, world" }]);
    const ndjson = await fixture("data.ndjson", '{"prompt":"p"}\n');
    expect(await validateDataset(spec(ndjson))).toEqual({ rows: 1, skipped: 0 });
    const txt = await fixture("data.txt", '{"prompt":"p"}\n');
    const err = await datasetError(() => collect(openDataset(spec(txt), { index: 0 })));
    expect(err.message).toMatch(/cannot tell the format from the extension "\.txt".*datasets\[0\]\.format/);
    expect(await validateDataset(spec(txt, { format: "jsonl" }))).toEqual({ rows: 1, skipped: 0 });
  });

  it("fails on a missing file with the path as given", async () => {
    const missing = join(dir, "missing.jsonl");
    const err = await datasetError(() => validateDataset(spec(missing), { skipInvalidRows: true }));
    expect(err.message).toBe(`${missing}: file not found`);
  });
});

describe("hashDataset", () => {
  it("is the sha256 of the bytes", async () => {
    const file = await fixture("hash.jsonl", "abc");
    expect(await hashDataset(file)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    await datasetError(() => hashDataset(join(dir, "absent.csv")));
  });
});

describe("public datasets", () => {
  it("reads GSM8K test (1319 rows)", async () => {
    const s = spec(GSM8K, { columns: { id: "id", prompt: "question", system: "system", expected: "answer" } });
    const rows = await collect(openDataset(s));
    expect(rows).toHaveLength(1319);
    expect(rows[0]?.id).toBe("gsm8k-test:1");
    expect(rows[0]?.dataset).toBe("gsm8k-test");
    expect(rows[0]?.messages[0]?.content).toMatch(/^Janet’s ducks lay 16 eggs/);
    expect(rows[0]?.expected).toMatch(/#### 18$/);
    expect(rows[1318]?.id).toBe("gsm8k-test:1319");
    expect(await validateDataset(s)).toEqual({ rows: 1319, skipped: 0 });
  });

  it("reads TruthfulQA (817 rows, BOM stripped)", async () => {
    const s = spec(TRUTHFULQA, {
      columns: { id: "id", prompt: "Question", system: "system", expected: "Best Answer" },
    });
    const rows = await collect(openDataset(s));
    expect(rows).toHaveLength(817);
    expect(Object.keys(rows[0]!.vars)[0]).toBe("Type");
    expect(Object.keys(rows[0]!.vars)).toEqual([
      "Type",
      "Category",
      "Question",
      "Best Answer",
      "Correct Answers",
      "Incorrect Answers",
      "Source",
    ]);
    expect(rows[0]?.id).toBe("truthfulqa:2");
    expect(rows[0]?.expected).toBeTruthy();
    expect(rows.at(-1)?.line).toBe(818);
    const types = new Set(rows.map((r) => r.vars.Type));
    expect(types).toEqual(new Set(["Adversarial", "Non-Adversarial"]));
  });
});
