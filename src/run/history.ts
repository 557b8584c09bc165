/** Listing past runs in an output directory, oldest first. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { readManifest } from "./manifest.js";

/** Run directories (those with a run.json), ordered by start time. */
export async function listRuns(outputDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch {
    return [];
  }
  const runs: { dir: string; startedAt: string }[] = [];
  for (const name of names) {
    const dir = join(outputDir, name);
    try {
      const m = await readManifest(dir);
      runs.push({ dir, startedAt: m.startedAt });
    } catch {
      // not a run directory
    }
  }
  runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return runs.map((r) => r.dir);
}
