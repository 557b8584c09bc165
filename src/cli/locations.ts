/** Where the CLI finds the config file and the results directory when not told. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** Config files looked for in the current folder, in this order. */
export const CONFIG_NAMES = ["eval.config.json", "eval.config.jsonc"] as const;

/** The config file to use: the one named, else the first of {@link CONFIG_NAMES} that exists. */
export function findConfig(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  return CONFIG_NAMES.find((name) => existsSync(resolve(name)));
}

/**
 * The results directory (`--out`, the one meaning it has in every command): as given, else the
 * config's `outputDir` (resolved against the config file), else `./results`. A config that cannot
 * be read or is invalid does not stop commands that only read runs.
 */
export async function resultsDir(args: { out?: string | undefined; config?: string | undefined }): Promise<string> {
  if (args.out !== undefined) return resolve(args.out);
  const file = findConfig(args.config);
  if (file !== undefined && existsSync(resolve(file))) {
    const { loadConfig } = await import("../config/load.js");
    const { BakeoffError } = await import("../errors.js");
    try {
      const loaded = await loadConfig(file);
      return resolve(loaded.baseDir, loaded.config.outputDir);
    } catch (err) {
      if (!(err instanceof BakeoffError)) throw err;
    }
  }
  return resolve("results");
}
