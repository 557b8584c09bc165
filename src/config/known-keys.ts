/**
 * The keys a config object may have, read from the zod schema at a JSON path, so "unknown key"
 * messages can list the valid ones and suggest the nearest (`metrics` → `metric`).
 */
import type { z } from "zod";

type Def = { type: string } & Record<string, unknown>;
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** Wrappers that do not change which keys an object may have. */
function unwrap(schema: unknown): unknown {
  for (let i = 0; i < 20; i++) {
    const def = defOf(schema);
    if (def === undefined) return schema;
    if (["optional", "default", "nullable", "readonly", "catch", "prefault", "nonoptional"].includes(def.type))
      schema = def["innerType"];
    else if (def.type === "pipe") schema = def["in"];
    else if (def.type === "lazy") schema = (def["getter"] as () => unknown)();
    else return schema;
  }
  return schema;
}

/** The union member that the value's discriminator (or, failing that, its keys) points at. */
function pickOption(def: Def, value: unknown): unknown[] {
  const options = (def["options"] as unknown[]).map(unwrap);
  const disc = def["discriminator"] as string | undefined;
  if (disc !== undefined && typeof value === "object" && value !== null && disc in value) {
    const tag = (value as Record<string, unknown>)[disc];
    const hit = options.filter((o) => {
      const lit = defOf(unwrap((defOf(o)?.["shape"] as Record<string, unknown> | undefined)?.[disc]));
      return (lit?.["values"] as unknown[] | undefined)?.includes(tag);
    });
    if (hit.length > 0) return hit;
  }
  return options;
}

/**
 * Valid keys of the object at `path` in `raw` under `schema`, or undefined when the path does
 * not lead to an object schema (the caller then says less).
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] | undefined {
  let nodes: unknown[] = [unwrap(schema)];
  let value = raw;
  for (const part of path) {
    const next: unknown[] = [];
    for (const node of nodes.flatMap((n) => (defOf(n)?.type === "union" ? pickOption(defOf(n)!, value) : [n]))) {
      const def = defOf(node);
      if (def === undefined) continue;
      if (def.type === "object") {
        const child = (def["shape"] as Record<string, unknown>)[String(part)];
        if (child !== undefined) next.push(unwrap(child));
      } else if (def.type === "array" && typeof part === "number") next.push(unwrap(def["element"]));
      else if (def.type === "record") next.push(unwrap(def["valueType"]));
    }
    nodes = next;
    value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  }
  const objects = nodes
    .flatMap((n) => (defOf(n)?.type === "union" ? pickOption(defOf(n)!, value) : [n]))
    .filter((n) => defOf(n)?.type === "object");
  if (objects.length === 0) return undefined;
  return [...new Set(objects.flatMap((o) => Object.keys(defOf(o)!["shape"] as Record<string, unknown>)))].filter(
    (k) => k !== "$schema" || path.length === 0,
  );
}

/** The known key closest to `key` (edit distance at most 2, or a case-only difference). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}
