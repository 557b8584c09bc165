/**
 * `--dataset -`: a dataset piped on standard input. A run reads its datasets several times
 * (validate, hash, once per model) and a resume reads them again later, so the input is spooled
 * once to a content-addressed file under the output directory and used from there like any file.
 */
import { createHash } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatasetError } from "../errors.js";

/** The dataset path that means standard input. */
export const STDIN_DATASET = "-";

/**
 * Reads all of `input` and stores it as `<dir>/<sha256 prefix>/stdin.<jsonl|csv>` (JSONL when the
 * first non-blank character is `{`, else CSV); returns the file's path. The dataset is named "stdin".
 * @throws DatasetError when standard input is empty.
 */
export async function spoolStdin(dir: string, input: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === "string" ? Buffer.from(c) : c);
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString("utf8");
  const first = text.replace(/^\uFEFF/, "").trimStart()[0];
  if (first === undefined) throw new DatasetError("standard input is empty: no rows to run", { file: "-" });
  const sha = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const folder = join(dir, ".stdin", sha);
  await mkdir(folder, { recursive: true });
  const path = join(folder, first === "{" ? "stdin.jsonl" : "stdin.csv");
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return path;
}
