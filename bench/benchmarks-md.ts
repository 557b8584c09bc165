/**
 * Writes one generated section of BENCHMARKS.md: the text between `<!-- bench:<name>:start -->`
 * and `<!-- bench:<name>:end -->`. Hand-written "Reading" paragraphs outside the markers stay.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export const BENCHMARKS_MD = fileURLToPath(new URL("../BENCHMARKS.md", import.meta.url));

/** Replaces section `name`'s body with `body`; a missing section is an error naming the markers. */
export async function writeBenchSection(name: string, body: string): Promise<void> {
  const text = await readFile(BENCHMARKS_MD, "utf8");
  const begin = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${begin} … ${end} section`);
  await writeFile(BENCHMARKS_MD, `${text.slice(0, a + begin.length)}\n${body}\n${text.slice(b)}`, "utf8");
}
