/**
 * Whether a run logs to Weave, decided without importing the SDK: a project from `--weave` or the
 * config, a key from WANDB_API_KEY or ~/.netrc (where the SDK looks), and no `--no-weave`.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/schema.js";

/** The `weave` section of the config. */
export type WeaveConfig = Config["weave"];

/** Outcome of {@link resolveWeaveSettings}; `reason` is the one line to print when off. */
export type WeaveSettings = { enabled: true; project: string } | { enabled: false; reason: string };

const HOW_TO = "set weave.project in eval.config.json (or --weave entity/project) and WANDB_API_KEY to turn it on.";

/**
 * Decides whether Weave logging is on. `--weave` beats the config; `--no-weave` and
 * `weave.enabled: false` turn it off. A project without a key is off with a reason (the SDK
 * would throw at init).
 */
export function resolveWeaveSettings(input: {
  cliProject?: string;
  noWeave?: boolean;
  config: Partial<WeaveConfig> | undefined;
  env: NodeJS.ProcessEnv;
  /** For tests: the home directory holding `.netrc`. @default os.homedir() */
  home?: string;
}): WeaveSettings {
  if (input.noWeave) return { enabled: false, reason: "Weave logging is off: turned off by --no-weave." };
  const project = input.cliProject ?? input.config?.project;
  if (!input.cliProject && input.config?.enabled === false) {
    return { enabled: false, reason: "Weave logging is off: weave.enabled is false in the config." };
  }
  const hasKey = hasWandbKey(input.env, input.home);
  if (!project && !hasKey) return { enabled: false, reason: `Weave logging is off: ${HOW_TO}` };
  if (!project) {
    return {
      enabled: false,
      reason: "Weave logging is off: set weave.project in eval.config.json (or --weave entity/project) to turn it on.",
    };
  }
  if (!/^[^/\s]+\/[^/\s]+$/.test(project)) {
    return { enabled: false, reason: `Weave logging is off: "${project}" is not 'entity/project'.` };
  }
  if (!hasKey) {
    return {
      enabled: false,
      reason: "Weave logging is off: set WANDB_API_KEY (or log in with `wandb login`) to turn it on.",
    };
  }
  return { enabled: true, project };
}

/** Whether the SDK will find a key: WANDB_API_KEY, or a ~/.netrc entry for the W&B API host. */
export function hasWandbKey(env: NodeJS.ProcessEnv, home: string = homedir()): boolean {
  if (env["WANDB_API_KEY"]) return true;
  let host = "api.wandb.ai";
  try {
    if (env["WANDB_BASE_URL"]) host = new URL(env["WANDB_BASE_URL"]).host;
  } catch {
    // An unparsable base URL: the SDK would fail too; keep the default host.
  }
  let text: string;
  try {
    text = readFileSync(join(home, ".netrc"), "utf8");
  } catch {
    return false;
  }
  return netrcHasPassword(text, host);
}

/** Minimal .netrc reading: a `machine <host>` entry with a `password`. */
export function netrcHasPassword(text: string, host: string): boolean {
  const tokens = text.split(/\s+/).filter(Boolean);
  let inHost = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "machine") inHost = tokens[i + 1] === host;
    else if (t === "default") inHost = false;
    else if (t === "password" && inHost && tokens[i + 1]) return true;
  }
  return false;
}
