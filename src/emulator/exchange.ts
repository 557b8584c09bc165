/**
 * One HTTP request/response pair as the emulator handles it, with the small helpers every route
 * needs: JSON replies with the service's request-id headers, bounded body reading, and waits that
 * end early when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { StatsTicket } from "./stats.js";

/** A request in flight. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Sent back as `x-request-id`; real services use it to find a call in their logs. */
  requestId: string;
  /** The `api-version` query parameter, or null. Any value is accepted; it is only recorded. */
  apiVersion: string | null;
  /** Aborted when the client disconnects before the response is complete. */
  signal: AbortSignal;
  ticket: StatsTicket;
  /** performance.now() when the request arrived: simulated delays count from here, as a real server's do. */
  startedAt?: number;
}

/** Headers every response carries, as Azure's front end sends them. */
export function serviceHeaders(ex: Exchange): Record<string, string> {
  return { "x-request-id": ex.requestId, "apim-request-id": ex.requestId, "x-content-type-options": "nosniff" };
}

/** Sends a complete JSON response (no-op if the client already left). */
export function sendJson(ex: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (ex.res.headersSent || ex.res.destroyed) return;
  const text = JSON.stringify(body);
  ex.res.writeHead(status, {
    ...serviceHeaders(ex),
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  ex.res.end(text);
}

/** Outcome of reading a request body. */
export type BodyResult = { ok: true; text: string } | { ok: false; reason: "too_large" | "aborted" };

/**
 * Reads the whole body as UTF-8, keeping at most `limit` bytes so a runaway client cannot exhaust
 * memory. Past the limit it keeps draining without storing: leaving the loop early would destroy
 * the socket, and the client would never see the 413.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const raw = await readBodyBytes(req, limit);
  return raw.ok ? { ok: true, text: raw.bytes.toString("utf8") } : raw;
}

/** As {@link readBody}, keeping the bytes as sent (an upload may be anything, a byte-order mark included). */
export async function readBodyBytes(
  req: IncomingMessage,
  limit: number,
): Promise<{ ok: true; bytes: Buffer } | { ok: false; reason: "too_large" | "aborted" }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size <= limit) chunks.push(buf);
    }
  } catch {
    return { ok: false, reason: "aborted" };
  }
  if (size > limit) return { ok: false, reason: "too_large" };
  return { ok: true, bytes: Buffer.concat(chunks) };
}

/** Waits `ms` unless `signal` fires first. Resolves true when the full wait elapsed. */
export async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
