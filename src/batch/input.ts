/**
 * Batch input files: one JSONL request per line, exactly the body a live call would send, split
 * at the service's line and byte limits. Each input file has a sidecar (`<part>.rows.jsonl`) with
 * the row behind every line, so answers that come back in any order become the same records a
 * live run writes, without re-reading the dataset.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { ModelSpecOf } from "../config/model-spec.js";
import { buildOpenAIRequest } from "../providers/openai.js";
import type { GenerationParams, Row } from "../types.js";

/** One line of a batch input file (the Batch API's request form). */
export interface BatchRequestLine {
  custom_id: string;
  method: "POST";
  url: "/v1/chat/completions" | "/v1/responses";
  body: Record<string, unknown>;
}

/** One line of a rows sidecar: the journal key, the trial, and the row as the runner read it. */
export interface BatchRowLine {
  key: string;
  trial: number;
  row: Row;
}

/**
 * The batch request for one call: `custom_id` is the journal key, the body is the live body
 * (streaming off: a batch answer is one JSON document) with `model` = `batchModel` when set.
 */
export function batchRequestLine(
  model: ModelSpecOf<"openai">,
  key: string,
  request: { messages: Row["messages"]; params: GenerationParams },
): BatchRequestLine {
  const { path, body } = buildOpenAIRequest(
    { name: model.name, model: model.batchModel ?? model.model, api: model.api, stream: false },
    request,
  );
  return { custom_id: key, method: "POST", url: `/v1${path}`, body };
}

/** The API path a batch of `model` is created for (`endpoint` of `POST /batches`). */
export function batchEndpoint(model: ModelSpecOf<"openai">): "/v1/chat/completions" | "/v1/responses" {
  return (model.api ?? "chat") === "chat" ? "/v1/chat/completions" : "/v1/responses";
}

/** A finished input file. */
export interface WrittenPart {
  part: number;
  input: string;
  rows: string;
  lines: number;
  bytes: number;
}

/**
 * Writes input files and their sidecars, starting a new part whenever the next line would pass
 * `maxLines` or `maxBytes`. UTF-8 without a byte-order mark (the services reject one).
 * Holds one line at a time; `onPart` hears of each finished part (to record it in run.json).
 */
export class PartWriter {
  private current: { part: number; input: FileHandle; rows: FileHandle; lines: number; bytes: number } | undefined;
  private nextPart: number;

  constructor(
    private readonly paths: (part: number) => { input: string; rows: string; inputRel: string; rowsRel: string },
    firstPart: number,
    private readonly limits: { maxLines: number; maxBytes: number },
    private readonly onPart: (part: WrittenPart) => Promise<void>,
  ) {
    this.nextPart = firstPart;
  }

  /** Adds one request and its row. @throws when one line alone is larger than `maxBytes`. */
  async add(request: BatchRequestLine, row: BatchRowLine): Promise<void> {
    const line = Buffer.from(JSON.stringify(request) + "\n", "utf8");
    if (line.length > this.limits.maxBytes) {
      throw new Error(
        `the batch request for ${request.custom_id} is ${line.length} bytes, more than batch.maxBytes (${this.limits.maxBytes})`,
      );
    }
    if (
      this.current !== undefined &&
      (this.current.lines + 1 > this.limits.maxLines || this.current.bytes + line.length > this.limits.maxBytes)
    )
      await this.finishPart();
    const cur = (this.current ??= await this.openPart());
    await cur.input.write(line);
    await cur.rows.write(JSON.stringify(row) + "\n", null, "utf8");
    cur.lines++;
    cur.bytes += line.length;
  }

  /** Finishes the last part (if any lines were added). */
  async close(): Promise<void> {
    await this.finishPart();
  }

  private async openPart() {
    const part = this.nextPart++;
    const p = this.paths(part);
    const input = await open(p.input, "w");
    const rows = await open(p.rows, "w").catch(async (err: unknown) => {
      await input.close();
      throw err;
    });
    return { part, input, rows, lines: 0, bytes: 0 };
  }

  private async finishPart(): Promise<void> {
    const cur = this.current;
    if (cur === undefined) return;
    this.current = undefined;
    // On disk before run.json names it: a resume must never find a recorded part half written.
    await Promise.all([cur.input.sync(), cur.rows.sync()]);
    await Promise.all([cur.input.close(), cur.rows.close()]);
    const p = this.paths(cur.part);
    await this.onPart({ part: cur.part, input: p.inputRel, rows: p.rowsRel, lines: cur.lines, bytes: cur.bytes });
  }
}
