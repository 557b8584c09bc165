/**
 * How a simulated model uses function tools: a pure function of the tools offered, the
 * `tool_choice` and the prompt. It calls a tool when told to (`required`, a named function) or,
 * under `auto`, when the prompt shares words with a tool's name or description; the arguments
 * fill the tool's required parameters from the prompt (the place after "in"/"for"/"at", the
 * first number, the first enum value). Deterministic, so every API flavour gives the same call.
 */
import { createHash } from "node:crypto";

/** A function tool as offered in a request (Chat's nested or Responses' flat form, normalised). */
export interface SimTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** The call a simulated model makes. */
export interface SimToolCall {
  id: string;
  name: string;
  /** JSON text, as models send it. */
  arguments: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads `tools` from a request body, either form; undefined when there are none or they are malformed. */
export function readTools(raw: unknown): SimTool[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const tools: SimTool[] = [];
  for (const t of raw) {
    if (!isRecord(t) || t.type !== "function") continue;
    const fn = isRecord(t.function) ? t.function : t;
    if (typeof fn.name !== "string") continue;
    tools.push({
      name: fn.name,
      description: typeof fn.description === "string" ? fn.description : "",
      parameters: isRecord(fn.parameters) ? fn.parameters : {},
    });
  }
  return tools.length > 0 ? tools : undefined;
}

/** The function `tool_choice` names, in Chat's or Responses' form. */
function namedChoice(choice: unknown): string | undefined {
  if (!isRecord(choice) || choice.type !== "function") return undefined;
  if (typeof choice.name === "string") return choice.name;
  return isRecord(choice.function) && typeof choice.function.name === "string" ? choice.function.name : undefined;
}

const STOPWORDS = new Set([
  "the",
  "and",
  "for",
  "with",
  "get",
  "set",
  "current",
  "given",
  "what",
  "this",
  "that",
  "from",
  "like",
]);

function words(text: string): Set<string> {
  const split = text
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return new Set(split.filter((w) => w.length >= 3 && !STOPWORDS.has(w)));
}

/** The call the model makes for `prompt`, or undefined when it answers in text. */
export function chooseToolCall(
  tools: readonly SimTool[] | undefined,
  toolChoice: unknown,
  prompt: string,
): SimToolCall | undefined {
  if (tools === undefined || tools.length === 0 || toolChoice === "none") return undefined;
  const named = namedChoice(toolChoice);
  let tool: SimTool | undefined = named === undefined ? undefined : tools.find((t) => t.name === named);
  if (tool === undefined) {
    const asked = words(prompt);
    let best = 0;
    for (const t of tools) {
      const offered = words(`${t.name} ${t.description}`);
      const overlap = [...offered].filter((w) => asked.has(w)).length;
      if (overlap > best) {
        best = overlap;
        tool = t;
      }
    }
    if (tool === undefined && toolChoice === "required") tool = tools[0];
  }
  if (tool === undefined) return undefined;
  const args = JSON.stringify(fillArguments(tool.parameters, prompt));
  const id = `call_${createHash("sha256").update(`${tool.name}\n${args}\n${prompt}`).digest("base64url").slice(0, 24)}`;
  return { id, name: tool.name, arguments: args };
}

/** Values for the schema's required properties, read from the prompt. */
function fillArguments(schema: Record<string, unknown>, prompt: string): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required)
    ? schema.required.filter((r): r is string => typeof r === "string")
    : [];
  const out: Record<string, unknown> = {};
  for (const key of required) {
    const prop = isRecord(properties[key]) ? properties[key] : {};
    out[key] = valueFor(prop, prompt);
  }
  return out;
}

function valueFor(prop: Record<string, unknown>, prompt: string): unknown {
  if (Array.isArray(prop.enum) && prop.enum.length > 0) return prop.enum[0];
  const type = prop.type;
  if (type === "number" || type === "integer") {
    const n = /-?\d+(?:\.\d+)?/.exec(prompt);
    return n === null ? 0 : type === "integer" ? Math.trunc(Number(n[0])) : Number(n[0]);
  }
  if (type === "boolean") return true;
  if (type === "array") return [];
  if (type === "object") return {};
  // A place or name: the capitalised words after "in", "for", "at" or "of", else the first
  // capitalised words after the opening word, else the prompt itself.
  const after = /\b(?:in|for|at|of|to)\s+((?:[A-Z][\w'-]*)(?:[ ,]+[A-Z][\w'-]*)*)/.exec(prompt);
  if (after?.[1] !== undefined) return after[1].replace(/[ ,]+$/, "");
  const caps = /\s((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*)*)/.exec(prompt);
  if (caps?.[1] !== undefined) return caps[1];
  return prompt.trim().slice(0, 100);
}
