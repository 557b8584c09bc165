/**
 * Cross-field rules the schema cannot express: unique names, emulator references, where keys
 * come from. Each returns issues with JSON paths; the loader reports them all at once.
 */
import { basename, extname } from "node:path";
import type { ConfigIssue } from "../errors.js";
import type { Config } from "./schema.js";

export const EMULATOR_SCHEME = "emulator://";

/** Keys that would hold a literal secret in a model entry. */
const LITERAL_KEY_NAMES = ["apiKey", "api_key", "api-key", "key", "token", "authorization"];

/**
 * Refuses literal keys before anything else: a key in a config file ends up in git, in run.json
 * snapshots and in Weave. The message says what to do instead.
 */
export function findLiteralKeys(raw: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (typeof raw !== "object" || raw === null) return issues;
  const models = (raw as { models?: unknown }).models;
  if (!Array.isArray(models)) return issues;
  models.forEach((m: unknown, i) => {
    if (typeof m !== "object" || m === null) return;
    for (const k of Object.keys(m)) {
      if (LITERAL_KEY_NAMES.includes(k)) {
        issues.push({
          path: `models[${i}].${k}`,
          message:
            `keys never go in the config file (it is committed, copied into run.json and sent to Weave). ` +
            `Remove "${k}", put the key in an environment variable, and name that variable in models[${i}].apiKeyEnv, ` +
            `e.g. "apiKeyEnv": "AZURE_AI_KEY".`,
        });
      }
    }
    const env = (m as { apiKeyEnv?: unknown }).apiKeyEnv;
    if (typeof env === "string" && looksLikeSecret(env)) {
      issues.push({
        path: `models[${i}].apiKeyEnv`,
        message:
          "this looks like a key itself. apiKeyEnv holds the NAME of an environment variable (e.g. AZURE_AI_KEY); " +
          "set that variable to the key in your shell or CI secrets.",
      });
    }
  });
  return issues;
}

/** Model keys only the `openai` provider reads (batch mode is the OpenAI Batch API). */
const OPENAI_ONLY_KEYS = ["batch", "batchModel"];

/**
 * Batch keys on a model of another provider, found before the schema so the message says why
 * (the schema alone would only call them unknown keys).
 */
export function findBatchOnOtherProviders(raw: unknown): ConfigIssue[] {
  const models = typeof raw === "object" && raw !== null ? (raw as { models?: unknown }).models : undefined;
  if (!Array.isArray(models)) return [];
  const issues: ConfigIssue[] = [];
  models.forEach((m: unknown, i) => {
    if (typeof m !== "object" || m === null) return;
    const given = (m as { provider?: unknown }).provider;
    const provider = typeof given === "string" ? given : "azure-ai-inference";
    if (provider === "openai") return;
    for (const k of OPENAI_ONLY_KEYS) {
      if (k in m) {
        issues.push({
          path: `models[${i}].${k}`,
          message: `batch mode needs "provider": "openai" (the OpenAI Batch API); this model uses "${provider}". Remove "${k}" or switch the provider`,
        });
      }
    }
  });
  return issues;
}

/** Env var names are words with underscores; keys are long runs of mixed letters and digits. */
function looksLikeSecret(s: string): boolean {
  return s.length >= 24 && !s.includes("_") && /[0-9]/.test(s) && /[a-z]/.test(s);
}

export function datasetName(spec: { name?: string; path: string }): string {
  return spec.name ?? basename(spec.path, extname(spec.path));
}

/**
 * Names for dataset files given one by one (`--dataset a/qa.csv --dataset b/qa.csv`): names key
 * the journal, so a later file whose base name is taken gets a suffix (`qa-2`) instead of
 * colliding. Returns a namer that remembers the names it gave.
 */
export function uniqueDatasetNames(): (path: string) => { name: string; base: string } {
  const taken = new Set<string>();
  return (path) => {
    const base = datasetName({ path });
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
    taken.add(name);
    return { name, base };
  };
}

export function isEmulatorEndpoint(endpoint: string): boolean {
  return endpoint.startsWith(EMULATOR_SCHEME);
}

export function emulatorTarget(endpoint: string): string {
  return endpoint.slice(EMULATOR_SCHEME.length).replace(/\/+$/, "");
}

export function checkRules(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seenModels = new Map<string, number>();
  config.models.forEach((m, i) => {
    const prev = seenModels.get(m.name);
    if (prev !== undefined) {
      issues.push({
        path: `models[${i}].name`,
        message: `"${m.name}" is already the name of models[${prev}]; model names must be unique`,
      });
    } else seenModels.set(m.name, i);

    if (isEmulatorEndpoint(m.endpoint)) {
      const sim = emulatorTarget(m.endpoint);
      const sims = Object.keys(config.emulator.models);
      if (!config.emulator.models[sim]) {
        issues.push({
          path: `models[${i}].endpoint`,
          message:
            sims.length > 0
              ? `emulated model "${sim}" is not defined; emulator.models defines: ${sims.join(", ")}`
              : `emulated model "${sim}" is not defined: add it under emulator.models (e.g. "emulator": {"models": {"${sim}": {"accuracy": 0.8}}})`,
        });
      }
    } else {
      let url: URL | undefined;
      try {
        url = new URL(m.endpoint);
      } catch {
        issues.push({
          path: `models[${i}].endpoint`,
          message: `"${m.endpoint}" is not a URL; use https://… or emulator://<name>`,
        });
      }
      if (url && url.protocol !== "https:" && url.protocol !== "http:") {
        issues.push({
          path: `models[${i}].endpoint`,
          message: `unsupported scheme "${url.protocol}"; use https://… or emulator://<name>`,
        });
      }
      if (url && (url.username || url.password)) {
        issues.push({
          path: `models[${i}].endpoint`,
          message: "credentials in the URL are not allowed; name an environment variable in apiKeyEnv instead",
        });
      }
      if (m.provider === "openai" && m.model === undefined) {
        issues.push({
          path: `models[${i}].model`,
          message: `required by the openai provider: the model or deployment name sent as "model" (on Azure, the deployment name)`,
        });
      }
      if (!m.apiKeyEnv && m.auth !== "entra") {
        issues.push({
          path: `models[${i}].apiKeyEnv`,
          message: `required for a real endpoint: name the environment variable that holds the key for "${m.name}", e.g. "AZURE_AI_KEY"`,
        });
      }
    }
  });

  const seenDatasets = new Map<string, number>();
  config.datasets.forEach((d, i) => {
    const name = datasetName(d);
    const prev = seenDatasets.get(name);
    if (prev !== undefined) {
      issues.push({
        path: `datasets[${i}].name`,
        message: `"${name}" is already the name of datasets[${prev}]; set a distinct "name"`,
      });
    } else seenDatasets.set(name, i);
  });
  return issues;
}
