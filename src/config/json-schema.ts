/** The JSON Schema of eval.config.json, generated from the zod schema (one source of truth). */
import { z } from "zod";
import { ConfigSpec } from "./schema.js";

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSpec, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, title: "bakeoff eval.config.json" };
}
