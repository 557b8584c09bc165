/**
 * The config as it may be stored (run.json's snapshot): every endpoint through
 * {@link publicEndpoint}, so query-string secrets (`?api-key=…&sig=…`) and URL credentials never
 * reach disk. A resume gets them back from the original config file (see
 * {@link restoreSecretEndpoints}); keys themselves only ever come from the environment.
 */
import { publicEndpoint } from "../providers/redact.js";
import type { Config } from "./schema.js";

/** Every endpoint in `config` (models and inline judge models), mapped through `f`, in place. */
function mapEndpoints(config: Config, f: (endpoint: string, where: string) => string): void {
  for (const m of config.models) m.endpoint = f(m.endpoint, `model:${m.name}`);
  const scorers = [
    ...config.scorers.map((s, i) => [s, `scorers[${i}]`] as const),
    ...config.datasets.flatMap((d, i) => d.scorers.map((s, j) => [s, `datasets[${i}].scorers[${j}]`] as const)),
  ];
  for (const [s, where] of scorers) {
    if (s.type === "llm_judge" && typeof s.model === "object") s.model.endpoint = f(s.model.endpoint, where);
  }
}

/** A copy of `config` with every endpoint cleaned by {@link publicEndpoint}. */
export function publicConfig(config: Config): Config {
  const copy = structuredClone(config);
  mapEndpoints(copy, (e) => publicEndpoint(e));
  return copy;
}

/**
 * Puts back the endpoints that cleaning changed, from `original` (the config file the run was
 * started with), where the cleaned form still matches: the stored snapshot stays secret-free and
 * a resume still reaches an endpoint whose credentials ride in its URL. Returns how many were restored.
 */
export function restoreSecretEndpoints(snapshot: Config, original: Config): number {
  const full = new Map<string, string>();
  mapEndpoints(structuredClone(original), (e, where) => {
    full.set(where, e);
    return e;
  });
  let restored = 0;
  mapEndpoints(snapshot, (e, where) => {
    const o = full.get(where);
    if (o !== undefined && o !== e && publicEndpoint(o) === e) {
      restored++;
      return o;
    }
    return e;
  });
  return restored;
}
